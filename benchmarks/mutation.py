"""Mutation testing: how many small bugs planted in the zoo's code do the tests catch? Killed / survived per module.

    python benchmarks/mutation.py                  # every area below: several hours on 2 cores; resumable
    python benchmarks/mutation.py zoo.layers       # one area (a mutmut name glob: zoo.models.mlp, zoo.runs, ...)
    python benchmarks/mutation.py --quick          # a smoke test: zoo/layers/core.py only, nothing written
    python benchmarks/mutation.py --report         # rewrite the report without mutmut (and replant the bugs)

mutmut (``[tool.mutmut]`` in pyproject.toml) copies the package into
``mutants/``, makes hundreds of one-token changes to the code under test (an
operator flipped, a constant changed, an argument dropped, a return value
replaced) and runs, for each, the tests that reach the changed function. A
mutant is *killed* when a test fails, *survived* when all pass, *timeout* when
the tests ran 15x longer than usual (an infinite loop or a model that never
converges counts as caught). The score is (killed + timeout) / all mutants:
a mutant no test reaches counts as survived. Survivors are listed with their
diffs in the report; each is either a missing test or an equivalent mutant
(a change no caller can observe), and the report says which were looked at.

The report goes to ``benchmarks/results/mutation.json`` and ``mutation.md``. A run of some areas
keeps the committed report's numbers for the modules it did not check (mutmut's own results live in
``mutants/``, which a fresh clone lacks), and records the sha256 of each module's code it measured
(comments and docstrings left out: mutmut does not mutate them, so rewording one keeps the numbers).
Not part of CI's default run; ``tests/test_mutation.py`` checks the committed report.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
MUTANTS = ROOT / "mutants"
# What is measured: the models and layers (target: score >= TARGET), the registry,
# the argument checks and the run layer.
AREAS = ("zoo.models", "zoo.layers", "zoo.registry", "zoo._checks", "zoo.runs", "zoo.files")
TARGETS = {"zoo.models": 0.85, "zoo.layers": 0.85}
QUICK = "zoo.layers.core"
# Hypothesis examples per entry in tests/test_arguments.py while mutants are tested (the suite draws 200).
ARGUMENT_EXAMPLES = 40
CAUGHT = ("killed", "timeout")
# Bugs found by planting them by hand, each with the test that must catch it: (what, file,
# original text, buggy text, test). Run by every full report; tests/test_mutation.py checks that
# each original text is still in its file, so the list cannot silently stop applying.
PLANTED = [
    ("vgg16_transfer's head frozen inside split_head (0 trainable weights)", "zoo/models/vgg16_transfer.py",
     "        x = layer(x)\n    return features", "        layer.trainable = False\n        x = layer(x)\n    return features",
     "tests/test_behaviour.py::test_vgg16_transfer_cut_and_split_head_share_the_models_weights"),
    ("every position reads position 0's embedding (word order lost)", "zoo/layers/attention.py",
     "self.position_embedding(positions)", "self.position_embedding(ops.zeros_like(positions))",
     "tests/test_behaviour.py::test_transformer_output_depends_on_token_order"),
    ("the classifier's softmax computes in the mixed policy's 16 bits, not float32", "zoo/layers/core.py",
     'activation="softmax", dtype="float32",', 'activation="softmax",',
     "tests/test_models.py::test_entry_outputs_float32_under_a_mixed_policy[mlp-mixed_float16]"),
    ("the tuner searches outside the MirroredStrategy (tf_strategy = None)", "zoo/tuning.py",
     'tf_strategy = strategy if hasattr(strategy, "extended") else None', "tf_strategy = None",
     "tests/test_tuning.py::test_mirrored_tuning_builds_inside_the_strategy"),
]


def run_mutmut(names: list[str], children: int) -> float:
    """``mutmut run`` over these mutants (names or name globs); returns the seconds it took."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1", ZOO_ARGUMENT_EXAMPLES=str(ARGUMENT_EXAMPLES))
    started = time.perf_counter()
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(children), *names]
    result = subprocess.run(command, cwd=ROOT, env=env)  # mutmut's progress line shows as it goes
    if result.returncode != 0:
        sys.exit(f"mutation: mutmut run failed (exit {result.returncode}); its output is above")
    return time.perf_counter() - started


