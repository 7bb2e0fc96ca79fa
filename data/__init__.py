"""Datasets, pretrained vectors, fetching, tokenising and vocabularies.

Everything downloaded or derived lives in the cache (``$EMBEDLAB_HOME``, default
``~/.cache/embedlab``), never in the repository.
"""
