"""Bundled demo submissions, built from the source notebooks by named edits (``students.toml``)."""
