"""Command-line errors name the file and the problem, without a traceback."""
import subprocess
import sys


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, timeout=120)


def test_missing_submissions_folder():
    out = _cli("grade", "/nonexistent/submissions")
    assert out.returncode == 2
    assert out.stderr.strip() == "error: /nonexistent/submissions: the submissions folder does not exist"


def test_unknown_dataset_lists_what_exists():
    out = _cli("fetch", "imagenet21k")
    assert out.returncode == 2 and "no data entry 'imagenet21k'" in out.stderr and "mnist" in out.stderr
    assert "Traceback" not in out.stderr


def test_unknown_profile_is_refused_by_the_parser():
    out = _cli("grade", ".", "--profile", "huge")
    assert out.returncode == 2 and "invalid choice: 'huge'" in out.stderr
