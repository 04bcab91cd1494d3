"""Cross-provider migration on two local clouds: plan, rolling and blue/green, health gates, pause, resume,
rollback, persistence across sessions, the lease, and the capacity invariants read back from the fleets' own
scaling history."""

from __future__ import annotations

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb import MigrationConfig
from clusterdb_nb.migration import engine
from clusterdb_nb.migration.store import default_path

LOCAL = {"clock": "virtual", "seed": 7}
MEMORY = {**LOCAL, "path": ":memory:"}
C, B = 5, 2  # the source's capacity and the batch size of most tests
PRICE = 0.0416  # t3.medium


def two_clouds(tmp_path=None) -> cdb.ComputeSession:
    if tmp_path is None:
        return cdb.connect(local=MEMORY, local_b={"kind": "local", **MEMORY})
    return cdb.connect(
        local={**LOCAL, "path": str(tmp_path / "a.db")}, local_b={"kind": "local", **LOCAL, "path": str(tmp_path / "b.db")}
    )


@pytest.fixture
def s():
    with two_clouds() as session:
        session.create_fleet(cdb.FleetConfig("web", capacity=C, min_capacity=2, max_capacity=10, instance_type="t3.medium"))
        session.local.advance("2min")
        yield session


def config(**changes) -> MigrationConfig:
    return MigrationConfig(
        **{"source_fleet": "web", "target_provider": "local_b", "batch_size": B, "grace_period": "1min", **changes}
    )


def capacity_over_time(s: cdb.ComputeSession) -> pd.DataFrame:
    """Both fleets' desired capacity at the end of each moment, from each fleet's own scaling history."""
    both = pd.concat([_activities(s, p) for p in ("local", "local_b")], ignore_index=True).sort_values("time", kind="stable")
    wide = both.pivot_table(index="time", columns="provider", values="to_capacity", aggfunc="last").ffill().fillna(0)
    wide["total"] = wide.sum(axis=1)
    return wide


def _activities(s, provider) -> pd.DataFrame:
    """Every capacity change of fleet web on ``provider`` (also of a fleet deleted since), read from its store."""
    store = s.manager.providers[provider].store
    with store.reading() as db:
        rows = db.execute("SELECT at, to_capacity FROM fleet_events WHERE fleet = 'web' ORDER BY seq").fetchall()
    df = pd.DataFrame(rows, columns=["time", "to_capacity"])
    df["provider"] = provider
    return df


def assert_within(s: cdb.ComputeSession, m, low: int, high: int) -> None:
    """Both fleets together stay within [low, high] after every step (the migration's history) and at the end
    of every moment (the fleets' own scaling history)."""
    started = m.history()["time"].iloc[0].timestamp()
    moments = capacity_over_time(s)
    during = moments[moments.index >= started]
    assert during["total"].between(low, high).all(), during
    moved = m.history().query("event in ('scale', 'create', 'bounds')")
    assert moved["total_capacity"].between(low, high).all(), m.history()


# -- plan ------------------------------------------------------------------------------------------------
def test_dry_run_returns_the_priced_plan_and_calls_no_cloud(s):
    calls: list[str] = []
    s.manager.call_listeners.append(lambda provider, operation, seconds, error: calls.append(operation))
    plan = s.create_migration(config(), dry_run=True)
    assert not [c for c in calls if not c.startswith(("get_", "list_"))]
    assert plan["action"].iloc[0] == "set source web on local's bounds to [0, 10]"
    assert plan["action"].iloc[1] == "create target web on local_b at 0 (t3.medium, tags of the source)"
    assert plan[["source_capacity", "target_capacity"]].values.tolist()[2:5] == [[5, 2], [5, 2], [3, 2]]
    assert plan[["source_capacity", "target_capacity"]].values.tolist()[-1] == [0, 5]
    assert plan["action"].iloc[-1] == "delete source web on local"
    assert (plan["source_capacity"] + plan["target_capacity"]).between(C, C + B).all()
    assert plan.attrs["hourly_cost_before_usd"] == pytest.approx(C * PRICE)
    assert plan.attrs["hourly_cost_peak_usd"] == pytest.approx((C + B) * PRICE)
    assert plan.attrs["hourly_cost_after_usd"] == pytest.approx(C * PRICE)
    gates = plan[plan["action"].str.startswith("wait")]
    assert len(gates) == 3 and (gates["est_seconds"] == 60 + 40).all()  # grace + the local cloud's boot time
    extra = (2 + 2 + 1) * PRICE * 100 / 3600  # the batch above C runs while each gate waits
    assert plan.attrs["transition_cost_usd"] == pytest.approx(extra, abs=1e-6)
    assert s.fleets()["provider"].tolist() == ["local"] and s.migrations().empty


