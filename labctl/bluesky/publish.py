"""A labctl run as live event-model documents, emitted as the engine stores each part of it.

:class:`DocumentPublisher` is a :class:`labctl.engine.RunObserver`: the start document when a run
begins, a descriptor the first time a record name is stored and an event every time, the stop
document when the run ends; a child run's documents come between its parent's, linked by
``parent_uid``.  The documents are the ones an export gives (:mod:`labctl.bluesky.documents`), every
array in its event.  They go to Python callbacks (``BestEffortCallback``, ``LiveTable``, a
``RunRouter``, any ``f(name, doc)``) and, with :class:`ZmqPublisher`, to a 0MQ proxy that Bluesky's
``RemoteDispatcher`` reads (``labctl run NAME --publish HOST:PORT``).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from typing import Any

from ..store import Store
from .documents import RunDocuments, data_key, run_uid, source

Callback = Callable[[str, dict], Any]


class DocumentPublisher:
    """Turns what the engine stores into documents for ``callbacks``, as it is stored."""

    def __init__(self, *callbacks: Callback) -> None:
        self.callbacks = list(callbacks)
        self._runs: dict[int, RunDocuments] = {}

    def subscribe(self, callback: Callback) -> None:
        self.callbacks.append(callback)

    def _emit(self, name: str, doc: dict) -> None:
        for callback in self.callbacks:
            callback(name, doc)

    def run_started(self, store: Store, run_id: int) -> None:
        info = store.run(run_id)
        parent = run_uid(store.run(info.parent)) if info.parent else None
        resumed = run_uid(store.run(info.resumed_from)) if info.resumed_from else None
        run = self._runs[run_id] = RunDocuments(info, parent, resumed)
        self._emit(*run.start())

    def recorded(self, store: Store, run_id: int, name: str, value: Any, meta: dict, when: float) -> None:
        run = self._runs[run_id]
        if not run.described(name, meta):
            key = data_key(name, [value], meta, source(run.info.procedure, name))
            self._emit(*run.descriptor(name, {name: key}, when))
        for document in run.event(name, {name: value}, when):
            self._emit(*document)

    def run_ended(self, store: Store, run_id: int) -> None:
        run = self._runs.pop(run_id)
        self._emit(*run.stop(store.run(run_id), store.events(run_id)))


class ZmqPublisher:
    """Sends documents to a 0MQ proxy (``bluesky-0MQ-proxy``, ``bluesky.callbacks.zmq.Proxy``) in Bluesky's
    wire format, ``b"<prefix> <name> <pickled doc>"``, which ``RemoteDispatcher`` reads.

    Connecting waits up to ``timeout`` s for the proxy to answer, so that the first documents are not
    sent into a connection still being made; without an answer :attr:`connected` is False and documents
    are queued until the proxy is there.
    """

    def __init__(self, address: str, prefix: bytes = b"", timeout: float = 2.0) -> None:
        import zmq

        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"0MQ proxy address {address!r}: write it as HOST:PORT (e.g. 127.0.0.1:5577)")
        self.address, self._prefix = address, prefix
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.PUB)
        monitor = self._socket.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
        self._socket.connect(f"tcp://{host}:{port}")
        self.connected = bool(monitor.poll(int(timeout * 1000)))
        self._socket.disable_monitor()
        monitor.close()
        if self.connected:
            time.sleep(0.05)               # the proxy's subscription follows the handshake

    def __call__(self, name: str, doc: dict) -> None:
        self._socket.send(b" ".join([self._prefix, name.encode(), pickle.dumps(doc)]))

    def close(self) -> None:
        self._socket.close(linger=1000)
        self._context.term()
