"""Make every figure of the documentation site, from real computation and committed results.

    python docs/scripts/figures.py        # rewrites docs/figures/, then: mkdocs build --strict

Nothing here is drawn by hand:

- concept figures are computed with Keras: the outputs of real perceptrons with
  each activation, a real Conv2D scanning a 6x6 image, the path of real Keras
  optimizers over a 2-D loss surface;
- result figures are read from the committed runs in results/<recipe>/: the
  ones ``zoo_docs.result_figures`` lists from what each results.json records
  (history*.csv; the "images" it names; its "attention_example" and "filters_example" files), so the
  script draws exactly the figures the pages ask for; a missing, unfinished or
  damaged run gives no figure, and the pages say that no run is committed;
- model diagrams are keras.utils.plot_model of every registry entry.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import zoo_docs  # noqa: E402
from check_site import NARROW_SCALE, relative_spread  # noqa: E402  (the site check's rule for colour scales)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

FIGURES = zoo_docs.FIGURES
DPI = 110


def save(figure, relative: str) -> Path:
    """Write the figure, and beside it the colour scales it uses (``scales_file``), which check_site reads."""
    path = FIGURES / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    scales = colour_scales(figure)   # after drawing: a contour's norm is set when it is drawn
    plt.close(figure)
    if scales:
        scales_path = FIGURES / scales_file(relative)
        scales_path.write_text(json.dumps({"figure": relative, "scales": scales}, indent=2) + "\n")
    return path


def scales_file(relative: str) -> str:
    """``results/x-attention.png`` -> ``results/x-attention.scales.json``: where its colour scales are kept."""
    return str(Path(relative).with_suffix(".scales.json"))


def colour_scales(figure) -> list[dict]:
    """Each colour-mapped image or collection of ``figure``: its colour scale and the range of its values.

    RGB pictures (which no colour map draws) and the colour bars' own axes are left out.
    """
    from matplotlib.cm import ScalarMappable

    scales = []
    for axis in figure.axes:
        if axis.get_label() == "<colorbar>":
            continue
        for artist in (*axis.images, *axis.collections):
            values = artist.get_array() if isinstance(artist, ScalarMappable) else None
            if values is None or np.ndim(values) == 3 or artist.norm.vmin is None:
                continue
            values = np.ma.masked_invalid(np.ma.asarray(values, dtype=float)).compressed()
            if values.size == 0:
                continue
            scales.append({"axes": axis.get_title(), "colour_map": artist.get_cmap().name,
                           "vmin": float(artist.norm.vmin), "vmax": float(artist.norm.vmax),
                           "values": [float(values.min()), float(values.max())]})
    return scales


# ----------------------------------------------------------------------- concept figures

PERSONALITIES = (("pessimist", "tanh", "-1 to 1"), ("rationalist", "sigmoid", "0 to 1"),
                 ("optimist", "relu", "0 to infinity"), ("naive", "constant", "one value"))


def activations() -> Path:
    """Each curve is the output of a zoo perceptron with one input, weight 1 and bias 0."""
    import keras

    import zoo

    z = np.linspace(-4, 4, 201, dtype="float32")[:, None]
    figure, axes = plt.subplots(1, 4, figsize=(13, 3.2), sharex=True)
    for axis, (personality, activation, reach) in zip(axes, PERSONALITIES):
        keras.backend.clear_session()
        neuron = zoo.get("perceptron", input_shape=(1,), activation=personality)
        neuron.get_layer("weighted_sum").set_weights([np.ones((1, 1), "float32"), np.zeros((1,), "float32")])
        output = neuron.predict(z, verbose=0)[:, 0]
        axis.axhline(0, color="0.8", linewidth=0.8)
        axis.axvline(0, color="0.8", linewidth=0.8)
        axis.plot(z[:, 0], output, linewidth=2.2, color="tab:orange")
        axis.set_title(f"{activation}: the {personality}\n(output {reach})", fontsize=10)
        axis.set_xlabel("weighted sum z")
        axis.set_ylim(-1.3, 4.2 if activation == "relu" else 1.3)
    axes[0].set_ylabel("output")
    figure.suptitle('zoo.get("perceptron", input_shape=(1,), activation=...) with w = 1, b = 0', fontsize=10,
                    y=1.08)
    return save(figure, "activations.png")


def conv_edge() -> Path:
    """A real keras.layers.Conv2D with the horizontal-edge kernel scans a 6x6 image."""
    import keras

    image = np.zeros((6, 6), "float32")
    image[:3] = 10.0                       # bright on top, dark below
    kernel = np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], "float32")
    keras.backend.clear_session()
    conv = keras.layers.Conv2D(1, 3, use_bias=False, padding="valid", name="horizontal_edge")
    conv.build((1, 6, 6, 1))
    conv.set_weights([kernel[:, :, None, None]])
    output = keras.ops.convert_to_numpy(conv(image[None, :, :, None]))[0, :, :, 0]

    figure, axes = plt.subplots(1, 3, figsize=(12, 4.2), gridspec_kw={"width_ratios": [6, 3, 4]})
    panels = ((image, "input: 6x6 image\n(bright above, dark below)", "gray", 0, 10),
              (kernel, "filter (kernel): 3x3\nhorizontal edge, rows +1, 0, -1", "coolwarm", -1, 1),
              (output, f"output: {output.shape[0]}x{output.shape[1]} feature map\n(Conv2D, stride 1, no padding)",
               "magma", float(output.min()), float(output.max()) or 1.0))
    for axis, (values, title, cmap, low, high) in zip(axes, panels):
        axis.imshow(values, cmap=cmap, vmin=low, vmax=high)
        for (row, col), value in np.ndenumerate(values):
            shade = (value - low) / ((high - low) or 1.0)
            color = "black" if cmap == "coolwarm" or shade > 0.5 else "white"
            axis.text(col, row, f"{value:g}", ha="center", va="center", fontsize=10, color=color)
        axis.set_title(title, fontsize=10)
        axis.set_xticks([])
        axis.set_yticks([])
    # The window that produces output[1, 0]: it straddles the edge.
    axes[0].add_patch(plt.Rectangle((-0.5, 0.5), 3, 3, fill=False, edgecolor="tab:orange", linewidth=3))
    axes[2].add_patch(plt.Rectangle((-0.5, 0.5), 1, 1, fill=False, edgecolor="tab:orange", linewidth=3))
    return save(figure, "conv-edge.png")


def gradient_descent() -> Path:
    """Real Keras optimizers move a 2-D point downhill on an elongated bowl, through fit()."""
    import keras
    from keras import ops

    def surface(w1, w2):
        return 0.5 * w1 ** 2 + 5.0 * w2 ** 2

    start = (-4.5, 1.5)

    class Point(keras.layers.Layer):
        """The two weights being trained; the output is the loss surface at that point."""

        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(2,), initializer=keras.initializers.Constant(start))

        def call(self, inputs):
            return ops.ones_like(inputs) * surface(self.w[0], self.w[1])

    class Record(keras.callbacks.Callback):
        def __init__(self, layer):
            super().__init__()
            self.layer, self.path = layer, [np.array(start)]

        def on_train_batch_end(self, batch, logs=None):
            self.path.append(keras.ops.convert_to_numpy(self.layer.w).copy())

    steps = 30
    optimizers = (keras.optimizers.SGD(learning_rate=0.05), keras.optimizers.SGD(learning_rate=0.18),
                  keras.optimizers.Adam(learning_rate=0.3))
    grid1, grid2 = np.meshgrid(np.linspace(-5, 5, 200), np.linspace(-2.2, 2.2, 200))
    figure, axis = plt.subplots(figsize=(10, 4.6))
    axis.contour(grid1, grid2, surface(grid1, grid2), levels=np.geomspace(0.05, 40, 14), cmap="Greys", linewidths=0.8)
    colors = ("tab:blue", "tab:orange", "tab:green")
    for optimizer, color in zip(optimizers, colors):
        keras.backend.clear_session()
        layer = Point(name="point")
        inputs = keras.Input(shape=(1,))
        model = keras.Model(inputs, layer(inputs))
        # The surface is >= 0, so its mean absolute error against 0 is the surface itself.
        model.compile(optimizer=optimizer, loss="mean_absolute_error")
        record = Record(layer)
        model.fit(np.zeros((1, 1), "float32"), np.zeros((1, 1), "float32"), epochs=steps, batch_size=1,
                  verbose=0, callbacks=[record])
        path = np.array(record.path)
        final = surface(*path[-1])
        config = optimizer.get_config()
        label = (f"{type(optimizer).__name__}, learning rate {float(config['learning_rate']):g}: "
                 f"loss {surface(*path[0]):.2f} -> {final:.3g} in {len(path) - 1} steps")
        axis.plot(path[:, 0], path[:, 1], "o-", markersize=3, linewidth=1.4, color=color, label=label)
    axis.plot([0], [0], "k*", markersize=12, label="minimum")
    axis.set_xlabel("weight w1")
    axis.set_ylabel("weight w2")
    axis.set_title("loss(w1, w2) = 0.5 w1^2 + 5 w2^2: each step goes against the gradient", fontsize=10)
    axis.legend(loc="upper right", fontsize=8)
    axis.set_aspect("equal")
    return save(figure, "gradient-descent.png")


# ------------------------------------------------------------------------ result figures

def training_curves(recipe: str) -> Path:
    """Loss and accuracy per epoch, training (solid) and validation (dashed), for each history*.csv."""
    histories = zoo_docs.load_histories(recipe)
    metrics = [metric for metric in ("loss", "accuracy") if any(metric in h for h in histories.values())]
    if not metrics:
        raise ValueError(f"results/{recipe}/history*.csv logs neither loss nor accuracy")
    figure, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 3.6), squeeze=False)
    # Matplotlib's ten Tableau colours, orange first (the first history's colour on every page), then cycling.
    palette = ["tab:orange", *(name for name in matplotlib.colors.TABLEAU_COLORS if name != "tab:orange")]
    colors = {tag: palette[index % len(palette)] for index, tag in enumerate(histories)}
    for axis, metric in zip(axes[0], metrics):
        for tag, history in histories.items():
            epochs = np.arange(1, len(history.get(metric, [])) + 1)
            for prefix, split, style in (("", "training", "-"), ("val_", "validation", "--")):
                values = np.asarray(history.get(prefix + metric, []), dtype=float)
                if values.size and not np.isnan(values).all():
                    axis.plot(epochs, values, style, color=colors[tag], label=f"{tag} {split}".strip())
        axis.set_xlabel("epoch")
        axis.set_title(metric, fontsize=10)
        axis.legend(fontsize=8)
        axis.grid(alpha=0.3)
    figure.suptitle(f"Training curves of the committed {recipe} run, per epoch", fontsize=9)
    return save(figure, zoo_docs.curves_figure(recipe))


def style_trio(recipe: str) -> Path:
    """The content, style and stylized images that the run's results.json names under "images"."""
    images = zoo_docs.load_results(recipe)["images"]
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.4))
    titles = ("content image", "style image", "stylized: content in that style")
    for axis, role, title in zip(axes, zoo_docs.TRIO, titles):
        axis.imshow(plt.imread(zoo_docs.run_file(recipe, images[role])))
        axis.set_title(title, fontsize=10)
        axis.axis("off")
    return save(figure, zoo_docs.trio_figure(recipe))


