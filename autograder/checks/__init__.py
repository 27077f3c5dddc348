"""Checks called from the notebooks' visible and hidden tests, for Keras and PyTorch alike.

Every failing check raises :class:`CheckFailed` (an ``AssertionError``) whose message says what
was expected and what the answer produced. Frameworks are imported lazily: importing this
package imports neither Keras nor PyTorch.

Conventions: answers expose documented names (``model``, ``history``, ``test_accuracy``,
``train_time``, ...) found with :func:`require`; checks feed images as float32 in [0, 1].
"""

from .data import data_loader, directory_iterator, scaled_images
from .evaluate import (accuracy, accuracy_at_least, accuracy_reaches, history_metric, labels_of, matches_reported,
                       predict_labels, predict_scores, to_numpy, value_at_least)
from .feedback import CheckFailed, fmt_number, fmt_shape
from .formulas import (compare_function, conv_output_size, conv_params, dense_params, pool2d,
                       receptive_field, same_padding_output, valid_padding_output)
from .frameworks import framework_of, is_keras, is_torch
from .layers import (keras_conv_output, keras_conv_params, keras_dense_params, keras_pool,
                     torch_conv_output, torch_conv_params, torch_dense_params, torch_pool)
from .models import (conv_layers, count_params, forward_shape, frozen_vs_trainable, layer_kinds,
                     layer_sequence, output_shape, param_count, transfer_frozen)
from .names import expect_type, require

__all__ = [
    "data_loader", "directory_iterator", "scaled_images",
    "CheckFailed", "fmt_number", "fmt_shape",
    "require", "expect_type", "framework_of", "is_keras", "is_torch",
    "forward_shape", "output_shape", "count_params", "param_count", "frozen_vs_trainable",
    "transfer_frozen", "layer_kinds", "layer_sequence", "conv_layers",
    "predict_scores", "predict_labels", "labels_of", "to_numpy", "accuracy", "accuracy_at_least", "accuracy_reaches",
    "value_at_least", "matches_reported", "history_metric",
    "conv_output_size", "same_padding_output", "valid_padding_output", "conv_params",
    "dense_params", "receptive_field", "pool2d", "compare_function",
    "keras_conv_output", "torch_conv_output", "keras_conv_params", "torch_conv_params",
    "keras_dense_params", "torch_dense_params", "keras_pool", "torch_pool",
]
