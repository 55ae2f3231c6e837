"""GPU check: every zoo entry trains under JAX with Keras data parallelism, in float32 and mixed precision.

    KERAS_BACKEND=jax python benchmarks/gpu_check.py                 # a GPU machine: under 5 minutes on one H100
    KERAS_BACKEND=jax python benchmarks/gpu_check.py --quick         # tiny sizes; also runs on a CPU (tested)
    KERAS_BACKEND=jax python benchmarks/gpu_check.py --precision mixed_float16   # GPUs without bfloat16

``keras.distribution.DataParallel`` puts a replica of each model on every device
JAX sees (all GPUs, or the CPU) and splits each batch between them. Each entry
is trained at a size where a GPU is busy (vgg16_transfer fully fine-tuned at
224x224, style_transfer painting 512x512 pixels, a Transformer wide enough for
16-bit matrix units to pay) once per precision, float32 and the 16-bit policy
(default ``mixed_bfloat16``), and reports samples per second, the TFLOP/s its
matrix products and convolutions reach (``machine.training_flops``) and the
fraction of the matrix-product peak ``machine.matmul_peak`` measures in the same
run, in the same precision, times the devices. Target on an H100: vgg16_transfer
in bfloat16 >= 50% of the peak.

Each model is compiled once: one ``fit`` of three epochs, the first two pay XLA's
compilation, the third is timed. ``mlp`` (scikit-learn's digits) and
``mini_transformer`` (a synthetic token task) also report held-out accuracy, so a
run shows that training still learns under the 16-bit policy; the other entries
train on random inputs, which time the same. Writes
``benchmarks/results/gpu_check-<device>.json`` (or --out).

No TensorFlow is imported (the GPU machines here have JAX but not TensorFlow):
the data are numpy arrays, not ``zoo.data``. Keras itself must be installed;
where it is not, carry wheels of keras, namex and optree (see the device notes).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # machine.py, beside this script
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # the checkout's zoo, installed or not

import machine  # noqa: E402

PRECISIONS = ("mixed_bfloat16", "mixed_float16")
# Model arguments, global batch, timed steps and (for the token task) the examples to draw, per size.
ENTRIES = {
    "full": {
        "perceptron": {"arguments": {"input_shape": (256,)}, "batch": 8192, "steps": 200},
        "mlp": {"arguments": {"input_shape": (64,), "num_classes": 10, "hidden_units": (1024, 1024)},
                "batch": 2048, "steps": 300},
        "convnet": {"arguments": {"input_shape": (28, 28, 1), "num_classes": 10, "filters": (64, 128),
                                  "dense_units": 256}, "batch": 1024, "steps": 100},
        "convnet_1d": {"arguments": {"input_shape": (1024,), "num_classes": 10, "filters": (128, 256, 128)},
                       "batch": 256, "steps": 100},
        "inception": {"arguments": {"input_shape": (64, 64, 3), "num_classes": 10, "stem_filters": 64,
                                    "stages": (2, 2), "width": 256}, "batch": 256, "steps": 60},
        "convnet_lstm": {"arguments": {"input_shape": (8, 28, 28, 1), "num_classes": 73, "filters": (64, 128),
                                       "dense_units": 256, "lstm_units": 512}, "batch": 256, "steps": 60},
        "mini_gpt": {"arguments": {"vocab_size": 256, "sequence_length": 256, "embed_dim": 512, "num_heads": 8,
                                   "ff_dim": 2048, "num_layers": 6}, "length": 256, "batch": 64, "steps": 40},
        "attention_seq2seq": {"arguments": {"source_vocab": 68, "target_vocab": 11, "target_length": 10,
                                            "embedding_dim": 64, "encoder_units": 256, "decoder_units": 512,
                                            "attention_units": 256}, "length": 32, "batch": 1024, "steps": 60},
        "lstm_sentiment": {"arguments": {"vocab_size": 20000, "num_classes": 2, "embedding_dim": 256,
                                         "lstm_units": 512}, "length": 128, "batch": 256, "steps": 40},
        "mini_transformer": {"arguments": {"vocab_size": 8000, "sequence_length": 256, "num_classes": 2,
                                           "embed_dim": 512, "num_heads": 8, "ff_dim": 2048, "num_layers": 4},
                             "length": 256, "batch": 128, "steps": 60, "examples": 32768},
        "mini_bert": {"arguments": {"vocab_size": 8000, "sequence_length": 256, "embed_dim": 512, "num_heads": 8,
                                    "ff_dim": 2048, "num_layers": 4, "max_predictions": 40},
                      "length": 256, "batch": 128, "steps": 60},
        "vgg16_transfer": {"arguments": {"input_shape": (224, 224, 3), "num_classes": 10, "weights": None,
                                         "fine_tune_layers": 13}, "batch": 64, "steps": 40},
        "style_transfer": {"arguments": {"input_shape": (512, 512, 3), "weights": None}, "steps": 30},
    },
    "quick": {
        "perceptron": {"arguments": {"input_shape": (30,)}, "batch": 16, "steps": 2},
        "mlp": {"arguments": {"input_shape": (64,), "num_classes": 10, "hidden_units": (64,)},
                "batch": 64, "steps": 3},
        "convnet": {"arguments": {"input_shape": (12, 12, 1), "num_classes": 3, "filters": (4, 8), "dense_units": 8},
                    "batch": 16, "steps": 2},
        "convnet_1d": {"arguments": {"input_shape": (32,), "num_classes": 3, "filters": (4, 4), "kernel_sizes": (3, 3)},
                       "batch": 16, "steps": 2},
        "inception": {"arguments": {"input_shape": (12, 12, 1), "num_classes": 3, "stem_filters": 4, "stages": (1, 1),
                                    "width": 16}, "batch": 16, "steps": 2},
        "convnet_lstm": {"arguments": {"input_shape": (2, 8, 8, 1), "num_classes": 3, "filters": (4,), "dense_units": 8,
                                       "lstm_units": 8}, "batch": 16, "steps": 2},
        "mini_gpt": {"arguments": {"vocab_size": 20, "sequence_length": 8, "embed_dim": 8, "num_heads": 2, "ff_dim": 8,
                                   "num_layers": 1}, "length": 8, "batch": 16, "steps": 2},
        "attention_seq2seq": {"arguments": {"source_vocab": 20, "target_vocab": 5, "target_length": 3,
                                            "embedding_dim": 4, "encoder_units": 4, "decoder_units": 8,
                                            "attention_units": 4}, "length": 8, "batch": 16, "steps": 2},
        "lstm_sentiment": {"arguments": {"vocab_size": 100, "num_classes": 2, "embedding_dim": 8, "lstm_units": 8},
                           "length": 8, "batch": 16, "steps": 2},
        "mini_transformer": {"arguments": {"vocab_size": 500, "sequence_length": 32, "num_classes": 2,
                                           "embed_dim": 32, "num_heads": 2, "ff_dim": 64, "num_layers": 1},
                             "length": 32, "batch": 32, "steps": 3, "examples": 512},
        "mini_bert": {"arguments": {"vocab_size": 500, "sequence_length": 32, "embed_dim": 32, "num_heads": 2,
                                    "ff_dim": 64, "num_layers": 1, "max_predictions": 5}, "length": 32, "batch": 32,
                      "steps": 3},
        "vgg16_transfer": {"arguments": {"input_shape": (32, 32, 3), "num_classes": 3, "weights": None,
                                         "feature_layer": "block1_pool", "fine_tune_layers": 2},
                           "batch": 4, "steps": 2},
        "style_transfer": {"arguments": {"input_shape": (32, 32, 3), "weights": None,
                                         "content_layers": ("block1_conv2",), "style_layers": ("block1_conv1",)},
                           "steps": 2},
    },
}
SEED = 0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--precision", default="mixed_bfloat16", choices=PRECISIONS,
                        help="the 16-bit Keras dtype policy run beside float32 (default: %(default)s; "
                             "mixed_float16 for GPUs without bfloat16)")
    parser.add_argument("entries", nargs="*", metavar="ENTRY",
                        help=f"some of {', '.join(ENTRIES['full'])} (default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few steps: a smoke test")
    parser.add_argument("--out", default=None, help="JSON file (default: benchmarks/results/gpu_check-<device>.json)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.entries) - set(ENTRIES["full"]))
    if unknown:
        parser.error(f"unknown entries {', '.join(unknown)}; choose from {', '.join(ENTRIES['full'])}")
    return args


def digits_arrays(seed: int):
    """scikit-learn's 8x8 digits, ink scaled to 0..1, split 80/20 with the class balance kept."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x, y = (bunch.data / 16.0).astype("float32"), bunch.target.astype("int32")
    return train_test_split(x, y, test_size=0.2, stratify=y, random_state=seed)


