"""Charts: what they plot, checked on the figure's data."""

import pytest

import clusterdb_nb as cdb
from clusterdb_nb.plots import summarize


@pytest.fixture
def busy(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=4))
    s.create_fleet(cdb.FleetConfig("batch", capacity=2, instance_type="c5.large"))
    s.configure_auto_scaling("web", cdb.AutoScalingConfig(min_capacity=2, max_capacity=12, target_cpu_utilization=60))
    s.local.advance("3h")
    s.update_fleet_capacity("web", 8)
    s.local.advance("3h")
    return s


def test_utilization_chart_has_cpu_target_capacity_steps_and_events(busy):
    fig = busy.plot_utilization("web")
    cpu, capacity, events = fig.data
    util = busy.utilization("web")
    assert list(cpu.y) == pytest.approx(util["cpu_percent"].tolist(), nan_ok=True)
    assert capacity.yaxis == "y2" and capacity.line.shape == "hv" and list(capacity.y) == util["running"].tolist()
    activities = busy.scaling_activities("web")
    assert list(events.y) == activities["to_capacity"].tolist() and events.mode == "markers"
    assert [sh.y0 for sh in fig.layout.shapes] == [60]  # the target line
    assert fig.layout.template.layout.colorway[0] == "#2563eb"  # our template
    n, k = len(util), len(activities)
    assert (
        summarize(fig)
        == f"CPU %: scatter, {n} points\nrunning instances: scatter, {n} points\nscaling events: scatter, {k} points"
    )


def test_utilization_chart_without_a_policy_has_no_target_line(busy):
    assert busy.plot_utilization("batch").layout.shapes == ()


def test_cost_chart_stacks_one_trace_per_group_and_adds_up(busy):
    fig = busy.plot_costs(by="fleet")
    assert fig.layout.barmode == "stack"
    assert sorted(t.name for t in fig.data) == ["batch", "web"]
    total = sum(sum(t.y) for t in fig.data)
    assert total == pytest.approx(busy.costs()["cost_usd"].sum())
    by_type = busy.plot_costs(by="instance_type")
    assert sorted(t.name for t in by_type.data) == ["c5.large", "t3.medium"]


def test_costs_over_time_buckets_sum_to_the_window(busy):
    df = busy.costs_over_time(by="provider", period="2h")
    assert df["period_start"].dt.hour.tolist() == [0, 2, 4]
    assert df["cost_usd"].sum() == pytest.approx(busy.costs(by="provider")["cost_usd"].sum())
    with pytest.raises(cdb.ValidationError, match="period"):
        busy.costs_over_time(period="often")
