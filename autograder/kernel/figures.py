"""What each saved figure shows, recorded as it is saved (``Figure.savefig`` is wrapped by the hook).

Per saved file: its name, which figure object it was, and, per axes, the lines (label and
y-values), the number of images (``imshow`` panels) and the first image's size. Figure checks compare this with the history and the tensors; the judge also
opens the file itself.
"""
from __future__ import annotations

import functools
import os
from typing import Any

MAX_POINTS, MAX_AXES, MAX_SAVED = 2000, 400, 50
_saved: list[dict[str, Any]] = []


def _facts(figure: Any, fname: Any) -> dict[str, Any]:
    axes = []
    for ax in figure.get_axes()[:MAX_AXES]:
        lines = []
        for line in ax.get_lines()[:20]:
            try:
                y = [float(v) for v in list(line.get_ydata())[:MAX_POINTS]]
            except (TypeError, ValueError):
                y = []
            lines.append({"label": str(line.get_label())[:100], "y": y})
        images = ax.get_images()
        shape = None
        if images:
            try:
                shape = [int(d) for d in images[0].get_array().shape[:2]]
            except Exception:
                shape = None
        axes.append({"lines": lines, "images": len(images), "image_shape": shape, "title": str(ax.get_title())[:100]})
    name = os.path.basename(os.fspath(fname)) if isinstance(fname, (str, os.PathLike)) else None
    return {"file": name, "figure": id(figure), "axes": axes}


def track(figure_module: Any) -> None:
    cls = figure_module.Figure
    original = cls.savefig
    if getattr(original, "_autograder_tracked", False):
        return

    @functools.wraps(original)           # pyplot checks the qualname of what it wraps
    def savefig(self, fname, *args, **kwargs):
        result = original(self, fname, *args, **kwargs)
        try:
            if len(_saved) < MAX_SAVED:
                _saved.append(_facts(self, fname))
        except Exception:
            pass
        return result

    savefig._autograder_tracked = True
    cls.savefig = savefig


def saved() -> list[dict[str, Any]]:
    """Facts of every figure saved so far, oldest first."""
    return list(_saved)
