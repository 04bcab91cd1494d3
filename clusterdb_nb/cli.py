"""The ``clusterdb`` command.

$ clusterdb compute status --provider local
$ clusterdb compute fleets
$ clusterdb local path
$ clusterdb local reset
"""

from __future__ import annotations

import sys

import click

from .errors import ComputeError
from .session import connect

__all__ = ["compute", "fleets", "local", "main", "path", "reset", "run", "status"]


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


@main.group()
@click.option("--config", "config", envvar="CLUSTERDB_CONFIG", type=click.Path(dir_okay=False), help="YAML config file.")
@click.pass_context
def local(ctx: click.Context, config: str | None) -> None:
    """The embedded local cloud's state file."""
    ctx.obj = config


@local.command()
@click.pass_obj
def path(config: str | None) -> None:
    """Print where the local cloud keeps its state."""
    with connect(config) as s:
        click.echo(s.local.path)


@local.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def reset(config: str | None, yes: bool) -> None:
    """Delete every fleet, instance, function and invocation of the local cloud."""
    from .providers.local import reset as local_reset

    with connect(config) as s:
        provider = s.manager.provider("local")
        if not yes:
            click.confirm(f"Delete {local_reset.describe(provider)}?", abort=True)
        deleted = s.local.reset(confirm=True) or {}
        click.echo("Deleted " + ", ".join(f"{n} {table}" for table, n in deleted.items()) + f" from {s.local.path}")


def run() -> None:
    """Entry point that prints ComputeErrors as a short table (error, cause, solution), not a traceback."""
    try:
        main(standalone_mode=True)
    except ComputeError as err:
        click.echo("\n".join(err.lines()), err=True)
        sys.exit(2)
