"""Human evaluation: blind A/B studies, the annotation web app, agreement and unblinding.

Create a study from a run (`pairs_from_run`) or two prediction files (`pairs_from_predictions`)
with `create_study`; annotators vote in the web app (`create_app`, `serve`) or in an exported
spreadsheet (`export_study`, `import_votes`); `study_results` unblinds and reports win rates,
rubric scores, agreement and judge-vs-human agreement.
"""

from tuneval.human.exchange import ImportSummary, export_study, import_votes
from tuneval.human.records import (
    CRITERIA,
    Placement,
    RubricScores,
    StudyInfo,
    StudyItem,
    Vote,
    VoteInput,
)
from tuneval.human.results import HumanResults, study_results, unblinded_rows
from tuneval.human.store import StudyStore
from tuneval.human.study import PairSet, create_study, pairs_from_predictions, pairs_from_run

__all__ = [
    "CRITERIA",
    "HumanResults",
    "ImportSummary",
    "PairSet",
    "Placement",
    "RubricScores",
    "StudyInfo",
    "StudyItem",
    "StudyStore",
    "Vote",
    "VoteInput",
    "create_study",
    "export_study",
    "import_votes",
    "pairs_from_predictions",
    "pairs_from_run",
    "study_results",
    "unblinded_rows",
]
