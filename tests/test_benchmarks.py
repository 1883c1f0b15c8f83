"prism.benchmarks: metrics against scikit-learn, latency records, sizes, the benchmark table's contracts, resumable sweeps."
import json, os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score

from prism.benchmarks import (METRICS, aggregate_runs, classification_metrics, clip_tensor, collect_runs, make_loader,
                              measure_latency, model_size_bytes, privacy_utility_sweep, run_comprehensive_benchmark,
                              run_name, throughput, write_json_atomic)
import prism.benchmarks as B
from prism.models import LSTMBaseline, STGCN_PRISM


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 9, 16, 15)).astype(np.float32)
    y = np.arange(24) % 4
    torch.manual_seed(0)
    return X, y, STGCN_PRISM(num_joints=15, in_channels=9, num_classes=4, layout="prism15", channels=(8, 16)).eval(), \
        LSTMBaseline(num_joints=15, in_channels=9, num_classes=4, hidden_size=16).eval()


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


def test_run_names_keep_decimal_epsilons():
    assert run_name("utd", "stgcn", 0.5, 2) == "utd_stgcn_eps0.5_s2"
    assert run_name("msr", "lstm", None, 0) == "msr_lstm_epsnone_s0" == run_name("msr", "lstm", float("inf"), 0)


def test_write_json_atomic_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "sub" / "r.json"
    write_json_atomic(target, {"a": np.float32(1.5)})
    assert json.loads(target.read_text()) == {"a": 1.5}
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(OSError): write_json_atomic(tmp_path / "dir.json", {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.json", "sub"]


def test_sweep_is_resumable(tiny, tmp_path, monkeypatch):
    X, y, _, _ = tiny
    data = {"train": (X, y), "test": (X, y), "classes": list("abcd"), "protocol": "synthetic test data",
            "layout": "prism15", "spec": "pos+vel+bone", "frames": 16}
    monkeypatch.setitem(B.DEFAULT_TRAIN, "stgcn", {**B.DEFAULT_TRAIN["stgcn"], "channels": (8, 16), "batch_size": 8, "batch_size_dp": 8})
    runs = privacy_utility_sweep("utd", epsilons=(4, None), seeds=(0,), model_kinds=("stgcn",), out_dir=tmp_path, epochs=1,
                                 progress=False, data=data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["utd_stgcn_eps4_s0.json", "utd_stgcn_epsnone_s0.json"]
    r = json.loads((tmp_path / "utd_stgcn_eps4_s0.json").read_text())
    assert r["ledger"]["epsilon_prv"] <= 4 + 1e-6 and r["ledger"]["epsilon_rdp"] > 0 and "command" in r and r["machine"]["cpu_cores"]
    assert len(runs) == 2 and set(runs.columns) >= {"epsilon_prv", "epsilon_rdp", "accuracy", "kappa"}
    def boom(*a, **k): raise AssertionError("a finished run was retrained")
    monkeypatch.setattr(B, "run_experiment", boom)
    again = privacy_utility_sweep("utd", epsilons=(4, None), seeds=(0,), model_kinds=("stgcn",), out_dir=tmp_path, progress=False)
    pd.testing.assert_frame_equal(again, runs)
    with pytest.raises(FileNotFoundError, match="missing"): collect_runs(tmp_path, ["utd_stgcn_eps1_s0"])
    with pytest.raises(ValueError, match="unknown model kind 'gru'"): privacy_utility_sweep("utd", model_kinds=("gru",), out_dir=tmp_path)


def test_clip_tensor_on_real_utd(data_root):
    from prism.data import load_utd_mhad
    rec = load_utd_mhad(data_root)[0]
    x = clip_tensor(rec)
    assert x.shape == (9, 32, 15) and x.dtype == np.float32 and np.isfinite(x).all()
    assert clip_tensor(rec, layout="kinect20_utd", spec="pos", frames=20).shape == (3, 20, 20)


def test_public_pretraining_and_private_head(tiny, monkeypatch):
    "stgcn_ft: backbone trained on the public data only, last layer trained (DP) on the private data; the folded head is exact."
    X, y, _, _ = tiny
    rng = np.random.default_rng(1)
    Xp = (rng.normal(size=(20, 9, 16, 15)) * 2 + 1).astype(np.float32)
    data = {"train": (X, y), "test": (X, y), "classes": list("abcd"), "protocol": "synthetic test data", "layout": "prism15",
            "spec": "pos+vel+bone", "frames": 16, "public": {"name": "pub", "data": (Xp, np.arange(20) % 5)}}
    monkeypatch.setitem(B.DEFAULT_TRAIN, "stgcn_ft", {**B.DEFAULT_TRAIN["stgcn_ft"], "channels": (8, 16), "pretrain_epochs": 1,
                                                       "epochs": 2, "epochs_dp": 2, "batch_size": 8, "batch_size_dp": 8})
    backbone = B.pretrain_public(data, seed=0)
    assert B.pretrain_public(data, seed=0) is backbone            # trained once per seed, then reused
    assert torch.allclose(backbone.input_norm.mean, torch.from_numpy(Xp).mean(dim=(0, 2, 3)), atol=1e-4)
    out, model = B.run_experiment(data, "utd", "stgcn_ft", 4.0, 0, return_model=True)
    assert out["pretrained_on"] == "pub" and out["ledger"]["epsilon_prv"] <= 4 + 1e-6
    for n, v in backbone.state_dict().items():                    # only the head differs from the public backbone
        if not n.startswith("head."): assert torch.equal(v, model.state_dict()[n]), n
    from prism.privacy import extract_features
    f_pub = extract_features(backbone, make_loader(Xp, np.zeros(20), 8))[0]
    assert model(torch.from_numpy(X)).shape == (24, 4)
    with pytest.raises(ValueError, match="no public dataset"): B.pretrain_public({**data, "public": None})


def test_private_class_means(tiny, monkeypatch):
    "stgcn_ncm: without noise the head is the cosine nearest-class-mean rule; with noise the ledger is the Gaussian mechanism's."
    X, y, _, _ = tiny
    rng = np.random.default_rng(2)
    Xp = rng.normal(size=(20, 9, 16, 15)).astype(np.float32)
    data = {"train": (X, y), "test": (X, y), "classes": list("abcd"), "protocol": "synthetic test data", "layout": "prism15",
            "spec": "pos+vel+bone", "frames": 16, "public": {"name": "pub", "data": (Xp, np.arange(20) % 5)}}
    monkeypatch.setitem(B.DEFAULT_TRAIN, "stgcn_ft", {**B.DEFAULT_TRAIN["stgcn_ft"], "channels": (8, 16), "pretrain_epochs": 1})
    monkeypatch.setitem(B.DEFAULT_TRAIN, "stgcn_ncm", {**B.DEFAULT_TRAIN["stgcn_ncm"], "channels": (8, 16)})
    from prism.privacy import create_privacy_config, extract_features
    backbone = B.pretrain_public(data, seed=0)
    model = B.build_model("stgcn_ncm", 15, 9, 4)
    model.load_state_dict({n: v for n, v in backbone.state_dict().items() if not n.startswith("head.")}, strict=False)
    res = B.fit_private_ncm(model, data, create_privacy_config(None, 1e-5, noise_multiplier=0.0), public_stats=backbone.public_feature_stats)
    mu, sd = backbone.public_feature_stats
    f = (extract_features(backbone, make_loader(X, y, 8))[0] - mu) / sd
    u = f / f.norm(dim=1, keepdim=True)
    C = torch.stack([u[torch.from_numpy(y == c)].sum(0) for c in range(4)]); C = C / C.norm(dim=1, keepdim=True)
    with torch.no_grad(): assert torch.equal(model(torch.from_numpy(X)).argmax(1), (u @ C.T).argmax(1))
    assert res["ledger"]["epsilon_prv"] == float("inf") and res["ledger"]["noise_multiplier"] == 0.0
    out = B.run_experiment(data, "utd", "stgcn_ncm", 1.0, 0)
    led = out["ledger"]
    assert led["epsilon_prv"] <= 1 + 1e-6 and led["steps"] == 1 and led["sample_rate"] == 1.0 and led["noise_multiplier"] > 3
    assert out["pretrained_on"] == "pub" and "Gaussian mechanism" in led["mechanism"]


def test_deployable_kinds():
    assert B.deployable("stgcn", None) and not B.deployable("stgcn", 8) and not B.deployable("lstm", 1)
    assert all(B.deployable(k, e) for k in ("stgcn_ft", "stgcn_ncm", "lstm_ft") for e in (0.5, 8, None))
    assert set(B.PUBLIC_BACKBONE) <= set(B.MODEL_KINDS)
