"""Running grids: the runner and its executors, one run's data preparation and training, the SQLite
store of results, MLflow tracking, provenance, and the model folder a run may keep.

Depends on :mod:`embedlab.experiments.config`, :mod:`embedlab.models` and :mod:`embedlab.data`
only; reporting and serving read what it writes.
"""
