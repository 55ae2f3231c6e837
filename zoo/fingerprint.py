"""Which code made a result: a fingerprint of a recipe's own modules, kept in its results.json.

A committed ``results/<recipe>/results.json`` is only worth showing while the code
that made it is the code in the repository. ``of_recipe("mlp")`` hashes every module
the result depends on: the recipe module, the modules of the zoo entries it trains
(found through the registry, and any entry its code builds by name, ``zoo.get("mlp")``,
such as a comparison arm), and, following their imports, every module of
``zoo.recipes``, ``zoo.models``, ``zoo.layers`` and ``zoo.losses`` they name, and
``zoo.baselines``: the baseline each run trains beside the zoo model is half of what
its results.json reports, so a change there (a setting searched, a score computed
differently) makes the result stale too. The run layer, data loading and plotting are
not included: they change how a run is kept, not what the model is or how it learns,
and including them would mark every result stale at each refactoring.

Comments, docstrings and all whitespace are left out before hashing, so rewording an
explanation or rewrapping a line never makes a result stale; the hash is of source
text, not of an AST dump, so it is the same on every Python version. ``stale(results)`` names the
modules that changed since a results.json was written (tests/test_results.py). A name
imported from a package (``from zoo.layers import ConstantOutput``) counts as the
submodule that defines it, so a new layer elsewhere in the package leaves the result alone.

Pure Python: nothing here imports Keras, TensorFlow or the modules it hashes.
"""

from __future__ import annotations

import ast
import hashlib
import io
import tokenize
from pathlib import Path

from zoo.registry import source_file

# The packages, and the module, whose code makes a result.
FOLLOWED = ("zoo.recipes", "zoo.models", "zoo.layers", "zoo.losses", "zoo.baselines")


def _followed(module: str) -> bool:
    return any(module == package or module.startswith(package + ".") for package in FOLLOWED)


def _imports(module: str, path: Path) -> set[str]:
    """The followed modules a file imports: ``from zoo.models import vgg`` names zoo.models.vgg, not zoo.models."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.update(_defining_module(base, alias.name) for alias in node.names)
        elif isinstance(node, ast.Call) and _builds_by_name(node):
            found.add(_entry_module(node.args[0].value))
    return {name for name in found if name and _followed(name) and source_file(name)}


def _defining_module(package: str, name: str) -> str:
    """Where ``from package import name`` takes ``name`` from: the submodule ``package.name``, the submodule
    the package's ``__init__`` imports it from (``from zoo.layers import ConstantOutput`` is
    zoo.layers.core's), or else the package itself."""
    if source_file(f"{package}.{name}"):
        return f"{package}.{name}"
    path = source_file(package)
    if path is not None and path.name == "__init__.py":
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.ImportFrom) and not node.level and node.module
                    and node.module.startswith(package + ".") and any(alias.name == name for alias in node.names)):
                return node.module
    return package


def _builds_by_name(node: ast.Call) -> bool:
    """``zoo.get("mlp", ...)`` or ``get("mlp")``: a call of a function named get with a string first argument."""
    function = node.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
    return (name == "get" and bool(node.args) and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str))


def _entry_module(name: str) -> str | None:
    """The module of the registry entry ``name`` (None for a name the registry does not know: a dict's get)."""
    from zoo import registry

    try:
        return registry.info(name).factory.__module__
    except KeyError:
        return None


def modules_of(recipe: str) -> list[str]:
    """Every module a recipe's result depends on, sorted: the recipe, its entries' modules, what they import."""
    from zoo import registry

    start = {f"zoo.recipes.{recipe}"}
    start |= {registry.info(name).factory.__module__ for name in registry.trained_by(recipe)}
    seen, todo = set(), sorted(start)
    while todo:
        module = todo.pop()
        path = source_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        todo.extend(sorted(_imports(module, path) - seen))
    return sorted(seen)


def normalised(source: str) -> str:
    """The code of a Python file without its comments, docstrings, trailing spaces and blank lines."""
    docstring_lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                docstring_lines.update(range(first.lineno, first.end_lineno + 1))
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            lines[row - 1] = lines[row - 1][:column]
    kept = (line.rstrip() for number, line in enumerate(lines, 1) if number not in docstring_lines)
    return "\n".join(line for line in kept if line.strip()) + "\n"


def _code_only(source: str) -> str:
    """``normalised`` without any whitespace: rewrapping a call or re-indenting a line changes nothing."""
    return "".join(normalised(source).split())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def of_recipe(recipe: str) -> dict:
    """``{"code": <hash of all>, "modules": {module: <hash>}}`` for results.json."""
    modules = {module: _digest(_code_only(source_file(module).read_text(encoding="utf-8")))
               for module in modules_of(recipe)}
    return {"code": _digest("\n".join(f"{module} {digest}" for module, digest in sorted(modules.items()))),
            "modules": modules}


def stale(results: dict) -> list[str]:
    """What changed since ``results`` were written: ``"zoo.recipes.mlp (changed)"`` or ``"... (new)"``.

    Empty when every module the result depends on now is recorded with the same code; one
    line saying so when none was recorded. A recorded module the result no longer depends
    on does not count: a module that stops being imported changes the code that imported
    it (listed as changed), and one that was never used (a package's other submodules,
    before ``_defining_module``) could not have made the result differ.
    """
    recorded = results.get("fingerprint")
    if not isinstance(recorded, dict) or not isinstance(recorded.get("modules"), dict):
        return ["no code fingerprint recorded (written before results.json kept one)"]
    now = of_recipe(results["recipe"])["modules"]
    before = recorded["modules"]
    return ([f"{module} (changed)" for module in sorted(now.keys() & before.keys()) if now[module] != before[module]]
            + [f"{module} (new)" for module in sorted(now.keys() - before.keys())])
