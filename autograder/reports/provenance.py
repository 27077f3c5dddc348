"""Which profile and data a grading run used, as one human sentence."""

from __future__ import annotations

from collections.abc import Iterable


def data_served(results: Iterable[dict]) -> list[str]:
    """Distinct data descriptions served to the notebooks, in first-seen order."""
    seen: dict[str, None] = {}
    for result in results:
        for item in result.get("data_served") or []:
            if isinstance(item, dict):
                text = item.get("description") or item.get("dataset") or ""
            else:
                text = str(item)
            if text:
                seen.setdefault(str(text), None)
    return list(seen)


def run_note(profile: str, data: Iterable[str] = (), data_note: str | None = None) -> str:
    """E.g. ``Graded in the smoke profile: MNIST 5k subset ...; stand-ins are not the real datasets.``"""
    if data_note:
        return data_note
    parts = list(data)
    note = f"Graded in the {profile} profile"
    note += ": " + "; ".join(parts) if parts else "."
    if profile != "full":
        note = note.rstrip(".") + "; stand-ins and subsets are not the real full-size datasets, "
        note += "so scores are not comparable with a full-profile run."
    elif parts:
        note += "."
    return note
