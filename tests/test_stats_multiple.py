"""stats.holm and benjamini_hochberg against statsmodels.stats.multitest.multipletests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from wecom_eval import stats


@pytest.mark.parametrize("seed", range(5))
def test_match_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.r_[rng.uniform(0, 0.05, 4), rng.uniform(0, 1, 11)]
    for ours, method in ((stats.holm, "holm"), (stats.benjamini_hochberg, "fdr_bh")):
        r = ours(p, alpha=0.1)
        reject, adj, _, _ = multipletests(p, alpha=0.1, method=method)
        np.testing.assert_allclose(r.p_adjusted, adj, rtol=1e-12)
        np.testing.assert_array_equal(r.reject, reject)


def test_labels_frame_and_missing() -> None:
    family = pd.Series({"active_rate": 0.01, "penetration": np.nan, "satisfaction": 0.04})
    r = stats.holm(family)
    frame = r.to_frame()
    assert frame["label"].tolist() == ["active_rate", "penetration", "satisfaction"]
    assert frame["p_adjusted"].iloc[0] == pytest.approx(0.02)
    assert np.isnan(frame["p_adjusted"].iloc[1]) and not frame["reject"].iloc[1]
    assert "missing" in r.warnings[0]


def test_misuse() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stats.holm([0.2, 1.5])
    with pytest.raises(ValueError, match="empty"):
        stats.benjamini_hochberg([])
    with pytest.raises(ValueError, match="labels has 1 entries"):
        stats.holm([0.1, 0.2], labels=["a"])
