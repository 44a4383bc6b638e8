"""The whole simulated bench on loopback sockets: the board (TCP and pty) and every instrument."""

from __future__ import annotations

from ..firmware import Firmware
from ..serve import DeviceServer
from .scpi_device import LineSession
from .world import World


class BenchServer(DeviceServer):
    """Serve a :class:`World`: the board like :class:`~sim_chip.serve.SimServer`, each
    instrument as a raw SCPI socket."""

    def __init__(self, world: World, host: str = "127.0.0.1", pty: bool = True, port: int = 0) -> None:
        """``port``: the board's TCP port, the instruments on the ports after it (0: free ports)."""
        self.world = world
        factories = {"board": lambda: Firmware(world.board)}
        for name, device in world.instruments().items():
            factories[name] = (lambda d=device: LineSession(d))
        ports = {name: port + i if port else 0 for i, name in enumerate(factories)}
        super().__init__(factories, host, ports, pty_device="board" if pty else None)

    def resources(self) -> dict[str, str]:
        """Resource string of every device: pyserial URLs for the board, VISA for instruments."""
        host, port = self.address("board")
        found = {"board": f"socket://{host}:{port}"}
        if self.pty_path:
            found["board_pty"] = self.pty_path
        for name in self.world.instruments():
            host, port = self.address(name)
            found[name] = f"TCPIP::{host}::{port}::SOCKET"
        return found
