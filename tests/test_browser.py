"""The quickstart in a real JupyterLab, driven by headless Chromium: run all, fill the form, create, see it.

Needs Debian's ``chromium`` (``.ci/run`` installs it) and Python ``playwright`` (the dev extra);
Playwright drives that system browser, it downloads none.
"""

import json
import os
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
        accept_kernel_dialog(page)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

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
