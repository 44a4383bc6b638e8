"""Binary neural networks for the MX64 array, in three sub-packages by what each part is (docs/networks.md):

- ``host``: the network and what the host computes with it (numpy only): its layers, the forward pass, the
  ``.npz`` format, the data sets, detection and evaluation;
- ``chip``: the runtime that runs layers on the chip, as plan messages (no chip model, no run engine), and the
  chip's error models and their emulation;
- ``training``: offline training, numpy and PyTorch (the ``train`` extra).

``host`` imports neither of the others, ``chip`` imports ``host``, ``training`` both; none imports a registered
procedure.  ``data/`` holds the shipped networks and the MNIST subset.
"""
