"""sim_chip: the reference backend, a cycle-accurate model of the MX64 and its board.

The model never imports the host packages (labctl, instruments, procedures).

    >>> from sim_chip import MX64, Board
    >>> board = Board(MX64(seed=1))
    >>> board.power_on()
"""

from .board import Board
from .errors import ChipError, InvalidArgument, NotPowered, UnknownRegister
from .macro import CLOCKS, MX64
from .parameters import ChipParameters

__all__ = ["MX64", "Board", "CLOCKS", "ChipParameters",
           "ChipError", "InvalidArgument", "NotPowered", "UnknownRegister"]
