"""The scaler, the instances grid and the dashboard, without a browser."""

import asyncio

import clusterdb_nb as cdb


def test_scaler_is_bounded_and_prices_the_change(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=4, min_capacity=2, max_capacity=12))
    sc = s.scaler("web")
    assert (sc.slider.min, sc.slider.max, sc.capacity.value) == (2, 10, 4)
    assert not sc.slider.readout  # the value shows once, in the number box
    assert sc.apply.disabled  # nothing to apply yet
    sc.slider.value = 10
    assert sc.capacity.value == 10  # slider and number are one value
    assert "4 → 10 instances" in sc.delta.value and "+$0.25/h" in sc.delta.value and "+$182.21/month" in sc.delta.value
    assert s.fleet("web").capacity == 4  # pricing is a dry run
    sc.apply.click()
    assert sc.status.text == "web scaled to 10" and s.fleet("web").capacity == 10
    assert sc.apply.disabled and "(no change)" in sc.delta.value and "now 10" in sc.title.value


def test_scaler_says_when_a_value_is_clamped_and_extends_the_slider(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=8))  # bounds 0–100 from the defaults
    sc = s.scaler("web")
    assert (sc.slider.min, sc.slider.max) == (0, 16)  # sized to the fleet, not 0–100
    sc.capacity.value = 999
    assert sc.capacity.value == 100 and sc.slider.value == 100 and sc.slider.max == 100
    assert "999 is above the maximum of web (0–100): set to 100" in sc.note.value
    sc.capacity.value = 75
    assert sc.note.value == "" and "8 → 75 instances" in sc.delta.value


def test_a_new_value_clears_the_last_result(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=2))
    sc = s.scaler("web")
    sc.capacity.value = 3
    sc.apply.click()
    assert sc.status.text == "web scaled to 3"
    sc.capacity.value = 5
    assert sc.status.text == "" and "3 → 5 instances" in sc.delta.value


def test_apply_in_a_running_loop_does_not_block_it(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=1))
    sc = s.scaler("web")
    sc.capacity.value = 3

    async def kernel():
        sc.apply.click()  # returns at once: the work runs as a task
        assert sc.status.bar.layout.display == ""  # progress bar shown
        await asyncio.sleep(0)
        for _ in range(200):
            if sc.status.text:
                break
            await asyncio.sleep(0.01)

    asyncio.run(kernel())
    assert sc.status.text == "web scaled to 3" and sc.status.bar.layout.display == "none"


def test_one_change_refreshes_every_open_widget(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=8))
    form, sc, d = s.fleet_form(), s.scaler("web"), s.dashboard()
    sc.capacity.value = 75
    sc.apply.click()
    assert "<td class='num'>75</td>" in form.fleets.value and "<td class='num'>75</td>" in d.fleets.value
    s.update_fleet_capacity("web", 5)  # a change made in a cell, not in a widget
    assert "now 5" in sc.title.value and "<td class='num'>5</td>" in d.fleets.value
    assert "last refreshed" in d.bar.last.value and "last refreshed" in form.bar.last.value


def test_buttons_follow_the_selection_and_stop_asks_first(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=3))
    s.local.advance("1min")
    grid = s.dashboard().instances
    ids = sorted(grid.checks)
    assert len(ids) == 3
    assert grid.start.disabled and grid.stop.disabled and grid.terminate.disabled  # nothing selected
    grid.select(ids[:2])
    assert grid.start.disabled and not grid.stop.disabled and not grid.terminate.disabled  # both run
    grid.stop.click()
    assert grid.confirm_box.layout.display == "" and s.instances(state="running")["id"].nunique() == 3  # nothing done yet
    assert (
        "Stop 2 instances?" in grid.question.value
        and "-$0.08/h" in grid.question.value
        and "-$60.74/month" in grid.question.value
    )
    grid.confirm.click()
    assert grid.status.text == f"stop: {ids[0]} → stopping, {ids[1]} → stopping"
    assert sorted(s.instances(state="stopping")["id"]) == ids[:2]
    assert grid.confirm_box.layout.display == "none"


def test_cancel_does_nothing_and_terminate_names_the_replacement(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=1))
    s.local.advance("1min")
    grid = s.dashboard().instances
    grid.select(list(grid.checks))
    grid.terminate.click()
    assert "replaced to keep the fleet's capacity" in grid.question.value
    grid.cancel.click()
    assert grid.confirm_box.layout.display == "none" and len(s.instances(state="running")) == 1


def test_the_grid_filters_and_sorts(s):
    s.create_fleet(cdb.FleetConfig("api", capacity=2))
    s.create_fleet(cdb.FleetConfig("web", capacity=1))
    s.local.advance("1min")
    grid = s.dashboard().instances
    grid.filter.value = "web"
    assert grid.shown()["fleet"].tolist() == ["web"] and len(grid.checks) == 1
    grid.filter.value = ""
    grid.descending.value = True
    assert grid.shown()["fleet"].tolist() == ["web", "api", "api"]
    grid.select_all.value = True
    assert len(grid.selected()) == 3


def test_on_the_wall_clock_a_stop_waits_for_the_states_to_settle(monkeypatch):
    s = cdb.connect(local={"path": ":memory:", "boot_seconds": 0.5, "stop_seconds": 0.5})
    try:
        s.create_fleet(cdb.FleetConfig("web", capacity=1), wait=True)
        grid = s.dashboard().instances
        grid.select(list(grid.checks))
        seen = []
        monkeypatch.setattr(grid.status, "progress", lambda done, total, label: seen.append((done, total, label)))
        grid.stop.click()
        grid.confirm.click()
        assert grid.status.text.endswith("→ stopped") and seen and seen[-1][:2] == (1, 1)
    finally:
        s.close()


def test_dashboard_shows_costs_sized_to_the_data_and_a_chart(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=2))
    s.local.advance("38min")
    d = s.dashboard()
    assert "web" in d.costs.value and d.costs_by.description == "Group by"
    figure = d.costs_chart.outputs[0]["data"]["application/vnd.plotly.v1+json"]
    assert "per 5min" in figure["layout"]["title"]["text"] and len(figure["data"][0]["x"]) >= 7
    assert figure["layout"]["showlegend"] is True
    d.costs_by.value = "instance_type"
    assert "t3.medium" in d.costs.value
    assert d.fleet_picker.value == "web"
    assert d.chart.outputs and "application/vnd.plotly.v1+json" in d.chart.outputs[0]["data"]


def test_dashboard_failure_is_a_short_message(s, monkeypatch):
    s.create_fleet(cdb.FleetConfig("web", capacity=1))
    d = s.dashboard()
    grid = d.instances
    grid.select(list(grid.checks))
    assert grid.stop.disabled and grid.start.disabled and not grid.terminate.disabled  # pending: only terminate applies
    s.local.advance("1min")
    d.refresh()
    grid.select(list(grid.checks))

    def refused(iid, dry_run=False):
        raise cdb.ConflictError(f"cannot stop instance {iid} while it is stopping", operation="stop_instance")

    monkeypatch.setattr(s, "stop_instance", refused)
    grid._act("stop")
    assert d.status.text.startswith("cannot stop instance") and "Wait for the resource to settle" in d.status.text
    assert "Traceback" not in d.status.message.value
