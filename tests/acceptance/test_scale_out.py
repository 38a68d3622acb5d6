"""Scale-out paths end to end: replicas of one model through ``tuneval generate``.

Three stub OpenAI servers (real processes on 127.0.0.1) serve one model; one is killed with
SIGKILL mid-run. The run must finish with every item answered exactly once.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tuneval.cli import main

STUB = Path(__file__).parents[1] / "models" / "stub_server.py"
ITEMS = 90


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/docs", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"stub server on port {port} did not start")


@pytest.fixture
def replicas(tmp_path):
    """Three stub server processes; yields (urls, logs, processes)."""
    procs, urls, logs = [], [], []
    for i in range(3):
        port = _free_port()
        log = tmp_path / f"replica{i}.log"
        cmd = [sys.executable, str(STUB), "--port", str(port), "--latency", "0.1", "--log"]
        procs.append(subprocess.Popen([*cmd, str(log)], stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}/v1")
        logs.append(log)
    try:
        for url in urls:
            _wait_up(int(url.split(":")[2].split("/")[0]))
        yield urls, logs, procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def _answered(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [json.loads(line)["prompt"] for line in log.read_text().splitlines() if line]


def test_generate_on_three_replicas_with_one_killed(replicas, tmp_path, capsys):
    urls, logs, procs = replicas
    data = tmp_path / "eval.jsonl"
    rows = [{"id": f"q{i}", "prompt": f"question {i}", "reference": "x"} for i in range(ITEMS)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))

    def kill_mid_run() -> None:
        while len(_answered(logs[1])) < 5:
            time.sleep(0.01)
        os.kill(procs[1].pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_mid_run, daemon=True)
    killer.start()
    spec = f"openai-compatible:{','.join(urls)}#stub"
    argv = ["generate", "--model", spec, "--data", str(data), "--out", str(tmp_path / "run")]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--max-concurrency", "12", "--max-retries", "0", "--no-cache"])
    killer.join(5)
    _, err = capsys.readouterr()
    assert exc.value.code in (0, None), err
    assert procs[1].poll() == -signal.SIGKILL, "the replica was not killed mid-run"

    records = [
        json.loads(x) for x in (tmp_path / "run" / "generations.jsonl").read_text().splitlines()
    ]
    by_id: dict[str, list[dict]] = {}
    for record in records:
        by_id.setdefault(record["example_id"], []).append(record)
    # Every item answered exactly once, correctly, with no runner retry needed (--max-retries
    # 0): the requests caught on the killed replica went to the others.
    assert sorted(by_id) == sorted(r["id"] for r in rows)
    assert all(len(v) == 1 for v in by_id.values())
    for row in rows:
        (record,) = by_id[row["id"]]
        assert record["error"] is None and record["output"] == row["prompt"][::-1]
    survivors = _answered(logs[0]) + _answered(logs[2])
    assert len(survivors) == len(set(survivors)), "a survivor answered a prompt twice"
    assert set(survivors) | set(_answered(logs[1])) == {r["prompt"] for r in rows}
    assert len(_answered(logs[1])) < ITEMS // 2  # it really was out for the rest of the run


def _corpus(folder: Path) -> tuple[Path, Path]:
    """A training file of about 2 MB (cut into byte ranges) and an eval set planted in it."""
    import random

    rng = random.Random(5)
    words = [f"t{i}q" for i in range(500)]
    rows = [" ".join(rng.choice(words) for _ in range(50)) for _ in range(6000)]
    train = folder / "train.jsonl"
    train.write_text("".join(json.dumps({"text": r}) + "\n" for r in rows))
    items = {"first": rows[0], "middle": rows[3001], "last": rows[-1], "clean": "n o p e " * 9}
    ev = folder / "eval.jsonl"
    ev.write_text("".join(json.dumps({"id": k, "prompt": v}) + "\n" for k, v in items.items()))
    return train, ev


def _contamination(argv: list[str], capsys) -> dict:
    with pytest.raises(SystemExit) as exc:
        main(["contamination", *argv])
    out, err = capsys.readouterr()
    assert exc.value.code in (0, None), out + err
    assert "Traceback" not in err
    return json.loads(Path(argv[argv.index("--out") + 1]).read_text())


@pytest.mark.slow
def test_contamination_ray_flag_gives_the_local_report(tmp_path, capsys):
    pytest.importorskip("ray")
    train, ev = _corpus(tmp_path)
    common = ["--eval", str(ev), "--train", str(train), "-n", "8", "--workers", "2"]
    local = _contamination([*common, "--out", str(tmp_path / "local.json")], capsys)
    on_ray = _contamination(
        [*common, "--ray", "local", "--out", str(tmp_path / "ray.json")], capsys
    )
    assert on_ray == local
    flagged = {e["id"]: e["found_in"] for e in on_ray["examples"] if e["flagged"]}
    assert flagged == {
        "first": [f"{train}:1"],
        "middle": [f"{train}:3002"],
        "last": [f"{train}:6000"],
    }


# Recent Ray turns on token authentication for `ray start`; a loopback test cluster opts out.
NO_TOKEN = {**os.environ, "RAY_AUTH_MODE": "disabled"}


def _ray_node(args: list[str]) -> subprocess.Popen:
    """``ray start ... --block`` in its own process group (ended with that group)."""
    ray_cli = Path(sys.executable).with_name("ray")
    cmd = [str(ray_cli), "start", *args, "--block", "--disable-usage-stats"]
    return subprocess.Popen(
        [*cmd, "--include-dashboard=false"] if "--head" in args else cmd,
        env=NO_TOKEN,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_cluster(address: str, cpus: int) -> None:
    code = (
        "import ray, time, sys\n"
        f"ray.init(address='{address}', logging_level='ERROR')\n"
        "deadline = time.time() + 120\n"
        f"while ray.cluster_resources().get('CPU', 0) < {cpus}:\n"
        "    if time.time() > deadline: sys.exit(1)\n"
        "    time.sleep(0.5)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=240, env=NO_TOKEN)


def _scanning_on(node: subprocess.Popen) -> list[int]:
    """Ray workers of ``node`` running a scan task (each worker is its raylet's child, in a
    session of its own)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"ray::_scan_task" not in (proc / "cmdline").read_bytes():
                continue
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if os.getpgid(parent) == node.pid:
                found.append(int(proc.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


@pytest.mark.slow
@pytest.mark.parametrize("kill_node", [False, True], ids=["steady", "worker-node-killed"])
def test_contamination_on_a_two_node_ray_cluster(tmp_path, capsys, kill_node):
    pytest.importorskip("ray")
    train, ev = _corpus(tmp_path)
    port = _free_port()
    address = f"127.0.0.1:{port}"
    # Ray's Unix sockets live under the temp dir: pytest's tmp_path is too long for them.
    env_tmp = ["--temp-dir", tempfile.mkdtemp(prefix="tr")]
    nodes = [_ray_node(["--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                        "--num-cpus", "1", *env_tmp])]  # fmt: skip
    try:
        _wait_cluster(address, 1)
        nodes.append(_ray_node(["--address", address, "--num-cpus", "1"]))
        _wait_cluster(address, 2)
        common = ["--eval", str(ev), "--train", str(train), "-n", "8"]
        local = _contamination([*common, "--out", str(tmp_path / "local.json")], capsys)
        argv = ["tuneval", "contamination", *common, "--ray", address]
        scan = subprocess.Popen(
            [*argv, "--out", str(tmp_path / "cluster.json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=NO_TOKEN,
        )
        if kill_node:
            # The second node dies (raylet, object store, workers) while it scans a shard.
            deadline = time.monotonic() + 120
            while not (workers := _scanning_on(nodes[1])):
                assert scan.poll() is None and time.monotonic() < deadline, "no task ran there"
                time.sleep(0.01)
            os.killpg(nodes[1].pid, signal.SIGKILL)
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
        _, err = scan.communicate(timeout=400)
        assert scan.returncode == 0, err
        assert json.loads((tmp_path / "cluster.json").read_text()) == local
    finally:
        for node in reversed(nodes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGKILL)  # the node's raylet, store and workers
            node.wait(60)
        shutil.rmtree(env_tmp[1], ignore_errors=True)


@pytest.mark.slow
def test_workflow_contamination_ray_setting(tmp_path, capsys):
    pytest.importorskip("ray")
    train, ev = _corpus(tmp_path)
    reports = []
    for name, extra in (("plain", ""), ("onray", ", ray: local")):
        config = tmp_path / f"{name}.yaml"
        config.write_text(
            f"name: {name}\neval_set: {ev}\noutput_dir: {tmp_path / 'runs'}\n"
            "models:\n  base: {spec: 'mock:echo'}\n  finetuned: {spec: 'mock:echo'}\n"
            "metrics: {default: [exact_match]}\ncalls: {cache: false}\n"
            # The eval set has no references: a judge gives the run something to compare.
            'judge: {spec: \'mock:constant={"reasoning": "r", "score": 4}\', pairwise: false}\n'
            f"contamination: {{training_data: [{train}], ngram: 8{extra}}}\n"
        )
        with pytest.raises(SystemExit) as exc:
            main(["run", str(config)])
        out, err = capsys.readouterr()
        assert exc.value.code in (0, None), out + err
        assert "Traceback" not in err
        reports.append(json.loads((tmp_path / "runs" / name / "contamination.json").read_text()))
    assert reports[0] == reports[1] and reports[1]["contaminated"] == 3
