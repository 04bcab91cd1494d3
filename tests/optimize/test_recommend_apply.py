"""s.apply: the plan first (a dry run changes nothing), then the calls through the session."""

from __future__ import annotations

import pytest
from week_scenario import constant, run

import clusterdb_nb as cdb
from clusterdb_nb.optimize import Applied, Call, Recommendation, Spec

VIRTUAL = {"clock": "virtual", "seed": 7, "path": ":memory:"}


@pytest.fixture
def s():
    session = cdb.connect(local=VIRTUAL)
    run(session, {"batch": (cdb.FleetConfig("batch", capacity=4, instance_type="m5.xlarge", provider="local"), constant(12.0))})
    yield session
    session.close()


def rightsize(s) -> Recommendation:
    return s.recommendations(window="7d", kinds="rightsize").iloc[0]["recommendation"]


def test_dry_run_returns_the_plan_and_calls_nothing(s, monkeypatch):
    provider = s.manager.providers["local"]

    async def refuse(*args, **kw):
        raise AssertionError("a dry run called the provider")

    monkeypatch.setattr(provider, "update_fleet", refuse)
    plan = s.apply(rightsize(s), dry_run=True)
    assert isinstance(plan, Applied) and plan.dry_run
    (step,) = plan.plans
    assert step.operation == "update_fleet" and step.hourly_cost_before_usd == pytest.approx(4 * 0.192)
    assert step.hourly_cost_after_usd == pytest.approx(4 * 0.096) and plan.hourly_cost_delta_usd == pytest.approx(-0.384)
    assert s.fleet("batch").instance_type == "m5.xlarge"
    assert "would run 1 call(s); -0.3840 $/h" in str(plan)


def test_apply_changes_the_fleet_by_row_object_or_id(s):
    df = s.recommendations(window="7d")
    by_kind = df.set_index("kind")
    done = s.apply(df[df["kind"] == "rightsize"].iloc[0])
    assert not done.dry_run and s.fleet("batch").instance_type == "m5.large"
    assert done.summary == "rightsize batch: applied 1 call(s)"
    s.apply(by_kind.loc["autoscaling", "id"])
    policy = s.fleet("batch").auto_scaling
    assert policy is not None and policy.min_capacity == 1
    assert policy.target_cpu_utilization == by_kind.loc["autoscaling", "details"]["target_cpu_utilization"]


def test_a_failing_plan_stops_before_any_change(s):
    rec = Recommendation(
        kind="rightsize",
        provider="local",
        fleet="batch",
        resource="batch",
        evidence={},
        evidence_text="",
        calls=[
            Call(method="update_fleet", args=[Spec(model="FleetConfig", fields={"name": "batch", "instance_type": "m5.large"})]),
            Call(method="update_fleet_capacity", args=["batch", 5000]),
        ],
        monthly_savings_usd=1.0,
        risk="low",
        confidence="low",
    )
    with pytest.raises(cdb.ValidationError):
        s.apply(rec)
    assert s.fleet("batch").instance_type == "m5.xlarge"  # the first call was planned, never made


def test_apply_wants_a_recommendation(s):
    with pytest.raises(cdb.ValidationError) as err:
        s.apply("rec-00000000")
    assert err.value.field == "recommendation" and "rec-00000000" in err.value.message
    with pytest.raises(cdb.ValidationError):
        s.apply({"kind": "rightsize"})


def test_action_strings_run_as_written(s):
    """The action column is code: run in a namespace with the session and the models, it does what apply does."""
    action = rightsize(s).action
    exec(action, {"s": s, "FleetConfig": cdb.FleetConfig})
    assert s.fleet("batch").instance_type == "m5.large"


def test_schedule_and_migration_need_their_session_calls(s):
    """Until this version has s.schedule_capacity / s.create_migration, applying those kinds says what is missing."""
    run_office = constant(3.0)
    run_office[(run_office.index.hour >= 8) & (run_office.index.hour < 20)] = 60.0
    with cdb.connect(local=VIRTUAL) as t:
        run(t, {"office": (cdb.FleetConfig("office", capacity=4, instance_type="t3.large", provider="local"), run_office)})
        rec = t.recommendations(window="7d", kinds="schedule").iloc[0]
        with pytest.raises(cdb.NotSupportedError, match="s.schedule_capacity is not part of this version") as err:
            t.apply(rec, dry_run=True)
        assert "schedule_capacity" in err.value.solution
    migrate = Recommendation(
        kind="cross_cloud",
        provider="local",
        fleet="batch",
        resource="batch",
        evidence={},
        evidence_text="",
        calls=[Call(method="create_migration", args=[Spec(model="MigrationConfig", fields={"source_fleet": "batch"})])],
        monthly_savings_usd=1.0,
        risk="high",
        confidence="low",
    )
    with pytest.raises(cdb.NotSupportedError, match="MigrationConfig|create_migration"):
        s.apply(migrate)
    assert s.fleet("batch").capacity == 4
