"""Browser check of the built site: headless Chromium walks it the way a reader would.

    python docs/scripts/figures.py && mkdocs build --strict
    python docs/scripts/check_site.py                 # reads site/, writes runs/ci-site/

Serves site/ on 127.0.0.1 (a free port) and drives Debian's /usr/bin/chromium
through Playwright (no browser download). It opens the home page, follows the
Models tab and then the navigation to every model page in the registry,
searches for "perceptron" and expects a hit, and visits every page in the
navigation. It fails on any broken image, failed request or HTTP error, and
any console error. Screenshots and report.json go to --out.

On every page it visits it also reads what a reader would:

- **Raw JSON keys in tables.** A table cell whose whole text is a dotted chain
  of keys of a committed results.json (``arms.pretrained.features_cached``,
  ``initial_losses.content``) fails: tables say what a number is in words.
  The detector, ``zoo.model_card.raw_keys``, is the one the model cards are
  tested with; module names, file names and numbers are never key chains.
- **Colour scales stretched over a sliver of the values.** figures.py writes,
  beside each figure with a colour map, ``<figure>.scales.json``: each colour
  scale (vmin, vmax) and the range of the values drawn. A scale whose span is
  under ``NARROW_SCALE`` of its largest magnitude turns near-equal values into
  a full colour map; the figure's caption (its alt text and the blocks after it,
  up to the next heading or image) must then say so: the word "uniform", or
  "colour scale spans A to B" with the scale's own ends.

Every wait is bounded, and the server stops at the end whatever happens.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import zoo_docs  # noqa: E402

from zoo.model_card import is_raw_key, key_paths  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WAIT_MS = 15_000          # longest any single page action may take
NAV_LINKS = "nav.md-nav--primary a.md-nav__link[href]"   # Material's navigation: every page of the site
VIEWPORT = {"width": 1280, "height": 900}   # wide enough for Material's tabs and both sidebars
# A colour scale spanning less than this fraction of its largest magnitude must say so in its caption.
# 5%, not 1%: the committed mini_transformer heatmap stretched 0.0523 to 0.0529 (1.1%) over viridis.
NARROW_SCALE = 0.05
SCALES_SUFFIX = ".scales.json"   # written by figures.py beside each figure that has a colour map
TABLE_CELLS = "article table th, article table td"
# Each image of the page's article, with its caption: the alt text, then the text of the block holding the
# image and of the blocks after it, up to the next heading or the next block with an image.
FIGURES_JS = """() => Array.from(document.querySelectorAll("article img")).map(image => {
    const block = image.closest("p, figure") || image;
    const caption = [image.alt, block.innerText];
    for (let next = block.nextElementSibling; next && !/^H[1-6]$/.test(next.tagName)
         && next.tagName !== "IMG" && !next.querySelector("img"); next = next.nextElementSibling) {
        caption.push(next.innerText);
    }
    return {src: image.src, caption: caption.join("\\n")};
})"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site and records every request that ends in an HTTP error."""

    errors: list[str] = []

    def log_message(self, format, *args):  # noqa: A002 (the signature is the base class's)
        pass

    def send_error(self, code, message=None, explain=None):
        self.errors.append(f"HTTP {code} for {self.path}")
        super().send_error(code, message, explain)


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``site`` on 127.0.0.1; port 0 lets the kernel pick a free port."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# ----------------------------------------------------------------- raw keys and colour scales

def committed_key_paths(results_dir: Path = zoo_docs.RESULTS) -> frozenset[str]:
    """The key chains of every committed results/<recipe>/results.json (``zoo.model_card.key_paths``)."""
    documents = []
    for path in sorted(Path(results_dir).glob("*/results.json")):
        try:
            documents.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue   # a damaged run shows no table on the site either
    return key_paths(*documents)


def table_problems(cells: list[str], paths, where: str) -> list[str]:
    """One problem per table cell whose whole text is a raw JSON key chain."""
    return [f"raw JSON key in a table on {where}: {cell.strip()!r}; label it in words"
            for cell in cells if is_raw_key(cell, paths)]


def relative_spread(low: float, high: float) -> float:
    """(high - low) / max(|low|, |high|): the share of its own magnitude a colour scale spans (0 when both are 0)."""
    largest = max(abs(low), abs(high))
    return (high - low) / largest if largest else 0.0


_SPANS = re.compile(r"colou?r scale spans (-?\d+(?:\.\d+)?(?:e-?\d+)?) to (-?\d+(?:\.\d+)?(?:e-?\d+)?)",
                    re.IGNORECASE)


def caption_admits(caption: str, scale: dict) -> bool:
    """True when a caption says its colour scale is narrow: "uniform", or "colour scale spans A to B".

    A and B must be the scale's own ends as printed (to the digits given), so a
    caption that names another range does not count.
    """
    if re.search(r"(?<![\w-])uniform(?![\w-])", caption, re.IGNORECASE):
        return True
    for low, high in _SPANS.findall(caption):
        if all(abs(float(shown) - scale[end]) <= 0.5 * 10.0 ** -_decimals(shown)
               for shown, end in ((low, "vmin"), (high, "vmax"))):
            return True
    return False


