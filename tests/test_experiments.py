"prism.experiments: run names, resumable sweeps, public pretraining with a private head, private class means."
import json

import numpy as np
import pandas as pd
import pytest
import torch

from prism.benchmarks import make_loader
from prism.experiments import collect_runs, privacy_utility_sweep, run_name
import prism.experiments as B


@pytest.fixture(scope="module")
def tiny(make_tiny):
    return make_tiny(24)


def test_run_names_keep_decimal_epsilons():
    assert run_name("utd", "stgcn", 0.5, 2) == "utd_stgcn_eps0.5_s2"
    assert run_name("msr", "lstm", None, 0) == "msr_lstm_epsnone_s0" == run_name("msr", "lstm", float("inf"), 0)


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
    assert torch.allclose(backbone.public_feature_stats[0], f_pub.mean(0), atol=1e-5)   # head standardisation: public features only
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
    # with a public PCA projection the folded head is the cosine rule in the projected space
    B.fit_private_ncm(model, data, create_privacy_config(None, 1e-5, noise_multiplier=0.0), public_stats=backbone.public_feature_stats, dims=4)
    fp = (extract_features(backbone, make_loader(Xp, np.zeros(20), 8))[0] - mu) / sd
    P = torch.linalg.svd(fp - fp.mean(0), full_matrices=False)[2][:4].T
    z = f @ P; uz = z / z.norm(dim=1, keepdim=True)
    Cz = torch.stack([uz[torch.from_numpy(y == c)].sum(0) for c in range(4)]); Cz = Cz / Cz.norm(dim=1, keepdim=True)
    with torch.no_grad(): assert torch.equal(model(torch.from_numpy(X)).argmax(1), (uz @ Cz.T).argmax(1))
    out = B.run_experiment(data, "utd", "stgcn_ncm", 1.0, 0)
    led = out["ledger"]
    assert led["epsilon_prv"] <= 1 + 1e-6 and led["steps"] == 1 and led["sample_rate"] == 1.0 and led["noise_multiplier"] > 3
    assert out["pretrained_on"] == "pub" and "Gaussian mechanism" in led["mechanism"]


def test_deployable_kinds():
    assert B.deployable("stgcn", None) and not B.deployable("stgcn", 8) and not B.deployable("lstm", 1)
    assert all(B.deployable(k, e) for k in ("stgcn_ft", "stgcn_ncm", "lstm_ft") for e in (0.5, 8, None))
    assert set(B.PUBLIC_BACKBONE) <= set(B.MODEL_KINDS)


def _ft_data(tiny, monkeypatch, seed=3):
    X, y, _, _ = tiny
    Xp = np.random.default_rng(seed).normal(size=(20, 9, 16, 15)).astype(np.float32)
    monkeypatch.setitem(B.DEFAULT_TRAIN, "stgcn_ft", {**B.DEFAULT_TRAIN["stgcn_ft"], "channels": (8, 16), "pretrain_epochs": 1,
                                                       "epochs": 2, "epochs_dp": 2, "batch_size": 8, "batch_size_dp": 8})
    monkeypatch.setitem(B.DEFAULT_TRAIN, "stgcn_ncm", {**B.DEFAULT_TRAIN["stgcn_ncm"], "channels": (8, 16)})
    return {"train": (X, y), "test": (X, y), "classes": list("abcd"), "protocol": "synthetic test data", "layout": "prism15",
            "spec": "pos+vel+bone", "frames": 16, "public": {"name": "pub", "data": (Xp, np.arange(20) % 5)},
            "subjects": {"train": np.array([f"p{i % 6}" for i in range(len(y))]), "test": np.array([f"q{i % 6}" for i in range(len(y))])}}


@pytest.mark.parametrize("kind", ["stgcn_ncm", "stgcn_ft"])
def test_recorded_seed_does_not_replay_private_noise(tiny, monkeypatch, kind):
    "The run file records seed 0; replaying with it reproduces only a reproducible run, never a private one (today's bug for class means)."
    data = _ft_data(tiny, monkeypatch)
    (a, ma), (b, mb) = [B.run_experiment(data, "utd", kind, 1.0, 0, return_model=True) for _ in range(2)]
    assert a["seed"] == 0 and a["private"] and a["ledger"]["randomness"].startswith("secret")
    assert not torch.equal(ma.head.weight, mb.head.weight)
    (r1, m1), (r2, m2) = [B.run_experiment(data, "utd", kind, 1.0, 0, return_model=True, reproducible=True) for _ in range(2)]
    assert torch.equal(m1.head.weight, m2.head.weight)                  # the attack succeeds against a seeded run ...
    assert not r1["private"] and "NOT PRIVATE" in r1["ledger"]["randomness"]   # ... which therefore says it is not private


@pytest.mark.parametrize("kind", ["stgcn_ncm", "stgcn_ft"])
def test_person_unit_recipes(tiny, monkeypatch, kind):
    data = _ft_data(tiny, monkeypatch)
    out = B.run_experiment(data, "utd", kind, 4.0, 0, unit="person")
    led = out["ledger"]
    assert led["unit"] == "person" and led["num_samples"] == 6 and led["epsilon_prv"] <= 4 + 1e-6 and out["privacy_unit"] == "person"
    clip = B.run_experiment(data, "utd", kind, 4.0, 0)["ledger"]
    assert clip["unit"] == "clip" and clip["person_level"]["k"] == 4     # 24 clips of 6 people: group privacy of 4 clips
