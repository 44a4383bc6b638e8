"""procedures: write/verify, MAC, characterisation and network routines, the same on real or simulated silicon.

Procedures see only the chip interface (:mod:`labctl.chip`) and the bench's
instrument drivers, never the chip model.
"""

from .array_map import ArrayMap
from .energy import Energy
from .mac_transfer import MacTransfer
from .write_verify import WriteVerify

#: every procedure by its command-line name
PROCEDURES = {cls.name: cls for cls in (WriteVerify, ArrayMap, MacTransfer, Energy)}

__all__ = ["PROCEDURES"]
