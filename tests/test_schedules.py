"""Capacity schedules: the model, the manager's pre-flight, and the local cloud firing them on its clock."""

from __future__ import annotations

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb import frames
from clusterdb_nb.errors import NotFoundError, NotSupportedError, ValidationError
from clusterdb_nb.providers.capabilities import Feature

BERLIN = "Europe/Berlin"


def night_and_morning(s: cdb.ComputeSession, fleet: str = "web", day: int = 4) -> None:
    s.schedule_capacity(fleet, cron="0 19 * * MON-FRI", capacity=0, timezone=BERLIN, name="night")
    s.schedule_capacity(fleet, cron="0 7 * * MON-FRI", capacity=day, timezone=BERLIN, name="morning")


# -- the model ------------------------------------------------------------------------------------
def test_a_schedule_names_itself_from_its_cron_and_capacity():
    sched = cdb.CapacitySchedule(fleet="web", cron="0 19 * * MON-FRI", capacity=0, timezone=BERLIN)
    assert sched.name == "web-to-0-at-0-19-x-x-mon-fri"
    assert cdb.CapacitySchedule(fleet="web", cron="*/15 7-9 * * *", capacity=2).name == "web-to-2-at-x-15-7-9-x-x-x"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"cron": "0 25 * * *"}, "cron", "Bad hour"),
        ({"cron": "0 19 * * FRIYAY"}, "cron", "Bad day-of-week"),
        ({"cron": "@daily"}, "cron", "5 fields"),
        ({"cron": "0 0 19 * * MON-FRI"}, "cron", "5 fields"),
        ({"timezone": "Europe/Berlín"}, "timezone", "IANA time zone"),
        ({"timezone": "CEST"}, "timezone", "IANA time zone"),
        ({"timezone": "../../etc/passwd"}, "timezone", "IANA time zone"),
        ({"capacity": -1}, "capacity", "greater than or equal to 0"),
        ({"capacity": True}, "capacity", "integer"),
        ({"name": "Night_Shift"}, "name", "lowercase letters"),
        ({"min_capacity": 2}, "capacity", "min_capacity"),
        ({"capacity": 5, "max_capacity": 4}, "capacity", "max_capacity"),
        ({"fleet": "Web"}, "fleet", "lowercase letters"),
    ],
)
def test_bad_schedules_are_refused_by_the_model_naming_the_field(changes, field, words):
    with pytest.raises(ValidationError) as err:
        cdb.CapacitySchedule(**{"fleet": "web", "cron": "0 19 * * MON-FRI", "capacity": 0, **changes})
    assert err.value.field == field and words in err.value.message


def test_next_run_follows_the_time_zone_across_dst():
    sched = cdb.CapacitySchedule(fleet="web", cron="0 19 * * MON-FRI", capacity=0, timezone=BERLIN)
    # Friday 27 March 2026 is CET (UTC+1); Berlin moves to CEST (UTC+2) on Sunday 29 March.
    assert sched.next_run("2026-03-27 12:00") == pd.Timestamp("2026-03-27 18:00", tz="UTC")
    assert sched.next_run("2026-03-27 18:00") == pd.Timestamp("2026-03-30 17:00", tz="UTC")  # strictly after; Monday
    assert sched.next_run(pd.Timestamp("2026-03-30 17:00", tz="UTC").timestamp()) == pd.Timestamp("2026-03-31 17:00", tz="UTC")
    week = sched.runs("2026-03-23", "2026-03-30 23:00")
    assert [t.strftime("%a %H:%M") for t in week] == [
        "Mon 18:00",
        "Tue 18:00",
        "Wed 18:00",
        "Thu 18:00",
        "Fri 18:00",
        "Mon 17:00",
    ]


# -- the local cloud -----------------------------------------------------------------------------
@pytest.fixture
def web(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=4, min_capacity=2, max_capacity=8, instance_type="t3.medium"))
    return s


