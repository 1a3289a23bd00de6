"""The XLSX files the hub writes: error reports and upload templates."""
