"""Browser check of the built site: headless Chromium walks it the way a reader would.

    python docs/scripts/figures.py && mkdocs build --strict
    python docs/scripts/check_site.py                 # reads site/, writes runs/ci-site/

Serves site/ on 127.0.0.1 (a free port) and drives Debian's /usr/bin/chromium
through Playwright (no browser download). It opens the home page, follows the
Models tab and then the navigation to every model page in the registry,
searches for "perceptron" and expects a hit, and visits every page in the
navigation. It fails on any broken image, failed request or HTTP error, and
any console error. Screenshots and report.json go to --out.

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

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WAIT_MS = 15_000          # longest any single page action may take
NAV_LINKS = "nav.md-nav--primary a.md-nav__link[href]"   # Material's navigation: every page of the site
VIEWPORT = {"width": 1280, "height": 900}   # wide enough for Material's tabs and both sidebars


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


class Check:
    """Collects problems; every page visit checks images and records console errors."""

    def __init__(self, page, out: Path):
        self.page, self.out = page, out
        self.problems: list[str] = []
        self.visited: list[str] = []
        self.screenshots: list[str] = []
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
        self.visited.append(self.page.url)

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
                check = Check(page, out)

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
          f"{report['search_hits']} search hits for 'perceptron', {len(report['screenshots'])} screenshots "
          f"in {out}, {report['wall_time_s']} s")
    for problem in report["problems"]:
        print(f"  problem: {problem}")
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
