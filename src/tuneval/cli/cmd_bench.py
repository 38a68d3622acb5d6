"""``tuneval bench``: run a standard benchmark (``tuneval bench list`` shows them).

Each registered benchmark is a sub-command whose flags are made from its options record
(`tuneval.benchmarks.options`), so ``tuneval bench NAME --help`` lists only that benchmark's
options, with the record's defaults and docstrings. The flags shared by every benchmark say
which model, where to write and how calls are made; a judged benchmark adds ``--judge``.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console

from tuneval.cli.app import app
from tuneval.errors import TunevalError, UsageError

console = Console(highlight=False)

bench_app = typer.Typer(
    help="Run a standard benchmark on a model ('tuneval bench list' shows them; "
    "'tuneval bench NAME --help' shows NAME's options).",
    no_args_is_help=True,
)
app.add_typer(bench_app, name="bench")


@bench_app.command("list")
def bench_list() -> None:
    """Show the registered benchmarks."""
    from tuneval.benchmarks import BENCHMARKS

    for bench_name in BENCHMARKS.names():
        description = BENCHMARKS.get(bench_name).description
        console.print(f"{bench_name:16} {description}", soft_wrap=True)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _option(name: str, kind: Any, default: Any, help_text: str, **kw: Any) -> inspect.Parameter:
    """A keyword parameter that typer turns into the flag ``--NAME``."""
    # Record docstrings are reStructuredText; the terminal shows ``x`` as x.
    info = typer.Option(default, _flag(name), help=help_text.replace("``", ""), **kw)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=kind)


def _common_params(needs_judge: bool) -> list[inspect.Parameter]:
    """Flags of every benchmark: model, output, calls (defaults of `CallOptions`)."""
    from tuneval.models.runner import CallOptions

    calls = CallOptions.model_fields
    params = [
        _option("model", str | None, None, "Model spec, e.g. llamacpp:default."),
        _option("out", Path | None, None, "Run directory (a killed run resumes there)."),
        _option(
            "max_concurrency", int, calls["max_concurrency"].default, "Calls in flight.", min=1
        ),
        _option("timeout", float, calls["timeout_s"].default, "Per-call timeout (s).", min=0.001),
        _option("max_retries", int, calls["max_retries"].default, "Retries of 429/5xx.", min=0),
        _option("no_cache", bool, False, "Do not use the call cache."),
        _option("refresh", bool, False, "Ignore cached answers; store the fresh ones."),
        _option("allow_failures", bool, False, "Exit 0 although some calls failed."),
    ]
    if needs_judge:
        params.append(_option("judge", str | None, None, "Judge model spec (any backend)."))
    return params


def _record_params(record: Any) -> list[inspect.Parameter]:
    """One flag per field of a benchmark's options record (lists as comma-separated text)."""
    params = []
    for name, info in record.model_fields.items():
        kind = info.annotation
        default = info.default
        if "tuple" in str(kind):
            kind, default = str | None, None  # e.g. --subjects a,b
        elif "Path" in str(kind):
            kind = Path | None
        params.append(_option(name, kind, default, (info.description or "").strip()))
    return params


_ALPACA_EXTRAS = [
    _option("annotations", Path | None, None, "Score an alpaca_eval annotations.json (no calls)."),
    _option(
        "lc_data",
        Path | None,
        None,
        "With --annotations: alpaca_eval's df_gamed.csv, for the official length-controlled "
        "win rate (length_controlled_v1).",
    ),
]
"""``tuneval bench alpaca-eval`` only: score an existing annotations file."""

_MMLU_EXTRAS = [
    _option(
        "allow_unscored",
        bool,
        False,
        "Exit 0 although some generated replies have no clear answer letter (unscored).",
    )
]
"""``tuneval bench mmlu`` only: accept unscored replies (generate mode)."""


def _command(name: str, cls: Any) -> Any:
    """The typer command of one benchmark, its flags made from its options record."""
    extras = _ALPACA_EXTRAS if name == "alpaca-eval" else [_hidden_annotations()]
    if name == "mmlu":
        extras = [*extras, *_MMLU_EXTRAS]
    params = [*_common_params(cls.needs_judge), *_record_params(cls.options_type), *extras]

    def command(**given: Any) -> None:
        _run(name, cls, given)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = f"{cls.description}."
    return command


def _hidden_annotations() -> inspect.Parameter:
    # Kept hidden on the other benchmarks so that a misplaced --annotations says where it goes.
    return _option("annotations", Path | None, None, "", hidden=True)


