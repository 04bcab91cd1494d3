"""The handle every offline fake shares: clock, faults, quotas, latency, and serving through responses."""

import re

import pandas as pd
import pytest
import requests

import clusterdb_nb as cdb
from clusterdb_nb.testing import FakeCloud


class Echo(FakeCloud):
    FAULTS = frozenset({"throttle", "server_error"})

    def routes(self):
        def answer(request):
            fault = self.take_fault({"throttle", "server_error"}, request.url)
            if fault:
                return (429 if fault == "throttle" else 500), {}, fault
            return 200, {"Content-Type": "text/plain"}, self.now.isoformat()

        yield "GET", re.compile(r"https://echo\.example\.com/.*"), answer


def test_the_clock_advances_by_a_duration_and_refuses_nonsense():
    cloud = Echo()
    start = cloud.now
    assert cloud.advance("5min") - start == pd.Timedelta("5min")
    with pytest.raises(cdb.ValidationError):
        cloud.advance(float("nan"))


def test_an_injected_fault_fails_only_the_matching_calls_it_was_given():
    cloud = Echo()
    cloud.inject("throttle", times=2, match="/slow")
    with cloud.serving():
        assert requests.get("https://echo.example.com/fast").status_code == 200
        assert [requests.get("https://echo.example.com/slow").status_code for _ in range(3)] == [429, 429, 200]
    assert len(cloud.calls) == 4


@pytest.mark.parametrize("fault, times", [("stockout", 1), ("throttle", 0), ("throttle", True)])
def test_unknown_faults_and_counts_are_refused(fault, times):
    with pytest.raises(cdb.ValidationError):
        Echo().inject(fault, times=times)


def test_a_fake_can_follow_a_session_clock():
    with cdb.connect(local={"clock": "virtual", "path": ":memory:"}) as s:
        cloud = Echo()
        cloud.follow(lambda: s.local.now)
        s.local.advance("1h")
        assert cloud.now == s.local.now
        with pytest.raises(cdb.ValidationError, match="follows"):
            cloud.advance("1min")
