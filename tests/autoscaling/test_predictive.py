"""Predictive scaling: AWS forecast_only / forecast_and_scale, GCE predictive=True, on a simple forecast."""

import numpy as np
import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import simulate, tune
from clusterdb_nb.autoscaling.forecast import hourly_forecast

POLICY = cdb.AutoScalingConfig(min_capacity=1, max_capacity=20, target_cpu_utilization=50.0, cooldown_seconds=300)


def daily_peaks(days=4):
    """Five-minute CPU % of 4 instances: 20 %, and 90 % from 09:00 to 11:00 every day."""
    index = pd.date_range("2014-01-01", periods=days * 288, freq="5min")
    return pd.Series(np.where((index.hour >= 9) & (index.hour < 11), 90.0, 20.0), index=index)


def test_the_forecast_is_the_same_hour_of_the_previous_days():
    """The approximation: each hour's forecast is that hour's mean over the previous (up to 14) days."""
    hours = np.arange(24 * 3, dtype=float)  # hourly steps: 0, 1, 2, ... (day 1), 24, ... (day 2), ...
    forecast = hourly_forecast(hours, step=3600)
    assert np.isnan(forecast[:24]).all()  # no history on the first day
    assert forecast[24 + 5] == 5 and forecast[48 + 5] == (5 + 29) / 2
    five_minute = hourly_forecast(np.repeat(hours, 12), step=300)
    assert five_minute[(48 + 5) * 12 + 7] == (5 + 29) / 2


def test_aws_forecast_and_scale_launches_before_the_peak():
    """Target tracking alone meets each 09:00 peak after three high datapoints; with predictive scaling
    the forecast capacity (ceil(3.6 / 0.5) = 8) is there before 09:00 from the second day on."""
    trace = daily_peaks()
    plain = simulate(trace, POLICY, initial_capacity=4, observed_capacity=4)
    ahead = simulate(trace, POLICY, initial_capacity=4, observed_capacity=4, predictive="forecast_and_scale")
    peak_day2 = pd.Timestamp("2014-01-02 09:00", tz="UTC")
    cap = ahead.timeline.set_index("time")["capacity"]
    assert cap[peak_day2] >= 8 > plain.timeline.set_index("time")["capacity"][peak_day2]
    assert ahead.summary.minutes_saturated < plain.summary.minutes_saturated
    assert ahead.activities["reason"].str.contains("predictive scaling: forecast capacity 8").any()
    only = simulate(trace, POLICY, initial_capacity=4, observed_capacity=4, predictive="forecast_only")
    assert only.timeline.equals(plain.timeline) and only.forecast.max() == pytest.approx(3.6) and plain.forecast is None


def test_gce_predictive_recommends_ahead_by_the_initialization_period():
    trace = daily_peaks()
    plain = simulate(trace, POLICY, provider="gcp", initial_capacity=4, observed_capacity=4)
    ahead = simulate(trace, POLICY, provider="gcp", initial_capacity=4, observed_capacity=4, predictive=True)
    assert ahead.summary.minutes_saturated < plain.summary.minutes_saturated
    before = ahead.timeline.set_index("time")["capacity"][pd.Timestamp("2014-01-03 09:00", tz="UTC")]
    assert before >= 8


def test_tune_takes_predictive_options_and_equals_simulate():
    trace = daily_peaks()
    tuned = tune(trace, targets=[50, 70], cooldowns=[300], max_capacity=20, observed_capacity=4, predictive="forecast_and_scale")
    for _, row in tuned.table.iterrows():
        policy = cdb.AutoScalingConfig(
            min_capacity=1, max_capacity=20, target_cpu_utilization=row["target_cpu_utilization"], cooldown_seconds=300
        )
        summary = simulate(trace, policy, observed_capacity=4, predictive="forecast_and_scale").summary
        assert summary.minutes_saturated == row["minutes_saturated"] and summary.scaling_actions == row["scaling_actions"]
