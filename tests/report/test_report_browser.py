"""Open report.html in headless Chromium: it renders, plots exist, no errors, no network."""


# The shared `browser` fixture (tests/conftest.py) skips this test where no Chromium is found,
# and fails it where TUNEVAL_REQUIRE_BROWSER=1 (CI).
def test_report_renders_offline(finished_run, browser):
    url = (finished_run / "report.html").resolve().as_uri()
    requests: list[str] = []
    errors: list[str] = []
    page = browser.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.title() == "tuneval report: rep"
    assert page.locator("svg.chart").count() >= 5
    assert page.locator("svg.chart rect.bar").count() > 10
    assert page.locator("svg.chart path.whisker").count() > 0
    assert page.locator("svg.chart circle.point").count() == 24
    assert page.evaluate("window.__pwned") is None  # model text was not executed
    assert page.locator("#flipped tbody tr").count() > 0
    assert page.locator("#flipped del, #flipped ins").count() > 0
    # Sorting: clicking the "base" header orders the metrics rows by that column.
    header = page.locator("#metrics th", has_text="base").first
    header.click()
    values = page.locator("#metrics tbody tr td:nth-child(4)").all_inner_texts()
    assert values == sorted(values, key=float)
    header.click()
    values = page.locator("#metrics tbody tr td:nth-child(4)").all_inner_texts()
    assert values == sorted(values, key=float, reverse=True)
    assert page.locator("#items tbody tr").count() == 12
    box = page.locator("svg.chart").first.bounding_box()
    assert box is not None and box["width"] > 100
    assert errors == []
    assert requests == [url]  # the page itself, nothing else
