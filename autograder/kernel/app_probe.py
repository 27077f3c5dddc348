"""Run a student's Streamlit app for real (``streamlit.testing.v1.AppTest``) and record what it shows.

Uploads each held-out image, then a file that is not an image. What the app showed (label and
probability per image, errors, exceptions) is evidence; the judge knows the true labels.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

LABELS = ("Normal", "Pneumonia")
NOT_AN_IMAGE = ("notes.png", b"this is not an image", "image/png")
_TEXT_ELEMENTS = frozenset({"title", "header", "subheader", "markdown", "caption", "text",
                            "success", "info", "warning", "metric"})
_LABEL_RE = {label: re.compile(rf"\b{label}\b", re.IGNORECASE) for label in LABELS}
_NUMBER_RE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(\s*%)?")
_SHOW = 300


def probe(app: Path, images: list[Path], timeout: float = 60) -> dict[str, Any]:
    """``{"started": ..., "uploads": [{"file", "label", "probability", "error", "exception"}], "bad_upload": ...}``."""
    from streamlit.testing.v1 import AppTest
    import streamlit as st

    app = app.resolve()
    if not app.is_file():
        return {"problem": f"app file not found: {app.name} (write it with %%writefile app.py)",
                "shown": [f"no {app.name} found"]}
    out: dict[str, Any] = {"uploads": [], "shown": []}
    st.cache_resource.clear()
    st.cache_data.clear()
    with contextlib.chdir(app.parent):
        at = AppTest.from_file(str(app), default_timeout=timeout)
        problem = _run(at, "when it started", timeout) or _exception(at, "when it started (before any upload)")
        if problem:
            return dict(out, problem=problem, shown=[problem])
        if len(at.file_uploader) == 0:
            return dict(out, problem="the app shows no st.file_uploader; add st.file_uploader(\"Upload a chest "
                                     "X-ray\", type=[\"png\", \"jpg\", \"jpeg\"])")
        baseline = _texts(at)
        for path in images:
            at.file_uploader[0].set_value((path.name, path.read_bytes(), "image/png"))
            entry: dict[str, Any] = {"file": path.name}
            entry["problem"] = (_run(at, "after uploading an image", timeout)
                                or _exception(at, "after uploading an image"))
            if not entry["problem"] and at.error:
                entry["problem"] = ("after uploading a valid PNG X-ray the app showed an error instead of a "
                                    f"result: {_short(at.error[0].value)}")
            if not entry["problem"]:
                entry.update(_read_result(at, baseline))
            out["uploads"].append(entry)
        at.file_uploader[0].set_value(NOT_AN_IMAGE)
        problem = _run(at, "after uploading a file that is not an image", timeout)
        out["bad_upload"] = {"problem": problem, "exception": _describe(at.exception[0]) if at.exception else "",
                             "error_shown": bool(at.error)}
    st.cache_resource.clear()
    out["shown"].append(f"ran your app {app.name} on {len(images)} held-out X-rays and one non-image file")
    return out


def _run(at: Any, when: str, timeout: float) -> str:
    try:
        at.run(timeout=timeout)
    except RuntimeError as err:
        if "timed out" in str(err):
            return (f"the app did not finish within {timeout:g} s {when}; load the model once with "
                    "@st.cache_resource and avoid training in app.py")
        return f"the app failed {when}: {_short(str(err))}"
    return ""


def _describe(exc: Any) -> str:
    kind = exc.proto.type or "an exception"
    return f"{kind}: {_short(exc.message)}" if exc.message else kind


def _exception(at: Any, when: str) -> str:
    return f"{when} the app raised {_describe(at.exception[0])}" if at.exception else ""


def _element_text(el: Any) -> str:
    if el.type == "metric":
        return f"{el.proto.label}: {el.proto.body}"
    return str(el.value)


def _texts(at: Any) -> list[str]:
    return [_element_text(node) for block in (at.main, at.sidebar) for node in block
            if node.type in _TEXT_ELEMENTS]


def _new_texts(at: Any, baseline: list[str]) -> list[str]:
    """Texts shown now that were not on the page before any upload (titles, instructions)."""
    seen = Counter(baseline)
    new = []
    for text in _texts(at):
        if seen[text] > 0:
            seen[text] -= 1
        else:
            new.append(text)
    return new


def _read_result(at: Any, baseline: list[str]) -> dict[str, Any]:
    new = _new_texts(at, baseline)
    page = " | ".join(new)
    hits = [(text, found[0]) for text in new
            if len(found := [lb for lb in LABELS if _LABEL_RE[lb].search(text)]) == 1]
    label_text, label = hits[0] if hits else ("", None)
    probability = _parse_probability(label_text)
    if probability is None:
        probability = _parse_probability(page)
    return {"label": label, "probability": probability, "text": _short(page), "shows_image": len(at.image) > 0}


def _parse_probability(text: str) -> float | None:
    for number, percent in _NUMBER_RE.findall(text):
        value = float(number)
        if percent and 0 <= value <= 100:
            return value / 100
        if not percent and 0 <= value <= 1:
            return value
    return None


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _SHOW else text[: _SHOW - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.kernel.app_probe [--wait MODULES] APP IMAGE_FOLDER COUNT OUT.json``: the
    grader runs this in a fresh sandbox after the notebook, so nothing the notebook left in memory can
    change what it records. ``--wait``: import Streamlit and the comma-separated ``MODULES`` first, then
    wait for a line on stdin (the grader starts the probe while the notebook runs, and says go when
    the app is there); end of input without it: exit without recording anything."""
    import importlib
    import json

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--wait"]:
        modules = [m for m in args[1].split(",") if m]
        del args[:2]
        from streamlit.testing.v1 import AppTest
        for module in modules:
            importlib.import_module(module)
        AppTest.from_string("import streamlit as st\nst.write('ready')").run()   # Streamlit's first-run set-up
        if not sys.stdin.readline().strip():
            return 0
    app, folder, count, out = args
    images = sorted(p for p in Path(folder).iterdir() if p.suffix == ".png")[: int(count)]
    try:
        result = probe(Path(app), images)
    except Exception as err:          # the app broke the probe itself: evidence of a failing app
        result = {"problem": f"the app could not be run: {type(err).__name__}: {_short(str(err))}"}
    Path(out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush(), sys.stderr.flush()
    os._exit(code)        # the evidence is written: no need to wait for the frameworks' own teardown
