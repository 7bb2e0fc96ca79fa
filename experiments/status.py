"""``embedlab status OUTDIR``: finished / failed / running / pending runs per grid axis, and time spent."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from embedlab.experiments.config import dataset_name, load_snapshot
from embedlab.experiments.store import ResultsStore

STATES = ("finished", "failed", "running", "pending")


def grid_status(outdir: str | Path) -> str:
    """A Markdown summary of an output directory's grid."""
    outdir = Path(outdir)
    config = load_snapshot(outdir / "experiment.yaml")
    store = ResultsStore(outdir)
    recorded, running = store.statuses(), store.live_claims()
    frame = store.frame()
    runs = config.runs()
    state_of = {r.run_id: recorded.get(r.run_id) or ("running" if r.run_id in running else "pending")
                for r in runs}
    totals = Counter(state_of.values())
    seconds = float(frame["total_seconds"].fillna(0).sum()) if not frame.empty else 0.0
    lines = [f"## {config.name}: {len(runs)} runs: " + ", ".join(f"{totals[s]} {s}" for s in STATES),
             f"time spent in recorded runs: {seconds / 60:.1f} min", ""]
    # Per variant, every run the variant lists (a shared run counts in each), as the report groups them.
    by_variant = [run for listed in config.variant_runs().values() for run in listed]
    axes = {"variant": lambda r: r.variant, "dataset": lambda r: dataset_name(r.data.dataset), "model": lambda r: r.model_name,
            "embedding": lambda r: r.embedding, "seed": lambda r: r.seed, "fold": lambda r: r.fold,
            "train_size": lambda r: r.train_size}
    for axis, value_of in axes.items():
        counts: dict = defaultdict(Counter)
        for run in (by_variant if axis == "variant" else runs):
            counts[value_of(run)][state_of[run.run_id]] += 1
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
