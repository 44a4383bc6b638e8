"""Offline training of binary networks; only the PyTorch modules need the ``train`` extra.

- ``augment``: deterministic warps of training digits
- ``train_mlp``: numpy training of the two-layer perceptron (optionally hardware-aware), and its command line
- ``command``: what the PyTorch training commands share without torch (architecture, schedule, options)
- ``torch_bnn``: PyTorch training of binary networks, one block per layer kind, exported to the host network
- ``train_vgg8``, ``train_faces``: the command lines that train the shipped VGG-8 and face network
- ``select_vgg8``, ``select_faces``: the command lines that choose, on validation data, which trained network
  (and which detection settings) to ship, and record the choice in its metadata
- ``on_die``: a session on one die of the simulated bench, for the selection commands
"""
