"""benchspec: what the bench is, said once, for the drivers and the simulation alike.

The lowest layer of the project: it imports nothing of ours, and the
drivers (``instruments``), the simulated chip and bench (``sim_chip``) and
the host (``labctl``) all build on it.

* :mod:`benchspec.scpi`: SCPI headers, arguments, the error queue, identities;
* :mod:`benchspec.framing`: IEEE 488.2 blocks and the framing of messages;
* :mod:`benchspec.mx64`: the evaluation board's command table;
* :mod:`benchspec.models`: each lab instrument's command set;
* :mod:`benchspec.wiring`: what is connected where.
"""