def attention_heatmap(recipe: str) -> Path:
    """The attention weights in the file the run's results.json names under "attention_example"."""
    name, record = zoo_docs.attention_example(recipe)
    tokens = record["tokens"]
    weights = np.asarray([row[: len(tokens)] for row in record["weights"][: len(tokens)]], dtype="float32")
    size = max(5.0, 0.32 * len(tokens) + 2)
    figure, axis = plt.subplots(figsize=(size + 1.2, size))
    # From 0, not from the smallest weight: weights within a hair of each other must look alike, not
    # stretched over the whole colour map (each row is a distribution; even attention is 1 / tokens).
    image = axis.imshow(weights, cmap="viridis", vmin=0.0, vmax=float(weights.max()))
    axis.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=8)
    axis.set_yticks(range(len(tokens)), tokens, fontsize=8)
    axis.set_xlabel("attends to (key)")
    axis.set_ylabel("token (query)")
    low, high, even = float(weights.min()), float(weights.max()), 1 / len(tokens)
    spread = f"weights {low:.4f} to {high:.4f}; spread evenly over the tokens, each would be {even:.4f}"
    if relative_spread(low, high) < NARROW_SCALE:   # so close that even a stretched scale would need saying
        spread = f"nearly uniform: {spread}"
    axis.set_title(f"attention weights of the committed {recipe} run (results/{recipe}/{name})\n{spread}",
                   fontsize=10)
    figure.colorbar(image, ax=axis, fraction=0.04, label="attention weight (colour scale from 0)")
    return save(figure, zoo_docs.attention_figure(recipe))