def token_arrays(examples: int, length: int, vocab: int, seed: int):
    """Random token sequences labelled 1 when token 1 occurs more often than token 2: a task attention can learn."""
    import numpy as np

    rng = np.random.default_rng(seed)
    tokens = rng.integers(3, vocab, size=(examples, length), dtype="int32")
    marks = rng.integers(0, 12, size=(examples, 2))  # how many of each marker token to plant
    for row, (ones, twos) in enumerate(marks):
        places = rng.choice(length, size=ones + twos, replace=False)
        tokens[row, places[:ones]], tokens[row, places[ones:]] = 1, 2
    labels = (marks[:, 0] > marks[:, 1]).astype("int32")
    split = int(0.8 * examples)
    return tokens[:split], tokens[split:], labels[:split], labels[split:]


def repeat_to(x, y, count: int):
    """The first ``count`` examples of (x, y) tiled, so a small set fills large batches for timing."""
    import numpy as np

    index = np.arange(count) % len(x)
    return x[index], y[index]


def random_arrays(name: str, entry: dict):
    """Random inputs and labels of the entry's shapes, a timed epoch's worth: speed does not depend on values."""
    import numpy as np

    generator = np.random.default_rng(SEED)
    count, arguments = entry["batch"] * entry["steps"], entry["arguments"]
    if name == "mini_gpt":   # the next token at every position
        shape = (count, entry["length"])
        return (generator.integers(1, arguments["vocab_size"], shape).astype("int32"),
                generator.integers(1, arguments["vocab_size"], shape).astype("int32"))
    if name == "attention_seq2seq":   # written characters in, a token at every output step
        x = generator.integers(1, arguments["source_vocab"], (count, entry["length"])).astype("int32")
        return x, generator.integers(0, arguments["target_vocab"], (count, arguments["target_length"])).astype("int32")
    if name == "mini_bert":   # max_predictions tokens hidden behind the mask id (the last), and the ids they hid
        vocab, hidden = arguments["vocab_size"], arguments["max_predictions"]
        x = generator.integers(1, vocab - 1, (count, entry["length"])).astype("int32")
        x[:, :: entry["length"] // hidden][:, :hidden] = vocab - 1
        return x, generator.integers(1, vocab - 1, (count, hidden)).astype("int32")
    if "length" in entry:
        x = generator.integers(1, arguments["vocab_size"], (count, entry["length"])).astype("int32")
    else:
        x = generator.uniform(0, 255, (count, *arguments["input_shape"])).astype("float32")
    y = generator.integers(0, arguments.get("num_classes", 2), count)
    return x, y.astype("float32" if name == "perceptron" else "int32")


def train_and_time(name: str, model, x, y, entry: dict, devices: int, learning_rate: float = 1e-3,
                   test=None) -> dict:
    """Compile, train three epochs of ``steps`` steps and time the last: the first two pay XLA compilation."""
    import keras
    import numpy as np

    from zoo.callbacks import EpochTimer

    loss = "binary_crossentropy" if name == "perceptron" else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])
    # Keras 3.15 under JAX was seen to compile train_step three times (first step, second step, first
    # step of epoch 2) while the state's sharding settles, and again for a fit of another length: so one
    # fit, and only its third epoch is timed.
    batch, steps = entry["batch"], entry["steps"]
    timed_x, timed_y = repeat_to(x, y, batch * steps)
    timer = EpochTimer()  # waits for each epoch's last step: JAX runs ahead
    history = model.fit(timed_x, timed_y, batch_size=batch, epochs=3, verbose=0, shuffle=True, callbacks=[timer])
    row = {"parameters": int(model.count_params()), "global_batch": batch, "steps": steps,
           "training_flops_per_sample": machine.training_flops(model, entry.get("length")),
           "warmup_epochs_s": [round(t, 2) for t in timer.seconds[:2]], "timed_s": round(timer.seconds[2], 3),
           "samples_per_s": round(batch * steps / timer.seconds[2], 1)}
    loss = float(history.history["loss"][-1])
    row.update(train_loss=round(loss, 4), loss_is_finite=bool(np.isfinite(loss)))
    if test is not None:  # DataParallel splits every batch, the last one too: keep a test set that splits evenly
        x_test, y_test = test
        kept = len(x_test) // devices * devices
        test_loss, test_accuracy = model.evaluate(x_test[:kept], y_test[:kept], batch_size=batch, verbose=0)
        row.update(test_accuracy=round(float(test_accuracy), 4), test_loss=round(float(test_loss), 4))
    return row


