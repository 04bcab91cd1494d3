"""Traces: every accepted shape, resampling with gaps reported, and bad input rejected with the field and rule."""

import numpy as np
import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import EXAMPLE_TRACES, example_trace, load_trace, simulate, tune

POLICY = cdb.AutoScalingConfig(min_capacity=1, max_capacity=4, target_cpu_utilization=50.0, cooldown_seconds=60)


def csv(tmp_path, text):
    path = tmp_path / "trace.csv"
    path.write_text(text)
    return path


def test_every_accepted_shape_gives_the_same_demand(tmp_path):
    path = csv(tmp_path, "timestamp,value\n2014-02-14 14:30:00,20\n2014-02-14 14:35:00,80\n")
    frame = pd.read_csv(path)
    series = pd.Series([20.0, 80.0], index=pd.to_datetime(frame["timestamp"]))
    local = pd.DataFrame({"time": pd.to_datetime(frame["timestamp"], utc=True), "cpu_percent": [20.0, 80.0], "running": [2, 2]})
    traces = [
        load_trace(path, "1min", observed_capacity=2),
        load_trace(frame, "1min", observed_capacity=2),
        load_trace(series, "1min", observed_capacity=2),
        load_trace(local, "1min"),
    ]
    for trace in traces:
        # 5-minute points held over 1-minute steps, the last one for its own 5 minutes.
        assert trace.demand.tolist() == [0.4] * 5 + [1.6] * 5
        assert trace.time[0] == pd.Timestamp("2014-02-14 14:30", tz="UTC") and str(trace.time.tz) == "UTC"
    assert traces[3].observed == "the trace's running column"


def test_without_an_instance_count_the_trace_is_one_instance(tmp_path):
    trace = load_trace(csv(tmp_path, "timestamp,value\n2014-02-14 14:30:00,25\n"))
    assert trace.demand.tolist() == [0.25] and trace.observed.startswith("1 instance")


def test_gaps_are_held_and_reported():
    trace = load_trace(example_trace("ec2_cpu_utilization_825cc2"), "1min")
    assert (trace.gaps, trace.longest_gap) == (2, pd.Timedelta("10min"))
    assert len(trace) == 4032 * 5 + 2 * 5  # 4,032 five-minute points and two missing ones, at one minute
    result = simulate(example_trace("ec2_cpu_utilization_825cc2"), POLICY)
    assert (result.gaps, result.longest_gap) == (2, pd.Timedelta("10min"))


def test_samples_finer_than_the_step_are_averaged():
    series = pd.Series([10.0, 30.0, 50.0, 70.0], index=pd.date_range("2024-01-01", periods=4, freq="30s"))
    trace = load_trace(series, step="1min")
    assert trace.demand.tolist() == [0.2, 0.6] and trace.gaps == 0


def test_shipped_traces_load():
    for name in EXAMPLE_TRACES:
        assert example_trace(name).is_file()
        assert len(load_trace(example_trace(name))) > 4_000  # five-minute steps
    with pytest.raises(cdb.ValidationError, match="no example trace"):
        example_trace("nope")


@pytest.mark.parametrize(
    ("text", "field", "rule"),
    [
        ("timestamp,value\n", "trace", "at least one sample"),
        ("", "trace", "at least one sample"),
        ("timestamp,value\n2014-02-14 14:30:00,abc\n", "trace.value", "numeric CPU %"),
        ("timestamp,value\n2014-02-14 14:30:00,-1\n", "trace.value", "0 <= CPU % <= 100"),
        ("timestamp,value\n2014-02-14 14:30:00,100.5\n", "trace.value", "0 <= CPU % <= 100"),
        ("timestamp,value\n2014-02-14 14:35:00,10\n2014-02-14 14:30:00,20\n", "trace.timestamp", "sorted timestamps"),
        ("timestamp,value\n2014-02-14 14:30:00,10\n2014-02-14 14:30:00,20\n", "trace.timestamp", "unique timestamps"),
        ("timestamp,value\nyesterday-ish,10\n", "trace.timestamp", "parseable timestamps"),
        ("time,value\n2014-02-14 14:30:00,10\n", "trace", "columns timestamp,value or time,cpu_percent"),
    ],
)
def test_bad_traces_are_rejected_before_anything_runs(tmp_path, text, field, rule):
    path = csv(tmp_path, text)
    for call in (lambda: simulate(path, POLICY), lambda: tune(path, targets=[50], cooldowns=[60])):
        with pytest.raises(cdb.ValidationError) as err:
            call()
        assert (err.value.field, err.value.rule) == (field, rule)


def test_bad_series_and_other_inputs():
    with pytest.raises(cdb.ValidationError, match="empty"):
        load_trace(pd.Series([], dtype=float, index=pd.DatetimeIndex([])))
    with pytest.raises(cdb.ValidationError, match="DatetimeIndex"):
        load_trace(pd.Series([10.0, 20.0]))
    with pytest.raises(cdb.ValidationError, match="CSV path, a DataFrame or a Series"):
        load_trace([10, 20])
    with pytest.raises(cdb.ValidationError, match="cannot read"):
        load_trace("/nonexistent/trace.csv")
    with pytest.raises(cdb.ValidationError) as err:
        load_trace(pd.Series([10.0], index=pd.to_datetime(["2024-01-01"])), observed_capacity=0)
    assert err.value.field == "observed_capacity"
    with pytest.raises(cdb.ValidationError) as err:
        load_trace(pd.Series([10.0], index=pd.to_datetime(["2024-01-01"])), step="90ms")
    assert err.value.field == "step"


def test_missing_values_count_as_gaps():
    series = pd.Series([10.0, np.nan, 30.0], index=pd.date_range("2024-01-01", periods=3, freq="1min"))
    trace = load_trace(series)
    assert trace.demand.tolist() == [0.1, 0.1, 0.3] and (trace.gaps, trace.longest_gap) == (1, pd.Timedelta("2min"))


def test_the_step_defaults_to_the_traces_own_sampling_period(tmp_path):
    """Issue 11 (4): a 5-minute trace runs at 5-minute steps unless told otherwise, and says which."""
    path = csv(tmp_path, "timestamp,value\n2014-02-14 14:30:00,20\n2014-02-14 14:35:00,80\n2014-02-14 14:40:00,50\n")
    trace = load_trace(path, observed_capacity=2)
    assert (trace.step, trace.sample_seconds) == (300, 300) and trace.demand.tolist() == [0.4, 1.6, 1.0]
    assert trace.step_note == "step 5 min: the trace's own sampling period"
    given = load_trace(path, "1min", observed_capacity=2)
    assert (given.step, given.sample_seconds) == (60, 300)
    assert given.step_note == "step 1 min (given); the trace is sampled every 5 min"
    seconds = pd.Series([10.0, 20.0, 30.0], index=pd.date_range("2024-01-01", periods=3, freq="15s"))
    assert load_trace(seconds).step == 15
    assert "step 5 min: the trace's own sampling period" in repr(simulate(path, POLICY, observed_capacity=2))
