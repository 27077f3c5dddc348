"""The Streamlit app check runs real apps with AppTest: the reference passes, broken apps fail."""

from __future__ import annotations

import importlib.resources
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from autograder.checks.feedback import CheckFailed
from autograder.checks.streamlit_app import check_app, png_bytes
# A Streamlit script: run by AppTest, never imported.
REFERENCE_APP = Path(str(importlib.resources.files("autograder.reference") / "xray_app.py"))


def _model(size: int, channels: int, softmax: bool):
    """A fixed-weight model whose P(pneumonia) grows with mean brightness (no training)."""
    import keras

    inputs = keras.Input((size, size, channels))
    x = keras.layers.GlobalAveragePooling2D()(inputs)
    x = keras.layers.Dense(1, use_bias=False)(x)  # sum of channel means
    if softmax:  # two logits: brightness below / above 0.5 -> [NORMAL, PNEUMONIA]
        outputs = keras.layers.Dense(2, activation="softmax")(x)
    else:
        outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.layers[2].set_weights([np.full((channels, 1), 1.0 / channels)])
    if softmax:
        model.layers[3].set_weights([np.array([[-10.0, 10.0]]), np.array([5.0, -5.0])])
    else:
        model.layers[3].set_weights([np.array([[20.0]]), np.array([-10.0])])
    return model


def _xrays(n: int = 4, size: int = 64) -> list[tuple[bytes, str]]:
    """Synthetic X-rays at another size than the model's: pneumonia = bright blobs."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    images = []
    for i in range(n):
        img = 0.15 + 0.05 * rng.random((size, size))
        label = "Pneumonia" if i % 2 else "Normal"
        if label == "Pneumonia":
            for cy, cx in rng.integers(8, size - 8, (6, 2)):
                img[(yy - cy) ** 2 + (xx - cx) ** 2 < (size // 4) ** 2] = 0.9
        images.append((png_bytes(img), label))
    return images


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    files = {}
    for name, args in {"sigmoid": (32, 1, False), "softmax": (48, 3, True)}.items():
        files[name] = root / f"{name}.keras"
        _model(*args).save(files[name])
    return files


def _app_dir(tmp_path: Path, model_file: Path, source: str | None = None) -> Path:
    """An app directory with ``xray_model.keras`` and ``app.py`` (reference if no source)."""
    shutil.copy(model_file, tmp_path / "xray_model.keras")
    if source is None:
        shutil.copy(REFERENCE_APP, tmp_path / "app.py")
    else:
        (tmp_path / "app.py").write_text(source)
    return tmp_path / "app.py"


HEADER = '''
import numpy as np
import streamlit as st
from keras.models import load_model
from PIL import Image

model = st.cache_resource(load_model)("xray_model.keras")
st.title("Normal or Pneumonia?")
uploaded = st.file_uploader("X-ray", type=["png", "jpg", "jpeg"])

def predict(image):
    _, h, w, c = model.input_shape
    x = np.asarray(image.convert("L").resize((w, h)), dtype="float32") / 255.0
    return float(model.predict(x.reshape(1, h, w, 1), verbose=0)[0, -1])
'''

CRASHES_ON_BAD_UPLOAD = HEADER + '''
if uploaded:
    p = predict(Image.open(uploaded))
    st.write(f"{'Pneumonia' if p >= 0.5 else 'Normal'}: {p:.1%}")
'''

NO_PROBABILITY = HEADER + '''
if uploaded:
    try:
        p = predict(Image.open(uploaded))
    except OSError:
        st.error("not an image")
        st.stop()
    st.success("Pneumonia" if p >= 0.5 else "Normal")
'''

ALWAYS_NORMAL = HEADER + '''
if uploaded:
    st.metric("Prediction", "Normal")
    st.metric("Probability", "88%")
'''

MISSING_MODEL = HEADER.replace('"xray_model.keras"', '"my_model.keras"')


@pytest.mark.parametrize("kind", ["sigmoid", "softmax"])
def test_reference_app_passes(tmp_path, model_files, kind):
    images = _xrays()
    cwd = os.getcwd()
    report = check_app(_app_dir(tmp_path, model_files[kind]), images, min_correct=len(images))
    assert os.getcwd() == cwd
    assert report.n_correct == len(images)
    assert all(0.5 <= p.probability <= 1 and p.shows_image for p in report.predictions)
    assert "not a readable image" in report.error_message


@pytest.mark.parametrize("source, message", [
    (CRASHES_ON_BAD_UPLOAD, "uploading a file that is not an image crashed the app instead of showing st.error"),
    (NO_PROBABILITY, "the app shows no probability"),
    (ALWAYS_NORMAL, "labelled 2 of 4 test X-rays correctly (need at least 3)"),
    (MISSING_MODEL, "when it started (before any upload) the app raised ValueError"),
], ids=["crash-on-bad-upload", "no-probability", "always-normal", "missing-model"])
def test_broken_apps_fail(tmp_path, model_files, source, message):
    app = _app_dir(tmp_path, model_files["sigmoid"], source)
    with pytest.raises(CheckFailed) as err:
        check_app(app, _xrays(), min_correct=3)
    assert message in str(err.value)


def test_crash_after_upload_names_the_exception(tmp_path, model_files):
    source = HEADER + "\nif uploaded:\n    raise ValueError('bad shape (1, 32, 32, 3)')\n"
    with pytest.raises(CheckFailed, match=r"after uploading an image the app raised ValueError: bad shape"):
        check_app(_app_dir(tmp_path, model_files["sigmoid"], source), _xrays(2), min_correct=1)


def test_no_uploader_and_no_label(tmp_path, model_files):
    no_uploader = _app_dir(tmp_path, model_files["sigmoid"], "import streamlit as st\nst.title('X-ray')\n")
    with pytest.raises(CheckFailed, match="no st.file_uploader"):
        check_app(no_uploader, _xrays(2), min_correct=1)
    no_label = HEADER + "\nif uploaded:\n    st.write(f'score {predict(Image.open(uploaded)):.2f}')\n"
    no_label_app = _app_dir(tmp_path, model_files["sigmoid"], no_label)
    with pytest.raises(CheckFailed, match=r"the app shows no label: .*got: 'score 0\.\d\d'"):
        check_app(no_label_app, _xrays(2), min_correct=1)


def test_png_bytes_roundtrip():
    from io import BytesIO

    from PIL import Image

    img = Image.open(BytesIO(png_bytes(np.linspace(0, 1, 12).reshape(3, 4))))
    assert img.size == (4, 3) and img.mode == "L"
    assert np.asarray(img)[-1, -1] == 255
