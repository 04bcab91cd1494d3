"""The quickstart in a real JupyterLab, driven by headless Chromium: run all, fill the form, create, see it.

Needs Debian's ``chromium`` (``.ci/run`` installs it) and Python ``playwright`` (the dev extra);
Playwright drives that system browser, it downloads none.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
TOKEN = "clusterdb-browser-test"
SETTINGS = {  # every cell in the DOM (no virtual scrolling), no news pop-up
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab on 127.0.0.1 with a token, serving a copy of the notebooks (the run must not touch the repo's)."""
    shutil.copy(ROOT / "notebooks" / "01-quickstart.ipynb", tmp_path)
    settings = tmp_path / ".lab-settings"
    for plugin, values in SETTINGS.items():
        (settings / plugin).parent.mkdir(parents=True, exist_ok=True)
        (settings / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / ".run"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={tmp_path}",
            "--LabApp.news_url=",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: the tests switch the theme with its commands
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "lab.log", "w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
    yield url
    server.terminate()
    server.wait(timeout=30)


def accept_kernel_dialog(page, wait_ms=5_000):
    """JupyterLab may ask once which kernel to start (its default, Python 3, is the one we want)."""
    from playwright.sync_api import TimeoutError as NoDialog

    select = page.locator(".jp-Dialog .jp-mod-accept")
    try:
        select.wait_for(state="visible", timeout=wait_ms)
    except NoDialog:
        return
    select.click()


def run_all(page, attempts: int = 3) -> None:
    """Run All Cells, and again if no cell started (on a loaded machine the kernel may not be connected yet)."""
    from playwright.sync_api import TimeoutError as NotStarted

    started = page.locator(".jp-InputArea-prompt").filter(has_text=re.compile(r"\[(\*|\d+)\]"))
    for attempt in range(attempts):
        accept_kernel_dialog(page)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            started.first.wait_for(state="attached", timeout=60_000)
            return
        except NotStarted:
            if attempt == attempts - 1:
                raise


def test_quickstart_form_creates_a_fleet_in_a_real_browser(jupyterlab):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{jupyterlab}/lab/tree/01-quickstart.ipynb?token={TOKEN}")
        expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=60_000)
        expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1, timeout=60_000)
        run_all(page)

        form = page.locator(".clusterdb-fleet-form")
        try:
            expect(form).to_be_visible(timeout=120_000)
        finally:
            page.screenshot(path=str(ARTIFACTS / "after-run-all.png"))
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
        form.scroll_into_view_if_needed()
        form.locator(".widget-text input").first.fill("browser-fleet")
        capacity = form.locator("input[type=number]").first
        capacity.fill("3")
        capacity.press("Tab")
        expect(form.get_by_text("ready")).to_be_visible(timeout=30_000)
        form.get_by_role("button", name="Create").click()
        expect(form.get_by_text("Created fleet browser-fleet on local: 3 × t3.medium")).to_be_visible(timeout=60_000)
        expect(form.locator("td", has_text="browser-fleet")).to_be_visible()
        form.screenshot(path=str(ARTIFACTS / "fleet-form.png"))
        page.locator(".js-plotly-plot").first.screenshot(path=str(ARTIFACTS / "utilization.png"))
        page.screenshot(path=str(ARTIFACTS / "quickstart.png"))
        browser.close()


# -- the widgets, clicked in JupyterLab in both themes ---------------------------------------------------
WIDGETS_NOTEBOOK = [
    "import clusterdb_nb as cdb\n"
    "from clusterdb_nb.autoscaling import example_trace\n"
    's = cdb.connect(local={"clock": "virtual", "seed": 7, "path": ":memory:"})\n'
    's.create_fleet(cdb.FleetConfig("web", capacity=3, max_capacity=100))\n'
    's.local.advance("2h")',
    "d = s.dashboard()\nd",
    'sc = s.scaler("web")\nsc',
    "form = s.fleet_form()\nform",
    't = s.tuner("web", example_trace(), targets=[50, 60, 70], cooldowns=[60, 300])\nt',
    "",
]

# WCAG contrast of each table cell's text against the first opaque background behind it
CONTRAST_JS = """
(selector) => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      const v = rgb(c);
      if (v.length < 4 || v[3] > 0) return v.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].map((td) => {
    const a = lum(rgb(getComputedStyle(td).color).slice(0, 3)), b = lum(background(td));
    return {text: td.textContent, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
  });
}
"""


def button(scope, label: str):
    """The button labelled ``label`` (its accessible name starts with the icon's glyph)."""
    return scope.locator("button").filter(has_text=re.compile(rf"^\W*{re.escape(label)}\s*$"))