def _decimals(number: str) -> int:
    mantissa, _, exponent = number.lower().partition("e")
    return len(mantissa.partition(".")[2]) - int(exponent or 0)


def narrow_scales(scales: dict) -> list[dict]:
    """The colour scales of one figure's ``.scales.json`` spanning less than ``NARROW_SCALE``."""
    return [scale for scale in scales.get("scales", [])
            if relative_spread(scale["vmin"], scale["vmax"]) < NARROW_SCALE]


def figure_problems(figures: list[dict], site: Path, base: str, where: str) -> tuple[list[str], int]:
    """Problems of the page's figures (``FIGURES_JS``) whose colour scale is narrow and whose caption hides it.

    Returns the problems and how many figures with a colour scale were checked.
    """
    problems, checked = [], 0
    for figure in figures:
        scales_path = scales_file_of(figure["src"], site, base)
        if scales_path is None:
            continue
        checked += 1
        for scale in narrow_scales(json.loads(scales_path.read_text(encoding="utf-8"))):
            if not caption_admits(figure["caption"], scale):
                problems.append(
                    f"figure {urlsplit(figure['src']).path} on {where}: its colour scale spans "
                    f"{scale['vmin']:.4g} to {scale['vmax']:.4g}, {relative_spread(scale['vmin'], scale['vmax']):.2%} "
                    f"of its magnitude (values {scale['values'][0]:.4g} to {scale['values'][1]:.4g}), and the "
                    "caption does not say so: say 'uniform' or 'colour scale spans A to B', or widen the scale "
                    "in docs/scripts/figures.py")
    return problems, checked


def scales_file_of(source: str, site: Path, base: str) -> Path | None:
    """The ``.scales.json`` in ``site`` beside the image at URL ``source``, when the site serves one."""
    if not source.startswith(base):
        return None
    path = (site / urlsplit(source).path[len(urlsplit(base).path):]).with_suffix(SCALES_SUFFIX)
    return path if path.is_file() else None


# ----------------------------------------------------------------------------- the walk

class Check:
    """Collects problems; every page visit checks images, tables and colour scales, and records console errors."""

    def __init__(self, page, out: Path, site: Path | None = None, base: str = "", paths=frozenset()):
        self.page, self.out = page, out
        self.site, self.base, self.paths = site, base, paths
        self.problems: list[str] = []
        self.visited: list[str] = []
        self.screenshots: list[str] = []
        self.cells_checked = self.figures_checked = 0
        page.on("console", lambda message: message.type == "error" and self.problems.append(
            f"console error on {page.url}: {message.text}"))
        page.on("pageerror", lambda error: self.problems.append(f"page error on {page.url}: {error}"))
        page.on("requestfailed", lambda request: self.problems.append(
            f"request failed on {page.url}: {request.url} ({request.failure})"))
        page.on("response", lambda response: response.status >= 400 and self.problems.append(
            f"HTTP {response.status} for {response.url}"))

    def expect(self, condition: bool, problem: str) -> bool:
        if not condition:
            self.problems.append(problem)
        return condition

    def settle(self):
        # Network idle: nothing is still loading (and nothing gets aborted) when the next page opens.
        self.page.wait_for_load_state("networkidle", timeout=WAIT_MS)
        # Lazy images would still count as loading; wait (bounded) until every image is done.
        self.page.wait_for_function("Array.from(document.images).every(image => image.complete)",
                                    timeout=WAIT_MS)
        broken = self.page.evaluate(
            "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
        for source in broken:
            self.problems.append(f"broken image on {self.page.url}: {source}")
        if self.page.url not in self.visited:
            self.read_tables_and_figures()
        self.visited.append(self.page.url)

    def read_tables_and_figures(self):
        """Raw JSON keys in the page's tables; narrow colour scales its captions keep quiet about."""
        cells = self.page.eval_on_selector_all(TABLE_CELLS, "cells => cells.map(cell => cell.innerText)")
        self.cells_checked += len(cells)
        self.problems += table_problems(cells, self.paths, self.page.url)
        if self.site is not None:
            problems, checked = figure_problems(self.page.evaluate(FIGURES_JS), self.site, self.base,
                                                self.page.url)
            self.figures_checked += checked
            self.problems += problems

    def screenshot(self, name: str, full_page: bool = True):
        path = self.out / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page, timeout=WAIT_MS)
        self.screenshots.append(str(path))


