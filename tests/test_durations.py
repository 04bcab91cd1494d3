"""One duration, period, time and window parser for the whole package (clusterdb_nb.durations)."""

import importlib
from datetime import timedelta

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb import durations
from clusterdb_nb.autoscaling import options, traces


@pytest.mark.parametrize(
    "value, expected",
    [("1d 6h", 108000.0), ("30min", 1800.0), ("PT5M", 300.0), (90, 90.0), (timedelta(hours=1), 3600.0), (0, 0.0)],
)
def test_durations_read_text_numbers_and_timedeltas(value, expected):
    assert durations.seconds(value) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "soon", None, True, -1, "-5min", "3651d"])
def test_bad_durations_name_the_field(value):
    with pytest.raises(cdb.ValidationError) as err:
        durations.seconds(value, "advance")
    assert err.value.field == "advance"


def test_whole_seconds_and_their_floor():
    assert durations.whole_seconds("2min", "cooldown") == 120
    with pytest.raises(cdb.ValidationError, match="cooldown: must be a whole number of seconds"):
        durations.whole_seconds("1500ms", "cooldown")
    with pytest.raises(cdb.ValidationError, match="step: must be a whole number of seconds, at least 1"):
        durations.whole_seconds(0, "step", minimum=1)


def test_periods_and_fixed_periods():
    assert durations.period_length("5min") == pd.Timedelta("5min")
    assert durations.period_length("1MS") > pd.Timedelta("28D")  # a calendar period, on average
    with pytest.raises(cdb.ValidationError, match="no fixed length"):
        durations.period_length("1W", fixed=True)
    with pytest.raises(cdb.ValidationError, match="period: 'often' is not a pandas frequency"):
        durations.period_length("often")


def test_times_and_windows():
    assert durations.timestamp("2026-01-05 10:00", "start") == pd.Timestamp("2026-01-05 10:00", tz="UTC")
    with pytest.raises(cdb.ValidationError, match="end: '2300-01-01' is not a time between 1970 and 2250"):
        durations.timestamp("2300-01-01", "end")
    t = pd.Timestamp("2026-01-05", tz="UTC")
    durations.check_window(t, t)  # an empty window is allowed, on every provider
    with pytest.raises(cdb.ValidationError, match="start: .* is after end"):
        durations.check_window(t + pd.Timedelta("1h"), t)


def test_every_caller_uses_the_one_parser():
    """The old parsers are gone; their callers answer with the shared rules and wording."""
    assert not hasattr(importlib.import_module("clusterdb_nb.providers.local.clock"), "parse_duration")
    assert not hasattr(importlib.import_module("clusterdb_nb.frames"), "period_length")
    assert not hasattr(importlib.import_module("clusterdb_nb.session"), "_timestamp")
    assert not hasattr(importlib.import_module("clusterdb_nb.manager"), "_check_window")
    with pytest.raises(cdb.ValidationError, match="step: must be a whole number of seconds, at least 1"):
        traces.step_seconds("500ms")
    with pytest.raises(cdb.ValidationError, match="boot_seconds: must be between 0 and 86400 seconds"):
        options.boot_seconds_of(86401)
    with pytest.raises(cdb.ValidationError, match="instance_warmup: 'soon' is not a duration"):
        options.AwsOptions(instance_warmup="soon")
    assert options.AwsOptions(instance_warmup="PT2M").instance_warmup == 120