def to_check(globs: list[str], again: bool, kept: dict[str, str] | None = None) -> list[str]:
    """The mutants of ``globs`` to run: all of them the first time (or ``again``), else those not yet caught.

    The tests only ever grow, so a caught mutant stays caught; a later run rechecks
    the survivors against the new tests and runs the mutants not reached before.
    ``kept`` (``recorded``) adds the committed report's statuses, so a fresh clone,
    which has no ``mutants/``, goes on where the report stopped; a module the
    report does not know (new, or changed since) is run whole.
    """
    import fnmatch

    found = statuses() if MUTANTS.exists() else {}
    known = merged(kept or {}, found)
    matching = {name: status for name, status in known.items()
                if any(fnmatch.fnmatch(name, f"{glob}.*") for glob in globs)}
    if again or not matching:
        return [f"{glob}.*" for glob in globs]
    # mutmut names a mutant module.x_function__mutmut_N (a method: module.xǁClassǁmethod__mutmut_N).
    unknown = [f"{module}.x*" for module in source_digests()
               if any(fnmatch.fnmatch(f"{module}.x", f"{glob}.*") for glob in globs)
               and not any(module_of(name) == module for name in matching)]
    return sorted(name for name, status in matching.items() if status not in CAUGHT) + unknown


def recorded(old: dict) -> dict[str, str]:
    """The committed report's status of each mutant of a module whose code is unchanged since it was measured."""
    current, measured = source_digests(), old.get("sources", {})
    kept = {}
    for module, statuses_of in old.get("mutants_by_module", {}).items():
        if measured.get(module) and measured[module] == current.get(module):
            for status, names in statuses_of.items():
                kept.update({f"{module}.{name}": status for name in names})
    return kept


def merged(kept: dict[str, str], found: dict[str, str]) -> dict[str, str]:
    """``kept`` (committed) overlaid with this clone's mutmut results, except where mutmut has none."""
    return {**kept, **{name: status for name, status in found.items() if status != "not checked" or name not in kept}}


# Survivors looked at and found equivalent: no caller can observe the change. A mutant's number
# follows its function's code: when a function changes, check its reviews against the report's diffs.
_SAME_CAST = ("equivalent: ops.cast(x, None) casts to keras.config.floatx(), float32 unless a user changes it: "
              "the same cast")
_SCALAR_SHAPE = "equivalent: add_weight's shape defaults to (), a scalar"
_NETWORK_CASTS = "equivalent: the loss network's VGGPreprocessing casts pixels of any dtype to float itself"
_QUIET = "equivalent: predict(verbose=None) shows no progress bar either (the test reads stdout)"
_TRAINING_FLAG = ("equivalent: Keras passes the outer call's training flag to a sublayer called without one "
                  "or with training=None (tests/test_layers.py checks dropout acts in training only)")
