"""The model registry: names -> factories, plus the metadata users and docs need.

Pure Python on purpose. Listing and describing the zoo must not pay the seconds
it takes to import TensorFlow or Keras, so this module imports neither and the
factories import Keras only when they build.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import fnmatch
import inspect
import re
from pathlib import Path
from typing import Any, Callable, Mapping

_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class UnknownModelError(KeyError, ValueError):
    """No model is registered under the requested name.

    Subclasses both ``KeyError`` (a failed lookup) and ``ValueError`` (a bad
    argument), so either ``except`` clause catches it.
    """

    def __str__(self) -> str:
        # KeyError would show the message with quotes around it.
        return str(self.args[0]) if self.args else ""


class DuplicateModelError(ValueError):
    """A model is already registered under this name."""


@dataclasses.dataclass(frozen=True)
class Paper:
    """A reference for the idea a model implements."""

    title: str
    authors: str
    year: int
    arxiv: str | None = None
    url: str | None = None

    @property
    def link(self) -> str | None:
        if self.url:
            return self.url
        return f"https://arxiv.org/abs/{self.arxiv}" if self.arxiv else None

    def __str__(self) -> str:
        ref = f"{self.authors} ({self.year}). {self.title}."
        return f"{ref} arXiv:{self.arxiv}" if self.arxiv else ref


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Everything the zoo knows about one entry.

    Attributes:
        name: the public name, as passed to ``zoo.get``.
        factory: the function that builds the model; its keyword arguments are
            the overrides ``zoo.get`` accepts and its defaults are the entry's.
        summary: one sentence saying what the model is.
        task: what the model does, e.g. ``"text_classification"``.
        inputs: what the model takes, in words (shape, dtype, value range).
        outputs: what the model returns, in words.
        paper: the reference for the idea, if there is one.
        loss: the Keras loss name that fits the model's outputs, or a function
            of the factory's resolved keyword arguments returning that name
            (when the right loss depends on an argument).
        search_space: ``search_space(hp) -> dict`` of factory keyword
            arguments drawn from a KerasTuner ``HyperParameters`` object.
        num_params: parameter count of the model built with the defaults
            (checked against the built model by the test suite).
        default_dataset: the embedded data the recipe reads by default, offline,
            by the name ``zoo.data`` knows it by (a dataset, or bundled photos
            joined by ", ": style_transfer's content and style photos).
        recipe: the module that trains the entry, e.g. ``"zoo.recipes.mlp"``.
        weights: the named pretrained weights that fit the model
            (``zoo.weights.Weights`` records: source, licence, training data,
            measured results); empty when it takes none.
    """

    name: str
    factory: Callable[..., Any]
    summary: str
    task: str
    inputs: str
    outputs: str
    paper: Paper | None = None
    loss: str | Callable[[Mapping[str, Any]], str] = "sparse_categorical_crossentropy"
    search_space: Callable[[Any], dict] | None = None
    num_params: int | None = None
    default_dataset: str | None = None
    recipe: str | None = None
    weights: tuple = ()

    @property
    def defaults(self) -> dict[str, Any]:
        """The factory's keyword arguments and their default values."""
        return {
            arg.name: arg.default
            for arg in inspect.signature(self.factory).parameters.values()
            if arg.default is not inspect.Parameter.empty
        }

    @property
    def arguments(self) -> tuple[str, ...]:
        return tuple(self.defaults)

    def resolve_arguments(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults updated with ``overrides``; unknown names raise TypeError."""
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            hints = []
            for bad in unknown:
                close = difflib.get_close_matches(bad, self.arguments, n=1)
                hints.append(f"{bad!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise TypeError(
                f"{self.name}: unknown argument {', '.join(hints)}. "
                f"Valid arguments: {', '.join(self.arguments)}."
            )
        return {**self.defaults, **overrides}

    def loss_for(self, /, **overrides: Any) -> str:
        """The Keras loss name that fits the model built with ``overrides``."""
        if callable(self.loss):
            return self.loss(self.resolve_arguments(overrides))
        return self.loss

    def build(self, /, **overrides: Any):
        self.resolve_arguments(overrides)
        return self.factory(**overrides)

    def _weights_names(self) -> list[str]:
        """``["imagenet (vgg16, vgg19)", "hed_bsds500 (vgg16, offline)"]``: one per weights name."""
        names: dict[str, list[str]] = {}
        for weights in self.weights:
            names.setdefault(weights.name, []).append(weights.architecture + ", offline" * weights.offline)
        return [f"{name} ({', '.join(fits)})" for name, fits in names.items()]

    def __str__(self) -> str:
        lines = [
            f"{self.name}: {self.summary}",
            f"  task:      {self.task}",
            f"  inputs:    {self.inputs}",
            f"  outputs:   {self.outputs}",
            f"  paper:     {self.paper or '-'}",
            f"  params:    {self.num_params:,}" if self.num_params else "  params:    -",
            f"  dataset:   {self.default_dataset or '-'}",
            f"  recipe:    {self.recipe or '-'}",
            f"  weights:   {', '.join(self._weights_names()) or '-'}",
            "  arguments:",
        ]
        lines += [f"    {key} = {value!r}" for key, value in self.defaults.items()]
        return "\n".join(lines)


class Registry:
    """A name -> ModelSpec table that refuses duplicates and explains misses."""

    def __init__(self) -> None:
        self._specs: dict[str, ModelSpec] = {}

    def add(self, spec: ModelSpec) -> ModelSpec:
        if not isinstance(spec.name, str) or not _NAME_PATTERN.match(spec.name):
            raise ValueError(
                f"Model name {spec.name!r} is not valid: use lowercase letters, digits "
                "and underscores, starting with a letter (it doubles as a recipe module name)."
            )
        if spec.name in self._specs:
            existing = self._specs[spec.name].factory
            raise DuplicateModelError(
                f"A model named {spec.name!r} is already registered "
                f"(by {existing.__module__}.{existing.__qualname__}). "
                "Pick another name or remove the first registration."
            )
        self._specs[spec.name] = spec
        return spec

    def spec(self, name: str) -> ModelSpec:
        try:
            return self._specs[name]
        except (KeyError, TypeError):
            pass
        query = str(name).lower()
        # A fragment ("lstm") is as useful a hint as a typo ("mpl"); names that start with it come first.
        close = sorted((known for known in self._specs if query and query in known),
                       key=lambda known: (not known.startswith(query), known))
        close += difflib.get_close_matches(query, list(self._specs), n=3, cutoff=0.5)
        close = list(dict.fromkeys(close))[:3]
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownModelError(
            f"No model named {name!r} in the zoo.{hint} "
            f"Known models: {', '.join(sorted(self._specs))}."
        )

    def names(self, pattern: str | None = None, task: str | None = None) -> list[str]:
        if task is not None:
            tasks = sorted({spec.task for spec in self._specs.values()})
            if task not in tasks:
                raise ValueError(f"Unknown task {task!r}; tasks in the zoo: {', '.join(tasks)}.")
        return sorted(
            name
            for name, spec in self._specs.items()
            if (pattern is None or fnmatch.fnmatchcase(name, pattern))
            and (task is None or spec.task == task)
        )

    def recipes(self) -> dict[str, str]:
        """``{"mlp": "zoo.recipes.mlp", ...}``: each recipe that trains an entry, by name, in registration order."""
        modules = dict.fromkeys(spec.recipe for spec in self._specs.values() if spec.recipe)
        return {module.rpartition(".")[2]: module for module in modules}

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __len__(self) -> int:
        return len(self._specs)


REGISTRY = Registry()


def register(name: str, **metadata: Any) -> Callable[[Callable], Callable]:
    """Decorator: register a model factory under ``name``.

    ``metadata`` are the other ``ModelSpec`` fields (summary, task, inputs,
    outputs, paper, loss, search_space, num_params, ...). The factory is
    returned unchanged, so it stays a plain function you can call directly.

    Example:
        ```python
        @zoo.register("tiny_mlp", summary="...", task="classification",
                      inputs="(batch, 4) float32", outputs="(batch, 3) softmax")
        def tiny_mlp(num_classes=3):
            ...
        ```
    """

    def decorator(factory: Callable) -> Callable:
        REGISTRY.add(ModelSpec(name=name, factory=factory, **metadata))
        return factory

    return decorator


def get(name: str, /, **overrides: Any):
    """Build the model registered as ``name``: uncompiled, built, layers named.

    ``overrides`` are the factory's keyword arguments (``name`` included: the
    first argument is positional-only); unknown ones raise a
    TypeError listing the valid ones before anything is built.
    """
    return REGISTRY.spec(name).build(**overrides)


def list_models(pattern: str | None = None, task: str | None = None) -> list[str]:
    """Sorted names of the registered models, filtered by an fnmatch ``pattern`` and ``task``."""
    return REGISTRY.names(pattern=pattern, task=task)


def recipes() -> dict[str, str]:
    """The recipes that train registered entries, name -> module, in the order the entries were registered.

    This is how the library knows the recipes: through each entry's ``recipe``,
    never by importing the recipes package (the application).
    """
    return REGISTRY.recipes()


def trained_by(recipe: str) -> list[str]:
    """Sorted names of the entries a recipe trains (``"mlp"`` or ``"zoo.recipes.mlp"``): their ``recipe`` names it.

    An entry without a recipe is trained by none: ``trained_by("")`` is empty.
    """
    short = recipe.rpartition(".")[2]
    modules = {name: info(name).recipe for name in list_models()}
    return [name for name, module in modules.items() if short and module and module.rpartition(".")[2] == short]


def source_file(module: str) -> Path | None:
    """A zoo module's source file, found without importing it: ``zoo.recipes.mlp`` -> .../zoo/recipes/mlp.py.

    A package gives its ``__init__.py``; a name outside the zoo package, or without a file, gives None.
    """
    base = Path(__file__).resolve().parent.parent.joinpath(*module.split("."))
    if module.split(".")[0] != "zoo":
        return None
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def recipe_summaries() -> dict[str, str]:
    """``{"mlp": "a multilayer perceptron learns to read handwritten digits", ...}``, in ``recipes()`` order.

    Each is the first line of the recipe module's docstring (without "Recipe: "), read from
    its source file: the application is never imported to describe it.
    """
    found = {}
    for name, module in recipes().items():
        path = source_file(module)
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) if path else None
        found[name] = doc.splitlines()[0].removeprefix("Recipe: ").rstrip(".") if doc else ""
    return found


def info(name: str) -> ModelSpec:
    """The ``ModelSpec`` of ``name``: summary, task, paper, defaults, search space, ..."""
    return REGISTRY.spec(name)
