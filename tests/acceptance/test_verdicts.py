"""Decision-grade verdicts as users reach them: clusters, honest intervals, power, PPI.

CLI runs go through ``tuneval.cli.main`` in-process (exit codes and stdout/stderr as a shell
sees them); the Python paths through ``import tuneval``.
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

import tuneval
from cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]


def cli(argv, capsys):
    return run_cli([str(a) for a in argv], capsys)


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _duplicated_eval(tmp_path: Path) -> tuple[Path, Path, Path]:
    """20 prompts x 3 copies; the fine-tune fixes 4 prompts (12 items) and breaks none."""
    evalset = [
        {"id": f"p{p}c{c}", "prompt": f"Prompt {p}", "reference": f"ans{p}", "group": f"g{p}"}
        for p in range(20)
        for c in range(3)
    ]
    base = [
        {"id": e["id"], "prediction": "wrong" if int(e["group"][1:]) < 4 else e["reference"]}
        for e in evalset
    ]
    tuned = [{"id": e["id"], "prediction": e["reference"]} for e in evalset]
    return (
        _write(tmp_path / "eval.jsonl", evalset),
        _write(tmp_path / "base.jsonl", base),
        _write(tmp_path / "tuned.jsonl", tuned),
    )


def test_compare_cluster_field_resamples_prompts_and_warns_without_it(tmp_path, capsys):
    evalset, base, tuned = _duplicated_eval(tmp_path)
    args = ["compare", base, tuned, "-r", evalset, "-m", "exact_match", "--trials", "1000"]
    code, out, err = cli([*args, "--json"], capsys)
    assert code == 0
    plain = json.loads(out)["comparisons"][0]
    assert "60 items share 20 repeated prompts" in " ".join(err.split())
    assert plain["unit"] == "item" and plain["p_value"] < 0.01  # 12 "independent" fixes
    code, out, err = cli([*args, "--cluster-field", "group", "--json"], capsys)
    assert code == 0 and "repeated prompts" not in err
    clustered = json.loads(out)["comparisons"][0]
    assert (clustered["unit"], clustered["units"], clustered["cluster_field"]) == (
        "cluster",
        20,
        "group",
    )
    # 4 of 20 prompts fixed, 16 unchanged: only 2 of the 16 sign patterns of the 4 changed
    # prompts are as extreme, so p = 2/16; 12 copies are not 12 pieces of evidence.
    assert clustered["p_value"] == pytest.approx(0.125, abs=0.02)
    assert clustered["ci_low"] <= 0.0 <= clustered["ci_high"]
    code, out, _ = cli([*args, "--cluster-field", "group"], capsys)
    assert "resampled unit: 20 clusters of group" in out
    assert "no significant difference; effects below" in out


def test_compare_cluster_field_missing_is_one_clear_error(tmp_path, capsys):
    evalset, base, tuned = _duplicated_eval(tmp_path)
    code, _, err = cli(
        ["compare", base, tuned, "-r", evalset, "-m", "exact_match", "--cluster-field", "topic"],
        capsys,
    )
    assert code == 1
    assert "eval.jsonl: cluster field 'topic' is missing on example 'p0c0'" in " ".join(err.split())
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3


def test_score_cluster_field_and_wilson_interval(tmp_path, capsys):
    evalset, _, tuned = _duplicated_eval(tmp_path)
    code, out, _ = cli(["score", tuned, "-r", evalset, "-m", "exact_match", "--json"], capsys)
    assert code == 0
    r = json.loads(out)[0]
    assert r["value"] == 1.0 and r["ci_high"] == 1.0 and r["ci_low"] < 0.95  # 60/60, not [1, 1]
    code, out, _ = cli(
        ["score", tuned, "-r", evalset, "-m", "exact_match", "--cluster-field", "group", "--json"],
        capsys,
    )
    clustered = json.loads(out)[0]
    assert clustered["ci_low"] < r["ci_low"]  # 20 prompts carry less evidence than 60 items
    assert "clusters:20" in clustered["signature"]


def test_issue_example_ci_and_test_agree():
    # 5 fixed, 0 broken of 30: CI (.033, .300) with McNemar p = .0625 before; now they agree.
    refs = [f"a{i}" for i in range(30)]
    base = ["x"] * 5 + refs[5:]
    c = tuneval.compare(base, refs, refs, "exact_match").comparisons[0]
    assert c.test == "mcnemar_score" and c.interval == "tango_score"
    assert c.p_value < 0.05 and c.ci_low > 0.0
    assert c.mde is not None and 0.1 < c.mde < 0.3


@pytest.mark.slow
def test_calibration_fixed_seed():
    """A small version of bench/calibration.py: clusters bring the false-positive rate back."""
    spec = importlib.util.spec_from_file_location("calibration", ROOT / "bench" / "calibration.py")
    cal = importlib.util.module_from_spec(spec)
    sys.modules["calibration"] = cal
    spec.loader.exec_module(cal)
    copies = cal.CLUSTERED["40 prompts x 5 copies"]
    interaction = cal.CLUSTERED["20x20 interaction SD 1.0"]
    assert cal.false_positive_rate("binary", copies, False, 100, 1) > 0.25
    assert cal.false_positive_rate("binary", copies, True, 100, 1) <= 0.08
    assert cal.false_positive_rate("continuous", interaction, False, 100, 2) > 0.2
    assert cal.false_positive_rate("continuous", interaction, True, 100, 2) <= 0.1
    assert 0.0 < cal.false_positive_rate("binary", cal.Design(30), False, 200, 3) <= 0.1
    assert cal.paired_coverage("binary", cal.Design(30), 0.5, 100, 4) >= 0.88
    # Exact (binomial-sum) coverage of the Wilson interval, the issue's p = .95, n = 30 case.
    for n, p in [(30, 0.95), (30, 0.5), (100, 0.95), (400, 0.95)]:
        assert 0.93 <= cal.wilson_exact_coverage(n, p) <= 0.97
    interaction = cal.CLUSTERED["20x20 interaction SD 1.0"]
    clustered = cal.mean_coverage(cal._single("binary", interaction), cal.Values(True), 0.5, 150, 7)
    assert clustered >= 0.9


def _study_with_votes(tmp_path: Path):
    from tuneval.human import StudyStore, VoteInput, create_study
    from tuneval.human.study import Pair, PairSet

    pairs = PairSet(
        [Pair(f"ex{i}", f"q{i}", f"base {i}", f"tuned {i}") for i in range(60)], [], "t"
    )
    store: StudyStore = create_study(
        tmp_path / "study",
        pairs,
        model_a="base",
        model_b="tuned",
        annotators=["ann1"],
        per_item=1,
        seed=3,
    )
    scores = {c: 3 for c in ("accuracy", "relevance", "format", "fluency")}
    for item in store.items()[:20]:  # humans label a third of the items: tuned wins 3 of 4
        tuned_wins = int(item.example_id[2:]) % 4 != 0
        tuned_at_a = store.placements()[item.item_id].model_at_a == "tuned"
        pref = "A" if tuned_wins == tuned_at_a else "B"
        store.put_vote(
            "ann1",
            item.item_id,
            VoteInput.model_validate({"a": scores, "b": scores, "preference": pref}),
        )
    judge = _write(
        tmp_path / "judge.jsonl",
        [{"example_id": f"ex{i}", "winner": "tuned" if i % 4 else "base"} for i in range(60)],
    )
    return store, judge


def test_human_results_judge_gives_the_ppi_human_win_rate(tmp_path, capsys):
    pytest.importorskip("ppi_py")
    store, judge = _study_with_votes(tmp_path)
    code, out, err = cli(["human", "results", store.path, "--judge", judge, "--json"], capsys)
    assert code == 0, err
    ppi = json.loads(out)["judge"]["ppi"]
    assert ppi["labelled"] == 20 and ppi["unlabelled"] == 40
    assert ppi["judge_only"]["n"] == 60 and ppi["human_only"]["n"] == 20
    assert ppi["human_only"]["value"] == pytest.approx(0.75)
    # The judge agrees with humans on every labelled item, so PPI is the judge's 45/60 with a
    # narrower interval than the 20 human labels alone give.
    assert ppi["ppi"]["value"] == pytest.approx(0.75, abs=1e-9)
    width = lambda e: e["ci_high"] - e["ci_low"]  # noqa: E731
    assert width(ppi["ppi"]) < width(ppi["human_only"])
    code, out, _ = cli(["human", "results", store.path, "--judge", judge], capsys)
    assert "PPI estimate of the human win rate" in " ".join(out.split())


def test_workflow_cluster_field_reaches_results_and_reports(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    rows = []
    for p in range(20):
        # echo answers "answer p", upper answers "ANSWER P": 4 prompts only the fine-tune gets.
        prompt, ref = f"answer {p}", (f"ANSWER {p}".upper() if p < 4 else f"{p}{p}")
        if p >= 4:
            prompt = ref  # digits: echo and upper both answer right
        rows += [
            {"id": f"p{p}c{c}", "prompt": prompt, "reference": ref, "group": f"g{p}"}
            for c in range(3)
        ]
    _write(tmp_path / "eval.jsonl", rows)
    config = tmp_path / "config.yaml"
    config.write_text(
        "name: clustered\neval_set: eval.jsonl\n"
        f"output_dir: {tmp_path / 'runs'}\n"
        "models:\n  base: {spec: 'mock:echo'}\n  finetuned: {spec: 'mock:upper'}\n"
        "metrics: {default: [exact_match]}\n"
        "comparison: {resamples: 200, trials: 2000, cluster_field: group}\n",
        encoding="utf-8",
    )
    code, out, err = cli(["run", config, "--set", "judge.spec=null"], capsys)
    assert code == 0, err
    run = tmp_path / "runs" / "clustered"
    results = json.loads((run / "results.json").read_text())
    v = next(v for v in results["verdicts"] if v["measure"] == "exact_match.exact_match")
    assert (v["unit"], v["units"]) == ("cluster:group", 20)
    assert v["outcome"] == "no significant difference" and v["mde"] > 0.1
    assert any("resample whole clusters of 'group' (20 clusters" in n for n in results["notes"])
    text = "no significant difference; effects below"
    assert text in (run / "report.md").read_text()
    assert text in (run / "report.html").read_text()
    assert text in " ".join(out.split())


def test_judge_repeats_report_noise_and_count_each_item_once(tmp_path, monkeypatch):
    from tuneval.judge import ScoreConfig, judge_scores
    from tuneval.judge.summary import score_summary
    from tuneval.models.mock import MockBackend
    from tuneval.records import Example, Generation
    from tuneval.rundir import RunDir

    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    run = RunDir(tmp_path / "run")
    run.write_examples(Example(id=f"e{i}", prompt=f"q{i}") for i in range(10))
    run.path.mkdir(parents=True, exist_ok=True)
    with run.generations_path.open("w", encoding="utf-8") as f:
        for i in range(10):
            f.write(Generation(example_id=f"e{i}", model="m", output=f"a{i}").model_dump_json())
            f.write("\n")

    def noisy(request):
        # Items e0-e4 get 6 on every judging; e5-e9 get 5, 6 or 7 depending on the seed.
        item = int(request.messages[-1].content.split("[Question]")[-1].split("q", 1)[1][0])
        seed = request.decoding.seed or 0
        score = 6 if item < 5 else 5 + seed % 3
        return json.dumps({"reasoning": "r", "score": score})

    judge = MockBackend("mock:noisy", responder=noisy)
    records = judge_scores(run, "m", judge, ScoreConfig(repeats=3))
    assert len(records) == 30 and {r.repeat for r in records} == {0, 1, 2}
    assert {r.example_id for r in records if r.score != 6} == {f"e{i}" for i in range(5, 10)}
    s = score_summary(records)
    assert (s.n, s.scored, s.repeats) == (10, 10, 3)
    assert s.flip_rate == pytest.approx(0.5) and s.score_sd == pytest.approx(0.5**0.5)
    assert s.mean.value == pytest.approx(6.0)
    # A rerun finds every repeat done: no new calls.
    calls = len(judge.calls)
    judge_scores(run, "m", judge, ScoreConfig(repeats=3))
    assert len(judge.calls) == calls == 30


def test_workflow_judge_repeats_reach_the_report(tmp_path, monkeypatch):
    from tuneval.models.mock import MockBackend

    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    _write(
        tmp_path / "eval.jsonl",
        [{"id": f"q{i}", "prompt": f"Question {i}", "reference": f"a{i}"} for i in range(8)],
    )
    config = tmp_path / "config.yaml"
    config.write_text(
        "name: noisy\neval_set: eval.jsonl\n"
        f"output_dir: {tmp_path / 'runs'}\n"
        "models:\n  base: {spec: 'mock:echo'}\n  finetuned: {spec: 'mock:upper'}\n"
        "judge: {spec: 'mock:judge', pairwise: false, repeats: 3}\n"
        "comparison: {resamples: 200, trials: 1000}\n",
        encoding="utf-8",
    )

    def judge(request):
        seed = request.decoding.seed or 0
        return json.dumps({"reasoning": "r", "score": 4 + seed % 2})  # 4, 5, 4: always flips

    cfg = tuneval.load_config(config, environ={})
    result = tuneval.full_evaluation(
        cfg, backends={"judge": MockBackend("mock:j", responder=judge)}
    )
    js = result.results.judge_scores
    assert js.base.repeats == 3 and js.base.flip_rate == 1.0 and js.n_paired == 8
    assert js.base.mean.value == pytest.approx(13 / 3)  # each item once, at its mean
    notes = " ".join(result.results.notes)
    assert "judge noise on base: 3 judgings per output" in notes
    assert "judge noise on base" in (Path(result.run_dir) / "report.md").read_text()


def test_workflow_human_votes_and_judge_give_the_ppi_win_rate(tmp_path, monkeypatch):
    pytest.importorskip("ppi_py")
    from tuneval.human import RubricScores, StudyStore, VoteInput
    from tuneval.models.mock import MockBackend

    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path / "cache"))
    _write(
        tmp_path / "eval.jsonl",
        [{"id": f"q{i}", "prompt": f"Question {i}", "reference": f"a{i}"} for i in range(12)],
    )
    config = tmp_path / "config.yaml"
    config.write_text(
        "name: ppi\neval_set: eval.jsonl\n"
        f"output_dir: {tmp_path / 'runs'}\n"
        "models:\n  base: {spec: 'mock:echo'}\n  finetuned: {spec: 'mock:upper'}\n"
        "judge: {spec: 'mock:judge', single: false}\n"
        "human: {export: true, annotators: [ann1], per_item: 1}\n"
        "comparison: {resamples: 200, trials: 1000}\n",
        encoding="utf-8",
    )

    def judge(request):  # prefers the fine-tuned (upper-case) answer, except on items 0 and 5
        user = request.messages[-1].content
        a = user.split("[Answer A]\n", 1)[1].split("\n\n[Answer B]", 1)[0]
        tuned_first = a.isupper()
        prefers_tuned = a.upper().split()[-1] not in ("0", "5")
        return json.dumps(
            {"reasoning": "r", "winner": "A" if tuned_first == prefers_tuned else "B"}
        )

    backends = {"judge": MockBackend("mock:j", responder=judge)}
    cfg = tuneval.load_config(config, environ={})
    tuneval.full_evaluation(cfg, backends=backends)
    store = StudyStore(tmp_path / "runs" / "ppi" / "human-study")
    same = RubricScores(accuracy=3, relevance=3, format=3, fluency=3)
    for k, item in enumerate(store.items()[:4]):  # humans: the fine-tune wins 3 of 4
        tuned_at_a = store.placements()[item.item_id].model_at_a == "finetuned"
        pref = "A" if (k < 3) == tuned_at_a else "B"
        store.put_vote("ann1", item.item_id, VoteInput(a=same, b=same, preference=pref))
    result = tuneval.full_evaluation(cfg, backends=backends, force=["report"])
    ppi = result.results.human_win_rate
    assert ppi is not None and (ppi.labelled, ppi.unlabelled) == (4, 8)
    assert ppi.judge_only.value == pytest.approx(10 / 12)
    assert ppi.human_only.value == pytest.approx(0.75)
    assert 0.0 <= ppi.ppi.ci_low < ppi.ppi.value < ppi.ppi.ci_high <= 1.0
    saved = json.loads((Path(result.run_dir) / "results.json").read_text())
    assert saved["human_win_rate"]["ppi"]["value"] == pytest.approx(ppi.ppi.value)
    assert "PPI estimate of the human win rate" in (Path(result.run_dir) / "report.md").read_text()


def _four_items(tmp_path: Path) -> list[Path]:
    """4 items, every one improved by the fine-tune (token F1 up, 2 of 4 exact answers fixed)."""
    refs = ["the cat sat on the mat", "paris is the capital", "two plus two is four", "water"]
    base = ["a dog", "london", "three", "ice"]
    tuned = ["the cat sat", "paris is the capital", "two plus two is four", "water boils"]
    return [
        _write(tmp_path / f"{name}.jsonl", [{"id": str(i), key: t} for i, t in enumerate(texts)])
        for name, key, texts in [
            ("b4", "prediction", base),
            ("f4", "prediction", tuned),
            ("r4", "reference", refs),
        ]
    ]


def test_compare_on_4_items_says_no_difference_is_detectable(tmp_path, capsys):
    # Sign flips on 4 items cannot go below p = 2/16 = 0.125, and McNemar on 4 items rejects
    # only 4 fixes of 4: an MDE of 0.13 (below the observed +0.83) or 1.04 (beyond any
    # possible difference) was a number the test could not honour.
    base, tuned, refs = _four_items(tmp_path)
    argv = ["compare", base, tuned, "-r", refs, "-m", "token_f1", "-m", "exact_match"]
    code, out, err = cli(argv, capsys)
    assert code == 0, err
    text = " ".join(out.split())
    assert "token_f1: no significant difference; no difference is detectable with 4 items" in text
    assert "exact_match: no significant difference; no difference is detectable with 4 items" in (
        text
    )
    assert "effects below" not in text
    report = tuneval.compare(
        [json.loads(x)["prediction"] for x in base.read_text().splitlines()],
        [json.loads(x)["prediction"] for x in tuned.read_text().splitlines()],
        [json.loads(x)["reference"] for x in refs.read_text().splitlines()],
        ["token_f1", "exact_match"],
    )
    assert [c.mde for c in report.comparisons] == [float("inf")] * 2


def test_mde_is_never_below_an_effect_the_test_missed():
    # 5 of 6 items gain 0.67 token F1, one loses 0.05: the sign-flip p is 4/64 (not
    # significant), yet the t formula promised to detect 0.42 < the +0.55 just missed.
    long = "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10"
    refs, base = ["red blue"] * 5 + [long], ["green"] * 5 + [long]
    c = tuneval.compare(base, ["red"] * 5 + [long + " w11"], refs, "token_f1").comparisons[0]
    assert c.p_value > 0.05 and c.difference == pytest.approx(0.5476, abs=1e-4)
    assert c.mde == pytest.approx(c.difference)


def test_win_rate_of_all_ties_is_not_a_point():
    from tuneval.judge.records import PairJudgment
    from tuneval.judge.summary import pairwise_summary

    records = [
        PairJudgment(
            example_id=f"e{i}",
            judge="j",
            model_a="base",
            model_b="finetuned",
            order=order,
            config_key="k",
            prompt="p",
            raw='{"winner": "tie"}',
            position="tie",
            attempts=1,
            chars_a=10,
            chars_b=10,
        )
        for i in range(10)
        for order in ("ab", "ba")
    ]
    w = pairwise_summary(records).win_rate
    # Was [0.500, 0.500]: the bootstrap of equal verdicts has no spread. The score interval
    # keeps a width of about z²/n.
    assert w.value == 0.5
    assert (w.ci_low, w.ci_high) == pytest.approx((0.3612, 0.6388), abs=1e-4)
    # On 4 items the sign test cannot reject any win rate (p >= 0.125): the whole range.
    four = pairwise_summary([r for r in records if r.example_id in {"e0", "e1", "e2", "e3"}])
    assert (four.win_rate.ci_low, four.win_rate.ci_high, four.p_value) == (0.0, 1.0, 1.0)


def test_compare_with_4_clusters_enumerates_the_16_sign_patterns(tmp_path, capsys):
    # 4 prompts x 3 copies, all fixed by the fine-tune: only 2 of the 2^4 cluster sign patterns
    # are as extreme, so p is exactly 0.125. Was 0.1217 (random flips), below anything the
    # test can attain; with enumeration there are no random shuffles behind it.
    evalset = [
        {"id": f"p{p}c{c}", "prompt": f"Prompt {p}", "reference": f"ans{p}", "group": f"g{p}"}
        for p in range(4)
        for c in range(3)
    ]
    base = _write(tmp_path / "b.jsonl", [{"id": e["id"], "prediction": "x"} for e in evalset])
    tuned = _write(
        tmp_path / "f.jsonl", [{"id": e["id"], "prediction": e["reference"]} for e in evalset]
    )
    refs = _write(tmp_path / "r.jsonl", evalset)
    for trials in ("100", "10000"):
        argv = ["compare", base, tuned, "-r", refs, "-m", "exact_match", "--cluster-field"]
        code, out, err = cli([*argv, "group", "--trials", trials, "--json"], capsys)
        assert code == 0, err
        c = json.loads(out)["comparisons"][0]
        assert (c["units"], c["p_value"], c["trials"]) == (4, 0.125, 0)
        assert c["ci_low"] <= 0.0 <= c["ci_high"] and c["detectable"] is False


def test_compare_text_says_why_no_difference_is_detectable(tmp_path, capsys):
    # The table says "none" in the MDE column; the reason (in the JSON) follows it once.
    base, tuned, refs = _four_items(tmp_path)
    argv = ["compare", base, tuned, "-r", refs, "-m", "token_f1", "-m", "exact_match"]
    code, out, err = cli(argv, capsys)
    assert code == 0, err
    text = " ".join(out.split())
    reason = "the test cannot reach p < 0.05 with 4 items (smallest attainable p = 0.125)"
    assert text.count(reason) == 1
    code, out, _ = cli([*argv, "--json"], capsys)
    assert reason in {c["undetectable_reason"] for c in json.loads(out)["comparisons"]}
