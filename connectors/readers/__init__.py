"""Readers: an uploaded file as chunks of string cells (CSV, JSON, XLSX)."""
