"""What a person runs: the console scripts and the functions behind them.

``gan-lab-train`` (:mod:`~gan_lab.cli.train`), ``gan-lab-eval`` (:mod:`~gan_lab.cli.evaluate`),
``gan-lab-evaluator`` (:mod:`~gan_lab.cli.evaluator`), ``gan-lab-check`` (:mod:`~gan_lab.cli.check`), and what they
share: composing the Hydra config (:mod:`~gan_lab.cli.compose`, :mod:`~gan_lab.cli.resolvers`,
:mod:`~gan_lab.cli.config_paths`), loading checkpoints (:mod:`~gan_lab.cli.checkpoints`), the console's summary and
quiet settings.  This is the top layer: it may import every other gan_lab package; none imports it.
"""
