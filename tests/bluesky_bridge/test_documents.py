"""labctl runs as event-model documents: valid, complete, and stored back as they were."""

from __future__ import annotations

import json

import h5py
import numpy as np
from labctl.bluesky.documents import INLINE_MAX_BYTES, SPEC, tree_documents
from labctl.bluesky.ingest import store_documents
from labctl.bluesky.jsonl import read_documents, root_map
from labctl.cli import main
from labctl.store import Store
from tests.bluesky_bridge.checks import check_documents, validate


def test_a_runs_documents_are_valid_and_describe_every_record(stored, tmp_path) -> None:
    path, mac, _ = stored
    with Store(path, read_only=True) as store:
        docs = check_documents(store, mac, tmp_path)
    names = [n for n, _ in docs]
    assert names[0] == "start" and names[-1] == "stop" and set(names) == {"start", "descriptor", "event", "stop"}
    start = docs[0][1]
    assert start["plan_name"] == "mac-transfer" and start["scan_id"] == mac
    assert start["labctl"]["parameters"]["windows"] == 2 and start["labctl"]["provenance"]["seed"] == 1
    keys = {k: v for n, d in docs if n == "descriptor" for k, v in d["data_keys"].items()}
    histogram = keys["mac_error_histogram"]
    assert histogram["units"] == "column reads" and histogram["dtype"] == "array" and histogram["shape"] == [41]
    assert histogram["source"] == "labctl:mac-transfer/mac_error_histogram"
    assert histogram["dims"] == ["mac_error_bin_edges"] and keys["mac_error_bin_edges"]["units"] == "MAC"
    assert keys["calibration"]["shape"] == [64, 16] and keys["calibration"]["dims"] == ["column", "code"]
    assert docs[-1][1]["exit_status"] == "success" and docs[-1][1]["num_events"]["calibration"] == 2


def test_every_kind_of_value_an_abort_and_a_warning_come_back_from_a_fresh_store(stored, tmp_path) -> None:
    path, _, made = stored
    with Store(path, read_only=True) as store:
        docs = check_documents(store, made, tmp_path)
    keys = {k: v for n, d in docs if n == "descriptor" for k, v in d["data_keys"].items()}
    assert keys["count"]["dtype"] == "integer" and keys["level"]["dtype"] == "number"
    assert keys["summary"]["labctl_encoding"] == "json" and keys["ragged"]["labctl_axes"] == ["a", "b"]
    stop = docs[-1][1]
    assert stop["exit_status"] == "abort" and "Ctrl-C" in stop["reason"]
    assert [e[1] for e in stop["labctl"]["events"]] == ["warning", "aborted"]


def test_large_arrays_go_to_the_hdf5_export_as_resource_and_datum(stored, tmp_path) -> None:
    path, _, made = stored
    out = tmp_path / "made.jsonl"
    assert main(["runs", "export", str(made), "--store", str(path), "--format", "bluesky", "--output", str(out)]) == 0
    docs = list(read_documents(out))
    validate(docs)
    (resource,) = [d for n, d in docs if n == "resource"]
    assert resource["spec"] == SPEC and resource["resource_kwargs"]["dataset"] == "records/trace"
    (trace_event,) = [d for n, d in docs if n == "event" and "trace" in d["data"]]
    assert trace_event["filled"] == {"trace": False} and isinstance(trace_event["data"]["trace"], str)
    assert len(out.read_bytes()) < 20_000 * 8                     # the trace is not in the JSONL
    with h5py.File(out.with_suffix(".h5")) as f:
        assert f["records/trace"].shape == (20_000,)
    moved = tmp_path / "moved"
    moved.mkdir()
    for f in (out, out.with_suffix(".h5")):
        f.rename(moved / f.name)
    with Store(tmp_path / "fresh.sqlite") as fresh, Store(path, read_only=True) as store:
        (run,) = store_documents(fresh, read_documents(moved / out.name), root_map(moved / out.name))
        back = dict((n, v) for _, n, v, _ in fresh.record_rows(run))
        original = dict((n, v) for _, n, v, _ in store.record_rows(made))
    assert np.array_equal(back["trace"], original["trace"]) and back["trace"].nbytes > INLINE_MAX_BYTES


def test_a_child_run_names_its_parent_and_the_export_carries_both(tmp_path) -> None:
    with Store(tmp_path / "runs.sqlite") as store:
        parent = store.begin_run("campaign", {}, {"host": "h"})
        child = store.begin_run("write-verify", {}, {"host": "h"}, parent=parent)
        store.record(child, "errors_after_pass", 3, {"unit": "bits"})
        store.event(child, "completed")
        store.event(parent, "completed")
        docs = check_documents(store, parent, tmp_path)
    starts = [d for n, d in docs if n == "start"]
    assert [s["plan_name"] for s in starts] == ["campaign", "write-verify"]
    assert starts[1]["parent_uid"] == starts[0]["uid"] and "parent_uid" not in starts[0]


def test_the_jsonl_export_is_one_name_and_document_per_line_and_refuses_other_files(stored, tmp_path, capsys) -> None:
    path, mac, _ = stored
    out = tmp_path / "run.jsonl"
    assert main(["runs", "export", str(mac), "--store", str(path), "--format", "bluesky", "--output", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert all(len(json.loads(line)) == 2 for line in lines) and json.loads(lines[0])[0] == "start"
    assert not out.with_suffix(".h5").exists()                    # nothing too large for an event
    other = tmp_path / "notes.jsonl"
    other.write_text('["not", "an export"]\n')
    assert main(["runs", "export", str(mac), "--store", str(path), "--format", "bluesky", "--output", str(other),
                 "--force"]) == 2
    assert "not an export labctl wrote" in capsys.readouterr().err and other.read_text().startswith('["not"')
    with Store(path, read_only=True) as store:
        assert [n for n, _ in tree_documents(store, mac)] == [json.loads(line)[0] for line in lines]
