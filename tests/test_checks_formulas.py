"""Reference formulas agree with real Keras and PyTorch layers; compare_function catches
wrong answers and names the case."""

import torch  # noqa: F401  -- torch and torchvision before keras: the other order crashes
import torchvision  # noqa: F401

import itertools
import math

import numpy as np
import pytest

from autograder import checks
from autograder.checks import CheckFailed

GRID = [(n, f, p, s) for n, f, p, s in itertools.product((7, 28, 32), (1, 3, 5), (0, 1, 2), (1, 2, 3))
        if f <= n + 2 * p]


def test_conv_output_size_matches_torch_and_keras_over_grid():
    for n, f, p, s in GRID:
        want = checks.conv_output_size(n, f, p, s)
        assert checks.torch_conv_output(n, f, p, s) == want, (n, f, p, s)
    for n, f, p, s in GRID[::3]:  # Keras eager calls are slower; a third of the grid
        assert checks.keras_conv_output(n, f, p, s) == checks.conv_output_size(n, f, p, s), (n, f, p, s)


@pytest.mark.parametrize("n,f,s", [(28, 3, 1), (28, 5, 2), (32, 3, 2), (7, 3, 3), (227, 11, 4)])
def test_same_and_valid_padding_match_keras(n, f, s):
    assert checks.keras_conv_output(n, f, "same", s) == checks.same_padding_output(n, s)
    assert checks.keras_conv_output(n, f, "valid", s) == checks.valid_padding_output(n, f, s)
    assert checks.valid_padding_output(n, f, s) == checks.conv_output_size(n, f, 0, s)


def test_torch_same_padding_at_stride_one():
    assert checks.torch_conv_output(28, 5, "same", 1) == checks.same_padding_output(28, 1) == 28


@pytest.mark.parametrize("kh,kw,cin,cout,stride", [(3, 3, 1, 32, 1), (5, 5, 6, 16, 1),
                                                   (11, 11, 3, 96, 4), (3, 5, 8, 4, 2)])
def test_conv_params_match_real_layers_and_ignore_stride(kh, kw, cin, cout, stride):
    want = checks.conv_params(kh, kw, cin, cout)
    assert want == (kh * kw * cin + 1) * cout
    assert checks.keras_conv_params(kh, kw, cin, cout, stride) == want
    assert checks.torch_conv_params(kh, kw, cin, cout, stride) == want
    assert checks.torch_conv_params(kh, kw, cin, cout, 1, bias=False) == checks.conv_params(
        kh, kw, cin, cout, bias=False)


def test_dense_params_match_real_layers():
    assert checks.dense_params(784, 10) == checks.keras_dense_params(784, 10) == 7850
    assert checks.torch_dense_params(400, 120) == checks.dense_params(400, 120) == 48_120


def test_receptive_field_standard_recurrence():
    assert checks.receptive_field([]) == 1
    assert checks.receptive_field([(3, 1), (3, 1)]) == 5
    assert checks.receptive_field([(3, 1), (2, 2), (3, 1)]) == 8
    # LeNet-5: conv5, pool2/2, conv5, pool2/2
    assert checks.receptive_field([(5, 1), (2, 2), (5, 1), (2, 2)]) == 16


@pytest.mark.parametrize("shape", [(6, 6), (7, 9, 3)])
@pytest.mark.parametrize("window,stride", [(2, 2), (3, 1), (3, 2)])
def test_pool2d_matches_framework_pooling(shape, window, stride):
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    for mode in ("max", "min", "avg"):
        ours = checks.pool2d(x, window, stride, mode)
        np.testing.assert_allclose(ours, checks.torch_pool(x, window, stride, mode), rtol=1e-5)
        np.testing.assert_allclose(ours, checks.keras_pool(x, window, stride, mode), rtol=1e-5)
    assert checks.pool2d(x, window, stride).shape[:2] == tuple(
        checks.conv_output_size(n, window, 0, stride) for n in shape[:2])


def test_min_pool_is_not_max_pool():
    x = np.array([[1, 2], [3, 4]])
    assert checks.pool2d(x, 2, mode="max").item() == 4
    assert checks.pool2d(x, 2, mode="min").item() == 1
    assert checks.pool2d(x, 2, mode="avg").item() == 2.5


CASES = [(32, 5, 0, 1), (28, 3, 1, 1), (28, 3, 1, 2), (227, 11, 0, 4), (7, 2, 0, 2)]