def write_notebook(path: Path, sources: list[str]) -> None:
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": src} for src in sources]
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))


def set_theme(page, name: str) -> None:
    page.evaluate(f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{name}'}})")
    light = "true" if name == "JupyterLab Light" else "false"
    page.wait_for_selector(f"body[data-jp-theme-light='{light}']", state="attached", timeout=30_000)
    page.wait_for_timeout(500)


def run_in_last_cell(page, code: str) -> None:
    cell = page.locator(".jp-Notebook .jp-CodeCell").last
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")


def test_widgets_behave_and_read_well_in_both_themes(jupyterlab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    write_notebook(tmp_path / "widgets.ipynb", WIDGETS_NOTEBOOK)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{jupyterlab}/lab/tree/widgets.ipynb?token={TOKEN}")
        expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=60_000)
        expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1, timeout=60_000)
        run_all(page)
        dashboard, scaler = page.locator(".clusterdb-dashboard"), page.locator(".clusterdb-scaler")
        form, tuner = page.locator(".clusterdb-fleet-form"), page.locator(".clusterdb-tuner")
        expect(tuner).to_be_visible(timeout=180_000)

        # contrast of every table row, light theme
        expect(dashboard.locator(".clusterdb-table td", has_text="web").first).to_be_visible(timeout=30_000)
        light = page.evaluate(CONTRAST_JS, ".clusterdb-dashboard .clusterdb-table td, .clusterdb-fleet-form .clusterdb-table td")
        assert light and min(c["ratio"] for c in light) >= 4.5, light

        # buttons enabled by the selection; Stop asks first, with the plan
        dashboard.get_by_role("tab", name="Instances").click()
        grid = dashboard.locator(".clusterdb-instances")
        stop, start, terminate = (button(grid, n) for n in ("Stop", "Start", "Terminate"))
        expect(stop).to_be_disabled()
        expect(terminate).to_be_disabled()
        grid.locator(".clusterdb-grid input[type=checkbox]").first.check()
        expect(stop).to_be_enabled(timeout=10_000)
        expect(terminate).to_be_enabled()
        expect(start).to_be_disabled()
        stop.click()
        confirm = grid.locator(".clusterdb-confirm")
        expect(confirm).to_contain_text("Stop 1 instance?", timeout=10_000)
        expect(confirm).to_contain_text("/month")
        grid.screenshot(path=str(ARTIFACTS / "instances-confirm-light.png"))
        button(confirm, "Stop 1").click()
        expect(grid).to_contain_text("→ stopping", timeout=30_000)

        # the scaler says when it clamps
        number = scaler.locator("input[type=number]").first
        number.fill("999")
        number.press("Tab")
        expect(scaler).to_contain_text("999 is above the maximum of web (0–100): set to 100", timeout=30_000)
        expect(number).to_have_value("100")

        # one change refreshes every widget: scale to 75, the dashboard's and the form's tables say 75
        number.fill("75")
        number.press("Tab")
        expect(scaler).to_contain_text("3 → 75 instances", timeout=30_000)
        button(scaler, "Apply").click()
        expect(scaler).to_contain_text("web scaled to 75", timeout=60_000)
        expect(form.locator(".clusterdb-table td.num", has_text="75").first).to_be_visible(timeout=30_000)
        dashboard.get_by_role("tab", name="Fleets").click()
        expect(dashboard.locator(".clusterdb-table td.num", has_text="75").first).to_be_visible(timeout=30_000)
        dashboard.screenshot(path=str(ARTIFACTS / "dashboard-light.png"))
        tuner.screenshot(path=str(ARTIFACTS / "tuner-light.png"))

        # dark theme: the same rows stay readable; figures redrawn with the dark template
        set_theme(page, "JupyterLab Dark")
        dark = page.evaluate(CONTRAST_JS, ".clusterdb-dashboard .clusterdb-table td, .clusterdb-fleet-form .clusterdb-table td")
        assert dark and min(c["ratio"] for c in dark) >= 4.5, dark
        run_in_last_cell(page, 'cdb.plots.set_theme("dark"); d.refresh(); t.target.value = 70.0')
        expect(tuner).to_contain_text("70% / ", timeout=60_000)
        paper = "() => document.querySelector('.clusterdb-tuner .js-plotly-plot .main-svg')?.style.background"
        page.wait_for_function(f"({paper})() === 'rgb(17, 17, 17)'", timeout=60_000)  # the dark template, not a white block
        page.wait_for_timeout(1500)
        dashboard.screenshot(path=str(ARTIFACTS / "dashboard-dark.png"))
        dashboard.get_by_role("tab", name="Costs").click()
        page.wait_for_timeout(1000)
        dashboard.screenshot(path=str(ARTIFACTS / "dashboard-costs-dark.png"))
        tuner.screenshot(path=str(ARTIFACTS / "tuner-dark.png"))
        browser.close()


