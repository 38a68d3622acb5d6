"""``tuneval run`` as a new user meets it: paths, names, errors, resume keys, progress.

Every test goes through the command line (in-process, `run_cli`) or ``import tuneval``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import tuneval
from cli_helpers import run_cli

CONFIG = """\
name: t
eval_set: eval.jsonl
output_dir: {out}
models:
  base: {{spec: 'mock:echo'}}
  finetuned: {{spec: '{tuned}'}}
comparison: {{resamples: 100, trials: 100}}
calls: {{cache: false}}
"""


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))


def _project(tmp_path: Path, tuned: str = "mock:echo", extra: str = "") -> Path:
    """A config folder: eval.jsonl, finetuned.jsonl (predictions) and cfg.yaml."""
    project = tmp_path / "project"
    project.mkdir()
    rows = [{"id": f"q{i}", "prompt": f"Question {i}", "reference": f"a{i}"} for i in range(4)]
    (project / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    preds = [{"id": f"q{i}", "prediction": f"a{i}"} for i in range(4)]
    (project / "finetuned.jsonl").write_text("".join(json.dumps(r) + "\n" for r in preds))
    config = project / "cfg.yaml"
    config.write_text(CONFIG.format(out=tmp_path / "runs", tuned=tuned) + extra)
    return config


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    return lines[0]


# 1. Model paths resolve against the config's folder; a refused run leaves no run directory.


def test_file_spec_resolves_against_the_config_from_a_subfolder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path, tuned="file:finetuned.jsonl")
    (tmp_path / "project" / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "project" / "sub")
    code, out, err = run_cli(["run", "../cfg.yaml"], capsys)
    assert code == 0, err
    assert "generate" in out and "report:" in out


def test_model_paths_resolve_only_when_they_look_like_paths(tmp_path: Path) -> None:
    config = _project(tmp_path, tuned="file:./finetuned.jsonl")
    adapter = tmp_path / "project" / "adapter"
    adapter.mkdir()
    base = "{spec: 'hf:org/model', options: {adapter: adapter, device: cpu}}"
    config.write_text(config.read_text().replace("{spec: 'mock:echo'}", base, 1))
    cfg = tuneval.load_config(config, environ={})
    folder = (tmp_path / "project").resolve()
    assert cfg.models.base.spec == "hf:org/model"  # a hub id stays a hub id
    assert cfg.models.base.options == {"adapter": str(folder / "adapter"), "device": "cpu"}
    assert cfg.models.finetuned.spec == f"file:{folder / 'finetuned.jsonl'}"


def test_a_refused_run_leaves_no_run_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _project(tmp_path, tuned="file:missing.jsonl")
    code, _, err = run_cli(["run", str(config)], capsys)
    assert code == 1
    assert "predictions file not found" in _one_error_line(err)
    assert not (tmp_path / "runs" / "t").exists()


# 2. Keys stable across upgrades; a differing key names what differs and the fix.


def test_generate_and_metrics_keys_are_those_of_earlier_versions(tmp_path: Path) -> None:
    from tuneval.workflow.runner import step_key, step_sections

    cfg = tuneval.load_config(_project(tmp_path), environ={})
    for step in ("generate", "metrics"):
        # The scheme before stable keys: every field of the sections, dumped and hashed.
        data = cfg.model_dump(mode="json")
        payload = json.dumps([data[s] for s in step_sections(step)], sort_keys=True, default=str)
        assert step_key(cfg, step) == hashlib.sha256(payload.encode()).hexdigest()[:16]


def test_a_new_option_at_its_default_leaves_keys_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuneval.workflow import keys
    from tuneval.workflow.runner import step_key

    cfg = tuneval.load_config(_project(tmp_path), environ={})
    before = step_key(cfg, "generate")
    # As if ``decoding.seed`` were added by an upgrade: it holds its default, so it is left out.
    known = keys.KEYED_FIELDS["DecodingOptions"] - {"seed"}
    monkeypatch.setitem(keys.KEYED_FIELDS, "DecodingOptions", known)
    data = cfg.model_dump(mode="json")
    del data["decoding"]["seed"]
    payload = json.dumps([data[s] for s in ("eval_set", "limit", "models", "decoding")],
                         sort_keys=True, default=str)  # fmt: skip
    assert step_key(cfg, "generate") == hashlib.sha256(payload.encode()).hexdigest()[:16]
    seeded = cfg.model_copy(update={"decoding": cfg.decoding.model_copy(update={"seed": 3})})
    assert step_key(seeded, "generate") != before  # a value set is part of the key


def test_changed_inputs_are_named_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _project(tmp_path)
    assert run_cli(["run", str(config)], capsys)[0] == 0
    info_path = tmp_path / "runs" / "t" / "run.json"
    info = json.loads(info_path.read_text())
    info["steps"]["generate"]["tuneval"] = "0.0.1"
    info_path.write_text(json.dumps(info))
    code, _, err = run_cli(["run", str(config), "--set", "decoding.temperature=0.7"], capsys)
    assert code == 1
    line = _one_error_line(err)
    assert "decoding.temperature: 0.0 -> 0.7" in line
    assert f"made with tuneval 0.0.1, this is {tuneval.__version__}" in line
    assert "--force generate" in line and "--name" in line


# 3. The run name stays inside output_dir.


@pytest.mark.parametrize("name", ["../../etc/x", "/tmp/x", ".."])
def test_a_name_that_leaves_output_dir_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    config = _project(tmp_path)
    code, _, err = run_cli(["run", str(config), "--set", f"name={name}"], capsys)
    assert code == 2
    assert "key 'name'" in err and err.count("\n") == 1
    code, _, err = run_cli(["run", str(config), "--name", name], capsys)
    assert code == 2 and "--name" in err and err.count("\n") == 1
    assert not any((tmp_path / "runs").glob("**/run.json"))


# 4. An unknown key set by a flag or a variable names the flag or the variable.


def test_unknown_key_names_the_flag_or_the_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _project(tmp_path)
    code, _, err = run_cli(["run", str(config), "--set", "decoding.max_tokns=5"], capsys)
    assert code == 1
    assert _one_error_line(err) == (
        "Error: --set decoding.max_tokns: unknown key 'decoding.max_tokns' (check its spelling)"
    )
    monkeypatch.setenv("TUNEVAL_DECODING__MAX_TOKNS", "5")
    code, _, err = run_cli(["run", str(config)], capsys)
    assert _one_error_line(err).startswith(
        "Error: environment variable TUNEVAL_DECODING__MAX_TOKNS: unknown key"
    )


# 5. ``judge: null`` means no judge.


def test_judge_null_turns_the_judge_off(tmp_path: Path) -> None:
    config = _project(tmp_path, extra="judge: null\n")
    assert tuneval.load_config(config, environ={}).judge.spec is None


# 6. Bad YAML: one line FILE:LINE:COL.


def test_bad_yaml_is_one_line_naming_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _project(tmp_path, extra="decoding: {temperature: 0.1\n")
    code, _, err = run_cli(["run", str(config)], capsys)
    assert code == 1
    line = _one_error_line(err)
    assert line.startswith(f"Error: {config}:") and "not valid YAML" in line
    assert "<unicode string>" not in line
    position = line.removeprefix(f"Error: {config}:").split(":")[:2]
    assert all(p.isdigit() for p in position), line


# 7. Judge progress counts items; plain lines when not on a terminal.


def test_judge_progress_counts_items_and_prints_plain_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # mock:echo as the judge never gives a score: every item takes max_attempts (3) calls.
    config = _project(tmp_path, extra="judge: {spec: 'mock:echo', pairwise: false}\n")
    code, out, err = run_cli(["run", str(config)], capsys)
    assert code == 1  # nothing scored
    assert "24 judge calls" in out  # 8 outputs x 3 attempts
    progress = [x for x in err.splitlines() if x.startswith("judge_single: ")]
    assert progress and progress[-1] == "judge_single: 8/8 (100%)", err
    assert all(int(x.split()[1].split("/")[0]) <= 8 for x in progress)


# 8. The eval set's error does not name a Python parameter the config has no key for.


def test_eval_set_error_names_no_python_parameter(tmp_path: Path) -> None:
    config = _project(tmp_path)
    (tmp_path / "project" / "eval.jsonl").write_text('{"id": "q0", "question": "hi"}\n')
    with pytest.raises(tuneval.TunevalError) as exc:
        tuneval.full_evaluation(config)
    assert "prompt" in str(exc.value) and "prompt_field" not in str(exc.value)


# 10. Unscored MMLU replies in the workflow fail the run unless allowed.


def _mmlu(root: Path) -> Path:
    for split, count in (("dev", 5), ("test", 4)):
        (root / split).mkdir(parents=True)
        rows = [f"q{i} of {split}?,w,x,y,z,{'ABCD'[i % 4]}" for i in range(count)]
        (root / split / f"anatomy_{split}.csv").write_text("".join(r + "\n" for r in rows))
    return root


def test_unscored_benchmark_replies_exit_1_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _mmlu(tmp_path / "mmlu")
    entry = f"benchmarks: [{{name: mmlu, data: {data}, subjects: [anatomy], mode: generate}}]\n"
    # mock:echo repeats the question with every choice: no clear letter, all unscored.
    config = _project(tmp_path, extra=entry)
    code, out, err = run_cli(["run", str(config)], capsys)
    assert code == 1
    assert "UNSCORED: mmlu base: 4 of 4 replies unscored" in out
    assert "Error: benchmark replies could not be scored (mmlu base: 4 of 4;" in err
    allowed = entry.replace("mode: generate", "mode: generate, allow_unscored: true")
    config.write_text(config.read_text().replace(entry, allowed))
    code, out, err = run_cli(["run", str(config)], capsys)
    assert code == 0, err
    assert "UNSCORED: mmlu base" in out  # still counted, only no longer fatal


def test_init_template_says_how_to_turn_the_judge_off_and_it_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["init", str(tmp_path / "p")], capsys)[0] == 0
    config = tmp_path / "p" / "config.yaml"
    text = config.read_text()
    assert "null (or judge: null) turns the judge off" in text
    start = text.index("judge:\n")
    end = text.index("\n\n", start)
    config.write_text(text[:start] + "judge: null" + text[end:])
    assert tuneval.load_config(config, environ={}).judge.spec is None
