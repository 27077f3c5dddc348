"""pooling_lenet_alexnet Q2/Q4: the judge's pooling and output-size formulas agree with real Keras and
PyTorch layers on every case the hidden tests use, so grading itself needs no framework."""
import torch  # noqa: F401  -- torch before keras: the other order can crash

import numpy as np
import pytest

from autograder.checks import formulas
from autograder.judge import specs
from autograder.kernel import evidence

CASES = specs.POOL_HIDDEN + specs.POOL_VISIBLE


def _args(case):
    k, *rest = case["args"]
    s = rest[0] if rest and rest[0] else k
    p = rest[1] if len(rest) > 1 else 0
    return k, s, p


def test_the_kernel_draws_the_inputs_the_judge_draws():
    for case in CASES:
        x = evidence.random_input(case)
        assert x.shape == tuple(case["shape"])
        np.testing.assert_array_equal(x, formulas.random_tensor(case["shape"], case["seed"], case.get("ints", False)))


@pytest.mark.parametrize("mode", ["max", "min"])
def test_pooling_matches_torch_maxpool2d_with_padding(mode):
    for case in CASES:
        x = formulas.random_tensor(case["shape"], case["seed"], case.get("ints", False))
        k, s, p = _args(case)
        t = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
        pool = torch.nn.MaxPool2d(k, s, padding=p)
        y = (-pool(-t) if mode == "min" else pool(t)).numpy().transpose(0, 2, 3, 1)
        np.testing.assert_allclose(formulas.pool_nhwc(x, *case["args"], mode=mode), y, err_msg=str(case))


def test_pooling_matches_keras_maxpooling2d():
    import keras
    covered_same = 0
    for case in CASES:
        x = formulas.random_tensor(case["shape"], case["seed"], case.get("ints", False)).astype("float32")
        k, s, p = _args(case)
        n = x.shape[1]
        total = max((-(-n // s) - 1) * s + k - n, 0)
        if p == 0:
            mode = "valid"
        elif total == 2 * p and x.shape[1] == x.shape[2]:     # Keras 'same' pads p on each side here
            mode, covered_same = "same", covered_same + 1
        else:
            continue
        for kind in ("max", "min"):
            layer = keras.layers.MaxPooling2D(pool_size=k, strides=s, padding=mode)
            y = np.asarray(-layer(-x) if kind == "min" else layer(x))
            np.testing.assert_allclose(formulas.pool_nhwc(x, *case["args"], mode=kind), y, rtol=1e-6, err_msg=str(case))
    assert covered_same >= 2


def test_min_and_max_pooling_of_the_worked_example_differ():
    fmap = np.asarray(specs.FEATURE_MAP, dtype=float)[None, :, :, None]
    assert formulas.max_pool(fmap, 2, 2)[0, :, :, 0].tolist() == [[9, 9], [9, 9]]
    assert formulas.min_pool(fmap, 2, 2)[0, :, :, 0].tolist() == [[1, 1], [2, 1]]


def test_output_sizes_match_real_conv_layers():
    from autograder.checks import layers
    for n, f, s, pad in specs.SIZE_HIDDEN + specs.SIZE_VISIBLE:
        want = formulas.padded_output_size(n, f, s, pad)
        if pad == "valid":
            assert layers.torch_conv_output(n, f, 0, s) == want, (n, f, s, pad)
        elif s == 1:                                          # nn.Conv2d has padding='same' at stride 1 only
            assert layers.torch_conv_output(n, f, "same", s) == want, (n, f, s, pad)
    cases = specs.SIZE_HIDDEN + specs.SIZE_VISIBLE
    sample = [c for c in cases if c[3] == "same"][::2] + [c for c in cases if c[3] == "valid"][::2]
    assert {c[3] for c in sample} == {"same", "valid"}
    for n, f, s, pad in sample:                                          # Keras eager calls are slower: half
        assert layers.keras_conv_output(n, f, pad, s) == formulas.padded_output_size(n, f, s, pad), (n, f, s, pad)
    with pytest.raises(ValueError, match="same' or 'valid"):
        formulas.padded_output_size(28, 3, 1, "full")


def test_the_notebook_shows_the_feature_map_the_judge_pools(repo):
    import nbformat
    nb = nbformat.read(repo / "release" / "pooling_lenet_alexnet" / "01-pooling-padding.ipynb", 4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q2_example_map")
    scope = {}
    exec(cell.source, {"np": np}, scope)
    assert scope["feature_map"].tolist() == specs.FEATURE_MAP
