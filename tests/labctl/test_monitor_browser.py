"""The monitor in a real headless browser (Debian's chromium through Selenium and chromium-driver), while
the demo runs in another process: progress advances and a figure appears live, a finished run's page
opens, and a screenshot is saved as a test artefact (``$LABCTL_TEST_ARTIFACTS``, default test-artifacts/).

Where the browser is missing the test is skipped, except in CI (``CI`` set), where that is a failure."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labctl.store import Store

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("the browser test needs Debian's chromium and chromium-driver (.ci/run installs them)")
    pytest.skip("no chromium/chromedriver here (apt-get install chromium chromium-driver)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402

ARTIFACTS = Path(os.environ.get("LABCTL_TEST_ARTIFACTS", "test-artifacts"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(condition, timeout: float = 60.0, step: float = 0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s: {condition}")


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,2000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)
    yield driver
    driver.quit()


def test_the_monitor_shows_a_running_demo_live(browser, tmp_path) -> None:
    store = tmp_path / "runs.sqlite"
    port = free_port()
    demo = subprocess.Popen([sys.executable, "-m", "labctl.cli", "run", "demo", "--vectors", "20000", "--repeats", "2",
                             "--columns", "64",
                             "--store", str(store)],          # the main job, its energy and transfer curves short
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    monitor = None
    try:
        def array_map_running():                      # the child with the longest progress
            if not store.exists():
                return None
            with Store(store, read_only=True) as s:
                return next((i for i in s.run_ids() if s.run(i).procedure == "array-map"), None)

        run_id = wait(array_map_running)
        monitor = subprocess.Popen([sys.executable, "-m", "labctl.cli", "monitor", "--store", str(store),
                                    "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert "labctl monitor of" in monitor.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        wait(lambda: _reachable(port), timeout=20)
        browser.get(f"{base}/runs/{run_id}")
        text = browser.find_element(By.ID, "progress-text")
        first = wait(lambda: text.text)
        def advanced() -> bool:                       # the progress advances, live (or the child ended meanwhile)
            if text.text != first:
                return True
            with Store(store, read_only=True) as s:
                return s.run(run_id).status != "running"

        wait(advanced, timeout=30)
        assert "array-map" in text.text
        wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#figures .js-plotly-plot"), timeout=30)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "monitor-running-run.png"))
        demo.wait(timeout=180)
        assert demo.returncode == 0, demo.stderr.read()
        browser.get(f"{base}/")
        rows = browser.find_elements(By.CSS_SELECTOR, "#runs tr")
        assert any("demo" in r.text and "completed" in r.text for r in rows)
        browser.get(f"{base}/runs/{run_id - 1}")                 # mac-transfer, finished before
        assert "mac-transfer" in browser.find_element(By.TAG_NAME, "h1").text
        assert "completed" in browser.find_element(By.ID, "status").text
        wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#figures .js-plotly-plot"), timeout=30)
        images = browser.find_elements(By.CSS_SELECTOR, "img.png")
        assert images and browser.execute_script("return arguments[0].naturalWidth", images[0]) > 100
        browser.save_screenshot(str(ARTIFACTS / "monitor-finished-run.png"))
    finally:
        for proc in (demo, monitor):
            if proc is not None and proc.poll() is None:
                proc.kill()


def _reachable(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