def stylize_and_time(entry: dict) -> dict:
    """Optimizer steps per second of ``stylize`` (one step per epoch of Keras's ``fit``), after three warm-up steps.

    One image cannot be split between devices: this one runs on the first device, without DataParallel.
    """
    import keras
    import numpy as np

    import zoo
    from zoo.callbacks import EpochTimer
    from zoo.models.style_transfer import stylize

    generator = np.random.default_rng(SEED)
    content, style = (generator.uniform(0, 255, entry["arguments"]["input_shape"]).astype("float32")
                      for _ in range(2))
    timer, warm = EpochTimer(), 3
    distribution = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        network = zoo.get("style_transfer", **entry["arguments"])
        result = stylize(content, style, network, steps=warm + entry["steps"], callbacks=[timer])
    finally:
        keras.distribution.set_distribution(distribution)
    seconds = sum(timer.seconds[warm:])
    loss = float(result.history["loss"][-1])
    # A step: the forward pass and the gradient for the pixels (frozen weights: no weight gradients).
    return {"parameters": int(network.count_params()), "global_batch": 1, "devices_used": 1, "steps": entry["steps"],
            "training_flops_per_sample": 2 * machine.forward_flops(network),
            "warmup_epochs_s": [round(sum(timer.seconds[:warm]), 2)], "timed_s": round(seconds, 3),
            "samples_per_s": round(entry["steps"] / seconds, 2), "train_loss": round(loss, 4),
            "loss_is_finite": bool(np.isfinite(loss))}