def test_a_cloud_target_gets_the_catalogs_equivalent_type():
    from clusterdb_nb.migration.plan import target_type

    fleet = cdb.models.Fleet(
        id="web",
        name="web",
        provider="local",
        region="local",
        instance_type="t3.medium",
        capacity=1,
        min_capacity=0,
        max_capacity=2,
    )
    assert target_type(fleet, "gcp", "us-central1", None) == "e2-medium"
    assert target_type(fleet, "aws", "eu-west-1", None) == "t3.medium"
    assert target_type(fleet, "local", "local", None) == "t3.medium"
    assert target_type(fleet, "gcp", "us-central1", "n2-standard-2") == "n2-standard-2"
    with pytest.raises(cdb.ValidationError, match="target_instance_type"):
        target_type(fleet, "mycloud", "x", None)


# -- rolling and blue/green ----------------------------------------------------------------------------------
def test_rolling_moves_the_fleet_and_keeps_capacity_within_one_batch(s):
    seen: list[int] = []
    m = s.create_migration(config(health_check=lambda df: seen.append(len(df)) or True))
    assert m.status == "planned" and m.progress == 0.0
    m.run(progress=False)
    assert m.status == "completed" and m.progress == 1.0 and m.reason == ""
    assert seen == [2, 4, 5]  # the check saw the target's running instances at each gate
    assert_within(s, m, C, C + B)
    fleets = s.fleets()
    assert fleets[["name", "provider", "capacity", "min_capacity", "max_capacity", "instance_type"]].values.tolist() == [
        ["web", "local_b", 5, 2, 10, "t3.medium"]
    ]
    assert fleets["tags"].iloc[0] == {"migrated-from": "local/web", "migration": m.id}
    s.local.advance("1min")
    assert s.instances()["provider"].tolist() == ["local_b"] * 5


def test_blue_green_brings_up_the_whole_target_before_draining_the_source(s):
    m = s.create_migration(config(strategy="blue_green", keep_source=True))
    m.run(progress=False)
    history = m.history()
    assert history.query("event == 'gate passed'")[["source_capacity", "target_capacity"]].values.tolist() == [[5, 5]]
    assert "switch" in history["event"].tolist()
    assert history["total_capacity"].max() == 2 * C
    assert_within(s, m, C, 2 * C)
    kept = s.fleet("web", provider="local")
    assert (kept.capacity, kept.min_capacity) == (0, 0)  # kept, empty
    assert s.fleet("web", provider="local_b").capacity == C


def test_a_failing_health_gate_pauses_and_rollback_restores_the_source(s):
    m = s.create_migration(config(health_check=lambda df: False))
    m.run(progress=False)
    assert m.status == "paused"
    assert m.reason == "health gate: the health check returned False for 2 target instance(s)"
    assert s.fleet("web", provider="local").capacity == C  # nothing was taken from the source
    m.rollback(progress=False)
    assert m.status == "rolled_back" and m.phase == "rollback"
    assert_within(s, m, C, C + B)
    source = s.fleet("web", provider="local")
    assert (source.capacity, source.min_capacity, source.max_capacity) == (C, 2, 10)  # bounds restored
    assert s.fleets()["provider"].tolist() == ["local"]  # the target fleet the migration created is gone
    with pytest.raises(cdb.ConflictError, match="rolled_back"):
        m.resume()


def test_a_health_check_that_raises_pauses_with_its_message(s):
    def broken(df):
        raise RuntimeError("probe refused")

    m = s.create_migration(config(health_check=broken))
    m.run(progress=False)
    assert (m.status, m.reason) == ("paused", "health gate: the health check raised RuntimeError: probe refused")


def test_rollback_midway_gives_back_batch_by_batch(s):
    m = s.create_migration(config(batch_size=1))
    while m.history()["target_capacity"].max() < 3:
        if not m.step():
            s.local.advance("10s")
    m.pause()
    assert m.status == "paused" and 0 < m.progress < 1
    m.rollback(progress=False)
    assert m.status == "rolled_back"
    assert_within(s, m, C, C + 1)
    assert s.fleet("web", provider="local").capacity == C and s.fleets()["provider"].tolist() == ["local"]


def test_step_does_what_it_can_without_waiting(s):
    m = s.create_migration(config())
    assert m.step() is True  # bounds, create, scale target to 2; then the gate waits
    assert m.status == "running" and m.steps_done == (3, 13)
    assert m.step() is False  # nothing booted yet: the clock has not moved
    s.local.advance("2min")
    assert m.step() is True and m.steps_done == (6, 13)


def test_run_times_out_on_the_clock_it_waits_on_and_can_go_on(s):
    m = s.create_migration(config(grace_period="10min"))
    with pytest.raises(cdb.WaitTimeoutError, match="waits at step 4"):
        m.run(timeout="5min", progress=False)
    assert m.status == "running"
    m.run(progress=False)
    assert m.status == "completed"


