"""The runbook's scenario (notebook 10): a week of virtual load on three local fleets, then the recommendations."""

from __future__ import annotations

import pytest
from week_scenario import week

import clusterdb_nb as cdb


@pytest.fixture(scope="module")
def s():
    session = week(cdb.connect(local={"clock": "virtual", "seed": 7, "path": ":memory:"}))
    yield session
    session.close()


def test_a_week_finds_the_rightsizing_the_schedule_and_the_autoscaling_policy(s):
    df = s.recommendations(window="7d")
    assert sorted(zip(df["kind"], df["fleet"])) == [("autoscaling", "batch"), ("rightsize", "batch"), ("schedule", "office")]
    found = df.set_index("kind")
    assert found.loc["rightsize", "details"]["proposed_type"] == "m5.large"
    assert found.loc["rightsize", "monthly_savings_usd"] == pytest.approx(280.32, abs=0.5)  # 4 x ($0.192 - $0.096) x 730
    schedule = found.loc["schedule", "details"]
    assert schedule["night_hours"] == "20:00-08:00" and schedule["weekend_off"] and schedule["off_capacity"] == 1
    assert found.loc["schedule", "monthly_savings_usd"] == pytest.approx(3 * 108 * 0.0832 * 730 / 168, rel=0.01)
    autoscaling = found.loc["autoscaling", "details"]
    assert autoscaling["savings_percent"] > 50 and found.loc["autoscaling", "monthly_savings_usd"] > 280
    assert "api" not in set(df["fleet"])  # steady at 55 %: nothing to gain
    print(df[["kind", "fleet", "monthly_savings_usd", "risk", "confidence"]].to_string())
