"""Each lab instrument model's command set, as its programming manual describes it (the subset labctl
and its simulated bench use).  ``COMMAND_SETS`` lists them by bench role."""

from . import e36312a, keithley2450, keysight33500, keysight34465a, lakeshore336

COMMAND_SETS = {spec.role: spec for spec in (e36312a.SPEC, keithley2450.SPEC, keysight33500.SPEC,
                                             lakeshore336.SPEC, keysight34465a.SPEC)}
