"""The ``embedlab`` command line.

    embedlab run CONFIG [KEY=VALUE ...] [--out DIR] [--retry-failed] [--executor local|processes|ray --workers N]
                 [--ray-address ADDR --cpus-per-task N] [--mlflow URI]
    embedlab report OUTDIR [--metric accuracy|macro_f1]
    embedlab status OUTDIR
    embedlab compare OUTDIR OUTDIR [...] [--out DIR]
    embedlab claims CLAIMS_FILE                 (docs/claims.yaml: RESULTS.md's claims, evaluated)
    embedlab export OUTDIR --run RUN_ID [--to DIR]
    embedlab predict MODEL_DIR [TEXT ...] [--file F [--column text]] [--out CSV]
    embedlab models
    embedlab validate CONFIG [CONFIG ...] [KEY=VALUE ...]
    embedlab data list | info ID | fetch ID ... | --all
    embedlab vectors list | info ID | fetch ID ... | --all
    embedlab pretrain w2v:CORPUS:sg|cbow:DIM [--window N --epochs N ...]
"""

from __future__ import annotations

import argparse
import sys

# Only light modules at the top: SIGTERM is handled from the first line of main(), and a signal that
# came while pandas and TensorFlow were still importing must end like one that came later.
from embedlab.experiments import commands
from embedlab.experiments.commands import EXIT_BAD_INPUT


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: at least 1 worker is needed")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="embedlab", description=__doc__.split("\n")[0] + " "
                                     "Learned vs pretrained word embeddings for text classification.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run every unfinished run of a config, then print the report")
    run.add_argument("config", help="YAML experiment config")
    run.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                     help="settings that replace the file's, validated like it: training.max_epochs=5 "
                          "'grid.seed=[1,2]' data.subsample=500; 'variants=[a,b]' keeps only those variants")
    run.add_argument("--out", help="output directory (default: results/<config name>)")
    run.add_argument("--retry-failed", action="store_true", help="re-run runs recorded as failed")
    run.add_argument("--reuse", nargs="+", metavar="OUTDIR", default=None,
                     help="copy finished runs with the same run id (same settings and data) from these output "
                          "folders instead of training them")
    run.add_argument("--new-settings", action="store_true",
                     help="the output folder holds runs of other settings: record this config's there too "
                          "(report and status then show only its runs); without it such a run is refused")
    run.add_argument("--executor", choices=["local", "processes", "ray"], default="processes",
                     help="processes (default): --workers worker processes; local: one run after another "
                          "in this process; ray: one Ray task per run. Results are identical.")
    run.add_argument("--workers", type=_positive_int, default=None,
                     help="worker processes for --executor processes (default: cores // training.threads)")
    run.add_argument("--ray-address", default=None,
                     help="Ray cluster to join (auto, ray://head:10001); default: start a local instance")
    run.add_argument("--cpus-per-task", type=int, default=None,
                     help="CPUs a Ray task declares (default: training.threads)")
    run.add_argument("--mlflow", metavar="URI", default=None,
                     help="also log runs to this MLflow tracking store, e.g. sqlite:///mlflow.db")
    run.add_argument("--tensorboard", metavar="DIR", default=None,
                     help="also write each run's per-epoch scalars for TensorBoard, one sub-folder per run "
                          "(tensorboard --logdir DIR)")
    run.set_defaults(handler=commands.cmd_run)

    compare = sub.add_parser("compare", help="one table over several output folders, paired where runs match")
    compare.add_argument("outdirs", nargs="+", metavar="OUTDIR")
    compare.add_argument("--metric", default="accuracy", choices=["accuracy", "macro_f1"])
    compare.add_argument("--out", help="where compare.md/.csv/.html go (default: results/compare_A_vs_B)")
    compare.set_defaults(handler=commands.cmd_compare)

    claims = sub.add_parser("claims", help="evaluate declared claims (docs/claims.yaml) on recorded runs; "
                                         "names any archive beside a claim's that holds its runs on more seeds")
    claims.add_argument("claims_file")
    claims.set_defaults(handler=commands.cmd_claims)

    export = sub.add_parser("export", help="write a recorded run's model folder (retrained if not kept)")
    export.add_argument("outdir")
    export.add_argument("--run", help="run id, or a unique prefix (without it: the finished runs are listed)")
    export.add_argument("--to", help="model folder to write (default: OUTDIR/models/RUN_ID)")
    export.set_defaults(handler=commands.cmd_export)

    predict = sub.add_parser("predict", help="classify new texts with a model folder")
    predict.add_argument("model_dir", help="a folder written by `embedlab export` (or a run folder with model/)")
    predict.add_argument("texts", nargs="*", help="texts to classify")
    predict.add_argument("--file", help="texts from a .txt (one per line), .csv, .tsv or .jsonl file")
    predict.add_argument("--column", default=None, help="the text column of --file (default: text)")
    predict.add_argument("--out", help="write label, confidence and unknown share as CSV here")
    predict.set_defaults(handler=commands.cmd_predict)

    models = sub.add_parser("models", help="list the model families and their settings")
    models.set_defaults(handler=commands.cmd_models)

    report = sub.add_parser("report", help="print the comparison table of an output directory")
    report.add_argument("outdir")
    report.add_argument("--metric", default="accuracy", choices=["accuracy", "macro_f1"])
    report.add_argument("--no-files", action="store_true",
                        help="only print the Markdown; by default OUTDIR/report/ also gets report.md, a "
                             "self-contained report.html, CSV and LaTeX tables and PNG figures")
    report.set_defaults(handler=commands.cmd_report)

    status = sub.add_parser("status", help="finished / failed / running / pending runs per grid axis")
    status.add_argument("outdir")
    status.set_defaults(handler=commands.cmd_status)

    validate = sub.add_parser("validate", help="check configs without running anything")
    validate.add_argument("configs", nargs="+", metavar="CONFIG or KEY=VALUE",
                          help="configs to check, and KEY=VALUE overrides applied to each")
    validate.set_defaults(handler=commands.cmd_validate)

    pretrain = sub.add_parser("pretrain", help="train word2vec with gensim: w2v:CORPUS:sg|cbow:DIM")
    pretrain.add_argument("vectors_id", help="e.g. w2v:wikitext2:sg:100 or w2v:/path/corpus.txt:cbow:50")
    from dataclasses import asdict

    from embedlab.data.word2vec import Word2VecParams

    for name, default in asdict(Word2VecParams()).items():  # the one statement of the defaults
        pretrain.add_argument(f"--{name.replace('_', '-')}", type=int, default=default,
                              help=f"gensim Word2Vec {name} (default {default})")
    pretrain.set_defaults(handler=commands.cmd_pretrain)

    for kind in ("data", "vectors"):
        group = sub.add_parser(kind, help=f"list, describe or prefetch {kind if kind == 'vectors' else 'datasets'}")
        actions = group.add_subparsers(dest="action", required=True)
        actions.add_parser("list")
        info = actions.add_parser("info")
        info.add_argument("ids", nargs="+")
        fetch = actions.add_parser("fetch")
        fetch.add_argument("ids", nargs="*")
        fetch.add_argument("--all", action="store_true")
        group.set_defaults(handler=commands.cmd_registry, kind=kind)
    return parser