# -- optimize and migrate: the recommendations checklist and a migration's progress, clicked -------------
OPTIMIZE_NOTEBOOK = [
    "import numpy as np\n"
    "import pandas as pd\n"
    "import clusterdb_nb as cdb\n"
    'memory = {"clock": "virtual", "seed": 7, "path": ":memory:"}\n'
    's = cdb.connect(local=memory, local_b={"kind": "local", **memory})\n'
    'index = pd.date_range(s.local.now, periods=7 * 24 * 12, freq="5min")\n'
    "office = np.where((index.day_of_week < 5) & (index.hour >= 8) & (index.hour < 20), 60.0, 3.0)\n"
    'fleets = [("batch", "m5.xlarge", 4, 12.0), ("office", "t3.large", 4, office), ("api", "m5.large", 3, 55.0)]\n'
    "for name, kind, n, cpu in fleets:\n"
    "    s.create_fleet(cdb.FleetConfig(name, capacity=n, instance_type=kind))\n"
    "    s.local.attach_trace(name, pd.Series(cpu, index=index, dtype=float))\n"
    's.local.advance("7D")',
    'w = s.recommendations_widget(window="7d")\nw',
    'move = cdb.MigrationConfig(source_fleet="api", target_provider="local_b", batch_size=2, grace_period="1min")\n'
    "m = s.create_migration(move)\n"
    "mw = m.widget()\nmw",
    "",
]


def test_recommendations_and_migration_widgets_in_both_themes(jupyterlab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    write_notebook(tmp_path / "optimize.ipynb", OPTIMIZE_NOTEBOOK)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{jupyterlab}/lab/tree/optimize.ipynb?token={TOKEN}")
        expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=60_000)
        expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1, timeout=60_000)
        run_all(page)
        recs, migration = page.locator(".clusterdb-recommendations"), page.locator(".clusterdb-migration")
        expect(migration).to_be_visible(timeout=180_000)
        expect(recs).to_contain_text("3 recommendation(s)")
        apply, dry_run = button(recs, "Apply"), button(recs, "Dry run")
        expect(apply).to_be_disabled()

        # two findings on batch are alternatives: the selection's total counts the fleet once
        recs.get_by_text(re.compile(r"^rightsize · batch")).click()
        recs.get_by_text(re.compile(r"^autoscaling · batch")).click()
        expect(recs).to_contain_text("Selected: 2, saving at least")
        expect(recs).to_contain_text("overlap")
        recs.get_by_text(re.compile(r"^autoscaling · batch")).click()
        recs.get_by_text(re.compile(r"^schedule · office")).click()
        expect(recs).not_to_contain_text("overlap")

        dry_run.click()
        expect(recs).to_contain_text("rightsize batch: would run 1 call(s)", timeout=60_000)
        apply.click()
        expect(recs).to_contain_text("✓ schedule office: applied 2 call(s)", timeout=60_000)
        expect(recs).to_contain_text("✓ rightsize batch: applied 1 call(s)")
        expect(apply).to_be_disabled()  # applied rows are unchecked and locked: a second click applies nothing twice
        recs.screenshot(path=str(ARTIFACTS / "recommendations-light.png"))

        # the migration: Step, then Run to the end; Pause and Roll back are off once it completed
        button(migration, "Step").click()
        expect(migration).to_contain_text("running", timeout=60_000)
        button(migration, "Run").click()
        expect(migration).to_contain_text("completed", timeout=120_000)
        expect(button(migration, "Roll back")).to_be_disabled()
        migration.screenshot(path=str(ARTIFACTS / "migration-light.png"))
        light = page.evaluate(CONTRAST_JS, ".clusterdb-migration .clusterdb-table td")
        assert light and min(c["ratio"] for c in light) >= 4.5, light

        set_theme(page, "JupyterLab Dark")
        dark = page.evaluate(CONTRAST_JS, ".clusterdb-migration .clusterdb-table td")
        assert dark and min(c["ratio"] for c in dark) >= 4.5, dark
        recs.screenshot(path=str(ARTIFACTS / "recommendations-dark.png"))
        migration.screenshot(path=str(ARTIFACTS / "migration-dark.png"))
        browser.close()
