"""Every instrument driver, by the name bench files give it."""

from __future__ import annotations

from .keithley_2450 import Keithley2450
from .keysight_33500 import Keysight33500
from .keysight_34465a import Keysight34465A
from .keysight_e36312a import KeysightE36312A
from .lakeshore_336 import LakeShore336
from .scpi import SCPIInstrument

DRIVERS: dict[str, type[SCPIInstrument]] = {
    "keysight_e36312a": KeysightE36312A,
    "keithley_2450": Keithley2450,
    "keysight_33500": Keysight33500,
    "lakeshore_336": LakeShore336,
    "keysight_34465a": Keysight34465A,
}
