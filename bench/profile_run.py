"""Where one kim_mr run's time goes, phase by phase (issue: "profile a kim_mr run again").

    .venv/bin/python bench/profile_run.py [--embedding non-static] [--batching bucketed]

Trains MR fold 0 with the suite's code path (train.train_run) and Keras callbacks that time each
epoch's training steps, its dev-set evaluation, and the weight copies of restore_best_weights; prints
a table. One TF thread, like a grid worker.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedding", default="non-static")
    parser.add_argument("--batching", default="bucketed", choices=["bucketed", "fixed"])
    args = parser.parse_args()

    from embedlab.experiments.running import prepare, train
    from embedlab.experiments.config import ExperimentConfig
    from embedlab.models import import_keras_quietly

    keras = import_keras_quietly()
    train.configure_threads(1)
    config = ExperimentConfig.model_validate({
        "name": "profile", "data": {"dataset": "mr", "protocol": "cv"}, "vectors": "glove-6b-50d",
        "training": {"batching": args.batching}, "grid": {"embedding": [args.embedding], "fold": [0]}})
    run = config.runs()[0]
    marks: dict[str, list[float]] = {"train": [], "dev": []}
    clock: dict[str, float] = {}

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            clock["epoch"] = time.perf_counter()

        def on_test_begin(self, logs=None):
            clock["test"] = time.perf_counter()
            marks["train"].append(clock["test"] - clock["epoch"])

        def on_test_end(self, logs=None):
            marks["dev"].append(time.perf_counter() - clock["test"])

    original_fit = keras.Model.fit

    def fit_with_timer(self, *a, callbacks=(), **k):
        return original_fit(self, *a, callbacks=[Timer(), *callbacks], **k)

    keras.Model.fit = fit_with_timer
    started = time.perf_counter()
    prepared = prepare.prepare_split(run)
    prepare_seconds = time.perf_counter() - started
    result = train.train_run(run, prepared)
    total = time.perf_counter() - started
    t = result.timings
    epochs = len(marks["train"])
    steady = sorted(marks["train"][1:])[len(marks["train"][1:]) // 2] if epochs > 1 else marks["train"][0]
    rows = [("load + tokenise MR, split, vocabulary, matrix (a worker's later runs reuse the tokens: ~0.1 s)",
             prepare_seconds),
            ("build + compile the model", t["build_seconds"]),
            ("first epoch's extra time (tracing train and eval functions)", marks["train"][0] - steady),
            (f"training steps, {epochs} epochs", sum(marks["train"]) - (marks["train"][0] - steady)),
            (f"dev-set evaluation, {epochs} times", sum(marks["dev"])),
            ("fit total (incl. callbacks, restore_best_weights)", t["fit_seconds"]),
            ("test-set prediction", t["predict_seconds"])]
    print(f"MR fold 0, cnn {args.embedding}, {args.batching} batches, {epochs} epochs "
          f"(best {result.best_epoch}), accuracy {result.accuracy:.4f}\n")
    print("| phase | seconds | share of the run |\n|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {seconds / total * 100:.1f}% |")
    other = t["fit_seconds"] - sum(marks["train"]) - sum(marks["dev"])
    print(f"| fit minus steps and evaluation (callbacks, weight copies, iterator set-up) | {other:.2f} "
          f"| {other / total * 100:.1f}% |")
    print(f"| whole run | {total:.2f} | 100% |")


if __name__ == "__main__":
    main()
