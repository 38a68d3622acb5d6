"""Choosing the isolation level: detection, the loud fallback, ``$TUNEVAL_SANDBOX``, old bwrap."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tuneval.errors import ConfigError
from tuneval.sandbox import Limits, chosen_isolation, detect_isolation, run_python
from tuneval.sandbox import bwrap as bwrap_mod
from tuneval.sandbox import isolation as iso_mod
from tuneval.sandbox import unshare as unshare_mod


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Detection results are cached per process; these tests change what is detected."""
    caches = (detect_isolation, iso_mod._probe_once, bwrap_mod._help, bwrap_mod.supports_size)
    for cached in caches:
        cached.cache_clear()
    yield
    for cached in caches:
        cached.cache_clear()


def test_no_namespaces_warns_loudly_once_and_records_rlimits_only(
    fresh_caches: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(bwrap_mod, "executable", lambda: None)
    monkeypatch.setattr(unshare_mod, "executable", lambda: None)
    with caplog.at_level(logging.WARNING, logger="tuneval.sandbox.isolation"):
        assert detect_isolation() == "rlimits-only"
        assert detect_isolation() == "rlimits-only"
        r = run_python("print(1)", Limits(timeout_s=5))
    warnings = [rec.getMessage() for rec in caplog.records if "NO ISOLATION" in rec.getMessage()]
    assert len(warnings) == 1
    assert "bwrap: not installed" in warnings[0] and "unshare: not installed" in warnings[0]
    assert r.isolation == "rlimits-only" and r.status == "passed"


def test_env_forces_a_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEVAL_SANDBOX", "rlimits-only")
    assert chosen_isolation() == "rlimits-only"
    assert run_python("print(1)", Limits(timeout_s=5)).isolation == "rlimits-only"


def test_env_with_unknown_level_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEVAL_SANDBOX", "docker")
    with pytest.raises(ConfigError, match=r"TUNEVAL_SANDBOX='docker'.*bwrap, unshare"):
        run_python("print(1)")


def test_env_forcing_a_level_that_does_not_work_is_a_clear_error(
    fresh_caches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bwrap_mod, "executable", lambda: "/nonexistent/bwrap")
    monkeypatch.setenv("TUNEVAL_SANDBOX", "bwrap")
    with pytest.raises(ConfigError, match="TUNEVAL_SANDBOX=bwrap does not work on this machine"):
        run_python("print(1)")


def test_bwrap_without_size_says_so_and_keeps_the_per_file_limit(
    fresh_caches: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    if iso_mod.probe("bwrap"):
        pytest.skip("bubblewrap does not work on this machine")
    bwrap_mod._help.cache_clear()
    real_help = bwrap_mod._help()
    monkeypatch.setattr(bwrap_mod, "_help", lambda: real_help.replace("--size", "--sise"))
    bwrap_mod.supports_size.cache_clear()  # the probe above already asked the real bwrap
    code = "w = 0\nwith open('/tmp/f', 'wb') as f:\n    for _ in range(64):\n"
    code += "        f.write(b'x' * (1 << 20)); f.flush(); w += 1\n        print(w, flush=True)\n"
    with caplog.at_level(logging.WARNING, logger="tuneval.sandbox.bwrap"):
        r = run_python(code, Limits(timeout_s=10, max_file_mb=4, max_disk_mb=64), "bwrap")
        run_python("print(1)", Limits(timeout_s=5), "bwrap")
    assert sum("no --size option" in rec.getMessage() for rec in caplog.records) == 1
    # Python ignores SIGXFSZ, so the write past 4 MiB fails with EFBIG.
    assert r.status == "failed" and r.stdout.split()[-1] == "4"
    assert "File too large" in r.stderr
