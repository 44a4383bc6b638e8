"""The binary network and what the host computes with it, numpy only.

- ``layers``: the layer kinds (dense, convolution, pooling) and activations (binary threshold, class scores)
- ``conv``: convolutions lowered to matrix products (im2col), max-pooling of +1/-1 maps
- ``encoding``: grey levels to +1/-1 input planes (threshold or bit-planes)
- ``network``: the network (encoding, layers), its forward pass with any layer product
- ``npz``: the network's ``.npz`` file format (writes version 3, reads 1 to 3) and the shipped networks
- ``idx``: IDX files and the MNIST loader (shipped subset by default, any folder with ``--data``)
- ``faces``: face / non-face patches from scikit-image's bundled data (``faces`` extra)
- ``detection``: sliding windows over an image pyramid, non-maximum suppression (``faces`` extra)
- ``evaluation``: per-layer error histograms, confusion matrices, agreement of two error samples
- ``selection``: choosing among candidates by a rule on validation figures, and the record of the choice
- ``accuracy``: accuracies with their 95 % intervals, paired gaps, means over dies, the procedures' table
"""
