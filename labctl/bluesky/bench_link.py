"""How ophyd-async devices reach a labctl bench: one open bench shared by a tree of devices, a signal
backend that reads and sets through the bench's drivers, and the connector that opens the bench.

``connect()`` opens the bench its configuration names (a bench file: real instruments or a served
simulation); ``connect(mock=True)`` opens its simulated twin instead (the built-in simulated bench
with the same wiring, rails, limits and die seed), never ophyd-async's empty mock.  Every value is
checked against the instrument's range and the bench's safety limits before anything is sent
(``check_value``, as ``bluesky.simulators.check_limits`` asks, and again when it is set), then the
drivers check it once more as they send it.  A RunEngine pause (Ctrl-C) turns every output off;
resuming turns back on what was on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from bluesky.protocols import Reading
from event_model import DataKey
from ophyd_async.core import DeviceConnector, SignalBackend, SignalRW, make_datakey

from instruments.errors import OutOfRange

from benchspec.models import COMMAND_SETS

from ..bench import RAILS, Bench, BenchConfig
from ..engine import Interpreter


class NotConnected(RuntimeError):
    """A device used before ``connect()``."""


class BenchLink:
    """The bench behind a tree of devices: opened by the first connect, the real one or its simulated twin."""

    def __init__(self, config: BenchConfig) -> None:
        self.config = config
        self.bench: Bench | None = None
        self.simulated: bool | None = None
        #: the safety limits as the drivers check them (known before anything is opened)
        self.limits = config.limits.for_drivers(config.wiring)
        self._held: dict[str, Any] | None = None

    def open(self, simulated: bool) -> None:
        """Open the bench (``simulated``: its twin); nothing if it is open so already."""
        if self.bench is not None and self.simulated == simulated:
            return
        self.close()
        self.bench = (self.config.twin() if simulated else self.config).open()
        self.simulated = simulated

    @property
    def source(self) -> str:
        return "labctl-sim" if self.simulated or self.config.builtin else "labctl"

    def interpreter(self) -> Interpreter:
        if self.bench is None:
            raise NotConnected(f"the devices of {self.config.source} are not connected: await device.connect() "
                               "(or connect(mock=True) for its simulated twin)")
        return Interpreter(self.bench)

    def close(self) -> None:
        """Every output off and every connection closed."""
        if self.bench is not None:
            bench, self.bench = self.bench, None
            bench.close()

    # ------------------------------------------------------- pause, resume
    def hold(self) -> None:
        """Every output off, remembering what was on (a RunEngine pause)."""
        if self.bench is None or self._held is not None:
            return
        bench, it = self.bench, self.interpreter()
        roles = bench.instruments
        held: dict[str, Any] = {"chip": it.read("chip.powered")}
        held["rails"] = [rail for rail in RAILS
                         if "supply" in roles and it.read(f"supply.ch{bench.wiring.channel(rail)}.output")]
        held["smu"] = it.read("smu.source_voltage") if "smu" in roles and it.read("smu.output") else None
        held["outputs"] = [f"generator.ch{n}.output" for n in COMMAND_SETS["generator"].channels
                           if "generator" in roles and it.read(f"generator.ch{n}.output")]
        held["heaters"] = {f"thermo.ch{n}.heater_range": it.read(f"thermo.ch{n}.heater_range")
                           for n in COMMAND_SETS["thermo"].channels if "thermo" in roles}
        bench.safe_state()
        self._held = held

    def release(self) -> None:
        """Turn back on what :meth:`hold` turned off: the rails in their power-up order, then the rest."""
        if self.bench is None or self._held is None:
            return
        bench, it, held, self._held = self.bench, self.interpreter(), self._held, None
        for rail in ("vddio", "vdd", "vwrite"):
            if rail in held["rails"]:
                it.set(f"supply.ch{bench.wiring.channel(rail)}.output", True)
        if held["chip"]:
            it.call("chip.power_on", (), {})
        if held["smu"] is not None:
            it.set("smu.output", True)
            it.call("smu.ramp_voltage", (held["smu"],), {})
        for target in held["outputs"]:
            it.set(target, True)
        for target, heater in held["heaters"].items():
            it.set(target, heater)


class BenchConnector(DeviceConnector):
    """Opens the bench (or its twin, with ``mock``) and connects every child to it."""

    def __init__(self, link: BenchLink) -> None:
        self.link = link

    async def connect_mock(self, device: Any, mock: Any) -> None:
        self.link.open(simulated=True)
        for _, child in device.children():
            ours = isinstance(getattr(child, "_connector", None), BenchConnector)
            await child.connect(mock=mock if ours else False)

    async def connect_real(self, device: Any, timeout: float, force_reconnect: bool) -> None:
        self.link.open(simulated=False)
        await super().connect_real(device, timeout, force_reconnect)


Check = Callable[[str, Any], Any]


class BenchBackend(SignalBackend):
    """A value of the bench: ``read`` and ``write`` it through the bench's drivers (an interpreter of
    labctl's plan targets); ``check`` refuses a value beyond the instrument's range, ``limit`` names the
    bench safety limit that also applies; ``owner`` names the instrument in refusals."""

    def __init__(self, link: BenchLink, datatype: type, target: str, read: Callable[[Interpreter], Any],
                 write: Callable[[Interpreter, Any], None] | None = None, units: str = "",
                 check: Check | None = None, limit: str | None = None, span: tuple[float, float] | None = None,
                 choices: list[str] | None = None, owner: str = "") -> None:
        super().__init__(datatype)
        self.link, self.target, self._read, self._write = link, target, read, write
        self._check, self.limit, self.owner = check, limit, owner or target.partition(".")[0]
        self.metadata: dict[str, Any] = {"units": units}
        low, high = span if span is not None else (None, None)
        if limit is not None:
            bound = link.limits.bound(limit)
            if bound is not None:
                low = bound[0] if low is None else max(low, bound[0])
                high = bound[1] if high is None else min(high, bound[1])
        if low is not None and high is not None:
            self.metadata["limits"] = {"control": {"low": low, "high": high}}
        if choices:
            self.metadata["choices"] = choices
        self._callback: Callable[[Reading], None] | None = None
        self._setpoint: Any = None

    def source(self, name: str, read: bool) -> str:
        return f"{self.link.source}://{self.target}"

    async def connect(self, timeout: float) -> None:
        self.link.interpreter()

    def check(self, value: Any) -> Any:
        """The value as it will be sent, or OutOfRange / SafetyLimitError; nothing is sent."""
        name = self.target.rpartition(".")[2]
        if self._check is not None:
            value = self._check(name, value)
        if self.limit is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            self.link.limits.check(self.owner, self.limit, float(value))
        return value

    def _convert(self, raw: Any) -> Any:
        datatype: Any = self.datatype
        if datatype is np.ndarray:
            return np.asarray(raw)
        return datatype(raw) if raw is not None else datatype()

    async def get_value(self) -> Any:
        return self._convert(self._read(self.link.interpreter()))

    async def get_reading(self) -> Reading:
        return Reading(value=await self.get_value(), timestamp=time.time(), alarm_severity=0)

    async def get_setpoint(self) -> Any:
        return await self.get_value() if self._setpoint is None else self._setpoint

    async def get_datakey(self, source: str) -> DataKey:
        return make_datakey(self.datatype, await self.get_value(), source, self.metadata)  # type: ignore[arg-type]

    async def put(self, value: Any) -> None:
        write = self._write
        if write is None:
            raise OutOfRange(self.owner, self.target, value, "nothing: it is a reading")
        self.check(value)
        write(self.link.interpreter(), value)
        self._setpoint = value
        if self._callback is not None:
            self._callback(await self.get_reading())

    def set_callback(self, callback: Callable[[Reading], None] | None) -> None:
        self._callback = callback


class BenchSignalRW(SignalRW):
    """A setting of the bench: ``check_value`` refuses, sending nothing, what the instrument or the bench's
    safety limits would not take; a RunEngine pause turns every output off, resuming turns them back on."""

    @property
    def backend(self) -> BenchBackend:
        return cast(BenchBackend, self._connector.backend)

    async def check_value(self, value: Any) -> None:
        self.backend.check(value)

    def check_now(self, value: Any) -> None:
        """The same check, outside an event loop (a plan checking its set points before it starts)."""
        self.backend.check(value)

    def pause(self) -> None:
        self.backend.link.hold()

    def resume(self) -> None:
        self.backend.link.release()
