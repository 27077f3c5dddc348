"""nbgrader configuration of the course (authoring at the repository root).

    nbgrader generate_assignment cnn_foundations --force
    nbgrader generate_solution cnn_foundations --force

`python -m autograder release` runs both for every assignment and checks the result.
"""
from autograder.grading.nbconfig import course_config

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
course_config(c)
c.CourseDirectory.root = "."
