"""Calibration: the expected calibration error, and temperature scaling fitted on the dev set."""

import numpy as np
import pytest

from embedlab.experiments.reporting.calibration import expected_calibration_error
from embedlab.experiments.running.model_folder import fit_temperature, scale_probabilities


def test_ece_is_the_weighted_gap_between_confidence_and_accuracy():
    # Bin (0.8667, 0.9333]: 4 predictions at 0.9, 2 right -> gap 0.4; bin (0.6, 0.6667]: 2 at 0.65, both right -> 0.35.
    confidence = [0.9, 0.9, 0.9, 0.9, 0.65, 0.65]
    correct = [1, 1, 0, 0, 1, 1]
    assert expected_calibration_error(confidence, correct) == pytest.approx(4 / 6 * 0.4 + 2 / 6 * 0.35)
    assert expected_calibration_error([0.7] * 10, [1] * 7 + [0] * 3) == pytest.approx(0.0)


def test_a_fitted_temperature_cools_an_overconfident_model_and_keeps_its_predictions():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 4000)
    right = rng.random(4000) < 0.75                      # right 75% of the time ...
    predicted = np.where(right, labels, 1 - labels)
    probabilities = np.full((4000, 2), 0.01)
    probabilities[np.arange(4000), predicted] = 0.99     # ... but always 99% sure
    temperature = fit_temperature(probabilities, labels)
    scaled = scale_probabilities(probabilities, temperature)
    assert temperature > 1.5
    assert (scaled.argmax(axis=1) == predicted).all()
    assert scaled.max(axis=1).mean() == pytest.approx(0.75, abs=0.02)
    before = expected_calibration_error(probabilities.max(axis=1), right)
    after = expected_calibration_error(scaled.max(axis=1), right)
    assert before > 0.2 and after < 0.02
