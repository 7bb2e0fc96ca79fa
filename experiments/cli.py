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
import json
import sys
from pathlib import Path

from embedlab.data.fetch import FetchError
from embedlab.data.kim2014 import DataFileError

EXIT_OK, EXIT_RUNS_FAILED, EXIT_BAD_INPUT, EXIT_RUNS_ELSEWHERE = 0, 1, 2, 3


def _cmd_run(args) -> int:
    from embedlab.experiments.config import load_config
    from embedlab.experiments.reporting.report import report_markdown
    from embedlab.experiments.running.runner import held_elsewhere_line, run_grid

    config = load_config(args.config, args.overrides)
    outdir = Path(args.out) if args.out else Path("results") / config.name
    outcome = run_grid(config, outdir, retry_failed=args.retry_failed, new_settings=args.new_settings, reuse=args.reuse,
                       executor=args.executor,
                       workers=args.workers, ray_address=args.ray_address, cpus_per_task=args.cpus_per_task,
                       mlflow_uri=args.mlflow, tensorboard_dir=args.tensorboard)
    print(f"embedlab: {outcome.finished} finished, {outcome.failed} failed, {outcome.skipped} skipped "
          f"in {outcome.seconds / 60:.1f} min", file=sys.stderr)
    print(report_markdown(outdir))
    if outcome.lost:
        print(f"embedlab: {outcome.lost} run(s) were lost (their worker process or cluster node kept dying, "
              "retries included) and not recorded; run the same command again to train them", file=sys.stderr)
    if outcome.failed_before:
        print(f"embedlab: {outcome.failed_before} run(s) of this grid are recorded as failed and were not retried: "
              f"`embedlab status {outdir}` shows their errors; `embedlab run {args.config} --out {outdir} "
              "--retry-failed` trains them again", file=sys.stderr)
    if outcome.held_elsewhere:
        print(f"embedlab: {held_elsewhere_line(outcome.held_elsewhere, outdir)}", file=sys.stderr)
    if outcome.failed or outcome.failed_before or outcome.lost:
        return EXIT_RUNS_FAILED
    return EXIT_RUNS_ELSEWHERE if outcome.held_elsewhere else EXIT_OK


