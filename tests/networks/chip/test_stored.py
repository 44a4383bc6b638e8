"""Networks in the run store: recorded array by array and rebuilt the same, convolutions and pooling included."""

from __future__ import annotations

import numpy as np

from labctl.plan import Record
from labctl.rundata import read_run
from labctl.store import Store
from procedures.networks.chip.stored import network_digest, network_from_run, record_network
from procedures.networks.host.npz import network_arrays
from tests.networks.conv_nets import conv_network


def test_a_recorded_network_is_rebuilt_from_its_run(tmp_path) -> None:
    net = conv_network(2)
    with Store(tmp_path / "runs.sqlite") as store:
        run = store.begin_run("test", {}, {})
        for message in record_network(net):
            assert isinstance(message, Record)
            store.record(run, message.name, message.value)
        data = read_run(store, run)
    back = network_from_run(data)
    assert all(np.array_equal(a, b) for a, b in zip(network_arrays(back).values(), network_arrays(net).values()))
    assert data.last("network_digest") == network_digest(back) == network_digest(net)
