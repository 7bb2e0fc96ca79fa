"""``embedlab status OUTDIR``: finished / failed / running / pending runs per grid axis, and time spent."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd

from embedlab.experiments.config import dataset_name, load_snapshot
from embedlab.experiments.running.store import ResultsStore

STATES = ("finished", "failed", "running", "pending")


def _grid(outdir: Path, store: ResultsStore) -> tuple[str, pd.DataFrame]:
    """The folder's config name and its runs (one row per run and variant) from the database; for
    folders of release <= 0.2, recomputed from experiment.yaml."""
    import yaml

    name = (yaml.safe_load((outdir / "experiment.yaml").read_text(encoding="utf-8")) or {}).get("name", outdir.name)
    grid = store.grid()
    if grid is not None:
        return name, grid
    config = load_snapshot(outdir / "experiment.yaml")
    return config.name, pd.DataFrame(
        [{"run_id": r.run_id, "variant": r.variant or "–", "dataset": dataset_name(r.data.dataset),
          "model": r.model_name, "embedding": r.embedding, "seed": r.seed, "fold": r.fold, "train_size": r.train_size}
         for runs in config.variant_runs().values() for r in runs])


def grid_status(outdir: str | Path) -> str:
    """A Markdown summary of an output directory's grid, from its database alone."""
    outdir = Path(outdir)
    store = ResultsStore(outdir)
    name, grid = _grid(outdir, store)
    recorded, running = store.statuses(), store.live_claims()
    frame = store.frame()
    frame = frame[frame["run_id"].isin(set(grid["run_id"]))]
    grid = grid.assign(state=[recorded.get(r) or ("running" if r in running else "pending") for r in grid["run_id"]])
    runs = grid.drop_duplicates("run_id")
    totals = Counter(runs["state"])
    seconds = float(frame["total_seconds"].fillna(0).sum()) if not frame.empty else 0.0
    lines = [f"## {name}: {len(runs)} runs: " + ", ".join(f"{totals[s]} {s}" for s in STATES),
             f"time spent in recorded runs: {seconds / 60:.1f} min", ""]
    # Per variant, every run the variant lists (a shared run counts in each), as the report groups them.
    for axis in ("variant", "dataset", "model", "embedding", "seed", "fold", "train_size"):
        counts: dict = defaultdict(Counter)
        for value, state in (grid if axis == "variant" else runs)[[axis, "state"]].itertuples(index=False):
            counts[None if pd.isna(value) else value][state] += 1
        if len(counts) < 2 and axis not in ("embedding",):
            continue
        lines += [f"| {axis} | " + " | ".join(STATES) + " |", "|---" * (len(STATES) + 1) + "|"]
        for value, by_state in counts.items():
            lines.append(f"| {value} | " + " | ".join(str(by_state[s]) for s in STATES) + " |")
        lines.append("")
    failed = frame[frame["status"] == "failed"] if not frame.empty else frame
    for row in failed.itertuples():
        first_line = (row.error or "").splitlines()[0] if row.error else ""
        lines.append(f"failed: {row.run_id} {row.model} {row.embedding} seed={row.seed}: {first_line}")
    return "\n".join(lines)
