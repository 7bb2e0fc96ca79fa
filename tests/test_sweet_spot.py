"""The sweet spot as a test, on the archived learning curve (docs/results/qi2018_learning_curve):
MR's static peak at 1/16 is real against all the data, but resampling does not always put it there;
on vader_nyt no peak is distinguishable."""

from pathlib import Path

import pytest

from embedlab.experiments.reporting.runs import finished_runs
from embedlab.experiments.reporting.sweet_spot import sweet_spot_markdown, sweet_spots

ARCHIVE = Path(__file__).resolve().parents[1] / "docs" / "results" / "qi2018_learning_curve"

pytestmark = pytest.mark.slow  # reads 210 runs' predictions (~10 s); no training


def test_sweet_spots_are_tested_not_argmaxed():
    spots = {spot.key[0] + "/" + spot.key[3]: spot for spot in sweet_spots(finished_runs(ARCHIVE), ARCHIVE)}
    mr = spots["mr/static"]
    assert mr.peak == 0.0625 and 0.4 < mr.peak_share[0.0625] < 0.9 and abs(sum(mr.peak_share.values()) - 1) < 1e-9
    assert mr.versus_full[3] < 0.01 and mr.versus_full[1] > 0  # peak − full size: interval above zero
    for key in ("vader_nyt/static", "vader_nyt/non-static"):
        spot = spots[key]
        assert spot.versus_full[3] > 0.05 and spot.versus_smallest[3] > 0.05
        assert max(spot.peak_share.values()) < 0.6
    text = sweet_spot_markdown(list(spots.values()))
    assert text.count("no distinguishable peak") == 2
