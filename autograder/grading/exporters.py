"""The feedback page's exporter: nbconvert's HTML exporter with its templates compiled once per
process. nbgrader makes a new exporter (and so a new Jinja environment) for every notebook; a
long-lived worker would compile the same templates again each time. Jinja checks each cached
template against its source's checksum, so an edited template is compiled afresh."""
from __future__ import annotations

from typing import Any

import jinja2
from nbconvert.exporters import HTMLExporter


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in this process (Jinja's own cache lives and dies with an environment)."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        self.store.clear()


COMPILED = _MemoryBytecodeCache()


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter (configured as ``HTMLExporter``), sharing :data:`COMPILED`."""

    def _create_environment(self) -> Any:
        environment = super()._create_environment()
        environment.bytecode_cache = COMPILED
        return environment
