"""The ``clusterdb`` command: the session's fleets, instances, functions and costs from a shell.

$ clusterdb compute status --provider local
$ clusterdb fleets create web --instance-type t3.medium --capacity 3 --dry-run
$ clusterdb fleets scale web 5 --output json
$ clusterdb instances list --fleet web --output csv
$ clusterdb autoscaling simulate trace.csv --target 60 --provider gcp
$ clusterdb serve --port 8080
$ clusterdb catalog refresh --provider azure --region eastus --dry-run

``--config``, ``--provider`` and ``--output`` are accepted before or after the verb. Errors print three
lines (Error / Cause / Solution) and exit with a code per kind (``EXIT_CODES``). Shell completion:
``eval "$(_CLUSTERDB_COMPLETE=bash_source clusterdb)"`` (``zsh_source``, ``fish_source`` likewise).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import click
import pandas as pd

from . import __version__
from .errors import (
    AuthenticationError,
    ComputeError,
    ConflictError,
    NetworkError,
    NotFoundError,
    NotSupportedError,
    ProviderError,
    QuotaExceededError,
    ValidationError,
    WaitTimeoutError,
)
from .models import AutoScalingConfig, FleetConfig, FunctionConfig, InstanceConfig, Plan
from .session import ComputeSession, connect

F = TypeVar("F", bound=Callable[..., Any])

# Distinct exit codes, so scripts can tell what went wrong; 1 is "a provider reported not ok" (status).
EXIT_CODES: dict[type[ComputeError], int] = {
    ValidationError: 2,  # usage: bad input (click's own usage errors exit 2 too)
    NotFoundError: 3,
    ConflictError: 4,
    AuthenticationError: 5,
    ProviderError: 6,
    NetworkError: 6,
    QuotaExceededError: 7,
    NotSupportedError: 8,
    WaitTimeoutError: 9,
}
OUTPUTS = ("table", "json", "csv")

__all__ = [
    "CommandError",
    "catalog_commands",
    "Options",
    "Root",
    "compute",
    "emit",
    "exit_code",
    "fleets",
    "global_options",
    "local",
    "main",
    "options",
    "path",
    "refresh_catalog",
    "reset",
    "run",
    "session",
    "status",
]


def exit_code(err: ComputeError) -> int:
    """The exit code of ``err``'s class (or its nearest base), else 6 (provider failure)."""
    for cls in type(err).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 6


@dataclass
class Options:
    """The global options, whichever side of the verb they were given on (the later one wins)."""

    config: str | None = None
    provider: str | None = None
    output: str = "table"


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and param.name is not None:
        setattr(ctx.ensure_object(Options), param.name, value)
    return value


def global_options(f: F) -> F:
    """``--config``, ``--provider`` and ``--output`` on a group or a command (stored in ``Options``)."""
    f = click.option(
        "--output", "-o", type=click.Choice(OUTPUTS), expose_value=False, callback=_remember, help="table, json or csv."
    )(f)
    f = click.option("--provider", "-p", expose_value=False, callback=_remember, help="Only / on this provider section.")(f)
    return click.option(
        "--config",
        "-c",
        type=click.Path(dir_okay=False),
        expose_value=False,
        callback=_remember,
        help="YAML config file (default: $CLUSTERDB_CONFIG).",
    )(f)


class CommandError(click.ClickException):
    """A ComputeError as the CLI shows it: three lines, and the exit code of its kind."""

    def __init__(self, err: ComputeError) -> None:
        super().__init__(err.message)
        self.error = err
        self.exit_code = exit_code(err)

    def show(self, file: Any = None) -> None:
        click.echo("\n".join(self.error.lines()), err=True)


