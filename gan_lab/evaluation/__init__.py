"""The evaluation layer: metric objects, fed once per evaluation by :class:`gan_lab.callbacks.Evaluation`.

Each :class:`EvaluationMetric` does its real-data work once per run (``prepare``) and scores generated samples
(``compute``), in ``standard.py`` (IS, FID, KID, precision/recall, density/coverage), ``mode_collapse.py`` (mode
counts, JS by grid, the birthday paradox), ``memorisation.py`` (near copies) and ``conditional.py``; the
evaluators (``evaluators/``: what a metric sees of a sample) live here too.  Configured in
``configs/evaluation/``; the maths is in :mod:`gan_lab.metrics`.  May import ``metrics``, ``data``, ``training``
(to draw samples) and ``viz.plots``; not ``callbacks`` or ``cli``.
"""

from gan_lab.evaluation.conditional import ClassAccuracy, CodeClassAgreement, IntraFID
from gan_lab.evaluation.mode_collapse import BirthdayParadox, JSGrid, ModeCoverage
from gan_lab.evaluation.memorisation import NearCopies
from gan_lab.errors import EvaluationError
from gan_lab.evaluation.metric import EvaluationMetric, RealData
from gan_lab.evaluation.scored import Scored, generate_and_score, score
from gan_lab.evaluation.standard import FID, KID, DensityCoverage, InceptionScore, PrecisionRecall

__all__ = [
    "FID",
    "KID",
    "BirthdayParadox",
    "ClassAccuracy",
    "CodeClassAgreement",
    "DensityCoverage",
    "EvaluationError",
    "EvaluationMetric",
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
