"""A small declarative SCPI instrument base on PyVISA.

A driver is a class of :class:`Setting` descriptors (a value on the
instrument: its query, its command, unit, validator and safety limit), made
from its model's command set (:mod:`benchspec.models`), and a few methods.
Every set is validated and limit-checked *before* anything is sent, then
followed by the instrument's error query, so a refused command
raises :class:`~instruments.errors.CommandError` with the instrument's own
text.  Closing an instrument turns its outputs off.

Transports are adapters: :class:`VisaAdapter` (PyVISA: pyvisa-py sockets,
serial, GPIB) or :class:`InProcessAdapter` (a simulated instrument
called directly, for the built-in bench).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from collections.abc import Callable, Mapping

from benchspec.instrument import CommandSet, Quantity, Ramp
from benchspec.scpi import Identity

from .errors import CommandError, LinkError, LinkTimeout, OutOfRange, SafetyLimitError
from .interrupts import shielded
from .sealed import Sealed, checked_setattr


class Clock(Protocol):
    """What drivers wait on: real time on a real bench, virtual time in simulation."""

    def sleep(self, seconds: float) -> None: ...
    def now(self) -> float: ...


class WallClock:
    """Real time."""

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def now(self) -> float:
        return time.monotonic()


# ------------------------------------------------------------------ adapters
class Adapter(Protocol):
    def write(self, command: str) -> None: ...
    def query(self, command: str) -> str: ...
    def close(self) -> None: ...


#: how a VISA resource string starts (interface and board number, then ``::``)
VISA_RESOURCE = re.compile(r"(TCPIP|GPIB|USB|ASRL|VXI|PXI|VICP)\d*::.+", re.IGNORECASE)


class VisaAdapter:
    """A PyVISA message-based resource; ``name`` (the instrument's role) names it in every error."""

    def __init__(self, resource: str, *, read_termination: str = "\n", write_termination: str = "\n",
                 timeout: float = 5.0, resource_manager: Any = None, backend: str = "@py",
                 name: str = "") -> None:
        import pyvisa

        self._errors = pyvisa.errors
        self.resource = resource
        self.label = f"{name} at {resource}" if name else resource
        self.connected = False              #: an exchange has succeeded (a refusal before it: never connected)
        if not VISA_RESOURCE.fullmatch(resource):
            raise LinkError(f"{self.label}: not a VISA resource string (TCPIP::host::port::SOCKET, "
                            "TCPIP::host::INSTR, GPIB0::5::INSTR, USB0::..., ASRL/dev/ttyUSB0::INSTR)")
        try:
            self._rm = resource_manager or pyvisa.ResourceManager(backend)
            self._inst: Any = self._rm.open_resource(resource, read_termination=read_termination,
                                                write_termination=write_termination,
                                                timeout=int(timeout * 1000))
        except (pyvisa.errors.Error, OSError, ValueError, AttributeError) as exc:
            raise LinkError(f"{self.label}: cannot open: {exc}") from None

    def _call(self, fn: Callable[[str], Any], command: str) -> Any:
        try:
            with shielded():                # a stop request waits for the reply
                reply = fn(command)
        except self._errors.VisaIOError as exc:
            if exc.error_code == self._errors.StatusCode.error_timeout:
                raise LinkTimeout(f"{self.label}: no reply to {command!r} (timeout)") from None
            raise LinkError(f"{self.label}: {exc.description}") from None
        except self._errors.Error as exc:
            raise LinkError(f"{self.label}: {exc}") from None
        except (OSError, ConnectionError) as exc:
            if not self.connected:
                raise LinkError(f"{self.label}: cannot connect ({exc.strerror or exc}): is the instrument on and "
                                "the address right? (a served bench: is `labctl sim serve` still running?)") from None
            raise LinkError(f"{self.label}: connection lost: {exc.strerror or exc}") from None
        self.connected = True
        return reply

    def write(self, command: str) -> None:
        self._call(self._inst.write, command)

    def query(self, command: str) -> str:
        return self._call(self._inst.query, command).strip()

    def close(self) -> None:
        """Close this session (the resource manager is shared by every instrument: left open)."""
        try:
            self._inst.close()
        except self._errors.Error:
            pass


class InProcessAdapter:
    """A simulated instrument (``handle_line(text) -> reply``) called directly."""

    def __init__(self, device: Any, lock: Any = None) -> None:
        self.device = device
        self.resource = f"in-process {type(device).__name__}"
        self._lock = lock

    def _handle(self, command: str) -> str | None:
        with shielded():
            if self._lock is None:
                return self.device.handle_line(command)
            with self._lock:
                return self.device.handle_line(command)

    def write(self, command: str) -> None:
        self._handle(command)

    def query(self, command: str) -> str:
        reply = self._handle(command)
        if reply is None:
            raise LinkTimeout(f"{self.resource}: no reply to {command!r}")
        return reply.strip()

    def close(self) -> None:
        """Nothing to release."""


# --------------------------------------------------------------- validators
@dataclass(frozen=True)
class Range:
    """Inclusive numeric range of what the instrument accepts."""

    low: float
    high: float
    unit: str = ""

    def __call__(self, instrument: str, name: str, value: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise OutOfRange(instrument, name, value, f"a number in {self.describe()}") from None
        if not self.low <= number <= self.high or number != number:
            raise OutOfRange(instrument, name, value, self.describe())
        return number

    def describe(self) -> str:
        return f"{self.low:g} .. {self.high:g} {self.unit}".rstrip()


@dataclass(frozen=True)
class Choice:
    """One of a set of values; ``aliases`` map accepted spellings to what is sent."""

    aliases: dict

    def __call__(self, instrument: str, name: str, value: Any) -> Any:
        key = value.upper() if isinstance(value, str) else value
        if key not in self.aliases:
            raise OutOfRange(instrument, name, value, f"one of {sorted(map(str, self.aliases))}")
        return self.aliases[key]

    def describe(self) -> str:
        return "one of " + ", ".join(sorted(map(str, self.aliases)))


# ------------------------------------------------------------------ limits
class Limits:
    """Bench safety limits: name -> (low, high, unit), checked before anything is sent.

    ``names`` maps a driver's own name for a quantity to the limit that
    governs it (a supply channel's ``ch3_voltage`` to the rail ``vwrite`` it
    feeds).  Every check is appended to :attr:`log` when that is a list:
    that is how a dry-run learns what a plan would send.
    """

    def __init__(self, limits: dict[str, tuple[float, float, str]] | None = None,
                 names: dict[str, str] | None = None) -> None:
        self._limits = dict(limits or {})
        self._names = dict(names or {})
        self.log: list[tuple[str, float]] | None = None

    def _key(self, name: str | None) -> str | None:
        """The limit that governs ``name``, or None if none does."""
        key = self._names.get(name, name) if name is not None else None
        return key if key in self._limits else None

    def bound(self, name: str | None) -> tuple[float, float, str] | None:
        """(low, high, unit) of the limit that governs ``name``, or None if none does."""
        key = self._key(name)
        return None if key is None else self._limits[key]

    def describe(self, name: str | None) -> str | None:
        """``"vwrite 0 .. 1.6 V"``: the limit that governs ``name``, or None if none does."""
        key = self._key(name)
        if key is None:
            return None
        low, high, unit = self._limits[key]
        return f"{key} {low:g} .. {high:g} {unit}".rstrip()

    def check(self, instrument: str, name: str | None, value: float) -> None:
        key = self._names.get(name, name) if name is not None else None
        if key is None or key not in self._limits:
            return
        if self.log is not None:
            self.log.append((key, float(value)))
        low, high, unit = self._limits[key]
        if not low <= value <= high:
            raise SafetyLimitError(instrument, key, value, f"{low:g} .. {high:g} {unit}".rstrip())


# ----------------------------------------------------------------- settings
class Setting(property):
    """A value on the instrument.

    A data descriptor (a ``property`` subclass, so that IPython's ``x.name?``
    shows this help instead of querying the instrument).

    ``get``/``set`` are command templates formatted with the owner's
    context (``{ch}`` for channels) and, for ``set``, ``{value}``.
    ``validator`` says what the instrument accepts (or, callable with the
    owner, gives that per channel); ``limit`` names the bench safety limit
    that also applies; ``ramp`` makes a set move in steps.
    """

    def __init__(self, get: str | None, set: str | None, doc: str, unit: str = "",
                 validator: Range | Choice | Callable[[Any], Range] | None = None, parse: Callable[[str], Any] = float,
                 format: Callable[[Any], str] = lambda v: f"{v:.10g}" if isinstance(v, float) else str(v),
                 limit: str | Callable[[Any], str] | None = None, ramp: Ramp | None = None) -> None:
        self.get_command, self.set_command = get, set
        self.unit, self.validator, self.parse, self.format, self.limit = unit, validator, parse, format, limit
        #: the bench limit's name as the command set gives it ({ch} not filled in), for tables of targets
        self.limit_pattern: str | None = limit if isinstance(limit, str) else None
        self.ramp = ramp
        described = getattr(validator, "describe", None)
        allowed = f"; allowed {described()}" if described else ""
        stepped = f"; moves in steps of at most {ramp.step:g} {unit}" if ramp else ""
        self.__doc__ = (f"{doc} ({unit}){allowed}" if unit else f"{doc}{allowed}") + stepped

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        if self.get_command is None:
            raise AttributeError(f"{self.name} can only be set")
        return self.parse(obj.ask(self.get_command.format(**obj.context)))

    def _validator(self, obj: Any) -> Any:
        if self.validator is None or hasattr(self.validator, "describe"):
            return self.validator
        return self.validator(obj)               # made per channel (a range that depends on it)

    def _command(self) -> str:
        if self.set_command is None:
            raise AttributeError(f"{self.name} is read-only")
        return self.set_command

    def __set__(self, obj: Any, value: Any) -> None:
        command = self._command()
        validator = self._validator(obj)
        if validator is not None:
            value = validator(obj.name, self.name, value)
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        limit = self.limit(obj) if callable(self.limit) else self.limit
        if numeric:
            obj.limits.check(obj.name, limit, float(value))
        ramp = self.ramp
        if numeric and ramp is not None and (ramp.while_on is None or getattr(obj, ramp.while_on)):
            return move_in_steps(obj, self.name, float(value), ramp.step, ramp.dwell)
        obj.write(command.format(value=self.format(value), **obj.context))

    def send(self, obj: Any, value: Any) -> None:
        """One command, no validation and no ramp (the steps of :func:`move_in_steps`, already checked)."""
        limit = self.limit(obj) if callable(self.limit) else self.limit
        obj.limits.check(obj.name, limit, float(value))
        obj.write(self._command().format(value=self.format(value), **obj.context))


def _number_reply(text: str) -> float:
    """A numeric reply; the SCPI overflow value (9.9E+37) is infinity."""
    value = float(text)
    return math.inf if value > 9e37 else value


@dataclass(frozen=True)
class NumberOrWord:
    """A number in a range, or one of the words the instrument takes for special values (INF, MAX)."""

    range: Range
    words: dict

    def __call__(self, instrument: str, name: str, value: Any) -> Any:
        key = value.upper() if isinstance(value, str) else value
        for word, meaning in self.words.items():
            if key == word or (not isinstance(key, str) and key == meaning):
                return word
        return self.range(instrument, name, value)

    def describe(self) -> str:
        return f"{self.range.describe()} or {', '.join(self.words)}"


def setting_from(q: Quantity) -> Setting:
    """The driver's setting of a quantity of the instrument's command set."""
    def ranged(owner: Any) -> Range:
        top = q.top(getattr(owner, "number", None))
        return Range(-math.inf if q.low is None else q.low, math.inf if top is None else top, q.unit)

    validator: Any
    parse: Callable[[str], Any] = _number_reply
    if q.kind == "bool":
        validator, parse = Choice({True: "1", False: "0"}), on_off
    elif q.kind == "choice":
        validator = Choice(dict(q.choices or {}))
        labels = dict(q.labels or {})
        parse = (lambda text: labels.get(quoted(text).upper(), quoted(text).upper()))
    elif q.kind == "text":
        validator, parse = None, quoted
    else:
        validator = ranged if isinstance(q.high, Mapping) else ranged(None)
        if q.choices:
            validator = NumberOrWord(validator, dict(q.choices))
        if q.kind == "int":
            parse = (lambda text: int(float(text)))
    fmt = (lambda v: str(int(v))) if q.kind == "int" else (lambda v: f"{v:.10g}" if isinstance(v, float) else str(v))
    if q.quoted:
        fmt = (lambda v: f'"{v}"')
    pattern = q.limit
    limit = pattern if pattern is None or "{ch}" not in pattern else (lambda ch: pattern.format(ch=ch.number))
    setting = Setting(q.command(query=True), q.command(query=False) if q.settable else None, q.doc, q.unit,
                      validator, parse, fmt, limit, q.ramp)
    setting.limit_pattern = pattern          # the bench limit's name, {ch} not filled (labctl.targets)
    return setting


def install_settings(cls: type, quantities: tuple[Quantity, ...]) -> None:
    """Give a driver (or channel) class a setting for every quantity."""
    for q in quantities:
        setting = setting_from(q)
        setting.__set_name__(cls, q.name)
        setattr(cls, q.name, setting)


def move_in_steps(obj: Any, name: str, target: float, step: float, dwell: float) -> None:
    """Move setting ``name`` of ``obj`` to ``target`` in steps of at most ``step``, ``dwell`` s apart.

    The target has been validated and limit-checked; every step is checked
    again as it is sent (it lies between the present value and the target).
    """
    setting = getattr(type(obj), name)
    present = getattr(obj, name)
    steps = max(1, math.ceil(abs(target - present) / step - 1e-9))
    for i in range(1, steps + 1):
        setting.send(obj, present + (target - present) * i / steps)
        if i < steps:
            obj.clock.sleep(dwell)


def on_off(text: str) -> bool:
    return text.strip().upper() in ("1", "ON")


def quoted(text: str) -> str:
    return text.strip().strip('"')


_ERROR = re.compile(r'\s*([+-]?\d+)\s*,\s*"?(.*?)"?\s*$')


class Channels(dict):
    """Channels by number; an unknown number is refused with the list of channels."""

    def __init__(self, owner: str, channels: dict) -> None:
        super().__init__(channels)
        self.owner = owner

    def __missing__(self, key: Any) -> Any:
        raise KeyError(f"{self.owner} has channels {', '.join(map(str, self))}; no channel {key!r}")


def _status_lines(obj: Any) -> list[str]:
    parts = []
    for name in obj.status_settings:
        value = getattr(obj, name)
        value = value() if callable(value) else value
        attr = next((vars(c)[name] for c in type(obj).__mro__ if name in vars(c)), None)
        unit = f" {attr.unit}" if isinstance(attr, Setting) and attr.unit else ""
        parts.append(f"{name} {value:.6g}{unit}" if isinstance(value, float) else f"{name} {value}")
    return ["; ".join(parts)] if parts else []


class SCPIInstrument(metaclass=Sealed):
    """Base of every driver: I/O with error checks, identity, safe shutdown."""

    #: The model's command set; a subclass names it: ``class X(SCPIInstrument, spec=SPEC)``.
    spec: CommandSet = CommandSet(models=(), idn="", role="")
    #: The class of its channels (the channel quantities of the command set are its settings).
    channel_class: type | None = None
    #: Settings (or readings without arguments) that :meth:`status` shows.
    status_settings: tuple[str, ...] = ()

    __setattr__ = checked_setattr

    if TYPE_CHECKING:        # settings are made from the command set when a driver class is created
        def __getattr__(self, name: str) -> Any: ...

    def __init_subclass__(cls, spec: CommandSet | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if spec is not None:
            cls.spec = spec
            install_settings(cls, spec.of_instrument())

    @property
    def models(self) -> tuple[str, ...]:
        """Models this driver is for (checked against ``*IDN?`` by :meth:`check_model`)."""
        return self.spec.models

    @property
    def error_query(self) -> str:
        """Query that pops the oldest error as ``<number>,"<text>"``."""
        return self.spec.error_query

    def __init__(self, adapter: Adapter, name: str | None = None, limits: Limits | None = None,
                 clock: Clock | None = None, check_errors: bool = True) -> None:
        self.adapter = adapter
        self.name = name or type(self).__name__
        self.limits = limits or Limits()
        self.clock = clock or WallClock()
        self.check_errors = check_errors
        self.context: dict[str, Any] = {}
        if self.channel_class is not None:
            self.ch = Channels(self.name, {n: self.channel_class(self, n) for n in self.spec.channels})

    # ------------------------------------------------------------------ I/O
    def write(self, command: str) -> None:
        """Send a command, then check the instrument's error queue."""
        self.adapter.write(command)
        if self.check_errors:
            self.raise_on_error(command)

    def ask(self, command: str) -> str:
        """Send a query and return the reply; a refused query raises CommandError."""
        try:
            return self.adapter.query(command)
        except LinkTimeout:
            self.raise_on_error(command)   # the instrument refused it and said why
            raise

    def next_error(self) -> tuple[int, str]:
        m = _ERROR.match(self.adapter.query(self.error_query))
        if not m:
            raise LinkError(f"{self.name}: unreadable reply to {self.error_query}")
        return int(m.group(1)), m.group(2)

    def raise_on_error(self, command: str) -> None:
        """Raise CommandError if the instrument queued an error (and drain the queue)."""
        code, text = self.next_error()
        if code == 0:
            return
        for _ in range(32):
            if self.next_error()[0] == 0:
                break
        raise CommandError(self.name, command, code, text)

    # -------------------------------------------------------- IEEE 488.2
    def identify(self) -> Identity:
        parts = [p.strip() for p in self.ask("*IDN?").split(",")] + ["", "", "", ""]
        return Identity(*parts[:4])

    def check_model(self) -> Identity:
        """Identify and refuse an instrument this driver is not for."""
        ident = self.identify()
        if self.models and not any(m in ident.model for m in self.models):
            raise LinkError(f"{self.name}: expected one of {', '.join(self.models)}, found {ident.model!r}")
        return ident

    def reset(self) -> None:
        self.write("*RST")

    def clear(self) -> None:
        self.adapter.write("*CLS")

    def wait_complete(self) -> None:
        """Block until the instrument has finished all pending operations (``*OPC?``)."""
        self.ask("*OPC?")

    # ------------------------------------------------------------ help
    def describe(self) -> str:
        """Settings with units and ranges, and methods, as text (the console's help)."""
        return describe(self)

    def getdoc(self) -> str:
        """What IPython's ``x?`` shows: the settings with units and ranges."""
        return describe(self)

    def status(self) -> list[str]:
        """What the instrument is doing now (outputs, levels, protection), a line each."""
        lines = _status_lines(self)
        for number, channel in getattr(self, "ch", {}).items():
            lines += [f"CH{number}: {line}" for line in _status_lines(channel)]
        return lines

    # ----------------------------------------------------------- shutdown
    def shutdown(self) -> None:
        """Put the instrument in a safe state (outputs off); drivers with outputs override."""

    def close(self) -> None:
        """Safe state first, then release the connection."""
        try:
            self.shutdown()
        finally:
            self.adapter.close()

    def __enter__(self) -> SCPIInstrument:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def describe(obj: Any) -> str:
    """Text listing of an instrument's or channel's settings (unit, range) and methods."""
    lines = [f"{obj.name} ({type(obj).__name__})"]
    settings: list[tuple[str, Any]] = []
    methods: list[tuple[str, Any]] = []
    for cls in type(obj).__mro__:
        for name, attr in vars(cls).items():
            if name.startswith("_") or any(name == n for n, _ in settings + methods):
                continue
            if isinstance(attr, (Setting, property)):
                text = (attr.__doc__ or "").strip().splitlines()[0] if attr.__doc__ else ""
                limit = attr.limit(obj) if isinstance(attr, Setting) and callable(attr.limit) else \
                    getattr(attr, "limit", None)
                bench = obj.limits.describe(limit) if limit else None
                settings.append((name, text + (f"; bench limit {bench}" if bench else "")))
            elif callable(attr) and cls not in (object,):
                methods.append((name, (attr.__doc__ or "").strip().splitlines()[0] if attr.__doc__ else ""))
    if settings:
        lines.append("  settings (read, or assign to set):")
        lines += [f"    {n:22s} {d}" for n, d in sorted(settings)]
    if methods:
        lines.append("  methods:")
        lines += [f"    {n + '()':22s} {d}" for n, d in sorted(methods)]
    if hasattr(obj, "ch"):
        lines.append(f"  channels: ch[{', '.join(map(str, obj.ch))}] (help(x.ch[1]) for theirs)")
    return "\n".join(lines)


class ChannelOf(metaclass=Sealed):
    """A channel of a multi-channel instrument: settings formatted with ``{ch}``; a subclass names its
    command set: ``class XChannel(ChannelOf, spec=SPEC)`` (the channel quantities are its settings)."""

    status_settings: tuple[str, ...] = ()
    __setattr__ = checked_setattr

    def __init_subclass__(cls, spec: CommandSet | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if spec is not None:
            install_settings(cls, spec.of_channels())

    def __init__(self, parent: SCPIInstrument, number: int) -> None:
        self.parent = parent
        self.number = number
        self.name = f"{parent.name} CH{number}"
        self.context = {"ch": number}

    @property
    def limits(self) -> Limits:
        return self.parent.limits

    @property
    def clock(self) -> Clock:
        return self.parent.clock

    def write(self, command: str) -> None:
        self.parent.write(command)

    def ask(self, command: str) -> str:
        return self.parent.ask(command)

    def describe(self) -> str:
        """Settings with units and ranges, and methods, as text (the console's help)."""
        return describe(self)

    def getdoc(self) -> str:
        """What IPython's ``x?`` shows: the settings with units and ranges."""
        return describe(self)
