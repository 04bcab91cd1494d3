"""The ``clusterdb`` command.

$ clusterdb compute status --provider local
$ clusterdb compute fleets
"""

from __future__ import annotations

import sys

import click

from .errors import ComputeError
from .session import connect


@click.group()
def main() -> None:
    """clusterdb: compute across clouds."""


@main.group()
@click.option("--config", "config", envvar="CLUSTERDB_CONFIG", type=click.Path(dir_okay=False), help="YAML config file.")
@click.pass_context
def compute(ctx: click.Context, config: str | None) -> None:
    """Fleets, instances and providers."""
    ctx.obj = config


@compute.command()
@click.option("--provider", help="Only this provider.")
@click.pass_obj
def status(config: str | None, provider: str | None) -> None:
    """Can each provider be reached, as whom, where."""
    with connect(config) as s:
        df = s.status()
        if provider:
            if provider not in set(df["provider"]):
                raise click.UsageError(f"provider {provider!r} is not configured; configured: {', '.join(df['provider'])}")
            df = df[df["provider"] == provider]
        click.echo(df.to_string(index=False))
        if not df["ok"].all():
            sys.exit(1)


@compute.command()
@click.pass_obj
def fleets(config: str | None) -> None:
    """List fleets on every provider."""
    with connect(config) as s:
        df = s.fleets()
        cols = ["name", "provider", "region", "instance_type", "capacity", "running", "hourly_cost_usd"]
        click.echo(df[cols].to_string(index=False) if len(df) else "no fleets")


def run() -> None:
    """Entry point that prints ComputeErrors as the seed's short table, not a traceback."""
    try:
        main(standalone_mode=True)
    except ComputeError as err:
        click.echo("\n".join(err.lines()), err=True)
        sys.exit(2)