_EMBEDDING_BUILD = "equivalent: keras.layers.Embedding.build ignores the shape it is given"
_INT_ZEROS = "equivalent: add_weight's initializer defaults to zeros for an integer weight"
_DENSE_BUILD = "equivalent: keras.layers.Dense.build reads only the last axis of the shape it is given"
# KerasTuner's own default when none is given: a Float's min_value, a Choice's first value, a Boolean's False.
_TUNER_DEFAULT = "equivalent: KerasTuner's default for a hyperparameter given none is this one ({})"
_FLOAT_MIN, _FIRST, _FALSE = (_TUNER_DEFAULT.format(what) for what in ("min_value", "the first value", "False"))
REVIEWED = {
    **{f"zoo.layers.attention.xǁTokenAndPositionEmbeddingǁbuild__mutmut_{n}": _EMBEDDING_BUILD for n in (1, 2, 3, 4)},
    "zoo.layers.attention.xǁTokenAndPositionEmbeddingǁcall__mutmut_4":
        "equivalent: shape[+1] is shape[-1] for the (batch, tokens) ids the layer reads",
    "zoo.layers.attention.xǁTransformerEncoderǁcall__mutmut_11":
        "equivalent: a float 0/1 mask hides the same keys as a boolean one",
    **{f"zoo.layers.attention.xǁTransformerEncoderǁcall__mutmut_{n}": _TRAINING_FLAG for n in (22, 28, 35, 37, 45, 47)},
    **{f"zoo.layers.attention.xǁTransformerEncoderǁbuild__mutmut_{n}": _DENSE_BUILD for n in (10, 11)},
    "zoo.layers.text.xǁWordCategoriesǁbuild__mutmut_5": _INT_ZEROS,
    "zoo.layers.text.xǁWordCategoriesǁbuild__mutmut_10": _INT_ZEROS,
    "zoo.layers.text.xǁWordCategoriesǁbuild__mutmut_6":
        "equivalent: add_weight stores trainable=None as False, a non-trainable table either way",
    "zoo.layers.core.xǁConstantOutputǁbuild__mutmut_3": _SCALAR_SHAPE,
    "zoo.layers.core.xǁConstantOutputǁbuild__mutmut_7": _SCALAR_SHAPE,
    "zoo.models.style_transfer.x_content_loss__mutmut_5": _SAME_CAST,
    "zoo.models.style_transfer.x_content_loss__mutmut_11": _SAME_CAST,
    "zoo.models.style_transfer.x_total_variation_loss__mutmut_4": _SAME_CAST,
    "zoo.models.style_transfer.x_style_transfer_losses__mutmut_7": _NETWORK_CASTS,
    "zoo.models.style_transfer.x_style_transfer_losses__mutmut_9": _NETWORK_CASTS,
    "zoo.models.style_transfer.x_stylize__mutmut_97": _NETWORK_CASTS,
    "zoo.models.style_transfer.x_stylize__mutmut_99": _NETWORK_CASTS,
    "zoo.models.style_transfer.x_stylize__mutmut_108": _QUIET,
    "zoo.models.style_transfer.x_stylize__mutmut_115": _QUIET,
    **{f"zoo.models.style_transfer.x_stylize__mutmut_{n}": "equivalent: the loss is named by the output's dict "
       "key, not by the layer" for n in (163, 164, 165)},
    **{f"zoo.models.style_transfer.x_stylize__mutmut_{n}": "equivalent: the canvas ignores its input, so its "
       "name is never read" for n in (148, 150, 152, 153)},
    **{f"zoo.models.style_transfer.x_stylize__mutmut_{n}": "equivalent: the loss network casts pixels of any "
       "dtype itself and the canvas's float32 variable casts what it is assigned (the stylize test paints a uint8 "
       "photo)" for n in (90, 92)},
    "zoo.models.style_transfer.x_stylize__mutmut_104": "equivalent: Keras's trainable setter stores bool(value)",
    **{f"zoo.models.style_transfer.x_stylize__mutmut_{n}": "equivalent: the canvas ignores its input, so the "
       "step input's shape and the zeros fed to it are never read" for n in (151, 208, 210, 211, 212)},
    **{f"zoo.models.style_transfer.x_stylize__mutmut_{n}": "equivalent: the total-variation target is zeros, and "
       "zeros of any float dtype or length give the one penalty the same mean absolute error" for n in (218, 220, 221)},
    **{f"zoo.models.style_transfer.x_stylize__mutmut_{n}": "equivalent: fit's shuffle applies to arrays, never to a "
       "generator's batches" for n in (229, 235, 239)},
    **{f"zoo.models.style_transfer.x_style_transfer_size__mutmut_{n}": "equivalent: VGG's layer names (blockN_convM, "
       "one digit each) sort by name as they do by depth" for n in (3, 5)},

    "zoo.layers.bert.xǁMaskedPositionsǁcall__mutmut_4":
        "equivalent: shape[+1] is shape[-1] for the (batch, tokens) ids the layer reads",
    "zoo.layers.bert.xǁMaskedPositionsǁcall__mutmut_8":
        "equivalent: the scores only order the positions, and top_k orders float32 ones the same (at most "
        "sequence_length, far below 2**24)",
    "zoo.layers.bert.xǁMaskedPositionsǁcall__mutmut_33": "equivalent: keras.ops.top_k sorts by default",
    "zoo.layers.bert.xǁMaskedPositionsǁcall__mutmut_30": (
        "not observable here: top_k(sorted=None) lets TensorFlow return the positions in any order, but its CPU "
        "kernel returns them sorted anyway (and JAX's top_k always sorts)"),
    **{f"zoo.layers.bert.xǁMaskedPositionsǁ__init____mutmut_{n}": "equivalent: the layer's compute_mask returns "
       "None either way, and Keras 3 does not refuse a mask for a layer without supports_masking" for n in (3, 4)},
    **{f"zoo.layers.seq2seq.xǁAttentionDecoderǁcall__mutmut_{n}": "equivalent: a float 0/1 mask selects the same "
       "positions as a boolean one (ops.where and _summary read it as true/false)" for n in (11, 13, 18)},
    **{f"zoo.layers.seq2seq.xǁAttentionDecoderǁcall__mutmut_{n}": _SAME_CAST for n in (38, 50, 84)},
    **{f"zoo.layers.seq2seq.xǁAttentionDecoderǁcall__mutmut_{n}": _TRAINING_FLAG for n in (119, 122)},
    **{f"zoo.layers.seq2seq.xǁAttentionDecoderǁ__init____mutmut_{n}": "equivalent: Dense(use_bias=None) builds no "
       "bias, as use_bias=False does" for n in (33, 54)},
    "zoo.layers.seq2seq.xǁAttentionDecoderǁ_summary__mutmut_17": "equivalent: the count of real positions is a whole "
        "number in any dtype, and take_along_axis casts its indices to integers",
    "zoo.layers.seq2seq.xǁAttentionDecoderǁ_summary__mutmut_47": "equivalent: the two halves are (batch, features): "
        "axis 1 is axis -1",
    **{f"zoo.models.convnet.x_first_layer_maps__mutmut_{n}": "equivalent: a Keras layer casts float inputs to its "
       "compute dtype itself" for n in (11, 13)},
    **{f"zoo.files.x_atomic_write_json__mutmut_{n}": "equivalent: _finite has already replaced every float NaN and "
       "infinity (floats and their subclasses, in dicts, lists and tuples) with None, so json.dumps never meets one "
       "for allow_nan to refuse" for n in (6, 11, 14)},
    **{name: "equivalent: codec names are case-insensitive ('UTF-8' is 'utf-8')"
       for name in ("zoo.files.x_atomic_write_text__mutmut_11", "zoo.registry.x_recipe_summaries__mutmut_11")},
    "zoo._checks.x_activation__mutmut_1": ("not observable here: each of Keras 3.15's 32 activations works, or "
                                            "fails, alike on rank-2 and rank-3 tensors (the callers that need "
                                            "another rank, the ConvNets, pass rank=4)"),
    "zoo.models.inception.x_inception_size__mutmut_38": "equivalent: layout has a row per module and every stage "
        "holds at least one module (stages are checked >= 1), so rows is never empty",
    "zoo.models.vgg.x_backbone__mutmut_13": "equivalent: keras.applications reads include_top=None as False",
    "zoo.models.vgg.x_depth__mutmut_7": "equivalent: float() reads 'INF' as it reads 'inf'",
    **{f"zoo.registry.xǁModelSpecǁresolve_arguments__mutmut_{n}": "equivalent: only close[0] is read, and "
       "difflib.get_close_matches lists the best match first whatever n is" for n in (13, 14)},
    "zoo.registry.xǁRegistryǁspec__mutmut_22": "equivalent: difflib.get_close_matches' default n is 3",
    "zoo.registry.xǁRegistryǁspec__mutmut_25": "equivalent: difflib lists its matches best "
        "first, so a fourth near spelling comes after three distinct names, and the list is cut to three",
    **{f"zoo.models.vgg.x_backbone__mutmut_{n}": "not observable offline: Keras refusing the ImageNet weights "
       "themselves needs the ImageNet file, which no test may download" for n in (20, 21)},
    "zoo.layers.seq2seq.xǁAttentionDecoderǁcall__mutmut_90": "equivalent: -1e9 - 1 hides a position as -1e9 does",
    "zoo.layers.seq2seq.xǁAttentionDecoderǁcall__mutmut_95": "equivalent: softmax's default axis is -1",
    "zoo.layers.seq2seq.xǁAttentionDecoderǁcall__mutmut_96": "equivalent: the scores are (batch, positions): axis "
                                                            "1 is axis -1",
    **{f"zoo.models.mlp.x_search_space__mutmut_{n}": _FLOAT_MIN for n in (39, 44)},
    **{f"zoo.models.mlp.x_search_space__mutmut_{n}": _FIRST for n in (55, 58)},
    **{f"zoo.models.perceptron.x_search_space__mutmut_{n}": _FIRST for n in (5, 8)},
    "zoo.models.sequence.x_lstm_search_space__mutmut_34": _FALSE,
    **{f"zoo.models.sequence.x_lstm_search_space__mutmut_{n}": _FLOAT_MIN for n in (44, 49)},
    **{f"zoo.models.vgg16_transfer.x_search_space__mutmut_{n}": _FLOAT_MIN for n in (7, 12)},
    **{f"zoo.models.vgg16_transfer.x_search_space__mutmut_{n}": _FIRST for n in (23, 26)},
    **{f"zoo.models.convnet.x_search_space__mutmut_{n}": _FLOAT_MIN for n in (39, 44)},
    **{f"zoo.models.convnet.x_search_space__mutmut_{n}": _FIRST for n in (55, 58)},
    **{f"zoo.models.convnet.x_search_space_1d__mutmut_{n}": _FLOAT_MIN for n in (33, 38)},
    **{f"zoo.models.convnet.x_search_space_1d__mutmut_{n}": _FIRST for n in (4, 7)},
    **{f"zoo.models.hybrid.x_search_space__mutmut_{n}": _FLOAT_MIN for n in (35, 40)},
    **{f"zoo.models.seq2seq.x_attention_weights__mutmut_{n}": "equivalent: np.asarray keeps the ids' integer "
       "dtype (int64), which the Embedding reads as it reads int32" for n in (3, 5)},
    **{f"zoo.models.seq2seq.x_attention_weights__mutmut_{n}": "equivalent: Keras attaches the encoder's padding "
       "mask to its output and hands it to the decoder called without one (tests/test_behaviour.py's padding "
       "test passes with this change under TensorFlow and JAX)" for n in (19, 22)},
    "zoo.layers.vision.xǁGramMatrixǁcall__mutmut_3": _SAME_CAST,
    "zoo.layers.vision.xǁGramMatrixǁcall__mutmut_10": _SAME_CAST,
    "zoo.layers.vision.xǁGramMatrixǁcall__mutmut_28": "equivalent: upper-case einsum subscripts name the same contraction",
    "zoo.layers.vision.xǁGramMatrixǁcompute_output_spec__mutmut_2": "equivalent: a KerasTensor's default dtype is float32",
    "zoo.layers.vision.xǁGramMatrixǁcompute_output_spec__mutmut_4": "equivalent: a KerasTensor's default dtype is float32",
    # The run layer.
    **{f"zoo.runs.xǁRunǁ{method}__mutmut_{n}": "equivalent: Keras reads verbose=None as 0, silent (tests/"
       "test_runs.py fails on a progress bar)" for method, n in (("fit", 41), ("evaluate", 24))},
    "zoo.runs.xǁRunǁ_fit_multi_worker__mutmut_1": "equivalent: its one caller, Run.fit, always passes the tag",
    **{f"zoo.runs.xǁRunǁ__init____mutmut_{n}": "equivalent: __enter__ sets is_chief before anything reads it"
       for n in (21, 22)},
    "zoo.runs.xǁRunǁ__init____mutmut_27": "equivalent: _unlock runs only after _lock has set the handle (in "
                                          "__exit__, or when claiming the locked folder fails)",
    "zoo.runs.xǁRunǁ_claim__mutmut_4": "equivalent: overwrite is only tested for truth, and None is as false as False",
    **{f"zoo.runs.xǁRunǁ_set_up__mutmut_{n}": "equivalent: warnings.filterwarnings matches the message "
       "case-insensitively" for n in (8, 9)},
    "zoo.runs.xǁRunǁfinish__mutmut_13": "equivalent: for history.csv the stem is 'history', and 'history'[8:] is '' "
                                        "as well",
    **{f"zoo.runs.x_load_saved_model__mutmut_{n}": "equivalent: Keras's load_model reads safe_mode=None as its "
       "default, True (tests/test_runs.py checks a Lambda is refused)" for n in (2, 5)},
    "zoo.runs.x_load_saved_model__mutmut_3": "equivalent: load_model reads compile=None as False, as it reads any "
                                             "falsy value",
    **{f"zoo.runs.x_plot_curves__mutmut_{n}": "equivalent: matplotlib backend names are case-insensitive"
       for n in (5, 6)},
    "zoo.runs.x_plot_curves__mutmut_29": "equivalent: subplots reads squeeze=None as False, as it reads any falsy "
                                         "value",
    **{f"zoo.runs.x_plot_curves__mutmut_{n}": "equivalent: the temporary file keeps the .png suffix (zoo.files."
       "atomic_path), from which savefig takes the format; and format names are case-insensitive"
       for n in (96, 99, 102)},
}


