"""ComputeSession: the notebook face of the manager.

    >>> import clusterdb_nb as cdb
    >>> s = cdb.connect(local={"clock": "virtual", "seed": 7, "path": ":memory:"})
    >>> s.create_fleet(cdb.FleetConfig("web-fleet").with_capacity(5))
    >>> s.instances()          # a DataFrame, one row per instance

Sync methods run the manager's coroutines on a private event-loop thread, so
they work in a Jupyter kernel without touching its loop; ``s.manager`` is
the async API for ``await`` in a cell. ``with cdb.connect(...) as s:`` closes
the session at the end; a session dropped without ``close()`` is closed when
it is garbage-collected or the interpreter exits.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import os
import threading
import warnings
import weakref
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from . import catalog, display, durations, frames
from ._loop import LoopThread
from .config import ClusterConfig, load_config
from .errors import ComputeError, ConflictError, ValidationError, as_called
from .manager import ComputeManager
from .models import (
    AutoScalingConfig,
    CapacitySchedule,
    Fleet,
    FleetConfig,
    Function,
    FunctionConfig,
    Instance,
    InstanceConfig,
    InstanceState,
    Invocation,
    Plan,
)
from .providers.local import LocalCloud, LocalProvider

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from .migration import Migration
    from .models import MigrationConfig
    from .optimize import Applied, Recommendation
    from .ui import Dashboard, FleetForm, RecommendationsWidget, Scaler, Tuner

__all__ = ["CHANGING", "ComputeSession", "connect", "COST_GROUPS", "MAX_COST_PERIODS", "TimeLike"]

T = TypeVar("T")
CHANGING = ("create_", "update_", "delete_", "start_", "stop_", "terminate_", "configure_")  # calls that change state
MAX_COST_PERIODS = 500  # costs_over_time asks every provider once per period (~10 ms each on the local cloud)
TimeLike = str | datetime | pd.Timestamp | None
COST_GROUPS = {
    "fleet": ["provider", "fleet"],
    "instance_type": ["provider", "instance_type"],
    "provider": ["provider"],
    "kind": ["provider", "kind"],
}


def connect(config: str | os.PathLike[str] | dict[str, Any] | ClusterConfig | None = None, **overrides: Any) -> ComputeSession:
    """Open a session: a YAML path, a dict, or None (``$CLUSTERDB_CONFIG``, else the local cloud).

    Keyword overrides have the shape of the YAML's provider sections::

        connect(local={"clock": "virtual", "seed": 7, "path": ":memory:"})
        connect("clusterdb.yaml", aws={"region": "eu-west-1"})
    """
    if config is None and os.environ.get("CLUSTERDB_CONFIG"):
        config = os.environ["CLUSTERDB_CONFIG"]
    return ComputeSession(ComputeManager(load_config(config, **overrides)))


def _closed_error() -> ConflictError:
    return ConflictError(
        "this session is closed",
        cause="close() was called on the session, or its `with` block ended",
        solution="Open a new session: s = clusterdb_nb.connect(...)",
    )


def _shutdown(runner: LoopThread, manager: ComputeManager) -> None:
    """Close every provider and stop the loop thread; from close(), garbage collection or interpreter exit."""
    if runner.on_loop_thread():  # collected on the loop thread itself: finish from another thread
        threading.Thread(target=_shutdown, args=(runner, manager), name="clusterdb-nb-close").start()
        return
    try:
        runner.run(manager.close())
    finally:
        runner.close()


def _states(state: str | Iterable[str] | None) -> set[InstanceState] | None:
    if state == "all":
        return None
    if state is None:
        return {s for s in InstanceState if s is not InstanceState.TERMINATED}
    names = [state] if isinstance(state, str) else list(state)
    try:
        return {InstanceState(n) for n in names}
    except ValueError:
        allowed = ", ".join(s.value for s in InstanceState)
        raise ValidationError(f"state: {state!r} is not one of {allowed} or 'all'", field="state", rule=allowed) from None


class ComputeSession:
    """Sync, DataFrame-returning facade over a ComputeManager."""

    def __init__(self, manager: ComputeManager) -> None:
        self.manager = manager
        self._runner = LoopThread()
        self._errors: list[tuple[Any, ...]] = []
        # Runs once: on close(), when the session is garbage-collected, or at interpreter exit.
        self._finalizer = weakref.finalize(self, _shutdown, self._runner, manager)

    @property
    def closed(self) -> bool:
        """True once ``close()`` ran (every other method then raises ConflictError)."""
        return not self._finalizer.alive

    def _check_open(self) -> None:
        if self.closed:
            raise _closed_error()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self.closed:
            coro.close()
            raise _closed_error()
        name = getattr(coro, "__name__", "")
        try:
            result = self._runner.run(coro)
        except ComputeError as err:
            raise as_called(err, name, self.manager) from err.__cause__
        if name.startswith(CHANGING) and not isinstance(result, Plan):
            self.changed()
        return result

    def _report(self, operation: str, errors: dict[str, ComputeError]) -> None:
        for name, err in errors.items():
            self._errors.append(
                (pd.Timestamp.now(tz="UTC"), name, operation, type(err).__name__, err.message, err.cause, err.solution)
            )
            warnings.warn(
                f"{name} failed during {operation}: {err.message} (other providers' rows are shown; see s.errors())", stacklevel=3
            )

    @property
    def locals(self) -> dict[str, LocalCloud]:
        """Every local cloud of the session by section name: ``s.locals["local-b"].history()``."""
        self._check_open()
        found = {name: p for name, p in self.manager.providers.items() if isinstance(p, LocalProvider)}
        return {name: LocalCloud(p, found.values()) for name, p in found.items()}

    @property
    def local(self) -> LocalCloud:
        """The default local cloud's handle (the section named ``local``, else the default or first local section)."""
        clouds = self.locals
        if not clouds:
            raise ValidationError("local: no local provider is configured", field="local", rule="configured provider")
        for name in ("local", self.manager.default_provider):
            if name in clouds:
                return clouds[name]
        return next(iter(clouds.values()))

    # -- fleets ------------------------------------------------------------
    def create_fleet(self, config: FleetConfig, dry_run: bool = False, wait: bool = False) -> Fleet | Plan:
        """Create a fleet; ``dry_run=True`` returns the plan and hourly cost instead; ``wait=True`` returns once it runs."""
        fleet = self._run(self.manager.create_fleet(config, dry_run=dry_run))
        return self._waited_fleet(fleet, wait)

    def update_fleet(self, config: FleetConfig, dry_run: bool = False) -> Fleet | Plan:
        return self._run(self.manager.update_fleet(config, dry_run=dry_run))

    def update_fleet_capacity(
        self, fleet: str, capacity: int, dry_run: bool = False, provider: str | None = None, wait: bool = False
    ) -> Fleet | Plan:
        """Scale ``fleet`` to ``capacity`` instances (``dry_run=True``: plan + $/h delta; ``wait=True``: until they run).

        ``provider=`` names the provider when several hold a fleet of that name (as for every fleet method).
        """
        result = self._run(self.manager.update_fleet_capacity(fleet, capacity, dry_run=dry_run, provider=provider))
        return self._waited_fleet(result, wait)

    def delete_fleet(self, fleet: str, dry_run: bool = False, provider: str | None = None) -> None | Plan:
        return self._run(self.manager.delete_fleet(fleet, dry_run=dry_run, provider=provider))

    def fleet(self, fleet: str, provider: str | None = None) -> Fleet:
        """One fleet, found on whichever provider holds it."""
        return self._run(self.manager.get_fleet(fleet, provider=provider))

    def scaling_activities(self, fleet: str, provider: str | None = None) -> pd.DataFrame:
        """Every desired-capacity change of ``fleet``: time, from_capacity, to_capacity, reason."""
        return self._run(self.manager.scaling_activities(fleet, provider=provider))

    def configure_auto_scaling(
        self, fleet: str, config: AutoScalingConfig | dict[str, Any], dry_run: bool = False, provider: str | None = None
    ) -> Fleet | Plan:
        return self._run(self.manager.configure_auto_scaling(fleet, config, dry_run=dry_run, provider=provider))

    # -- instances -----------------------------------------------------------
    def instance(self, instance_id: str, provider: str | None = None) -> Instance:
        return self._run(self.manager.get_instance(instance_id, provider=provider))

    def create_instance(self, config: InstanceConfig, dry_run: bool = False, wait: bool = False) -> Instance | Plan:
        """Launch one standalone instance outside any fleet (``wait=True``: return once it runs).

        >>> s.create_instance(InstanceConfig(name="bastion", instance_type="t3.micro", provider="local", region="local"))
        """
        result = self._run(self.manager.create_instance(config, dry_run=dry_run))
        return self._waited_instance(result, wait, "running")

    def start_instance(
        self, instance_id: str, dry_run: bool = False, provider: str | None = None, wait: bool = False
    ) -> Instance | Plan:
        """Start a stopped instance (``wait=True``: return once it runs)."""
        result = self._run(self.manager.start_instance(instance_id, dry_run=dry_run, provider=provider))
        return self._waited_instance(result, wait, "running")

    def stop_instance(
        self, instance_id: str, dry_run: bool = False, provider: str | None = None, wait: bool = False
    ) -> Instance | Plan:
        """Stop a running instance (``wait=True``: return once it is stopped)."""
        result = self._run(self.manager.stop_instance(instance_id, dry_run=dry_run, provider=provider))
        return self._waited_instance(result, wait, "stopped")

    def terminate_instance(self, instance_id: str, dry_run: bool = False, provider: str | None = None) -> Instance | Plan:
        """Terminate an instance; a fleet member is replaced to keep the fleet's capacity."""
        return self._run(self.manager.terminate_instance(instance_id, dry_run=dry_run, provider=provider))

    # -- functions -------------------------------------------------------------
    def create_function(self, config: FunctionConfig, dry_run: bool = False) -> Function | Plan:
        return self._run(self.manager.create_function(config, dry_run=dry_run))

    def update_function(self, config: FunctionConfig, dry_run: bool = False) -> Function | Plan:
        return self._run(self.manager.update_function(config, dry_run=dry_run))

    def delete_function(self, function: str, dry_run: bool = False, provider: str | None = None) -> None | Plan:
        return self._run(self.manager.delete_function(function, dry_run=dry_run, provider=provider))

    def invoke_function(
        self, function: str, payload: bytes | dict[str, Any] | list[Any] = b"{}", provider: str | None = None
    ) -> Invocation:
        """Run ``function`` on ``payload`` (JSON bytes, a dict or a list); the Invocation says how it went."""
        return self._run(self.manager.invoke_function(function, payload, provider=provider))

    def invocations(self, function: str | None = None) -> pd.DataFrame:
        """One row per past invocation (of ``function``, or of every function), oldest first."""
        df = self._run(self.manager.list_invocations(function))
        self._report("list_invocations", df.attrs.get("errors", {}))
        return df

    # -- DataFrames ------------------------------------------------------------
    def tune_fleets(
        self, start: TimeLike = None, end: TimeLike = None, period: str = "5min", executor: Any = None, **tune: Any
    ) -> pd.DataFrame:
        """Tune every fleet's autoscaling on its own utilization: one row per fleet, with the savings
        against its policy today (see ``clusterdb_nb.autoscaling.tune_many``; ``tune``: its arguments)."""
        from .autoscaling.estate import tune_fleets

        return tune_fleets(self, start, end, period, executor, **tune)

    def fleets(self) -> pd.DataFrame:
        """One row per fleet on every provider."""
        listing = self._run(self.manager.list_fleets())
        self._report("list_fleets", listing.errors)
        df = frames.frame(
            frames.FLEETS,
            [
                (
                    f.id,
                    f.name,
                    f.provider,
                    f.region,
                    f.instance_type,
                    f.capacity,
                    f.running,
                    f.min_capacity,
                    f.max_capacity,
                    f.spot,
                    f.hourly_cost_usd,
                    f.auto_scaling.target_cpu_utilization if f.auto_scaling else float("nan"),
                    f.created_at.timestamp() if f.created_at else None,
                    f.description,
                    f.tags,
                )
                for f in listing
            ],
        )
        df.attrs["errors"] = listing.errors
        return df

    def instances(
        self, fleet: str | None = None, state: str | Iterable[str] | None = None, provider: str | None = None
    ) -> pd.DataFrame:
        """One row per instance. ``state``: one state, several, or ``"all"``; default every state but terminated."""
        df = self._run(self.manager.list_instances(fleet, _states(state), provider=provider))
        self._report("list_instances", df.attrs.get("errors", {}))
        return df

    def functions(self) -> pd.DataFrame:
        """One row per function on every provider that has functions."""
        listing = self._run(self.manager.list_functions())
        self._report("list_functions", listing.errors)
        df = frames.frame(
            frames.FUNCTIONS,
            [
                (
                    f.id,
                    f.name,
                    f.provider,
                    f.runtime,
                    f.handler,
                    f.memory_mb,
                    f.timeout_sec,
                    f.version,
                    f.code_sha256,
                    f.updated_at.timestamp() if f.updated_at else None,
                )
                for f in listing
            ],
        )
        df.attrs["errors"] = listing.errors
        return df

    def costs(self, start: TimeLike = None, end: TimeLike = None, by: str = "fleet") -> pd.DataFrame:
        """What compute cost between ``start`` and ``end``, grouped ``by`` fleet, instance_type, provider,
        kind (instances vs functions) or resource (one row per instance or function)."""
        if by not in (*COST_GROUPS, "resource"):
            rule = " | ".join([*COST_GROUPS, "resource"])
            raise ValidationError(f"by: must be one of {rule} (got {by!r})", field="by", rule=rule)
        df = self._run(self.manager.costs(durations.timestamp(start, "start"), durations.timestamp(end, "end")))
        errors = df.attrs.get("errors", {})
        self._report("costs", errors)
        if by == "resource":
            return df
        keys = COST_GROUPS[by]
        out: pd.DataFrame = (
            df.groupby(keys, dropna=False, sort=True)
            .agg(
                resources=("resource", "nunique"),
                running_hours=("running_seconds", "sum"),
                requests=("requests", "sum"),
                cost_usd=("cost_usd", "sum"),
                source=("source", lambda s: ",".join(sorted(set(s)))),
            )
            .reset_index()
        )
        out["running_hours"] = out["running_hours"] / 3600.0
        out = out.astype({"resources": "int64", "running_hours": "float64", "requests": "int64", "cost_usd": "float64"})
        out.attrs["errors"] = errors
        return frames.with_price_dates(out)

    def utilization(
        self,
        fleet: str,
        start: TimeLike = None,
        end: TimeLike = None,
        period: str = "5min",
        by: str = "fleet",
        provider: str | None = None,
    ) -> pd.DataFrame:
        """CPU % and capacity of ``fleet`` over time (``by="instance"``: one series per instance).

        Rows start when the fleet was created; at most ``frames.MAX_PERIODS`` periods per query.
        """
        start_ts, end_ts = durations.timestamp(start, "start"), durations.timestamp(end, "end")
        return self._run(self.manager.utilization(fleet, start_ts, end_ts, period, by, provider=provider))

    def costs_over_time(
        self, by: str = "fleet", start: TimeLike = None, end: TimeLike = None, period: str = "1h"
    ) -> pd.DataFrame:
        """Cost per ``period`` and ``by`` group (default: the last 24 h): period_start, <by>, cost_usd."""
        if by not in COST_GROUPS:
            rule = " | ".join(COST_GROUPS)
            raise ValidationError(f"by: must be one of {rule} (got {by!r})", field="by", rule=rule)
        hi = durations.timestamp(end, "end") or self._now()
        lo = durations.timestamp(start, "start") or hi - pd.Timedelta("1D")
        if lo > hi:
            raise ValidationError(f"start: {lo} is after end ({hi})", field="start", rule="start <= end", solution="Swap them")
        frames.check_periods(lo, hi, period, limit=MAX_COST_PERIODS)
        edges = pd.date_range(lo.floor(period), hi, freq=period).append(pd.DatetimeIndex([hi]))

        async def per_period() -> list[pd.DataFrame]:
            return list(await asyncio.gather(*(self.manager.costs(a, b) for a, b in zip(edges[:-1], edges[1:]) if a < b)))

        parts = []
        for a, df in zip(edges[:-1], self._run(per_period())):
            self._report("costs", df.attrs.get("errors", {}))
            if len(df):
                sums = df.groupby(by, dropna=False)["cost_usd"].sum().reset_index()
                sums.insert(0, "period_start", a)
                parts.append(sums)
        if not parts:
            out: pd.DataFrame = pd.DataFrame({"period_start": frames.utc([]), by: pd.Series([], dtype=object), "cost_usd": []})
            return frames.with_price_dates(out)
        return frames.with_price_dates(pd.concat(parts, ignore_index=True))

    def _now(self) -> pd.Timestamp:
        """The local cloud's clock when there is one (it may be virtual), else the wall clock."""
        return self.local.now if self.locals else pd.Timestamp.now(tz="UTC")

    # -- charts and widgets ------------------------------------------------------
    def plot_utilization(
        self, fleet: str, start: TimeLike = None, end: TimeLike = None, period: str = "5min", provider: str | None = None
    ) -> go.Figure:
        """CPU % over time with the target line, capacity as a step line, scaling events marked."""
        from .plots import utilization_figure

        found = self.fleet(fleet, provider=provider)
        policy = found.auto_scaling
        local = self.manager.providers.get(found.provider)
        return utilization_figure(
            self.utilization(fleet, start, end, period, provider=provider),
            target=policy.target_cpu_utilization if policy else None,
            events=self.scaling_activities(fleet, provider=provider),
            history=getattr(local, "history", lambda _: None)(fleet),
        )

    def plot_costs(self, by: str = "fleet", start: TimeLike = None, end: TimeLike = None, period: str = "1h") -> go.Figure:
        """Stacked cost bars per ``period``, one colour per fleet, instance_type or provider."""
        from .plots import costs_figure

        return costs_figure(self.costs_over_time(by, start, end, period), by=by, period=period)

    def fleet_form(self) -> FleetForm:
        """A form to create a fleet: validation as you type, a priced Preview, Create."""
        from .ui import FleetForm

        self._check_open()
        return FleetForm(self)

    def scaler(self, fleet: str) -> Scaler:
        """A slider to scale ``fleet`` within its bounds, with the $/h delta before Apply."""
        from .ui import Scaler

        self._check_open()
        return Scaler(self, fleet)

    def tuner(self, fleet: str, trace: Any = None, **options: Any) -> Tuner:
        """Tune ``fleet``'s autoscaling on ``trace`` (default: the fleet's own CPU % so far), then apply the policy.

        ``options`` go to ``clusterdb_nb.ui.Tuner`` (targets, cooldowns, provider, instance_type, ...).
        """
        from .ui import Tuner

        found = self.fleet(fleet)
        if trace is None:
            util = self.utilization(fleet, period="1min").dropna(subset=["cpu_percent"])
            if util.empty:
                raise ValidationError(
                    f"trace: fleet {fleet!r} has no utilization yet; pass a trace (e.g. autoscaling.example_trace())",
                    field="trace",
                    rule="a CPU % trace",
                )
            trace = util.set_index("time")["cpu_percent"]
            options.setdefault("observed_capacity", max(float(util["running"].median()), 1.0))
        options.setdefault("instance_type", found.instance_type)
        policy = found.auto_scaling
        options.setdefault("min_capacity", max(1, found.min_capacity if policy is None else policy.min_capacity))
        options.setdefault("max_capacity", max(found.capacity * 2, found.min_capacity + 1, 2))
        return Tuner(trace, session=self, fleet=fleet, **options)

    def dashboard(self) -> Dashboard:
        """Tabs: fleets, instances (start / stop / terminate), functions, costs, utilization."""
        from .ui import Dashboard

        self._check_open()
        return Dashboard(self)

    # -- cost recommendations (clusterdb_nb.optimize) --------------------------------
    def recommendations(
        self, window: str | float | pd.Timedelta = "14d", kinds: str | Iterable[str] | None = None, **thresholds: Any
    ) -> pd.DataFrame:
        """What would save money, one row per finding (biggest monthly savings first): kind, provider, fleet, resource,
        evidence, action (the calls, as code), monthly_savings_usd, risk, confidence, id, details (the evidence's
        numbers), recommendation (what ``s.apply`` takes).

        ``kinds``: some of rightsize, idle, spot, schedule, autoscaling, cross_cloud (default all); thresholds are
        keywords ``<kind>_<parameter>`` (see ``clusterdb_nb.optimize.parameters()`` and the README's rules).

            >>> df = s.recommendations(window="7d", kinds=["rightsize", "schedule"], rightsize_p95_below=30)
        """
        from .optimize import recommendations

        self._check_open()
        df = recommendations(self, window, kinds, report=self._report, **thresholds)
        self.__dict__["_recommendations"] = dict(zip(df["id"], df["recommendation"]))
        return df

    def apply(self, recommendation: Recommendation | pd.Series | str, dry_run: bool = False) -> Applied:
        """Act on one recommendation (an object, a row of ``s.recommendations()`` or its id): every call is planned
        first (``dry_run=True`` returns those plans; a failing plan stops before any change), then made.

            >>> s.apply(df.iloc[0], dry_run=True)
            >>> print(s.apply(df.iloc[0]))
        """
        from .optimize import Recommendation, apply

        self._check_open()
        found: Any = recommendation
        if isinstance(found, pd.Series):
            found = found.get("recommendation")
        elif isinstance(found, str):
            found = self.__dict__.get("_recommendations", {}).get(found)
        if not isinstance(found, Recommendation):
            raise ValidationError(
                f"recommendation: expected a Recommendation, a row of s.recommendations() or one of its ids "
                f"(got {recommendation if isinstance(recommendation, str) else type(recommendation).__name__!r})",
                field="recommendation",
                rule="Recommendation, row or id",
                solution="df = s.recommendations(); s.apply(df.iloc[0])",
            )
        return apply(self, found, dry_run=dry_run)

    def recommendations_widget(self, window: str | float | pd.Timedelta = "14d", **options: Any) -> RecommendationsWidget:
        """The recommendations with a checkbox each, the total monthly savings of the selection, and Apply.

        >>> s.recommendations_widget(window="7d")
        """
        from .ui import RecommendationsWidget

        self._check_open()
        return RecommendationsWidget(self, window=window, **options)

    def capabilities(self) -> pd.DataFrame:
        """What each configured provider section offers: one row per feature, ``✓`` or the reason it does not.

        >>> s.capabilities().loc["stop/start", "aws"]
        '✓'
        """
        return self.manager.capabilities()

    def diagnose_network(
        self, fleet: str, ports: list[int] | tuple[int, ...] | None = None, provider: str | None = None
    ) -> pd.DataFrame:
        """Why ``fleet``'s instances can or cannot be reached on ``ports`` (default 22 and 443), critical first.

        >>> s.diagnose_network("web-fleet", ports=[22, 443])  # severity, resource, finding, fix
        """
        return self._run(self.manager.diagnose_network(fleet, ports, provider=provider))

    def status(self) -> pd.DataFrame:
        """Each provider: reachable or not, region, account, the date of its catalog prices, detail (a DataFrame;
        a notebook shows detail in full). Prices older than ``catalog.STALE_AFTER_DAYS`` add a note to detail."""
        listing = self._run(self.manager.status())
        rows = []
        for st in listing:
            kind = getattr(self.manager.providers.get(st.provider), "kind", None)
            cloud = kind if kind in catalog.PROVIDERS else None  # the local cloud prices every cloud's types
            dated = catalog.price_date(cloud) if cloud else min(catalog.price_date(p) for p in catalog.PROVIDERS)
            note = catalog.price_note(cloud)
            rows.append(
                (st.provider, st.ok, st.region, st.account, dated.isoformat(), "; ".join(filter(None, [st.detail, note])))
            )
        out: pd.DataFrame = display.Table(rows, columns=["provider", "ok", "region", "account", "price_date", "detail"])
        return out

    def errors(self) -> pd.DataFrame:
        """Provider failures reported beside listings in this session, newest last."""
        self._check_open()
        return frames.frame(frames.ERRORS, self._errors)

    # -- lifecycle and display -------------------------------------------------
    def close(self) -> None:
        """Close every provider (state file, function workers) and the loop thread; calling it again does nothing."""
        self._finalizer()

    def __enter__(self) -> ComputeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        closed = " closed" if self.closed else ""
        return f"<ComputeSession{closed} providers={list(self.manager.providers)} default={self.manager.default_provider!r}>"

    def _repr_html_(self) -> str:
        if self.closed:
            return "<b>ComputeSession</b> (closed: open a new one with <code>clusterdb_nb.connect()</code>)"
        status = self.status()
        fleets = self.fleets()
        instances = self.instances()
        rows = []
        for _, st in status.iterrows():
            n_fleets = int((fleets["provider"] == st["provider"]).sum())
            n_inst = int((instances["provider"] == st["provider"]).sum())
            mark = "✓" if st["ok"] else "✗"
            rows.append(
                f"<tr><td>{html.escape(st['provider'])}</td><td>{mark}</td><td>{html.escape(str(st['detail']))}</td>"
                f"<td>{n_fleets}</td><td>{n_inst}</td></tr>"
            )
        return (
            f"<b>ComputeSession</b> (default provider: {html.escape(self.manager.default_provider)})"
            "<table><tr><th>provider</th><th>ok</th><th>status</th><th>fleets</th><th>instances</th></tr>"
            + "".join(rows)
            + "</table>"
        )

    # -- waiting ---------------------------------------------------------------
    def wait(
        self,
        targets: str | Iterable[str],
        state: str = "running",
        timeout: str | float | pd.Timedelta = "10min",
        progress: bool = True,
        on_progress: Callable[[int, int], object] | None = None,
        provider: str | None = None,
    ) -> pd.DataFrame:
        """Block until fleets (their desired capacity) or instance ids are in ``state``; returns their instance rows.
        ``provider=`` names the provider when several hold a fleet of that name.

        A virtual clock is advanced; the wall clock is polled with backoff. A progress bar counts the instances
        settled (``on_progress(settled, total)`` is called at each poll too, e.g. by a widget's own bar); interrupt
        to stop; past ``timeout`` a WaitTimeoutError lists what is not there and its state.

            >>> s.wait("web-fleet")                        # every desired instance running
            >>> s.wait(["i-0abc"], state="stopped", timeout="5min")
        """
        from .waiting import wait

        return wait(self, targets, state, timeout, progress, on_progress, provider)

    def _waited_fleet(self, result: Fleet | Plan, wait: bool) -> Fleet | Plan:
        """``result`` re-read once its desired capacity runs, when ``wait`` is set and it is no Plan."""
        if not wait or isinstance(result, Plan):
            return result
        self.wait(result.name, provider=result.provider)
        return self.fleet(result.name, provider=result.provider)

    def _waited_instance(self, result: Instance | Plan, wait: bool, state: str) -> Instance | Plan:
        """``result`` re-read once it is in ``state``, when ``wait`` is set and it is no Plan."""
        if not wait or isinstance(result, Plan):
            return result
        self.wait([result.id], state, provider=result.provider)
        return self.instance(result.id, provider=result.provider)

    # -- one refresh signal for every open widget --------------------------------
    def on_change(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback()`` after every change made through this session; returns a function that unsubscribes.

        Widgets subscribe their refresh, so a fleet scaled in one refreshes every table and form.
        A bound method is held weakly (a closed widget is not kept alive).
        """
        ref: Callable[[], Any] = weakref.WeakMethod(callback) if inspect.ismethod(callback) else (lambda: callback)
        listeners: list[Callable[[], Any]] = self.__dict__.setdefault("_listeners", [])
        listeners.append(ref)
        return lambda: listeners.remove(ref) if ref in listeners else None

    def changed(self) -> None:
        """Tell every subscriber that something changed (called after each create, update, delete, start, stop...)."""
        if self.__dict__.get("_notifying"):
            return
        listeners: list[Callable[[], Any]] = self.__dict__.setdefault("_listeners", [])
        self._notifying = True
        try:
            for ref in list(listeners):
                callback = ref()
                if callback is None:
                    listeners.remove(ref)
                else:
                    callback()
        finally:
            self._notifying = False

    # -- what the widgets ask (clusterdb_nb.ui.protocol.SessionAPI) --------------------
    def now(self) -> pd.Timestamp:
        """The session's time (UTC): the local cloud's clock when there is one (it may be virtual), else the wall clock."""
        return self._now()

    def on_virtual_clock(self, instances: pd.DataFrame | None = None) -> bool:
        """True when every instance of ``instances`` (rows of ``s.instances()``; default: every provider) lives on a
        local cloud with a virtual clock, so waiting for them would advance that clock rather than sleep."""
        self._check_open()
        names = set(instances["provider"]) if instances is not None else set()
        providers = [self.manager.provider(n) for n in names] or list(self.manager.providers.values())
        return all(getattr(getattr(p, "clock", None), "virtual", False) for p in providers)

    def fleet_defaults(self) -> pd.DataFrame:
        """What a new fleet gets on each configured provider when its FleetConfig leaves a field out: one row per
        provider with its kind, region, whether it is the default, instance_type, capacity, bounds and tags.

            >>> s.fleet_defaults().set_index("provider").loc["local", "instance_type"]
            't3.medium'
        """
        self._check_open()
        rows = []
        for name, provider in self.manager.providers.items():
            c = self.manager.resolve_fleet_config(FleetConfig("new-fleet", provider=name))
            default = name == self.manager.default_provider
            bounds = (c.capacity, c.min_capacity, c.max_capacity)
            rows.append((name, provider.kind, provider.region, default, c.instance_type, *bounds, c.tags))
        columns = ["provider", "kind", "region", "default", "instance_type", "capacity", "min_capacity", "max_capacity", "tags"]
        defaults: pd.DataFrame = pd.DataFrame(rows, columns=columns)
        return defaults

    def instance_types(self, provider: str | None = None) -> pd.DataFrame:
        """The instance types a fleet on ``provider`` (default: the default provider) can use, priced where it runs:
        the catalog's rows (``clusterdb_nb.catalog.types``), cheapest first per cloud. The local cloud offers every
        cloud's types at their reference region's prices.

            >>> s.instance_types("aws")[["instance_type", "vcpu", "memory_gib", "on_demand_usd", "spot_usd"]]
        """
        self._check_open()
        p = self.manager.provider(provider)
        priced = p.kind in catalog.PROVIDERS
        df = catalog.types(p.kind) if priced else catalog.types()
        if priced and p.region in set(df["region"]):
            df = df[df["region"] == p.region]
        else:
            df = df[df["region"] == df["provider"].map(catalog.REFERENCE_REGION)]
        out: pd.DataFrame = df.sort_values(["provider", "on_demand_usd", "instance_type"], ignore_index=True)
        return out

    def hourly_price(self, instance_type: str, spot: bool = False, provider: str | None = None) -> float:
        """$/h of one ``instance_type`` instance on ``provider`` (default: the default provider), on demand or ``spot``.

        A type the catalog does not price there, or does not sell as spot, is a ValidationError naming it.

            >>> s.hourly_price("m5.large", spot=True, provider="aws")
        """
        self._check_open()
        return self.manager.provider(provider).hourly_price(instance_type, spot)

    # -- cross-provider migration (clusterdb_nb.migration) ----------------------------
    def create_migration(self, config: MigrationConfig, dry_run: bool = False) -> Migration | pd.DataFrame:
        """Move a fleet to another provider; ``dry_run=True`` returns the plan (a DataFrame of steps, with the
        hourly cost before, at the peak and after, and the transition cost in ``attrs``) and calls no cloud.

            >>> m = s.create_migration(MigrationConfig(source_fleet="web", target_provider="local-b", batch_size=2))
            >>> m.run()
        """
        from . import migration

        self._check_open()
        return migration.preview(self, config) if dry_run else migration.create(self, config)

    def migrations(self) -> pd.DataFrame:
        """Every migration of the store (also other sessions' and earlier kernels'), with status and progress."""
        from . import migration

        self._check_open()
        return migration.migrations_frame(self)

    def migration(self, migration_id: str, health_check: Callable[[pd.DataFrame], bool] | None = None) -> Migration:
        """Reattach to a stored migration (e.g. after a kernel restart); ``health_check``: its check again."""
        from . import migration

        self._check_open()
        return migration.attach(self, migration_id, health_check)

    # -- capacity schedules (a compact block) -------------------------------------------------
    def schedule_capacity(
        self,
        fleet: str,
        cron: str,
        capacity: int,
        timezone: str = "UTC",
        name: str | None = None,
        provider: str | None = None,
        dry_run: bool = False,
        min_capacity: int | None = None,
        max_capacity: int | None = None,
    ) -> CapacitySchedule | Plan:
        """Set ``fleet``'s capacity at each time of ``cron`` in ``timezone``, run by the cloud itself.

        >>> s.schedule_capacity("web", cron="0 19 * * MON-FRI", capacity=0, timezone="Europe/Berlin")
        >>> s.schedule_capacity("web", cron="0 7 * * MON-FRI", capacity=4, timezone="Europe/Berlin")

        Unset ``min_capacity``/``max_capacity`` are the fleet's bounds widened to hold ``capacity``;
        ``dry_run=True`` returns the plan with the hourly cost before and after it fires.
        """
        schedule = CapacitySchedule(
            fleet=fleet,
            cron=cron,
            capacity=capacity,
            timezone=timezone,
            name=name or "",
            provider=provider,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
        )
        result = self._run(self.manager.schedule_capacity(schedule, dry_run=dry_run))
        if not isinstance(result, Plan):
            self.changed()
        return result

    def schedules(self, fleet: str | None = None, provider: str | None = None) -> pd.DataFrame:
        """One row per capacity schedule (of ``fleet``, or of every fleet), with its next firing (UTC)."""
        found = self._run(self.manager.list_schedules(fleet, provider=provider))
        self._report("list_schedules", found.errors)
        return self.manager.schedules_frame(found)

    def delete_schedule(self, fleet: str, name: str, provider: str | None = None, dry_run: bool = False) -> None | Plan:
        """Delete ``fleet``'s schedule ``name`` (its capacity stays as the last firing left it)."""
        return self._run(self.manager.delete_schedule(fleet, name, dry_run=dry_run, provider=provider))
