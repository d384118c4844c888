"""The HTML pages in a real headless Chromium: self-contained, escaped, and showing what matters."""

import shutil

import pytest

from conftest import load_results, submission_dir

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


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


def open_page(browser, path):
    page = browser.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, [u for u in requests if u != path.as_uri()], errors


def test_report_shows_scores_feedback_and_tracebacks(browser, tiny_run):
    out, _ = tiny_run
    page, requests, errors = open_page(browser, submission_dir(out, "tiny-wrong") / "report.html")
    assert requests == [] and errors == []
    assert page.inner_text("#total").strip() == "0 / 4"
    body = page.inner_text("body")
    assert "answer is 41, not the answer." in body
    assert "Hint: Read the book again." in body
    assert page.locator("pre.answer").count() >= 2 and page.locator("pre.expected").count() >= 2
    page.close()
    page, _, _ = open_page(browser, submission_dir(out, "tiny-error-cell") / "report.html")
    page.click("#cells details summary")
    assert "ValueError: oops" in page.inner_text("#cells")
    page.close()


def test_student_markup_is_escaped_and_beside_the_model_answer(browser, tiny_run):
    out, _ = tiny_run
    page, requests, errors = open_page(browser, submission_dir(out, "tiny-html-in-answers") / "report.html")
    assert requests == [] and errors == []
    assert page.title() == "tiny-html-in-answers — grading report"
    assert "<script>" in page.inner_text("pre.free-text")
    assert page.locator("img").count() == 0
    assert "Forty-two, because of the <b>book</b>." in page.inner_text("pre.model-answer")
    page.close()


def test_unreadable_submission_report_says_why(browser, tiny_run):
    out, _ = tiny_run
    page, _, errors = open_page(browser, submission_dir(out, "corrupt-truncated") / "report.html")
    assert errors == []
    assert "not valid JSON" in page.inner_text("#error")
    page.close()


def test_index_links_reports_and_summarises_questions(browser, tiny_run):
    out, _ = tiny_run
    page, requests, errors = open_page(browser, out / "index.html")
    assert requests == [] and errors == []
    rows = page.locator("#submissions tbody tr")
    assert rows.count() == len(list(out.glob("submissions/*/results.json")))
    assert "could not be graded" in page.inner_text("#counts")
    assert page.locator("#questions tbody tr").count() == 2
    assert page.locator("svg").count() == 1
    page.click("#submissions >> text=tiny-correct")
    assert page.url.endswith("tiny-correct/report.html")
    assert page.inner_text("#total").strip() == "3 / 4"
    assert load_results(out, "tiny-correct")["score"] == 3
    page.close()
