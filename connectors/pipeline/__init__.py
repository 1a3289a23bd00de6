"""The ingest pipeline: parse, key and load one batch, all-or-nothing, with partial
acceptance, progress and source-row fingerprints."""
