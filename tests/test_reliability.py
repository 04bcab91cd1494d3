"""Reliability of the local cloud and the session: nothing lost, nothing leaked, nothing hangs (issue 9)."""

import math
import sqlite3
import threading

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.providers.local import store as store_module
from clusterdb_nb.providers.local.store import Store


def virtual(path, **extra):
    return {"clock": "virtual", "seed": 3, "path": str(path), **extra}


# -- 1. the clock ------------------------------------------------------------------
@pytest.mark.parametrize("bad", [float("nan"), None, pd.NaT, float("inf"), -float("inf"), 1e300, -1, "3651d", True, "soon"])
def test_a_bad_duration_is_refused_and_the_file_stays_usable(tmp_path, bad):
    path = tmp_path / "state.db"
    with cdb.connect(local=virtual(path)) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=1))
        before = s.local.now
        with pytest.raises(cdb.ValidationError, match="duration") as err:
            s.local.advance(bad)
        assert err.value.field == "duration"
        assert s.local.now == before
    with cdb.connect(local=virtual(path)) as again:  # a later session still works
        assert again.local.now == before
        again.create_fleet(cdb.FleetConfig("api", capacity=1))
        assert len(again.fleets()) == 2


def test_ten_years_is_the_longest_advance(s):
    start = s.local.now
    assert s.local.advance("3650d") == start + pd.Timedelta("3650D")


def test_the_store_refuses_to_persist_a_clock_that_is_not_a_time(tmp_path):
    store = Store(str(tmp_path / "state.db"))
    for bad in (math.nan, math.inf, -1.0, 1e300):
        with pytest.raises(cdb.ValidationError, match="clock"), store.transaction() as db:
            store.set_clock(db, bad)
    with store.transaction() as db:
        assert store.meta(db, "virtual_now") is None  # nothing was written
    store.close()


@pytest.mark.parametrize("stored", ["nan", "inf", "1e300", "-5", "noon"])
def test_a_corrupted_clock_opens_with_an_error_naming_the_repair(tmp_path, stored):
    path = tmp_path / "state.db"
    with cdb.connect(local=virtual(path)) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=2))
        s.local.advance("1h")
        last_event = s.local.history()["time"].max()  # the boots, 40 s in
    db = sqlite3.connect(path)  # what an older version wrote after advance(float("nan"))
    db.execute("UPDATE meta SET value = ? WHERE key = 'virtual_now'", (stored,))
    db.commit()
    db.close()
    with pytest.raises(cdb.ConflictError, match="virtual clock .* not a time") as err:
        cdb.connect(local=virtual(path))
    assert str(path) in err.value.message and "UPDATE meta" in err.value.solution
    exec(err.value.solution.split("then reconnect: ", 1)[1])  # the repair it names works as written
    with cdb.connect(local=virtual(path)) as s:
        assert s.local.now == last_event
        assert s.fleet("web").capacity == 2


@pytest.mark.parametrize("when", [pd.NaT, "1900-01-01", "2300-01-01", "yesterday-ish"])
def test_times_outside_1970_to_2250_are_validation_errors(web, when):
    with pytest.raises(cdb.ValidationError, match="start"):
        web.costs(start=when)
    with pytest.raises(cdb.ValidationError, match="start"):
        web.utilization("web-fleet", start=when)


# -- 3. nothing hangs ------------------------------------------------------------------
def test_a_held_write_lock_is_a_conflict_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_SECONDS", 0.2)
    path = tmp_path / "state.db"
    s = cdb.connect(local=virtual(path))
    s.create_fleet(cdb.FleetConfig("web", capacity=1))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another session in the middle of a long write
    try:
        with pytest.raises(cdb.ConflictError, match=f"another session is writing to {path}"):
            s.update_fleet_capacity("web", 2)
        with pytest.raises(cdb.ConflictError, match="another session is writing to"):
            cdb.connect(local=virtual(path))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert s.update_fleet_capacity("web", 2).capacity == 2  # and all is well once it is done
    s.close()


def test_a_short_lock_wait_is_served_not_refused(tmp_path, monkeypatch):
    path = tmp_path / "state.db"
    s = cdb.connect(local=virtual(path))
    s.create_fleet(cdb.FleetConfig("web", capacity=1))
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: holder.execute("ROLLBACK"))
    release.start()
    assert s.update_fleet_capacity("web", 3).capacity == 3
    release.join()
    holder.close()
    s.close()


def test_utilization_starts_when_the_fleet_was_created(web):
    web.local.advance("1h")
    df = web.utilization("web-fleet", start="1970-01-01", period="1min")
    created = web.fleet("web-fleet").created_at
    assert df["time"].iloc[0] >= created and len(df) == 61