def alignment_maps(recipe: str) -> Path:
    """One heatmap per example of the run's "alignment_example" file: answer characters (rows) by written ones."""
    name, examples = zoo_docs.alignment_example(recipe)
    columns = 2
    rows = -(-len(examples) // columns)
    widest = max(len(example["written"]) for example in examples)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * (0.2 * widest + 1.6), rows * 3.2), squeeze=False,
                                layout="constrained")
    for axis in axes.ravel():
        axis.axis("off")
    for axis, example in zip(axes.ravel(), examples):
        axis.axis("on")
        weights = np.asarray(example["weights"], dtype="float32")
        # Each row is a distribution over the written characters: one scale from 0 to 1 for every map.
        axis.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        axis.set_xticks(range(len(example["written"])), list(example["written"]), fontsize=8)
        axis.set_yticks(range(len(example["answer"])), list(example["answer"]), fontsize=8)
        mark = "right" if example["answer"] == example.get("iso") else f"wrong: the day is {example.get('iso')}"
        axis.set_title(f"{example['written']!r} -> {example['answer']} ({mark})", fontsize=9)
        axis.set_xlabel("written character (read)", fontsize=8)
        axis.set_ylabel("answer character", fontsize=8)
    figure.suptitle(f"attention weights of the committed {recipe} run (results/{recipe}/{name}); "
                    "each row sums to 1, colour scale 0 to 1", fontsize=10)
    return save(figure, zoo_docs.alignment_figure(recipe))


