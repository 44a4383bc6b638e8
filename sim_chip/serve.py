"""Serve the simulated board as a real device: raw TCP socket and pseudo-terminal.

A client reaches it exactly as it reaches the real board: pyserial with
``socket://127.0.0.1:<port>`` or the pty's ``/dev/pts/N``, or PyVISA with
``TCPIP::127.0.0.1::<port>::SOCKET`` / ``ASRL/dev/pts/N::INSTR``.  Every
connection gets its own protocol engine; all share the one board, one
command at a time.
"""

from __future__ import annotations

import os
import select
import socket
import socketserver
import threading
import tty

from .board import Board
from .firmware import Firmware

_POLL_S = 0.25  # how often idle transports check for stale partial messages and shutdown


class _Handler(socketserver.BaseRequestHandler):
    server: "_TCPServer"

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(_POLL_S)
        firmware = Firmware(self.server.board)
        while not self.server.stopping.is_set():
            try:
                data = sock.recv(1 << 20)
            except socket.timeout:
                with self.server.lock:
                    firmware.idle()
                continue
            except OSError:
                return
            if not data:
                return
            with self.server.lock:
                reply = firmware.feed(data)
            if reply:
                try:
                    sock.sendall(reply)
                except OSError:
                    return


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], board: Board, lock: threading.Lock,
                 stopping: threading.Event) -> None:
        self.board, self.lock, self.stopping = board, lock, stopping
        super().__init__(address, _Handler)


class SimServer:
    """The simulated board on a TCP port and (optionally) a pseudo-terminal.

    Use as a context manager or call :meth:`start` and :meth:`stop`.
    ``port=0`` picks a free port.  Binds to 127.0.0.1 unless told otherwise.
    """

    def __init__(self, board: Board, host: str = "127.0.0.1", port: int = 0, pty: bool = True) -> None:
        self.board = board
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._tcp = _TCPServer((host, port), board, self._lock, self._stopping)
        self._threads: list[threading.Thread] = []
        self._pty: tuple[int, int] | None = None
        self.pty_path: str | None = None
        if pty:
            master, slave = os.openpty()
            tty.setraw(slave)
            self._pty = (master, slave)
            self.pty_path = os.ttyname(slave)

    @property
    def host(self) -> str:
        return self._tcp.server_address[0]

    @property
    def port(self) -> int:
        return self._tcp.server_address[1]

    def resources(self) -> dict[str, str]:
        """Resource strings for pyserial and PyVISA."""
        found = {"serial_socket": f"socket://{self.host}:{self.port}",
                 "visa_socket": f"TCPIP::{self.host}::{self.port}::SOCKET"}
        if self.pty_path:
            found["serial_pty"] = self.pty_path
            found["visa_pty"] = f"ASRL{self.pty_path}::INSTR"
        return found

    def start(self) -> "SimServer":
        self._threads.append(threading.Thread(target=self._tcp.serve_forever, args=(_POLL_S,),
                                              name="mx64-tcp", daemon=True))
        if self._pty:
            self._threads.append(threading.Thread(target=self._serve_pty, name="mx64-pty", daemon=True))
        for t in self._threads:
            t.start()
        return self

    def _serve_pty(self) -> None:
        master, _ = self._pty
        firmware = Firmware(self.board)
        while not self._stopping.is_set():
            ready, _, _ = select.select([master], [], [], _POLL_S)
            if not ready:
                with self._lock:
                    firmware.idle()
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                return
            with self._lock:
                reply = firmware.feed(data)
            view = memoryview(reply)
            while view and not self._stopping.is_set():
                _, writable, _ = select.select([], [master], [], _POLL_S)
                if writable:
                    view = view[os.write(master, view):]

    def stop(self) -> None:
        """Stop serving and release the port and the pty."""
        self._stopping.set()
        self._tcp.shutdown()
        self._tcp.server_close()
        for t in self._threads:
            t.join(timeout=2)
        if self._pty:
            for fd in self._pty:
                os.close(fd)
            self._pty = None

    def __enter__(self) -> "SimServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