@pytest.mark.parametrize("period", ["1ns", "1s"])
def test_too_many_utilization_periods_suggest_a_coarser_period(web, period):
    web.local.advance("2D")
    with pytest.raises(cdb.ValidationError, match="more than 100,000") as err:
        web.utilization("web-fleet", start="2026-01-05", end="2026-01-07", period=period)
    assert err.value.field == "period" and "coarser period such as '1min'" in err.value.solution


def test_a_fleet_older_than_the_period_limit_needs_a_coarser_period(web):
    web.local.advance("3650d")
    with pytest.raises(cdb.ValidationError, match="period") as err:
        web.utilization("web-fleet", period="1min")
    assert "'1h'" in err.value.solution
    assert len(web.utilization("web-fleet", period="1D")) > 3000


@pytest.mark.parametrize("period", ["1ns", "1s", "1min"])
def test_costs_over_time_bounds_its_periods(web, period):
    with pytest.raises(cdb.ValidationError, match="more than 500") as err:
        web.costs_over_time(period=period)  # the default window is the last day
    assert err.value.field == "period" and "coarser period such as '5min'" in err.value.solution
    web.local.advance("1h")
    assert web.costs_over_time(period="5min")["period_start"].nunique() == 13  # 1 h 1 min of life, 5 min each


@pytest.mark.parametrize("period", ["0min", "-5min", "0s"])
def test_a_period_that_is_not_positive_is_refused(web, period):
    with pytest.raises(cdb.ValidationError, match="period: must be a positive length"):
        web.utilization("web-fleet", period=period)
    with pytest.raises(cdb.ValidationError, match="period: must be a positive length"):
        web.costs_over_time(period=period)


@pytest.mark.parametrize(
    "config",
    [
        lambda: cdb.FleetConfig("big", max_capacity=2**62).with_capacity(2**62),
        lambda: cdb.FleetConfig("big", min_capacity=10**7),
        lambda: cdb.FleetConfig("big", capacity=1, max_capacity=2**40),
    ],
)
def test_an_absurd_fleet_size_fails_in_the_model(config):
    with pytest.raises(cdb.ValidationError, match="less than or equal to 100000"):
        config()


def test_a_fleet_larger_than_the_provider_allows_fails_before_any_call(s):
    with pytest.raises(cdb.ValidationError, match="more than local's largest fleet \\(10,000 instances\\)"):
        s.create_fleet(cdb.FleetConfig("big", capacity=10_001, max_capacity=10_001))
    assert len(s.fleets()) == 0 and len(s.local.history()) == 0


def test_scaling_past_the_provider_limit_is_refused(web):
    with pytest.raises(cdb.ValidationError, match="largest fleet"):
        web.update_fleet_capacity("web-fleet", 10**7)
    with pytest.raises(cdb.ValidationError, match="largest fleet"):
        web.update_fleet(cdb.FleetConfig("web-fleet", max_capacity=20_000))
    with pytest.raises(cdb.ValidationError, match="largest fleet"):
        web.configure_auto_scaling("web-fleet", cdb.AutoScalingConfig(min_capacity=1, max_capacity=20_000))
    assert web.fleet("web-fleet").max_capacity == 100  # unchanged
    assert web.create_fleet(cdb.FleetConfig("max", capacity=0, max_capacity=10_000)).max_capacity == 10_000


def test_every_provider_declares_its_largest_group():
    from clusterdb_nb.providers.aws.provider import AwsProvider
    from clusterdb_nb.providers.local import LocalProvider

    assert AwsProvider.max_group_size == 10_000 and LocalProvider.max_group_size == 10_000


