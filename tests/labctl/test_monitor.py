"""The browser monitor's API through Starlette's test client: pages, filters, downloads, live events,
security (token, ids and names from the URL), and that it never writes the store."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient

from labctl.monitor.app import create_app
from labctl.monitor.figures import MAX_POINTS, envelope
from labctl.store import Store


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "runs.sqlite"
    with Store(path) as store:
        for i in range(120):
            run = store.begin_run("write-verify" if i % 3 else "array-map", {"i": i},
                                  {"identities": {"chip": f"MX64 EVB firmware 1, die MX64-{i % 7:08X}"}})
            store.record(run, "errors_after_pass", i % 5, {"unit": "bits"})
            store.record(run, "errors_after_pass", 0, {"unit": "bits"})
            store.event(run, "completed" if i % 10 else "aborted", "")
        live = store.begin_run("endurance", {}, {})
        store.record(live, "trace", np.sin(np.linspace(0, 50, 1_000_000)), {"unit": "V", "description": "long"})
        store.record(live, "map", np.arange(64 * 64).reshape(64, 64), {"unit": "ohm", "axes": ["row", "column"]})
        store.progress(live, "endurance", 3, 10)
        store.attach(live, "endurance.png", b"\x89PNG fake")
    return path


def values(encoded) -> np.ndarray:
    """A Plotly array as sent: a list, or a typed array {dtype, bdata (base64)}."""
    if isinstance(encoded, dict):
        import base64
        return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"])
    return np.asarray(encoded)


def test_the_runs_page_lists_newest_first_with_filters_and_pages(store_path) -> None:
    client = TestClient(create_app(store_path))
    page = client.get("/api/runs").json()
    assert page["total"] == 121 and page["pages"] == 3 and page["runs"][0]["id"] == 121
    assert [r["id"] for r in page["runs"]] == list(range(121, 71, -1))
    second = client.get("/api/runs?page=2").json()
    assert second["runs"][0]["id"] == 71
    arrays = client.get("/api/runs?procedure=array-map").json()
    assert arrays["total"] == 40 and {r["procedure"] for r in arrays["runs"]} == {"array-map"}
    aborted = client.get("/api/runs?status=aborted").json()
    assert aborted["total"] == 12 and all(r["status"] == "aborted" for r in aborted["runs"])
    die = client.get("/api/runs?die=MX64-00000003").json()
    assert die["total"] == 17 and all(r["die"] == "MX64-00000003" for r in die["runs"])
    html = client.get("/?procedure=array-map&page=2")
    assert html.status_code == 200 and "page 1 of 1" in html.text and "<table id=\"runs\">" in html.text


def test_a_run_page_its_figures_and_downloads(store_path) -> None:
    client = TestClient(create_app(store_path))
    run = client.get("/api/runs/121").json()
    assert run["state"]["progress"] == {"task": "endurance", "done": 3, "total": 10}
    assert run["state"]["status"] == "running" or run["state"]["status"] == "interrupted"
    assert {r["name"] for r in run["records"]} == {"trace", "map"}
    html = client.get("/runs/121")
    assert html.status_code == 200 and "Run 121: endurance" in html.text and "export.h5" in html.text
    figures = {f["name"]: f["figure"] for f in client.get("/api/runs/121/figures").json()}
    y = values(figures["trace"]["data"][0]["y"])
    assert len(y) <= MAX_POINTS and y.max() > 0.999                          # reduced, peaks kept
    assert figures["map"]["data"][0]["type"] == "heatmap"
    assert figures["trace"]["layout"]["title"]["text"] == "trace (V)"
    h5 = client.get("/runs/121/export.h5")
    assert h5.status_code == 200 and h5.content[:8] == b"\x89HDF\r\n\x1a\n"
    zipped = client.get("/runs/2/export.zip")
    assert zipped.status_code == 200 and zipped.content[:2] == b"PK"
    assert client.get("/runs/121/files/endurance.png").content == b"\x89PNG fake"


def test_live_events_follow_the_store(store_path) -> None:
    client = TestClient(create_app(store_path))
    with client.stream("GET", "/api/runs/5/events") as response:          # a completed run: one update, end
        text = "".join(response.iter_text())
    assert "event: update" in text and '"status": "completed"' in text and "event: end" in text


@pytest.mark.parametrize("url", ["/runs/999999", "/api/runs/999999", "/api/runs/999999/figures",
                                 "/runs/121/files/..%2F..%2Fetc%2Fpasswd", "/runs/121/files/runs.sqlite",
                                 "/runs/abc", "/runs/121/export.exe", "/static/..%2F..%2Fstore.py"])
def test_unknown_runs_and_names_are_404(store_path, url) -> None:
    response = TestClient(create_app(store_path)).get(url)
    assert response.status_code == 404 and "root:" not in response.text


def test_a_token_guards_a_monitor_bound_beyond_this_machine(store_path) -> None:
    client = TestClient(create_app(store_path, token="s3cret"))
    assert client.get("/api/runs").status_code == 401
    assert client.get("/api/runs?token=wrong").status_code == 401
    assert client.get("/api/runs?token=s3cret").status_code == 200
    assert client.get("/api/runs").status_code == 200                    # the cookie it set


def test_the_monitor_never_writes_the_store(store_path) -> None:
    before = store_path.read_bytes()
    client = TestClient(create_app(store_path))
    for url in ("/", "/runs/121", "/api/runs/121/figures", "/runs/121/export.h5", "/api/runs?status=aborted"):
        client.get(url)
    assert store_path.read_bytes() == before


def test_the_envelope_keeps_every_extreme() -> None:
    y = np.zeros(100_000)
    y[[5, 50_000, 99_999]] = [3.0, -4.0, 5.0]
    x, reduced = envelope(y)
    assert len(reduced) <= MAX_POINTS and {3.0, -4.0, 5.0} <= set(reduced.tolist())
    assert np.all(np.diff(x) > 0)
    assert json.dumps(reduced.tolist())


def test_a_zipped_export_holds_the_child_runs_too(tmp_path) -> None:
    import io
    import zipfile
    path = tmp_path / "runs.sqlite"
    with Store(path) as store:
        parent = store.begin_run("demo", {}, {})
        child = store.begin_run("write-verify", {}, {}, parent=parent)
        store.record(child, "bit_errors", np.array([3, 0]), {"unit": "bits"})
    zipped = TestClient(create_app(path)).get(f"/runs/{parent}/export.zip")
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert f"run-{parent}/run-{child}/bit_errors.csv" in names and f"run-{parent}/run.json" in names
