"""The run store through Tiled: a tiled.client user browses runs and slices records with their units."""

from __future__ import annotations

import re

import numpy as np
import pytest
from tiled.client import from_context
from tiled.client.context import Context
from tiled.client.utils import ClientError

from labctl.bluesky.documents import run_uid
from labctl.bluesky.tiled_server import tiled_app
from labctl.rundata import read_run
from labctl.store import Store


def client_of(path, host="127.0.0.1", api_key=None):
    app, key = tiled_app(path, host)
    return from_context(Context.from_app(app, api_key=api_key)), key


def test_a_tiled_client_reads_a_mac_transfer_runs_arrays_with_units(stored) -> None:
    path, mac, made = stored
    client, key = client_of(path)
    assert key is None and {str(mac), str(made)} <= set(client)
    run = client[str(mac)]
    with Store(path, read_only=True) as store:
        data, info = read_run(store, mac), store.run(mac)
    assert run.metadata["procedure"] == "mac-transfer" and run.metadata["uid"] == run_uid(info)
    assert run.metadata["parameters"]["windows"] == 2 and run.metadata["summary"] == data.summary
    calibration = run["calibration"]
    assert calibration.metadata["unit"] == "MAC" and calibration.metadata["recordings"] == 2
    assert calibration.dims == ("recording", "column", "code")
    np.testing.assert_array_equal(calibration[1, :, 3], data.array("calibration")[1, :, 3])
    histogram = run["mac_error_histogram"]
    assert histogram.metadata["unit"] == "column reads" and histogram.dims == ("mac_error_bin",)
    np.testing.assert_array_equal(histogram.read(), data.array("mac_error_histogram"))
    assert "summary" not in run and run.metadata["summary"]["mac_error_std"] > 0


def test_runs_stored_after_the_server_started_appear_and_nothing_can_be_written(tmp_path) -> None:
    path = tmp_path / "runs.sqlite"
    with Store(path) as store:
        first = store.begin_run("write-verify", {}, {})
    client, _ = client_of(path)
    assert list(client) == [str(first)]
    with Store(path) as store:
        second = store.begin_run("array-map", {}, {})
        store.record(second, "r_low", np.full(64, 13.5e3), {"unit": "ohm", "axes": ["column"]})
    assert list(client) == [str(first), str(second)]
    assert client[str(second)]["r_low"].metadata["unit"] == "ohm" and client[str(second)].metadata["status"] == "running"
    with pytest.raises(ClientError, match=r"401: Not enough permissions|405: Data cannot be written"):
        client.write_array(np.zeros(3), key="x")


def test_beyond_loopback_tiled_needs_its_api_key(stored) -> None:
    path, mac, _ = stored
    with pytest.raises(RuntimeError, match="requires API key"):
        client_of(path, "0.0.0.0")
    app, key = tiled_app(path, "0.0.0.0")
    assert key and str(mac) in from_context(Context.from_app(app, api_key=key))
    with pytest.raises(ClientError, match="401: Invalid API key"):
        from_context(Context.from_app(app, api_key="wrong"))


def test_labctl_serve_tiled_serves_the_store_it_is_given(stored, monkeypatch, capsys) -> None:
    from labctl import cli

    path, mac, _ = stored
    served = {}

    def serve(listening, app):
        served.update(app=app, port=listening.getsockname()[1])
        listening.close()
        return 0

    monkeypatch.setattr(cli, "_serve", serve)
    assert cli.main(["serve-tiled", "--store", str(path), "--port", "0"]) == 0
    out = capsys.readouterr().out
    address = f"http://127.0.0.1:{served['port']}"
    assert f"labctl Tiled server of {path} at {address}/api/v1 (read-only)" in out
    assert f"from_uri('{address}')" in out
    client = from_context(Context.from_app(served["app"]))
    assert client[str(mac)]["calibration"].metadata["unit"] == "MAC"
    assert cli.main(["serve-tiled", "--store", str(path), "--host", "0.0.0.0", "--port", "0"]) == 0
    key = re.search(r"api_key='(\w+)'", capsys.readouterr().out).group(1)
    assert str(mac) in from_context(Context.from_app(served["app"], api_key=key))
    assert cli.main(["serve-tiled", "--store", str(path.parent / "none.sqlite")]) == 2
    assert "no run store at" in capsys.readouterr().err
