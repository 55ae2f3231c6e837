"""Shared test setup: a clean Keras state and fixed seeds for every test."""

import os

import pytest

# Quiet TensorFlow's C++ start-up chatter in test logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_report_header(config):
    return f"KERAS_BACKEND={os.environ.get('KERAS_BACKEND', 'tensorflow (default)')}"


@pytest.fixture(autouse=True)
def clean_keras_state(request):
    """Clear Keras's global state and seed every RNG, for tests that use Keras."""
    if "no_keras" in request.keywords:
        yield
        return
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()
    keras.config.set_dtype_policy("float32")  # recipes' --precision sets a global policy
