"""ophyd-async devices of the MX64 bench, made from the same command-set descriptions as labctl's drivers.

``bench = bench_devices(load_bench_config("bench.toml"))`` gives one device tree:

* ``bench.board``: a signal per setting of the board's command table (:data:`benchspec.mx64.SETTINGS`:
  ``clock_hz``, ``write_voltage``, ``write_width`` ... with their units and ranges; the per-column TDC
  window and the held input as arrays) and a reading per state read (``powered``, ``cycle_counter``);
* ``bench.supply``, ``.smu``, ``.generator``, ``.thermo``, ``.dmm`` (those the bench has): a signal per
  quantity of the instrument's command set (:mod:`benchspec.models`), a channel's under ``.ch[n]``, and
  the instrument's measurements as hinted readings (``bench.smu.measure_current``);
* ``bench.rails.vdd``, ``.vddio``, ``.vwrite``: the chip's rails, wherever they come from (V);
* ``bench.power``: set True, the bench's power-up sequence; False, the rails down and every output off;
* ``bench.write_verify``: a detector: each trigger writes a matrix's complement, then the matrix, at the
  present rails, verifies it and reads ``bit_errors``.

Every settable signal's limits are the tighter of the instrument's range and the bench's safety limit;
``connect(mock=True)`` runs on the bench's simulated twin (:mod:`labctl.bluesky.bench_link`).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
from bluesky.protocols import Triggerable
from ophyd_async.core import (AsyncStatus, Device, DeviceVector, SignalR, StandardReadable, soft_signal_r_and_setter,
                              soft_signal_rw)
from ophyd_async.core import StandardReadableFormat as Format

from benchspec import mx64
from benchspec.instrument import Quantity
from benchspec.models import COMMAND_SETS
from benchspec.wiring import RAILS
from instruments.scpi import Range, setting_from

from ..bench import BenchConfig
from ..stubs import random_signs
from .bench_link import BenchBackend, BenchConnector, BenchLink, BenchSignalRW

#: each instrument's measurements (driver methods without arguments) and their units; ``channel``: per channel
READINGS: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "supply": {"channel": (("measure_voltage", "V"), ("measure_current", "A"))},
    "smu": {"instrument": (("measure_voltage", "V"), ("measure_current", "A"), ("measure_resistance", "ohm"))},
    "dmm": {"instrument": (("measure_voltage_dc", "V"), ("measure_resistance", "ohm"))},
    "thermo": {"instrument": (("temperature", "K"),)},
}
#: the bench safety limit of a board setting (the board's own V_WRITE regulator feeds the write rail)
BOARD_LIMITS = {"write_voltage": "vwrite"}
_KINDS = {"float": float, "int": int, "bool": bool, "choice": str, "text": str, "onoff": bool, "column": int}


def _signal(link: BenchLink, datatype: type, target: str, settable: bool, **kw: Any) -> Any:
    read = (lambda it: it.read(target))
    if not settable:
        return SignalR(BenchBackend(link, datatype, target, read, **kw))
    return BenchSignalRW(BenchBackend(link, datatype, target, read, lambda it, v: it.set(target, v), **kw))


def quantity_signal(link: BenchLink, role: str, q: Quantity, channel: int | None = None) -> Any:
    """The signal of one quantity of an instrument's command set (of channel ``channel``)."""
    validator: Any = setting_from(q).validator
    if validator is not None and not hasattr(validator, "describe"):
        validator = validator(SimpleNamespace(number=channel))          # a range that depends on the channel
    owner = role if channel is None else f"{role} CH{channel}"
    check = (lambda name, value: validator(owner, name, value)) if validator is not None else None
    top = q.top(channel)
    numeric = q.kind in ("float", "int") and q.low is not None and top is not None
    choices = sorted(set((q.labels or {}).values()) or set(map(str, (q.choices or {}).values()))) \
        if q.kind == "choice" else None
    target = f"{role}.{q.name}" if channel is None else f"{role}.ch{channel}.{q.name}"
    return _signal(link, _KINDS[q.kind], target, q.settable, units=q.unit, check=check,
                   limit=q.limit.format(ch=channel) if q.limit else None,
                   span=(float(q.low), float(top)) if numeric else None, choices=choices, owner=owner)  # type: ignore[arg-type]


def _readings(device: StandardReadable, link: BenchLink, prefix: str, readings: tuple[tuple[str, str], ...]) -> None:
    with device.add_children_as_readables(Format.HINTED_UNCACHED_SIGNAL):
        for name, unit in readings:
            setattr(device, name, _signal(link, float, f"{prefix}.{name}", False, units=unit))


class ChannelDevice(StandardReadable):
    """One channel of an instrument: a signal per channel quantity of its command set, its readings."""

    def __init__(self, link: BenchLink, role: str, number: int, name: str = "") -> None:
        spec = COMMAND_SETS[role]
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            for q in spec.of_channels():
                setattr(self, q.name, quantity_signal(link, role, q, number))
        _readings(self, link, f"{role}.ch{number}", READINGS.get(role, {}).get("channel", ()))
        super().__init__(name=name, connector=BenchConnector(link))


