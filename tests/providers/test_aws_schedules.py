"""Capacity schedules on AWS as Auto Scaling scheduled actions, checked in moto's account.

moto (5.x) stores and returns every field of a scheduled action, TimeZone included; it
does not run them (no clock), so firing is the local cloud's and the simulator's to test.
"""

from __future__ import annotations

import pytest
from aws_moto import provider

import clusterdb_nb as cdb
from clusterdb_nb.errors import NotFoundError, NotSupportedError

pytest_plugins = ["aws_moto"]  # moto fixtures: aws_env, mocked, raw, role, aws

WEB = cdb.FleetConfig("web", capacity=3, min_capacity=1, max_capacity=6, instance_type="t3.medium")


def actions(raw, fleet="web"):
    found = raw.autoscaling.describe_scheduled_actions(AutoScalingGroupName=fleet)["ScheduledUpdateGroupActions"]
    return {a["ScheduledActionName"]: a for a in found}


def test_a_schedule_is_a_recurring_scheduled_action_with_its_time_zone(aws, raw):
    aws.create_fleet(WEB)
    made = aws.schedule_capacity("web", cron="0 19 * * MON-FRI", capacity=0, timezone="Europe/Berlin", name="night")
    assert made.provider == "aws" and (made.min_capacity, made.max_capacity) == (0, 6)
    action = actions(raw)["night"]
    assert action["Recurrence"] == "0 19 * * MON-FRI" and action["TimeZone"] == "Europe/Berlin"
    assert (action["DesiredCapacity"], action["MinSize"], action["MaxSize"]) == (0, 0, 6)
    aws.schedule_capacity("web", cron="0 7 * * MON-FRI", capacity=3, timezone="Europe/Berlin", name="morning")
    table = aws.schedules().set_index("name")
    assert table.loc["morning", ["capacity", "min_capacity", "max_capacity"]].tolist() == [3, 1, 6]
    assert table.loc["night", "timezone"] == "Europe/Berlin" and str(table.next_run.dt.tz) == "UTC"


def test_put_again_replaces_the_action(aws, raw):
    aws.create_fleet(WEB)
    aws.schedule_capacity("web", cron="0 19 * * *", capacity=0, name="night")
    aws.schedule_capacity("web", cron="30 20 * * *", capacity=1, name="night")
    assert [(a["Recurrence"], a["DesiredCapacity"]) for a in actions(raw).values()] == [("30 20 * * *", 1)]


def test_actions_we_cannot_express_are_left_out_of_the_listing(aws, raw):
    aws.create_fleet(WEB)
    raw.autoscaling.put_scheduled_update_group_action(
        AutoScalingGroupName="web", ScheduledActionName="One_Time", StartTime="2030-01-01T00:00:00Z", DesiredCapacity=2
    )
    raw.autoscaling.put_scheduled_update_group_action(
        AutoScalingGroupName="web", ScheduledActionName="Foreign_Name", Recurrence="0 1 * * *", DesiredCapacity=2
    )
    aws.schedule_capacity("web", cron="0 19 * * *", capacity=0, name="night")
    assert aws.schedules().name.tolist() == ["night"]


def test_dry_run_names_the_aws_call_and_creates_nothing(aws, raw):
    aws.create_fleet(WEB)
    plan = aws.schedule_capacity("web", cron="0 19 * * MON-FRI", capacity=0, timezone="Europe/Berlin", dry_run=True)
    assert "autoscaling:PutScheduledUpdateGroupAction(" in plan.calls[0].call
    assert "TimeZone='Europe/Berlin'" in plan.calls[0].call
    assert plan.hourly_cost_after_usd == 0.0 and plan.hourly_cost_before_usd > 0
    assert actions(raw) == {}


def test_delete_removes_the_action(aws, raw):
    aws.create_fleet(WEB)
    aws.schedule_capacity("web", cron="0 19 * * *", capacity=0, name="night")
    aws.delete_schedule("web", "night")
    assert actions(raw) == {} and aws.schedules().empty
    with pytest.raises(NotFoundError, match="no schedule 'night'"):
        aws.delete_schedule("web", "night")


def test_a_schedule_on_a_missing_group_makes_no_call(aws, raw):
    calls = []
    provider(aws).clients.client("autoscaling").meta.events.register(
        "before-call.auto-scaling.PutScheduledUpdateGroupAction", lambda **kw: calls.append(kw)
    )
    with pytest.raises(NotFoundError):
        aws.schedule_capacity("ghost", cron="0 19 * * *", capacity=0)
    assert calls == []
    aws.create_fleet(WEB)
    aws.schedule_capacity("web", cron="0 19 * * *", capacity=0)
    assert len(calls) == 1  # the listener does see the call when there is one


@pytest.mark.parametrize("cron", ["0 19 L * *", "0 19 * * FRI#2", "0 19 * * 5L"])
def test_cron_marks_aws_recurrence_lacks_are_refused_before_any_call(aws, raw, cron):
    aws.create_fleet(WEB)
    with pytest.raises(NotSupportedError, match="plain Unix cron"):
        aws.schedule_capacity("web", cron=cron, capacity=0)
    assert actions(raw) == {}
    aws.schedule_capacity("web", cron="0 19 * JUL WED", capacity=0)  # names are fine
    assert len(actions(raw)) == 1