def planted() -> list[dict]:
    """Plant each bug of PLANTED in a copy of the package and run the test that must catch it."""
    import shutil
    import tempfile

    outcomes = []
    for what, path, original, buggy, test in PLANTED:
        with tempfile.TemporaryDirectory(prefix="zoo-planted-") as folder:
            copy = Path(folder)
            for part in ("zoo", "tests"):
                shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copy(ROOT / "pyproject.toml", copy)
            source = (copy / path).read_text()
            if source.count(original) != 1:
                sys.exit(f"mutation: planted bug {what!r} no longer applies: {original!r} is not once in {path}")
            (copy / path).write_text(source.replace(original, buggy))
            env = dict(os.environ, PYTHONPATH=str(copy), TF_CPP_MIN_LOG_LEVEL="3")
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                                     "-o", "addopts=", test], cwd=copy, env=env, capture_output=True, text=True)
            failure = [line for line in result.stdout.splitlines() if line.startswith("E ")][:1]
            outcomes.append({"bug": what, "file": path, "test": test, "caught": result.returncode == 1,
                             "pytest_exit_code": result.returncode, "seconds": round(time.perf_counter() - started, 1),
                             "failure": failure[0][1:].strip() if failure else ""})
            print(f"mutation: planted {'caught' if result.returncode == 1 else 'MISSED'}: {what}")
    return outcomes


