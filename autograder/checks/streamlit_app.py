"""Run a student's Streamlit X-ray app for real with ``streamlit.testing.v1.AppTest``.

The app contract (stated in the question): the app loads ``xray_model.keras`` from its own
directory, shows one ``st.file_uploader`` for png/jpg/jpeg, and after an upload shows a result
with the label ("Normal" or "Pneumonia") and a probability (0-1 or a percentage). A file that
is not an image must produce ``st.error(...)``, not a traceback.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from autograder.checks.feedback import CheckFailed
from autograder.kernel.app_probe import _describe, _new_texts, _parse_probability, _short, _texts

__all__ = ["AppReport", "Prediction", "LABELS", "NOT_AN_IMAGE", "check_app", "png_bytes"]

LABELS = ("Normal", "Pneumonia")
NOT_AN_IMAGE = ("notes.png", b"this is not an image", "image/png")

# Elements whose text can carry the result (st.error is handled separately).
_TEXT_ELEMENTS = frozenset({"title", "header", "subheader", "markdown", "caption", "text",
    "success", "info", "warning", "metric"})
_LABEL_RE = {label: re.compile(rf"\b{label}\b", re.IGNORECASE) for label in LABELS}


@dataclass
class Prediction:
    """What the app showed for one uploaded image."""

    true_label: str
    label: str
    probability: float
    text: str
    shows_image: bool

    @property
    def correct(self) -> bool:
        return self.label == self.true_label


@dataclass
class AppReport:
    """Outcome of :func:`check_app` (only returned when every check passed)."""

    predictions: list[Prediction] = field(default_factory=list)
    error_message: str = ""  # the st.error shown for the non-image upload

    @property
    def n_correct(self) -> int:
        return sum(p.correct for p in self.predictions)


def png_bytes(array: Any) -> bytes:
    """Encode a 2-D (grayscale) or HxWx3 array as PNG; floats in [0, 1] are scaled to 0-255."""
    from PIL import Image

    a = np.asarray(array)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.dtype != np.uint8:
        a = np.asarray(a, dtype="float64")
        if a.size and a.max() <= 1.0:
            a = a * 255.0
        a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def check_app(app_path: str | Path, images: list[tuple[bytes, str]], *, min_correct: int,
              timeout: float = 60) -> AppReport:
    """Upload each ``(png_bytes, true_label)`` to the app, then a non-image; raise CheckFailed."""
    from streamlit.testing.v1 import AppTest

    app_path = Path(app_path).resolve()
    if not app_path.is_file():
        raise CheckFailed(f"app file not found: {app_path.name} (write it with %%writefile app.py)")
    for _, label in images:
        if label not in LABELS:
            raise ValueError(f"true label must be one of {LABELS}, got {label!r}")

    report = AppReport()
    with _app_session(app_path.parent):
        at = AppTest.from_file(app_path, default_timeout=timeout)
        _run(at, "when it started", timeout)
        _raise_on_exception(at, "when it started (before any upload)")
        if len(at.file_uploader) == 0:
            raise CheckFailed("the app shows no st.file_uploader; add "
                              "st.file_uploader(\"Upload a chest X-ray\", type=[\"png\", \"jpg\", \"jpeg\"])")
        baseline = _texts(at)

        for i, (content, true_label) in enumerate(images, start=1):
            at.file_uploader[0].set_value((f"xray_{i}.png", content, "image/png"))
            _run(at, "after uploading an image", timeout)
            _raise_on_exception(at, "after uploading an image")
            if at.error:
                raise CheckFailed("after uploading a valid PNG X-ray the app showed an error instead "
                                  f"of a result: {_short(at.error[0].value)}")
            report.predictions.append(_read_result(at, baseline, true_label))

        if report.n_correct < min_correct:
            wrong = [p for p in report.predictions if not p.correct]
            examples = "; ".join(f"showed {p.label} for a {p.true_label} X-ray" for p in wrong[:3])
            raise CheckFailed(
                f"the app labelled {report.n_correct} of {len(images)} test X-rays correctly "
                f"(need at least {min_correct}): {examples}. Check that the app preprocesses like "
                "training (resize to model.input_shape, same channels, scale to [0, 1]) and maps "
                "the model output to the right class")

        at.file_uploader[0].set_value(NOT_AN_IMAGE)
        _run(at, "after uploading a file that is not an image", timeout)
        if at.exception:
            raise CheckFailed("uploading a file that is not an image crashed the app instead of "
                              f"showing st.error: {_describe(at.exception[0])}. Wrap opening the "
                              "image in try/except and call st.error(...)")
        if not at.error:
            raise CheckFailed("uploading a file that is not an image (notes.png) showed no st.error "
                              "message; catch the error when opening the image and call st.error(...)")
        report.error_message = at.error[0].value
    return report


@contextlib.contextmanager
def _app_session(app_dir: Path) -> Iterator[None]:
    """Run with the app's directory as cwd and fresh Streamlit caches; restore afterwards."""
    import streamlit as st

    st.cache_resource.clear()  # AppTest runs in this process: never reuse another app's model
    st.cache_data.clear()
    try:
        with contextlib.chdir(app_dir):
            yield
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()


def _run(at: Any, when: str, timeout: float) -> None:
    try:
        at.run(timeout=timeout)
    except RuntimeError as err:
        if "timed out" in str(err):
            raise CheckFailed(f"the app did not finish within {timeout:g} s {when}; load the model "
                              "once with @st.cache_resource and avoid training in app.py") from None
        raise




def _raise_on_exception(at: Any, when: str) -> None:
    if at.exception:
        raise CheckFailed(f"{when} the app raised {_describe(at.exception[0])}")








def _read_result(at: Any, baseline: list[str], true_label: str) -> Prediction:
    """Parse the label and probability the app shows after an upload."""
    new = _new_texts(at, baseline)
    page = " | ".join(new)
    hits = [(text, found[0]) for text in new
            if len(found := [lb for lb in LABELS if _LABEL_RE[lb].search(text)]) == 1]
    label_text, label = hits[0] if hits else ("", None)
    if label is None:
        raise CheckFailed("the app shows no label: expected 'Normal' or 'Pneumonia' in the page text "
                          f"after the upload (one of them, not both in the same line), got: {_short(page)!r}")
    # Prefer a number next to the label ("Pneumonia (probability 0.93)"), else anywhere.
    probability = _parse_probability(label_text)
    if probability is None:
        probability = _parse_probability(page)
    if probability is None:
        raise CheckFailed("the app shows no probability: expected a number in [0, 1] (e.g. 0.93) or "
                          f"a percentage (e.g. 93%) in the page text after the upload, got: {_short(page)!r}")
    return Prediction(true_label, label, probability, page, shows_image=len(at.image) > 0)



