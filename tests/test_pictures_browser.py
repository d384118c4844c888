"""Pictures in the reports and the class overview's dashboard, in a real headless Chromium:
a perfect and a wrong conv-layer submission (and a broken file) graded for real, and a class of
300 results built directly. Every page is checked for requests leaving it, script errors and
Content-Security-Policy violations; screenshots go to the test's temporary folder."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from grader.writers import index_html

from conftest import NOTEBOOKS, ROOT, report_href, run_grader, submission_dir
from synthetic_class import ERRORS, EXPECTED, make_class

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PERFECT = ROOT / "reference" / "conv-layer" / "model_solution.ipynb"
WRONG = ROOT / "examples" / "ben.ipynb"
BROKEN = NOTEBOOKS / "corrupt-truncated.ipynb"
# Injected by the browser's devtools protocol, so the page's CSP does not apply to it.
WATCH_CSP = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (`make test` installs it as root: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("conv-pages")
    done = run_grader("grade", str(PERFECT), str(WRONG), str(BROKEN), "--out", str(out),
                      "--seed", "11", "--pack", "conv-layer", "--quiet")
    assert done.returncode == 1, done.stderr[-3000:]  # the broken file could not be graded
    return out


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("screenshots")


class Visit:
    """A page opened from a file:// URL, with what it tried to fetch and what went wrong."""

    def __init__(self, browser, path: Path, width: int = 1280, height: int = 900) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.url = path.as_uri()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type in ("error", "warning")
                     and self.errors.append(f"console {m.type}: {m.text}"))
        self.page.add_init_script(WATCH_CSP)
        self.page.goto(self.url)
        self.page.wait_for_load_state("load")

    def problems(self) -> dict:
        return {"requests": [u for u in self.requests if u != self.url], "errors": self.errors,
                "csp": self.page.evaluate("window.__violations")}

    def clean(self) -> bool:
        return self.problems() == {"requests": [], "errors": [], "csp": []}

    def shoot(self, folder: Path, name: str) -> Path:
        path = folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path

    def visible_names(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#submissions tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.name)")

    def sorted_headers(self) -> list[list[str]]:
        return self.page.eval_on_selector_all(
            "#submissions th[aria-sort]",
            "ths => ths.map(th => [th.textContent.trim(), th.getAttribute('aria-sort')])")

    def captions(self, question: str) -> list[str]:
        return self.page.locator(f'[id="q-{question}"] figure.heatmap figcaption').all_inner_texts()

    def group_counts(self, selector: str) -> list[int]:
        return [int(t) for t in self.page.locator(f"{selector} li.group .count").all_text_contents()]


def test_wrong_report_pictures_its_failed_checks_only(browser, conv_run, shots):
    visit = Visit(browser, submission_dir(conv_run, "ben") / "report.html", width=1100)
    page = visit.page
    assert visit.clean(), visit.problems()
    pictured = page.locator("figure.heatmap")
    assert pictured.count() >= 8
    assert page.locator(".failed-check figure.heatmap").count() == pictured.count()
    assert page.locator(".passed-check figure.heatmap").count() == 0
    assert page.locator("figure.heatmap svg").count() == pictured.count()
    # ben's edge kernel ignores v: the kernel, and what it does on the two step edges
    edge = [c.splitlines()[0] for c in visit.captions("2.1")]
    assert edge == ["Your answer", "edge across v", "your kernel on it (must respond)",
                    "edge along v", "your kernel on it (must hardly respond)"]
    # his blur kernel sums to 9: the kernel (its values in the cells) and the noise through it
    blur = visit.captions("2.3")
    assert [c.splitlines()[0] for c in blur] == ["Your answer", "noise",
                                                 "the noise under your kernel"]
    assert blur[0].splitlines()[1].endswith("· 1 to 1")
    kernel = page.locator('[id="q-2.3"] figure.heatmap svg').first
    assert kernel.locator("text").all_text_contents().count("1") >= 9
    assert kernel.bounding_box()["width"] > 60
    assert "its vertical edges: X_diag under K" in " ".join(visit.captions("1.1"))
    assert visit.captions("2.4") == [] and visit.captions("3") == []
    visit.shoot(shots, "report-wrong")
    page.close()


def test_perfect_report_has_no_pictures(browser, conv_run, shots):
    visit = Visit(browser, submission_dir(conv_run, "model_solution") / "report.html", width=1100)
    assert visit.clean(), visit.problems()
    assert visit.page.inner_text("#total").strip() == "12 / 17"  # 5 written points pending
    assert visit.page.locator(".failed-check").count() == 0
    assert visit.page.locator("figure.heatmap").count() == 0
    visit.shoot(shots, "report-perfect")
    visit.page.close()


def test_overview_sorts_filters_and_groups_the_mistakes(browser, conv_run, shots):
    visit = Visit(browser, conv_run / "index.html")
    page = visit.page
    assert visit.clean(), visit.problems()
    assert visit.visible_names() == ["ben", "corrupt-truncated", "model_solution"]
    assert visit.sorted_headers() == [["submission", "ascending"]]
    page.click("#submissions th:nth-child(2) button")
    assert visit.sorted_headers() == [["score", "ascending"]]
    assert visit.visible_names() == ["ben", "model_solution", "corrupt-truncated"]  # blank last
    page.click("#submissions th:nth-child(2) button")
    assert visit.sorted_headers() == [["score", "descending"]]
    assert visit.visible_names() == ["model_solution", "ben", "corrupt-truncated"]

    page.select_option("#filters select[name=failed]", "2.1")
    assert visit.visible_names() == ["ben"]
    assert page.inner_text("#shown") == "1 of 3 submissions"
    page.select_option("#filters select[name=failed]", "")
    page.select_option("#filters select[name=status]", "error")
    assert visit.visible_names() == ["corrupt-truncated"]
    page.click("#filters button[type=reset]")
    page.fill("#filters input[name=low]", "12")
    assert visit.visible_names() == ["model_solution"]
    page.click("#filters button[type=reset]")
    assert len(visit.visible_names()) == 3

    assert "1 could not be graded" in page.inner_text("#attention")
    assert visit.group_counts('[id="mistakes-2.1"]') == [1, 1]  # both checks of 2.1 fail
    link = page.locator('[id="mistakes-2.1"] li.group a').first
    assert link.get_attribute("href") == report_href("ben") + "#q-2.1"
    assert visit.group_counts("#errors") == [1]
    assert "not valid JSON" in page.inner_text("#errors")
    page.click('[id="mistakes-2.3"] button.show')  # "show them in the table"
    assert visit.visible_names() == ["ben"]
    assert visit.clean(), visit.problems()
    visit.shoot(shots, "overview")
    link.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(report_href("ben") + "#q-2.1")
    page.close()


def test_a_changed_script_is_refused_and_reported(browser, conv_run, tmp_path):
    """The CSP allows the script by its hash only, and the tests see a violation."""
    page_text = (conv_run / "index.html").read_text()
    assert page_text.count('"use strict";') == 1
    tampered = tmp_path / "index.html"
    tampered.write_text(page_text.replace('"use strict";', '"use strict"; '))
    visit = Visit(browser, tampered)
    assert visit.problems()["csp"] == ["script-src-elem inline"]
    assert visit.page.locator("#filters").is_hidden()
    visit.page.click("#submissions th:nth-child(2) button")
    assert visit.sorted_headers() == [["submission", "ascending"]]
    visit.page.close()


def test_a_class_of_300_stays_a_page_you_can_use(browser, tmp_path, shots):
    results = make_class(300)
    started = time.perf_counter()
    html = index_html.render(results)
    seconds = time.perf_counter() - started
    print(f"index.html for 300 results rendered in {seconds:.2f} s ({len(html) // 1024} KiB)")
    (tmp_path / "index.html").write_text(html)
    visit = Visit(browser, tmp_path / "index.html", width=1280, height=900)
    page = visit.page
    assert visit.clean(), visit.problems()
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"page height: {height} px at 1280x900")
    assert height < 6000
    assert page.locator("#submissions tbody tr").count() == 300
    assert page.locator(".scroll").bounding_box()["height"] <= 0.75 * 900 + 2
    for qid, sizes in EXPECTED.items():
        assert visit.group_counts(f'[id="mistakes-{qid}"] > ol.groups') == sizes[:3], qid
    more = page.locator('[id="mistakes-2.2"] details.more')
    assert more.locator("summary").inner_text() == "2 more kinds of mistake"
    assert visit.group_counts('[id="mistakes-2.2"] details.more') == EXPECTED["2.2"][3:]
    assert visit.group_counts("#errors") == ERRORS
    assert "288 graded" in page.inner_text("#counts")

    page.select_option("#filters select[name=failed]", "2.3")
    assert len(visit.visible_names()) == sum(EXPECTED["2.3"])
    page.select_option("#filters select[name=status]", "error")
    assert visit.visible_names() == []
    page.click("#filters button[type=reset]")
    column = 2 + list(EXPECTED).index("2.3") + 1
    page.click(f"#submissions th:nth-child({column}) button")
    page.click(f"#submissions th:nth-child({column}) button")
    assert visit.sorted_headers() == [["2.3", "descending"]]
    scores = page.eval_on_selector_all(
        f"#submissions tbody tr td:nth-child({column})", "tds => tds.map(td => td.dataset.sort)")
    numbers = [float(s) for s in scores if s != ""]
    assert numbers == sorted(numbers, reverse=True) and scores[-12:] == [""] * 12
    assert visit.clean(), visit.problems()
    visit.shoot(shots, "overview-300")
    page.close()
