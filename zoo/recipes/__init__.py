"""Runnable experiments, one module per zoo entry: ``python -m zoo.recipes.<name> --help``.

The registry owns the list: each entry names the recipe that trains it
(``ModelSpec.recipe``), and ``zoo.registry.recipes()`` gathers them. In a
checkout, ``python -m recipes.<name>`` is the same command (see recipes/ at the
top of the repository).
"""

from zoo.registry import recipe_summaries as summaries   # {name: summary}, for the listing and the tests

__all__ = ["summaries"]
