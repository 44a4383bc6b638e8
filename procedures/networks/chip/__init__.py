"""The network runtime on the chip (plans: plan messages only, no chip model, no run engine) and the chip's
MAC error models.

- ``tiling``: a layer on 64 x 64 tiles: padding, partial sums, replicas, schedule, counts
- ``readout``: the TDC windows the chip holds, reads, a tile's calibration
- ``session``: a session on the chip (windows, energy meter, costs, conditions) and ``chip_session``
- ``layer``: a layer on the chip: program, calibrate (or reuse), stream, decode
- ``network``: a network with chosen layers on the chip, the rest on the host
- ``error_model``: the distribution of decoded - ideal column MAC given the ideal MAC
- ``emulation``: layers with every tile column's MAC error drawn from an error model
- ``error_runs``: error models measured on the chip (generic and per layer), recorded as measured
- ``stored``: networks, error models and tile calibrations in the run store, read back by run id
"""
