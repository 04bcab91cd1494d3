"""The REST API (FastAPI) over a ComputeSession: the same fleets, instances and functions as the notebook.

    >>> app = create_app(cdb.connect(), ServerSettings(tokens=Tokens(read_write=["a-long-enough-token"])))
    >>> TestClient(app).get("/api/v1/fleets", headers={"Authorization": "Bearer a-long-enough-token"}).json()
    {'items': [], 'next_page_token': None, 'errors': {}}

Every mutation takes ``?dry_run=true`` (the plan and its hourly cost delta), every lookup ``?provider=``
(needed when two providers hold the same name), every listing ``limit`` and ``page_token``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import orjson
import pandas as pd
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..errors import ComputeError, ValidationError
from ..models import AutoScalingConfig, Fleet, FleetConfig, Function, Instance, InstanceConfig, Plan
from ..providers.base import ProviderStatus
from ..session import ComputeSession
from . import problems
from .auth import Role, Tokens
from .limits import BodyLimit
from .metrics import RequestTimer, ServerMetrics, service_discovery
from .schemas import (
    CapacityBody,
    FunctionBody,
    FunctionRow,
    Health,
    InstanceRow,
    InvocationBody,
    Page,
    PlanBody,
    Problem,
    SdTargets,
)

__all__ = ["ServerSettings", "create_app", "frame_page", "page_of", "problem_json", "records", "reply", "rows_json", "same_name"]

log = logging.getLogger("clusterdb_nb.server")
T = TypeVar("T")
PREFIX = "/api/v1"
MAX_LIMIT = 1_000
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class ServerSettings:
    """How the app authenticates and what it accepts; the CLI's ``serve`` fills it from its options."""

    tokens: Tokens
    max_body_bytes: int = 16 * 1024 * 1024
    cors_origins: list[str] = field(default_factory=list)


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": problems.__doc__.splitlines()[0] if problems.__doc__ else "problem",
        "content": {problems.MEDIA_TYPE: {"schema": Problem.model_json_schema()}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {s: _problem_response(s) for s in (400, 401, 403, 404, 409, 413, 429, 501, 502, 504)}
DryRun = Annotated[bool, Query(description="Return the plan and its hourly cost delta instead of acting.")]
ProviderQ = Annotated[str | None, Query(description="The provider section holding the resource, when several do.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
PageToken = Annotated[str | None, Query(description="next_page_token of the previous page.")]
FleetId = Annotated[str, Path(description="The fleet's id (its name).")]
InstanceId = Annotated[str, Path(description="The instance id.")]
FunctionName = Annotated[str, Path(description="The function's name.")]


def problem_json(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type=problems.MEDIA_TYPE)


def _offset(page_token: str | None) -> int:
    if page_token is None:
        return 0
    try:
        kind, _, number = base64.urlsafe_b64decode(page_token.encode() + b"==").decode().partition(":")
        offset = int(number)
        if kind != "offset" or offset < 0:
            raise ValueError(page_token)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError(
            "page_token: not a token this server issued",
            field="page_token",
            rule="the next_page_token of a previous page",
            solution="Start again without page_token, then pass each page's next_page_token",
        ) from None
    return offset


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _errors(errors: dict[str, ComputeError]) -> dict[str, Any]:
    return {name: problems.problem(err) for name, err in errors.items()}


def page_of(items: list[Any], limit: int, page_token: str | None, errors: dict[str, ComputeError]) -> JSONResponse:
    """One page of model ``items`` as JSON."""
    start = _offset(page_token)
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return JSONResponse(
        {
            "items": [i.model_dump(mode="json") for i in chunk],
            "next_page_token": _token(start + limit) if more else None,
            "errors": _errors(errors),
        }
    )


def _column(col: pd.Series) -> list[Any]:
    """A column as values orjson writes: timestamps as naive UTC datetimes (written ``...Z``), NaT as None."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return list(col.dt.tz_convert(None).to_numpy(dtype="datetime64[us]").astype(object).tolist())
    return list(col.tolist())


def rows_json(df: pd.DataFrame) -> bytes:
    """A DataFrame's rows as a JSON array of objects, built column-wise (the cost of a listing is this).

    Timestamps are RFC 3339 in UTC (``2026-01-05T00:00:40Z``), NaN and NaT are null.
    """
    names = [str(c) for c in df.columns]
    rows = [dict(zip(names, row)) for row in zip(*(_column(df[c]) for c in df.columns))]
    return orjson.dumps(rows, option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z)


def frame_page(df: pd.DataFrame, limit: int, page_token: str | None) -> Response:
    """One page of a DataFrame's rows as JSON."""
    start = _offset(page_token)
    chunk = df.iloc[start : start + limit]
    more = start + limit < len(df)
    tail = orjson.dumps(
        {"next_page_token": _token(start + limit) if more else None, "errors": _errors(df.attrs.get("errors", {}))}
    )
    return Response(b'{"items":' + rows_json(chunk) + b"," + tail[1:], media_type="application/json")


def records(df: pd.DataFrame) -> Response:
    tail = orjson.dumps({"errors": _errors(df.attrs.get("errors", {}))})
    return Response(b'{"items":' + rows_json(df) + b"," + tail[1:], media_type="application/json")


def reply(result: Any, status: int = 200) -> Response:
    """A model (or a dry run's Plan, always 200) as JSON; None is 204."""
    if result is None:
        return Response(status_code=204)
    if isinstance(result, Plan):
        return JSONResponse(PlanBody.of(result).model_dump(mode="json"))
    return JSONResponse(result.model_dump(mode="json"), status_code=status)


def same_name(kind: str, body: str, path: str) -> None:
    """A PUT's body must name the resource its path names (a rename is not an update)."""
    if body != path:
        raise ValidationError(
            f"name: the body names {kind} {body!r}, the path {path!r}",
            field="name",
            rule="body name == path name",
            solution=f"Send the {kind}'s own name in the body",
        )


def create_app(session: ComputeSession, settings: ServerSettings) -> FastAPI:
    """The FastAPI app serving ``session``; ``settings`` holds its tokens and limits."""
    app = FastAPI(
        title="clusterdb-nb",
        version=__version__,
        description="Fleets, instances and functions across clouds: the REST face of a clusterdb_nb session.",
    )
    app.state.session = session
    app.state.settings = settings
    metrics = app.state.metrics = ServerMetrics(session)

    app.add_middleware(RequestTimer, metrics=metrics)

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return session._run(coro)

    manager = session.manager

    # -- errors ----------------------------------------------------------------------------------------
    @app.exception_handler(ComputeError)
    async def on_compute_error(request: Request, err: ComputeError) -> JSONResponse:
        return problem_json(problems.problem(err))

    @app.exception_handler(RequestValidationError)
    async def on_bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first: dict[str, Any] = dict(exc.errors()[0]) if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header"))
        inner = (first.get("ctx") or {}).get("error")
        if isinstance(inner, ValidationError):
            return problem_json(problems.problem(inner))
        msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        detail = f"{where}: {msg}" if where else msg
        return problem_json(
            {**problems.plain(400, "ValidationError", detail, "Correct the named field and try again"), "field": where or None}
            | {"type": problems.type_uri("ValidationError")}
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}
        solutions = {
            401: "Send 'Authorization: Bearer <token>' (the token printed on the server's first start, or CLUSTERDB_API_TOKEN)",
            403: "Use a read-write token for changes; read-only tokens may only GET",
        }
        body = problems.plain(
            exc.status_code,
            titles.get(exc.status_code, "HTTP Error"),
            str(exc.detail),
            solutions.get(exc.status_code, "See /docs"),
        )
        return JSONResponse(body, status_code=exc.status_code, media_type=problems.MEDIA_TYPE, headers=exc.headers)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error serving %s %s", request.method, request.url.path)
        return problem_json(
            problems.plain(
                500,
                "Internal Error",
                "the server failed unexpectedly; the error is in its log",
                "Retry; report it if it persists",
            )
        )

    # -- auth ------------------------------------------------------------------------------------------
    async def role(request: Request) -> Role:
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        found = settings.tokens.role(presented.strip()) if scheme.lower() == "bearer" and presented else None
        if found is None:
            raise StarletteHTTPException(
                401, "a valid bearer token is required" if header else "no bearer token", headers={"WWW-Authenticate": "Bearer"}
            )
        if found == "read-only" and request.method not in ("GET", "HEAD", "OPTIONS"):
            raise StarletteHTTPException(403, f"a read-only token cannot {request.method} {request.url.path}")
        return found

    auth = [Depends(role)]
    api = APIRouter(prefix=PREFIX, dependencies=auth, responses=ERRORS)

    @app.get("/healthz", response_model=Health, tags=["health"])
    def health() -> Health:
        """Liveness: no token needed."""
        return Health(status="ok", version=__version__)

    # -- monitoring --------------------------------------------------------------------------------------
    @app.get("/metrics", dependencies=auth, response_class=Response, responses=ERRORS, tags=["monitoring"])
    def prometheus_metrics() -> Response:
        """Prometheus exposition: fleet capacity/CPU/cost, function invocations, provider calls, API requests."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @api.get("/sd/prometheus", response_model=list[SdTargets], tags=["monitoring"])
    def prometheus_sd(port: Annotated[int, Query(ge=1, le=65535, description="The exporters' port.")] = 9100) -> Response:
        """Prometheus HTTP service discovery: running instances as ``ip:port`` targets with their labels."""
        return JSONResponse(service_discovery(session.instances(), port))

    # -- providers ---------------------------------------------------------------------------------------
    @api.get("/status", response_model=list[ProviderStatus], tags=["providers"])
    def status() -> Any:
        """Each provider: reachable or not, as whom, where."""
        return [s.model_dump(mode="json") for s in run(manager.status())]

    @api.get(
        "/capabilities",
        response_model=dict[str, dict[str, str]],
        tags=["providers"],
    )
    def capabilities() -> Any:
        """Feature -> provider -> ``✓`` or the reason it is not offered."""
        return manager.capabilities().T.to_dict()

    # -- fleets ------------------------------------------------------------------------------------------

    @api.post(
        "/fleets",
        status_code=201,
        response_model=Fleet,
        responses={200: {"model": PlanBody, "description": "dry run: the plan"}},
        tags=["fleets"],
    )
    def create_fleet(config: FleetConfig, dry_run: DryRun = False) -> Response:
        """Create a fleet."""
        return reply(session.create_fleet(config, dry_run=dry_run), 201)

    @api.get("/fleets", response_model=Page[Fleet], tags=["fleets"])
    def list_fleets(limit: Limit = DEFAULT_LIMIT, page_token: PageToken = None, provider: ProviderQ = None) -> Response:
        """Every provider's fleets (``errors``: the providers that failed)."""
        listing = run(manager.list_fleets())
        items = [f for f in listing if provider is None or f.provider == provider]
        return page_of(items, limit, page_token, listing.errors)

    @api.get("/fleets/{fleet}", response_model=Fleet, tags=["fleets"])
    def get_fleet(fleet: FleetId, provider: ProviderQ = None) -> Response:
        return reply(session.fleet(fleet, provider=provider))

    @api.put(
        "/fleets/{fleet}",
        response_model=Fleet,
        responses={200: {"model": Fleet | PlanBody}},
        tags=["fleets"],
    )
    def update_fleet(fleet: FleetId, config: FleetConfig, dry_run: DryRun = False) -> Response:
        """Change a fleet's description, type, bounds, tags or capacity (the body's name is the path's)."""
        same_name("fleet", config.name, fleet)
        return reply(session.update_fleet(config, dry_run=dry_run))

    @api.delete(
        "/fleets/{fleet}",
        status_code=204,
        responses={200: {"model": PlanBody, "description": "dry run: the plan"}},
        tags=["fleets"],
    )
    def delete_fleet(fleet: FleetId, dry_run: DryRun = False, provider: ProviderQ = None) -> Response:
        """Delete a fleet and terminate its instances."""
        return reply(session.delete_fleet(fleet, dry_run=dry_run, provider=provider))

    @api.put(
        "/fleets/{fleet}/capacity",
        response_model=Fleet,
        responses={200: {"model": Fleet | PlanBody}},
        tags=["fleets"],
    )
    def update_capacity(fleet: FleetId, body: CapacityBody, dry_run: DryRun = False, provider: ProviderQ = None) -> Response:
        """Set the desired capacity, within the fleet's bounds."""
        return reply(session.update_fleet_capacity(fleet, body.capacity, dry_run=dry_run, provider=provider))

    @api.put(
        "/fleets/{fleet}/autoscaling",
        response_model=Fleet,
        responses={200: {"model": Fleet | PlanBody}},
        tags=["fleets"],
    )
    def configure_autoscaling(
        fleet: FleetId, config: AutoScalingConfig, dry_run: DryRun = False, provider: ProviderQ = None
    ) -> Response:
        """Attach a CPU target-tracking policy."""
        return reply(session.configure_auto_scaling(fleet, config, dry_run=dry_run, provider=provider))

    @api.get("/fleets/{fleet}/utilization", tags=["fleets"])
    def utilization(
        fleet: FleetId,
        start: str | None = None,
        end: str | None = None,
        period: str = "5min",
        by: str = "fleet",
        provider: ProviderQ = None,
    ) -> Response:
        """CPU % and capacity over time (``by=instance``: one series per instance)."""
        return records(session.utilization(fleet, start, end, period, by, provider=provider))

    # -- instances ---------------------------------------------------------------------------------------
    instance_or_plan: dict[int | str, dict[str, Any]] = {200: {"model": Instance | PlanBody}}

    @api.post(
        "/instances",
        status_code=201,
        response_model=Instance,
        responses={200: {"model": PlanBody, "description": "dry run: the plan"}},
        tags=["instances"],
    )
    def create_instance(config: InstanceConfig, dry_run: DryRun = False) -> Response:
        """Launch one standalone instance outside any fleet."""
        return reply(session.create_instance(config, dry_run=dry_run), 201)

    @api.get("/instances", response_model=Page[InstanceRow], tags=["instances"])
    def list_instances(
        fleet: str | None = None,
        state: Annotated[
            list[str] | None, Query(description="One or more states, or 'all' (default: all but terminated).")
        ] = None,
        provider: ProviderQ = None,
        limit: Limit = DEFAULT_LIMIT,
        page_token: PageToken = None,
    ) -> Response:
        """Instances of every provider (of ``fleet``; in ``state``)."""
        states: str | list[str] | None = state[0] if state and len(state) == 1 else state
        df = session.instances(fleet, states, provider=provider)
        if provider is not None and fleet is None:
            df = df[df["provider"] == provider]
        return frame_page(df, limit, page_token)

    @api.get("/instances/{instance}", response_model=Instance, tags=["instances"])
    def get_instance(instance: InstanceId, provider: ProviderQ = None) -> Response:
        return reply(session.instance(instance, provider=provider))

    @api.post(
        "/instances/{instance}/start",
        response_model=Instance,
        responses=instance_or_plan,
        tags=["instances"],
    )
    def start_instance(instance: InstanceId, dry_run: DryRun = False, provider: ProviderQ = None) -> Response:
        return reply(session.start_instance(instance, dry_run=dry_run, provider=provider))

    @api.post(
        "/instances/{instance}/stop",
        response_model=Instance,
        responses=instance_or_plan,
        tags=["instances"],
    )
    def stop_instance(instance: InstanceId, dry_run: DryRun = False, provider: ProviderQ = None) -> Response:
        return reply(session.stop_instance(instance, dry_run=dry_run, provider=provider))

    @api.delete(
        "/instances/{instance}",
        response_model=Instance,
        responses=instance_or_plan,
        tags=["instances"],
    )
    def terminate_instance(instance: InstanceId, dry_run: DryRun = False, provider: ProviderQ = None) -> Response:
        """Terminate (a fleet member is replaced by its fleet)."""
        return reply(session.terminate_instance(instance, dry_run=dry_run, provider=provider))

    # -- functions ---------------------------------------------------------------------------------------

    @api.post(
        "/functions",
        status_code=201,
        response_model=Function,
        responses={200: {"model": PlanBody, "description": "dry run: the plan"}},
        tags=["functions"],
    )
    def create_function(config: FunctionBody, dry_run: DryRun = False) -> Response:
        """Deploy a function (``code``: a base64-encoded zip)."""
        return reply(session.create_function(config, dry_run=dry_run), 201)

    @api.get("/functions", response_model=Page[FunctionRow], tags=["functions"])
    def list_functions(limit: Limit = DEFAULT_LIMIT, page_token: PageToken = None, provider: ProviderQ = None) -> Response:
        df = session.functions()
        if provider is not None:
            df = df[df["provider"] == provider]
        return frame_page(df, limit, page_token)

    @api.get("/functions/{function}", response_model=Function, tags=["functions"])
    def get_function(function: FunctionName, provider: ProviderQ = None) -> Response:
        return reply(run(manager.get_function(function, provider=provider)))

    @api.put(
        "/functions/{function}",
        response_model=Function,
        responses={200: {"model": Function | PlanBody}},
        tags=["functions"],
    )
    def update_function(function: FunctionName, config: FunctionBody, dry_run: DryRun = False) -> Response:
        """Deploy a new version (the body's name is the path's; without ``code`` the old code stays)."""
        same_name("function", config.name, function)
        return reply(session.update_function(config, dry_run=dry_run))

    @api.delete(
        "/functions/{function}",
        status_code=204,
        responses={200: {"model": PlanBody, "description": "dry run: the plan"}},
        tags=["functions"],
    )
    def delete_function(function: FunctionName, dry_run: DryRun = False, provider: ProviderQ = None) -> Response:
        return reply(session.delete_function(function, dry_run=dry_run, provider=provider))

    @api.post(
        "/functions/{function}/invoke",
        response_model=InvocationBody,
        tags=["functions"],
        openapi_extra={
            "requestBody": {"description": "The event, any JSON (empty: {}).", "content": {"application/json": {"schema": {}}}}
        },
    )
    async def invoke_function(function: FunctionName, request: Request, provider: ProviderQ = None) -> Response:
        """Run the function once on the JSON body and wait for it."""
        payload = await request.body() or b"{}"
        try:
            json.loads(payload)
        except ValueError:
            raise ValidationError(
                "payload: the request body is not JSON",
                field="payload",
                rule="a JSON document",
                solution="Send the event as JSON",
            ) from None
        inv = await run_in_threadpool(session.invoke_function, function, payload, provider)
        result = inv.result
        body = InvocationBody(
            **inv.model_dump(include=set(InvocationBody.model_fields) - {"result"}),
            result=result if not isinstance(result, bytes) else base64.b64encode(result).decode(),
        )
        return JSONResponse(body.model_dump(mode="json"))

    # -- costs ---------------------------------------------------------------------------------------------
    @api.get("/costs", tags=["costs"])
    def costs(by: str = "fleet", start: str | None = None, end: str | None = None) -> Response:
        """What compute cost between ``start`` and ``end``, grouped ``by`` fleet, instance_type, provider, kind or resource."""
        return records(session.costs(start, end, by=by))

    app.include_router(api)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
