"""Human evaluation as a user reaches it: the `tuneval` command in a subprocess, and the annotation
app served by `tuneval human serve` on 127.0.0.1 with hostile request bodies (issues 12, 13)."""

import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tuneval.human import StudyStore

MB = 1024 * 1024


def tuneval(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuneval", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "400"},
        timeout=120,
    )


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """A 4-item study (2 annotators, both on every item) made from two prediction files."""
    tmp = tmp_path_factory.mktemp("human")
    for name, answer in (("a", "four"), ("b", "4")):
        lines = [
            {"id": f"q{i}", "prompt": f"What is {i} + {i}?", "prediction": f"{answer} ({i})"}
            for i in range(4)
        ]
        (tmp / f"{name}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    done = tuneval(
        "human", "create", "--predictions-a", "a.jsonl", "--predictions-b", "b.jsonl",
        "--out", "study", "--annotators", "ann1,ann2", "--per-item", "2", cwd=tmp,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return tmp / "study"


def _filled_rows(study: Path) -> list[dict[str, str]]:
    done = tuneval("human", "export", str(study), "--out", str(study.parent / "x"), cwd=study)
    assert done.returncode == 0, done.stderr
    table = study.parent / "x" / "annotations.csv"
    rows = list(csv.DictReader(table.open(encoding="utf-8", newline="")))
    for row in rows:
        row.update({f"{s}_{c}": "3" for s in "ab" for c in ("accuracy", "relevance", "format")})
        row.update(a_fluency="4", b_fluency="2", preference="A", comment="déjà vu")
    return rows


def _write(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_import_refuses_a_repeated_row_and_a_latin1_file_then_imports_the_fixed_file(study):
    rows = _filled_rows(study)
    assert len(rows) == 8
    path = study.parent / "filled.csv"
    _write(path, [*rows, dict(rows[2], preference="B")])  # the same vote twice, changed
    done = tuneval("human", "import", str(study), str(path), cwd=study.parent)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and len(done.stderr.splitlines()) == 1
    assert "filled.csv:10: repeats the row of annotator" in done.stderr
    assert "at line 4" in done.stderr

    _write(path, rows, encoding="latin-1")
    done = tuneval("human", "import", str(study), str(path), cwd=study.parent)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert "filled.csv:2: the file is not UTF-8 (byte 0xe9 at byte offset" in done.stderr

    _write(path, rows)
    done = tuneval("human", "import", str(study), str(path), cwd=study.parent)
    assert done.returncode == 0, done.stderr
    assert "Imported 8 votes; 0 blank rows skipped" in done.stdout


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def _big_put(
    port: int, path: str, size: int, token: str | None, chunked: bool
) -> tuple[int, float]:
    """PUT a ``size``-byte body, sent while the answer is awaited; (status, seconds to answer)."""
    head = [f"PUT {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    head += [f"Authorization: Bearer {token}"] if token else []
    head += ["Transfer-Encoding: chunked"] if chunked else [f"Content-Length: {size}"]
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(30)
    piece = b'{"comment": "' + b"x" * (MB - 13)

    def send_body() -> None:
        try:
            for _ in range(size // MB):
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sock.sendall(b"0\r\n\r\n" if chunked else b"")
        except OSError:
            pass  # the server answered and closed: it need not read the rest

    start = time.monotonic()
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sender = threading.Thread(target=send_body, daemon=True)
    sender.start()
    answer = b""
    while b"\r\n" not in answer:
        data = sock.recv(4096)
        assert data, "the server closed the connection without an answer"
        answer += data
    elapsed = time.monotonic() - start
    sock.close()
    sender.join(timeout=30)
    return int(answer.split()[1]), elapsed


@pytest.fixture
def served(study):
    """`tuneval human serve` in its own process, so that its memory can be measured."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuneval", "human", "serve", str(study), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the app did not start"
                time.sleep(0.1)
        yield proc, port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_hostile_bodies_are_refused_before_reading_and_memory_stays_flat(study, served):
    proc, port = served
    url = f"http://127.0.0.1:{port}"
    store = StudyStore(study)
    token = store.tokens()["ann1"]
    item = store.assignments()["ann1"][0]
    vote = {
        "a": {"accuracy": 4, "relevance": 4, "format": 4, "fluency": 4},
        "b": {"accuracy": 2, "relevance": 2, "format": 2, "fluency": 2},
        "preference": "A",
        "comment": "fine",
    }
    headers = {"Authorization": f"Bearer {token}"}
    r = httpx.put(f"{url}/api/votes/{item}", json=vote, headers=headers)  # warm the app up
    assert r.status_code == 200, r.text
    revision = r.json()["vote"]["revision"]
    before = _peak_rss_mb(proc.pid)

    for token_sent, chunked, expected in (
        (None, False, 401),  # no token: 401 before the body is read
        (None, True, 401),
        ("not-a-token", False, 403),
        (token, False, 413),  # a real annotator, but 50 MB: refused from Content-Length
        (token, True, 413),  # chunked: counted while streaming, refused past 64 KB
    ):
        status, seconds = _big_put(port, f"/api/votes/{item}", 50 * MB, token_sent, chunked)
        assert (status, token_sent, chunked) == (expected, token_sent, chunked)
        assert seconds < 1.0, (token_sent, chunked, seconds)
    growth = _peak_rss_mb(proc.pid) - before
    assert growth < 50, f"server peak memory grew by {growth:.0f} MB"

    r = httpx.put(f"{url}/api/votes/{item}", json=dict(vote, preference="B"), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["vote"]["preference"] == "B" and r.json()["vote"]["revision"] == revision + 1
    r = httpx.put(f"{url}/api/votes/{item}", json=vote)
    assert r.status_code == 401 and "missing token" in r.json()["detail"]


@pytest.mark.slow
def test_browser_tests_skip_without_chromium_unless_ci_requires_a_browser(tmp_path):
    """The README's test command passes where Chromium is missing; CI's setting makes it fail."""
    root = Path(__file__).resolve().parents[2]
    tests = ["tests/human/test_human_browser.py", "tests/report/test_report_browser.py"]
    env = {k: v for k, v in os.environ.items() if k != "TUNEVAL_REQUIRE_BROWSER"}
    env["TUNEVAL_CHROMIUM"] = str(tmp_path / "no-chromium")
    argv = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *tests]
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 skipped" in done.stdout
    assert done.stdout.count("no-chromium is not an executable file") == 2
    env["TUNEVAL_REQUIRE_BROWSER"] = "1"
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.count("browser test cannot run") >= 2
    assert "2 error" in done.stdout