def run(site: Path, out: Path) -> dict:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    expected_models = zoo_docs.model_names()
    server, base = serve(site)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
                                                 timeout=WAIT_MS)
            try:
                page = browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(WAIT_MS)
                check = Check(page, out, site=site, base=base, paths=committed_key_paths())

                hit_count, nav_pages = 0, []
                try:
                    # 1. Home page.
                    page.goto(base, wait_until="load")
                    check.settle()
                    check.expect("keras-zoo" in page.title(), f"home page title is {page.title()!r}")
                    check.screenshot("home", full_page=False)
                    nav_links = page.eval_on_selector_all(NAV_LINKS, "links => links.map(link => link.href)")
                    # This site's pages in the navigation. A selector that matches nothing (a theme
                    # update) would make step 4 visit nothing and pass: it must find every model page.
                    nav_pages = list(dict.fromkeys(
                        href.split("#")[0] for href in nav_links if urljoin(href, "/") == base))
                    missing = [name for name in expected_models if not any(
                        urlsplit(href).path.endswith(f"/models/{name}/") for href in nav_pages)]
                    check.expect(len(nav_pages) > len(expected_models) and not missing,
                                 f"the navigation ({NAV_LINKS}) lists {len(nav_pages)} pages of {base}, "
                                 f"without the model pages {missing}")

                    # 2. The Models tab, then every model page through the navigation.
                    page.locator("nav.md-tabs a.md-tabs__link", has_text="Models").click()
                    check.settle()
                    check.expect(urlsplit(page.url).path.endswith("/models/"), f"Models tab led to {page.url}")
                    sidebar = "nav.md-nav--primary"
                    for name in expected_models:
                        link = page.locator(f"{sidebar} a.md-nav__link:visible",
                                            has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))
                        if not check.expect(link.count() == 1, f"no navigation link for model {name!r}"):
                            continue
                        link.first.click()
                        check.settle()
                        heading = page.locator("article h1").first.inner_text(timeout=WAIT_MS).strip(" ¶\n")
                        check.expect(urlsplit(page.url).path.endswith(f"/models/{name}/"),
                                     f"navigation link for {name} led to {page.url}")
                        check.expect(heading == name, f"model page {page.url} has heading {heading!r}")
                        diagram = page.locator(f"img[alt='{name} model diagram']")
                        check.expect(diagram.count() == 1, f"model page {name} shows no diagram")
                        check.screenshot(f"model-{name}")

                    # 3. Search for "perceptron" and expect a hit that links to a page.
                    page.goto(base, wait_until="load")
                    page.locator("label.md-search__icon, .md-search__input").first.click()
                    # Typed key by key, as a reader would: Material searches on each keystroke.
                    page.locator("input.md-search__input").press_sequentially("perceptron", delay=60)
                    hits = page.locator(".md-search-result__item")
                    hits.first.wait_for(state="visible", timeout=WAIT_MS)
                    first_hit = hits.first.inner_text(timeout=WAIT_MS)
                    check.expect(hits.count() >= 1 and "erceptron" in first_hit,
                                 f"search for 'perceptron' gave {hits.count()} hits, first: {first_hit[:80]!r}")
                    check.screenshot("search", full_page=False)
                    hit_count = hits.count()

                    # 4. Every page in the navigation: no broken image, no console error.
                    for href in nav_pages:
                        if href in check.visited:
                            continue
                        page.goto(href, wait_until="load")
                        check.settle()
                    unvisited = [href for href in nav_pages if href not in check.visited]
                    check.expect(not unvisited, f"navigation pages not visited: {unvisited}")
                    # A selector that matched nothing would check nothing and pass.
                    check.expect(check.cells_checked > 0, f"no table cell matched {TABLE_CELLS!r} on any page")
                    check.expect(check.figures_checked > 0, f"no figure with a {SCALES_SUFFIX} file was shown")
                except PlaywrightError as error:
                    # A wait ran out or an element was missing: record it and keep the evidence.
                    check.problems.append(f"browser step failed on {page.url}: {error}")
                    check.screenshot("failure", full_page=False)
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()

    problems = check.problems + [f"server: {error}" for error in _QuietHandler.errors]
    return {"base": base, "models": expected_models, "search_hits": hit_count,
            "nav_pages": len(nav_pages), "pages_visited": len(dict.fromkeys(check.visited)),
            "table_cells_checked": check.cells_checked, "colour_scaled_figures_checked": check.figures_checked,
            "screenshots": check.screenshots,
            "problems": problems}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", default=str(zoo_docs.REPO / "site"), help="the built site (default: site/)")
    parser.add_argument("--out", default=str(zoo_docs.REPO / "runs" / "ci-site"),
                        help="folder for screenshots and report.json (default: runs/ci-site/)")
    args = parser.parse_args(argv)
    site, out = Path(args.site), Path(args.out)
    if not (site / "index.html").is_file():
        parser.error(f"{site} holds no built site; run: {zoo_docs.FIGURE_COMMAND} && mkdocs build --strict")
    if not Path(CHROMIUM).is_file():
        parser.error(f"{CHROMIUM} is missing; install Debian's chromium: apt-get install -y chromium")
    out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    report = run(site, out)
    report["wall_time_s"] = round(time.perf_counter() - started, 1)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"site check: {report['pages_visited']} pages ({report['nav_pages']} in the navigation), "
          f"{len(report['models'])} model pages through the nav, "
          f"{report['search_hits']} search hits for 'perceptron', {report['table_cells_checked']} table cells "
          f"and {report['colour_scaled_figures_checked']} colour-scaled figures read, "
          f"{len(report['screenshots'])} screenshots "
          f"in {out}, {report['wall_time_s']} s")
    for problem in report["problems"]:
        print(f"  problem: {problem}")
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
