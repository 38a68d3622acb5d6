"""A Ray address that nobody answers on is one clear error at once, not minutes of retries."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tuneval.cli import main

pytest.importorskip("ray")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("address", ["127.0.0.1:{port}", "127.0.0.1:notaport"])
def test_unreachable_ray_address_is_a_usage_error(tmp_path, address, capsys):
    ev, train = tmp_path / "eval.jsonl", tmp_path / "train.jsonl"
    ev.write_text(json.dumps({"id": "a", "prompt": "one two three four"}) + "\n")
    train.write_text(json.dumps({"text": "one two three four"}) + "\n")
    target = address.format(port=_closed_port())
    started = time.monotonic()
    argv = ["contamination", "--eval", str(ev), "--train", str(train), "-n", "2"]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--ray", target])
    err = capsys.readouterr().err
    assert time.monotonic() - started < 20
    assert exc.value.code == 2, err
    assert f"Error: cannot join the Ray cluster at '{target}'" in err
    assert "ray start --head" in err and "Traceback" not in err