def run_entry(name: str, entry: dict, devices: int) -> dict:
    import zoo

    def per_device(batch):  # DataParallel splits each batch evenly: round to a multiple of the devices
        return max(devices, batch // devices * devices)

    if name == "style_transfer":
        return stylize_and_time(entry)
    entry = {**entry, "batch": per_device(entry["batch"])}
    model = zoo.get(name, **entry["arguments"])
    if name == "mlp":
        x, x_test, y, y_test = digits_arrays(SEED)
        return train_and_time(name, model, x, y, entry, devices, test=(x_test, y_test))
    if name == "mini_transformer":
        x, x_test, y, y_test = token_arrays(entry["examples"], entry["length"], entry["arguments"]["vocab_size"],
                                            SEED)
        return train_and_time(name, model, x, y, entry, devices, learning_rate=3e-4, test=(x_test, y_test))
    x, y = random_arrays(name, entry)
    return train_and_time(name, model, x, y, entry, devices)


def main(argv=None) -> dict:
    args = parse_args(argv)
    backend = os.environ.setdefault("KERAS_BACKEND", "jax")
    if backend != "jax":
        raise SystemExit(f"gpu_check runs under KERAS_BACKEND=jax (now {backend!r}): "
                         f"KERAS_BACKEND=jax python {sys.argv[0]}")
    started = time.perf_counter()
    import jax
    import keras

    from zoo.files import atomic_write_json

    size = "quick" if args.quick else "full"
    devices = keras.distribution.list_devices()
    # One model replica per device, each batch split between them: the same code on 1 GPU, 8 GPUs or a CPU.
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    compute = {"float32": "float32", args.precision: args.precision.removeprefix("mixed_")}
    peak_size = 256 if args.quick else 8192
    peaks = {policy: machine.matmul_peak(dtype, size=peak_size) for policy, dtype in compute.items()}
    flags = sys.argv[1:] if argv is None else list(argv)
    results = {"benchmark": "benchmarks/gpu_check.py",
               "command": " ".join(["KERAS_BACKEND=jax python benchmarks/gpu_check.py", *flags]),
               "precisions": list(compute), "quick": args.quick, "devices": [str(d) for d in devices],
               "device_kind": jax.devices()[0].device_kind, "platform": jax.devices()[0].platform,
               "matmul_peak": peaks, "entries": {}}
    print(f"gpu_check: {len(devices)} device(s) {results['device_kind']} ({results['platform']}), DataParallel; "
          + ", ".join(f"{policy} matmul peak {peak['flops_per_s'] / 1e12:.1f} TFLOP/s" for policy, peak in
                      peaks.items()), flush=True)
    for name in args.entries or list(ENTRIES[size]):
        results["entries"][name] = {}
        for policy in compute:
            keras.config.set_dtype_policy(policy)
            keras.utils.set_random_seed(SEED)
            row = run_entry(name, ENTRIES[size][name], len(devices))
            flops = row["training_flops_per_sample"] * row["samples_per_s"]
            row.update(tflops_per_s=machine.significant(flops / 1e12),
                       fraction_of_peak=machine.significant(flops / (peaks[policy]["flops_per_s"]
                                                                     * row.get("devices_used", len(devices)))))
            results["entries"][name][policy] = row
            accuracy = f", test accuracy {row['test_accuracy']}" if "test_accuracy" in row else ""
            print(f"{name:>17} {policy:>15}: {row['samples_per_s']:>10.1f} samples/s, {row['tflops_per_s']:.2f} "
                  f"TFLOP/s = {100 * row['fraction_of_peak']:.1f}% of peak (warm-up {row['warmup_epochs_s']} s, "
                  f"loss {row['train_loss']}{accuracy})", flush=True)
        keras.config.set_dtype_policy("float32")
    results.update(wall_time_s=round(time.perf_counter() - started, 1),
                   tensorflow_imported=sys.modules.get("tensorflow") is not None, environment=machine.describe())
    label = results["device_kind"].replace(" ", "_").replace("/", "_")
    out = Path(args.out) if args.out else Path(__file__).parent / "results" / f"gpu_check-{label}.json"
    atomic_write_json(out, results)
    print(f"wrote {out} in {results['wall_time_s']} s", flush=True)
    return results


if __name__ == "__main__":
    main()
