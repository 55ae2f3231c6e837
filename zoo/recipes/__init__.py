"""Runnable experiments, one module per zoo entry: ``python -m zoo.recipes.<name> --help``.

The registry owns the list: each entry names the recipe that trains it
(``ModelSpec.recipe``), and ``zoo.registry.recipes()`` gathers them. In a
checkout, ``python -m zoo.recipes.<name>`` is the same command (see recipes/ at the
top of the repository).
"""

from __future__ import annotations

import ast
import importlib.util


def summaries() -> dict[str, str]:
    """``{"mlp": "a multilayer perceptron learns to read handwritten digits", ...}`` in registry order.

    Each summary is the first line of the recipe module's docstring, read
    without importing the module (so without Keras).
    """
    from zoo.registry import recipes

    found = {}
    for name, module in recipes().items():
        spec = importlib.util.find_spec(module)
        with open(spec.origin, encoding="utf-8") as source:
            doc = ast.get_docstring(ast.parse(source.read())) or ""
        found[name] = doc.splitlines()[0].removeprefix("Recipe: ").rstrip(".") if doc else ""
    return found
