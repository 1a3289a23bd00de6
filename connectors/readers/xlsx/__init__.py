"""The XLSX reader: archive checks, sheet extent, formulas, slices."""