def filters_grid(recipe: str) -> Path:
    """The hand-made edge filter and the learned first-layer filters, each over the same digit.

    From the file the run's results.json names under "filters_example". Filters share one colour
    scale centred on 0 (red positive, blue negative); feature maps share one from 0.
    """
    name, record = zoo_docs.filters_example(recipe)
    kernels = np.asarray(record["kernels"], dtype="float32")
    maps = np.asarray(record["feature_maps"], dtype="float32")
    edge = np.asarray(record["hand_made_edge"]["kernel"], dtype="float32")
    edge_map = np.asarray(record["hand_made_edge"]["feature_map"], dtype="float32")
    columns = 8
    rows = -(-len(kernels) // columns)
    figure, axes = plt.subplots(1 + 2 * rows, columns, figsize=(columns * 1.25, (1 + 2 * rows) * 1.35))
    for axis in axes.ravel():
        axis.axis("off")
    kernel_scale = float(np.abs(kernels).max()) or 1.0
    map_scale = float(maps.max()) or 1.0
    closest = (record.get("closest_to_hand_made") or {}).get("filter")
    top = axes[0]
    top[0].imshow(np.asarray(record["digit"]), cmap="gray", vmin=0.0, vmax=1.0)
    top[0].set_title(f"the digit ({record.get('label', '?')})", fontsize=8)
    top[1].imshow(edge, cmap="RdBu_r", vmin=-1.0, vmax=1.0)
    top[1].set_title("hand-made\nedge filter", fontsize=8)
    edge_limit = float(np.abs(edge_map).max()) or 1.0
    top[2].imshow(edge_map, cmap="RdBu_r", vmin=-edge_limit, vmax=edge_limit)
    top[2].set_title("its map\n(red +, blue -)", fontsize=8)
    top[4].text(0, 0.5, f"below: the {len(kernels)} filters the first layer learned\n(shared scale, red +, blue -)"
                "\nand each one's map of the digit\n(after ReLU, shared scale from 0)", fontsize=8, va="center",
                transform=top[4].transAxes)
    for index, (kernel, feature_map) in enumerate(zip(kernels, maps)):
        row, column = divmod(index, columns)
        kernel_axis, map_axis = axes[1 + 2 * row][column], axes[2 + 2 * row][column]
        kernel_axis.imshow(kernel, cmap="RdBu_r", vmin=-kernel_scale, vmax=kernel_scale)
        marked = " (most edge-like)" if index == closest else ""
        kernel_axis.set_title(f"filter {index}{marked}", fontsize=7)
        map_axis.imshow(feature_map, cmap="viridis", vmin=0.0, vmax=map_scale)
    figure.suptitle(f"first layer of the committed {recipe} run (results/{recipe}/{name})", fontsize=10)
    return save(figure, zoo_docs.filters_figure(recipe))


def baseline_bars(recipe: str) -> Path:
    """The zoo model's number beside its baseline's, both from the run's results.json."""
    label, bars = zoo_docs.comparison(zoo_docs.load_results(recipe))
    figure, axis = plt.subplots(figsize=(6.5, 2.2))
    names, values = zip(*bars)
    axis.barh(range(len(bars)), values, color=["tab:blue", "tab:gray"])
    axis.set_yticks(range(len(bars)), names, fontsize=9)
    axis.invert_yaxis()
    for row, value in enumerate(values):
        axis.text(value, row, f" {value:.4g}", va="center", fontsize=9)
    axis.set_xlim(0, max(values) * 1.2)
    axis.set_xlabel(label)
    axis.set_title(f"{recipe}: the zoo model and its baseline, same run, same split", fontsize=9)
    return save(figure, zoo_docs.baseline_figure(recipe))


# ------------------------------------------------------------------------ performance

def _bars(axis, labels, values, title, target=None, text="{:.2f}"):
    axis.barh(range(len(values)), values, color="tab:blue")
    axis.set_yticks(range(len(values)), labels, fontsize=8)
    axis.invert_yaxis()
    for row, value in enumerate(values):
        axis.text(value, row, " " + text.format(value), va="center", fontsize=7)
    if target is not None:
        axis.axvline(target, color="tab:red", linestyle="--", linewidth=1)
    axis.set_xlim(0, max([*values, target or 0]) * 1.3)
    axis.set_title(title, fontsize=9)


def speed_bars() -> Path:
    """Twin ratio, share of the float32 peak, and the bfloat16 and XLA speed-ups of every entry."""
    report = zoo_docs.benchmark_report("speed.json")
    names = list(report["entries"])
    summaries = [report["entries"][name]["summary"] for name in names]
    figure, axes = plt.subplots(1, 4, figsize=(13, 2.8), sharey=True)
    twin_target = report["targets"]["twin_ratio"]
    _bars(axes[0], names, [s["twin_ratio"] for s in summaries],
          f"zoo / plain-Keras twin (samples/s; target {twin_target})", target=twin_target)
    _bars(axes[1], names, [100 * s["fraction_of_float32_peak"] for s in summaries],
          "% of the float32 matmul peak", text="{:.1f}")
    for name, axis_row in zip(names, range(len(names))):  # each entry's own target, where it has one
        target = report["entries"][name]["summary"]["targets"].get("fraction_of_float32_peak")
        if target:
            axes[1].plot([100 * target["target"]] * 2, [axis_row - 0.4, axis_row + 0.4], color="tab:red")
    _bars(axes[2], names, [s["bfloat16_speedup"] for s in summaries], "mixed_bfloat16 / float32", target=1.0)
    _bars(axes[3], names, [s["jit_speedup"] for s in summaries], "XLA / no XLA", target=1.0)
    figure.suptitle(f"Training speed, {zoo_docs.hardware(report)} (red: target or parity)", fontsize=9)
    figure.tight_layout()
    return save(figure, zoo_docs.SPEED_FIGURE)


def footprint_bars() -> Path:
    """Cold-start seconds and each recipe's peak memory."""
    report = zoo_docs.benchmark_report("footprint.json")
    figure, axes = plt.subplots(1, 2, figsize=(11, 2.8))
    starts = report["cold_start"]
    _bars(axes[0], list(starts), [row["median_s"] for row in starts.values()], "cold start (s, median)")
    memory = report["peak_memory"]
    _bars(axes[1], list(memory), [row["peak_rss_mib"] for row in memory.values()],
          "peak memory of the full default run (MiB)", text="{:,.0f}")
    figure.suptitle(f"Start-up and memory, {zoo_docs.hardware(report)}", fontsize=9)
    figure.tight_layout()
    return save(figure, zoo_docs.FOOTPRINT_FIGURE)


# ------------------------------------------------------------------------ model diagrams

def model_diagram(name: str) -> Path:
    import keras

    import zoo

    spec = zoo.info(name)
    keras.backend.clear_session()
    arguments = {"weights": None} if "weights" in spec.defaults else {}
    model = zoo.get(name, **arguments)
    path = FIGURES / zoo_docs.model_diagram(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    keras.utils.plot_model(model, to_file=str(path), show_shapes=True, show_layer_names=True, dpi=64)
    return path


def main() -> int:
    started = time.perf_counter()
    # keras.utils.plot_model needs graphviz's dot; without it the diagrams end in an ImportError traceback.
    # Checked before anything is drawn or deleted.
    if shutil.which("dot") is None:
        print("error: the model diagrams need graphviz's `dot` program, which is not on PATH: install graphviz "
              "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), then rerun.", file=sys.stderr)
        return 1
    shutil.rmtree(FIGURES, ignore_errors=True)
    jobs = [("activations", activations), ("conv-edge", conv_edge), ("gradient-descent", gradient_descent)]
    # Performance figures: from the committed benchmark JSON, where it exists (the page says so where not).
    for report, name, draw_job in (("speed.json", "speed", speed_bars), ("footprint.json", "footprint",
                                                                          footprint_bars)):
        if zoo_docs.benchmark_report(report) is not None:
            jobs.append((f"performance {name}", draw_job))
    # Result figures: exactly those the pages will ask for, from finished committed runs only.
    draw = {"curves": training_curves, "trio": style_trio, "attention": attention_heatmap, "filters": filters_grid,
            "alignment": alignment_maps, "baseline": baseline_bars}
    for recipe in zoo_docs.committed_runs():
        for figure in zoo_docs.result_figures(recipe):
            jobs.append((figure.path, lambda draw=draw[figure.kind], recipe=recipe: draw(recipe)))
    jobs += [(f"diagram {name}", lambda name=name: model_diagram(name)) for name in zoo_docs.model_names()]
    for label, job in jobs:
        began = time.perf_counter()
        path = job()
        print(f"{label:<40} {path.relative_to(zoo_docs.REPO)}  ({time.perf_counter() - began:.1f} s)")
    print(f"figures: done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