def test_ctrl_c_leaves_it_paused_and_resumable(s):
    calls = []

    def interrupted_once(df):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return True

    m = s.create_migration(config(health_check=interrupted_once))
    with pytest.raises(KeyboardInterrupt):
        m.run(progress=False)
    assert (m.status, m.reason) == ("paused", "interrupted")
    m.resume().run(progress=False)
    assert m.status == "completed"
    assert_within(s, m, C, C + B)


def test_a_cloud_error_fails_the_migration_and_resume_retries(s, monkeypatch):
    real = s.update_fleet_capacity

    def quota(fleet, capacity, **kw):
        if kw.get("provider") == "local_b" and capacity == 4:
            raise cdb.QuotaExceededError("Failed to scale", provider="local_b", operation="update_fleet_capacity")
        return real(fleet, capacity, **kw)

    monkeypatch.setattr(s, "update_fleet_capacity", quota)
    m = s.create_migration(config())
    with pytest.raises(cdb.QuotaExceededError):
        m.run(progress=False)
    assert m.status == "failed" and m.reason == "QuotaExceededError: Failed to scale"
    monkeypatch.setattr(s, "update_fleet_capacity", real)
    m.resume().run(progress=False)
    assert m.status == "completed"
    assert_within(s, m, C, C + B)


def test_a_crash_mid_step_resumes_without_repeating_anything(s, monkeypatch):
    real = s.update_fleet_capacity

    def dies_after_the_call(fleet, capacity, **kw):
        result = real(fleet, capacity, **kw)
        if kw.get("provider") == "local" and capacity == 3:
            raise SystemExit("kernel died")  # after the cloud call, before the migration saved it
        return result

    monkeypatch.setattr(s, "update_fleet_capacity", dies_after_the_call)
    m = s.create_migration(config())
    with pytest.raises(SystemExit):
        m.run(progress=False)
    monkeypatch.setattr(s, "update_fleet_capacity", real)
    again = s.migration(m.id)
    assert again.status == "running"
    again.run(progress=False)
    assert again.status == "completed"
    assert_within(s, again, C, C + B)
    source_events = _activities(s, "local")["to_capacity"].tolist()
    assert source_events == [C, 3, 1, 0, 0]  # created, two batches, the last, deleted: the crashed step not doubled


# -- persistence and the lease ---------------------------------------------------------------------------------
def test_pause_in_one_session_resume_in_another(tmp_path):
    with two_clouds(tmp_path) as a:
        a.create_fleet(cdb.FleetConfig("web", capacity=C, instance_type="t3.medium"))
        a.local.advance("2min")
        m = a.create_migration(config(health_check=lambda df: True))
        m.step()
        a.local.advance("2min")
        m.step()
        m.pause()
        mid = m.id
    with two_clouds(tmp_path) as b:
        listed = b.migrations()
        assert listed[["id", "status", "step", "steps", "source_capacity", "target_capacity"]].values.tolist() == [
            [mid, "paused", 5, 11, 3, 4]
        ]
        assert listed["progress"].iloc[0] == pytest.approx(2 / C)
        forgot = b.migration(mid).resume()  # the check was code: not stored
        forgot.run(progress=False)
        assert forgot.status == "paused" and "health check is not stored" in forgot.reason
        m = b.migration(mid, health_check=lambda df: len(df) >= 4)
        m.resume().run(progress=False)
        assert m.status == "completed"
        assert b.fleets()[["provider", "capacity"]].values.tolist() == [["local_b", C]]
    assert (tmp_path / "migrations.sqlite").exists()


def test_two_sessions_cannot_drive_one_migration(tmp_path):
    with two_clouds(tmp_path) as a, two_clouds(tmp_path) as b:
        a.create_fleet(cdb.FleetConfig("web", capacity=2, instance_type="t3.medium"))
        a.local.advance("2min")
        refused = []

        def meanwhile(df):  # runs inside a's run(): b tries to drive the same migration
            try:
                b.migration(m.id).step()
            except cdb.ConflictError as err:
                refused.append(err.message)
            return True

        m = a.create_migration(config(health_check=meanwhile))
        m.run(progress=False)
        assert m.status == "completed"
        assert refused and "is being driven by another session" in refused[0]
        assert b.migration(m.id).status == "completed"  # reading is free


def test_one_fleet_moves_in_one_migration_at_a_time(s):
    first = s.create_migration(config())
    with pytest.raises(cdb.ConflictError, match=f"already being migrated by {first.id}"):
        s.create_migration(config(target_fleet="web-2"))
    first.pause()
    first.rollback(progress=False)
    assert s.create_migration(config()).status == "planned"