class Root(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ComputeError as err:
            raise CommandError(err) from err


def options() -> Options:
    return click.get_current_context().ensure_object(Options)


@contextmanager
def session() -> Iterator[ComputeSession]:
    with connect(options().config or os.environ.get("CLUSTERDB_CONFIG")) as s:
        yield s


def emit(result: Any) -> None:
    """Print a DataFrame, model, Plan or list of dicts in the chosen ``--output``."""
    out = options().output
    if isinstance(result, Plan):
        if out == "table":
            click.echo(str(result))
            return
        body = {**result.model_dump(mode="json"), "hourly_cost_delta_usd": result.hourly_cost_delta_usd}
        result = pd.DataFrame([{**body, "calls": "; ".join(c["call"] for c in body["calls"])}])
    elif hasattr(result, "model_dump"):
        result = pd.DataFrame([result.model_dump(mode="json")])
    df = result if isinstance(result, pd.DataFrame) else pd.DataFrame(result)
    if out == "json":
        click.echo(df.to_json(orient="records", date_format="iso", date_unit="s", indent=2) if len(df) else "[]")
    elif out == "csv":
        click.echo(df.to_csv(index=False), nl=False)
    else:
        click.echo(df.to_string(index=False) if len(df) else "(none)")


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=option)
        out[key] = value
    return out


def _only(df: pd.DataFrame, provider: str | None) -> pd.DataFrame:
    return df[df["provider"] == provider] if provider and "provider" in df else df


dry_run_option = click.option("--dry-run", is_flag=True, help="Print the plan and its hourly cost; change nothing.")


# -- the root ----------------------------------------------------------------------------------------------
@click.group(
    cls=Root,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog='Shell completion: eval "$(_CLUSTERDB_COMPLETE=bash_source clusterdb)" (zsh_source, fish_source).',
)
@click.version_option(__version__, prog_name="clusterdb")
@click.option("--debug", is_flag=True, help="Log clusterdb_nb's debug messages to stderr (or CLUSTERDB_LOG=debug).")
@global_options
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """clusterdb: compute across clouds (the local cloud, AWS, Google Cloud, Azure)."""
    ctx.ensure_object(Options)
    from .logs import configure_logging

    configure_logging("debug" if debug else os.environ.get("CLUSTERDB_LOG"))


# -- compute -----------------------------------------------------------------------------------------------
@main.group()
@global_options
def compute() -> None:
    """Providers: status and network diagnosis."""


@compute.command()
@global_options
def status() -> None:
    """Can each provider be reached, as whom, where (exit 1 when one cannot)."""
    provider = options().provider
    with session() as s:
        df = s.status()
        if provider:
            if provider not in set(df["provider"]):
                raise click.UsageError(f"provider {provider!r} is not configured; configured: {', '.join(df['provider'])}")
            df = df[df["provider"] == provider]
        emit(df)
        if not df["ok"].all():
            sys.exit(1)


@compute.command("diagnose-network")
@click.option("--fleet-id", "fleet", required=True, help="The fleet (its name).")
@click.option("--port", "ports", default="22,443", show_default=True, help="Comma-separated TCP ports.")
@global_options
def diagnose_network(fleet: str, ports: str) -> None:
    """Why a fleet's instances can or cannot be reached: findings (severity, resource, finding, fix).

    Exits 1 when a finding is critical.
    """
    from .network import parse_ports

    with session() as s:
        df = s.diagnose_network(fleet, parse_ports(ports), provider=options().provider)
        emit(df)
        if (df["severity"] == "critical").any():
            sys.exit(1)


@compute.command("fleets")
@global_options
def compute_fleets() -> None:
    """List fleets on every provider (as ``fleets list``)."""
    click.get_current_context().invoke(list_fleets)


# -- fleets ------------------------------------------------------------------------------------------------
FLEET_COLUMNS = ["name", "provider", "region", "instance_type", "capacity", "running", "hourly_cost_usd"]


@main.group()
@global_options
def fleets() -> None:
    """Fleets: list, show, create, scale, delete."""


@fleets.command("list")
@global_options
def list_fleets() -> None:
    """Every provider's fleets."""
    with session() as s:
        df = _only(s.fleets(), options().provider)
        emit(df[FLEET_COLUMNS] if options().output == "table" else df)


@fleets.command("show")
@click.argument("name")
@global_options
def show_fleet(name: str) -> None:
    """One fleet."""
    with session() as s:
        emit(s.fleet(name, provider=options().provider))


