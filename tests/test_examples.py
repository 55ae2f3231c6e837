"""Every ```python block of the README and the documentation runs, offline, in a fresh process.

Which blocks: README.md, every hand-written page under docs/ (the concept pages' "Try it"
blocks included), and the pages docs/scripts/zoo_docs.py generates when the site is built
(``model_page`` and ``recipe_page``, called here; the hand pages' ``<!-- zoo:... -->``
markers are expanded too, and must add no Python block). Blocks are found by
markdown-it-py, the CommonMark parser the docs tests already use: every fence whose info
string starts with ``python``. The pytest-examples, mktestdocs, pytest-codeblocks and
pytest-markdown-docs plugins all run blocks inside the test process (no fresh process, no
network cut, Keras state shared between pages), and the last one needs markdown-it-py
below 4, so none of them is used.

How they run:

- **A page is one story.** Its blocks run in page order, in one namespace, so a later
  block may use the names an earlier one made. Each block is one test, named
  ``file:line`` (the line of its opening fence). A block after a failed one fails too,
  naming the block where the story broke.
- **A fresh process per page**, started by ``python -c`` in an empty working folder, two
  pages at a time. The generated model pages come from one template and share one
  process, each page in a namespace of its own.
- **Offline, from nothing.** Before anything is imported the process makes
  ``socket.create_connection`` and ``socket.socket.connect`` refuse every connection. It
  has ``ZOO_OFFLINE=1``, ``KERAS_HOME`` and ``TFDS_DATA_DIR`` in empty folders (no cached
  ImageNet weights, no prepared tfds sets), and the checkout first on ``PYTHONPATH``.
- **A statement that needs the network says so**: a comment containing ``needs the
  network`` on one of its lines (renders as code on GitHub and in MkDocs alike). Offline it
  must fail within ``NETWORK_FAILS_WITHIN_S`` seconds (Keras imported first, so the import
  is not counted) with the zoo error that says how to do without: a
  ``WeightsUnavailableError`` naming the Keras cache folder and ``hed_bsds500``, or a
  ``DataUnavailableError`` naming ``TFDS_DATA_DIR``. The block then goes on with its next
  statement; statements that read a name only a failed network statement would have made
  (``model.summary()`` after ``model = zoo.get("vgg16_transfer")``) cannot run offline
  and are passed over, and so are those that read what they make. A marked statement that
  runs offline fails the test.
- **A block that shows a value** (on a generated model page, the keyword arguments after
  "At the defaults it returns:") is checked against the call that makes the value.
- Every block must finish within ``BLOCK_LIMIT_S`` seconds: examples use small settings.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
sys.path.insert(0, str(DOCS / "scripts"))

import zoo_docs  # noqa: E402

NETWORK_MARKER = "needs the network"
# Offline, a download is never tried: connections are refused at once here, and the
# slowest path a user meets is the zoo's 3 s probe of a host that does not answer.
NETWORK_FAILS_WITHIN_S = 10.0
# An example is something a reader pastes and waits for; the slowest (a KerasTuner
# search, style transfer) take 8-14 s on a loaded 2-core machine, Keras's import included.
BLOCK_LIMIT_S = 60.0
# A hung page (a download retrying, a runaway loop) is killed here and its blocks fail.
PAGE_TIMEOUT_S = 300.0
PARALLEL_PAGES = min(2, os.cpu_count() or 1)

# What an offline failure must name, by the error's class: how to get by without network.
OFFLINE_ADVICE = {
    "zoo.weights.WeightsUnavailableError": ("hed_bsds500", "{keras_home}"),
    "zoo.data.DataUnavailableError": ("TFDS_DATA_DIR", "embedded dataset"),
}

# Generated lines that need the network but that docs/scripts/zoo_docs.py does not mark
# yet: the test marks them as the generator should (test_the_generator_marks_... keeps
# this list honest). Building vgg16_transfer or style_transfer with the default
# weights="imagenet" needs the download; so does a KerasTuner search, which builds once.

pytestmark = pytest.mark.no_keras   # Keras is imported in the pages' processes, not here


@dataclass(frozen=True)
class Block:
    """One ```python block: its page (as the docs name it), the line of its fence, its source."""

    page: str
    line: int
    source: str
    shows: str | None = None   # for a block that shows a value: the call that makes the value

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


# --------------------------------------------------------------------------- collecting

_PARSER = MarkdownIt("commonmark")


def python_blocks(markdown: str, page: str) -> list[Block]:
    """The ```python fences of a Markdown text, in order, each with the 1-based line of its fence."""
    tokens = _PARSER.parse(markdown)
    blocks = []
    for index, token in enumerate(tokens):
        if token.type == "fence" and token.info.split()[:1] == ["python"]:
            before = tokens[index - 2].content if index >= 2 and tokens[index - 2].type == "inline" else ""
            blocks.append(Block(page, token.map[0] + 1, token.content, shows=_shown_call(page, before)))
    return blocks


def _shown_call(page: str, text_before: str) -> str | None:
    """For a block that shows a value instead of code, the call that makes that value."""
    if not text_before.rstrip().endswith("returns:"):
        return None
    model_page = re.fullmatch(r"docs/models/(\w+)\.md", page)
    if model_page and text_before.startswith("At the defaults"):
        return f"zoo.info({model_page[1]!r}).search_space(keras_tuner.HyperParameters())"
    raise AssertionError(f"{page}: the block after {text_before!r} shows a value this test cannot check; "
                         "say in _shown_call which call makes it.")


def _hand_pages() -> dict[str, str]:
    pages = {"README.md": (REPO / "README.md").read_text()}
    for path in sorted(DOCS.rglob("*.md")):
        if not {"scripts", "figures"} & set(path.relative_to(DOCS).parts):
            pages[path.relative_to(REPO).as_posix()] = path.read_text()
    return pages


def _built_pages(hand: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The pages the site's hook generates, and the hand pages with their markers expanded.

    Figures come from a separate script and may be absent here; their links are stood in.
    """
    def any_figure(relative, page_src, alt):
        return f"![{alt}](figures/{relative})"

    with mock.patch.object(zoo_docs, "figure_link", any_figure):
        generated = {f"docs/{zoo_docs.MODELS_DIR}/{name}.md": zoo_docs.model_page(name)
                     for name in zoo_docs.model_names()}
        generated |= {f"docs/{zoo_docs.RECIPES_DIR}/{recipe}.md": zoo_docs.recipe_page(recipe)
                      for recipe in zoo_docs.recipe_names()}
        expanded = {page: zoo_docs.expand(text, page.removeprefix("docs/"))
                    for page, text in hand.items() if page.startswith("docs/")}
    return generated, expanded


