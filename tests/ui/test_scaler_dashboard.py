"""The scaler and the dashboard, without a browser."""

import asyncio

import clusterdb_nb as cdb


def test_scaler_is_bounded_and_prices_the_change(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=4, min_capacity=2, max_capacity=12))
    sc = s.scaler("web")
    assert (sc.slider.min, sc.slider.max, sc.capacity.value) == (2, 12, 4)
    assert sc.apply.disabled  # nothing to apply yet
    sc.slider.value = 10
    assert sc.capacity.value == 10  # slider and number are linked
    assert "4 → 10 instances" in sc.delta.value and "+0.2496 $/h" in sc.delta.value
    assert s.fleet("web").capacity == 4  # pricing is a dry run
    sc.apply.click()
    assert sc.status.text == "web scaled to 10" and s.fleet("web").capacity == 10
    assert sc.apply.disabled


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


def test_dashboard_acts_on_selected_instances(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=3))
    s.local.advance("1min")
    d = s.dashboard()
    assert [d.tabs.get_title(i) for i in range(5)] == ["Fleets", "Instances", "Functions", "Costs", "Utilization"]
    ids = [value for _, value in d.instance_picker.options]
    assert len(ids) == 3 and "<td>web</td>" in d.fleets.value
    d.instance_picker.value = tuple(ids[:2])
    d.stop.click()
    assert d.status.text == f"stop: {ids[0]} → stopping, {ids[1]} → stopping"
    assert sorted(s.instances(state="stopping")["id"]) == sorted(ids[:2])
    assert "stopping" in d.instances.value
    d.instance_picker.value = ()
    d.terminate.click()
    assert d.status.text == "Select one or more instances first"


def test_dashboard_shows_costs_and_a_chart(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=2))
    s.local.advance("2h")
    d = s.dashboard()
    assert "web" in d.costs.value
    d.costs_by.value = "instance_type"
    assert "t3.medium" in d.costs.value
    assert d.fleet_picker.value == "web"
    assert d.chart.outputs and "application/vnd.plotly.v1+json" in d.chart.outputs[0]["data"]


def test_dashboard_failure_is_a_short_message(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=1))
    d = s.dashboard()
    iid = d.instance_picker.options[0][1]
    d.instance_picker.value = (iid,)
    d.stop.click()  # still pending: EC2 refuses to stop a pending instance too
    assert d.status.text.startswith(f"cannot stop instance {iid} while it is pending")
