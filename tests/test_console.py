"""What a terminal shows: TensorFlow's native start-up logs filtered out, a few progress lines per training."""

import io
import os
import subprocess
import sys
import textwrap

import pytest

from zoo.console import is_native_noise

# Lines TensorFlow 2.21 printed on importing it and listing devices on a 2-core machine without a GPU.
NOISE = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    b"I0000 00:00:1795792611.918279   20218 port.cc:153] oneDNN custom operations are on. You may see ...",
    b"I0000 00:00:1795792611.918821   20218 cudart_stub.cc:31] Could not find cuda drivers on your machine, ...",
    b"I0000 00:00:1795792612.283774   20218 cpu_feature_guard.cc:227] This TensorFlow binary is optimized ...",
    b"To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other operations, ...",
    b"W0000 00:00:1795792612.283774   20218 gpu_device.cc:2344] Cannot dlopen some GPU libraries.",
    b"E0000 00:00:1795792638.941036   20218 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
    b"Failed call to cuInit: UNKNOWN ERROR (303)",
    b"I1127 15:04:05.123456    4242 some/dir/file.cc:7] after absl is initialised, real times",
    b"E0000 00:00:1795798457.421531   16217 util.cc:131] oneDNN supports DT_BOOL only on platforms with AVX-512. "
    b"Falling back to the default Eigen-based implementation if present.",
]
KEPT = [
    b"error: --epochs=0 must be >= 1",
    b"Traceback (most recent call last):",
    b"E0000 00:00:1795792638.941036   20218 bfc_allocator.cc:1] Out of memory while trying to allocate",
    b"UserWarning: a Python warning",
    b"I0000 is not how a log line continues",
    b"",
]


@pytest.mark.no_keras
@pytest.mark.parametrize("line", NOISE)
def test_tensorflows_native_start_up_lines_are_noise(line):
    assert is_native_noise(line)


@pytest.mark.no_keras
@pytest.mark.parametrize("line", KEPT)
def test_errors_warnings_and_everything_else_are_kept(line):
    assert not is_native_noise(line)


FILTERED = textwrap.dedent("""
    import os, sys
    from zoo.console import native_logs_filtered
    lines = [bytes.fromhex(h) for h in sys.argv[1:]]
    with native_logs_filtered():
        for line in lines:
            os.write(2, line + b"\\n")          # as C++ writes: below Python's sys.stderr
        print("python stderr", file=sys.stderr)
    print("after the block", file=sys.stderr)
""")


@pytest.mark.no_keras
@pytest.mark.parametrize("verbose", ["", "1"])
def test_the_filter_drops_native_noise_from_file_descriptor_2_unless_verbose(verbose):
    env = {**os.environ, "ZOO_VERBOSE": verbose}
    done = subprocess.run([sys.executable, "-c", FILTERED, *(line.hex() for line in NOISE + KEPT[:3])],
                          capture_output=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    printed = done.stderr.splitlines()
    expected = (NOISE if verbose else []) + KEPT[:3]
    assert sorted(printed) == sorted(expected + [b"python stderr", b"after the block"])
    assert printed[-1] == b"after the block"


def test_progress_lines_show_the_first_and_last_epoch_and_one_per_interval():
    import keras
    import numpy as np

    from zoo.callbacks import ProgressLines

    x, y = np.random.default_rng(0).normal(size=(32, 3)), np.zeros(32)
    printed = {}
    for interval in (0.0, 3600.0):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        stream = io.StringIO()
        model.fit(x, y, epochs=5, verbose=0, callbacks=[ProgressLines("arm", interval_s=interval, stream=stream)])
        printed[interval] = stream.getvalue().splitlines()
    assert [line.split("  ")[0] for line in printed[0.0]] == [f"arm: epoch {i}/5" for i in range(1, 6)]
    assert [line.split("  ")[0] for line in printed[3600.0]] == ["arm: epoch 1/5", "arm: epoch 5/5"]
    assert all("loss " in line and line.endswith("s/epoch)") for line in printed[3600.0])