@fleets.command("create")
@click.argument("name")
@click.option("--instance-type", "-t", help="e.g. t3.medium (default: the config's fleet default).")
@click.option("--capacity", "-n", type=int, help="Desired instances.")
@click.option("--min", "min_capacity", type=int, help="Lower bound.")
@click.option("--max", "max_capacity", type=int, help="Upper bound.")
@click.option("--spot", is_flag=True, default=None, help="Spot capacity.")
@click.option("--description", default="", help="Free text.")
@click.option("--tag", "tags", multiple=True, help="KEY=VALUE (repeatable).")
@dry_run_option
@global_options
def create_fleet(name: str, dry_run: bool, tags: tuple[str, ...], **fields: Any) -> None:
    """Create fleet NAME."""
    config = FleetConfig(name=name, provider=options().provider, tags=_pairs(tags, "--tag"), **fields)
    with session() as s:
        emit(s.create_fleet(config, dry_run=dry_run))


@fleets.command("scale")
@click.argument("name")
@click.argument("capacity", type=int)
@dry_run_option
@global_options
def scale_fleet(name: str, capacity: int, dry_run: bool) -> None:
    """Set fleet NAME's desired CAPACITY."""
    with session() as s:
        emit(s.update_fleet_capacity(name, capacity, dry_run=dry_run, provider=options().provider))


@fleets.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@dry_run_option
@global_options
def delete_fleet(name: str, yes: bool, dry_run: bool) -> None:
    """Delete fleet NAME and terminate its instances."""
    with session() as s:
        if not dry_run and not yes:
            click.confirm(f"Delete fleet {name!r} and terminate its instances?", abort=True)
        plan = s.delete_fleet(name, dry_run=dry_run, provider=options().provider)
        if plan is not None:
            emit(plan)
        else:
            click.echo(f"Deleted fleet {name}")


# -- instances ---------------------------------------------------------------------------------------------
@main.group()
@global_options
def instances() -> None:
    """Instances: list, create, start, stop, terminate."""


@instances.command("list")
@click.option("--fleet", help="Only this fleet's instances.")
@click.option("--state", "states", multiple=True, help="pending, running, ... or all (repeatable; default: all but terminated).")
@global_options
def list_instances(fleet: str | None, states: tuple[str, ...]) -> None:
    """Instances of every provider."""
    with session() as s:
        df = s.instances(fleet, list(states) or None, provider=options().provider)
        emit(_only(df, options().provider))


@instances.command("create")
@click.argument("name")
@click.option("--instance-type", "-t", required=True, help="e.g. t3.micro.")
@click.option("--region", help="Default: the provider section's region.")
@click.option("--image", help="Machine image (default: the provider's).")
@click.option("--spot", is_flag=True, help="Spot capacity.")
@click.option("--tag", "tags", multiple=True, help="KEY=VALUE (repeatable).")
@dry_run_option
@global_options
def create_instance(
    name: str, instance_type: str, region: str | None, image: str | None, spot: bool, tags: tuple[str, ...], dry_run: bool
) -> None:
    """Launch one standalone instance NAME outside any fleet."""
    with session() as s:
        p = s.manager.provider(options().provider)
        config = InstanceConfig(
            name=name,
            instance_type=instance_type,
            provider=p.name,
            region=region or p.region,
            image=image,
            spot=spot,
            tags=_pairs(tags, "--tag"),
        )
        emit(s.create_instance(config, dry_run=dry_run))


def _instance_verb(verb: str, doc: str) -> None:
    @instances.command(verb, help=doc)
    @click.argument("instance_id")
    @dry_run_option
    @global_options
    def command(instance_id: str, dry_run: bool) -> None:
        with session() as s:
            call = getattr(s, f"{verb}_instance")
            emit(call(instance_id, dry_run=dry_run, provider=options().provider))


_instance_verb("start", "Start stopped instance INSTANCE_ID.")
_instance_verb("stop", "Stop running instance INSTANCE_ID.")
_instance_verb("terminate", "Terminate INSTANCE_ID (a fleet replaces its member).")


# -- functions ---------------------------------------------------------------------------------------------
@main.group()
@global_options
def functions() -> None:
    """Functions: list, deploy, invoke, logs."""


@functions.command("list")
@global_options
def list_functions() -> None:
    """Every provider's functions."""
    with session() as s:
        emit(_only(s.functions(), options().provider))


