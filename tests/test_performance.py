"""The benchmark suite: its FLOP count, the plain-Keras twins, smoke runs of its scripts, the committed
numbers and the Performance page made from them.

The benchmarks themselves are not tests (timings do not belong in a timed suite): these tests
check that the scripts run (``--quick``), count what they claim, and that what is committed in
benchmarks/results/ is complete, consistent and shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import zoo

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
RESULTS = BENCHMARKS / "results"
sys.path.insert(0, str(ROOT / "docs" / "scripts"))

import zoo_docs  # noqa: E402


@pytest.fixture(scope="module")
def bench(benchmark_scripts):
    """benchmarks/machine.py and speed.py, imported as their scripts import each other (from their folder)."""
    with benchmark_scripts("machine", "speed") as modules:
        yield modules


def _run(script: str, *argv: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *argv], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


# ------------------------------------------------------------------------ the FLOP count

def test_flop_count_matches_the_formulas_layer_by_layer(bench):
    import keras

    machine, _ = bench

    def flops(inputs, outputs):
        return machine.forward_flops(keras.Model(inputs, outputs))

    x = keras.Input((10,))
    assert flops(x, keras.layers.Dense(7)(x)) == 2 * 10 * 7
    x = keras.Input((4, 10))  # a Dense on each of 4 positions
    assert flops(x, keras.layers.Dense(7)(x)) == 2 * 4 * 10 * 7
    x = keras.Input((8, 8, 3))
    assert flops(x, keras.layers.Conv2D(4, 3, padding="same")(x)) == 2 * 8 * 8 * 4 * 3 * 3 * 3
    assert flops(x, keras.layers.Conv2D(4, 3)(x)) == 2 * 6 * 6 * 4 * 3 * 3 * 3  # "valid": 6x6 outputs
    x = keras.Input((20, 3))   # 20 steps, 3 channels
    assert flops(x, keras.layers.Conv1D(4, 5, padding="same")(x)) == 2 * 20 * 4 * 5 * 3
    assert flops(x, keras.layers.Conv1D(4, 5)(x)) == 2 * 16 * 4 * 5 * 3   # "valid": 16 steps
    x = keras.Input((5, 6))
    assert flops(x, keras.layers.LSTM(4)(x)) == 2 * 5 * 4 * 4 * (6 + 4)  # four gates over [input, state]
    assert flops(x, keras.layers.Bidirectional(keras.layers.LSTM(4))(x)) == 2 * 2 * 5 * 4 * 4 * (6 + 4)
    x = keras.Input((3, 8, 8, 1))   # a sequence of 3 images, each read by the same small model
    image = keras.Input((8, 8, 1))
    reader = keras.Model(image, keras.layers.Conv2D(4, 3, padding="same")(image))
    assert flops(x, keras.layers.TimeDistributed(reader)(x)) == 3 * 2 * 8 * 8 * 4 * 3 * 3 * 1
    x = keras.Input((None,), dtype="int32")  # an open length is filled in by the caller
    model = keras.Model(x, keras.layers.LSTM(4)(keras.layers.Embedding(9, 6)(x)))
    assert machine.forward_flops(model, length=5) == 2 * 5 * 4 * 4 * (6 + 4)
    with pytest.raises(ValueError, match="unknown length: pass length"):
        machine.forward_flops(model)
    x = keras.Input((5, 8))
    attention = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)(x, x)
    projections = 2 * (5 * 8 * 6) * 4  # query, key, value and output, each 8 <-> 2 heads x 3
    scores_and_sum = 2 * 2 * (5 * 5 * 2 * 3)
    assert flops(x, attention) == projections + scores_and_sum


def test_vgg16_counts_the_published_thirty_gigaflops_at_224(bench):
    """Simonyan & Zisserman's VGG-16 convolutions: 15.35 G multiply-adds for one 224x224 image."""
    import keras

    machine, _ = bench
    base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(224, 224, 3))
    assert machine.forward_flops(base) == pytest.approx(2 * 15.35e9, rel=0.01)
    assert machine.training_flops(base) == 3 * machine.forward_flops(base)


def test_the_zoo_encoder_block_counts_as_its_stock_layers(bench):
    import keras

    from zoo.layers import TransformerEncoder

    machine, _ = bench
    x = keras.Input((6, 8))
    block = keras.Model(x, TransformerEncoder(8, 2, 16)(x))
    stock = keras.layers.MultiHeadAttention(2, 4)(x, x)
    stock = keras.layers.Dense(8)(keras.layers.Dense(16)(stock))
    assert machine.forward_flops(block) == machine.forward_flops(keras.Model(x, stock))