def _run(name: str, cls: Any, given: dict[str, Any]) -> None:
    """Validate the options, build the model (and judge), run, print the summary."""
    annotations, lc_data = given.pop("annotations", None), given.pop("lc_data", None)
    if annotations is not None:
        _score_annotations(name, annotations, given.get("out"), lc_data)
        return
    model, out, judge_spec = given.pop("model"), given.pop("out"), given.pop("judge", None)
    if model is None or out is None:
        raise UsageError(f"bench {name} needs --model SPEC and --out DIR")
    from tuneval.models.base import create_backend
    from tuneval.models.runner import CallOptions

    calls = CallOptions(
        max_concurrency=given.pop("max_concurrency"),
        timeout_s=given.pop("timeout"),
        max_retries=given.pop("max_retries"),
        run_dir=out,  # each call's tokens go to usage.jsonl (the cost estimate)
    )
    no_cache, refresh = given.pop("no_cache"), given.pop("refresh")
    allow_failures = given.pop("allow_failures")
    allow_unscored = given.pop("allow_unscored", False)
    options = _options(name, cls, given)
    if cls.needs_judge and judge_spec is None:
        raise UsageError(f"{name} needs a judge model: --judge SPEC")
    backend = create_backend(model)
    judge = create_backend(judge_spec) if judge_spec is not None else None
    summary = _execute(cls(), backend, out, options, judge, calls, no_cache, refresh)
    _print_summary(summary)
    _print_cost(out)
    failed = summary.get("failed_calls")
    if failed and not allow_failures:
        raise TunevalError(
            f"{failed} model calls failed (their errors are in {out / 'generations.jsonl'}) and "
            f"their {summary.get('failed_items')} problems were left out of the numbers; rerun "
            "the same command to retry only them, or --allow-failures to accept the numbers"
        )
    _check_unscored(summary, out, allow_unscored)


def _print_cost(out: Path) -> None:
    """The cost estimate of the run's calls, as ``tuneval run`` prints it."""
    from tuneval.models.pricing import run_cost
    from tuneval.report.cost_section import cost_summary

    cost = run_cost(out)
    if cost is not None:
        console.print(cost_summary(cost), markup=False, soft_wrap=True)


def _check_unscored(summary: dict[str, Any], out: Path, allow: bool) -> None:
    """MMLU generate mode: say what the accuracies cover; unscored replies fail the run.

    Raises:
        TunevalError: When some replies are unscored and ``allow`` is off.
    """
    unscored = summary.get("unscored")
    if summary.get("benchmark") != "mmlu" or unscored is None:
        return
    scored, items = summary["scored"], summary["items"]
    console.print(
        f"accuracy is over the {scored} scored items; accuracy_unscored_as_wrong counts the "
        f"{unscored} unscored of {items} as wrong",
        soft_wrap=True,
    )
    if not unscored or allow:
        return
    reasons = ", ".join(f"{r}: {n}" for r, n in sorted(summary["unscored_reasons"].items()))
    raise TunevalError(
        f"{unscored} of {items} replies have no clear answer letter ({reasons}; the reason of "
        f"each is under 'unscored' in {out / 'generations.jsonl'}); they are unscored, not "
        "wrong. Use --mode loglikelihood, a model that answers 'Answer: X', a larger "
        "--max-tokens, or --allow-unscored to accept the numbers"
    )


def _options(name: str, cls: Any, given: dict[str, Any]) -> Any:
    """The benchmark's options record from its flags; a bad value is a usage error."""
    from tuneval.benchmarks.options import option_problem

    values = {k: v for k, v in given.items() if v != cls.options_type.model_fields[k].default}
    if isinstance(values.get("subjects"), str):
        values["subjects"] = tuple(s.strip() for s in values["subjects"].split(",") if s.strip())
    try:
        return cls.options_type.model_validate(values)
    except ValidationError as exc:
        raise UsageError(option_problem(name, exc)) from None


def _execute(
    benchmark: Any,
    backend: Any,
    out: Path,
    options: Any,
    judge: Any,
    calls: Any,
    no_cache: bool,
    refresh: bool,
) -> dict[str, Any]:
    """Run the benchmark; the models and the cache are closed whatever happens."""
    from tuneval.models.cache import CallCache
    from tuneval.models.loop import run_sync
    from tuneval.rundir import RunDir

    cache = None if no_cache else CallCache()
    try:
        return dict(
            benchmark.run(
                backend, RunDir(out), options, judge=judge, calls=calls, cache=cache,
                refresh=refresh,
            )
        )  # fmt: skip
    finally:
        for model in (backend, judge):
            if model is not None:
                run_sync(model.aclose())
        if cache is not None:
            cache.close()


def _register_all() -> None:
    from tuneval.benchmarks import BENCHMARKS

    for name in BENCHMARKS.names():
        cls = BENCHMARKS.get(name)
        bench_app.command(name, help=f"{cls.description}.")(_command(name, cls))


def _score_annotations(name: str, path: Path, out: Path | None, lc_data: Path | None) -> None:
    """``bench alpaca-eval --annotations FILE``: alpaca_eval's win rates of an annotations file."""
    if name != "alpaca-eval":
        raise UsageError(f"--annotations is for alpaca-eval, not {name}")
    from tuneval.benchmarks.alpaca_winrate import score_annotations
    from tuneval.rundir import RunDir

    summary = score_annotations(path, lc_data=lc_data)
    if out is not None:
        RunDir(out).update_info(benchmark=summary)
    _print_summary(summary)


def _print_summary(summary: dict[str, object]) -> None:
    """One line per summary field (per-subject figures stay in run.json)."""
    for key, value in summary.items():
        if key == "subjects" or key.endswith("_ci"):
            continue  # per-subject figures are in run.json; an interval joins its value
        if isinstance(value, dict):
            value = _compact(value)
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        interval = summary.get(f"{key}_ci")
        if isinstance(interval, list):
            shown += f" [{interval[0]:.4f}, {interval[1]:.4f}] (95% CI)"
        console.print(f"{key:12} {shown}", soft_wrap=True)


def _compact(value: object) -> object:
    """Nested summary dicts with floats rounded, for one-line display."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items()}
    return round(value, 4) if isinstance(value, float) else value


_register_all()
