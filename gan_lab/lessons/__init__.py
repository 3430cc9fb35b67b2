"""What the notebooks teach with, and the framework itself does not need: the theory of the game in closed
form (:mod:`~gan_lab.lessons.theory`) and the Parzen-window likelihood, a measure the course shows to be
misleading (:mod:`~gan_lab.lessons.likelihood`).  May import ``metrics``; nothing in the framework imports it.
"""
