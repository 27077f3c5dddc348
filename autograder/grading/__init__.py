"""The grading runner: collect -> isolate -> execute with nbgrader -> score.

- :mod:`.collect`       find and identify submitted notebooks (folders, LMS zips, renamed files)
- :mod:`.course`        isolated nbgrader course directories (one per submission and notebook)
- :mod:`.preprocessors` nbgrader preprocessors the kit adds to autograding
- :mod:`.worker`        the per-notebook process: autograde, feedback, scores -> result JSON
- :mod:`.limits`        wall-clock and memory limits for a worker's process tree
- :mod:`.devices`       one GPU per worker, CPU fallback
- :mod:`.runner`        the batch: parallel, resumable, progress, reports
"""