class InstrumentDevice(StandardReadable):
    """One instrument of the bench: a signal per quantity of its command set, channels under ``ch``."""

    def __init__(self, link: BenchLink, role: str, name: str = "") -> None:
        spec = COMMAND_SETS[role]
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            for q in spec.of_instrument():
                setattr(self, q.name, quantity_signal(link, role, q))
        _readings(self, link, role, READINGS.get(role, {}).get("instrument", ()))
        if spec.channels:
            self.ch = DeviceVector({n: ChannelDevice(link, role, n) for n in spec.channels},
                                   connector=BenchConnector(link))
        super().__init__(name=name, connector=BenchConnector(link))


class BoardDevice(StandardReadable):
    """The MX64 evaluation board: a signal per setting of its command table, a reading per state read."""

    def __init__(self, link: BenchLink, name: str = "") -> None:
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            for setting in mx64.SETTINGS:
                setattr(self, setting.name, self._setting(link, setting))
        with self.add_children_as_readables(Format.HINTED_UNCACHED_SIGNAL):
            for row in mx64.COMMANDS:
                if row.reading:
                    setattr(self, row.name, _signal(link, _KINDS[str(row.reply)], f"chip.{row.name}", False,
                                                    units=row.unit))
        super().__init__(name=name, connector=BenchConnector(link))

    @staticmethod
    def _setting(link: BenchLink, setting: mx64.Setting) -> Any:
        target, value = f"chip.{setting.name}", setting.value
        if isinstance(value, mx64.Data) or setting.per_column:     # arrays: the held input, per-column windows
            unit = value.unit if isinstance(value, mx64.Arg) else ""
            return _signal(link, np.ndarray, target, False, units=unit)
        span = (float(value.low), float(value.high)) if value.low is not None and value.high is not None else None
        check = Range(*span, value.unit) if span else None
        if value.kind == "column":                                   # -1: no column routed
            return BenchSignalRW(BenchBackend(
                link, int, target, lambda it: -1 if it.read(target) is None else it.read(target),
                lambda it, v: it.set(target, None if v < 0 else int(v)), units=value.unit, owner="chip",
                check=lambda name, v: v if v < 0 else int(check("chip", name, v))))  # type: ignore[misc]
        return _signal(link, _KINDS[value.kind], target, True, units=value.unit, span=span, owner="chip",
                       check=(lambda name, v: check("chip", name, v)) if check else None,
                       limit=BOARD_LIMITS.get(setting.name))


class RailsDevice(StandardReadable):
    """The chip's rails (V): the supply channels the wiring names, or the board's regulator for V_WRITE."""

    vdd: BenchSignalRW
    vddio: BenchSignalRW
    vwrite: BenchSignalRW

    def __init__(self, link: BenchLink, name: str = "") -> None:
        with self.add_children_as_readables(Format.HINTED_UNCACHED_SIGNAL):
            for rail in RAILS:
                setattr(self, rail, _signal(link, float, f"rail.{rail}", True, units="V", limit=rail, owner="rail"))
        super().__init__(name=name, connector=BenchConnector(link))


class WriteVerify(StandardReadable, Triggerable):
    """A detector: each trigger writes the complement of a ±1 matrix, then the matrix, at the present rails
    (every cell must switch), verifies it and sets ``bit_errors`` (bits)."""

    def __init__(self, link: BenchLink, matrix_seed: int = 0, name: str = "") -> None:
        self._link = link
        with self.add_children_as_readables(Format.HINTED_SIGNAL):
            self.bit_errors, self._set_errors = soft_signal_r_and_setter(int, units="bits")
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.matrix_seed = soft_signal_rw(int, matrix_seed)
        super().__init__(name=name, connector=BenchConnector(link))

    @AsyncStatus.wrap
    async def trigger(self) -> None:
        weights = random_signs(await self.matrix_seed.get_value())
        it = self._link.interpreter()
        it.call("chip.write_array", (-weights,), {})
        it.call("chip.write_array", (weights,), {})
        self._set_errors(int((it.call("chip.verify_array", (), {}) != weights).sum()))

    def pause(self) -> None:
        self._link.hold()

    def resume(self) -> None:
        self._link.release()


class MX64Bench(Device):
    """The whole bench as one device tree; :meth:`close` turns every output off and closes it."""

    def __init__(self, config: BenchConfig, name: str = "bench", matrix_seed: int = 0) -> None:
        self.link = BenchLink(config)
        self.board = BoardDevice(self.link)
        for role in config.instruments:
            setattr(self, role, InstrumentDevice(self.link, role))
        self.rails = RailsDevice(self.link)
        self.power = BenchSignalRW(BenchBackend(
            self.link, bool, "bench.power", lambda it: it.read("chip.powered"), self._power, owner="bench"))
        self.write_verify = WriteVerify(self.link, matrix_seed)
        super().__init__(name=name, connector=BenchConnector(self.link))

    @staticmethod
    def _power(it: Any, on: bool) -> None:
        if on:
            it.call("bench.power_up", (), {})
        else:
            it.call("bench.power_down", (), {})
            it.call("bench.safe_state", (), {})

    def close(self) -> None:
        self.link.close()


def bench_devices(config: BenchConfig, name: str = "bench", matrix_seed: int = 0) -> MX64Bench:
    """The device tree of a bench (not yet connected: ``await bench.connect()``, or ``connect(mock=True)``
    for its simulated twin)."""
    return MX64Bench(config, name, matrix_seed)
