"""simulate(..., schedules=[...]): schedules fire on the trace's timeline and show in its costs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import simulate
from clusterdb_nb.errors import ValidationError

T0 = pd.Timestamp("2026-01-05T00:00:00Z")  # a Monday; Berlin is UTC+1 in January
WEEK = pd.Series(40.0, index=pd.date_range(T0, periods=7 * 24 * 12, freq="5min"))  # steady load, 5-minute points
FIXED = cdb.AutoScalingConfig(min_capacity=4, max_capacity=4)  # a fleet of 4 that autoscaling leaves alone
NIGHT = cdb.CapacitySchedule(fleet="web", cron="0 19 * * MON-FRI", capacity=0, timezone="Europe/Berlin", name="night")
MORNING = cdb.CapacitySchedule(fleet="web", cron="0 7 * * MON-FRI", capacity=4, timezone="Europe/Berlin", name="morning")


def run(schedules=None, provider="aws"):
    return simulate(WEEK, FIXED, provider=provider, instance_type="t3.medium", initial_capacity=4,
                    observed_capacity=4, schedules=schedules)  # fmt: skip


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure", "kubernetes"])
def test_a_night_at_zero_lowers_the_cost_by_the_hours_off(provider):
    """Off four weeknights (12 h each) and from Friday 19:00 Berlin to the trace's end on Sunday (54 h)."""
    plain, scheduled = run(provider=provider), run([NIGHT, MORNING], provider)
    price = cdb.catalog.lookup("t3.medium").on_demand_usd
    assert plain.summary.instance_hours == pytest.approx(7 * 24 * 4)
    off_hours = 4 * 12 + 54
    assert plain.summary.instance_hours - scheduled.summary.instance_hours == pytest.approx(off_hours * 4)
    assert plain.summary.cost_usd - scheduled.summary.cost_usd == pytest.approx(off_hours * 4 * price)


def test_the_timeline_and_activities_show_each_firing_at_its_time():
    result = run([NIGHT, MORNING])
    timeline = result.timeline.set_index("time")
    assert timeline.capacity[pd.Timestamp("2026-01-05 17:55", tz="UTC")] == 4
    assert timeline.capacity[pd.Timestamp("2026-01-05 18:00", tz="UTC")] == 0
    assert timeline.capacity[pd.Timestamp("2026-01-06 06:00", tz="UTC")] == 4
    acts = result.activities
    night = acts[acts.reason.str.startswith("schedule night")]
    assert night.time.dt.strftime("%a %H:%M").tolist() == ["Mon 18:00", "Tue 18:00", "Wed 18:00", "Thu 18:00", "Fri 18:00"]
    assert (night.to_capacity == 0).all() and (night.from_capacity == 4).all()
    assert "bounds [0, 4]" in night.reason.iloc[0]


def test_the_policy_keeps_scaling_within_the_bounds_a_schedule_set():
    """A day schedule raising the minimum to 6 holds a fleet whose load alone would need fewer."""
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=10, target_cpu_utilization=70.0)
    day = cdb.CapacitySchedule(fleet="web", cron="0 8 * * *", capacity=6, min_capacity=6, name="day")
    night = cdb.CapacitySchedule(fleet="web", cron="0 20 * * *", capacity=1, min_capacity=1, name="night")
    result = simulate(WEEK, policy, initial_capacity=2, observed_capacity=2, schedules=[day, night])
    t = result.timeline.set_index("time").capacity
    days = t[(t.index.hour >= 9) & (t.index.hour < 20)]
    assert days.min() == 6  # the policy would scale in (load of ~0.8 instances), the schedule's minimum holds
    nights = t[(t.index.hour >= 22) | (t.index.hour < 8)]
    assert nights.max() < 6 and nights.iloc[-1] >= 1


def test_schedules_must_be_a_list_of_schedules():
    with pytest.raises(ValidationError, match="schedules"):
        run(NIGHT)
    with pytest.raises(ValidationError, match="cron"):
        run([{"cron": "0 25 * * *", "capacity": 0}])
    assert run([{"cron": "0 19 * * MON-FRI", "capacity": 0, "timezone": "Europe/Berlin"}]).summary.instance_hours < 7 * 24 * 4


def test_no_schedules_changes_nothing():
    assert np.array_equal(run([]).timeline.capacity, run().timeline.capacity)
