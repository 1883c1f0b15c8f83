"""Tests of prism.jhmdb: clip names, the split by source video, the loader on a fixed subset of real clips."""
import os, warnings
from pathlib import Path

import numpy as np
import pytest

from prism.jhmdb import jhmdb_clips, jhmdb_source, jhmdb_split, load_jhmdb, make_jhmdb_split


@pytest.fixture(scope="module")
def root() -> Path:
    r = os.environ.get("PRISM_DATA")
    if not r or not (Path(r) / "jhmdb" / "videos").is_dir():
        pytest.skip("PRISM_DATA is not set or has no jhmdb/videos: set PRISM_DATA to the data folder (see CONTRIBUTING.md)")
    return Path(r)


def test_jhmdb_names():
    assert jhmdb_source("Bush_Wave_vs__Obama_Wave_and_Which_Commander-in-chief_Salutes_the_Best__You_Decide_wave_u_cm_np1_fr_med_9.mp4",
                        "wave") == ("Bush_Wave_vs__Obama_Wave_and_Which_Commander-in-chief_Salutes_the_Best__You_Decide", 9)
    assert jhmdb_source("x_kick_ball_f_cm_np1_fr_goo_0", "kick_ball") == ("x", 0)

def test_jhmdb_split_saved_deterministic_and_by_source(root):
    clips = jhmdb_clips(root)
    assert len(clips) == 928 and len({c.action for c in clips}) == 21
    saved = jhmdb_split(root)
    assert saved == make_jhmdb_split(clips, seed=0)           # saved file == the seeded remake
    assert make_jhmdb_split(clips, seed=0) == make_jhmdb_split(list(reversed(clips)), seed=0)  # input order does not matter
    src = {c.rel: c.source for c in clips}
    assert not {src[r] for r in saved["train"]} & {src[r] for r in saved["test"]}
    assert sorted(saved["train"] + saved["test"]) == sorted(src)
    for a, n in saved["counts"].items():
        assert 0.25 <= n["test"] / (n["train"] + n["test"]) <= 0.35, (a, n)
    assert make_jhmdb_split(clips, seed=1)["test"] != saved["test"]
    with pytest.raises(ValueError, match="test_frac"): make_jhmdb_split(clips, test_frac=1.5)

def test_load_jhmdb_fixed_subset(root, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recs, s = load_jhmdb(root, cache_dir=tmp_path, split="test", per_class=1, return_summary=True)
    assert s.videos == 21 and len(recs) + s.failed == 21
    assert len(recs) >= 18
    r = recs[0]
    assert (r.dataset, r.layout, r.meta["split"]) == ("jhmdb", "mediapipe33", "test")
    assert r.source.startswith("jhmdb/videos/") and r.joints.dtype == np.float32
    for r in recs:
        assert r.joints.shape == (len(r.meta["found"]), 33, 3) and np.isfinite(r.joints).all()
        assert r.confidence.shape == r.joints.shape[:2]
        assert 0 <= r.label < 21 and r.subject and r.meta["size"] == (320, 240)
    again = load_jhmdb(root, cache_dir=tmp_path, split="test", per_class=1, return_summary=True)[1]
    assert again.extracted == 0
    with pytest.raises(ValueError, match="split must be"): load_jhmdb(root, cache_dir=tmp_path, split="val")
    with pytest.raises(ValueError, match="per_class"): load_jhmdb(root, cache_dir=tmp_path, per_class=0)
