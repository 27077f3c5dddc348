"""Datasets and weights: a hash-pinned manifest, verified cached downloads, offline provisioning,
and the data each grading profile serves (:mod:`.served`)."""
