"""What each ``embedlab`` command does (the parser and the error handling are in :mod:`.cli`).
Each handler takes the parsed arguments and returns the exit code."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

EXIT_OK, EXIT_RUNS_FAILED, EXIT_BAD_INPUT, EXIT_RUNS_ELSEWHERE = 0, 1, 2, 3


def cmd_run(args) -> int:
    from embedlab.experiments.config import load_config
    from embedlab.experiments.reporting.report import report_markdown
    from embedlab.experiments.running.runner import held_elsewhere_line
    from embedlab.experiments.running.tuning import run_config

    config = load_config(args.config, args.overrides)
    outdir = Path(args.out) if args.out else Path("results") / config.name
    outcome = run_config(config, outdir, retry_failed=args.retry_failed, new_settings=args.new_settings, reuse=args.reuse,
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
        # the overrides belong to the grid: a hint without them would name another grid's runs
        retry = shlex.join(["embedlab", "run", args.config, *args.overrides, "--out", str(outdir), "--retry-failed"])
        print(f"embedlab: {outcome.failed_before} run(s) of this grid are recorded as failed and were not retried: "
              f"`embedlab status {outdir}` shows their errors; `{retry}` trains them again", file=sys.stderr)
    if outcome.held_elsewhere:
        print(f"embedlab: {held_elsewhere_line(outcome.held_elsewhere, outdir)}", file=sys.stderr)
    if outcome.failed or outcome.failed_before or outcome.lost:
        return EXIT_RUNS_FAILED
    return EXIT_RUNS_ELSEWHERE if outcome.held_elsewhere else EXIT_OK


def cmd_report(args) -> int:
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


def cmd_status(args) -> int:
    from embedlab.experiments.reporting.status import grid_status

    if not (Path(args.outdir) / "experiment.yaml").exists():
        print(f"embedlab: {args.outdir} holds no grid (no experiment.yaml); run a config with --out "
              f"{args.outdir} first", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(grid_status(args.outdir))
    return EXIT_OK


def cmd_compare(args) -> int:
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


def cmd_claims(args) -> int:
    from embedlab.experiments.config import ConfigError
    from embedlab.experiments.reporting.hypotheses import claims_markdown, evaluate, stronger_evidence

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
    for finding in stronger_evidence(Path(args.claims_file)):  # advice: the suite holds docs/claims.yaml to it
        print(f"embedlab: {finding}", file=sys.stderr)
    return EXIT_RUNS_FAILED if differ else EXIT_OK


def cmd_export(args) -> int:
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


def cmd_predict(args) -> int:
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


def cmd_models(args) -> int:
    from embedlab.models.registry import families

    print("| model | modes | settings (defaults) | what |\n|---|---|---|---|")
    for name, family in families().items():
        settings = ", ".join(f"{k}={v}" for k, v in dict(family.settings()).items())
        print(f"| {name} | {', '.join(family.modes)} | {settings} | {family.description} |")
    return EXIT_OK


def cmd_validate(args) -> int:
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


def cmd_registry(args) -> int:
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


def cmd_pretrain(args) -> int:
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