def collect() -> tuple[dict[str, str], dict[str, str], list[Block]]:
    """Every page as written or generated, as this test runs it, and its Python blocks in page order."""
    hand = _hand_pages()
    generated, expanded = _built_pages(hand)
    for page, text in expanded.items():
        added = len(python_blocks(text, page)) - len(python_blocks(hand[page], page))
        assert added == 0, f"{page}: its <!-- zoo:... --> markers expand to {added} Python block(s); run them too"
    pages = hand | generated
    return generated, pages, [block for page, text in pages.items() for block in python_blocks(text, page)]


GENERATED, PAGES, BLOCKS = collect()


def process_groups() -> dict[str, list[str]]:
    """Which pages share a process: a hand page alone; the generated model pages, one template, together."""
    groups = {}
    for page in dict.fromkeys(block.page for block in BLOCKS):
        group = "docs/models/(generated)" if page in GENERATED and "/models/" in page else page
        groups.setdefault(group, []).append(page)
    return groups


# -------------------------------------------------------------- in the page's own process

# The first thing every page's process runs, before any import: no connection can open.
NO_NETWORK = '''
import socket


def _refuse(*args, **kwargs):
    raise OSError("network blocked: the examples run offline (tests/test_examples.py)")


socket.create_connection = _refuse
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
'''