def test_a_week_of_virtual_time_fires_every_weekday_at_19_berlin_across_dst():
    with cdb.connect(local={"clock": "virtual", "seed": 7, "path": ":memory:", "start": "2026-03-23T00:00:00Z"}) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=4, instance_type="t3.medium"))
        night_and_morning(s)
        s.local.advance("8D6h")  # Mon 23 March .. Tue 31 March 06:00 UTC: DST starts on Sunday 29
        acts = s.scaling_activities("web")
    night = acts[acts.reason.str.startswith("schedule night:")]
    assert night.time.dt.strftime("%a %d %H:%M").tolist() == [
        "Mon 23 18:00", "Tue 24 18:00", "Wed 25 18:00", "Thu 26 18:00", "Fri 27 18:00", "Mon 30 17:00",
    ]  # fmt: skip
    assert (night.to_capacity == 0).all()
    morning = acts[acts.reason.str.startswith("schedule morning:")]
    assert morning.time.dt.strftime("%a %d %H:%M").tolist() == [
        "Mon 23 06:00", "Tue 24 06:00", "Wed 25 06:00", "Thu 26 06:00", "Fri 27 06:00", "Mon 30 05:00", "Tue 31 05:00",
    ]  # fmt: skip
    assert "'0 19 * * MON-FRI' Europe/Berlin sets capacity 0" in night.reason.iloc[0]


def test_night_zero_lowers_the_minimum_and_the_morning_restores_it(web):
    night_and_morning(web)
    table = web.schedules("web").set_index("name")
    assert table.loc["night", ["capacity", "min_capacity", "max_capacity"]].tolist() == [0, 0, 8]
    assert table.loc["morning", ["capacity", "min_capacity", "max_capacity"]].tolist() == [4, 2, 8]
    web.local.advance("19h")  # the virtual clock starts on Monday 5 January 2026, 00:00 UTC = 01:00 Berlin
    fleet = web.fleet("web")
    assert (fleet.capacity, fleet.min_capacity, fleet.max_capacity, fleet.running) == (0, 0, 8, 0)
    web.local.advance("12h")  # past 07:00 Berlin on Tuesday
    fleet = web.fleet("web")
    assert (fleet.capacity, fleet.min_capacity, fleet.max_capacity) == (4, 2, 8)


def test_the_night_saves_what_the_costs_say(web):
    """From Monday 00:00 UTC for 7 days, 4 instances are off four weeknights (12 h each) and from
    Friday 19:00 Berlin to the end of Sunday (54 h): (4 x 12 + 54) x 4 instance-hours fewer."""
    plain = cdb.connect(local={"clock": "virtual", "seed": 7, "path": ":memory:"})
    plain.create_fleet(cdb.FleetConfig("web", capacity=4, min_capacity=2, max_capacity=8, instance_type="t3.medium"))
    night_and_morning(web)
    for session in (web, plain):
        session.local.advance("7D")
    price = cdb.catalog.lookup("t3.medium").on_demand_usd
    saved = plain.costs().cost_usd.sum() - web.costs().cost_usd.sum()
    plain.close()
    assert saved == pytest.approx((4 * 12 + 54) * 4 * price, rel=0.01)


def test_schedules_frame_has_its_schema_and_next_run_in_utc(web):
    assert web.schedules().columns.tolist() == list(frames.SCHEDULES)
    assert web.schedules().empty
    night_and_morning(web)
    table = web.schedules()
    assert table.columns.tolist() == list(frames.SCHEDULES)
    assert str(table.next_run.dt.tz) == "UTC"
    assert table.set_index("name").next_run.to_dict() == {
        "morning": pd.Timestamp("2026-01-05 06:00", tz="UTC"),
        "night": pd.Timestamp("2026-01-05 18:00", tz="UTC"),
    }
    assert set(table.provider) == {"local"} and set(table.timezone) == {BERLIN}


def test_a_schedule_with_the_same_name_replaces_the_old_one(web):
    web.schedule_capacity("web", cron="0 19 * * MON-FRI", capacity=0, name="night")
    web.schedule_capacity("web", cron="0 20 * * *", capacity=1, name="night")
    assert web.schedules().cron.tolist() == ["0 20 * * *"]


def test_dry_run_shows_the_call_and_the_hourly_cost_before_and_after_it_fires(web):
    plan = web.schedule_capacity("web", cron="0 19 * * MON-FRI", capacity=0, timezone=BERLIN, dry_run=True)
    price = cdb.catalog.lookup("t3.medium").on_demand_usd
    assert isinstance(plan, cdb.Plan) and plan.operation == "schedule_capacity"
    assert plan.hourly_cost_before_usd == pytest.approx(4 * price) and plan.hourly_cost_after_usd == 0.0
    assert "first fires 2026-01-05 18:00 UTC" in str(plan)
    assert web.schedules().empty  # nothing created


