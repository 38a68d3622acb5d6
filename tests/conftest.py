import importlib.util
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def read_jsonl(name: str) -> list[dict]:
    with (FIXTURES / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def golden_pairs() -> list[dict]:
    return read_jsonl("golden_pairs.jsonl")


@pytest.fixture(scope="session")
def golden_labels() -> list[dict]:
    return read_jsonl("golden_labels.jsonl")


# Browser tests (Playwright driving headless Chromium) share this detection. Without a browser
# they skip with the reason, so the README's test command passes on a machine without one;
# CI (.ci/run) installs Chromium and sets TUNEVAL_REQUIRE_BROWSER=1, which turns the skip into
# a failure so that the browser tests cannot silently stop running there.
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> tuple[str | None, str]:
    """The Chromium executable to use, or None and why there is none.

    ``TUNEVAL_CHROMIUM`` names it explicitly; otherwise the first of `_BROWSER_NAMES` on PATH.
    """
    explicit = os.environ.get("TUNEVAL_CHROMIUM")
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit, ""
        return None, f"TUNEVAL_CHROMIUM={explicit} is not an executable file"
    for name in _BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found, ""
    return None, (
        "no Chromium found (looked for " + ", ".join(_BROWSER_NAMES) + " on PATH); install it "
        "with 'apt-get install chromium' or point TUNEVAL_CHROMIUM at one"
    )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Chromium; skips the test without one (fails when TUNEVAL_REQUIRE_BROWSER=1)."""
    path, reason = find_chromium()
    if path is not None and importlib.util.find_spec("playwright") is None:
        path, reason = None, "Playwright is not installed: pip install -e '.[dev]'"
    if path is None:
        if os.environ.get("TUNEVAL_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser test cannot run: {reason} (TUNEVAL_REQUIRE_BROWSER=1)")
        pytest.skip(f"browser test skipped: {reason}")
    return path


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Any]:
    """A headless Chromium driven by Playwright, closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path, args=BROWSER_ARGS)
        try:
            yield launched
        finally:
            launched.close()
