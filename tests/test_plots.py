"""Charts: what they plot, checked on the figure's data."""

import pandas as pd
import plotly.graph_objects as go
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import example_trace, load_trace, simulate
from clusterdb_nb.plots import MAX_POINTS, summarize


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


# -- the autoscaling results' figures (SimulationResult.figure, TuningResult.figure) --------------------------------

POLICY = cdb.AutoScalingConfig(min_capacity=1, max_capacity=10, target_cpu_utilization=50.0, cooldown_seconds=300)


def two_weeks():
    """Notebook 03's load: the first two weeks of the shipped trace, read as 8 instances' CPU."""
    raw = pd.read_csv(example_trace("cpu_utilization_asg_misconfiguration"))
    return load_trace(raw.iloc[: 14 * 24 * 12], observed_capacity=8)


@pytest.fixture(scope="module")
def tuned():
    return cdb.tune(
        two_weeks(), targets=[40, 60, 80], cooldowns=[60, 600], min_capacity=2, max_capacity=16, instance_type="m5.large"
    )


def test_simulation_figure_shows_demand_capacity_utilization_and_target():
    # moved from tests/autoscaling/test_simulate.py: a short trace is drawn step by step
    cpu = pd.Series([40.0] * 5 + [80.0] * 10, index=pd.date_range("2024-01-01", periods=15, freq="1min"))
    scaled = simulate(cpu, POLICY, initial_capacity=4, observed_capacity=4, price_per_hour=0.5)
    fig = scaled.figure()
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["demand (instances)", "capacity", "utilization %", "target 50%"]
    assert list(fig.data[3].y) == [50.0, 50.0]
    assert list(fig.data[1].y) == scaled.timeline["capacity"].tolist()
    assert not fig.layout.xaxis.rangeslider.visible  # nothing to zoom into


def test_two_weeks_are_drawn_per_hour_with_a_range_slider_and_a_title_that_says_so():
    result = simulate(two_weeks(), POLICY, instance_type="m5.large")
    fig = result.figure()
    assert len(fig.data[0].x) <= MAX_POINTS == 600  # 337 hours, not 4,033 five-minute steps (a solid band)
    assert fig.data[0].name == "demand (instances, mean per 1 h)"
    assert max(fig.data[1].y) == result.timeline["capacity"].max()  # capacity: the peak of each hour
    assert "14.0 days, 2014-05-14 to 2014-05-28 UTC, per 1 h" in fig.layout.title.text
    assert fig.layout.xaxis.rangeslider.visible is True
    axes = (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text, fig.layout.yaxis2.title.text)
    assert axes == ("time (UTC)", "instances (count)", "utilization (%)")
    saturated = {t.name: t for t in fig.data}["saturated"]  # the peaks the hourly means smooth out
    assert sum(saturated.customdata) == result.summary.minutes_saturated > 0 and set(saturated.y) == {100.0}


def test_two_months_are_drawn_per_three_hours():
    fig = simulate(example_trace(), POLICY, observed_capacity=4).figure()
    assert len(fig.data[0].x) <= MAX_POINTS and "per 3 h" in fig.layout.title.text


def test_tuning_figure_highlights_the_front_and_the_recommendation(tuned):
    # moved from tests/autoscaling/test_tune.py
    fig = tuned.figure()
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["policies", "Pareto front", "recommended"]
    table = tuned.table
    assert len(fig.data[0].x) == len(table) and len(fig.data[1].x) == int(table["pareto"].sum()) and len(fig.data[2].x) == 1


def test_the_pareto_star_is_not_cut_and_hover_names_the_policy(tuned):
    fig = tuned.figure()
    star = {t.name: t for t in fig.data}["recommended"]
    best = tuned.recommended
    assert star.y[0] == tuned.table.loc[tuned.table["recommended"], "minutes_saturated"].iloc[0]
    assert fig.layout.yaxis.range[0] < min(star.y[0], 0) < fig.layout.yaxis.range[1]  # room below the star
    assert star.cliponaxis is False
    assert star.hovertext[0] == (
        f"recommended: target {best.target_cpu_utilization:g}%, cooldown {best.cooldown_seconds} s, "
        f"{best.min_capacity}–{best.max_capacity} instances"
    )
    assert star.text[0] == f"{best.target_cpu_utilization:g}% / {best.cooldown_seconds} s"  # labelled on the chart
    assert all(text.startswith("target ") for text in fig.data[0].text)
    assert fig.layout.xaxis.title.text == "cost over the trace (USD)" and fig.layout.xaxis.tickprefix == "$"


def test_results_figures_follow_the_theme(tuned):
    from clusterdb_nb import plots

    try:
        plots.set_theme("dark")
        assert tuned.figure().layout.template.layout.paper_bgcolor == "#111111"
    finally:
        plots.set_theme("light")
    assert tuned.figure().layout.template.layout.paper_bgcolor == "#ffffff"
