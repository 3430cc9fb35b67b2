"""The evaluator weights that ship with gan_lab, and the hashes that identify them.

The digits classifier (also used channel by channel for stacked digits) is
trained once, by the command in :data:`DIGITS_CLASSIFIER_COMMAND`, and its
weights file is committed inside the package (``weights/digits_classifier.pt``,
package data), so everyone scores digits with the same network, as everyone
scores images with the same Inception-v3.  Loading checks the file against
:data:`DIGITS_CLASSIFIER_SHA256` and refuses any other bytes.

To retrain it on purpose (a new architecture, say), run the command, put the
SHA-256 it prints here, and update the pinned outputs in
``tests/evaluation/evaluators/test_evaluators.py``: every number computed with the old weights
stops being comparable with the new ones.
"""

from __future__ import annotations

from pathlib import Path

#: Where the shipped weights files live inside the package.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: The digits classifier's weights file.
DIGITS_CLASSIFIER_FILE = WEIGHTS_DIR / "digits_classifier.pt"
#: SHA-256 of :data:`DIGITS_CLASSIFIER_FILE`; loading refuses a file with any other hash.
DIGITS_CLASSIFIER_SHA256 = "78101bc827f6687b2d617d6534b34015842191a744f3262830df62453293fb33"
#: The command (run from the repository root) that wrote :data:`DIGITS_CLASSIFIER_FILE`.
DIGITS_CLASSIFIER_COMMAND = "gan-lab-evaluator --data digits --out gan_lab/evaluation/evaluators/weights/digits_classifier.pt"
