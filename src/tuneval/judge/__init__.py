"""LLM-as-judge: single scoring, pairwise comparison in both orders, bias diagnostics.

A judge is a model (any backend spec), a prompt template and a parser. Every call's prompt,
raw reply, parsed verdict and judge identity are stored in the run directory; a reply that
cannot be used is retried a bounded number of times and then recorded as *unscored*.
"""

from tuneval.judge.agreement import human_majority, load_votes, panel_majority
from tuneval.judge.config import JudgeConfig, PairConfig, ScoreConfig
from tuneval.judge.length_control import lc_win_rate
from tuneval.judge.pairwise import PAIRWISE_FILE, ajudge_pairs, judge_pairs
from tuneval.judge.panel import (
    JudgeScoreReport,
    PairwiseReport,
    compare_with_panel,
    score_with_panel,
)
from tuneval.judge.parse import ParseFailure, parse_preference, parse_score
from tuneval.judge.records import (
    AgreementSummary,
    Interval,
    Judgment,
    PairJudgment,
    PairwiseSummary,
    ScoreSummary,
)
from tuneval.judge.single import SINGLE_FILE, ajudge_scores, judge_scores
from tuneval.judge.summary import Bootstrap, combine, pairwise_summary, score_summary
from tuneval.stats.agreement import cohen_kappa

__all__ = [
    "PAIRWISE_FILE",
    "SINGLE_FILE",
    "AgreementSummary",
    "Bootstrap",
    "Interval",
    "JudgeConfig",
    "JudgeScoreReport",
    "Judgment",
    "PairConfig",
    "PairJudgment",
    "PairwiseReport",
    "PairwiseSummary",
    "ParseFailure",
    "ScoreConfig",
    "ScoreSummary",
    "ajudge_pairs",
    "ajudge_scores",
    "cohen_kappa",
    "combine",
    "compare_with_panel",
    "human_majority",
    "judge_pairs",
    "judge_scores",
    "lc_win_rate",
    "load_votes",
    "pairwise_summary",
    "panel_majority",
    "parse_preference",
    "parse_score",
    "score_summary",
    "score_with_panel",
]
