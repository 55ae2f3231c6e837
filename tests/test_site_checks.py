"""The site check's readers: raw JSON keys in tables, and colour scales stretched over a sliver of the values."""

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "docs" / "scripts"))

import check_site  # noqa: E402
import figures  # noqa: E402

pytestmark = pytest.mark.no_keras

# The committed mini_transformer heatmap before it was fixed: viridis stretched over the weights' own range.
STRETCHED = {"vmin": 0.0523, "vmax": 0.0529, "values": [0.0523, 0.0529]}


def _scale(low, high):
    return {"vmin": low, "vmax": high, "values": [low, high]}


# ------------------------------------------------------------------ raw JSON keys in tables

@pytest.fixture(scope="module")
def paths():
    return check_site.committed_key_paths()


def test_a_cell_holding_a_key_chain_of_a_committed_results_json_fails(paths):
    cells = ["arms.pretrained.features_cached", " initial_losses.content\n", "data.class_names"]
    problems = check_site.table_problems(cells, paths, "page")
    assert [problem.split(": ", 1)[1] for problem in problems] == [
        "'arms.pretrained.features_cached'; label it in words", "'initial_losses.content'; label it in words",
        "'data.class_names'; label it in words"]


@pytest.mark.parametrize("cell", ["zoo.recipes.mlp", "results.json", "hed_bsds500.weights.h5", "0.9972",
                                  "3.15.1", "keras.applications", "test accuracy", "arms → pretrained",
                                  "initial_losses.content is the content loss at the start", ""])
def test_module_names_file_names_numbers_and_words_pass(paths, cell):
    assert check_site.table_problems([cell], paths, "page") == []


def test_key_chains_come_from_every_committed_run(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text(json.dumps({"metrics": {"odd_group": {"odd_leaf": 1}}}))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "results.json").write_text("{not json")   # a damaged run adds nothing, and stops nothing
    paths = check_site.committed_key_paths(tmp_path)
    assert paths == {"metrics.odd_group", "metrics.odd_group.odd_leaf", "odd_group.odd_leaf"}
    assert check_site.table_problems(["odd_group.odd_leaf"], paths, "page")


# ------------------------------------------------------------------ colour scales

@pytest.mark.parametrize("low, high, spread", [(0.0, 1.0, 1.0), (-1.0, 1.0, 2.0), (0.0523, 0.0529, 0.0113),
                                               (-10.0, -9.9, 0.01), (0.0, 0.0, 0.0)])
def test_relative_spread(low, high, spread):
    assert check_site.relative_spread(low, high) == pytest.approx(spread, abs=1e-4)


def test_the_stretched_attention_heatmap_is_narrow_and_a_full_scale_is_not():
    assert check_site.narrow_scales({"scales": [STRETCHED]}) == [STRETCHED]
    assert check_site.narrow_scales({"scales": [_scale(0.0, 0.0529), _scale(-1, 1), _scale(0, 30)]}) == []


@pytest.mark.parametrize("caption, admits", [
    ("Attention weights, nearly uniform over the tokens.", True),
    ("UNIFORM attention", True),
    ("The colour scale spans 0.0523 to 0.0529.", True),
    ("the color scale spans 0.052 to 0.053", True),         # the ends, to the digits given
    ("The colour scale spans 0.0500 to 0.0600.", False),    # another range
    ("The colour scale spans 0.0523 to 0.0600.", False),
    ("Attention weights of one example.", False),
    ("non-uniformity of the weights", False),                # the word, not a part of one
    ("far from non-uniform", False),
])
def test_a_narrow_scale_must_be_admitted_in_words_or_with_its_own_ends(caption, admits):
    assert check_site.caption_admits(caption, STRETCHED) is admits


