"""Small data shared by test modules."""
import numpy as np


def quadrant_data(n=400, seed=0):
    """8x8 NHWC uint8 images whose class (0-3) is the bright quadrant: trivially learnable."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.integers(0, 60, (n, 8, 8, 1)).astype("uint8")
    for i, k in enumerate(y):
        r, c = divmod(int(k), 2)
        x[i, 4 * r:4 * r + 4, 4 * c:4 * c + 4] += 180
    return x, y
