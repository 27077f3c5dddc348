"""Modules read from an exported layer graph (untrusted data): Inception modules and their branches.

An Inception module is a concatenation of at least four parallel branches that fork from one
tensor: a 1x1 convolution, a pooling branch (usually followed by a 1x1 projection) and at least two
branches with larger square kernels (v1: 1x1 -> 3x3 and 1x1 -> 5x5; torchvision's GoogLeNet uses two
3x3 branches, v2/v3 factorise the 5x5 into two 3x3).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

MAX_NODES = 5000


@dataclass
class Branch:
    fork: str | None
    ops: list[tuple[str, tuple[int, ...]]]     # (op, kernel) from the fork's side to the join

    @property
    def kernels(self) -> list[int]:
        """Sizes of the square convolutions (a 3x1 or 1x7 kernel is none of 1x1, 3x3, 5x5: size 0)."""
        return [(k[0] if k[0] == k[-1] else 0) for op, k in self.ops if op == "conv" and k]

    @property
    def pooled(self) -> bool:
        return any(op == "pool" for op, _ in self.ops)

    def describe(self) -> str:
        parts = [f"{k[0]}x{k[-1]} conv" if op == "conv" and k else "conv" if op == "conv" else "pool"
                 for op, k in self.ops if op in ("conv", "pool")]
        return " -> ".join(parts) or "identity"


def _nodes(graph: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    nodes = {}
    for node in (graph.get("nodes") or [])[:MAX_NODES]:
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            kernel = node.get("kernel")
            kernel = tuple(int(k) for k in kernel[:2]) if isinstance(kernel, list) and all(
                isinstance(k, int) and not isinstance(k, bool) for k in kernel[:2]) else ()
            inputs = [i for i in (node.get("inputs") or []) if isinstance(i, str)]
            nodes[node["id"]] = {"op": str(node.get("op")), "kernel": kernel, "inputs": inputs}
    return nodes


def _branch(start: str, nodes: dict[str, dict[str, Any]], consumers: dict[str, int]) -> Branch:
    """Walk back from a join's input to the tensor the branches fork from (consumed more than once)."""
    ops: list[tuple[str, tuple[int, ...]]] = []
    current = start
    for _ in range(len(nodes) + 1):
        if consumers.get(current, 0) > 1:          # the fork (at once: the fork joined as it is)
            return Branch(current, ops[::-1])
        node = nodes.get(current)
        if node is None:
            break
        ops.append((node["op"], node["kernel"]))
        if len(node["inputs"]) != 1:
            break
        current = node["inputs"][0]
    return Branch(None, ops[::-1])


def _is_inception(branches: list[Branch]) -> bool:
    if len(branches) < 4 or len({b.fork for b in branches}) != 1 or branches[0].fork is None:
        return False
    one = any(b.kernels and set(b.kernels) == {1} and not b.pooled for b in branches)
    pool = any(b.pooled for b in branches)
    wide = [b for b in branches if not b.pooled and b.kernels and max(b.kernels) >= 3 and 0 not in b.kernels]
    return one and pool and len(wide) >= 2


def inception_modules(graph: Mapping[str, Any]) -> tuple[list[list[Branch]], list[list[Branch]]]:
    """(Inception modules found, other concatenations) as lists of their branches."""
    nodes = _nodes(graph)
    consumers: dict[str, int] = {}
    for node in nodes.values():
        for i in node["inputs"]:
            consumers[i] = consumers.get(i, 0) + 1
    modules, others = [], []
    for node in nodes.values():
        if node["op"] != "concat":
            continue
        branches = [_branch(i, nodes, consumers) for i in node["inputs"]]
        (modules if _is_inception(branches) else others).append(branches)
    return modules, others
