"""GAN metrics as functions: float64 maths on samples, features or class probabilities, with known-answer tests.

IS, FID, KID, precision/recall, density/coverage, mode coverage, JS by grid, the birthday-paradox support size,
near copies, and the divergences they rest on.  Each function's docstring cites its paper and the reference code
whose convention it follows.  Imports nothing else of gan_lab but ``errors``: the evaluation layer
(:mod:`gan_lab.evaluation`) feeds these functions during training.
"""

from gan_lab.metrics.birthday import (
    BirthdayCalibration,
    BirthdayResult,
    ClosestPair,
    birthday_paradox,
    calibrate_birthday,
    support_from_collision_rate,
    support_size_estimate,
)
from gan_lab.metrics.frechet import features_to_statistics, frechet_distance, statistics_to_frechet_distance
from gan_lab.metrics.inception_score import inception_score
from gan_lab.metrics.js_grid import gaussian_mixture_cell_probabilities, histogram_on_grid, js_grid, square_box
from gan_lab.metrics.kid import kernel_inception_distance
from gan_lab.metrics.mode_coverage import ModeCounts, class_coverage, mode_coverage
from gan_lab.metrics.precision_recall import density_coverage, precision_recall

__all__ = [
    "BirthdayCalibration",
    "BirthdayResult",
    "ClosestPair",
    "ModeCounts",
    "birthday_paradox",
    "calibrate_birthday",
    "class_coverage",
    "density_coverage",
    "features_to_statistics",
    "frechet_distance",
    "gaussian_mixture_cell_probabilities",
    "histogram_on_grid",
    "inception_score",
    "js_grid",
    "kernel_inception_distance",
    "mode_coverage",
    "precision_recall",
    "square_box",
    "statistics_to_frechet_distance",
    "support_from_collision_rate",
    "support_size_estimate",
]