@functions.command("deploy")
@click.argument("name")
@click.option("--code", required=True, type=click.Path(exists=True), help="A zip file or a directory.")
@click.option("--runtime", default="python3.12", show_default=True)
@click.option("--handler", default="main.handler", show_default=True)
@click.option("--memory", "memory_mb", type=int, default=128, show_default=True, help="MB.")
@click.option("--timeout", "timeout_sec", type=int, default=3, show_default=True, help="Seconds.")
@click.option("--env", "environment", multiple=True, help="KEY=VALUE (repeatable).")
@dry_run_option
@global_options
def deploy_function(name: str, environment: tuple[str, ...], dry_run: bool, **fields: Any) -> None:
    """Create function NAME, or publish a new version when it exists."""
    config = FunctionConfig(name=name, provider=options().provider, environment=_pairs(environment, "--env"), **fields)
    with session() as s:
        exists = name in set(_only(s.functions(), options().provider)["name"])
        emit(s.update_function(config, dry_run=dry_run) if exists else s.create_function(config, dry_run=dry_run))


@functions.command("invoke")
@click.argument("name")
@click.option("--payload", default="{}", show_default=True, help="The event as JSON ('-': read it from stdin).")
@global_options
def invoke_function(name: str, payload: str) -> None:
    """Run function NAME once and print its invocation (result, duration, cost)."""
    text = sys.stdin.read() if payload == "-" else payload
    try:
        json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON ({exc})", param_hint="--payload") from None
    with session() as s:
        inv = s.invoke_function(name, text.encode(), provider=options().provider)
        row = inv.model_dump(mode="json", exclude={"payload", "logs"})
        emit([{**row, "result": json.dumps(inv.result) if not isinstance(inv.result, bytes) else repr(inv.result)}])
        if not inv.ok:
            sys.exit(1)


@functions.command("logs")
@click.argument("name")
@click.option("--last", type=int, default=10, show_default=True, help="How many invocations.")
@global_options
def function_logs(name: str, last: int) -> None:
    """The logs of function NAME's last invocations."""
    with session() as s:
        df = s.invocations(name).tail(last)
        if options().output == "table":
            for row in df.itertuples():
                click.echo(f"--- {row.started_at} {row.request_id} {row.status}")
                click.echo(str(row.logs).rstrip())
        else:
            emit(df)


# -- costs and autoscaling --------------------------------------------------------------------------------
@main.command()
@click.option(
    "--by", type=click.Choice(["fleet", "instance_type", "provider", "kind", "resource"]), default="fleet", show_default=True
)
@click.option("--since", help="Start: a time (2026-01-05) or a duration back from now (7d, 12h).")
@click.option("--until", help="End: a time (default: now).")
@global_options
def costs(by: str, since: str | None, until: str | None) -> None:
    """What compute cost, grouped."""
    with session() as s:
        start = _since(s, since)
        emit(_only(s.costs(start, until, by=by), options().provider))


def _since(s: ComputeSession, since: str | None) -> str | pd.Timestamp | None:
    """``since`` as a time: a duration (``7d``) counts back from the session's now."""
    if since is None:
        return None
    try:
        start: pd.Timestamp = s.now() - pd.Timedelta(since)
        return start
    except ValueError:
        return since


@main.group()
@global_options
def autoscaling() -> None:
    """Autoscaling: the what-if simulator."""


@autoscaling.command("simulate")
@click.argument("trace", type=click.Path(exists=True, dir_okay=False))
@click.option("--target", type=float, default=70.0, show_default=True, help="Target CPU %.")
@click.option("--min", "min_capacity", type=int, default=1, show_default=True)
@click.option("--max", "max_capacity", type=int, default=10, show_default=True)
@click.option("--cooldown", type=int, default=300, show_default=True, help="Seconds.")
@click.option("--instance-type", help="For the cost (catalog price).")
@global_options
def simulate(trace: str, target: float, min_capacity: int, max_capacity: int, cooldown: int, instance_type: str | None) -> None:
    """Replay a CPU TRACE (CSV: timestamp,value) under a provider's autoscaler (--provider aws|gcp|azure|kubernetes)."""
    from .autoscaling import simulate as run_simulation

    policy = AutoScalingConfig(
        min_capacity=min_capacity, max_capacity=max_capacity, target_cpu_utilization=target, cooldown_seconds=cooldown
    )
    result = run_simulation(trace, policy, provider=options().provider or "aws", instance_type=instance_type)
    emit(
        [
            {
                "provider": result.provider,
                **result.summary.as_dict(),
                "steps": len(result.timeline),
                "step_seconds": result.step_seconds,
            }
        ]
    )


