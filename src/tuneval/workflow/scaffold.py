"""`tuneval init`: a starter project with a commented config and an eval-set template."""

from __future__ import annotations

import json
from pathlib import Path

from tuneval.errors import UsageError

CONFIG_TEMPLATE = """\
# tuneval workflow config. Run it with:  tuneval run config.yaml
# Every key is checked: a misspelt key fails with its name. Relative paths (eval set, training
# data, model files and adapters) are relative to this file; a model path that does not exist
# here yet is read as one when it starts with ./ (hf:org/model stays a hub id). Any key can be
# overridden with --set key.path=value or TUNEVAL_KEY__PATH=value (relative to where you are).
version: 1
name: my-eval                 # the run directory is output_dir/name
eval_set: eval.jsonl          # your items; check it with: tuneval dataset validate eval.jsonl
output_dir: runs

models:
  base:
    spec: llamacpp:default    # the bundled SmolLM2-135M-Instruct; or hf:PATH, openai:MODEL, ...
  finetuned:
    # A real fine-tune: hf:PATH with options: {adapter: PATH/TO/LORA}, or an OpenAI-compatible
    # endpoint: openai-compatible:http://127.0.0.1:8000/v1#my-model
    spec: llamacpp:default
    system_prompt: "You are a precise assistant. Answer with only what is asked."

decoding:
  temperature: 0.0
  max_tokens: 128

metrics:
  default: ["exact_match:lowercase=true,punctuation=true", token_f1]
  per_category:               # categories that need other metrics
    summarisation: [rouge, token_f1]

judge:
  spec: llamacpp:default      # any backend spec; null (or judge: null) turns the judge off
  single: true                # score each output 1-10
  pairwise: true              # compare base vs fine-tuned, in both orders
  max_tokens: 256

comparison:
  resamples: 1000             # bootstrap resamples behind every CI
  alpha: 0.05

contamination:
  training_data: []           # training files to check the eval set against

benchmarks: []                # standard benchmarks on both models, compared item by item, e.g.
# - {name: mmlu, subjects: [anatomy, virology], limit: 50}      # data from the HF hub
# - {name: humaneval, data: data/HumanEval.jsonl.gz, samples: 1}
# - {name: mt-bench}                                           # uses the judge above

human:
  export: false               # true: create a blind A/B study in RUN/human-study
  annotators: [ann1, ann2, ann3]
  per_item: 3                 # annotators per item
  # items: 50                 # a seeded sample instead of every item
"""

EVALSET_README = """\
# Your eval set

`eval.jsonl` holds one JSON object per line:

| field | required | meaning |
|---|---|---|
| `id` | yes | unique id of the item |
| `prompt` | yes | what the model is asked |
| `reference` (or `references`, a list) | for metrics | the correct answer(s) |
| `category` | recommended | e.g. classification, extraction, summarisation, closed_qa |
| `difficulty` | recommended | easy, medium or hard |
| `adversarial` | no | true for items written to trip the model up |

Aim for at least 10 items per category (30+ is better), include hard and adversarial items
in every category, and check the set with `tuneval dataset validate eval.jsonl` and
`tuneval dataset stats eval.jsonl`. `tuneval power --items N` tells you the smallest
difference an eval set of N items can detect.
"""

EVALSET_ITEMS = [
    {"id": "cls-1", "category": "classification", "difficulty": "easy",
     "prompt": "Classify the sentiment of this review as positive or negative: "
               "'Works perfectly, arrived early.'",
     "reference": "positive"},
    {"id": "cls-2", "category": "classification", "difficulty": "hard", "adversarial": True,
     "prompt": "Classify the sentiment as positive or negative: 'Oh great, it broke after one "
               "day. Just what I wanted.'",
     "reference": "negative"},
    {"id": "ext-1", "category": "extraction", "difficulty": "medium",
     "prompt": "Extract the year from: 'The bridge opened in 1932 after six years of work.'",
     "reference": "1932"},
    {"id": "qa-1", "category": "closed_qa", "difficulty": "easy",
     "prompt": "Answer using the text. Text: 'Mia has two cats and a dog.' "
               "Question: How many cats does Mia have?",
     "reference": "two"},
]  # fmt: skip


def scaffold(folder: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write ``config.yaml``, ``eval.jsonl`` and ``EVALSET.md`` into ``folder``.

    Raises:
        UsageError: When a file exists and ``overwrite`` is False.
    """
    root = Path(folder)
    files = {
        "config.yaml": CONFIG_TEMPLATE,
        "eval.jsonl": "".join(json.dumps(item) + "\n" for item in EVALSET_ITEMS),
        "EVALSET.md": EVALSET_README,
    }
    existing = [name for name in files if (root / name).exists()]
    if existing and not overwrite:
        raise UsageError(
            f"{root} already has {', '.join(existing)}; pick another folder or pass --force"
        )
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
        written.append(root / name)
    return written
