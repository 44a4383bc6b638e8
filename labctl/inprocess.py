"""The simulated board in this process, reached through its own firmware and protocol (no socket).

The fast path for simulation and tests: the board driver
(:class:`instruments.mx64_board.MX64Board`) over an in-process link into the
simulated board's firmware, so that the protocol runs in every test.
"""

from __future__ import annotations

from typing import Any

from instruments.mx64_board import InProcessLink, MX64Board
from sim_chip import MX64, Board, ChipParameters
from sim_chip.firmware import Firmware


def board_driver(board: Board) -> MX64Board:
    """The driver of a simulated board, in process."""
    name = f"MX64 board (in-process simulation, die {board.chip.die_id})"
    return MX64Board(InProcessLink(Firmware(board)), name=name)


def simulated_chip(die_seed: int = 1, params: Any = None, supply: str = "onboard",
                   ideal: bool = False) -> MX64Board:
    """A fresh simulated die on a simulated board, in process (``ideal``: the golden-reference chip)."""
    if ideal:
        params = ChipParameters.ideal()
    return board_driver(Board(MX64(die_seed, params), supply=supply))
