"""Prometheus metrics of the REST server (``GET /metrics``) and HTTP service discovery (``GET /api/v1/sd/prometheus``).

Fleet and function figures are read from the session at scrape time (a collector), so they are what
``s.fleets()`` shows; provider calls and API requests are counted as they happen::

    clusterdb_fleet_capacity{provider="local",fleet="web",state="desired"} 5.0
    clusterdb_provider_calls_total{provider="aws",operation="list_fleets",outcome="ok"} 12.0
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..session import ComputeSession

__all__ = ["RequestTimer", "ServerMetrics", "SessionCollector", "service_discovery"]

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UTILIZATION_WINDOW = pd.Timedelta("15min")


class SessionCollector(Collector):
    """Fleet capacity, CPU and cost, and function invocations, read from the session on each scrape."""

    def __init__(self, session: ComputeSession) -> None:
        self.session = session

    def collect(self) -> Iterator[Metric]:
        s = self.session
        capacity = GaugeMetricFamily(
            "clusterdb_fleet_capacity", "Instances of a fleet by state", labels=["provider", "fleet", "state"]
        )
        cpu = GaugeMetricFamily("clusterdb_fleet_cpu_percent", "Latest average CPU % of a fleet", labels=["provider", "fleet"])
        cost = GaugeMetricFamily(
            "clusterdb_fleet_hourly_cost_usd", "What a fleet's running instances cost an hour", labels=["provider", "fleet"]
        )
        fleets = s.fleets()
        pending = s.instances(state="pending")
        waiting = pending.groupby(["provider", "fleet"]).size() if len(pending) else pd.Series(dtype=int)
        columns = ("provider", "name", "capacity", "running", "hourly_cost_usd")
        for provider, name, desired, running, hourly in zip(*(fleets[c].tolist() for c in columns)):
            labels = [str(provider), str(name)]
            capacity.add_metric([*labels, "desired"], int(desired))
            capacity.add_metric([*labels, "running"], int(running))
            capacity.add_metric([*labels, "pending"], int(waiting.get((provider, name), 0)))
            cost.add_metric(labels, float(hourly))
            cpu.add_metric(labels, self._latest_cpu(str(name), str(provider)))
        yield from (capacity, cpu, cost)
        yield from self._functions()

    def _latest_cpu(self, fleet: str, provider: str) -> float:
        try:
            now = self.session.now()
            df = self.session.utilization(fleet, now - UTILIZATION_WINDOW, now, period="5min", provider=provider)
        except Exception:  # a provider without metrics: the gauge reads NaN, the scrape goes on
            return math.nan
        values = df["cpu_percent"].dropna().tolist() if len(df) else []
        return float(values[-1]) if values else math.nan

    def _functions(self) -> Iterator[Metric]:
        labels = ["provider", "function"]
        calls = CounterMetricFamily("clusterdb_function_invocations", "Function invocations", labels=labels)
        errors = CounterMetricFamily("clusterdb_function_errors", "Function invocations that failed", labels=labels)
        duration = HistogramMetricFamily("clusterdb_function_duration_seconds", "Function run time", labels=labels)
        try:
            df = self.session.invocations()
        except Exception:
            df = pd.DataFrame()
        if len(df):
            for key, group in df.groupby(["provider", "function"], sort=True):
                names = [str(k) for k in key]  # (provider, function)
                calls.add_metric(names, len(group))
                errors.add_metric(names, int((group["status"] != "success").sum()))
                seconds = group["duration_ms"].to_numpy() / 1000.0
                buckets = [(str(b), int((seconds <= b).sum())) for b in DURATION_BUCKETS] + [("+Inf", len(seconds))]
                duration.add_metric(names, buckets, float(seconds.sum()))
        yield from (calls, errors, duration)


class ServerMetrics:
    """The registry ``/metrics`` serves: the session collector, provider calls and API requests."""

    def __init__(self, session: ComputeSession) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(SessionCollector(session))
        self.provider_calls = Counter(
            "clusterdb_provider_calls", "Calls to a provider", ["provider", "operation", "outcome"], registry=self.registry
        )
        self.provider_errors = Counter(
            "clusterdb_provider_errors", "Provider calls that failed", ["provider", "operation", "error"], registry=self.registry
        )
        self.provider_latency = Histogram(
            "clusterdb_provider_call_duration_seconds",
            "Provider call latency",
            ["provider", "operation"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "clusterdb_api_requests", "REST API requests", ["method", "route", "status"], registry=self.registry
        )
        self.request_latency = Histogram(
            "clusterdb_api_request_duration_seconds",
            "REST API request latency",
            ["method", "route"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        session.manager.call_listeners.append(self.on_provider_call)

    def on_provider_call(self, provider: str, operation: str, seconds: float, error: str | None) -> None:
        self.provider_calls.labels(provider, operation, "error" if error else "ok").inc()
        self.provider_latency.labels(provider, operation).observe(seconds)
        if error:
            self.provider_errors.labels(provider, operation, error).inc()

    def on_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_latency.labels(method, route).observe(seconds)


class RequestTimer:
    """ASGI middleware counting each request and its latency by method, route template and status.

    Plain ASGI, not ``@app.middleware("http")``: that wrapper streams every body through a task
    group, which costs more than a small endpoint::

        >>> app.add_middleware(RequestTimer, metrics=ServerMetrics(session))
    """

    def __init__(self, app: ASGIApp, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noted)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.on_request(scope["method"], route, status, time.perf_counter() - started)


def service_discovery(instances: pd.DataFrame, port: int) -> list[dict[str, Any]]:
    """Prometheus HTTP SD: running instances' ``ip:port`` grouped by provider, region, fleet, type and spot."""
    running = instances[(instances["state"] == "running") & instances["private_ip"].notna()]
    keys = ["provider", "region", "fleet", "instance_type", "spot"]
    groups = running.assign(fleet=running["fleet"].fillna("")).groupby(keys, sort=True)
    return [
        {
            "targets": [f"{ip}:{port}" for ip in group["private_ip"]],
            "labels": {
                "provider": provider,
                "region": region,
                "fleet": fleet,
                "instance_type": itype,
                "spot": str(bool(spot)).lower(),
            },
        }
        for (provider, region, fleet, itype, spot), group in groups
    ]
