"""procedures: write/verify, MAC, characterisation and network routines, the same on real or simulated silicon.

Every procedure is a plan (:mod:`labctl.plan`) decorated with
:func:`labctl.procedure.procedure` and registered under the
``labctl.procedures`` entry-point group in ``pyproject.toml``.  Procedures
see only the chip interface and the bench's instruments, through plan
messages, never the chip model.
"""
