"""End to end in headless Chromium (Debian's chromium package) driven by Playwright."""

from human_helpers import TUNED, XSS, Server, make_study

# `browser` (tests/conftest.py) skips these tests where no Chromium is found, and fails them
# where TUNEVAL_REQUIRE_BROWSER=1 (CI).


def test_rate_with_mouse_and_keyboard_reload_remembers_and_payloads_stay_inert(tmp_path, browser):
    from playwright.sync_api import expect

    study = make_study(tmp_path, n=6, per_item=2, payload_every=1)  # every item has the payload
    dialogs: list[str] = []
    with Server(study) as server:
        page = browser.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server.link("ann1"))
        page.wait_for_selector("#main:not([hidden])")
        assert page.text_content("#progress") == "0 / 4 rated"
        assert page.text_content("#position") == "Item 1 of 4"
        first = study.assignments()["ann1"][0]
        item = next(i for i in study.items() if i.item_id == first)
        placement = study.placements()[first]
        payload_side = "a" if placement.model_at_a == TUNED else "b"
        # The payload is shown verbatim as text; nothing in it became an element or ran.
        shown = page.text_content(f"#response-{payload_side}")
        assert XSS in shown
        assert shown == (item.response_a if payload_side == "a" else item.response_b)
        assert page.locator(".response script, .response img, .response a").count() == 0
        assert page.evaluate("window.__pwned") is None

        # Mouse: response A's four criteria.
        for criterion, score in (("accuracy", 4), ("relevance", 3), ("format", 5), ("fluency", 2)):
            page.click(f"#a-{criterion}-{score}")
        page.click("#prompt")  # leave the radio group so arrow keys do not move its selection
        # Keyboard: the highlight is on A's last row; move down to B and score it with digits.
        page.keyboard.press("ArrowDown")
        for key in ("5", "4", "3", "1"):
            page.keyboard.press(key)
        page.keyboard.press("b")
        page.keyboard.press("c")
        page.keyboard.type("B is clearer")
        page.keyboard.press("Escape")
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_have_text("Saved.")
        assert page.text_content("#progress") == "1 / 4 rated"
        assert page.text_content("#position") == "Item 2 of 4"  # moved on to the next unrated

        votes = study.votes("ann1")
        assert len(votes) == 1
        v = votes[0]
        assert v.item_id == first
        assert (v.a.accuracy, v.a.relevance, v.a.format, v.a.fluency) == (4, 3, 5, 2)
        assert (v.b.accuracy, v.b.relevance, v.b.format, v.b.fluency) == (5, 4, 3, 1)
        assert v.preference == "B" and v.comment == "B is clearer"

        # Reload: resumes at the first unrated item; going back shows the stored vote.
        page.reload()
        page.wait_for_selector("#main:not([hidden])")
        assert page.text_content("#progress") == "1 / 4 rated"
        assert page.text_content("#position") == "Item 2 of 4"
        page.keyboard.press("p")
        assert page.text_content("#position") == "Item 1 of 4"
        assert page.is_visible("#rated")
        for side, scores in (("a", (4, 3, 5, 2)), ("b", (5, 4, 3, 1))):
            for criterion, score in zip(
                ("accuracy", "relevance", "format", "fluency"), scores, strict=True
            ):
                assert page.is_checked(f"#{side}-{criterion}-{score}")
        assert page.is_checked("#pref-B")
        assert page.input_value("#comment") == "B is clearer"

        # Change the vote: tie, saved with Enter.
        page.keyboard.press("t")
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_have_text("Saved.")
        changed = study.votes("ann1")
        assert len(changed) == 1 and changed[0].preference == "tie" and changed[0].revision == 2

        # An incomplete vote is not sent.
        page.keyboard.press("a")
        page.keyboard.press("Enter")
        assert "Still to rate" in page.text_content("#status")
        assert len(study.votes("ann1")) == 1

        assert page.evaluate("window.__pwned") is None
        assert dialogs == []

        # Without a valid token nothing is shown.
        page = browser.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{server.url}/annotate#token=wrong")
        page.wait_for_selector("#error:not([hidden])")
        assert "unknown token" in page.text_content("#error")
        assert page.is_hidden("#main")
        page = browser.new_page()
        page.goto(f"{server.url}/annotate")
        page.wait_for_selector("#error:not([hidden])")
        assert "private link" in page.text_content("#error")
        assert page.is_hidden("#main")

        # The organiser page shows progress.
        page.goto(f"{server.url}/organiser#token={study.organiser_token()}")
        page.wait_for_selector("#main:not([hidden])")
        assert "ann1" in page.text_content("#progress-table")
        assert "Fleiss" in page.text_content("#agreement-table")
        assert dialogs == []
