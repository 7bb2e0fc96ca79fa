"""Keep, export and use a trained model: save → predict in a fresh process reproduces the run's
predictions.csv; a model not kept is retrained identically by export; a broken folder is one error."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from embedlab.experiments.running.model_folder import scale_probabilities

import embedlab

pytestmark = pytest.mark.slow  # trains models

GRID = """\
    name: keep
    data: {dataset: mr, protocol: holdout, test_fraction: 0.2, subsample: 800, split_seed: 0}
    vectors: glove-6b-50d
    model: {cnn: {num_filters: 16}, transformer: {ff_dim: 32, key_dim: 16}}
    training: {max_epochs: 4, patience: 2, save_model: true}
    grid: {model: [cnn, transformer], embedding: [static, non-static], seed: [1]}
"""


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keep")
    config = folder / "keep.yaml"
    config.write_text(GRID.replace("    ", "", 1).replace("\n    ", "\n"))
    frame = embedlab.run(config, folder / "out", executor="local", tensorboard=folder / "board")
    return folder, frame


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "embedlab.experiments.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def test_saved_models_reproduce_the_runs_predictions_in_a_fresh_process(kept, mr):
    folder, frame = kept
    assert len(frame) == 4 and (frame["status"] == "finished").all()
    assert "config.training.save_model" not in frame.columns  # not part of the run's identity
    assert (frame["accuracy"] > 0.55).all()  # learned something: predictions are not one class
    for run_id in frame["run_id"]:
        run_dir = folder / "out" / "runs" / run_id
        recorded = pd.read_csv(run_dir / "predictions.csv")
        texts = pd.DataFrame({"text": [mr.texts[i] for i in recorded["index"]]})
        texts.to_csv(folder / "texts.csv", index=False)
        done = _cli("predict", run_dir, "--file", folder / "texts.csv", "--column", "text", "--out", folder / "p.csv")
        assert done.returncode == 0, done.stderr
        predicted = pd.read_csv(folder / "p.csv")
        saved = embedlab.load_model(run_dir / "model")
        labels = saved.labels
        assert predicted["label"].tolist() == [labels[k] for k in recorded["predicted"]]
        # predictions.csv holds the run's raw float32 probabilities rounded to 5 decimals; predict
        # gives them temperature-scaled with the temperature fitted on the run's dev set (binary:
        # the other class has 1 - p)
        temperature = saved.manifest["temperature"]
        assert 0.05 <= temperature <= 20 and temperature != 1.0
        raw = recorded["confidence"].to_numpy(np.float64)
        expected = scale_probabilities(np.c_[raw, 1 - raw], temperature).max(axis=1)
        np.testing.assert_allclose(predicted["confidence"].to_numpy(), expected, atol=2e-4)


def test_export_retrains_a_model_that_was_not_kept(kept, mr):
    folder, frame = kept
    run_id = frame.loc[frame["embedding"] == "non-static", "run_id"].iloc[0]
    run_dir = folder / "out" / "runs" / run_id
    kept_model = embedlab.load_model(run_dir / "model")
    import shutil

    shutil.rmtree(run_dir / "model")  # as if the grid had run with save_model: false
    exported = embedlab.export(folder / "out", run_id[:8], folder / "exported")
    texts = ["a gripping, beautifully acted film", "dull and lifeless , a waste of time", "zyxwv qwerty"]
    again = embedlab.load_model(exported)
    np.testing.assert_array_equal(again.probabilities(texts), kept_model.probabilities(texts))
    unknown = [p.unknown_share for p in again.predict(texts)]
    assert unknown[2] == 1.0 and unknown[0] < 0.5
    done = _cli("predict", exported, *texts)
    assert done.returncode == 0 and done.stdout.count("\n| ") == 3, done.stderr


def test_a_broken_model_folder_is_one_clear_error(kept, tmp_path):
    import shutil

    folder, frame = kept
    broken = tmp_path / "broken"
    shutil.copytree(folder / "out" / "runs" / frame["run_id"].iloc[0] / "model", broken)
    with open(broken / "model.keras", "r+b") as handle:
        handle.truncate(1000)
    done = _cli("predict", broken, "some text")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [f"embedlab: error: {broken / 'model.keras'}: does not match its "
                                                 "checksum in model.json (changed or truncated); export the model again"]
    incomplete = tmp_path / "incomplete"
    shutil.copytree(folder / "out" / "runs" / frame["run_id"].iloc[0] / "model", incomplete)
    (incomplete / "vocab.txt").unlink()
    assert "vocab.txt: missing; the model folder is incomplete" in _cli("predict", incomplete, "x").stderr


def test_tensorboard_gets_one_folder_per_run_named_by_its_settings(kept):
    folder, frame = kept
    runs = sorted(p.name for p in (folder / "board").iterdir())
    assert len(runs) == 4 and any(name.startswith("mr_transformer_static_glove-6b-50d_seed1_") for name in runs)
    assert all(list((folder / "board" / name).rglob("events.out.tfevents.*")) for name in runs)
