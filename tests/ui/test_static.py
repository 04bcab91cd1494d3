"""Where no kernel runs the widgets (GitHub, nbviewer), readers see a static picture, not a raw repr."""

import json
from pathlib import Path

import pytest

import clusterdb_nb as cdb

ROOT = Path(__file__).resolve().parents[2]


def test_each_widget_offers_a_static_html_picture_and_a_short_text(web):
    for widget, kind, seen in (
        (web.fleet_form(), "form", "Preview"),
        (web.scaler("web-fleet"), "scaler", "Scale web-fleet"),
        (web.dashboard(), "dashboard", "web-fleet"),
    ):
        bundle = widget._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget in JupyterLab
        assert bundle["text/plain"] == f"{type(widget).__name__}: a {kind} (run the notebook to use it)"
        assert seen in bundle["text/html"] and "children=" not in bundle["text/html"]
        assert f"run the notebook to use this {kind}" in bundle["text/html"]


@pytest.mark.parametrize("name", ["01-quickstart.ipynb", "02-fleet-operations.ipynb"])
def test_shipped_notebooks_show_widgets_as_html_not_raw_reprs(name):
    outputs = [o for c in json.loads((ROOT / "notebooks" / name).read_text())["cells"] for o in c.get("outputs", [])]
    widget_outputs = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widget_outputs, "the runbook shows at least one widget"
    for out in widget_outputs:
        assert "text/html" in out["data"] and "clusterdb-static" in "".join(out["data"]["text/html"])
        assert "children=(" not in "".join(out["data"]["text/plain"])


def test_a_fleet_form_snapshot_shows_its_fields(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=1))
    html = s.fleet_form()._repr_mimebundle_()["text/html"]
    for label in ("Name", "Provider", "Type", "Capacity", "Create"):
        assert label in html
