"""The sync session: works inside a running event loop and a real Jupyter kernel; DataFrames; display."""

import asyncio
import threading

import nbformat
import pytest
from nbclient import NotebookClient

import clusterdb_nb as cdb
from clusterdb_nb.frames import COSTS, FLEETS, FUNCTIONS


def test_quickstart_flow(s):
    fleet = s.create_fleet(
        cdb.FleetConfig("web-fleet", "Web Application Fleet")
        .with_capacity(5)
        .with_instance_type("t3.medium")
        .with_tags({"environment": "dev", "owner": "me"})
    )
    assert fleet.tags == {"environment": "dev", "owner": "me"}
    assert len(s.fleets()) == 1 and len(s.instances()) == 5
    s.update_fleet_capacity("web-fleet", 8)
    assert len(s.instances(fleet="web-fleet")) == 8
    s.local.advance("2h")
    assert len(s.utilization("web-fleet")) == 24
    assert s.costs()["cost_usd"].sum() > 0


def test_sync_calls_work_inside_a_running_event_loop(s):
    async def cell():
        # a notebook cell runs while the kernel's loop is running
        s.create_fleet(cdb.FleetConfig("web", capacity=2))
        fleets = await s.manager.list_fleets()
        return s.fleets(), fleets

    df, fleets = asyncio.run(cell())
    assert df["name"].tolist() == ["web"] and [f.name for f in fleets] == ["web"]


def test_sync_call_from_the_sessions_own_loop_raises_instead_of_deadlocking(s):
    async def inside():
        return s.fleets()

    with pytest.raises(RuntimeError, match="await s.manager"):
        s._runner.run(inside())


def test_all_sync_calls_share_one_loop_thread(s):
    async def where():
        return threading.current_thread()

    first, second = s._runner.run(where()), s._runner.run(where())
    assert first is second and first is not threading.main_thread()


def test_sync_and_await_in_a_real_jupyter_kernel():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import clusterdb_nb as cdb\n"
                "s = cdb.connect(local={'clock': 'virtual', 'seed': 7, 'path': ':memory:'})\n"
                "s.create_fleet(cdb.FleetConfig('web-fleet').with_capacity(3))\n"
                "fleet = await s.manager.create_fleet(cdb.FleetConfig('api', capacity=2))\n"
                "print(len(s.instances()), fleet.capacity)"
            ),
            nbformat.v4.new_code_cell("s"),
        ]
    )
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert nb.cells[0].outputs[0]["text"].strip() == "5 2"
    html = nb.cells[1].outputs[0]["data"]["text/html"]
    assert "ComputeSession" in html and "<td>local</td>" in html and "<td>5</td>" in html


def test_empty_frames_have_the_same_columns(s):
    assert list(s.fleets().columns) == list(FLEETS)
    assert list(s.functions().columns) == list(FUNCTIONS)
    assert list(s.costs(by="resource").columns) == list(COSTS)
    assert s.costs().columns.tolist() == ["provider", "fleet", "resources", "running_hours", "requests", "cost_usd", "source"]
    assert len(s.errors()) == 0


def test_bad_arguments_are_validation_errors(web):
    with pytest.raises(cdb.ValidationError, match="state"):
        web.instances(state="sleeping")
    with pytest.raises(cdb.ValidationError, match="by"):
        web.costs(by="colour")
    with pytest.raises(cdb.ValidationError, match="period"):
        web.utilization("web-fleet", period="fortnightly")
    with pytest.raises(cdb.ValidationError, match="start"):
        web.costs(start="yesterday-ish")
    with pytest.raises(cdb.ValidationError, match="duration"):
        web.local.advance("soon")


def test_instances_filter_by_state_and_fleet(web):
    iid = web.instances()["id"].iloc[0]
    web.stop_instance(iid)
    assert web.instances(state="stopping")["id"].tolist() == [iid]
    assert len(web.instances(state=["running", "stopping"])) == 5
    web.create_fleet(cdb.FleetConfig("api", capacity=2))
    assert set(web.instances(fleet="api")["fleet"]) == {"api"}


def test_models_and_plans_render_as_html(web):
    assert "web-fleet" in web.fleet("web-fleet")._repr_html_()
    assert "change per hour" in web.update_fleet_capacity("web-fleet", 6, dry_run=True)._repr_html_()


def test_errors_render_as_a_short_box_in_ipython(web):
    try:
        web.update_fleet_capacity("web-fleet", 1000)
    except cdb.ValidationError as err:
        lines = err._render_traceback_()
    assert len(lines) == 3 and lines[0].startswith("ValidationError: [local/update_fleet_capacity]")