def _cmd_report(args) -> int:
    from embedlab.experiments.reporting.report import report_markdown
    from embedlab.experiments.running.store import DB_NAME, ResultsStore

    if not (Path(args.outdir) / DB_NAME).exists():
        print(f"embedlab: {args.outdir} has no {DB_NAME}; run a config with --out {args.outdir} first",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    ResultsStore(args.outdir).check()  # a damaged file is refused before OUTDIR/report/ is created
    if args.no_files:
        print(report_markdown(args.outdir, metric=args.metric))
        return EXIT_OK
    from embedlab.experiments.reporting.report import write_report

    folder = write_report(args.outdir, metric=args.metric)
    print((folder / "report.md").read_text(encoding="utf-8"))
    print(f"embedlab: wrote {folder}/report.md, report.html, summary.csv, summary.tex and figures",
          file=sys.stderr)
    return EXIT_OK


def _cmd_status(args) -> int:
    from embedlab.experiments.reporting.status import grid_status

    if not (Path(args.outdir) / "experiment.yaml").exists():
        print(f"embedlab: {args.outdir} holds no grid (no experiment.yaml); run a config with --out "
              f"{args.outdir} first", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(grid_status(args.outdir))
    return EXIT_OK


def _cmd_compare(args) -> int:
    from embedlab.experiments.reporting.compare import compare_folders, write_comparison
    from embedlab.experiments.running.store import DB_NAME

    for folder in args.outdirs:
        if not (Path(folder) / DB_NAME).exists():
            print(f"embedlab: {folder} has no {DB_NAME}; name output folders of `embedlab run`", file=sys.stderr)
            return EXIT_BAD_INPUT
    comparison = compare_folders(args.outdirs, metric=args.metric)
    print(comparison.markdown)
    out = Path(args.out) if args.out else Path("results") / ("compare_" + "_vs_".join(Path(d).name for d in args.outdirs))
    write_comparison(comparison, out)
    print(f"embedlab: wrote {out}/compare.md, compare.csv and compare.html", file=sys.stderr)
    return EXIT_OK


def _cmd_claims(args) -> int:
    from embedlab.experiments.config import ConfigError
    from embedlab.experiments.reporting.hypotheses import claims_markdown, evaluate

    try:
        evaluations = evaluate(Path(args.claims_file))
    except ConfigError:
        raise
    except ValueError as exc:  # a filter naming no column, or runs that do not pair up
        raise ConfigError(f"{args.claims_file}: {exc}") from None
    print(claims_markdown(evaluations))
    differ = [e for e in evaluations if e.claim.stated and e.claim.stated != e.verdict]
    for e in differ:
        print(f"embedlab: claim {e.claim.id}: RESULTS.md states {e.claim.stated}, the runs give {e.verdict}",
              file=sys.stderr)
    return EXIT_RUNS_FAILED if differ else EXIT_OK


def _cmd_export(args) -> int:
    from embedlab.experiments.serving.export import ExportError, export_run, finished_runs_table
    from embedlab.experiments.running.store import DB_NAME

    outdir = Path(args.outdir)
    if not (outdir / DB_NAME).exists():
        print(f"embedlab: {outdir} has no {DB_NAME}; name the output folder of `embedlab run`", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.run:
        print(f"embedlab: name a run with --run RUN_ID (a prefix is enough); finished runs, best first:\n"
              + finished_runs_table(outdir), file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        folder = export_run(outdir, args.run, args.to)
    except ExportError as exc:
        print(f"embedlab: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"embedlab: model written to {folder} (use: embedlab predict {folder} \"some text\")", file=sys.stderr)
    return EXIT_OK


def _read_texts(path: Path, column: str | None) -> list[str]:
    """Texts from a .txt file (one per line) or a CSV/TSV/JSON Lines file's column."""
    import pandas as pd

    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if path.suffix.lower() in (".txt", ""):
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    reader = {".csv": lambda p: pd.read_csv(p, dtype=str, keep_default_na=False),
              ".tsv": lambda p: pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False),
              ".jsonl": lambda p: pd.read_json(p, lines=True, dtype=False)}.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"{path}: unknown file type {path.suffix!r} (use .txt, .csv, .tsv or .jsonl)")
    frame = reader(path)
    column = column or "text"
    if column not in frame.columns:
        raise ValueError(f"{path}: no column {column!r} (columns: {', '.join(map(str, frame.columns))}); "
                         "name it with --column")
    return frame[column].astype(str).tolist()


def _cmd_predict(args) -> int:
    from embedlab.experiments.serving.model import ModelFolderError, load_model

    try:
        texts = list(args.texts) + (_read_texts(Path(args.file), args.column) if args.file else [])
    except ValueError as exc:
        print(f"embedlab: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not texts:
        print("embedlab: give texts to classify, or --file", file=sys.stderr)
        return EXIT_BAD_INPUT
    folder = Path(args.model_dir)
    if not (folder / "model.json").exists() and (folder / "model" / "model.json").exists():
        folder = folder / "model"  # a run folder of a grid that kept its models
    try:
        model = load_model(folder)
    except ModelFolderError as exc:
        print(f"embedlab: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    frame = model.predict_frame(texts)
    if args.out:
        frame.to_csv(args.out, index=False)
        print(f"embedlab: {len(frame)} predictions written to {args.out}", file=sys.stderr)
        return EXIT_OK
    print("| label | confidence | unknown tokens | text |\n|---|---|---|---|")
    for row in frame.itertuples():
        text = row.text if len(row.text) <= 80 else row.text[:77] + "..."
        print(f"| {row.label} | {row.confidence:.3f} | {row.unknown_share:.0%} | {text.replace('|', '/')} |")
    return EXIT_OK


def _cmd_models(args) -> int:
    from embedlab.models.registry import families

    print("| model | modes | settings (defaults) | what |\n|---|---|---|---|")
    for name, family in families().items():
        settings = ", ".join(f"{k}={v}" for k, v in dict(family.settings()).items())
        print(f"| {name} | {', '.join(family.modes)} | {settings} | {family.description} |")
    return EXIT_OK


def _cmd_validate(args) -> int:
    from embedlab.experiments.config import load_config

    overrides = [item for item in args.configs if "=" in item]
    from embedlab.data.user_data import describe_user_dataset
    from embedlab.experiments.config import UserDatasetConfig, load_user_data

    for path in (item for item in args.configs if "=" not in item):
        config = load_config(path, overrides)
        print(f"{path}: ok ({len(config.runs())} runs)" + (f" with {', '.join(config.overrides)}" if overrides else ""))
        for data in config.data_axis():
            if isinstance(data.dataset, UserDatasetConfig):
                print("  " + describe_user_dataset(load_user_data(data.dataset)))
    return EXIT_OK


def _registry(kind: str):
    if kind == "data":
        from embedlab.data import datasets as module

        return module.dataset_ids, module.dataset_card, module.dataset_cache_path, module.load_dataset
    from embedlab.data import vector_sets as module

    return module.vectors_ids, module.vectors_card, module.vectors_cache_path, module.load_vectors


def _listing(kind, ids, card, cache_path, load) -> str:
    """A Markdown table of the registry; measured counts where cached, else the card's expected ones."""
    if kind == "data":
        lines = ["| id | cached | examples | classes | tokens/text | protocol | what |", "|---|---|---|---|---|---|---|"]
        for item in ids():
            info = card(item)
            cached = cache_path(item).exists()
            counts = load(item).meta["counts"] if cached else info.expected_counts
            balance = " / ".join(f"{c} {counts[c]:,}" for c in info.classes if c in counts) or "?"
            total = f"{counts['total']:,}" if "total" in counts else "?"
            tokens = counts.get("mean_tokens", "")
            lines.append(f"| {item} | {'yes' if cached else 'no'} | {total} | {balance} | {tokens} "
                         f"| {info.protocol} | {info.name} |")
    else:
        lines = ["| id | cached | words | dim | what |", "|---|---|---|---|---|"]
        for item in ids():
            info = card(item)
            lines.append(f"| {item} | {'yes' if cache_path(item).exists() else 'no'} | {info.words:,} "
                         f"| {info.dim} | {info.name} |")
    return "\n".join(lines)


def _cmd_registry(args) -> int:
    ids, card, cache_path, load = _registry(args.kind)
    if args.action == "list":
        print(_listing(args.kind, ids, card, cache_path, load))
        return EXIT_OK
    wanted = ids() if getattr(args, "all", False) else args.ids
    if not wanted:
        print(f"embedlab: name at least one id, or --all (known: {', '.join(ids())})", file=sys.stderr)
        return EXIT_BAD_INPUT
    for item in wanted:
        if item not in ids():
            print(f"embedlab: unknown {args.kind} id {item!r}; known: {', '.join(ids())}", file=sys.stderr)
            return EXIT_BAD_INPUT
    for item in wanted:
        if args.action == "info":
            info = dict(card(item).__dict__)
            if args.kind == "data" and cache_path(item).exists():
                info["measured"] = load(item).meta
            info["cache"] = str(cache_path(item))
            print(json.dumps(info, indent=2, default=str))
        else:
            loaded = load(item)
            size = len(loaded) if args.kind == "data" else f"{len(loaded.words):,} words × {loaded.dim}"
            print(f"{item}: ready ({size}) at {cache_path(item)}")
    return EXIT_OK


def _cmd_pretrain(args) -> int:
    from embedlab.data.word2vec import (Word2VecParams, file_sentences, parse_w2v_id, train_word2vec,
                                        wikitext2_sentences)

    parsed = parse_w2v_id(args.vectors_id)
    if parsed is None or parsed[0] == "train":
        print(f"embedlab: error: {args.vectors_id!r} is not w2v:CORPUS:sg|cbow:DIM with CORPUS = wikitext2 "
              "or a text file (w2v:train:… is trained per run, inside a grid)", file=sys.stderr)
        return EXIT_BAD_INPUT
    corpus, algo, dim = parsed
    if corpus != "wikitext2" and not Path(corpus).is_file():
        print(f"embedlab: error: corpus {corpus!r}: no such file", file=sys.stderr)
        return EXIT_BAD_INPUT
    params = Word2VecParams(window=args.window, negative=args.negative, min_count=args.min_count,
                            epochs=args.epochs, seed=args.seed, workers=args.workers)
    sentences = wikitext2_sentences() if corpus == "wikitext2" else file_sentences(corpus)
    vectors = train_word2vec(sentences, algo, dim, params, corpus)
    print(f"{args.vectors_id}: {len(vectors.words):,} words × {vectors.dim} (use it as `vectors: "
          f"{args.vectors_id}` in a config; same settings → the cached vectors are reused)")
    return EXIT_OK


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
                          "'grid.seed=[1,2]' data.subsample=500")
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
    run.set_defaults(handler=_cmd_run)

    compare = sub.add_parser("compare", help="one table over several output folders, paired where runs match")
    compare.add_argument("outdirs", nargs="+", metavar="OUTDIR")
    compare.add_argument("--metric", default="accuracy", choices=["accuracy", "macro_f1"])
    compare.add_argument("--out", help="where compare.md/.csv/.html go (default: results/compare_A_vs_B)")
    compare.set_defaults(handler=_cmd_compare)

    claims = sub.add_parser("claims", help="evaluate declared claims (docs/claims.yaml) on recorded runs")
    claims.add_argument("claims_file")
    claims.set_defaults(handler=_cmd_claims)

    export = sub.add_parser("export", help="write a recorded run's model folder (retrained if not kept)")
    export.add_argument("outdir")
    export.add_argument("--run", help="run id, or a unique prefix (without it: the finished runs are listed)")
    export.add_argument("--to", help="model folder to write (default: OUTDIR/models/RUN_ID)")
    export.set_defaults(handler=_cmd_export)

    predict = sub.add_parser("predict", help="classify new texts with a model folder")
    predict.add_argument("model_dir", help="a folder written by `embedlab export` (or a run folder with model/)")
    predict.add_argument("texts", nargs="*", help="texts to classify")
    predict.add_argument("--file", help="texts from a .txt (one per line), .csv, .tsv or .jsonl file")
    predict.add_argument("--column", default=None, help="the text column of --file (default: text)")
    predict.add_argument("--out", help="write label, confidence and unknown share as CSV here")
    predict.set_defaults(handler=_cmd_predict)

    models = sub.add_parser("models", help="list the model families and their settings")
    models.set_defaults(handler=_cmd_models)

    report = sub.add_parser("report", help="print the comparison table of an output directory")
    report.add_argument("outdir")
    report.add_argument("--metric", default="accuracy", choices=["accuracy", "macro_f1"])
    report.add_argument("--no-files", action="store_true",
                        help="only print the Markdown; by default OUTDIR/report/ also gets report.md, a "
                             "self-contained report.html, CSV and LaTeX tables and PNG figures")
    report.set_defaults(handler=_cmd_report)

    status = sub.add_parser("status", help="finished / failed / running / pending runs per grid axis")
    status.add_argument("outdir")
    status.set_defaults(handler=_cmd_status)

    validate = sub.add_parser("validate", help="check configs without running anything")
    validate.add_argument("configs", nargs="+", metavar="CONFIG or KEY=VALUE",
                          help="configs to check, and KEY=VALUE overrides applied to each")
    validate.set_defaults(handler=_cmd_validate)

    pretrain = sub.add_parser("pretrain", help="train word2vec with gensim: w2v:CORPUS:sg|cbow:DIM")
    pretrain.add_argument("vectors_id", help="e.g. w2v:wikitext2:sg:100 or w2v:/path/corpus.txt:cbow:50")
    defaults = {"window": 5, "negative": 5, "min_count": 2, "epochs": 5, "seed": 1, "workers": 1}
    for name, default in defaults.items():
        pretrain.add_argument(f"--{name.replace('_', '-')}", type=int, default=default,
                              help=f"gensim Word2Vec {name} (default {default})")
    pretrain.set_defaults(handler=_cmd_pretrain)

    for kind in ("data", "vectors"):
        group = sub.add_parser(kind, help=f"list, describe or prefetch {kind if kind == 'vectors' else 'datasets'}")
        actions = group.add_subparsers(dest="action", required=True)
        actions.add_parser("list")
        info = actions.add_parser("info")
        info.add_argument("ids", nargs="+")
        fetch = actions.add_parser("fetch")
        fetch.add_argument("ids", nargs="*")
        fetch.add_argument("--all", action="store_true")
        group.set_defaults(handler=_cmd_registry, kind=kind)
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
    _stop_on_sigterm()
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
    except KeyboardInterrupt:
        print("embedlab: interrupted; finished runs are saved and claims released, run the same command to resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
