"""The tuning widget: sliders redraw the simulation, the front moves the sliders, Apply shows the plan first."""

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import example_trace
from clusterdb_nb.plots import bucket_for


@pytest.fixture(scope="module")
def tuner():
    return cdb.tuner(example_trace(), provider="aws", instance_type="m5.large", targets=[50, 70], cooldowns=[60, 300])


def figure(output):
    return output.outputs[0]["data"]["application/vnd.plotly.v1+json"]


def test_the_sliders_start_at_the_recommendation_and_redraw_the_simulation(tuner):
    best = tuner.result.recommended
    assert (tuner.target.value, tuner.cooldown.value) == (best.target_cpu_utilization, best.cooldown_seconds)
    before = figure(tuner.simulation)["data"][1]["y"]
    other = 50.0 if tuner.target.value == 70.0 else 70.0
    tuner.target.value = other
    sim = figure(tuner.simulation)
    assert f"{other:g}%" in sim["layout"]["title"]["text"] and sim["data"][1]["y"] != before
    assert f"<b>{other:g}% / {tuner.cooldown.value} s</b>" in tuner.numbers.value and "min saturated" in tuner.numbers.value


def test_two_months_are_aggregated_to_the_width_with_a_range_slider(tuner):
    sim = figure(tuner.simulation)
    assert sim["layout"]["xaxis"]["rangeslider"]["visible"] is True
    assert len(sim["data"][0]["x"]) <= 600 and "per 3 h" in sim["data"][0]["name"]  # not 90,000 one-minute points
    assert sim["layout"]["xaxis"]["title"]["text"] == "time (UTC)"
    assert "days, 2014-05-14 to 2014-07-15" in sim["layout"]["title"]["text"]  # the title says the period shown
    assert (bucket_for(pd.Timedelta("2h")), bucket_for(pd.Timedelta("14D"))) == ("1min", "1h")


def test_the_pareto_chart_names_each_policy_and_keeps_the_star_inside(tuner):
    pareto = tuner.pareto.to_dict()
    traces = {t["name"]: t for t in pareto["data"]}
    assert {"policies", "Pareto front", "recommended", "selected"} <= set(traces)
    assert all(text.startswith("target ") for text in traces["policies"]["text"])
    assert pareto["layout"]["yaxis"]["range"][0] < 0  # a star at 0 minutes saturated is not cut in half


def test_picking_a_policy_on_the_front_moves_the_sliders(tuner):
    index = tuner.front.options[-1][1]
    tuner.front.value = index
    row = tuner.result.table.loc[index]
    assert (tuner.target.value, tuner.cooldown.value) == (row["target_cpu_utilization"], row["cooldown_seconds"])
    assert tuner.selected_row() == index


def click(fig, trace_name, point):
    """What plotly's front end sends when a point is clicked: the same message, without a browser."""
    trace_index = [t.name for t in fig.data].index(trace_name)
    trace = fig.data[trace_index]
    fig._js2py_pointsCallback = {
        "event_type": "plotly_click",
        "points": {
            "trace_indexes": [trace_index],
            "point_indexes": [point],
            "xs": [trace.x[point]],
            "ys": [trace.y[point]],
        },
        "device_state": {"ctrl": False, "alt": False, "shift": False, "meta": False, "button": 0, "buttons": 1},
    }


def test_clicking_a_point_of_the_pareto_chart_selects_its_policy():
    t = cdb.tuner(example_trace(), provider="aws", instance_type="m5.large", targets=[50, 70], cooldowns=[60, 300])
    table = t.result.table
    best = t.result.recommended
    other = next(
        i
        for i, r in table.iterrows()
        if (r["target_cpu_utilization"], r["cooldown_seconds"]) != (best.target_cpu_utilization, best.cooldown_seconds)
    )
    point = list(t.pareto.data[0].customdata).index(other)  # the "policies" trace, in table order
    click(t.pareto, "policies", point)
    row = table.loc[other]
    assert (t.target.value, t.cooldown.value) == (row["target_cpu_utilization"], row["cooldown_seconds"])
    assert t.selected_row() == other
    assert f"<b>{row['target_cpu_utilization']:g}% / {row['cooldown_seconds']} s</b>" in t.numbers.value
    ring = next(tr for tr in t.pareto.data if tr.name == "selected")
    assert list(ring.customdata) == [other]  # the chart redrew with the clicked policy ringed
    assert t.front.value == (other if other in set(t.result.table.index[table["pareto"]]) else None)
    # the redrawn chart's points answer clicks too: the star brings the recommendation back
    click(t.pareto, "recommended", 0)
    assert (t.target.value, t.cooldown.value) == (best.target_cpu_utilization, best.cooldown_seconds)
    assert t.front.value == t.selected_row()  # the recommendation is on the front: the list follows the chart


def test_a_click_on_empty_space_changes_nothing(tuner):
    before = (tuner.target.value, tuner.cooldown.value)
    tuner.pareto._js2py_pointsCallback = {
        "event_type": "plotly_click",
        "points": {"trace_indexes": [], "point_indexes": [], "xs": [], "ys": []},
        "device_state": None,
    }
    assert (tuner.target.value, tuner.cooldown.value) == before


def test_apply_to_fleet_shows_the_plan_then_applies_on_confirm(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=3))
    t = s.tuner("web", example_trace(), targets=[60], cooldowns=[300])
    t.apply.click()
    assert "configure_auto_scaling" in t.plan.value and t.confirm.layout.display == ""
    assert s.fleet("web").auto_scaling is None  # nothing applied yet
    t.confirm.click()
    policy = s.fleet("web").auto_scaling
    assert (policy.target_cpu_utilization, policy.cooldown_seconds) == (60, 300)
    assert t.status.text == "web now scales to 60% CPU, cooldown 300 s"


def test_a_fleet_is_tuned_on_its_own_utilization(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=4))
    with pytest.raises(cdb.ValidationError, match="has no utilization yet"):
        s.tuner("web")
    s.local.advance("6h")
    t = s.tuner("web", targets=[50, 70], cooldowns=[300])
    assert t.instance_type == "t3.medium" and t.max_capacity == 8 and len(t.result.table) == 2


def test_the_snapshot_stands_in_for_both_charts(tuner):
    from clusterdb_nb.ui.static import CHART, snapshot

    assert snapshot(tuner).count(CHART) == 2  # the simulation and the clickable Pareto chart
