"""procedures: write/verify, MAC, characterisation and network routines, the same on real or simulated silicon.

Procedures see only the chip interface (:mod:`labctl.chip`) and the bench's
instrument drivers, never the chip model.
"""

from .array_map import ArrayMap
from .endurance import Endurance
from .energy import Energy
from .mac_transfer import MacTransfer
from .read_disturb import ReadDisturb
from .retention import Retention
from .rv_loop import RVLoop
from .switching_probability import SwitchingProbability
from .write_verify import WriteVerify

#: every procedure by its command-line name
PROCEDURES = {cls.name: cls for cls in (WriteVerify, ArrayMap, MacTransfer, SwitchingProbability, RVLoop,
                                                     ReadDisturb, Retention, Endurance, Energy)}

__all__ = ["PROCEDURES"]
