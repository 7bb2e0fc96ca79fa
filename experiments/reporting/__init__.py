"""Reading finished grids: tables, report sections, analyses, statistics, published numbers, claims
as evaluated hypotheses, grid status, comparison of two folders, and the Markdown / HTML report.

Reads what :mod:`embedlab.experiments.running` recorded; nothing here trains.
"""