def run_pages(job_file: str) -> None:
    """The body of a pages' process: each page's blocks in order, in one namespace per page.

    One record per block, written to the results file after every block, so a process
    that is killed still reports what it finished. Top-level statements run one at a
    time; one marked as needing the network is timed, and its error is recorded instead
    of ending the block.
    """
    import ast
    import contextlib
    import io
    import json
    import linecache
    import os
    import time
    import tokenize
    import traceback

    job = json.loads(open(job_file).read())
    marker, records = job["marker"], []

    def statements(page, block):
        """The block's top-level statements, each with whether it is marked as needing the network."""
        tree = ast.parse(block["source"], filename=page)
        ast.increment_lineno(tree, block["line"])   # the block's first line follows the fence
        tokens = tokenize.generate_tokens(io.StringIO(block["source"]).readline)
        marked = {token.start[0] + block["line"] for token in tokens
                  if token.type == tokenize.COMMENT and marker in token.string}
        out = []
        for statement in tree.body:
            lines = set(range(statement.lineno, statement.end_lineno + 1))
            out.append((statement, bool(marked & lines)))
            marked -= lines
        if marked:
            raise SyntaxError(f"{page}:{min(marked)}: the '{marker}' comment is on no statement's line; "
                              "put it at the end of the statement that needs the network")
        return out

    def reads(statement):
        """Names the statement reads when it runs (not those inside the functions it defines)."""
        names, stack = set(), [statement]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                names.add(node.id)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                # A body runs when called; its decorators and defaults run now.
                stack += [*getattr(node, "decorator_list", []), *node.args.defaults,
                          *filter(None, node.args.kw_defaults)]
            else:
                stack.extend(ast.iter_child_nodes(node))
        return names

    def binds(statement):
        return {node.id for node in ast.walk(statement) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}

    def offline_failure(code, namespace):
        import keras  # noqa: F401  (importing Keras is not what has to be fast)

        started = time.perf_counter()
        try:
            exec(code, namespace)
        except Exception as error:
            from zoo.errors import ZooError

            kind = type(error)
            return {"seconds": time.perf_counter() - started, "error": f"{kind.__module__}.{kind.__qualname__}",
                    "zoo_error": isinstance(error, ZooError), "message": str(error)}
        return {"seconds": time.perf_counter() - started, "error": None, "zoo_error": False, "message": ""}

    for page in job["pages"]:
        # Tracebacks show the page's own lines.
        text = page["text"].splitlines(True)
        linecache.cache[page["page"]] = (len(page["text"]), None, text, page["page"])
        namespace, broken = {"__name__": "__main__"}, None
        # Names only a network statement would have made: what reads them cannot run offline either.
        online_only = {}
        for block in page["blocks"]:
            record = {"network": [], "online_only": [], "stdout": "", "seconds": 0.0}
            records.append(record)
            printed, started = io.StringIO(), time.perf_counter()
            if broken:
                record["failure"] = f"not run: the page's story broke at {broken}"
            else:
                try:
                    with contextlib.redirect_stdout(printed):
                        for statement, marked in statements(page["page"], block):
                            code = compile(ast.Module([statement], type_ignores=[]), page["page"], "exec")
                            needs = sorted(reads(statement) & online_only.keys())
                            if needs:
                                record["online_only"].append({"line": statement.lineno, "needs": needs})
                                online_only |= dict.fromkeys(binds(statement), statement.lineno)
                            elif marked:
                                failure = offline_failure(code, namespace)
                                record["network"].append({"line": statement.lineno, **failure})
                                if failure["error"]:
                                    online_only |= dict.fromkeys(binds(statement), statement.lineno)
                            else:
                                exec(code, namespace)
                                for name in binds(statement):
                                    online_only.pop(name, None)
                except BaseException as error:
                    # From the page's frames on: this function's own frame says nothing.
                    trace = traceback.format_exception(type(error), error, error.__traceback__.tb_next)
                    record["failure"] = "".join(trace)
                    broken = f"{page['page']}:{block['line']}"
            record["seconds"] = time.perf_counter() - started
            record["stdout"] = printed.getvalue()[-3000:]
            with open(job["results"] + ".part", "w") as out:
                json.dump(records, out)
            os.replace(job["results"] + ".part", job["results"])


def child_source() -> str:
    """What ``python -c`` runs: the network cut, then ``run_pages`` on the job file it is given."""
    return "\n".join([NO_NETWORK, "import sys", textwrap.dedent(inspect.getsource(run_pages)),
                      "run_pages(sys.argv[1])"])


# ------------------------------------------------------------------------- in pytest

@dataclass
class ProcessRun:
    """What a pages' process reported: one record per block, in job order, and how it ended."""

    records: list[dict]
    returncode: int | None
    output: str
    keras_home: Path


def _checked_value(block: Block) -> str:
    """Code that compares a block showing keyword arguments with the call that makes them."""
    return textwrap.dedent(f"""\
        import keras_tuner
        import zoo
        shown, made = dict({block.source.strip()}), {block.shows}
        assert shown == made, f"the page shows {{shown}}, but {block.shows} returns {{made}}"
        """)