@pytest.mark.parametrize("name", [name for name in zoo.list_models() if name != "style_transfer"])
def test_each_twin_is_the_same_network_in_stock_keras(bench, name):
    """Same parameters and FLOPs as the zoo model, no zoo layer inside, float32 outputs."""
    import zoo.layers

    machine, speed = bench
    size = speed.SIZES["quick"][name]
    model, twin = zoo.get(name, **size["arguments"]), speed.twin(name, size["arguments"])
    assert twin.count_params() == model.count_params()
    assert machine.forward_flops(twin, size.get("length")) == machine.forward_flops(model, size.get("length"))
    custom = tuple(getattr(zoo.layers, layer) for layer in zoo.layers.__all__)
    assert not [layer.name for layer in twin._flatten_layers() if isinstance(layer, custom)]
    assert twin.output.dtype == "float32"


def test_the_peak_is_a_real_measurement(bench):
    machine, _ = bench
    peak = machine.matmul_peak("float32", size=128, repeats=2)
    assert peak["flops_per_s"] == pytest.approx(2 * 128**3 / peak["seconds"], rel=0.02)
    assert peak["flops_per_s"] > 1e7  # a 2-core CPU does about 1e11


# ------------------------------------------------------------------------ the scripts' smoke runs

def test_speed_quick_times_every_variant_and_writes_its_report(bench, tmp_path, capsys):
    """In this process (Keras is imported already): the zoo's own layers, and the pixel painter."""
    _, speed = bench
    out = tmp_path / "speed.json"
    speed.main(["--quick", "mini_transformer", "style_transfer", "--out", str(out)])
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert list(report["entries"]) == ["mini_transformer", "style_transfer"]
    assert report["environment"]["cpu"]["cores"] >= 1 and report["environment"]["keras_backend"] == "tensorflow"
    for name, row in report["entries"].items():
        assert set(row["variants"]) == {"zoo", "twin", "zoo_jit", "zoo_bfloat16"}
        assert all(v["samples_per_s"] > 0 for v in row["variants"].values()), row
        assert row["summary"]["twin_ratio"] > 0 and row["training_flops_per_sample"] > 0
        assert f"{name}:" in printed
    assert "fraction_of_float32_peak" in report["entries"]["style_transfer"]["summary"]["targets"]
    assert report["entries"]["style_transfer"]["samples_per_round"] == 2  # steps timed one by one, summed


