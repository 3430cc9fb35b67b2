"""The evaluation layer: metric objects fed once per evaluation by :class:`gan_lab.callbacks.Evaluation`.

Configured in ``configs/evaluation/``; the maths is in :mod:`gan_lab.metrics`.
"""

from gan_lab.evaluation.birthday import BirthdayParadox
from gan_lab.evaluation.conditional import ClassAccuracy, CodeClassAgreement, IntraFID
from gan_lab.evaluation.game_view import GameView
from gan_lab.evaluation.js_grid import JSGrid
from gan_lab.evaluation.memorisation import NearCopies
from gan_lab.evaluation.metric import EvaluationError, EvaluationMetric, RealData
from gan_lab.evaluation.scored import Scored, generate_and_score, score
from gan_lab.evaluation.standard import FID, KID, DensityCoverage, InceptionScore, ModeCoverage, PrecisionRecall

__all__ = [
    "FID",
    "KID",
    "BirthdayParadox",
    "ClassAccuracy",
    "CodeClassAgreement",
    "DensityCoverage",
    "EvaluationError",
    "EvaluationMetric",
    "GameView",
    "InceptionScore",
    "IntraFID",
    "JSGrid",
    "ModeCoverage",
    "NearCopies",
    "PrecisionRecall",
    "RealData",
    "Scored",
    "generate_and_score",
    "score",
]
