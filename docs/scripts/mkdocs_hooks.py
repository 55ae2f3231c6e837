"""MkDocs hook: a generated page per zoo entry and per recipe, and the markers in hand-written pages.

Registered in mkdocs.yml (``hooks:``). The pages come from ``zoo.info`` and
the registry's recipes at build time, so registering a model or adding a recipe
adds its page and its nav entry; the Markdown itself is made by ``zoo_docs``.
"""

from __future__ import annotations

import re
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


# owner/repo#N in a page's prose (docstrings and recorded error messages included): a GitHub
# issue or pull request. Not when it is part of a longer path or URL (a character before it).
_GITHUB_REFERENCE = re.compile(r"(?<![\w/.#-])([A-Za-z0-9][\w.-]*/[\w.-]+)#([0-9]+)\b")
# What is left as it is: whole links, code and preformatted blocks, scripts, and every tag.
_NOT_PROSE = re.compile(r"<(a|code|pre|script|style|textarea)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)


def link_github_references(html: str) -> str:
    """Each ``owner/repo#N`` in the text of ``html`` as a link to github.com/owner/repo/issues/N.

    GitHub forwards an issue link to the pull request when N is one.
    """
    def link(text: str) -> str:
        return _GITHUB_REFERENCE.sub(
            lambda match: f'<a href="https://github.com/{match[1]}/issues/{match[2]}">{match[0]}</a>', text)

    pieces, done = [], 0
    for skipped in _NOT_PROSE.finditer(html):
        pieces += [link(html[done:skipped.start()]), skipped[0]]
        done = skipped.end()
    return "".join(pieces + [link(html[done:])])


def on_page_content(html, page, config, files):
    return link_github_references(html)