def _stop_on_sigterm() -> None:
    """SIGTERM (``kill``, a scheduler's stop) ends a command like Ctrl-C: workers stopped, claims
    released, one message, instead of dying mid-write with leaked semaphores."""
    import signal
    import threading

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    _stop_on_sigterm()
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("embedlab: interrupted; finished runs are saved and claims released, run the same command to resume",
              file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    from embedlab.data.fetch import FetchError
    from embedlab.data.kim2014 import DataFileError
    from embedlab.experiments.config import ConfigError
    from embedlab.experiments.running.runner import SettingsChangedError
    from embedlab.experiments.running.store import StoreError
    from embedlab.experiments.running.tracking import MissingDependencyError

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # KEY=VALUE overrides may also follow options (`run CONFIG --out X training.max_epochs=5`),
    # which argparse leaves over once the positional list has been read.
    overrides = [item for item in extra if "=" in item and not item.startswith("-")]
    if extra and (len(overrides) < len(extra) or args.command not in ("run", "validate")):
        parser.error("unrecognized arguments: " + " ".join(item for item in extra if item not in overrides))
    if overrides:
        target = "overrides" if args.command == "run" else "configs"
        setattr(args, target, list(getattr(args, target)) + overrides)
    try:
        return args.handler(args)
    except (ConfigError, DataFileError, FetchError, MissingDependencyError, SettingsChangedError,
            StoreError) as exc:
        print(f"embedlab: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # a folder that cannot be written, a full disk, a file that went away
        where = exc.filename or "embedlab"
        print(f"embedlab: error: {where}: {exc.strerror or exc}. Runs recorded so far are kept; fix this and run "
              "the same command again to resume", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
