"""``python -m recipes.<name>`` in a checkout: the same modules as ``zoo.recipes``.

This folder is not installed (pyproject includes only ``zoo*``), so it never
claims the name ``recipes`` in site-packages; it keeps the short commands of
earlier versions (``python -m recipes.mlp``) working from the repository root.
Its search path is
``zoo/recipes``, so ``python -m recipes.mlp`` runs the file that
``python -m zoo.recipes.mlp`` runs.
"""

import zoo.recipes

__path__ = list(zoo.recipes.__path__)