def test_compare_function_passes_a_right_answer():
    def conv_output_size(n, f, p, s):
        return int((n + 2 * p - f) / s) + 1
    assert checks.compare_function(conv_output_size, checks.conv_output_size, CASES) == len(CASES)


def test_compare_function_names_the_first_failing_case():
    def conv_output_size(n, f, p, s):  # forgets the padding
        return (n - f) // s + 1
    with pytest.raises(CheckFailed, match=r"conv_output_size\(28, 3, 1, 1\) returned 26, expected 28"):
        checks.compare_function(conv_output_size, checks.conv_output_size, CASES)


def test_compare_function_catches_ceil_and_hides_expected_when_private():
    def conv_output_size(n, f, p, s):
        return math.ceil((n + 2 * p - f) / s) + 1
    with pytest.raises(CheckFailed) as err:
        checks.compare_function(conv_output_size, checks.conv_output_size, CASES, reveal=False)
    msg = str(err.value)
    assert "conv_output_size(28, 3, 1, 2) returned 15" in msg
    assert "expected" not in msg and "14" not in msg


def test_compare_function_reports_float_results_and_exceptions():
    def half(n, f, p, s):
        return (n + 2 * p - f) / s + 1
    with pytest.raises(CheckFailed, match=r"returned 14\.5, expected 14"):
        checks.compare_function(half, checks.conv_output_size, [(28, 3, 1, 2)])

    def broken(n, f, p, s):
        raise NotImplementedError("todo")
    with pytest.raises(CheckFailed, match=r"conv_params\(3, 3, 1, 32\) raised NotImplementedError"):
        checks.compare_function(broken, checks.conv_params, [(3, 3, 1, 32)], name="conv_params")


def test_compare_function_on_pooling_arrays():
    x = np.arange(16.0).reshape(4, 4)

    def max_pool(x, window, stride):  # right
        return checks.pool2d(x, window, stride, "max")

    def min_pool_wrong(x, window, stride):  # max instead of min
        return checks.pool2d(x, window, stride, "max")

    ref_min = lambda x, w, s: checks.pool2d(x, w, s, "min")  # noqa: E731
    assert checks.compare_function(max_pool, lambda x, w, s: checks.pool2d(x, w, s), [(x, 2, 2)]) == 1
    with pytest.raises(CheckFailed, match=r"min_pool_wrong\(\[\[ ?0\., +1\..*\], 2, 2\) returned \[\[ ?5\., +7\.\]"):
        checks.compare_function(min_pool_wrong, ref_min, [(x, 2, 2)])


def test_accuracy_reaches_passes_above_and_fails_below_the_threshold():
    import numpy as np
    labels = np.arange(1000) % 10
    assert checks.accuracy_reaches(0.95, labels, 0.9) == 0.95
    with pytest.raises(checks.CheckFailed, match=r"held-out accuracy 0\.100 on 1,000 held-out images is below 0\.90 .* chance"):
        checks.accuracy_reaches(0.10, labels, 0.9, what="held-out accuracy")


def test_fit_diagnosis_and_the_label_a_text_names():
    from autograder.checks.formulas import fit_diagnosis, fit_label
    assert fit_diagnosis({"accuracy": [0.5, 0.99], "val_accuracy": [0.5, 0.7]}) == "overfitting"
    assert fit_diagnosis({"accuracy": [0.3, 0.4], "val_accuracy": [0.3, 0.41]}) == "underfitting"
    assert fit_diagnosis({"accuracy": [0.8, 0.95], "val_accuracy": [0.8, 0.93]}) == "good fit"
    assert fit_label("The network is overfitting after epoch 3") == "overfitting"
    assert fit_label("It underfits") == "underfitting"
    assert fit_label("neither: a good fit") == "good fit"
    assert fit_label("not a good fit, it overfits") == "overfitting"
    assert fit_label("overfitting or underfitting") is None and fit_label("no idea") is None


@pytest.mark.parametrize("h, w, c, n, k", [(28, 28, 1, 128, 3), (32, 32, 3, 64, 5), (7, 7, 512, 16, 1)])
def test_dense_vs_conv_on_the_same_image_match_real_layers(h, w, c, n, k):
    from autograder.checks.formulas import conv_params_on_image, dense_params_on_image
    assert dense_params_on_image(h, w, c, n) == checks.keras_dense_params(h * w * c, n)
    assert conv_params_on_image(h, w, c, n, k) == checks.keras_conv_params(k, k, c, n)
    assert conv_params_on_image(2 * h, 2 * w, c, n, k) == conv_params_on_image(h, w, c, n, k)   # size-free
