"""Benchmark: how deep should zoo.data prefetch? Training throughput per epoch, by setting.

    python benchmarks/pipeline.py                       # writes benchmarks/results/pipeline.json
    python benchmarks/pipeline.py --epochs 3 --out /tmp/pipeline.json

Trains the same model with the same data several epochs for each prefetch
setting (none, 1, 2, tf.data.AUTOTUNE) and records samples per second for
every epoch, so a slowdown that builds up over epochs shows. Two workloads:
the mlp on digits (input-light) and the vgg16_transfer head on 200 MNIST
digits at 32x32 with the packaged weights (compute-heavy, frozen base).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

SETTINGS = ("none", "1", "2", "autotune")


def pipeline(dataset, batch_size, setting, seed=0):
    import tensorflow as tf

    train = dataset.train.cache().shuffle(dataset.sizes["train"], seed=seed).batch(batch_size)
    if setting != "none":
        train = train.prefetch(tf.data.AUTOTUNE if setting == "autotune" else int(setting))
    return train


def workloads():
    import keras

    import zoo
    from zoo import data

    digits = data.load("digits", seed=0)

    def mlp():
        model = zoo.get("mlp", input_shape=(64,), num_classes=10)
        model.compile("adam", "sparse_categorical_crossentropy")
        return model

    mnist = data.load("mnist_5k", seed=0, train_size=200)

    def vgg_head():
        inputs = keras.Input((28, 28, 1))
        x = keras.layers.Resizing(32, 32)(inputs)
        x = keras.layers.Concatenate()([x, x, x])
        base = zoo.get("vgg16_transfer", input_shape=(32, 32, 3), num_classes=10, weights="hed_bsds500",
                       feature_layer="block4_pool")
        model = keras.Model(inputs, base(x))
        model.compile("adam", "sparse_categorical_crossentropy")
        return model

    return {"mlp_digits": (digits, mlp, 32), "vgg16_head_mnist200": (mnist, vgg_head, 32)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "pipeline.json"))
    args = parser.parse_args(argv)
    import keras

    from zoo.callbacks import EpochTimer

    results = {}
    for name, (dataset, build, batch_size) in workloads().items():
        results[name] = {}
        for setting in SETTINGS:
            keras.utils.set_random_seed(0)
            model = build()
            timer = EpochTimer()
            model.fit(pipeline(dataset, batch_size, setting), epochs=args.epochs, verbose=0, callbacks=[timer])
            per_epoch = [round(dataset.sizes["train"] / s, 1) for s in timer.seconds]
            steady = sorted(per_epoch[1:])[len(per_epoch[1:]) // 2]  # median, first epoch (tracing) left out
            results[name][setting] = {"samples_per_s_by_epoch": per_epoch, "median_samples_per_s": steady}
            print(f"{name:<22} prefetch={setting:<9} median {steady:>9.1f} samples/s  by epoch {per_epoch}",
                  flush=True)
    record = {"benchmark": "benchmarks/pipeline.py", "command": " ".join(["python", "benchmarks/pipeline.py",
                                                                           *(argv or sys.argv[1:])]),
              "epochs": args.epochs, "results": results,
              "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
              "keras": keras.__version__, "backend": keras.backend.backend(),
              "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
