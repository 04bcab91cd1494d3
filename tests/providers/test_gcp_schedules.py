"""Capacity schedules on GCP as the autoscaler's scaling schedules, against ``fake_gcp()``.

Google's REST client sends them; every body is checked against compute.v1's discovery document.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.errors import NotSupportedError
from clusterdb_nb.testing.gcp import FakeGcp, fake_gcp

SECTION = {"project_id": "demo", "credentials": "anonymous", "poll_seconds": 0.01, "retry_initial_seconds": 0.01}
WEB = cdb.FleetConfig("web", capacity=1, instance_type="e2-medium")
POLICY = cdb.AutoScalingConfig(min_capacity=0, max_capacity=6, target_cpu_utilization=60.0, cooldown_seconds=60)
BERLIN = "Europe/Berlin"


@pytest.fixture
def cloud() -> Iterator[FakeGcp]:
    with fake_gcp(validate=True) as fake:
        yield fake
    assert fake.schema_errors == []  # every request and response fitted compute.v1's discovery schemas


@pytest.fixture
def s(cloud: FakeGcp) -> Iterator[cdb.ComputeSession]:
    with cdb.connect(gcp=SECTION) as session:
        session.create_fleet(WEB)
        session.configure_auto_scaling("web", POLICY)
        yield session


def scaling_schedules(cloud: FakeGcp) -> dict:
    return cloud.autoscalers["clusterdb-web"]["autoscalingPolicy"].get("scalingSchedules", {})


def test_a_night_and_morning_pair_becomes_one_twelve_hour_scaling_schedule(s, cloud):
    s.schedule_capacity("web", cron="0 19 * * MON-FRI", capacity=0, timezone=BERLIN, name="night")
    s.schedule_capacity("web", cron="0 7 * * MON-FRI", capacity=4, timezone=BERLIN, name="morning")
    found = scaling_schedules(cloud)
    morning = found["morning"]
    assert (morning["schedule"], morning["timeZone"], morning["minRequiredReplicas"]) == ("0 7 * * MON-FRI", BERLIN, 4)
    assert morning["durationSec"] == 12 * 3600 and not morning["disabled"]
    assert found["night"]["disabled"] is True  # GCP cannot scale in on a schedule: it only ends the window
    table = s.schedules().set_index("name")
    assert table.loc["morning", "capacity"] == 4 and table.loc["night", "capacity"] == 0
    assert table.min_capacity.isna().all()  # GCP states no bounds of its own for a schedule
    assert table.loc["morning", "next_run"].tz is not None


def test_the_fake_autoscaler_keeps_the_scheduled_minimum_inside_the_window(s, cloud):
    cloud.base_units = 0.2  # a light load: by load alone, one VM
    s.schedule_capacity("web", cron="0 19 * * *", capacity=0, timezone="UTC", name="night")
    s.schedule_capacity("web", cron="0 7 * * *", capacity=5, timezone="UTC", name="morning")
    start = cloud.now.normalize() + pd.Timedelta(days=1)
    cloud.advance(start + pd.Timedelta(hours=8) - cloud.now)
    assert s.fleet("web").capacity == 5  # 08:00: inside 07:00 + 12 h, the minimum is 5
    cloud.advance(pd.Timedelta(hours=13))
    assert s.fleet("web").capacity == 1  # 21:00: the window ended, the autoscaler sizes by load again


def test_a_raising_schedule_without_its_end_is_refused_before_any_call(s, cloud):
    before = dict(cloud.autoscalers["clusterdb-web"])
    with pytest.raises(NotSupportedError, match="needs the schedule that ends it"):
        s.schedule_capacity("web", cron="0 7 * * MON-FRI", capacity=4, timezone=BERLIN)
    assert cloud.autoscalers["clusterdb-web"] == before


def test_windows_of_different_lengths_are_refused_with_the_lengths(s):
    s.schedule_capacity("web", cron="0 19 * * MON-FRI", capacity=0, timezone=BERLIN, name="night")
    with pytest.raises(NotSupportedError, match="windows of 12 h, 36 h, 60 h"):
        s.schedule_capacity("web", cron="0 7 * * *", capacity=4, timezone=BERLIN, name="morning")


def test_below_the_minimum_or_another_maximum_is_refused(s):
    s.configure_auto_scaling("web", POLICY.model_copy(update={"min_capacity": 2}))
    with pytest.raises(NotSupportedError, match=r"below its autoscaler's minimum \(2\)"):
        s.schedule_capacity("web", cron="0 19 * * *", capacity=0)
    with pytest.raises(NotSupportedError, match="cannot change the autoscaler's maximum"):
        s.schedule_capacity("web", cron="0 19 * * *", capacity=2, max_capacity=3)


def test_a_group_without_an_autoscaler_is_refused(cloud):
    with cdb.connect(gcp=SECTION) as s:
        s.create_fleet(WEB)
        with pytest.raises(NotSupportedError, match="configure_auto_scaling"):
            s.schedule_capacity("web", cron="0 19 * * *", capacity=0)


def test_reconfiguring_autoscaling_keeps_the_schedules_and_delete_removes_one(s, cloud):
    s.schedule_capacity("web", cron="0 19 * * *", capacity=0, name="night")
    s.schedule_capacity("web", cron="0 7 * * *", capacity=3, name="morning")
    s.configure_auto_scaling("web", POLICY.model_copy(update={"max_capacity": 8}))
    assert set(scaling_schedules(cloud)) == {"night", "morning"}
    plan = s.delete_schedule("web", "morning", dry_run=True)
    assert "regionAutoscalers.update" in plan.calls[0].call
    s.delete_schedule("web", "morning")
    assert set(scaling_schedules(cloud)) == {"night"} and s.schedules().name.tolist() == ["night"]


def test_deleting_the_schedule_that_ends_a_window_is_refused_while_the_window_is_there(s, cloud):
    s.schedule_capacity("web", cron="0 19 * * *", capacity=0, name="night")
    s.schedule_capacity("web", cron="0 7 * * *", capacity=3, name="morning")
    before = scaling_schedules(cloud)
    with pytest.raises(cdb.ConflictError, match="'night' ends the window of 'morning'") as err:
        s.delete_schedule("web", "night")
    assert "Delete 'morning' first" in err.value.solution
    assert scaling_schedules(cloud) == before  # nothing changed
    s.delete_schedule("web", "morning")
    s.delete_schedule("web", "night")
    assert scaling_schedules(cloud) == {} and s.schedules().empty


def test_dry_run_names_the_autoscaler_update(s, cloud):
    s.schedule_capacity("web", cron="0 19 * * *", capacity=0, name="night")
    plan = s.schedule_capacity("web", cron="0 7 * * *", capacity=3, name="morning", dry_run=True)
    assert "regionAutoscalers.update(autoscaler='clusterdb-web', scalingSchedule='morning'" in plan.calls[0].call
    assert set(scaling_schedules(cloud)) == {"night"}
