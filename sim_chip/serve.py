"""Serve simulated devices as real ones: raw TCP sockets and a pseudo-terminal.

A client reaches the simulated board exactly as it reaches the real one:
pyserial with ``socket://127.0.0.1:<port>`` or the pty's ``/dev/pts/N``, or
PyVISA with ``TCPIP::127.0.0.1::<port>::SOCKET`` / ``ASRL/dev/pts/N::INSTR``.
Simulated instruments get a raw SCPI socket each, as LAN instruments offer
on port 5025.  Every connection gets its own session (protocol state); all
share one lock, so the simulated world sees one command at a time.
"""

from __future__ import annotations

import os
import select
import socket
import socketserver
import threading
import tty
from typing import Protocol
from collections.abc import Callable

from .board import Board
from .firmware import Firmware

_POLL_S = 0.25  # how often idle transports check for stale partial messages and shutdown
_RECV_BYTES = 1 << 20  # bytes a connection takes from its socket at once


class Session(Protocol):
    def feed(self, data: bytes) -> bytes: ...
    def idle(self) -> None: ...


SessionFactory = Callable[[], Session]


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(_POLL_S)
        session = self.server.factory()
        buffer = memoryview(bytearray(_RECV_BYTES))      # one buffer for good: no allocation per message
        while not self.server.stopping.is_set():
            try:
                size = sock.recv_into(buffer)
            except TimeoutError:
                with self.server.lock:
                    session.idle()
                continue
            except OSError:
                return
            if not size:
                return
            with self.server.lock:
                reply = session.feed(buffer[:size].tobytes())
            if reply:
                try:
                    sock.sendall(reply)
                except OSError:
                    return


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], factory: SessionFactory, lock: threading.Lock,
                 stopping: threading.Event) -> None:
        self.factory, self.lock, self.stopping = factory, lock, stopping
        super().__init__(address, _Handler)


class DeviceServer:
    """Named devices, each on its own TCP port; optionally one of them also on a pty.

    ``factories`` maps a name to a session factory.  Use as a context
    manager or call :meth:`start` and :meth:`stop`.  Port 0 picks free
    ports.  Binds to 127.0.0.1 unless told otherwise.
    """

    def __init__(self, factories: dict[str, SessionFactory], host: str = "127.0.0.1",
                 ports: dict[str, int] | None = None, pty_device: str | None = None,
                 lock: threading.Lock | None = None) -> None:
        self.lock = lock or threading.Lock()
        self._stopping = threading.Event()
        self._servers: dict[str, _TCPServer] = {}
        try:
            for name, factory in factories.items():
                port = (ports or {}).get(name, 0)
                self._servers[name] = _TCPServer((host, port), factory, self.lock, self._stopping)
        except OSError:
            for server in self._servers.values():
                server.server_close()
            raise
        self._threads: list[threading.Thread] = []
        self._pty: tuple[int, int] | None = None
        self._pty_factory = factories.get(pty_device) if pty_device else None
        self.pty_path: str | None = None
        if self._pty_factory is not None:
            master, slave = os.openpty()
            tty.setraw(slave)
            self._pty = (master, slave)
            self.pty_path = os.ttyname(slave)

    def address(self, name: str) -> tuple[str, int]:
        host, port = self._servers[name].server_address[:2]
        return host, port

    def start(self) -> DeviceServer:
        for name, server in self._servers.items():
            self._threads.append(threading.Thread(target=server.serve_forever, args=(_POLL_S,),
                                                  name=f"sim-{name}", daemon=True))
        if self._pty:
            self._threads.append(threading.Thread(target=self._serve_pty, name="sim-pty", daemon=True))
        for t in self._threads:
            t.start()
        return self

    def _serve_pty(self) -> None:
        master, _ = self._pty
        session = self._pty_factory()
        while not self._stopping.is_set():
            ready, _, _ = select.select([master], [], [], _POLL_S)
            if not ready:
                with self.lock:
                    session.idle()
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                return
            with self.lock:
                reply = session.feed(data)
            view = memoryview(reply)
            while view and not self._stopping.is_set():
                _, writable, _ = select.select([], [master], [], _POLL_S)
                if writable:
                    view = view[os.write(master, view):]

    def stop(self) -> None:
        """Stop serving and release the ports and the pty."""
        self._stopping.set()
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for t in self._threads:
            t.join(timeout=2)
        if self._pty:
            for fd in self._pty:
                os.close(fd)
            self._pty = None

    def __enter__(self) -> DeviceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SimServer(DeviceServer):
    """The simulated board on a TCP port and (optionally) a pseudo-terminal."""

    def __init__(self, board: Board, host: str = "127.0.0.1", port: int = 0, pty: bool = True,
                 lock: threading.Lock | None = None) -> None:
        self.board = board
        super().__init__({"board": lambda: Firmware(self.board)}, host, {"board": port},
                         "board" if pty else None, lock)

    @property
    def host(self) -> str:
        return self.address("board")[0]

    @property
    def port(self) -> int:
        return self.address("board")[1]

    def resources(self) -> dict[str, str]:
        """Resource strings for pyserial and PyVISA."""
        found = {"serial_socket": f"socket://{self.host}:{self.port}",
                 "visa_socket": f"TCPIP::{self.host}::{self.port}::SOCKET"}
        if self.pty_path:
            found["serial_pty"] = self.pty_path
            found["visa_pty"] = f"ASRL{self.pty_path}::INSTR"
        return found
