"""Report sections as units: each returns a Section or None, in one listed order."""

import pandas as pd
import pytest

from embedlab.experiments.reporting import sections
from embedlab.experiments.reporting.sections import SECTIONS, ReportContext


def _curve_runs(conditions):
    rows = []
    for size in (0.25, 1.0):
        for seed in (1, 2, 3):
            for condition in conditions:
                rows.append({"embedding": condition, "train_size": size, "seed": seed,
                             "accuracy": 0.6 + 0.1 * size + (0.02 if condition != "rand" else 0) + 0.001 * seed,
                             "n_train": int(8000 * size)})
    return pd.DataFrame(rows).assign(dataset="mr", vectors="glove-6b-50d", model="cnn", variant="–", fold=None)


def test_sections_are_listed_once_in_report_order():
    names = [unit.__name__ for unit in SECTIONS]
    assert names[0] == "comparison" and names[-1] == "runs_footer" and len(set(names)) == len(names)


def test_learning_curve_of_a_grid_without_rand(tmp_path):
    ctx = ReportContext(_curve_runs(["static", "non-static"]), "accuracy", tmp_path, tmp_path)
    section = sections.learning_curve(ctx)  # used to raise KeyError: 'dataset'
    assert "No rand runs" in section.markdown and section.figures[0].exists()
    with_rand = sections.learning_curve(ReportContext(_curve_runs(["rand", "static"]), "accuracy", tmp_path, None))
    assert "the gain over rand is largest" in with_rand.markdown


def test_sections_without_support_return_none(tmp_path):
    ctx = ReportContext(_curve_runs(["rand"]).query("train_size == 1.0"), "accuracy", tmp_path, None)
    for unit in (sections.across_datasets, sections.gap_to_kim, sections.learning_curve, sections.paired_gains):
        assert unit(ctx) is None, unit.__name__


def test_across_models_compares_each_models_gain(tmp_path):
    rows = []
    for model, gain in (("cnn", 0.02), ("bilstm", -0.01)):
        for fold in range(5):
            for condition in ("rand", "static"):
                rows.append({"model": model, "embedding": condition, "fold": fold, "seed": 0, "train_size": 1.0,
                             "accuracy": 0.75 + 0.003 * fold + (gain + 0.001 * fold if condition == "static" else 0),
                             "n_train": 8600, "n_dev": 950, "n_test": 1060, "parameters": 1000 if model == "cnn" else 2000,
                             "total_seconds": 10.0})
    runs = pd.DataFrame(rows).assign(dataset="mr", vectors="w2v", variant="–")
    section = sections.across_models(ReportContext(runs, "accuracy", tmp_path, tmp_path))
    lines = {line.split(" | ")[2]: line for line in section.markdown.splitlines() if line.startswith("| mr")}
    assert "+2.2" in lines["cnn"] and "-0.8" in lines["bilstm"] and "2,000" in lines["bilstm"]
    assert section.figures[0].name == "gains_by_model.png" and section.figures[0].exists()
    assert sections.across_models(ReportContext(runs[runs["model"] == "cnn"], "accuracy", tmp_path, None)) is None


def test_an_encoder_without_rand_is_paired_with_each_other_models_rand(tmp_path):
    rows = []
    for fold in range(5):
        for model, vectors, condition, accuracy in (("cnn", "glove", "rand", 0.75), ("cnn", "w2v", "rand", 0.76),
                                                     ("cnn", "potion", "rand", 0.76),  # same training as w2v's
                                                     ("cnn", "glove", "static", 0.77),
                                                     ("minilm", None, "static", 0.78), ("minilm", None, "non-static", 0.85)):
            rows.append({"model": model, "vectors": vectors, "embedding": condition, "fold": fold, "seed": 0,
                         "train_size": 1.0, "accuracy": accuracy + 0.002 * fold + (0.001 * fold if model == "minilm" else 0),
                         "n_train": 8600, "n_dev": 950, "n_test": 1060})
    runs = pd.DataFrame(rows).assign(dataset="mr", variant="–")
    section = sections.encoders(ReportContext(runs, "accuracy", tmp_path, None))
    lines = [line for line in section.markdown.splitlines() if line.startswith("| minilm")]
    assert len(lines) == 4  # 2 conditions x 2 distinct rand baselines; cnn static is no baseline
    assert sum("(potion / w2v width)" in line for line in lines) == 2
    against_glove = {line.split(" | ")[1]: line for line in lines if "glove width" in line}
    assert "+3.20" in against_glove["static"] and "+10.20" in against_glove["non-static"]
    assert sections.encoders(ReportContext(runs[runs["model"] == "cnn"], "accuracy", tmp_path, None)) is None


def test_embedding_spaces_are_analysed_per_vector_set(tmp_path, monkeypatch):
    """Spaces of two vector sets in one grid used to be mixed (the first run of each condition,
    whatever its vectors); now each set gets its own block."""
    from embedlab.experiments.reporting import spaces

    seen = []
    monkeypatch.setattr(spaces, "spaces_of", lambda runs, outdir: seen.append(sorted(set(runs["vectors"]))) or {"x": 1})
    monkeypatch.setattr(spaces, "spaces_markdown", lambda found: "#### Nearest neighbours\n")
    runs = pd.DataFrame({"vectors": ["potion", "wordllama", "potion"], "embedding": ["rand", "static", "static"]})
    section = sections.embedding_spaces(ReportContext(runs, "accuracy", tmp_path, None))
    assert seen == [["potion"], ["wordllama"]]
    assert "#### Vectors: potion" in section.markdown and "##### Nearest neighbours" in section.markdown
    seen.clear()
    one = sections.embedding_spaces(ReportContext(runs[runs["vectors"] == "potion"], "accuracy", tmp_path, None))
    assert one.markdown == "#### Nearest neighbours\n" and seen == [["potion"]]


@pytest.mark.slow
def test_gap_decomposition_on_a_small_real_results_db(write_config, tmp_path):
    from embedlab.experiments.config import load_config
    from embedlab.experiments.reporting.report import report_markdown
    from embedlab.experiments.running.runner import run_grid

    text = """\
        name: gap
        data: {dataset: mr, protocol: cv, folds: 2, subsample: 300}
        vectors: glove-6b-50d
        model: {cnn: {num_filters: 4}}
        training: {max_epochs: 1}
        grid: {embedding: [rand, static, non-static]}
        variants:
          defaults: {}
          train_vocabulary: {data.vocabulary: train}
          kim_padding: {data.padding: kim}
    """
    config = load_config(write_config(text))
    assert len(config.runs()) == 6 + 4 + 6  # rand is shared by defaults and train_vocabulary
    out = tmp_path / "out"
    run_grid(config, out, executor="local")
    markdown = report_markdown(out)
    assert "### The gap to Kim (2014) on MR, factor by factor" in markdown
    assert "| defaults | embedlab's defaults |" in markdown
    assert "| train_vocabulary | test words unseen in training → <unk> (v0.1) |" in markdown
    assert "16 finished runs" in markdown  # shared runs counted once
    from embedlab.experiments.reporting.status import grid_status

    status = grid_status(out)  # agrees with the report: every variant complete, shared runs in each
    assert "16 runs: 16 finished" in status and "| train_vocabulary | 6 | 0 | 0 | 0 |" in status
