"""Capacity schedules on Azure as recurrence profiles of the scale set's autoscale setting, through
Microsoft's SDK against ``fake_azure()`` (which holds the set in the profile in effect)."""

from __future__ import annotations

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.errors import NotSupportedError
from clusterdb_nb.testing import FakeAzure, fake_azure

WEB = cdb.FleetConfig("web", "Web tier", capacity=3, provider="azure")
BERLIN = "Europe/Berlin"


@pytest.fixture
def cloud():
    with fake_azure() as c:
        yield c


@pytest.fixture
def s(cloud: FakeAzure):
    with cdb.connect(azure=cloud.config()) as session:
        session.create_fleet(WEB)
        yield session


def setting(cloud: FakeAzure) -> dict:
    return next(iter(cloud.autoscale_settings.values()))


def test_a_schedule_is_a_weekly_recurrence_profile_with_a_windows_time_zone(s, cloud):
    made = s.schedule_capacity("web", cron="0 19 * * MON-FRI", capacity=0, timezone=BERLIN, name="night")
    assert made.provider == "azure"
    profiles = setting(cloud)["properties"]["profiles"]
    assert [p["name"] for p in profiles] == ["clusterdb", "night"]  # the first holds the count the fleet had
    assert profiles[0]["capacity"] == {"minimum": "3", "maximum": "3", "default": "3"}
    night = profiles[1]
    assert night["capacity"] == {"minimum": "0", "maximum": "0", "default": "0"}
    assert night["recurrence"] == {
        "frequency": "Week",
        "schedule": {
            "timeZone": "W. Europe Standard Time",
            "days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
            "hours": [19],
            "minutes": [0],
        },
    }
    row = s.schedules().iloc[0]
    assert (row["name"], row["cron"], row["timezone"], row["capacity"]) == ("night", "0 19 * * MON-FRI", BERLIN, 0)
    assert s.fleet("web").auto_scaling is None  # schedules alone are no policy


def test_the_fake_holds_the_set_in_the_profile_in_effect(s, cloud):
    s.schedule_capacity("web", cron="0 19 * * *", capacity=0, timezone="UTC", name="night")
    s.schedule_capacity("web", cron="0 7 * * *", capacity=2, timezone="UTC", name="morning")
    day = cloud.now.normalize() + pd.Timedelta(days=1)
    cloud.advance(day + pd.Timedelta(hours=20) - cloud.now)
    assert s.fleet("web").capacity == 0
    cloud.advance(pd.Timedelta(hours=12))  # 08:00 the next day
    assert s.fleet("web").capacity == 2


def test_an_autoscaled_fleet_keeps_its_rules_within_the_schedule_bounds(s, cloud):
    s.configure_auto_scaling("web", cdb.AutoScalingConfig(min_capacity=1, max_capacity=6))
    s.schedule_capacity("web", cron="0 7 * * MON-FRI", capacity=4, timezone=BERLIN, name="day", min_capacity=2)
    profiles = setting(cloud)["properties"]["profiles"]
    day = profiles[1]
    assert day["capacity"] == {"minimum": "2", "maximum": "6", "default": "4"}
    assert len(day["rules"]) == len(profiles[0]["rules"]) > 0
    s.configure_auto_scaling("web", cdb.AutoScalingConfig(min_capacity=1, max_capacity=8))  # the schedule stays
    assert s.schedules().name.tolist() == ["day"] and s.fleet("web").auto_scaling.max_capacity == 8


@pytest.mark.parametrize("cron", ["0 19 1 * *", "0 19 * 1 *", "0 19 * * FRI#2", "0 19 * * 5L"])
def test_what_a_weekly_recurrence_cannot_say_is_refused_before_any_call(s, cloud, cron):
    with pytest.raises(NotSupportedError, match="repeat weekly"):
        s.schedule_capacity("web", cron=cron, capacity=0)
    assert cloud.autoscale_settings == {}


def test_delete_removes_the_profile_and_its_tag(s, cloud):
    s.schedule_capacity("web", cron="0 19 * * *", capacity=0, name="night")
    s.schedule_capacity("web", cron="0 7 * * *", capacity=3, name="morning")
    s.delete_schedule("web", "night")
    assert [p["name"] for p in setting(cloud)["properties"]["profiles"]] == ["clusterdb", "morning"]
    assert not any(k.endswith("night") for k in setting(cloud)["tags"])
    assert s.schedules().name.tolist() == ["morning"]


def test_dry_run_makes_no_setting(s, cloud):
    plan = s.schedule_capacity("web", cron="0 19 * * MON-FRI", capacity=0, timezone=BERLIN, dry_run=True)
    assert plan.hourly_cost_after_usd == 0.0 and plan.hourly_cost_before_usd > 0
    assert cloud.autoscale_settings == {}
