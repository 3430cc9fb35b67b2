"""Lightning callbacks: the evaluation of the generator at each validation epoch, the progress bar, the run overview.

They may import from every other gan_lab package except ``cli``.
"""

from gan_lab.callbacks.evaluation import Evaluation

__all__ = ["Evaluation"]
