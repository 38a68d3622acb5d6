"""API and CLI paths a new user takes first: `tuneval.generate` with what they hold, a clean
eval set written over its own input, files in UTF-16, a metric option given twice, and error
messages that name settings the way the caller spells them."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

import tuneval
from cli_helpers import run_cli

ROWS = [
    {"id": "q1", "prompt": "Capital of France?", "reference": "Paris"},
    {"id": "q2", "prompt": "Two plus two?", "reference": "4"},
]


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# 1. tuneval.generate takes a spec string, dict rows, a file and a run path -----------------


def test_generate_takes_a_spec_dict_rows_and_a_run_path(tmp_path: Path) -> None:
    summary = tuneval.generate("mock:echo", ROWS, str(tmp_path / "run"), progress=False)
    assert (summary.done, summary.failed, summary.backend) == (2, 0, "mock:echo")
    records = [json.loads(x) for x in (tmp_path / "run" / "generations.jsonl").open()]
    assert [(r["example_id"], r["output"]) for r in records] == [
        ("q1", "Capital of France?"),
        ("q2", "Two plus two?"),
    ]


def test_generate_takes_an_eval_file_and_resumes(tmp_path: Path) -> None:
    data = _jsonl(tmp_path / "eval.jsonl", ROWS)
    first = tuneval.generate("mock:echo", str(data), tmp_path / "run", progress=False)
    again = tuneval.generate("mock:echo", data, tmp_path / "run", progress=False)
    assert (first.done, again.done, again.skipped) == (2, 0, 2)


@pytest.mark.parametrize(
    ("args", "kind", "words"),
    [
        ((3, ROWS, "r"), tuneval.UsageError, "backend must be a model spec"),
        (("mock:echo", ["What?"], "r"), tuneval.UsageError, "examples[0] must be an Example"),
        (("mock:echo", ROWS[0], "r"), tuneval.UsageError, "examples must be a list"),
        (("mock:echo", [], "r"), tuneval.UsageError, "no examples"),
        (("mock:echo", ROWS, None), tuneval.UsageError, "run must be a run directory"),
        (("mock:echo", [{"prompt": 3}], "r"), tuneval.DataError, "examples[0]: field 'prompt'"),
        (("nobackend", ROWS, "r"), tuneval.TunevalError, "no backend prefix"),
    ],
)
def test_generate_refuses_other_inputs_with_one_clear_error(
    tmp_path: Path, args: tuple[object, ...], kind: type[Exception], words: str
) -> None:
    backend, examples, run = args
    run = None if run is None else tmp_path / str(run)
    with pytest.raises(kind) as info:
        tuneval.generate(backend, examples, run, progress=False)  # type: ignore[arg-type]
    message = str(info.value)
    assert words in message and "\n" not in message
    # generate() has no field-mapping parameters, so no message may point to one.
    assert "prompt_field" not in message and "id_field" not in message


# 2. --write-clean never writes over an input -------------------------------------------------


@pytest.mark.parametrize("option", ["--write-clean", "--out"])
def test_contamination_refuses_to_write_over_the_eval_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    monkeypatch.chdir(tmp_path)
    data = _jsonl(tmp_path / "eval.jsonl", ROWS)
    _jsonl(tmp_path / "train.jsonl", [{"text": "Capital of France?"}])
    before = data.read_bytes()
    argv = ["contamination", "--eval", "eval.jsonl", "--train", "train.jsonl", "-n", "2"]
    code, _, err = run_cli([*argv, option, "./eval.jsonl"], capsys)
    assert code == 2
    assert f"{option} ./eval.jsonl is the --eval file" in _one_line(err)
    assert data.read_bytes() == before
    # A new file is written as before, and holds only the unflagged item.
    code, _, err = run_cli([*argv, "--write-clean", "clean.jsonl"], capsys)
    assert code == 0, err
    assert [json.loads(x)["id"] for x in (tmp_path / "clean.jsonl").open()] == ["q2"]


# 3. UTF-16/32 files get advice that converts them --------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "advised"),
    [("utf-16", "utf-16"), ("utf-16-le", "utf-16le"), ("utf-16-be", "utf-16be"),
     ("utf-32", "utf-32"), ("latin-1", "latin1")],
)  # fmt: skip
def test_not_utf8_advice_names_the_files_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str, advised: str
) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS).replace("?", "é?")
    data = tmp_path / "eval.jsonl"
    data.write_bytes(text.encode(encoding))
    code, out, _ = run_cli(["dataset", "validate", str(data)], capsys)
    assert code == 1
    assert f"iconv -f {advised} -t utf-8 {data}" in out.replace("\n", "")
    with pytest.raises(tuneval.DataError, match=f"iconv -f {advised} "):
        tuneval.load_examples(data)


@pytest.mark.parametrize(
    ("encoding", "advised"), [("utf-16-le", "utf-16le"), ("utf-32-be", "utf-32be")]
)
@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".json"])
def test_ascii_text_in_utf16_without_a_mark_gets_the_same_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str, advised: str, suffix: str
) -> None:
    # Valid UTF-8 byte by byte (NUL is a character), so only the NUL pattern tells.
    texts = {
        ".jsonl": "".join(json.dumps(r) + "\n" for r in ROWS),
        ".csv": "id,prompt,reference\nq1,Capital?,Paris\n",
        ".json": json.dumps(ROWS),
    }
    data = tmp_path / f"eval{suffix}"
    data.write_bytes(texts[suffix].encode(encoding))
    code, _, err = run_cli(["generate", "--model", "mock:echo", "--data", str(data),
                            "--out", str(tmp_path / "run")], capsys)  # fmt: skip
    assert code == 1
    assert f"iconv -f {advised} -t utf-8 {data}" in _one_line(err)


# 4. A metric option given twice ----------------------------------------------------------------


def test_repeated_metric_option_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _jsonl(tmp_path / "eval.jsonl", ROWS)
    preds = _jsonl(tmp_path / "p.jsonl", [{"id": "q1", "prediction": "paris"},
                                          {"id": "q2", "prediction": "4"}])  # fmt: skip
    spec = "exact_match:lowercase=true,lowercase=false"
    code, _, err = run_cli(["score", str(preds), "-r", str(data), "-m", spec], capsys)
    assert code == 2
    assert "metric option 'lowercase' is given twice" in _one_line(err)
    with pytest.raises(tuneval.MetricError, match="given twice"):
        tuneval.create_metric(spec)


# 5. One place for a registered class's options -------------------------------------------------


def test_backend_options_are_the_registrys_keyword_options() -> None:
    from tuneval.models.base import BACKENDS, backend_options
    from tuneval.registry import keyword_options

    tuneval.create_backend("mock:echo")  # registers the built-in backends
    for prefix in BACKENDS.names():
        cls = BACKENDS.get(prefix)
        assert backend_options(cls) == keyword_options(cls)


# 6. Messages name settings in the caller's terms ------------------------------------------------


def _study_argv(tmp_path: Path, *extra: str) -> list[str]:
    for name in ("a", "b"):
        _jsonl(tmp_path / f"{name}.jsonl", [{**r, "prediction": name} for r in ROWS])
    return ["human", "create", "--predictions-a", str(tmp_path / "a.jsonl"),
            "--predictions-b", str(tmp_path / "b.jsonl"), "--out", str(tmp_path / "s"),
            *extra]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "cli_words", "python_kwargs", "python_words"),
    [
        (["--annotators", "x", "--per-item", "1", "--a", "m", "--b", "m"],
         "; --a and --b must name two",
         {"annotators": ["x"], "per_item": 1, "model_a": "m", "model_b": "m"},
         "; model_a and model_b must name two"),
    ],
)  # fmt: skip
def test_human_study_messages_name_flags_or_parameters(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    cli_words: str,
    python_kwargs: dict[str, object],
    python_words: str,
) -> None:
    code, _, err = run_cli(_study_argv(tmp_path, *extra), capsys)
    assert code == 2
    assert cli_words in _one_line(err)
    from tuneval.human import create_study, pairs_from_predictions

    pairs = pairs_from_predictions(tmp_path / "a.jsonl", tmp_path / "b.jsonl")
    kwargs = {"model_a": "base", "model_b": "tuned", "seed": 0, **python_kwargs}
    with pytest.raises(tuneval.UsageError) as info:
        create_study(tmp_path / "py", pairs, **kwargs)  # type: ignore[arg-type]
    assert python_words in str(info.value) and "--" not in str(info.value)


def test_annotators_per_item_message_names_the_parameter(tmp_path: Path) -> None:
    # The CLI checks --per-item against --annotators before the study module sees it.
    from tuneval.human import create_study, pairs_from_predictions

    _study_argv(tmp_path)
    pairs = pairs_from_predictions(tmp_path / "a.jsonl", tmp_path / "b.jsonl")
    for annotators, words in (([], "give at least one annotator"),
                              (["x", "y"], "(per_item) must be between 1")):  # fmt: skip
        with pytest.raises(tuneval.UsageError) as info:
            create_study(tmp_path / "py", pairs, model_a="a", model_b="b",
                         annotators=annotators, per_item=3, seed=0)  # fmt: skip
        assert words in str(info.value) and "--" not in str(info.value)


def test_study_without_prompts_names_the_examples_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a", "b"):
        _jsonl(tmp_path / f"{name}.jsonl", [{"id": "q1", "prediction": name}])
    argv = ["human", "create", "--predictions-a", str(tmp_path / "a.jsonl"),
            "--predictions-b", str(tmp_path / "b.jsonl"), "--annotators", "x",
            "--per-item", "1", "--out", str(tmp_path / "s")]  # fmt: skip
    code, _, err = run_cli(argv, capsys)
    assert code == 1
    assert "or pass the eval set with --examples" in _one_line(err)


@pytest.fixture
def broken_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sentence-transformers whose models never load (the real import takes many seconds)."""

    def refuse(location: str) -> None:
        raise OSError(f"{location} is not a sentence-transformers folder")

    fake = types.ModuleType("sentence_transformers")
    fake.SentenceTransformer = refuse  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)


def test_embedding_model_message_names_the_embedding_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], broken_sentence_transformers: None
) -> None:
    data = _jsonl(tmp_path / "eval.jsonl", ROWS)
    train = _jsonl(tmp_path / "train.jsonl", [{"text": "Capital of France?"}])
    nope = str(tmp_path / "cli-model")
    argv = ["contamination", "--eval", str(data), "--train", str(train), "--semantic",
            "--embedding-model", nope]  # fmt: skip
    code, _, err = run_cli(argv, capsys)
    assert code == 1
    line = _one_line(err)
    # The command's --model is the membership check's model; the hint must not name it.
    assert "or omit --embedding-model to use the bundled" in line and "--model " not in line
    from tuneval.contamination.semantic_check import semantic_check

    with pytest.raises(tuneval.TunevalError) as info:
        semantic_check([str(train)], str(data), model=str(tmp_path / "py-model"))
    assert "or omit model to use the bundled" in str(info.value)