def test_speed_names_an_unknown_entry():
    done = subprocess.run([sys.executable, str(BENCHMARKS / "speed.py"), "resnet"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "unknown entry resnet; choose from perceptron, mlp" in done.stderr


@pytest.fixture()
def footprint(benchmark_scripts):
    """benchmarks/footprint.py as a module, imported as its script imports machine.py (from its folder)."""
    with benchmark_scripts("footprint") as (module,):
        yield module


def test_footprint_of_some_entries_keeps_the_other_rows_and_says_who_measured_each(footprint):
    earlier = {"command": "python benchmarks/footprint.py", "cold_start": {"zoo list": {"median_s": 0.1},
               "zoo.get('mlp')": {"median_s": 6.0}}, "peak_memory": {"mlp": {"peak_rss_mib": 900.0}}}
    fresh = {"command": "python benchmarks/footprint.py convnet", "repeats": 3,
             "cold_start": {"zoo list": {"median_s": 0.2}, "zoo.get('convnet')": {"median_s": 5.0}},
             "peak_memory": {"convnet": {"peak_rss_mib": 800.0}}}
    report = footprint.merged(earlier, fresh)
    assert report["command"] == "python benchmarks/footprint.py" and report["repeats"] == 3
    assert report["cold_start"] == {
        "zoo list": {"median_s": 0.2, "measured_by": "python benchmarks/footprint.py convnet"},
        "zoo.get('mlp')": {"median_s": 6.0, "measured_by": "python benchmarks/footprint.py"},
        "zoo.get('convnet')": {"median_s": 5.0, "measured_by": "python benchmarks/footprint.py convnet"}}
    assert report["peak_memory"]["mlp"]["measured_by"] == "python benchmarks/footprint.py"
    assert report["peak_memory"]["convnet"] == {"peak_rss_mib": 800.0,
                                                "measured_by": "python benchmarks/footprint.py convnet"}


def test_footprint_rows_kept_from_another_machine_keep_that_machine(footprint, monkeypatch):
    amd = {"cpu": {"cores": 2, "model": "AMD EPYC"}, "machine": {"platform": "A"}, "packages": {"keras": "3.1"}}
    intel = {"cpu": {"cores": 2, "model": "Intel Xeon"}, "machine": {"platform": "B"}, "packages": {"keras": "3.1"}}
    earlier = {"command": "python benchmarks/footprint.py", "environment": amd,
               "cold_start": {"zoo list": {"median_s": 0.1, "command": "-m zoo list"}},
               "peak_memory": {"mlp": {"peak_rss_mib": 900.0, "wall_s": 30.0, "command": "python -m zoo.recipes.mlp"}}}
    fresh = {"command": "python benchmarks/footprint.py convnet", "environment": intel, "cold_start": {},
             "peak_memory": {"convnet": {"peak_rss_mib": 800.0, "wall_s": 90.0,
                                         "command": "python -m zoo.recipes.convnet"}}}
    report = footprint.merged(earlier, fresh)
    assert report["environment"] == intel and "environment" not in report["peak_memory"]["convnet"]
    assert report["peak_memory"]["mlp"]["environment"] == amd == report["cold_start"]["zoo list"]["environment"]
    assert footprint.merged(report, {**fresh, "peak_memory": {}})["peak_memory"]["mlp"]["environment"] == amd
    same = footprint.merged({**earlier, "environment": intel}, fresh)   # one machine: no row says it again
    assert "environment" not in same["peak_memory"]["mlp"] and "environment" not in same["cold_start"]["zoo list"]
    # The page names each row's machine when they differ, and the one machine when they do not.
    monkeypatch.setattr(zoo_docs, "figure_link", lambda relative, page_src, alt: f"![{alt}](figures/{relative})")
    for merged, mixed in ((report, True), (same, False)):
        monkeypatch.setattr(zoo_docs, "benchmark_report", lambda name, merged=merged: merged)
        text = zoo_docs.footprint_section("performance.md")
        assert ("| `mlp` | 900 MiB |" in text) and ("2-core AMD EPYC CPU" in text) is mixed
        assert ("Measured on the machine each row names" in text) is mixed
        assert "2-core Intel Xeon CPU" in text


def test_footprint_starts_each_entry_at_its_defaults_without_downloading_weights(footprint):
    assert footprint.get_code("vgg16_transfer") == "import zoo; zoo.get('vgg16_transfer', weights=None)"
    assert footprint.get_code("mlp") == "import zoo; zoo.get('mlp')"


def test_footprint_quick_measures_start_and_memory(tmp_path):
    out = tmp_path / "footprint.json"
    _run("footprint.py", "--quick", "--out", str(out))
    report = json.loads(out.read_text())
    assert set(report["cold_start"]) == {"zoo list"}
    assert report["cold_start"]["zoo list"]["command"] == "-m zoo list"
    assert report["peak_memory"]["perceptron"]["peak_rss_mib"] > 50  # TensorFlow alone takes more
    assert report["peak_memory"]["perceptron"]["command"] == "python -m zoo.recipes.perceptron --quick"


# ------------------------------------------------------------------------ the committed numbers

def _committed(name: str) -> dict:
    path = RESULTS / name
    assert path.exists(), f"benchmarks/results/{name} is missing: run python benchmarks/{name[:-5]}.py"
    return json.loads(path.read_text())


def test_the_committed_speed_report_covers_every_entry_and_its_summaries_follow_from_its_timings(bench):
    _, speed = bench
    report = _committed("speed.json")
    assert sorted(report["entries"]) == sorted(zoo.list_models())
    assert report["command"] == "python benchmarks/speed.py" and report["rounds"] >= 3
    features = report["environment"]["cpu"]["features"]
    for name, row in report["entries"].items():
        assert all(len(v["rounds_s"]) == report["rounds"] for v in row["variants"].values()), name
        assert speed.summarise(name, row, row["matmul_peak"], features) == row["summary"], name


def test_the_committed_footprint_covers_every_entry_and_recipe():
    report = _committed("footprint.json")
    assert set(report["cold_start"]) == {"zoo list", "import keras", *(f"zoo.get({n!r})" for n in zoo.list_models())}
    assert sorted(report["peak_memory"]) == sorted(zoo.registry.recipes())
    assert all(row["command"] == f"python -m zoo.recipes.{recipe}" for recipe, row in report["peak_memory"].items())
    # zoo list reads the registry without Keras: it starts faster than Keras imports.
    assert report["cold_start"]["zoo list"]["median_s"] < report["cold_start"]["import keras"]["median_s"] / 4


def test_quick_runs_times_each_smoke_test_in_a_fresh_process_and_judges_it_by_the_goal(tmp_path):
    out = tmp_path / "quick_runs.json"
    _run("quick_runs.py", "--quick", "--out", str(out))
    report = json.loads(out.read_text())
    assert report["command"] == "python benchmarks/quick_runs.py --quick" and report["goal_s"] == 60
    row = report["quick_runs"]["perceptron"]
    assert row["command"] == "python -m zoo.recipes.perceptron --quick" and row["wall_s"] > 0
    assert row["peak_rss_mib"] > 0 and row["goal_met"] == (row["wall_s"] < report["goal_s"])


def test_quick_runs_refuses_a_recipe_it_does_not_know_before_running_any():
    done = subprocess.run([sys.executable, str(BENCHMARKS / "quick_runs.py"), "perceptron", "mini_brt"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and "no recipe named mini_brt: choose from perceptron" in done.stderr
    assert "peak" not in done.stdout


def test_quick_runs_of_some_recipes_keep_the_other_rows(benchmark_scripts):
    with benchmark_scripts("footprint") as (footprint,):
        earlier = {"command": "python benchmarks/quick_runs.py", "quick_runs": {"mlp": {"wall_s": 20.0},
                                                                                 "mini_bert": {"wall_s": 70.0}}}
        fresh = {"command": "python benchmarks/quick_runs.py mini_bert", "quick_runs": {"mini_bert": {"wall_s": 40.0}}}
        report = footprint.merged(earlier, fresh, sections=("quick_runs",))
    assert report["command"] == "python benchmarks/quick_runs.py" and report["quick_runs"] == {
        "mlp": {"wall_s": 20.0, "measured_by": "python benchmarks/quick_runs.py"},
        "mini_bert": {"wall_s": 40.0, "measured_by": "python benchmarks/quick_runs.py mini_bert"}}


def test_the_committed_quick_runs_cover_every_recipe_and_judge_each_by_the_goal():
    report = _committed("quick_runs.json")
    assert sorted(report["quick_runs"]) == sorted(zoo.registry.recipes())
    for recipe, row in report["quick_runs"].items():
        assert row["command"] == f"python -m zoo.recipes.{recipe} --quick"
        assert row["goal_met"] == (row["wall_s"] < report["goal_s"]), recipe


# ------------------------------------------------------------------------ the pages

def test_the_performance_page_shows_every_committed_number(monkeypatch):
    # The figures are drawn after the tests (docs/scripts/figures.py, then the strict build fails without them).
    monkeypatch.setattr(zoo_docs, "figure_link", lambda relative, page_src, alt: f"![{alt}](figures/{relative})")
    speed, footprint = _committed("speed.json"), _committed("footprint.json")
    text = zoo_docs.speed_section("performance.md")
    for name, row in speed["entries"].items():
        line = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"{row['summary']['twin_ratio']:.3f}" in line
        assert f"{row['summary']['fraction_of_float32_peak']:.1%}" in line
        missed = [key for key, target in row["summary"]["targets"].items() if not target["met"]]
        assert line.count("**missed**") == len(missed), (name, line)
    assert "figures/performance/speed.png" in text
    text = zoo_docs.footprint_section("performance.md")
    for recipe, row in footprint["peak_memory"].items():
        assert f"| `{recipe}` | {row['peak_rss_mib']:,.0f} MiB |" in text
    quick, text = _committed("quick_runs.json"), zoo_docs.quick_runs_section("performance.md")
    for recipe, row in quick["quick_runs"].items():
        verdict = "met" if row["goal_met"] else "**missed**"
        assert f"| `{recipe}` | {zoo_docs._seconds(row['wall_s'])} | {row['peak_rss_mib']:,.0f} MiB | {verdict} |" in text


def test_the_scaling_page_lists_every_benchmark_with_its_hardware():
    table = zoo_docs.measured_table("scaling.md")
    for path in RESULTS.glob("*.json"):
        if "environment" in json.loads(path.read_text()):
            assert f"`benchmarks/results/{path.name}`" in table
    assert "speed.json" in table and "footprint.json" in table


def test_without_a_committed_gpu_run_the_page_says_how_to_make_one(monkeypatch, tmp_path):
    monkeypatch.setattr(zoo_docs, "BENCHMARKS", tmp_path)
    assert "No GPU run is committed yet" in zoo_docs.gpu_section("performance.md")
    assert "No speed benchmark is committed yet: run `python benchmarks/speed.py`" in zoo_docs.speed_section("x.md")
