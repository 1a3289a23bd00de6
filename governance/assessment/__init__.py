"""考核: the sharing authority's assessment of each department's data sharing.

``periods`` (month, quarter, year), ``registry`` (indicators, weights, the score),
``indicators`` (the five built in), ``selectors`` (a period's table, the trend),
``report`` (the XLSX the 考核 office sends), ``views``/``api`` (the page, the export, the
endpoint). Formulas and weights: docs/GOVERNANCE.md.
"""
