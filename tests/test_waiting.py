"""s.wait: until fleets or instances reach a state, on the virtual clock (advanced) and the wall clock (polled)."""

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb import waiting


def test_a_new_fleet_is_waited_for_on_the_virtual_clock(s):
    s.create_fleet(cdb.FleetConfig("web").with_capacity(3))
    start = s.local.now
    rows = s.wait("web", progress=False)
    assert rows["state"].tolist() == ["running"] * 3
    assert pd.Timedelta(seconds=40) <= s.local.now - start <= pd.Timedelta(seconds=45)  # boot takes 40 s


def test_wait_true_returns_the_fleet_running_its_capacity(s):
    fleet = s.create_fleet(cdb.FleetConfig("web").with_capacity(4), wait=True)
    assert (fleet.capacity, fleet.running) == (4, 4)
    fleet = s.update_fleet_capacity("web", 2, wait=True)
    assert (fleet.capacity, fleet.running) == (2, 2)
    assert isinstance(s.update_fleet_capacity("web", 6, dry_run=True, wait=True), cdb.Plan)


def test_stop_and_start_with_wait_return_the_settled_instance(web):
    iid = web.instances()["id"].iloc[0]
    assert web.stop_instance(iid, wait=True).state == cdb.InstanceState.STOPPED
    assert web.start_instance(iid, wait=True).state == cdb.InstanceState.RUNNING


def test_timeout_lists_every_instance_not_there_and_its_state(web):
    ids = web.instances()["id"].tolist()[:2]
    web.stop_instance(ids[0])
    with pytest.raises(cdb.WaitTimeoutError) as exc:
        web.wait(ids, state="running", timeout="2min", progress=False)
    err = exc.value
    assert err.waiting == {ids[0]: "stopped"}
    assert str(err) == f"[wait] still not running after 0 days 00:02:00: {ids[0]} (stopped)"
    assert "1 of 2 instances reached running" in err.cause


def test_a_fleet_short_of_capacity_is_named_with_its_counts(web):
    web.stop_instance(web.instances()["id"].iloc[0])
    web.local.advance("1min")
    with pytest.raises(cdb.WaitTimeoutError, match=r"web-fleet \(4 of 5 running, 1 stopped\)"):
        web.wait("web-fleet", timeout="1min", progress=False)


def test_a_terminated_instance_cannot_become_running_and_fails_at_once(web):
    iid = web.instances()["id"].iloc[0]
    web.terminate_instance(iid)
    web.local.advance("1min")
    before = web.local.now
    with pytest.raises(cdb.WaitTimeoutError, match=f"cannot get there: {iid} \\(terminated\\)"):
        web.wait([iid], timeout="1h", progress=False)
    assert web.local.now == before


@pytest.mark.parametrize(
    ("targets", "state", "message"),
    [
        ("nope", "running", "targets: no fleet or instance named 'nope'"),
        ([], "running", "targets: give a fleet name or instance ids"),
        ("web-fleet", "sleeping", "state: 'sleeping' is not one of pending, running"),
    ],
)
def test_bad_targets_and_states_are_validation_errors(web, targets, state, message):
    with pytest.raises(cdb.ValidationError, match=message):
        web.wait(targets, state=state, progress=False)


def test_the_wall_clock_is_polled_with_a_growing_interval(monkeypatch):
    s = cdb.connect(local={"path": ":memory:", "boot_seconds": 3})
    try:
        s.create_fleet(cdb.FleetConfig("web").with_capacity(2))
        sleeps = []
        real_sleep = waiting.time.sleep
        monkeypatch.setattr(waiting.time, "sleep", lambda sec: sleeps.append(sec) or real_sleep(sec))
        s.wait("web", progress=False)
        assert s.fleet("web").running == 2
        assert len(sleeps) >= 2 and sleeps[1] == pytest.approx(sleeps[0] * waiting.BACKOFF)
    finally:
        s.close()


def test_interrupting_a_wait_stops_it_and_closes_the_bar(s, monkeypatch):
    s.create_fleet(cdb.FleetConfig("web").with_capacity(1))
    closed = []

    class Bar:
        def __init__(self, **kw):
            self.total, self.n = kw["total"], 0

        def set_postfix_str(self, *a, **kw):
            raise KeyboardInterrupt

        def close(self):
            closed.append(True)

    monkeypatch.setattr("tqdm.auto.tqdm", Bar)
    with pytest.raises(KeyboardInterrupt):
        s.wait("web")
    assert closed == [True]


def test_wait_true_finds_a_fleet_whose_name_another_provider_also_holds():
    memory = {"clock": "virtual", "path": ":memory:"}
    with cdb.connect(local=memory, local_b={"kind": "local", **memory}) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=1, provider="local"), wait=True)
        fleet = s.create_fleet(cdb.FleetConfig("web", capacity=3, provider="local_b"), wait=True)
        assert (fleet.provider, fleet.capacity, fleet.running) == ("local_b", 3, 3)
        fleet = s.update_fleet_capacity("web", 2, provider="local_b", wait=True)
        assert (fleet.provider, fleet.running) == ("local_b", 2)
        rows = s.wait("web", provider="local", progress=False)
        assert rows["provider"].tolist() == ["local"]
