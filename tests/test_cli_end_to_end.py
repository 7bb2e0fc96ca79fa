"""The whole path through the CLI on 300 real MR sentences: run, DB rows, run dirs, report, resume."""

import pytest
import json
import sqlite3
import subprocess
import sys

from conftest import TINY_CONFIG

pytestmark = pytest.mark.slow  # trains models (see conftest: the fast tier)


def _embedlab(*args):
    return subprocess.run([sys.executable, "-m", "embedlab.experiments.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def test_run_report_and_resume(write_config, tmp_path):
    config, out = write_config(TINY_CONFIG), tmp_path / "out"
    first = _embedlab("run", config, "--out", out)
    assert first.returncode == 0, first.stderr
    assert "| model | rand (std) | static (pre) | non-static (pre) | runs |" in first.stdout

    with sqlite3.connect(out / "results.db") as db:
        rows = db.execute("SELECT run_id, status, embedding, accuracy, n_test, coverage_type_share, "
                          "git_commit, versions_json, config_json FROM runs").fetchall()
    assert len(rows) == 3 and {r[1] for r in rows} == {"finished"}
    assert {r[2] for r in rows} == {"rand", "static", "non-static"}
    for run_id, _, _, accuracy, n_test, coverage, _, versions, config_json in rows:
        assert 0 <= accuracy <= 1 and n_test == 60 and 0.8 < coverage <= 1
        assert "keras" in json.loads(versions) and json.loads(config_json)["seed"] == 1
        run_dir = out / "runs" / run_id
        assert {p.name for p in run_dir.iterdir()} == {"config.yaml", "metrics.json", "history.csv",
                                                       "predictions.csv"}
        assert json.loads((run_dir / "metrics.json").read_text())["accuracy"] == accuracy

    again = _embedlab("run", config, "--out", out)
    assert again.returncode == 0 and "3 already recorded, 0 to do" in again.stderr
    with sqlite3.connect(out / "results.db") as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 3

    report = _embedlab("report", out)
    assert report.returncode == 0 and "Pretrained-vector coverage" in report.stdout
    assert "| mr | glove-6b-50d | cnn | 1 | static | 1 |" in report.stdout  # paired gains, one seed
    assert report.stdout.count("| mr | glove-6b-50d | 1,") == 1  # one coverage row


def test_report_of_missing_directory_is_a_clear_error(tmp_path):
    result = _embedlab("report", tmp_path / "nothing")
    assert result.returncode == 2 and "has no results.db" in result.stderr


def test_three_class_dataset_with_suite_trained_word2vec(write_config, tmp_path, capsys):
    """Multi-class end to end: CrowdFlower tweets (3 classes), CV folds, boe + cnn, w2v on the train split."""
    from embedlab.experiments.cli import main

    config = write_config("""\
        name: three_class
        data: {dataset: crowdflower_tweets, protocol: cv, folds: 5, subsample: 400}
        vectors: w2v:train:sg:16
        word2vec: {epochs: 1, min_count: 1}
        model: {cnn: {num_filters: 4}}
        training: {max_epochs: 1}
        grid: {model: [boe, cnn], embedding: [rand, non-static], fold: [0]}
    """)
    out = tmp_path / "out"
    assert main(["run", str(config), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| boe |" in printed and "| cnn |" in printed and "w2v:train:sg:16" in printed
    with sqlite3.connect(out / "results.db") as db:
        rows = db.execute("SELECT fold, n_test, macro_f1, coverage_type_share FROM runs").fetchall()
    assert len(rows) == 4 and all(r[0] == 0 and r[1] == 80 and 0 <= r[2] <= 1 and r[3] > 0.2 for r in rows)
    predictions = (out / "runs").glob("*/predictions.csv")
    labels = {line.split(",")[1] for path in predictions for line in path.read_text().splitlines()[1:]}
    assert labels == {"0", "1", "2"}
