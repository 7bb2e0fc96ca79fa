"""Reading runs that older releases recorded, in one place: what they did not store is re-derived
here (settings and run ids of older releases: :mod:`embedlab.experiments.config.compat`; the DB's
added columns: :meth:`embedlab.experiments.running.store.ResultsStore`)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from embedlab.experiments.config import DataConfig, RunSpec, load_snapshot
from embedlab.experiments.running.prepare import split_indices, tokenized_dataset


@lru_cache(maxsize=256)
def example_words_of_v01_run(config_text: str) -> pd.DataFrame:
    """Per test example of a run of release 0.1 (which did not record it): the training count of its
    rarest word (``rarest``) and the share of its words unseen in training (``unseen_share``),
    recomputed from the run's config (its ``config.yaml`` text) and dataset."""
    run = RunSpec.model_validate(yaml.safe_load(config_text))
    dataset, tokens = tokenized_dataset(run.data.dataset)
    fit, dev, test = split_indices(run, dataset.labels, dataset.split)
    counts: dict[str, int] = {}
    for i in np.concatenate([fit, dev]):
        for token in tokens[i]:
            counts[token] = counts.get(token, 0) + 1
    rows = []
    for i in test:
        frequencies = [counts.get(t, 0) for t in tokens[i]] or [0]
        rows.append({"index": int(i), "rarest": min(frequencies),
                     "unseen_share": sum(f == 0 for f in frequencies) / len(frequencies)})
    return pd.DataFrame(rows)


@lru_cache(maxsize=64)
def _dataset_token_counts(dataset_ref_json: str) -> dict[int, int]:
    _, tokens = tokenized_dataset(DataConfig.model_validate(json.loads(dataset_ref_json)).dataset)
    return {i: len(t) for i, t in enumerate(tokens)}


def token_counts_of_older_run(run_dir: Path, indices) -> list[int]:
    """Tokens per test example of a run recorded before release 0.3, from its dataset's tokenisation."""
    data = yaml.safe_load((Path(run_dir) / "config.yaml").read_text())["data"]
    counts = _dataset_token_counts(json.dumps({"dataset": data["dataset"]}, sort_keys=True))
    return [counts[int(i)] for i in indices]


def variant_membership(outdir) -> dict[str, set[str]]:
    """``variant → run ids`` of a folder of release 0.2 or earlier (its DB has no grid table), from
    OUTDIR/experiment.yaml ({} without variants)."""
    snapshot = Path(outdir) / "experiment.yaml"
    if not snapshot.exists():
        return {}
    config = load_snapshot(snapshot)
    if not config.variants:
        return {}
    return {name: {r.run_id for r in runs} for name, runs in config.variant_runs().items()}
