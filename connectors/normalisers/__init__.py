"""Vectorised normalisers: each takes a pandas Series of strings and returns typed values
plus a boolean mask of cells it could not understand (never a Python loop per cell)."""
