"""GPU check: two zoo models train under JAX with Keras data parallelism and mixed precision.

    KERAS_BACKEND=jax python benchmarks/gpu_check.py                 # a GPU machine: about 1-3 minutes
    KERAS_BACKEND=jax python benchmarks/gpu_check.py --quick         # a few steps; also runs on a CPU (tested)
    KERAS_BACKEND=jax python benchmarks/gpu_check.py --precision mixed_float16

``keras.distribution.DataParallel`` puts a replica of each model on every device
JAX sees (all GPUs, or the CPU) and splits each batch between them; the dtype
policy (default ``mixed_bfloat16``) computes in 16 bits and keeps float32
weights. The two models are the zoo's ``mlp`` on scikit-learn's handwritten
digits and ``mini_transformer`` on a synthetic token task that can be learned
(is token 1 more frequent than token 2?), so a run shows throughput *and* that
training still learns under the policy: held-out accuracy is reported beside
samples per second. Writes ``benchmarks/results/gpu_check-<device>.json`` (or --out).

No TensorFlow is imported (the GPU machines here have JAX but not TensorFlow):
the data are numpy arrays, not ``zoo.data``. Keras itself must be installed;
where it is not, carry wheels of keras, namex and optree (see the device notes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

PRECISIONS = ("mixed_bfloat16", "mixed_float16", "float32")
# Sizes for a GPU (seconds of timed steps each, after two warm-up epochs that pay the XLA compilation),
# and for --quick: small enough for a 2-core CPU, where bfloat16 arithmetic is emulated and slow.
MLP = {"full": {"hidden_units": (1024, 1024), "batch": 2048, "steps": 300},
       "quick": {"hidden_units": (64,), "batch": 64, "steps": 3}}
TRANSFORMER = {"full": {"sequence_length": 128, "vocab_size": 8000, "embed_dim": 128, "num_heads": 4, "ff_dim": 512,
                        "num_layers": 2, "batch": 256, "steps": 400, "examples": 32768},
               "quick": {"sequence_length": 32, "vocab_size": 500, "embed_dim": 32, "num_heads": 2, "ff_dim": 64,
                         "num_layers": 1, "batch": 32, "steps": 3, "examples": 512}}
SEED = 0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--precision", default="mixed_bfloat16", choices=PRECISIONS,
                        help="Keras dtype policy (default: %(default)s; mixed_float16 for GPUs without bf16)")
    parser.add_argument("--quick", action="store_true", help="a few steps with small batches: a smoke test")
    parser.add_argument("--out", default=None, help="JSON file (default: benchmarks/results/gpu_check-<device>.json)")
    return parser.parse_args(argv)


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


def train_and_time(model, x, y, x_test, y_test, batch: int, steps: int, learning_rate: float, devices: int) -> dict:
    """Compile, train three epochs of ``steps`` steps and time the last: the first two pay XLA compilation."""
    import keras
    import numpy as np

    from zoo.callbacks import EpochTimer

    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    # Keras 3.15 under JAX was seen to compile train_step three times (first step, second step, first
    # step of epoch 2) while the state's sharding settles, and again for a fit of another length: so one
    # fit, and only its third epoch is timed.
    timed_x, timed_y = repeat_to(x, y, batch * steps)
    timer = EpochTimer()  # waits for each epoch's last step: JAX runs ahead
    history = model.fit(timed_x, timed_y, batch_size=batch, epochs=3, verbose=0, shuffle=True, callbacks=[timer])
    # DataParallel splits every batch, the last one too: keep a test set that splits evenly.
    kept = len(x_test) // devices * devices
    test_loss, test_accuracy = model.evaluate(x_test[:kept], y_test[:kept], batch_size=batch, verbose=0)
    loss = float(history.history["loss"][-1])
    return {"parameters": int(model.count_params()), "global_batch": batch, "steps": steps,
            "warmup_epochs_s": [round(t, 2) for t in timer.seconds[:2]], "timed_s": round(timer.seconds[2], 3),
            "samples_per_s": round(batch * steps / timer.seconds[2], 1), "train_loss": round(loss, 4),
            "loss_is_finite": bool(np.isfinite(loss)), "test_accuracy": round(float(test_accuracy), 4),
            "test_loss": round(float(test_loss), 4)}


def main(argv=None) -> dict:
    args = parse_args(argv)
    backend = os.environ.setdefault("KERAS_BACKEND", "jax")
    if backend != "jax":
        raise SystemExit(f"gpu_check runs under KERAS_BACKEND=jax (now {backend!r}): "
                         f"KERAS_BACKEND=jax python {sys.argv[0]}")
    started = time.perf_counter()
    import jax
    import keras

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's zoo, installed or not
    import zoo

    size = "quick" if args.quick else "full"
    devices = keras.distribution.list_devices()
    # One model replica per device, each batch split between them: the same code on 1 GPU, 8 GPUs or a CPU.
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    keras.config.set_dtype_policy(args.precision)
    keras.utils.set_random_seed(SEED)
    results = {"precision": args.precision, "quick": args.quick, "devices": [str(d) for d in devices],
               "device_kind": jax.devices()[0].device_kind, "platform": jax.devices()[0].platform, "models": {}}
    print(f"gpu_check: {len(devices)} device(s) {results['device_kind']} ({results['platform']}), "
          f"{args.precision}, DataParallel", flush=True)

    def per_device(batch):  # DataParallel splits each batch evenly: round to a multiple of the devices
        return max(len(devices), batch // len(devices) * len(devices))

    m = MLP[size]
    x_train, x_test, y_train, y_test = digits_arrays(SEED)
    model = zoo.get("mlp", input_shape=(64,), num_classes=10, hidden_units=m["hidden_units"])
    results["models"]["mlp"] = train_and_time(model, x_train, y_train, x_test, y_test, per_device(m["batch"]),
                                              m["steps"], learning_rate=1e-3, devices=len(devices))

    t = TRANSFORMER[size]
    x_train, x_test, y_train, y_test = token_arrays(t["examples"], t["sequence_length"], t["vocab_size"], SEED)
    model = zoo.get("mini_transformer", vocab_size=t["vocab_size"], sequence_length=t["sequence_length"],
                    num_classes=2, embed_dim=t["embed_dim"], num_heads=t["num_heads"], ff_dim=t["ff_dim"],
                    num_layers=t["num_layers"])
    results["models"]["mini_transformer"] = train_and_time(model, x_train, y_train, x_test, y_test,
                                                           per_device(t["batch"]), t["steps"], learning_rate=3e-4,
                                                           devices=len(devices))
    for name, numbers in results["models"].items():
        print(f"{name:>16}: {numbers['samples_per_s']:>10.1f} samples/s (batch {numbers['global_batch']}, "
              f"{numbers['steps']} steps in {numbers['timed_s']} s; warm-up epochs {numbers['warmup_epochs_s']} s) "
              f"loss {numbers['train_loss']} test accuracy {numbers['test_accuracy']}", flush=True)
    results.update(wall_time_s=round(time.perf_counter() - started, 1),
                   tensorflow_imported=sys.modules.get("tensorflow") is not None,
                   versions={"python": sys.version.split()[0], "keras": keras.__version__, "jax": jax.__version__},
                   machine={"platform": platform.platform(), "cpu_count": os.cpu_count()})
    label = results["device_kind"].replace(" ", "_").replace("/", "_")
    out = Path(args.out) if args.out else Path(__file__).parent / "results" / f"gpu_check-{label}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out} in {results['wall_time_s']} s", flush=True)
    return results


if __name__ == "__main__":
    main()
