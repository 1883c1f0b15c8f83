"prism.benchmarks: metrics against scikit-learn, latency records, sizes, the benchmark table's contracts, atomic results files."
import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score

from prism.benchmarks import (METRICS, aggregate_runs, classification_metrics, measure_latency, model_size_bytes,
                              run_comprehensive_benchmark, throughput)
from prism.clip import make_loader
from prism.io import write_json_atomic
from prism.models import STGCN_PRISM


@pytest.fixture(scope="module")
def tiny(make_tiny):
    return make_tiny(24)
def test_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    yt, yp = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    m = classification_metrics(yt, yp, num_classes=5)
    assert m["accuracy"] == pytest.approx(accuracy_score(yt, yp))
    assert m["f1_macro"] == pytest.approx(f1_score(yt, yp, average="macro"))
    assert m["kappa"] == pytest.approx(cohen_kappa_score(yt, yp))
    assert set(METRICS) <= set(m) and m["n"] == 200


@pytest.mark.parametrize("yt,yp,msg", [([0, 1], [0], "y_true has 2 labels but y_pred has 1"), ([], [], "empty")])
def test_metrics_refuse_bad_input(yt, yp, msg):
    with pytest.raises(ValueError, match=msg): classification_metrics(yt, yp)


def test_latency_record_and_threads_restored(tiny):
    X, y, stgcn, _ = tiny
    before = torch.get_num_threads()
    lat = measure_latency(stgcn, torch.from_numpy(X[:1]), warmup=1, reps=5, threads=1)
    assert torch.get_num_threads() == before
    assert lat["threads"] == 1 and lat["batch"] == 1 and lat["reps"] == 5
    assert lat["min_ms"] <= lat["median_ms"] <= lat["p95_ms"]
    tp = throughput(stgcn, torch.from_numpy(X[:8]), warmup=1, reps=3)
    assert tp["batch_size"] == 8 and tp["clips_per_s"] > 0
    with pytest.raises(ValueError, match="reps >= 1"): measure_latency(stgcn, torch.from_numpy(X[:1]), reps=0)


def test_model_size(tiny, tmp_path):
    _, _, stgcn, lstm = tiny
    n = sum(p.numel() for p in stgcn.parameters())
    assert n * 4 < model_size_bytes(stgcn) < n * 4 + 64 * 1024
    f = tmp_path / "w.bin"; f.write_bytes(b"x" * 123)
    assert model_size_bytes(f) == 123 and model_size_bytes(str(f)) == 123
    with pytest.raises(FileNotFoundError, match="no model file"): model_size_bytes(tmp_path / "none.onnx")
    with pytest.raises(TypeError, match="cannot size"): model_size_bytes(3.0)
    assert model_size_bytes(lstm) > 0


def test_benchmark_table_dict_and_seed_forms(tiny):
    X, y, stgcn, lstm = tiny
    loader = make_loader(X, y, 8)
    led = {"epsilon_prv": 3.0, "epsilon_rdp": 3.5, "delta": 1e-5, "privacy_unit": "clip"}
    t = run_comprehensive_benchmark({"lstm": lstm, "stgcn": stgcn, "dp": (stgcn, led)}, loader, reps=3, warmup=1, batch_size=4)
    assert list(t.index) == ["lstm", "stgcn", "dp"]
    for col in ["accuracy", "f1_macro", "precision_macro", "recall_macro", "kappa", "epsilon_prv", "epsilon_rdp", "delta",
                "latency_median_ms", "latency_p95_ms", "throughput_clips_per_s", "params", "size_bytes", "threads"]:
        assert col in t.columns, col
    assert t.loc["stgcn", "privacy"] == "none" and t.loc["dp", "privacy"] == "DP-SGD" and t.loc["dp", "epsilon_rdp"] == 3.5
    assert t.loc["stgcn", "accuracy"] == t.loc["dp", "accuracy"]
    s = run_comprehensive_benchmark(lstm, stgcn, stgcn, loader, privacy_epsilon=2.0, privacy_delta=1e-5, reps=2, warmup=0)
    assert list(s.index) == ["LSTM", "ST-GCN", "ST-GCN (DP)"]
    assert s.loc["ST-GCN (DP)", "epsilon_target"] == 2.0 and s.loc["ST-GCN (DP)", "privacy"] == "target only (no ledger)"


def test_benchmark_contracts(tiny):
    X, y, stgcn, _ = tiny
    loader = make_loader(X, y, 8)
    with pytest.raises(ValueError, match="dict form"): run_comprehensive_benchmark({"a": stgcn}, loader, privacy_epsilon=1.0)
    with pytest.raises(ValueError, match="empty dict"): run_comprehensive_benchmark({}, loader)
    with pytest.raises(ValueError, match="test loader after the models"): run_comprehensive_benchmark(stgcn, stgcn)
    with pytest.raises(TypeError, match="models must be a dict"): run_comprehensive_benchmark([stgcn], loader)
    bad = STGCN_PRISM(num_joints=15, in_channels=3, num_classes=4, layout="prism15")
    with pytest.raises(ValueError, match="model 'bad' failed"): run_comprehensive_benchmark({"bad": bad}, loader, reps=1)
    with pytest.raises(ValueError, match="24 clips but y has 3"): make_loader(X, y[:3])


def test_aggregate_runs_separates_no_dp():
    runs = pd.DataFrame({"model": ["m"] * 5, "epsilon": [1, 1, None, float("inf"), np.nan], "accuracy": [0.2, 0.4, 0.7, 0.8, 0.9]})
    a = aggregate_runs(runs, group=["model"])
    assert list(a.epsilon) == [1.0, "none"] and list(a["count"]) == [2, 3]
    assert a["mean"].iloc[0] == pytest.approx(0.3)


def test_write_json_atomic_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "sub" / "r.json"
    write_json_atomic(target, {"a": np.float32(1.5)})
    assert json.loads(target.read_text()) == {"a": 1.5}
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(OSError): write_json_atomic(tmp_path / "dir.json", {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.json", "sub"]