def statuses() -> dict[str, str]:
    """Mutant name -> status, read from the ``.meta`` files mutmut leaves beside each mutated module."""
    from mutmut.stats import status_by_exit_code

    found = {}
    for meta in sorted(MUTANTS.glob("zoo/**/*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        for name, code in codes.items():
            found[name] = status_by_exit_code[code]
    return found


def module_of(mutant: str) -> str:
    """``zoo.layers.attention.xǁTransformerEncoderǁcall__mutmut_3`` -> ``zoo.layers.attention``."""
    return mutant.rsplit(".", 1)[0]


def area_of(module: str) -> str:
    return next((area for area in AREAS if module == area or module.startswith(area + ".")), module)


def diff_of(mutant: str) -> str:
    shown = subprocess.run([sys.executable, "-m", "mutmut", "show", mutant], cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in shown.stdout.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    return "\n".join(lines)


def mutated_code(source: str) -> str:
    """What a module's mutants are made from: its code without comments, docstrings or blank lines
    (``zoo.fingerprint.normalised``), and the lines that carry a ``pragma: no mutate``, which decide
    which mutants exist. mutmut leaves triple-quoted strings and comments alone, so rewording a
    docstring or a comment makes the same mutants and keeps the module's numbers."""
    from zoo.fingerprint import normalised

    pragmas = [line.strip() for line in source.splitlines() if "pragma: no mutate" in line]
    return normalised(source) + "\n# pragmas\n" + "\n".join(pragmas)


def source_digests() -> dict[str, str]:
    """Module -> sha256 of its ``mutated_code``, for every module mutmut mutates (``only_mutate`` in
    pyproject.toml)."""
    import fnmatch
    import hashlib
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    digests = {}
    for path in sorted((ROOT / "zoo").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if any(fnmatch.fnmatch(relative, pattern) for pattern in patterns):
            module = relative[:-3].replace("/", ".").removesuffix(".__init__")
            digests[module] = hashlib.sha256(mutated_code(path.read_text(encoding="utf-8")).encode()).hexdigest()
    return digests


def carried_over(old: dict, found: dict[str, str]) -> dict:
    """The previous report's modules that this run did not check and whose mutants it did not record one by one
    (measured before it did): module -> {"counts", "survivors", "sha256"}.

    mutmut keeps its results in ``mutants/``, which a fresh clone lacks; so a run of one area keeps the
    other areas' numbers from the committed report instead of losing them. Each keeps the digest of the
    code it was measured on (None: measured before digests were recorded), so a reader can tell old
    numbers from current ones (``stale``).
    """
    fresh = {module_of(name) for name, status in found.items() if status != "not checked"}
    carried = {}
    for module, row in old.get("modules", {}).items():
        if module in fresh or module in old.get("mutants_by_module", {}):  # the latter: ``recorded`` keeps them
            continue
        counts = {key: value for key, value in row.items()
                  if key not in ("mutants", "score", "score_without_equivalent", "reviewed equivalent")}
        carried[module] = {"counts": counts, "sha256": old.get("sources", {}).get(module),
                           "survivors": [survivor for survivor in old.get("survivors", [])
                                         if module_of(survivor["mutant"]) == module]}
    return carried


def stale(report: dict) -> list[str]:
    """Modules whose numbers were measured on other code than the checkout's (or on code not recorded)."""
    current = source_digests()
    return sorted(module for module in report["modules"]
                  if report.get("sources", {}).get(module) != current.get(module))


def summarise(found: dict[str, str], reviewed: dict[str, str], carried: dict | None = None,
              diffs: dict[str, str] | None = None) -> dict:
    """Per area and module: mutants, each status, equivalents and scores; and every survivor with its diff.

    ``found`` is this run's statuses (mutmut's, with ``recorded``'s); ``carried`` the modules kept whole
    from the previous report; ``diffs`` the previous report's survivor diffs of the mutants ``recorded``
    kept (same code, same diff), which a fresh clone cannot show with mutmut.
    """
    carried, diffs = carried or {}, diffs or {}
    per_module: dict[str, Counter] = defaultdict(Counter)
    survivors = []
    for name, status in sorted(found.items()):
        if module_of(name) in carried:
            continue
        per_module[module_of(name)][status] += 1
        if status not in CAUGHT + ("not checked",):
            survivors.append({"mutant": name, "status": status, "diff": diffs.get(name) or diff_of(name)})
    for module, kept in carried.items():
        per_module[module].update(kept["counts"])
        survivors += [{key: survivor[key] for key in ("mutant", "status", "diff")} for survivor in kept["survivors"]]
    survivors.sort(key=lambda survivor: survivor["mutant"])
    per_area: dict[str, Counter] = defaultdict(Counter)
    for survivor in survivors:
        survivor["review"] = reviewed.get(survivor["mutant"], "")
        if survivor["status"] == "survived" and survivor["review"].startswith("equivalent"):
            per_module[module_of(survivor["mutant"])]["reviewed equivalent"] += 1
    for module, counts in per_module.items():
        counts["reviewed equivalent"] += 0  # present in every row, 0 or not
        per_area[area_of(module)].update(counts)

    def row(counts: Counter) -> dict:
        total = sum(counts.values()) - counts["reviewed equivalent"]
        checked = total - counts["not checked"]
        caught = sum(counts[status] for status in CAUGHT)
        if not checked:  # nothing measured yet: no score, rather than 0%
            return {"mutants": total, **dict(sorted(counts.items())), "score": None, "score_without_equivalent": None}
        return {"mutants": total, **dict(sorted(counts.items())), "score": round(caught / max(checked, 1), 4),
                "score_without_equivalent": round(caught / max(checked - counts["reviewed equivalent"], 1), 4)}

    checked = {area for area, counts in per_area.items() if counts["not checked"] < sum(counts.values())}
    digests = source_digests()
    sources = {module: (carried[module]["sha256"] if module in carried else digests.get(module))
               for module in sorted(per_module) if area_of(module) in checked}
    by_module: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    for name, status in sorted(found.items()):
        module = module_of(name)
        if module not in carried and area_of(module) in checked:
            by_module[module][status].append(name[len(module) + 1:])
    return {"areas": {area: row(per_area[area]) for area in AREAS if area in checked},
            "not_run": [area for area in AREAS if area not in checked],
            "modules": {module: row(counts) for module, counts in sorted(per_module.items())
                        if area_of(module) in checked},
            "sources": sources, "survivors": survivors,
            # Every mutant's status, so that a later run in a fresh clone goes on from here (``recorded``,
            # for the modules whose code is still the one ``sources`` recorded).
            "mutants_by_module": {module: dict(sorted(statuses_of.items()))
                                  for module, statuses_of in sorted(by_module.items())}}


# What a reader of an area's row needs to know that the counts cannot say.
AREA_NOTES = {
    "zoo.runs": ("measured with pyproject.toml's test selection, in which tests/test_runs.py is the run layer's "
                 "own file: a toy recipe run in process for each promise (seconds per mutant), beside its "
                 "end-to-end kill tests. The recipe suites (test_recipes, test_tuning, test_multiworker, ...) are "
                 "not in the selection: with them each mutant would rerun whole recipes."),
}


def markdown(report: dict) -> str:
    took = ", ".join(f"{' '.join(run['areas'])} {run['seconds'] / 60:.0f} min on {run['date']}" for run in report["runs"])
    took = took or "the runs behind it were stopped and resumed, so their time is not recorded"
    lines = ["# Mutation testing", "",
             f"Written by `{report['command']}` ({took}) on {report['machine']['cpu_count']} CPUs "
             f"({report['machine']['platform']}; mutmut {report['mutmut']}). Score = (killed + timeout) / mutants "
             "checked; *not checked yet* are mutants a stopped run did not reach (rerunning the command goes on "
             "from there); *other* is mutants no test reached or that crashed the runner, counted as not caught; "
             "*of which equivalent* counts survivors reviewed below as changes no caller can observe.", "",
             "| area | mutants | not checked yet | killed | timeout | survived | other | of which equivalent | score | "
             "score without equivalent | target |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]

    def cells(counts: dict) -> str:
        other = counts["mutants"] - sum(counts.get(s, 0) for s in ("killed", "timeout", "survived", "not checked"))
        return (f"{counts['mutants']} | {counts.get('not checked', 0)} | {counts.get('killed', 0)} | "
                f"{counts.get('timeout', 0)} | {counts.get('survived', 0)} | {other} | {counts['reviewed equivalent']} | "
                + (f"{counts['score']:.1%} | {counts['score_without_equivalent']:.1%}" if counts["score"] is not None
                   else "not checked yet | not checked yet"))

    for area in AREAS:
        target = f">= {TARGETS[area]:.0%}" if area in TARGETS else ""
        if area in report["areas"]:
            lines.append(f"| {area} | {cells(report['areas'][area])} | {target} |")
        else:
            lines.append(f"| {area} | not run yet | | | | | | | | | {target} |")
    lines += [f"\n*{area}*: {note}" for area, note in AREA_NOTES.items() if area in report["areas"]]
    lines += ["", "| module | mutants | not checked yet | killed | timeout | survived | other | of which equivalent | "
              "score | score without equivalent |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {module} | {cells(counts)} |" for module, counts in report["modules"].items()]
    unrecorded = [module for module in report["modules"] if not report.get("sources", {}).get(module)]
    if unrecorded:
        lines += ["", "Measured before the report recorded each module's code (a sha256 in mutation.json), so these "
                  "rows may describe older code: " + ", ".join(f"`{module}`" for module in unrecorded) + "."]
    lines += ["", "## Planted bugs", "", "| bug | file | caught by | caught | how it fails |",
              "| --- | --- | --- | --- | --- |"]
    lines += [f"| {bug['bug']} | `{bug['file']}` | `{bug['test'].replace('|', '&#124;')}` | "
              f"{'yes' if bug['caught'] else '**no**'} | {bug['failure'].replace('|', '&#124;')[:160]} |"
              for bug in report["planted"]]
    lines += ["", f"## Survivors ({len(report['survivors'])})", "",
              "Each is a change no test noticed. A review says why it is left: *equivalent* means no caller "
              "can observe the change.", ""]
    for survivor in report["survivors"]:
        lines.append(f"- `{survivor['mutant']}` ({survivor['status']})"
                     + (f": {survivor['review']}" if survivor["review"] else ""))
        if survivor["diff"]:
            lines += ["  ```diff"] + [f"  {line}" for line in survivor["diff"].splitlines()] + ["  ```"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("areas", nargs="*", help=f"mutmut name globs (default: {' '.join(AREAS)})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK} only, nothing written")
    parser.add_argument("--report", action="store_true", help="rewrite the report without running mutmut: from mutants/ and the report's "
                        "recorded statuses")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 1, help="mutants tested at once")
    parser.add_argument("--again", action="store_true", help="recheck caught mutants too (default: only the rest)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from zoo.files import atomic_write_json, atomic_write_text

    globs = [QUICK] if args.quick else (args.areas or list(AREAS))
    seconds = 0.0
    previous = RESULTS / "mutation.json"
    old = json.loads(previous.read_text()) if previous.exists() and not args.quick else {}
    kept = recorded(old)
    if not args.report:
        names = to_check(globs, args.again or args.quick, kept)
        print(f"mutation: {len(names)} {'name globs' if any('*' in n for n in names) else 'mutants'} to run")
        seconds = run_mutmut(names, args.children) if names else 0.0
    found = merged(kept, statuses() if MUTANTS.exists() else {})
    if args.quick:
        found = {name: status for name, status in found.items() if module_of(name) == QUICK}
    if not found:
        sys.exit(f"mutation: no mutant results under {MUTANTS}; run without --report first")

    from importlib import metadata

    planted_bugs = [] if args.quick else planted()  # a minute or two: rerun with every report
    # Areas can be run one at a time; the report keeps how long each took and on which date.
    runs = old.get("runs", [])
    if not args.report:  # a resumed run adds its time to the areas' earlier runs
        same = next((run for run in runs if run["areas"] == globs), None)
        if same is None:
            runs = [run for run in runs if not set(run["areas"]) & set(globs)]
            same = {"areas": globs, "seconds": 0.0}
            runs.append(same)
        same.update(seconds=round(same["seconds"] + seconds, 1), date=datetime.date.today().isoformat())
    report = {"benchmark": "benchmarks/mutation.py", "command": "python benchmarks/mutation.py [AREA ...]",
              "mutmut": metadata.version("mutmut"), "runs": sorted(runs, key=lambda run: AREAS.index(run["areas"][0])
                                                                   if run["areas"][0] in AREAS else len(AREAS)),
              "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
              "python": sys.version.split()[0], "planted": planted_bugs,
              **summarise(found, REVIEWED, carried_over(old, found),
                          {survivor["mutant"]: survivor["diff"] for survivor in old.get("survivors", [])
                           if survivor["mutant"] in kept})}
    for area, counts in report["areas"].items():
        print(f"mutation: {area:<14} {counts['mutants']:>4} mutants, score {counts['score']:.1%}"
              + (f" (target {TARGETS[area]:.0%})" if area in TARGETS else ""))
    if args.quick:
        return report
    atomic_write_json(previous, report)
    atomic_write_text(RESULTS / "mutation.md", markdown(report))
    print(f"mutation: wrote {previous.relative_to(ROOT)} and mutation.md")
    return report


if __name__ == "__main__":
    main()
