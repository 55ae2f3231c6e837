"""What the benchmark scripts share: the machine and versions, a matrix-product peak, a FLOP count.

Imported by the scripts beside it (``import machine``). Nothing here imports
TensorFlow, so ``gpu_check.py`` can use it on machines that only have JAX.

* ``describe()``: the run layer's ``zoo.runs.environment()`` (versions, backend,
  devices) plus the CPU model, its cores and the features that matter for 16-bit
  arithmetic, and the GPUs: recorded in every JSON the benchmarks write.
* ``matmul_peak(dtype)``: floating-point operations per second of the best of a few
  square matrix products through ``keras.ops.matmul``, measured in the calling run:
  the yardstick "% of peak" is computed against.
* ``forward_flops(model, length)``: the floating-point operations of one example's
  forward pass through a Keras model, counted from its layers' shapes: matrix products
  (Dense, attention, LSTM gates) and convolutions, two per multiply-add. Elementwise
  work (activations, normalisation, the optimizer) is left out, as in the usual
  "6 x parameters x tokens" count: it is what a matrix unit does not run.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import time

# CPU feature flags worth recording: which 16-bit formats the cores compute natively.
CPU_FEATURES = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile", "amx_fp16")
# Training costs about three forward passes: the forward pass, then the gradients for each layer's
# input and for its weights, each a product of the same size as the forward one.
TRAINING_PASSES = 3


def _cpu() -> dict:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:  # not Linux: the model from platform, no flags
        pass
    return {"model": model, "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(), "features": [flag for flag in CPU_FEATURES if flag in flags]}


def _gpus() -> list[str]:
    try:
        listing = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in listing.stdout.splitlines() if line.strip()]


def describe() -> dict:
    """The machine, the versions and the backend, for the JSON every benchmark writes."""
    from zoo.runs import environment

    return {**environment(), "cpu": _cpu(), "gpus": _gpus()}


def significant(value: float, digits: int = 3) -> float:
    """``value`` to ``digits`` significant digits: a share of the peak may be 0.00004 or 0.6."""
    return float(f"{value:.{digits}g}")


def _synchronise(value):
    """Wait for ``value`` to be computed (JAX and GPUs run asynchronously) and return it."""
    if hasattr(value, "block_until_ready"):
        return value.block_until_ready()
    import keras

    keras.ops.convert_to_numpy(keras.ops.cast(value[0, 0], "float32"))  # one element: copying all would be timed
    return value


def matmul_peak(dtype: str = "float32", size: int = 2048, repeats: int = 10) -> dict:
    """FLOP/s of the fastest of ``repeats`` (size x size) @ (size x size) products in ``dtype``.

    Under JAX the product is jit-compiled (as Keras compiles a train step); under
    TensorFlow and PyTorch it is one eager op, which calls the same kernel.
    """
    import keras
    import numpy as np

    generator = np.random.default_rng(0)
    a, b = (keras.ops.convert_to_tensor(generator.standard_normal((size, size)), dtype) for _ in range(2))
    product = keras.ops.matmul
    if keras.backend.backend() == "jax":
        import jax

        product = jax.jit(keras.ops.matmul)
    _synchronise(product(a, b))  # compile or warm the kernel
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        _synchronise(product(a, b))
        best = min(best, time.perf_counter() - started)
    flops = 2 * size**3
    return {"dtype": dtype, "size": size, "seconds": significant(best, 4), "flops_per_s": flops / best}


def _shape(tensor, length: int | None) -> tuple[int, ...]:
    """A symbolic tensor's shape without its batch axis, unknown lengths replaced by ``length``.

    A layer called with a mask too (an LSTM after a masking embedding) lists both: the first is the input.
    """
    if isinstance(tensor, (list, tuple)):
        tensor = tensor[0]
    shape = tuple(tensor.shape)[1:]
    if None in shape:
        if length is None:
            raise ValueError(f"a layer's shape {tuple(tensor.shape)} has an unknown length: pass length=...")
        shape = tuple(length if size is None else size for size in shape)
    return shape


def _attention(query_length: int, key_length: int, model_dim: int, heads: int, key_dim: int,
               value_dim: int, output_dim: int) -> int:
    """Multi-head attention: the four projections, the scores and the weighted sum of values."""
    projections = (query_length * model_dim * heads * key_dim + key_length * model_dim * heads * key_dim
                   + key_length * model_dim * heads * value_dim + query_length * heads * value_dim * output_dim)
    return 2 * (projections + query_length * key_length * heads * (key_dim + value_dim))


def layer_flops(layer, length: int | None = None) -> int:
    """FLOPs of one example through ``layer`` as it was called in its model (see the module)."""
    import keras

    from zoo.layers import AttentionDecoder, GramMatrix, TransformerEncoder

    if isinstance(layer, keras.Model):
        return forward_flops(layer, length)
    if isinstance(layer, keras.layers.TimeDistributed):   # the wrapped layer once per step
        return _shape(layer.input, length)[0] * layer_flops(layer.layer, length)
    if isinstance(layer, keras.layers.Bidirectional):
        return 2 * _lstm_flops(layer.forward_layer, _shape(layer.input, length))
    if isinstance(layer, keras.layers.LSTM):
        return _lstm_flops(layer, _shape(layer.input, length))
    if isinstance(layer, keras.layers.LSTMCell):   # one step
        return 2 * 4 * layer.units * (_shape(layer.input, length)[-1] + layer.units)
    if isinstance(layer, AttentionDecoder):
        return _decoder_flops(layer, *_shape(layer.input, length))
    if isinstance(layer, keras.layers.Dense):
        inputs, outputs = _shape(layer.input, length), _shape(layer.output, length)
        return 2 * math.prod(outputs) * inputs[-1]
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D)):   # a 1-D kernel_size is (steps,)
        outputs = _shape(layer.output, length)
        return 2 * math.prod(outputs) * math.prod(layer.kernel_size) * _shape(layer.input, length)[-1] // layer.groups
    if isinstance(layer, keras.layers.MultiHeadAttention):
        query, value = (_shape(tensor, length) for tensor in layer.input[:2])
        return _attention(query[0], value[0], query[-1], layer.num_heads, layer.key_dim,
                          layer.value_dim or layer.key_dim, query[-1])
    if isinstance(layer, TransformerEncoder):
        steps, width = _shape(layer.input, length)
        key_dim = width // layer.num_heads
        return (_attention(steps, steps, width, layer.num_heads, key_dim, key_dim, width)
                + 2 * 2 * steps * width * layer.ff_dim)
    if isinstance(layer, GramMatrix):
        height, width, channels = _shape(layer.input, length)
        return 2 * height * width * channels * channels
    return 0


def _decoder_flops(layer, positions: int, features: int) -> int:
    """The zoo's AttentionDecoder: its start state, then per step the LSTM cell and (with attention) the query
    and scores; the keys once. The softmax-weighted sum of the encoder's outputs is left out, as for the
    stock layers (keras.ops) that do it in a twin."""
    units, space = layer.units, layer.attention_units
    step = 2 * 4 * units * (features + units)
    once = 2 * features * units
    if layer.attention:
        step += 2 * units * space + 2 * positions * space
        once += 2 * positions * features * space
    return once + layer.steps * step


def _lstm_flops(layer, input_shape) -> int:
    steps, features = input_shape
    return 2 * steps * 4 * layer.units * (features + layer.units)


def forward_flops(model, length: int | None = None) -> int:
    """FLOPs of one example's forward pass through ``model`` (nested models counted inside).

    ``length`` stands for the sequence length where the model's input leaves it open.
    """
    return sum(layer_flops(layer, length) * _calls(model, layer) for layer in model.layers)


def _calls(model, layer) -> int:
    """How many times ``model``'s graph calls ``layer``: a decoder's shared layers, once per output step."""
    nodes = getattr(model, "_nodes_by_depth", None) or {}   # a functional model's graph (Keras 3)
    return max(1, sum(node.operation is layer for depth in nodes.values() for node in depth))


def training_flops(model, length: int | None = None) -> int:
    """FLOPs of one training example: ``TRAINING_PASSES`` forward passes (see above)."""
    return TRAINING_PASSES * forward_flops(model, length)


if __name__ == "__main__":  # print this machine's description and float32 peak
    import json

    print(json.dumps({**describe(), "matmul_peak": matmul_peak()}, indent=2), file=sys.stdout)
