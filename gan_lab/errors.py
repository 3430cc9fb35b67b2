"""gan_lab's own error types for bad input.

A :class:`ConfigError` means "a setting you gave cannot work" (an unknown
name, an impossible shape, a value out of range): the command-line tools
print it as one line naming the fix, without a traceback.  Every other
exception (a bug, in gan_lab or in your own variant) keeps its traceback.
It subclasses ``ValueError`` so that code catching bad values still does.
"""


class ConfigError(ValueError):
    """A setting that cannot work; the message names the setting and how to fix it."""


class EvaluationError(ConfigError):
    """Evaluation settings that cannot give a meaningful number (raised before training starts)."""