# -- serve ---------------------------------------------------------------------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="0.0.0.0 needs --token-file or CLUSTERDB_API_TOKEN.")
@click.option("--port", type=int, default=8080, show_default=True)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False),
    help="The read-write bearer token (else CLUSTERDB_API_TOKEN, else generated).",
)
@click.option("--read-only-token-file", type=click.Path(dir_okay=False), help="A token that may only GET.")
@click.option("--certfile", type=click.Path(dir_okay=False), help="TLS certificate.")
@click.option("--keyfile", type=click.Path(dir_okay=False), help="TLS key.")
@click.option("--cors-origin", "cors_origins", multiple=True, help="Allow this browser origin (repeatable; default: none).")
@click.option("--max-body-mb", type=float, default=16, show_default=True, help="Largest request body.")
@global_options
def serve(host: str, port: int, cors_origins: tuple[str, ...], **settings: Any) -> None:
    """Serve the REST API (extra 'server'): /api/v1, /metrics, /openapi.json, /docs."""
    try:
        import uvicorn

        from .server.run import uvicorn_config
    except ImportError:
        raise ValidationError(
            "serve: the REST API needs FastAPI and uvicorn",
            field="serve",
            rule="the 'server' extra installed",
            solution="pip install 'clusterdb-nb[server]'",
        ) from None
    with session() as s:
        config = uvicorn_config(s, host=host, port=port, cors_origins=list(cors_origins), **settings)
        uvicorn.Server(config).run()


# -- catalog ---------------------------------------------------------------------------------------------------
@main.group("catalog")
@global_options
def catalog_commands() -> None:
    """The instance-type price catalog: refresh it from the clouds' price APIs."""


@catalog_commands.command("refresh")
@click.option("--region", "-r", "regions", multiple=True, help="Only this region (repeatable, or comma-separated).")
@dry_run_option
@global_options
def refresh_catalog(regions: tuple[str, ...], dry_run: bool) -> None:
    """Fetch current list prices (--provider aws|gcp|azure; default all) into the user's data folder.

    AWS needs credentials allowed pricing:GetProducts; Google an API key in $CLUSTERDB_GCP_API_KEY (or
    application-default credentials); Azure nothing. --dry-run lists the requests. Exits with the error's code
    when a cloud failed (its previous prices are kept).
    """
    from . import catalog

    df = catalog.refresh(options().provider, list(regions) or None, dry_run=dry_run)
    emit(df)
    errors: dict[str, ComputeError] = df.attrs.get("errors", {})
    for err in errors.values():
        click.echo("\n".join(err.lines()), err=True)
    if errors:
        sys.exit(exit_code(next(iter(errors.values()))))


# -- local -----------------------------------------------------------------------------------------------------
@main.group()
@global_options
def local() -> None:
    """The embedded local cloud's state file."""


@local.command()
@global_options
def path() -> None:
    """Print where the local cloud keeps its state."""
    with session() as s:
        click.echo(s.local.path)


@local.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@global_options
def reset(yes: bool) -> None:
    """Delete every fleet, instance, function and invocation of the local cloud."""
    from .providers.local import reset as local_reset

    with session() as s:
        provider = s.manager.provider("local")
        if not yes:
            click.confirm(f"Delete {local_reset.describe(provider)}?", abort=True)
        deleted = s.local.reset(confirm=True) or {}
        click.echo("Deleted " + ", ".join(f"{n} {table}" for table, n in deleted.items()) + f" from {s.local.path}")


def run(args: list[str] | None = None) -> None:
    """The ``clusterdb`` entry point."""
    main(args=args, prog_name="clusterdb")


if __name__ == "__main__":
    run()