def test_figures_write_each_colour_scale_beside_the_figure(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    import numpy as np

    monkeypatch.setattr(figures, "FIGURES", tmp_path)
    figure, (heat, photo) = plt.subplots(1, 2)
    values = np.array([[0.0523, 0.0529], [0.0526, 0.0525]])
    image = heat.imshow(values, cmap="viridis")                      # stretched over its own values
    heat.set_title("heat")
    photo.imshow(np.zeros((2, 2, 3)))                                # an RGB picture: no colour map
    figure.colorbar(image, ax=heat)                                  # the bar's own axes: not a figure scale
    figures.save(figure, "results/x-heat.png")
    written = json.loads((tmp_path / "results" / "x-heat.scales.json").read_text())
    assert written["figure"] == "results/x-heat.png" and len(written["scales"]) == 1
    scale = written["scales"][0]
    assert scale["axes"] == "heat" and scale["colour_map"] == "viridis"
    assert scale["vmin"] == pytest.approx(0.0523) and scale["vmax"] == pytest.approx(0.0529)
    assert scale["values"] == pytest.approx([0.0523, 0.0529])
    assert check_site.narrow_scales(written) == [scale]

    plain, axis = plt.subplots()
    axis.plot([0, 1], [0, 1])
    figures.save(plain, "plain.png")
    assert (tmp_path / "plain.png").is_file() and not (tmp_path / "plain.scales.json").exists()


def test_the_committed_attention_heatmap_colours_from_zero(tmp_path, monkeypatch):
    monkeypatch.setattr(figures, "FIGURES", tmp_path)
    path = figures.attention_heatmap("mini_transformer")
    written = json.loads(path.with_suffix(".scales.json").read_text())
    [scale] = written["scales"]
    assert scale["vmin"] == 0.0 and scale["vmax"] == pytest.approx(scale["values"][1])
    assert check_site.narrow_scales(written) == []
    # The weights themselves are nearly even, and the title says so.
    assert check_site.relative_spread(*scale["values"]) < check_site.NARROW_SCALE
    assert scale["axes"].splitlines()[1].startswith("nearly uniform: weights ")


# ------------------------------------------------------------------ in the browser, on a small site

PAGE = """<!doctype html><html><body><article>
<table><tr><th>measure</th><th>value</th></tr>
<tr><td><code>arms.pretrained.features_cached</code></td><td>yes</td></tr>
<tr><td>zoo.recipes.mlp</td><td>results.json</td></tr></table>
<p><img alt="heat, silent" src="figures/silent.png"></p>
<p><em>Attention weights of one example.</em></p>
<h2>Next</h2><p>Attention is nearly uniform here, but under another heading.</p>
<p><img alt="heat, admitted" src="figures/admitted.png"></p>
<p><em>Attention weights.</em></p><blockquote><p>a review</p></blockquote>
<p>The colour scale spans 0.0523 to 0.0529.</p>
<p><img alt="heat, wrong ends" src="figures/wrong.png"></p>
<p>The colour scale spans 0 to 1.</p>
<p><img alt="nearly uniform heat" src="figures/in-alt.png"></p>
<p><img alt="a full scale" src="figures/full.png"></p>
<p><img alt="a diagram" src="figures/diagram.png"></p>
</article></body></html>"""


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    """A headless Chromium page on a small site served the way check_site serves the real one."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    site = tmp_path_factory.mktemp("site")
    (site / "figures").mkdir()
    for name in ("silent", "admitted", "wrong", "in-alt", "full", "diagram"):
        Image.new("RGB", (1, 1)).save(site / "figures" / f"{name}.png")   # a real picture, so each <img> loads
    for name in ("silent", "admitted", "wrong", "in-alt"):
        (site / "figures" / f"{name}.scales.json").write_text(json.dumps({"scales": [STRETCHED]}))
    (site / "figures" / "full.scales.json").write_text(json.dumps({"scales": [_scale(0.0, 0.0529)]}))
    (site / "index.html").write_text(PAGE)
    server, base = check_site.serve(site)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=check_site.CHROMIUM, headless=True,
                                                 args=check_site.CHROMIUM_FLAGS)
            page = browser.new_page()
            page.goto(base, wait_until="load")
            yield page, site, base
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_the_check_reads_tables_and_captions_as_a_reader_sees_them(browser_page, tmp_path):
    page, site, base = browser_page
    check = check_site.Check(page, tmp_path, site=site, base=base, paths=check_site.committed_key_paths())
    check.read_tables_and_figures()
    assert check.cells_checked == 6 and check.figures_checked == 5   # the diagram has no colour scale
    raw = [problem for problem in check.problems if problem.startswith("raw JSON key")]
    assert raw == [f"raw JSON key in a table on {base}: 'arms.pretrained.features_cached'; label it in words"]
    figured = sorted(problem.split()[1] for problem in check.problems if problem.startswith("figure "))
    assert figured == ["/figures/silent.png", "/figures/wrong.png"]


@pytest.mark.browser
def test_figure_problems_say_what_is_wrong_and_how_to_fix_it(browser_page):
    page, site, base = browser_page
    captured = page.evaluate(check_site.FIGURES_JS)
    silent = next(figure for figure in captured if figure["src"].endswith("/silent.png"))
    assert "Attention weights of one example." in silent["caption"] and "Next" not in silent["caption"]
    problems, checked = check_site.figure_problems([silent], site, base, "the page")
    assert checked == 1
    [problem] = problems
    assert "spans 0.0523 to 0.0529, 1.13% of its magnitude" in problem and "docs/scripts/figures.py" in problem