def test_the_store_sits_beside_the_local_state_file(tmp_path, monkeypatch):
    assert default_path([":memory:", str(tmp_path / "x" / "b.db")]) == str(tmp_path / "x" / "migrations.sqlite")
    assert default_path([":memory:"]) == ":memory:"  # a throwaway session
    monkeypatch.setenv("CLUSTERDB_HOME", str(tmp_path / "home"))
    assert default_path([]) == str(tmp_path / "home" / "migrations.sqlite")  # no local cloud: the data folder


# -- bad configs: refused before any cloud changes -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field", "match"),
    [
        ({"batch_size": 0}, "batch_size", "greater than or equal to 1"),
        ({"batch_size": 1.5}, "batch_size", "must be an integer"),
        ({"strategy": "canary"}, "strategy", "'rolling' or 'blue_green'"),
        ({"grace_period": -1}, "grace_period", "greater than or equal to 0"),
        ({"grace_period": "soon"}, "grace_period", "not a duration"),
        ({"health_check": "yes"}, "health_check", "must be a function"),
        ({"source_fleet": "Web"}, "source_fleet", "lowercase"),
        ({"source_provider": "local_b"}, "target_provider", "already on 'local_b'"),
        ({"colour": "blue"}, "colour", "Extra inputs"),
    ],
)
def test_the_model_refuses_bad_configs(changes, field, match):
    with pytest.raises(cdb.ValidationError, match=match) as err:
        config(**changes)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("changes", "error", "field", "match"),
    [
        ({"target_provider": "local"}, cdb.ValidationError, "target_provider", "already on 'local'"),
        (
            {"target_provider": "gcp"},
            cdb.ValidationError,
            "target_provider",
            "not a configured provider; configured: local, local_b",
        ),
        ({"source_provider": "aws"}, cdb.ValidationError, "source_provider", "not a configured provider"),
        ({"target_region": "eu-west-1"}, cdb.ValidationError, "target_region", "works in region 'local'"),
        ({"target_instance_type": "t9.huge"}, cdb.ValidationError, None, "t9.huge"),
        ({"source_fleet": "api"}, cdb.NotFoundError, None, "no fleet 'api'"),
    ],
)
def test_the_session_refuses_configs_the_clouds_cannot_take(s, changes, error, field, match):
    before = s.scaling_activities("web")
    with pytest.raises(error, match=match) as err:
        s.create_migration(config(**changes))
    if field:
        assert err.value.field == field
    assert s.scaling_activities("web").equals(before) and s.migrations().empty


def test_an_existing_target_an_ambiguous_source_and_an_autoscaled_source_are_refused(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=1, provider="local_b"))
    with pytest.raises(cdb.ValidationError, match="exists in local, local_b") as err:
        s.create_migration(MigrationConfig(source_fleet="web", target_provider="local_b", target_fleet="web-2"))
    assert err.value.field == "source_provider"
    with pytest.raises(cdb.ConflictError, match="fleet 'web' already exists on local_b"):
        s.create_migration(config(source_provider="local", target_fleet=None))
    s.configure_auto_scaling("web", {"min_capacity": 1, "max_capacity": 8}, provider="local")
    with pytest.raises(cdb.ConflictError, match="auto-scaling policy"):
        s.create_migration(config(source_provider="local", target_fleet="web-2"))


def test_rollback_never_deletes_a_fleet_the_migration_did_not_create(s):
    m = s.create_migration(config())
    s.create_fleet(cdb.FleetConfig("web", capacity=1, provider="local_b"))  # someone else's, made after the plan
    m.rollback(progress=False)
    assert m.status == "rolled_back" and s.fleet("web", provider="local_b").capacity == 1


def test_a_completed_migration_cannot_be_rolled_back(s):
    m = s.create_migration(config())
    m.run(progress=False)
    with pytest.raises(cdb.ConflictError, match="is completed: nothing to roll back"):
        m.rollback()
    with pytest.raises(cdb.ConflictError, match="nothing to pause"):
        m.pause()
    assert "completed" in repr(m)


def test_unknown_migration_id_is_not_found(s):
    with pytest.raises(cdb.NotFoundError, match="no migration 'mig-nope'"):
        s.migration("mig-nope")


# -- the figure ---------------------------------------------------------------------------------------------------
def test_the_figure_shows_both_fleets_and_their_total(s):
    m = s.create_migration(config())
    m.run(progress=False)
    fig = m.figure()
    assert [t.name for t in fig.data] == ["web on local", "web on local_b", "both fleets"]
    assert list(fig.data[2].y) == m.history()["total_capacity"].tolist()
    assert max(fig.data[1].y) == C and fig.data[0].y[0] == C


def test_the_poll_interval_is_documented():
    assert engine.POLL_SECONDS == 5.0 and "POLL_SECONDS" in engine.__doc__
