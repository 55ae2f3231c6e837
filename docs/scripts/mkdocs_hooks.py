"""MkDocs hook: a generated page per zoo entry and per recipe, and the markers in hand-written pages.

Registered in mkdocs.yml (``hooks:``). The pages come from ``zoo.info`` and
the registry's recipes at build time, so registering a model or adding a recipe
adds its page and its nav entry; the Markdown itself is made by ``zoo_docs``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).resolve().parent))

import zoo_docs  # noqa: E402


def _section(nav: list, title: str) -> list:
    for item in nav:
        if isinstance(item, dict) and title in item:
            return item[title]
    raise PluginError(f"mkdocs.yml: the nav needs a '{title}' section for the generated pages.")


def on_config(config):
    models = _section(config["nav"], "Models")
    recipes = _section(config["nav"], "Recipes")
    known = {value for item in models + recipes if isinstance(item, dict) for value in item.values()}
    for name in zoo_docs.model_names():
        if f"{zoo_docs.MODELS_DIR}/{name}.md" not in known:
            models.append({name: f"{zoo_docs.MODELS_DIR}/{name}.md"})
    for recipe in zoo_docs.recipe_names():
        if f"{zoo_docs.RECIPES_DIR}/{recipe}.md" not in known:
            recipes.append({recipe: f"{zoo_docs.RECIPES_DIR}/{recipe}.md"})
    return config


def on_files(files, config):
    try:
        for name in zoo_docs.model_names():
            files.append(File.generated(config, f"{zoo_docs.MODELS_DIR}/{name}.md",
                                        content=zoo_docs.model_page(name)))
        for recipe in zoo_docs.recipe_names():
            files.append(File.generated(config, f"{zoo_docs.RECIPES_DIR}/{recipe}.md",
                                        content=zoo_docs.recipe_page(recipe)))
    except zoo_docs.FigureMissing as error:
        raise PluginError(str(error)) from error
    return files


def on_page_markdown(markdown, page, config, files):
    try:
        return zoo_docs.expand(markdown, page.file.src_uri)
    except (zoo_docs.FigureMissing, ValueError) as error:
        raise PluginError(str(error)) from error
