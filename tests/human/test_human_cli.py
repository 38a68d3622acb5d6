"""The `tuneval human` commands: create, export, import (spreadsheet round trip), results, serve."""

import csv
import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from human_helpers import BASE, TUNED, fill, free_port, run, write_run
from human_helpers import create_cli as create

from tuneval.errors import DataError
from tuneval.human import StudyStore, import_votes


def test_spreadsheet_round_trip_and_results(tmp_path, capsys):
    study, out = create(tmp_path, capsys)
    assert "6 items" in out and "human serve" in out
    code, out, _ = run(["human", "export", str(study), "--out", str(tmp_path / "x")], capsys)
    assert code in (0, None)
    jsonl, table = tmp_path / "x" / "annotations.jsonl", tmp_path / "x" / "annotations.csv"
    for path in (jsonl, table):
        text = path.read_text(encoding="utf-8")
        assert BASE not in text and TUNED not in text  # the mapping stays on the server
    rows = list(csv.DictReader(table.open(encoding="utf-8", newline="")))
    assert len(rows) == 12
    assert all(r["preference"] == "" for r in rows)
    # A response that looks like a formula would run in a spreadsheet; it is quoted.
    assert all(not r["response_a"].startswith(("=", "+", "-", "@")) for r in rows)
    for i, row in enumerate(rows[:8]):
        fill(row, i)
    with table.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, out, _ = run(["human", "import", str(study), str(table)], capsys)
    assert code in (0, None)
    assert "Imported 8 votes; 4 blank rows skipped" in out
    store = StudyStore(study)
    votes = {(v.annotator, v.item_id): v for v in store.votes()}
    assert len(votes) == 8
    first = votes[(rows[0]["annotator"], rows[0]["item_id"])]
    assert first.comment == '=HYPERLINK("x")' and first.preference == "A" and first.a.fluency == 2
    # Importing again changes nothing but the revision.
    import_votes(study, table)
    assert len(store.votes()) == 8 and all(v.revision == 2 for v in store.votes())
    # The JSONL export now carries the stored votes.
    run(["human", "export", str(study), "--out", str(tmp_path / "y")], capsys)
    exported = [json.loads(x) for x in (tmp_path / "y" / "annotations.jsonl").open()]
    assert sum(r["preference"] is not None for r in exported) == 8

    votes_out = tmp_path / "votes.jsonl"
    code, out, _ = run(
        [
            "human",
            "results",
            str(study),
            "--json",
            "--resamples",
            "200",
            "--votes-out",
            str(votes_out),
        ],
        capsys,
    )
    assert code in (0, None)
    report = json.loads(out)
    assert report["votes"] == 8
    assert {w["model"] for w in report["win_rates"]} == {BASE, TUNED}
    assert [c["criterion"] for c in report["criteria"]] == [
        "accuracy",
        "relevance",
        "format",
        "fluency",
    ]
    # The unblinded votes are in the format tuneval.judge reads human votes in.
    from tuneval.judge.agreement import load_votes

    loaded = load_votes(votes_out)
    assert sum(len(v) for v in loaded.values()) == 8
    code, out, _ = run(["human", "results", str(study), "--resamples", "200"], capsys)
    assert code in (0, None)
    assert "Overall preference" in out and "Fleiss' kappa" in out and TUNED in out


def test_import_rejects_bad_rows_naming_file_line_field(tmp_path, capsys):
    study, _ = create(tmp_path, capsys)
    run(["human", "export", str(study), "--out", str(tmp_path / "x")], capsys)
    path = tmp_path / "x" / "annotations.jsonl"
    rows = [json.loads(x) for x in path.open()]
    store = StudyStore(study)

    def write(mutate):
        data = [dict(r) for r in rows]
        fill(data[0], 0)
        mutate(data[0])
        path.write_text("".join(json.dumps(r) + "\n" for r in data))

    write(lambda r: r.update(b_format="7"))
    with pytest.raises(DataError, match=r"annotations.jsonl:1.*b_format.*1 to 5"):
        import_votes(study, path)
    write(lambda r: r.update(a_accuracy=""))
    with pytest.raises(DataError, match=r"annotations.jsonl:1.*a_accuracy.*missing"):
        import_votes(study, path)
    write(lambda r: r.update(preference="maybe"))
    with pytest.raises(DataError, match=r"annotations.jsonl:1.*preference"):
        import_votes(study, path)
    other = next(
        i.item_id
        for i in store.items()
        if i.item_id not in store.assignments()[rows[0]["annotator"]]
    )
    write(lambda r: r.update(item_id=other))
    with pytest.raises(DataError, match="not assigned"):
        import_votes(study, path)
    assert store.votes() == []  # nothing stored from a file with a bad row
    code, _, err = run(["human", "import", str(study), str(path)], capsys)
    assert code == 1 and "Error:" in err and "not assigned" in err


def test_create_usage_errors(tmp_path, capsys):
    code, _, err = run(["human", "create", "--a", "x", "--b", "y"], capsys)
    assert code == 2 and "--run" in err
    code, _, err = run(
        ["human", "create", "--predictions-a", "a.jsonl", "--predictions-b", "b.jsonl"], capsys
    )
    assert code == 2 and "--out" in err
    code, _, err = run(["human", "results", str(tmp_path)], capsys)
    assert code == 1 and "no study here" in err
    # A check across two flags names both as flags, not as the library's parameters.
    run_dir = write_run(tmp_path / "run", 2)
    argv = ["human", "create", "--run", str(run_dir.path), "--a", BASE, "--b", TUNED]
    code, _, err = run([*argv, "--annotators", "solo"], capsys)
    assert code == 2 and "--per-item (3)" in err and "per_item" not in err


def test_serve_prints_links_and_warns_off_the_default_interface(tmp_path, capsys):
    study, _ = create(tmp_path, capsys)
    port = free_port()
    # 127.0.0.2 is loopback on Linux, but not the default address: the warning must show.
    host = "127.0.0.2"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "400"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tuneval",
            "human",
            "serve",
            str(study),
            "--host",
            host,
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        links = {}
        while len(links) < 4:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            for name in ("ann1", "ann2", "ann3", "Organiser"):
                if line.strip().startswith(f"{name}:"):
                    links[name] = line.split(": ", 1)[1].strip()
        token = links["ann1"].split("#token=", 1)[1]
        assert links["ann1"].startswith(f"http://{host}:{port}/annotate#token=")
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(
                    f"http://{host}:{port}/api/session",
                    headers={"Authorization": f"Bearer {token}"},
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["annotator"] == "ann1"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert "Warning" in proc.stderr.read()
