"""Binary neural networks for the MX64 array: host side (numpy only) and their runtime on the chip (plan
messages only; no chip model, no run engine).

- ``idx``: IDX files and the MNIST loader (shipped subset by default, any folder with ``--data``)
- ``encoding``: grey levels to +1/-1 input planes (threshold or bit-planes)
- ``conv``: convolutions lowered to matrix products (im2col), max-pooling of +1/-1 maps
- ``network``: the binary network (dense and convolutional layers, host thresholds, output scores), its forward pass
- ``npz``: the network's ``.npz`` file format, versions 1 (dense) and 2 (convolutions) (docs/networks.md)
- ``tiling``: a layer on 64 x 64 tiles: padding, partial sums, schedule, counts
- ``error_model``: the distribution of decoded - ideal column MAC given the ideal MAC
- ``emulation``: a layer's pre-activations with every tile column's MAC error drawn from an error model
- ``chip_layer``: a layer on the chip as plan messages (calibration, error pairs, tiled product, forward pass)
- ``error_runs``: error models measured on the chip, recorded in and read from the run store
- ``evaluation``: per-layer error histograms, confusion matrices, chip-against-emulation agreement
- ``augment``: deterministic warps of training digits
- ``train_mlp``: numpy training of the two-layer perceptron (optionally hardware-aware)
- ``chip_runtime``: plans that run a layer on the chip (program, calibrate, stream, decode), with costs
- ``chip_network``: plans that run a whole network on the chip, layer by layer
- ``stored``: networks, error models and tile calibrations in the run store, by run id
- ``torch_bnn``, ``train_vgg8``, ``train_faces``: PyTorch training of binary convolutional networks (``train`` extra)
- ``faces``, ``detection``: face / non-face patches from scikit-image's data, sliding windows (``faces`` extra)
"""
