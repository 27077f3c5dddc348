"""Autograded assignment kit for a deep-learning course on CNN architectures.

Data flows one way: submission -> execution -> checks -> scores -> reports.

- :mod:`autograder.data`     hash-pinned datasets and weights, offline cache, served data per profile
- :mod:`autograder.checks`   checks used by the notebooks' visible and hidden tests (Keras and PyTorch)
- :mod:`autograder.kernel`   start-up hook installed into every grading kernel
- :mod:`autograder.grading`  the runner: collect, isolate, execute with nbgrader, score
- :mod:`autograder.reports`  CSV, feedback, Gradescope-style JSON, plots
"""

__version__ = "0.1.0"