def test_a_schedule_on_a_fleet_that_does_not_exist_is_refused(s):
    with pytest.raises(NotFoundError, match="no fleet 'ghost'"):
        s.schedule_capacity("ghost", cron="0 19 * * *", capacity=0)
    assert s.schedules().empty


def test_bounds_beyond_the_provider_are_refused_before_any_call(web):
    with pytest.raises(ValidationError, match="largest fleet") as err:
        web.schedule_capacity("web", cron="0 7 * * *", capacity=20_000)
    assert err.value.field == "capacity"


def test_invalid_cron_and_timezone_fail_before_the_fleet_is_looked_up(s):
    with pytest.raises(ValidationError, match="cron"):
        s.schedule_capacity("ghost", cron="0 7 * *", capacity=0)
    with pytest.raises(ValidationError, match="timezone"):
        s.schedule_capacity("ghost", cron="0 7 * * *", capacity=0, timezone="Berlin")


def test_delete_a_schedule_and_it_no_longer_fires(web):
    night_and_morning(web)
    assert web.delete_schedule("web", "night", dry_run=True).operation == "delete_schedule"
    assert len(web.schedules()) == 2
    web.delete_schedule("web", "night")
    assert web.schedules().name.tolist() == ["morning"]
    web.local.advance("2D")
    assert not web.scaling_activities("web").reason.str.startswith("schedule night").any()
    with pytest.raises(NotFoundError, match="no schedule 'night'"):
        web.delete_schedule("web", "night")


def test_deleting_a_fleet_deletes_its_schedules(web):
    night_and_morning(web)
    web.delete_fleet("web")
    assert web.schedules().empty
    web.create_fleet(cdb.FleetConfig("web", capacity=1))  # a new fleet of the same name inherits nothing
    web.local.advance("2D")
    assert web.schedules().empty and web.fleet("web").capacity == 1


def test_schedules_survive_a_new_session_on_the_same_state_file(tmp_path):
    cfg = {"clock": "virtual", "seed": 7, "path": str(tmp_path / "state.db")}
    with cdb.connect(local=cfg) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=3))
        night_and_morning(s)
    with cdb.connect(local=cfg) as s:
        s.local.advance("19h")
        assert s.fleet("web").capacity == 0 and len(s.schedules()) == 2


@pytest.mark.parametrize("kind", ["aws", "gcp", "azure", "kubernetes"])
def test_a_night_schedule_holds_an_autoscaled_fleet_at_zero_and_the_morning_hands_it_back(kind):
    """The firing sets the policy's bounds too (AWS: MinSize/MaxSize), so no engine scales the fleet straight back."""
    with cdb.connect(local={"clock": "virtual", "seed": 7, "path": ":memory:", "autoscaler": kind}) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=4, min_capacity=2, max_capacity=8, instance_type="t3.medium"))
        s.configure_auto_scaling("web", cdb.AutoScalingConfig(min_capacity=2, max_capacity=8))
        s.schedule_capacity("web", cron="0 19 * * *", capacity=0, timezone=BERLIN, name="night")
        s.schedule_capacity("web", cron="0 7 * * *", capacity=4, timezone=BERLIN, name="morning", min_capacity=2)
        s.local.advance("23h")  # 00:00 Berlin
        acts = s.scaling_activities("web")
        assert acts.time.is_monotonic_increasing  # policy decisions and the firing, in time order
        assert acts[acts.reason.str.startswith("schedule night")].time.tolist() == [pd.Timestamp("2026-01-05 18:00", tz="UTC")]
        assert acts.time.iloc[-1] == pd.Timestamp("2026-01-05 18:00", tz="UTC")  # nothing since: held at 0
        fleet = s.fleet("web")
        assert (fleet.capacity, fleet.min_capacity, fleet.auto_scaling.min_capacity) == (0, 0, 0)
        s.local.advance("8h")  # 08:00 Berlin
        fleet = s.fleet("web")
        assert fleet.auto_scaling.min_capacity == 2 and fleet.capacity >= 2


def test_a_provider_without_schedules_is_refused_with_its_reason(web):
    assert web.manager.providers["local"].supports(Feature.SCHEDULES)
    web.manager.providers["local"].not_supported = lambda request=None: {Feature.SCHEDULES: "no clock here"}  # type: ignore[method-assign]
    with pytest.raises(NotSupportedError, match="no clock here"):
        web.schedule_capacity("web", cron="0 19 * * *", capacity=0)
