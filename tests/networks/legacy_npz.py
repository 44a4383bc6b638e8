"""Networks written as labctl wrote them before version 3 of the .npz format, to test that they still load."""

from __future__ import annotations

import json

import numpy as np

from procedures.networks.host.layers import Convolution, Pooling, Threshold
from procedures.networks.host.network import BinaryNetwork


def legacy_arrays(net: BinaryNetwork) -> dict[str, np.ndarray]:
    """Version 1 (every layer dense) or 2 (convolutions, each with the pooling that follows it) of ``net``."""
    weighted: list[list] = []                         # [layer, pool after it]
    for layer in net.layers:
        if isinstance(layer, Pooling):
            weighted[-1][1] = layer.size
        else:
            weighted.append([layer, 1])
    convolutional = any(isinstance(layer, Convolution) for layer, _ in weighted)
    output = weighted[-1][0].activation
    arrays = {"format": np.array("labctl-binary-network"), "version": np.array(2 if convolutional else 1, np.int32),
              "input_encoding": np.array(net.encoding.kind), "input_planes": np.array(net.encoding.planes, np.int32),
              "input_threshold": np.array(net.encoding.threshold, np.int32),
              "input_shape": np.array(net.input_shape, np.int32), "layer_count": np.array(len(weighted), np.int32),
              "output_scale": output.scale, "output_offset": output.offset,
              "metadata": np.array(json.dumps(net.metadata, sort_keys=True))}
    for i, (layer, pool) in enumerate(weighted):
        arrays[f"layer{i}_weights"] = layer.weights
        if isinstance(layer.activation, Threshold):
            arrays[f"layer{i}_threshold"], arrays[f"layer{i}_sign"] = layer.activation.threshold, layer.activation.sign
        if isinstance(layer, Convolution):
            for part, value in (("kernel", layer.kernel), ("padding", layer.padding), ("pool", pool)):
                arrays[f"layer{i}_{part}"] = np.array(value, np.int32)
    if convolutional:
        arrays["layer_kinds"] = np.array(["conv" if isinstance(layer, Convolution) else "dense" for layer, _ in weighted])
    return arrays