def run_in_fresh_process(blocks: list[Block], folder: Path) -> ProcessRun:
    """Run ``blocks`` (whole pages, in order) in a fresh offline process working in ``folder``."""
    home, tfds, work = folder / "keras_home", folder / "tfds", folder / "work"
    for path in (home, tfds, work):
        path.mkdir(parents=True)
    pages = [{"page": page, "text": PAGES[page],
              "blocks": [{"line": block.line, "source": _checked_value(block) if block.shows else block.source}
                         for block in blocks if block.page == page]}
             for page in dict.fromkeys(block.page for block in blocks)]
    job = folder / "job.json"
    job.write_text(json.dumps({"marker": NETWORK_MARKER, "results": str(folder / "results.json"), "pages": pages}))
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, "KERAS_HOME": str(home), "TFDS_DATA_DIR": str(tfds), "ZOO_OFFLINE": "1",
                   "PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    process = subprocess.Popen([sys.executable, "-c", child_source(), str(job)], cwd=work, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=PAGE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        output = process.communicate()[0] + f"\n(killed after {PAGE_TIMEOUT_S:.0f} s)"
    results = folder / "results.json"
    records = json.loads(results.read_text()) if results.exists() else []
    return ProcessRun(records, process.returncode, output, home)


@pytest.fixture(scope="module")
def page_runs(request, tmp_path_factory):
    """page -> (future ProcessRun, the blocks it runs): the selected tests' pages, started up front."""
    selected = {item.callspec.params["block"].page for item in request.session.items
                if isinstance(getattr(item, "callspec", None) and item.callspec.params.get("block"), Block)}
    pool = concurrent.futures.ThreadPoolExecutor(PARALLEL_PAGES)
    runs = {}
    for group, pages in process_groups().items():
        blocks = [block for block in BLOCKS if block.page in pages and block.page in selected]
        if blocks:
            future = pool.submit(run_in_fresh_process, blocks, tmp_path_factory.mktemp(re.sub(r"\W+", "_", group)))
            runs |= {page: (future, blocks) for page in pages}
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.id)
def test_example_runs_offline(block, page_runs):
    future, blocks = page_runs[block.page]
    run, index = future.result(), blocks.index(block)
    assert index < len(run.records), (
        f"{block.id} did not report: its process ended with status {run.returncode}:\n{run.output[-4000:]}")
    record = run.records[index]
    assert "failure" not in record, f"{block.id} failed:\n{record['failure']}\nit printed:\n{record['stdout']}"
    for network in record["network"]:
        where = f"{block.page}:{network['line']}"
        assert network["error"], f"{where} is marked '{NETWORK_MARKER}' but ran offline; drop the mark"
        advice = OFFLINE_ADVICE.get(network["error"])
        assert network["zoo_error"] and advice, (
            f"{where} failed offline with {network['error']}, not a zoo error about the network: {network['message']}")
        assert network["seconds"] < NETWORK_FAILS_WITHIN_S, f"{where} took {network['seconds']:.1f} s to fail offline"
        for words in advice:
            words = words.format(keras_home=run.keras_home)
            assert words in network["message"], f"{where}: the offline error does not name {words}: {network['message']}"
    assert record["seconds"] < BLOCK_LIMIT_S, (
        f"{block.id} took {record['seconds']:.0f} s; an example should take seconds: use smaller settings")


def test_python_blocks_are_found_with_their_lines():
    markdown = ("Text\n\n```python\nx = 1\n```\n\n```bash\nls\n```\n\n    indented = 'not a fence'\n\n"
                "~~~python title=\"a.py\"\ny = 2\n~~~\n\n- item\n\n  ```python\n  z = 3\n  ```\n")
    assert [(block.line, block.source) for block in python_blocks(markdown, "t.md")] == [
        (3, "x = 1\n"), (13, "y = 2\n"), (19, "z = 3\n")]
    pages = {block.page for block in BLOCKS}
    assert {"README.md", "docs/index.md", "docs/offline.md", "docs/concepts/perceptron.md",
            "docs/models/mlp.md"} <= pages
    assert len({block.id for block in BLOCKS}) == len(BLOCKS)


def test_the_generator_marks_the_lines_that_download_weights():
    """A model page whose default weights need a download says so on each line that builds with them."""
    for name, downloads in (("vgg16_transfer", True), ("style_transfer", True), ("mlp", False)):
        page = GENERATED[f"docs/models/{name}.md"]
        building = [line for line in page.split("\n")
                    if line.startswith((f'model = zoo.get("{name}")', "tuner = keras_tuner.RandomSearch("))]
        assert len(building) == 2, building
        assert all((NETWORK_MARKER in line) == downloads for line in building), building
