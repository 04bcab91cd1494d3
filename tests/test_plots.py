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
    traces = {t.name: t for t in fig.data}
    cpu, capacity, desired, events = (traces[n] for n in ("CPU %", "running instances", "desired capacity", "scaling events"))
    util = busy.utilization("web")
    assert list(cpu.y) == pytest.approx(util["cpu_percent"].tolist(), nan_ok=True)
    assert capacity.yaxis == "y2" and capacity.line.shape == "hv" and list(capacity.y) == util["running"].tolist()
    assert desired.name == "desired capacity" and list(desired.y) == util["desired_capacity"].tolist()
    activities = busy.scaling_activities("web")
    assert list(events.y) == activities["to_capacity"].tolist() and events.mode == "markers"
    assert [sh.y0 for sh in fig.layout.shapes] == [60]  # the target line
    assert fig.layout.template.layout.colorway[0] == "#2563eb"  # our template
    assert fig.layout.xaxis.title.text == "time (UTC)" and fig.layout.yaxis.title.text == "CPU utilization (%)"
    n, k = len(util), len(activities)
    assert summarize(fig).startswith(
        f"CPU %: scatter, {n} points\nrunning instances: scatter, {n} points\ndesired capacity: scatter, {n} points\n"
    )
    assert f"scaling events: scatter, {k} points" in summarize(fig)
    scaled_in = busy.local.history("web").query("state == 'terminated'")
    assert len(traces["instance terminated"].x) == len(scaled_in) > 0  # the autoscaler's scale-in, marked


def test_stopped_and_terminated_instances_are_marked(busy):
    ids = busy.instances("batch")["id"].tolist()
    busy.stop_instance(ids[0])
    busy.terminate_instance(ids[1])
    busy.local.advance("10min")
    fig = busy.plot_utilization("batch", period="1min")
    marks = {t.name: list(t.customdata[:, 0]) for t in fig.data if t.name.startswith("instance ")}
    assert marks == {"instance stopped": [ids[0]], "instance terminated": [ids[1]]}


def test_figures_follow_the_theme():
    from clusterdb_nb import plots

    try:
        plots.set_theme("dark")
        dark = plots.template()
        assert dark.layout.paper_bgcolor == "#111111" and dark.layout.font.color == "#e5e7eb"
    finally:
        plots.set_theme("light")
    assert plots.template().layout.paper_bgcolor == "#ffffff"
    with pytest.raises(cdb.ValidationError, match="theme: 'blue'"):
        plots.set_theme("blue")


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
