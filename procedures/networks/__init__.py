"""Binary neural networks for the MX64 array, host side (numpy only; no chip model, no run engine).

- ``idx``: IDX files and the MNIST loader (shipped subset by default, any folder with ``--data``)
- ``encoding``: grey levels to +1/-1 input planes (threshold or bit-planes)
- ``network``: the binary network (layers, host thresholds, output scores) and its forward pass
- ``npz``: the network's ``.npz`` file format (docs/networks.md)
- ``tiling``: a layer on 64 x 64 tiles: padding, partial sums, schedule, counts
- ``error_model``: the distribution of decoded - ideal column MAC given the ideal MAC
- ``emulation``: a layer's pre-activations with every tile column's MAC error drawn from an error model
- ``augment``: deterministic warps of training digits
- ``train_mlp``: numpy training of the two-layer perceptron (optionally hardware-aware)
"""
