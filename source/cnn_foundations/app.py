### BEGIN SOLUTION
"""Streamlit app: classify a chest X-ray as Normal or Pneumonia."""

from pathlib import Path

import numpy as np
import streamlit as st
from keras.models import load_model
from PIL import Image, UnidentifiedImageError

MODEL_PATH = Path(__file__).with_name("xray_model.keras")
CLASSES = ["Normal", "Pneumonia"]


@st.cache_resource
def get_model():
    """Load the trained model once and reuse it across reruns."""
    return load_model(MODEL_PATH)


def preprocess(image: Image.Image, input_shape: tuple) -> np.ndarray:
    """Resize to the model's input size, match its channels, scale to [0, 1]."""
    _, height, width, channels = input_shape
    image = image.convert("L" if channels == 1 else "RGB").resize((width, height))
    x = np.asarray(image, dtype="float32") / 255.0
    return x.reshape(1, height, width, channels)


st.title("Chest X-ray classifier")
model = get_model()
uploaded = st.file_uploader("Upload a chest X-ray", type=["png", "jpg", "jpeg"])

if uploaded is not None:
    try:
        image = Image.open(uploaded)
        image.load()
    except (UnidentifiedImageError, OSError):
        st.error("This file is not a readable image. Please upload a PNG or JPEG X-ray.")
        st.stop()
    st.image(image, caption=uploaded.name, width=300)
    probs = model.predict(preprocess(image, model.input_shape), verbose=0)[0]
    p_pneumonia = float(probs[-1])  # sigmoid: P(pneumonia); softmax: last class
    label = CLASSES[int(p_pneumonia >= 0.5)]
    confidence = p_pneumonia if label == "Pneumonia" else 1 - p_pneumonia
    st.success(f"{label} (probability {confidence:.2f})")
### END SOLUTION
