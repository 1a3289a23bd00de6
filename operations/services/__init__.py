"""Writes of the operations view: sync, alert reconciliation, work orders, periodic checks."""
