"""The adapter kit: what every SDK-backed adapter (AWS now, Google Cloud and Azure next) builds on.

Nothing here needs a cloud SDK: the SDKs' shapes (a pager, a poller, an error
with a code) are stood in for by small local classes.
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb import frames
from clusterdb_nb.models import InstanceState
from clusterdb_nb.providers.kit import cost_estimate, naming, plans, pricing, utilization
from clusterdb_nb.providers.kit.error_codes import ERRORS, WORDING, Coded, ErrorTable, Kind, Rule, Wording
from clusterdb_nb.providers.kit.instance_rows import InstanceRows
from clusterdb_nb.providers.kit.sdk_calls import SdkCalls

UTC = "UTC"


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


# -- a cloud's error table ------------------------------------------------------------------
class ApiError(Exception):
    """An SDK error carrying a code, as botocore's ClientError or google-api-core's errors do."""

    def __init__(self, code: str, message: str = "", call: str | None = "instances.insert") -> None:
        super().__init__(message)
        self.code, self.message, self.call = code, message, call


class CredentialsMissing(Exception):
    """An SDK error with no code, known by its type."""


TABLE = ErrorTable(
    cloud="Example Cloud",
    coded=lambda exc: Coded(exc.code, exc.message, exc.call) if isinstance(exc, ApiError) else None,
    rules=(
        Rule(Kind.AUTH, codes=frozenset({"UNAUTHENTICATED"})),
        Rule(Kind.DENIED, codes=frozenset({"PERMISSION_DENIED"})),
        Rule(Kind.THROTTLED, codes=frozenset({"rateLimitExceeded"})),
        Rule(Kind.CAPACITY, codes=frozenset({"ZONE_RESOURCE_POOL_EXHAUSTED"})),
        Rule(Kind.QUOTA, suffixes=("QUOTA_EXCEEDED", "LimitExceeded")),  # after the throttling rule: first match wins
        Rule(Kind.NOT_FOUND, suffixes=(".NotFound",)),
        Rule(Kind.NOT_FOUND, codes=frozenset({"BAD_REQUEST"}), message_has="was not found"),
        Rule(Kind.CONFLICT, contains=("ALREADY_EXISTS",)),
        Rule(Kind.INVALID, prefixes=("INVALID_",), wording=Wording(solution="Fix {code} in the request")),
        Rule(Kind.UNAVAILABLE, codes=frozenset({"UNAVAILABLE"})),
        Rule(Kind.AUTH, types=(CredentialsMissing,), wording=Wording(solution="Log in with `example auth login`")),
        Rule(Kind.NETWORK, types=(ConnectionError,)),
        Rule(Kind.TIMEOUT, types=(TimeoutError,)),
    ),
    wording={Kind.THROTTLED: Wording(solution="Raise the client's retry deadline")},
)


@pytest.mark.parametrize(
    ("exc", "error", "message", "cause", "solution"),
    [
        (ApiError("UNAUTHENTICATED", "token expired"), cdb.AuthenticationError,
         "Failed to authenticate with provider: UNAUTHENTICATED: token expired",
         "Invalid or expired credentials", "Verify and update provider credentials"),
        (ApiError("PERMISSION_DENIED", "no compute.instances.insert"), cdb.AuthenticationError,
         "Not allowed to call instances.insert: PERMISSION_DENIED: no compute.instances.insert",
         "The credentials are valid but lack the permission for this call",
         "Grant the permission for instances.insert to this identity (see `clusterdb compute status`)"),
        (ApiError("rateLimitExceeded", "slow down"), cdb.ProviderError,
         "instances.insert was still throttled after the SDK's retries: rateLimitExceeded: slow down",
         "Too many requests to the Example Cloud API", "Raise the client's retry deadline"),
        (ApiError("ZONE_RESOURCE_POOL_EXHAUSTED", "no e2-medium in zone-a"), cdb.QuotaExceededError,
         "Example Cloud has no capacity for this request now: ZONE_RESOURCE_POOL_EXHAUSTED: no e2-medium in zone-a",
         "The zone has run out of this machine type for now (a stockout)",
         "Try another zone or machine type, or retry later"),
        (ApiError("CPUS_QUOTA_EXCEEDED", "limit 24"), cdb.QuotaExceededError,
         "Failed to create resources: CPUS_QUOTA_EXCEEDED: limit 24",
         "Resource quota exceeded", "Request quota increase or cleanup unused resources"),
        (ApiError("Instance.NotFound", "i-1"), cdb.NotFoundError, "Instance.NotFound: i-1",
         cdb.NotFoundError.default_cause, cdb.NotFoundError.default_solution),
        (ApiError("BAD_REQUEST", "group web was not found"), cdb.NotFoundError, "BAD_REQUEST: group web was not found",
         cdb.NotFoundError.default_cause, cdb.NotFoundError.default_solution),
        (ApiError("RESOURCE_ALREADY_EXISTS", "web"), cdb.ConflictError, "RESOURCE_ALREADY_EXISTS: web",
         cdb.ConflictError.default_cause, cdb.ConflictError.default_solution),
        (ApiError("UNAVAILABLE", "backend error"), cdb.ProviderError, "instances.insert failed: UNAVAILABLE: backend error",
         "The Example Cloud service failed to answer, even after the SDK's retries",
         "Retry later; if it persists, check the cloud's service health page"),
        (ApiError("INTERNAL", "oops", call=None), cdb.ProviderError, "create_fleet failed: INTERNAL: oops",
         cdb.ProviderError.default_cause, cdb.ProviderError.default_solution),
        (CredentialsMissing("no credentials found"), cdb.AuthenticationError,
         "Failed to authenticate with provider: no credentials found",
         "Invalid or expired credentials", "Log in with `example auth login`"),
        (ConnectionRefusedError("connection refused"), cdb.NetworkError, "Cannot reach Example Cloud: connection refused",
         cdb.NetworkError.default_cause, cdb.NetworkError.default_solution),
        (TimeoutError("operation-1 still RUNNING"), cdb.ProviderError, "Gave up waiting: operation-1 still RUNNING",
         "The resource did not settle in time", cdb.ProviderError.default_solution),
    ],
)  # fmt: skip
def test_a_clouds_table_maps_its_errors_to_ours_with_cause_and_solution(exc, error, message, cause, solution):
    err = TABLE.translate(exc, "example", "create_fleet")
    assert type(err) is error
    assert (err.message, err.cause, err.solution) == (message, cause, solution)
    assert (err.provider, err.operation) == ("example", "create_fleet")


def test_a_rejected_value_is_a_validation_error_naming_the_request_and_the_code():
    err = TABLE.translate(ApiError("INVALID_MACHINE_TYPE", "e2-huge"), "example", "create_fleet")
    assert isinstance(err, cdb.ValidationError)
    assert err.message == "Example Cloud rejected instances.insert: INVALID_MACHINE_TYPE: e2-huge"
    assert (err.field, err.rule, err.solution) == ("request", "INVALID_MACHINE_TYPE", "Fix INVALID_MACHINE_TYPE in the request")


def test_the_first_matching_rule_wins_and_message_rules_need_their_text():
    assert "throttled" in TABLE.translate(ApiError("rateLimitExceeded"), "x", "op").message  # also ends in LimitExceeded
    assert type(TABLE.translate(ApiError("InstanceLimitExceeded"), "x", "op")) is cdb.QuotaExceededError
    other = TABLE.translate(ApiError("BAD_REQUEST", "name too long"), "x", "op")
    assert type(other) is cdb.ProviderError  # BAD_REQUEST without "was not found" falls through every rule


def test_errors_that_are_not_the_sdks_are_returned_unchanged():
    unrelated = KeyError("x")
    assert TABLE.translate(unrelated, "example", "status") is unrelated


def test_wording_falls_back_rule_then_table_then_kit_then_error_class():
    assert Wording(message="m").over(Wording(message="x", cause="c")) == Wording(message="m", cause="c")
    table = ErrorTable(
        cloud="C",
        coded=lambda exc: Coded("DENIED") if isinstance(exc, ApiError) else None,
        rules=(Rule(Kind.DENIED, types=(ApiError,), wording=Wording(cause="rule cause")),),
        wording={Kind.DENIED: Wording(cause="table cause", solution="table solution")},
    )
    err = table.translate(ApiError("DENIED"), "c", "op")
    assert (err.cause, err.solution, err.message) == ("rule cause", "table solution", "Not allowed to call op: DENIED")


def test_every_kind_has_an_error_class_and_a_wording():
    assert set(ERRORS) == set(WORDING) == set(Kind)
    assert all(WORDING[k].message for k in Kind)


def test_coded_text_leaves_out_an_empty_message():
    assert Coded("Throttling").text == "Throttling"
    assert Coded("Throttling", "Rate exceeded").text == "Throttling: Rate exceeded"


# -- blocking SDK calls on a worker thread ----------------------------------------------------
def translate_api_errors(exc: BaseException, provider: str, operation: str) -> BaseException:
    return TABLE.translate(exc, provider, operation)


CALLS = SdkCalls("example", translate_api_errors)


def test_run_calls_the_sdk_off_the_event_loop_thread():
    seen: list[int] = []

    async def main() -> tuple[int, str]:
        return threading.get_ident(), await CALLS.run("status", lambda: seen.append(threading.get_ident()) or "ok")

    loop_thread, result = asyncio.run(main())
    assert result == "ok" and seen and seen[0] != loop_thread


def test_run_raises_our_error_chained_to_the_sdks():
    def fails() -> None:
        raise ApiError("Instance.NotFound", "i-9")

    with pytest.raises(cdb.NotFoundError) as err:
        asyncio.run(CALLS.run("get_instance", fails))
    assert (err.value.provider, err.value.operation) == ("example", "get_instance")
    assert isinstance(err.value.__cause__, ApiError)


def test_run_lets_other_exceptions_through_unchanged():
    bug = ZeroDivisionError("a bug in the adapter")

    def fails() -> None:
        raise bug

    with pytest.raises(ZeroDivisionError) as err:
        asyncio.run(CALLS.run("list_fleets", fails))
    assert err.value is bug


class Pager:
    """Like a google-api-core pager or an azure-core ItemPaged: iterating fetches the pages one by one."""

    def __init__(self, pages: list[list[str]]) -> None:
        self.pages = pages
        self.fetched_on: list[int] = []

    def __iter__(self) -> Iterator[str]:
        for page in self.pages:
            self.fetched_on.append(threading.get_ident())  # a request per page
            yield from page


def test_collect_reads_every_page_of_a_pager_on_the_worker_thread():
    pager = Pager([["a", "b"], ["c"], [], ["d"]])

    async def main() -> tuple[int, list[str]]:
        return threading.get_ident(), await CALLS.collect("list_instances", lambda: pager)

    loop_thread, items = asyncio.run(main())
    assert items == ["a", "b", "c", "d"]
    assert len(pager.fetched_on) == 4 and loop_thread not in pager.fetched_on


def test_collect_translates_an_error_on_a_later_page():
    def pages() -> Iterator[str]:
        yield "a"
        raise ApiError("rateLimitExceeded", "page 2")

    with pytest.raises(cdb.ProviderError, match="throttled"):
        asyncio.run(CALLS.collect("list_instances", pages))


def test_follow_asks_for_pages_until_no_token_is_given():
    answers = {None: {"items": [1], "next": "t1"}, "t1": {"items": [2], "next": "t2"}, "t2": {"items": [3], "next": ""}}
    asked: list[str | None] = []

    def fetch(token: str | None) -> dict:
        asked.append(token)
        return answers[token]

    pages = asyncio.run(CALLS.follow("costs", fetch, lambda page: page["next"]))
    assert asked == [None, "t1", "t2"]
    assert [i for p in pages for i in p["items"]] == [1, 2, 3]


class Poller:
    """Like an azure-core LROPoller or a google-api-core Operation."""

    def __init__(self, outcome: object) -> None:
        self.outcome = outcome
        self.waited: list[float | None] = []

    def result(self, timeout: float | None = None) -> object:
        self.waited.append(timeout)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def test_finish_waits_on_a_long_running_operation_for_its_result():
    poller = Poller({"name": "clusterdb-web", "status": "DONE"})
    assert asyncio.run(CALLS.finish("create_fleet", lambda: poller, timeout=300)) == {"name": "clusterdb-web", "status": "DONE"}
    assert poller.waited == [300]


def test_an_operation_that_fails_is_our_error():
    poller = Poller(ApiError("ZONE_RESOURCE_POOL_EXHAUSTED", "no capacity", call="regionInstanceGroupManagers.insert"))
    with pytest.raises(cdb.QuotaExceededError) as err:
        asyncio.run(CALLS.finish("create_fleet", lambda: poller))
    assert err.value.solution == "Try another zone or machine type, or retry later" and poller.waited == [None]


# -- naming and tags --------------------------------------------------------------------------
def test_a_fleet_owns_resources_named_clusterdb_fleet():
    assert naming.resource_name("web") == "clusterdb-web"
    assert naming.fleet_of("clusterdb-web") == "web"
    assert naming.fleet_of(naming.resource_name("clusterdb-x")) == "clusterdb-x"
    assert naming.fleet_of("web") is None and naming.fleet_of("clusterdb-") is None


AWS_LIKE = naming.TagRules(owner_key=naming.OWNER_TAG, max_key=128, max_value=256, reserved_prefixes=("aws:",), rule="AWS tags")
GCE_LABELS = naming.TagRules(
    owner_key="clusterdb-fleet",
    max_key=63,
    max_value=63,
    key_pattern=r"[a-z][a-z0-9_-]*",
    value_pattern=r"[a-z0-9_-]*",
    reserved_prefixes=("goog-",),
    rule="lowercase letters, digits, _ and -, at most 63",
)


def test_the_ownership_tag_is_spelled_the_clouds_way():
    assert AWS_LIKE.owner("web") == {"clusterdb:fleet": "web"}
    assert GCE_LABELS.owner("web") == {"clusterdb-fleet": "web"}


def test_a_tag_the_cloud_would_refuse_is_a_validation_error_naming_it():
    AWS_LIKE.check({"team": "ml", "Cost Center": "42"})  # fits
    with pytest.raises(cdb.ValidationError) as err:
        AWS_LIKE.check({"team": "ml", "aws:owner": "me"})
    assert err.value.field == "tags.aws:owner" and err.value.rule == "AWS tags"
    with pytest.raises(cdb.ValidationError, match="tags.k"):
        AWS_LIKE.check({"k": "v" * 257})
    with pytest.raises(cdb.ValidationError, match=r"labels\.Team"):
        GCE_LABELS.check({"Team": "ml"}, field="labels")


def test_tags_that_break_a_clouds_label_rules_are_split_off():
    fit, rest = GCE_LABELS.split({"team": "ml", "Cost Center": "42", "env": "Prod", "k" * 64: "v", "goog-x": "y"})
    assert fit == {"team": "ml"}
    assert list(rest) == ["Cost Center", "env", "k" * 64, "goog-x"]


def test_user_tags_leave_out_the_clouds_own_and_the_ownership_tag():
    tags = {"aws:autoscaling:groupName": "web", "clusterdb:fleet": "web", "team": "ml"}
    assert AWS_LIKE.user_tags(tags) == {"team": "ml"}


# -- prices and instance listings ---------------------------------------------------------------
def test_prices_are_looked_up_once_per_type_and_nan_where_the_catalog_has_none():
    asked: list[tuple[str, bool]] = []

    def hourly_price(instance_type: str, spot: bool) -> float:
        asked.append((instance_type, spot))
        if instance_type == "x9.huge":
            raise cdb.ValidationError("no such type", field="instance_type")
        return 0.5 if spot else 1.0

    price = pricing.price_or_nan(hourly_price)
    values = [price(t, s) for _ in range(500) for t, s in (("t3.medium", False), ("t3.medium", True), ("x9.huge", False))]
    assert values[:2] == [1.0, 0.5] and math.isnan(values[2])
    assert asked == [("t3.medium", False), ("t3.medium", True), ("x9.huge", False)]


def test_a_price_lookup_that_breaks_otherwise_is_not_hidden():
    def broken(instance_type: str, spot: bool) -> float:
        raise KeyError(instance_type)

    with pytest.raises(KeyError):
        pricing.price_or_nan(broken)("t3.medium", False)


def flat_price(instance_type: str, spot: bool) -> float:
    if instance_type == "custom-4-8192":
        raise cdb.ValidationError("not in the catalog", field="instance_type")
    return 0.25 if spot else 1.0


def test_instance_rows_make_the_instances_frame_oldest_first_priced_while_running():
    rows = InstanceRows("example", "region-1", flat_price)
    t = at("2026-03-01T12:00").timestamp()
    for iid, fleet, itype, state, spot, launched, since, ip, tags in [
        ("i-3", None, "m5.large", InstanceState.STOPPED, False, t + 60, t + 120, None, {}),
        ("i-2", "web", "t3.medium", InstanceState.RUNNING, True, t, t, "10.0.0.2", {"team": "ml"}),
        ("i-1", "web", "custom-4-8192", InstanceState.RUNNING, False, t, t, "10.0.0.1", {}),
    ]:
        rows.add(iid, fleet, itype, state, spot=spot, launched_at=launched, state_since=since, private_ip=ip, tags=tags)
    df = rows.frame()
    assert list(df.columns) == list(frames.INSTANCES)
    assert df["id"].tolist() == ["i-1", "i-2", "i-3"]  # by launch, then id
    assert math.isnan(df.loc[0, "hourly_cost_usd"]) and df["hourly_cost_usd"].tolist()[1:] == [0.25, 0.0]
    assert df["state"].tolist() == ["running", "running", "stopped"]
    assert df.loc[2, "state_since"] == at("2026-03-01T12:02") and str(df["launched_at"].dt.tz) == UTC
    assert (df["provider"] == "example").all() and (df["region"] == "region-1").all()
    assert df.loc[1, "tags"] == {"team": "ml"} and pd.isna(df.loc[2, "fleet"])


def test_an_empty_listing_has_the_instances_columns_and_dtypes():
    df = InstanceRows("example", "region-1", flat_price).frame()
    assert df.dtypes.to_dict() == frames.frame(frames.INSTANCES, []).dtypes.to_dict() and len(df) == 0


# -- utilization ------------------------------------------------------------------------------
T = pd.date_range("2026-03-01T00:00", periods=4, freq="5min", tz=UTC)


def test_capacities_are_carried_forward_and_periods_before_the_first_count_left_out():
    cpu = pd.Series([10.0, 20.0, 30.0, 40.12345], T)
    running = pd.Series([2.0], T[1:2])
    desired = pd.Series([3.0], T[2:3])
    df = utilization.fleet_frame(cpu, running, desired, "web", "example")
    assert list(df.columns) == list(frames.UTILIZATION)
    assert df["time"].tolist() == list(T[1:])
    assert df["cpu_percent"].tolist() == [20.0, 30.0, 40.123]
    assert df["running"].tolist() == [2, 2, 2]
    assert df["desired_capacity"].tolist() == [2, 3, 3]  # the running count until a desired point comes
    assert (df["fleet"] == "web").all() and (df["provider"] == "example").all()


def test_no_datapoints_is_an_empty_utilization_frame():
    empty = pd.Series(dtype=float)
    df = utilization.fleet_frame(empty, empty, empty, "web", "example")
    assert list(df.columns) == list(frames.UTILIZATION) and len(df) == 0


def test_instance_series_are_listed_by_instance_then_time():
    df = utilization.instance_frame(
        {"i-b": pd.Series([5.0, 1.0], T[[1, 0]]), "i-a": pd.Series([7.0], T[:1]), "i-c": pd.Series(dtype=float)},
        "web",
        "example",
    )
    assert list(df.columns) == list(frames.INSTANCE_UTILIZATION)
    assert list(zip(df["instance_id"], df["time"], df["cpu_percent"])) == [
        ("i-a", T[0], 7.0),
        ("i-b", T[0], 1.0),
        ("i-b", T[1], 5.0),
    ]
    assert len(utilization.instance_frame({}, "web", "example")) == 0


# -- costs --------------------------------------------------------------------------------------
def test_the_cost_window_defaults_to_the_month_so_far_and_never_ends_after_now():
    now = at("2026-03-10T12:00")
    assert cost_estimate.cost_window(None, None, now) == (at("2026-03-01"), now)
    assert cost_estimate.cost_window(at("2026-03-05"), at("2026-04-01"), now) == (at("2026-03-05"), now)
    with pytest.raises(cdb.ValidationError) as err:
        cost_estimate.cost_window(at("2026-03-10"), at("2026-03-09"), now)
    assert err.value.field == "start"
    assert cost_estimate.cost_window(now, now, now) == (now, now)  # start == end: an empty window, on every cloud
    assert cost_estimate.cost_window(at("2026-04-01"), None, now) == (now, now)  # after now: empty


def instances_frame() -> pd.DataFrame:
    rows = InstanceRows("example", "region-1", flat_price)
    for iid, fleet, state, launched in [
        ("i-1", "web", InstanceState.RUNNING, "2026-03-01T10:00"),  # before the window: counted from its start
        ("i-2", None, InstanceState.RUNNING, "2026-03-01T12:30"),
        ("i-3", "web", InstanceState.STOPPED, "2026-03-01T11:00"),  # not running: no cost
        ("i-4", "api", InstanceState.RUNNING, "2026-03-01T14:00"),  # launched after the window
    ]:
        t = at(launched).timestamp()
        rows.add(iid, fleet, "t3.medium", state, spot=False, launched_at=t, state_since=t, private_ip=None, tags={})
    return rows.frame()


def test_the_estimate_prices_running_hours_within_the_window():
    df = cost_estimate.estimate(instances_frame(), at("2026-03-01T11:00"), at("2026-03-01T13:00"))
    assert list(df.columns) == list(frames.COSTS)
    assert df["resource"].tolist() == ["i-1", "i-2"]  # by fleet, fleetless last
    assert df["running_seconds"].tolist() == [7200.0, 1800.0]
    assert df["cost_usd"].tolist() == [2.0, 0.5]
    assert (df["source"] == "estimate").all() and (df["kind"] == "instance").all() and (df["requests"] == 0).all()


def run_costs(billed) -> tuple[pd.DataFrame, list[str]]:
    listed: list[str] = []

    async def running() -> pd.DataFrame:
        listed.append("running")
        return instances_frame()

    df = asyncio.run(cost_estimate.billed_else_estimated(billed, running, at("2026-03-01T11:00"), at("2026-03-01T13:00")))
    return df, listed


def test_billed_costs_are_used_when_the_billing_api_attributes_them():
    bill = frames.costs(
        provider="example",
        kind="instance",
        resource=["web"],
        fleet=["web"],
        region="region-1",
        running_seconds=[3600.0],
        cost_usd=[0.9],
        source="billing",
    )

    async def billed() -> pd.DataFrame:
        return bill

    df, listed = run_costs(billed)
    assert df is bill and listed == []


@pytest.mark.parametrize(
    "outcome", [None, cdb.AuthenticationError("Not allowed to call GetCostAndUsage"), cdb.ProviderError("not enabled")]
)
def test_without_attributed_billing_data_the_costs_are_estimated(outcome):
    async def billed() -> pd.DataFrame | None:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    df, listed = run_costs(billed)
    assert listed == ["running"] and (df["source"] == "estimate").all() and len(df) == 2


def test_an_unreachable_billing_api_is_an_error_not_an_estimate():
    async def billed() -> pd.DataFrame | None:
        raise cdb.NetworkError("Cannot reach AWS")

    with pytest.raises(cdb.NetworkError):
        run_costs(billed)


def test_the_costs_builder_spreads_single_values_over_the_rows():
    df = frames.costs(
        provider="local",
        kind="function",
        resource=["echo", "resize"],
        region="local",
        running_seconds=[0.25, 1.5],
        requests=[3, 1],
        cost_usd=[4.2e-06, 1e-05],
        source="exact",
    )
    assert list(df.columns) == list(frames.COSTS)
    assert df["provider"].tolist() == ["local", "local"] and df["spot"].tolist() == [False, False]
    assert df["fleet"].isna().all() and df["instance_type"].isna().all()
    assert df["requests"].tolist() == [3, 1] and str(df["requests"].dtype) == "int64"
    empty = frames.costs(
        provider="local", kind="function", resource=[], region="local", running_seconds=[], cost_usd=[], source="exact"
    )
    assert empty.dtypes.to_dict() == frames.frame(frames.COSTS, []).dtypes.to_dict() and len(empty) == 0


# -- plans ----------------------------------------------------------------------------------------
POLICY = cdb.AutoScalingConfig(min_capacity=1, max_capacity=4, target_cpu_utilization=60.0, cooldown_seconds=120)


@pytest.mark.parametrize(
    ("request_", "target", "text"),
    [
        (plans.CreateFleet("web", "t3.medium", 3), "web", "create_fleet('web', 't3.medium', 3)"),
        (plans.UpdateFleet("web"), "web", "update_fleet('web')"),
        (plans.UpdateFleetCapacity("web", 20), "web", "update_fleet_capacity('web', 20)"),
        (plans.DeleteFleet("web"), "web", "delete_fleet('web')"),
        (plans.ConfigureAutoScaling("web", POLICY), "web", f"configure_auto_scaling('web', {POLICY.model_dump()!r})"),
        (plans.StartInstance("i-1"), "i-1", "start_instance('i-1')"),
        (plans.StopInstance("i-1"), "i-1", "stop_instance('i-1')"),
        (plans.TerminateInstance("i-1"), "i-1", "terminate_instance('i-1')"),
        (plans.CreateFunction("echo", "python3.12"), "echo", "create_function('echo', 'python3.12')"),
        (plans.UpdateFunction("echo"), "echo", "update_function('echo')"),
        (plans.DeleteFunction("echo"), "echo", "delete_function('echo')"),
    ],
)
def test_a_plan_request_names_its_target_and_reads_as_the_operation_by_default(request_, target, text):
    assert request_.target == target
    assert request_.as_call() == text


def test_instance_requests_are_found_by_operation():
    assert {op: cls("i-1").operation for op, cls in plans.INSTANCE_REQUESTS.items()} == {
        "start_instance": "start_instance",
        "stop_instance": "stop_instance",
        "terminate_instance": "terminate_instance",
    }


def test_call_text_shows_parameters_as_python_values():
    assert (
        plans.call_text("ec2:StopInstances", InstanceIds=["i-1"], Force=False)
        == "ec2:StopInstances(InstanceIds=['i-1'], Force=False)"
    )


def test_a_local_dry_run_plan_shows_the_generic_call(s):
    plan = s.create_fleet(cdb.FleetConfig("web", capacity=2, instance_type="t3.medium"), dry_run=True)
    assert (plan.operation, plan.target) == ("create_fleet", "web")
    assert [c.call for c in plan.calls] == ["create_fleet('web', 't3.medium', 2)"]


def test_the_kit_imports_no_cloud_sdk():
    """Every adapter imports the kit, and a local session imports its plans: it must stay SDK-free."""
    code = (
        "import sys, pkgutil, importlib, clusterdb_nb.providers.kit as kit\n"
        "for m in pkgutil.iter_modules(kit.__path__): importlib.import_module(f'clusterdb_nb.providers.kit.{m.name}')\n"
        "print(sorted(n for n in sys.modules if n.partition('.')[0] in ('boto3', 'botocore', 'google', 'azure')))\n"
        "print(sorted(n for n in sys.modules if n.startswith('clusterdb_nb.providers.kit.')))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout.split("\n")
    assert out[0] == "[]"
    assert "clusterdb_nb.providers.kit.sdk_calls" in out[1] and "clusterdb_nb.providers.kit.error_codes" in out[1]
