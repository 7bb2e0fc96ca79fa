"""A results folder's finished runs as a table, and the names of the embedding conditions."""

from __future__ import annotations


import pandas as pd

from embedlab.experiments.reporting import compat
from embedlab.experiments.running.store import ResultsStore
from embedlab.models.family import EMBEDDING_MODES

CONDITION_ORDER = list(EMBEDDING_MODES)
CONDITION_TITLES = {"rand": "rand (std)", "static": "static (pre)", "non-static": "non-static (pre)",
                    "multichannel": "multichannel (pre)"}
GROUP_KEYS = ["variant", "dataset", "vectors", "model", "train_size"]


def finished_runs(outdir) -> pd.DataFrame:
    """Finished runs of the folder's current config, one row per run and config variant: a run that
    several variants share (same settings) appears under each. Rows of other settings the folder
    also holds (``run --new-settings``) are left out (see :func:`other_settings_runs`)."""
    store = ResultsStore(outdir)
    frame = store.frame()
    finished = frame[frame["status"] == "finished"].copy()
    grid = store.grid()
    if grid is not None:  # release 0.3+: the DB lists the current config's runs
        return finished.drop(columns=["variant"]).merge(grid[["run_id", "variant"]], on="run_id")
    membership = compat.variant_membership(outdir)
    if not membership:
        return finished.assign(variant="–")
    parts = [finished[finished["run_id"].isin(ids)].assign(variant=name) for name, ids in membership.items()]
    return pd.concat(parts, ignore_index=True) if parts else finished.assign(variant="–")


def other_settings_runs(frame: pd.DataFrame, grid: pd.DataFrame | None) -> int:
    """Recorded runs (``frame``, all rows) that are not runs of the folder's current config
    (``grid``; None for folders of release <= 0.2, which have no such list)."""
    return 0 if grid is None else int((~frame["run_id"].isin(set(grid["run_id"]))).sum())


def with_variant(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with a ``variant`` column ("–" where the config has no variants)."""
    return runs if "variant" in runs.columns else runs.assign(variant="–")