# -- 4. clear errors instead of raw ones --------------------------------------------------
def not_a_database(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    return str(path)


@pytest.mark.parametrize(
    "make_path",
    [
        lambda tmp: str(tmp),  # a directory
        not_a_database,
        lambda tmp: "/proc/self/status",
        lambda tmp: "/proc/no-such-dir/state.db",
        lambda tmp: str(tmp / "bad\0name.db"),
    ],
    ids=["directory", "not-a-database", "proc-file", "proc-dir", "nul"],
)
def test_an_unusable_state_path_is_a_validation_error(tmp_path, make_path):
    with pytest.raises(cdb.ValidationError, match="local.path: (cannot use|must not contain a NUL)") as err:
        cdb.connect(local={"path": make_path(tmp_path)})
    assert err.value.field.endswith("local.path") and err.value.solution


@pytest.mark.parametrize(
    "trace",
    [[10, 20, 30], pd.Series([10.0, 20.0, 30.0]), pd.Series([10.0, 20.0], index=[1_767_571_200, 1_767_571_500]), 42],
    ids=["list", "range-index", "int-index", "int"],
)
def test_a_trace_without_a_datetime_index_is_refused(web, trace):
    with pytest.raises(cdb.ValidationError, match="DatetimeIndex") as err:
        web.local.attach_trace("web-fleet", trace)
    assert err.value.field == "trace" and "pd.date_range" in err.value.solution


def test_every_method_of_a_closed_session_says_so(tmp_path):
    s = cdb.connect(local=virtual(tmp_path / "state.db"))
    s.create_fleet(cdb.FleetConfig("web", capacity=1))
    iid = s.instances()["id"].iloc[0]
    s.close()
    calls = {
        "fleets": lambda: s.fleets(),
        "instances": lambda: s.instances(),
        "functions": lambda: s.functions(),
        "invocations": lambda: s.invocations(),
        "costs": lambda: s.costs(),
        "costs_over_time": lambda: s.costs_over_time(),
        "status": lambda: s.status(),
        "errors": lambda: s.errors(),
        "fleet": lambda: s.fleet("web"),
        "utilization": lambda: s.utilization("web"),
        "scaling_activities": lambda: s.scaling_activities("web"),
        "create_fleet": lambda: s.create_fleet(cdb.FleetConfig("api", capacity=1)),
        "update_fleet": lambda: s.update_fleet(cdb.FleetConfig("web", description="x")),
        "update_fleet_capacity": lambda: s.update_fleet_capacity("web", 2),
        "delete_fleet": lambda: s.delete_fleet("web"),
        "configure_auto_scaling": lambda: s.configure_auto_scaling("web", cdb.AutoScalingConfig()),
        "instance": lambda: s.instance(iid),
        "start_instance": lambda: s.start_instance(iid),
        "stop_instance": lambda: s.stop_instance(iid),
        "terminate_instance": lambda: s.terminate_instance(iid),
        "create_function": lambda: s.create_function(cdb.FunctionConfig(name="fn")),
        "delete_function": lambda: s.delete_function("fn"),
        "invoke_function": lambda: s.invoke_function("fn"),
        "local.now": lambda: s.local.now,
        "local.advance": lambda: s.local.advance("1min"),
        "local.history": lambda: s.local.history(),
        "plot_utilization": lambda: s.plot_utilization("web"),
        "dashboard": lambda: s.dashboard(),
    }
    for name, call in calls.items():
        with pytest.raises(cdb.ConflictError, match="this session is closed") as err:
            call()
        assert "connect(" in err.value.solution, name
    with pytest.raises(cdb.ConflictError, match="closed"):  # the async API too
        s.manager.providers["local"].store.transaction().__enter__()
    s.close()  # a second close does nothing
    assert s.closed and "closed" in repr(s) and "closed" in s._repr_html_()


# -- 5. no silent wrong results ------------------------------------------------------------
def test_costs_with_start_after_end_is_an_error(web):
    with pytest.raises(cdb.ValidationError, match="start.*after end"):
        web.costs(start="2026-01-06", end="2026-01-05")
    with pytest.raises(cdb.ValidationError, match="start.*after end"):
        web.costs_over_time(start="2026-01-06", end="2026-01-05")
    with pytest.raises(cdb.ValidationError, match="start.*after end"):
        web.utilization("web-fleet", start="2026-01-06", end="2026-01-05")
    assert len(web.errors()) == 0  # an error, not a provider failure beside an empty frame


def test_costs_of_a_window_in_the_future_are_empty(web):
    future = web.local.now + pd.Timedelta("1D")
    assert len(web.costs(start=future, by="resource")) == 0 and len(web.errors()) == 0


def test_a_fleet_region_must_be_its_providers_region(s):
    with pytest.raises(cdb.ValidationError, match="region: local works in region 'local', not 'eu-west-1'") as err:
        s.create_fleet(cdb.FleetConfig("web", capacity=1).with_provider("local", "eu-west-1"))
    assert err.value.field == "region" and len(s.fleets()) == 0
    assert s.create_fleet(cdb.FleetConfig("web", capacity=1).with_provider("local", "local")).region == "local"
    with pytest.raises(cdb.ValidationError, match="region"):
        s.update_fleet(cdb.FleetConfig("web", region="us-east-1"))


def test_a_configured_local_region_is_the_one_region(tmp_path):
    with cdb.connect(local={"clock": "virtual", "path": ":memory:", "region": "lab-1"}) as s:
        assert s.create_fleet(cdb.FleetConfig("web", capacity=1, region="lab-1")).region == "lab-1"
        with pytest.raises(cdb.ValidationError, match="'lab-1'"):
            s.create_fleet(cdb.FleetConfig("api", capacity=1, region="local"))
