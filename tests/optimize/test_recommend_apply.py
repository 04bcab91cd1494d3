"""s.apply: the plan first (a dry run changes nothing), then the calls through the session."""

from __future__ import annotations

import pandas as pd
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
    assert "would run 1 call(s); -0.3840 $/h" in str(plan) and "hourly cost: $0.7680 -> $0.3840" in str(plan)
    assert repr(plan) == "<Applied rightsize batch: would run 1 call(s); -0.3840 $/h>" and "<pre" in plan._repr_html_()


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


def office_hours() -> pd.Series:
    load = constant(3.0)
    load[(load.index.hour >= 8) & (load.index.hour < 20)] = 60.0
    return load


def test_a_schedule_is_planned_then_applied_and_runs_on_the_clock():
    with cdb.connect(local=VIRTUAL) as t:
        run(t, {"office": (cdb.FleetConfig("office", capacity=4, instance_type="t3.large", provider="local"), office_hours())})
        rec = t.recommendations(window="7d", kinds="schedule").iloc[0]
        plan = t.apply(rec, dry_run=True)
        assert [p.operation for p in plan.plans] == ["schedule_capacity", "schedule_capacity"]
        assert plan.hourly_cost_delta_usd == pytest.approx(-3 * 0.0832)  # the off-hours' saving; the morning's is none
        assert t.schedules().empty
        t.apply(rec)
        listed = t.schedules()
        assert sorted(listed["name"]) == ["off-hours-2000", "on-hours-0800"]
        assert sorted(listed["cron"]) == ["0 20 * * *", "0 8 * * *"]  # busy weekend days: every day
        t.local.advance("20h5min")  # Monday 20:05
        assert t.fleet("office").capacity == 1
        t.local.advance("12h")  # Tuesday 08:05
        assert t.fleet("office").capacity == 4
        assert t.recommendations(window="7d", kinds="schedule").empty  # scheduled now: not found again


def migration(source: str, target: str, batch: int = 1) -> Recommendation:
    fields = {"source_fleet": "batch", "source_provider": source, "target_provider": target, "strategy": "rolling",
              "batch_size": batch}  # fmt: skip
    return Recommendation(
        kind="cross_cloud",
        provider=source,
        fleet="batch",
        resource="batch",
        evidence={},
        evidence_text="",
        calls=[Call(method="create_migration", args=[Spec(model="MigrationConfig", fields=fields)])],
        monthly_savings_usd=1.0,
        risk="high",
        confidence="low",
    )


def test_a_migration_is_planned_then_created_and_runs():
    two = {"local-b": {"kind": "local", "clock": "virtual", "seed": 8, "path": ":memory:"}}
    with cdb.connect(local=VIRTUAL, **two) as t:
        run(t, {"batch": (cdb.FleetConfig("batch", capacity=2, instance_type="m5.large", provider="local"), constant(50.0))})
        rec = migration("local", "local-b")
        assert rec.action == (
            "s.create_migration(MigrationConfig(source_fleet='batch', source_provider='local', target_provider='local-b', "
            "strategy='rolling', batch_size=1))"
        )
        plan = t.apply(rec, dry_run=True)
        (steps,) = [result for _, result in plan.steps]
        assert isinstance(steps, pd.DataFrame) and len(steps) > 0  # the migration's own plan, step by step
        assert t.migrations().empty
        done = t.apply(rec)
        (moved,) = [result for _, result in done.steps]
        assert moved.status == "planned" and len(t.migrations()) == 1
        moved.run(progress=False)
        assert moved.status == "completed"
        assert t.fleet("batch", provider="local-b").capacity == 2


def test_a_call_is_one_of_the_changes_a_recommendation_may_make():
    with pytest.raises(cdb.ValidationError) as err:
        Call(method="delete_fleet", args=["batch"])
    assert err.value.field == "method" and "update_fleet" in err.value.message
    with pytest.raises(cdb.ValidationError) as err:
        Spec(model="Fleet", fields={})
    assert err.value.field == "model"
