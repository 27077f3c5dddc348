"""Fingerprints of answers and their pairwise similarity (copydetect's token filter, k-grams, winnowing).

An answer's canonical text (:mod:`.normalise`) is tokenised by copydetect's filter, which replaces every
name by one symbol and drops comments and whitespace; its k-grams are hashed and winnowed. Fingerprints
of the release template and fingerprints found in (almost) every answer to the question are ignored.
Similarity of a pair = the mean of the share of each answer's fingerprints found in the other.
"""
from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from copydetect import compare_files
from copydetect.utils import filter_code, get_token_coverage, hashed_kgrams, winnow

from .normalise import Canonical, Span

K = 25                 # k-gram length in filtered tokens (copydetect's noise threshold)
GUARANTEE = 30         # any shared run of this many tokens is found (copydetect's guarantee threshold)
WINDOW = GUARANTEE - K + 1
COMMON_SHARE = 0.9     # fingerprints in at least this share of the answers count as common code ...
COMMON_MIN = 10        # ... once a question has at least this many answers
MIN_TOKENS = 100       # an answer with fewer tokens of its own (beyond the template) is too short to compare


@dataclass
class Fingerprint:
    """One answer: its canonical text, where each part of it came from, and its fingerprints.

    Has the attributes :func:`copydetect.compare_files` reads (``k``, ``hashes``, ``hash_idx``,
    ``filtered_code``, ``token_coverage``, ``offsets``)."""
    text: str
    spans: list[tuple[int, Span]]          # (cell index, span in ``text``)
    parsed: bool
    filtered_code: str
    offsets: np.ndarray
    all_hashes: np.ndarray                 # every selected k-gram hash, in order
    positions: np.ndarray                  # their positions in ``filtered_code``
    k: int = K
    hashes: set[int] = field(default_factory=set)
    hash_idx: dict[int, list[int]] = field(default_factory=dict)
    token_coverage: float = 0.0

    def drop(self, ignored: set[int]) -> None:
        """Keep only the fingerprints not in *ignored* (template and common code)."""
        self.hash_idx = {}
        for value, pos in zip(self.all_hashes.tolist(), self.positions.tolist()):
            if value not in ignored:
                self.hash_idx.setdefault(value, []).append(pos)
        self.hashes = set(self.hash_idx)
        self.token_coverage = float(get_token_coverage(self.hash_idx, self.k, len(self.filtered_code)))


def fingerprint(cells: list[Canonical]) -> Fingerprint:
    """The fingerprint of one answer made of the canonical texts of its cells."""
    text, spans, start = "", [], 0
    for index, cell in enumerate(cells):
        spans += [(index, Span(s.start + start, s.end + start, s.first, s.last)) for s in cell.spans]
        text += cell.text + "\n"
        start = len(text)
    filtered, offsets = filter_code(text, "answer.py", "python")
    if len(offsets):     # copydetect records a wrong offset after a class name; offsets only grow
        offsets[:, 1] = np.maximum.accumulate(offsets[:, 1])
    hashes = hashed_kgrams(filtered, K) if len(filtered) >= K else np.array([], dtype=np.int64)
    selected, positions = winnow(hashes, WINDOW, remove_duplicates=False) if len(hashes) else (hashes, hashes)
    fp = Fingerprint(text, spans, all(c.parsed for c in cells), filtered, offsets,
                     np.asarray(selected, dtype=np.int64), np.asarray(positions, dtype=np.int64))
    fp.drop(set())
    return fp


def common_hashes(fps: list[Fingerprint]) -> set[int]:
    """Fingerprints found in at least ``COMMON_SHARE`` of the answers (none when there are few answers)."""
    if len(fps) < COMMON_MIN:
        return set()
    counts = Counter(h for fp in fps for h in fp.hashes)
    return {h for h, n in counts.items() if n >= COMMON_SHARE * len(fps)}


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    similarity: float      # mean of a_in_b and b_in_a
    a_in_b: float          # share of a's fingerprints found in b
    b_in_a: float
    shared: int            # fingerprints in common
    method: str            # "ast": both answers parsed and canonicalised; "tokens": one kept as written


def pairs(fps: dict[str, Fingerprint], written: dict[str, Fingerprint] | None = None) -> list[Pair]:
    """Every pair of answers, most similar first; a pair with an answer that did not parse is compared
    on the fingerprints of both answers as written (*written*)."""
    out = []
    for a, b in itertools.combinations(sorted(fps), 2):
        parsed = fps[a].parsed and fps[b].parsed
        ha, hb = (fps[a].hashes, fps[b].hashes) if parsed or written is None else (written[a].hashes, written[b].hashes)
        shared = len(ha & hb)
        a_in_b = shared / len(ha) if ha else 0.0
        b_in_a = shared / len(hb) if hb else 0.0
        out.append(Pair(a, b, (a_in_b + b_in_a) / 2, a_in_b, b_in_a, shared, "ast" if parsed else "tokens"))
    return sorted(out, key=lambda p: (-p.similarity, p.a, p.b))


Lines = set[tuple[int, int]]      # (cell index, line number)


def shared_lines(a: Fingerprint, b: Fingerprint, threshold: float = 0.5) -> tuple[Lines, Lines]:
    """(cell index, line) of each answer that a fragment shared with the other covers.

    A statement's lines are marked when at least *threshold* of its own characters (those of its
    nested statements excluded) lie in shared fragments."""
    _, _, (slices_a, slices_b) = compare_files(a, b)
    return _lines(a, slices_a, threshold), _lines(b, slices_b, threshold)


def _lines(fp: Fingerprint, slices: np.ndarray, threshold: float) -> Lines:
    size = len(fp.text)
    shared = np.zeros(size, dtype=bool)
    if slices.ndim == 2:
        for start, end in zip(slices[0].tolist(), slices[1].tolist()):
            shared[max(0, int(start)):min(size, int(end))] = True
    owner = np.full(size, -1)
    for i, (_, span) in enumerate(fp.spans):        # nested statements come after their parents
        owner[span.start:span.end] = i
    visible = np.array([not c.isspace() for c in fp.text], dtype=bool)
    lines: Lines = set()
    for i, (cell, span) in enumerate(fp.spans):
        own = (owner == i) & visible
        if own.any() and (shared & own).sum() >= threshold * own.sum():
            lines |= {(cell, n) for n in range(span.first, span.last + 1)}
    return lines
