"prism.experiments: protocols, recipes, run names, resumable sweeps, public pretraining with a private head, private class means."
import json

import numpy as np
import pandas as pd
import pytest
import torch

from prism.clip import ClipSpec
from prism.models import run_model
from prism.privacy import create_privacy_config
from prism.experiments import (Protocol, PublicData, collect_runs, privacy_utility_sweep, run_name, recipe, RECIPES, pretrain_public,
                               run_experiment, build_model, fit_private_ncm, deployable, PUBLIC_BACKBONE, MODEL_KINDS,
                               save_protocol, read_protocol)
import prism.experiments as B

CLIP = ClipSpec(frames=16)   # the synthetic clips of conftest.tiny_models: (9, 16, 15)


@pytest.fixture(scope="module")
def tiny(make_tiny):
    return make_tiny(24)


def _protocol(tiny, public=True, seed=3) -> Protocol:
    X, y, _, _ = tiny
    Xp = (np.random.default_rng(seed).normal(size=(20, 9, 16, 15)) * 2 + 1).astype(np.float32)
    return Protocol("utd", "synthetic test data", X, y, X, y, np.array([f"p{i % 6}" for i in range(len(y))]),
                    np.array([f"q{i % 6}" for i in range(len(y))]), tuple("abcd"), CLIP,
                    public=PublicData("pub", Xp, np.arange(20) % 5) if public else None)

FAST = {"stgcn": recipe("stgcn", epochs=1, batch_size=8, channels=(8, 16)),
        "stgcn_ft": recipe("stgcn_ft", epochs=2, batch_size=8, channels=(8, 16), pretrain_epochs=1),
        "stgcn_ncm": recipe("stgcn_ncm", channels=(8, 16), pretrain_epochs=1)}


def test_run_names_keep_decimal_epsilons():
    assert run_name("utd", "stgcn", 0.5, 2) == "utd_stgcn_eps0.5_s2"
    assert run_name("msr", "lstm", None, 0) == "msr_lstm_epsnone_s0" == run_name("msr", "lstm", float("inf"), 0)


def test_recipes_are_read_only_and_copied():
    s = recipe("stgcn", epochs=3, channels=[4, 8])
    assert (s.epochs, s.epochs_dp, s.channels) == (3, 3, (4, 8)) and RECIPES["stgcn"].epochs == 100
    with pytest.raises(TypeError): RECIPES["stgcn"] = s
    with pytest.raises(Exception): s.epochs = 5                       # frozen
    assert json.dumps(s.settings())                                   # settings are data, never object reprs
    with pytest.raises(ValueError, match="unknown training setting"): recipe("stgcn", epoch=1)


def test_protocol_round_trip(tiny, tmp_path):
    p = _protocol(tiny)
    back = read_protocol(save_protocol(p, tmp_path / "p.npz"))
    assert np.array_equal(back.X_train, p.X_train) and back.public.name == "pub" and back.clip == CLIP and back.classes == p.classes
    sub = p.with_train(p.persons_train != "p0")
    assert len(sub.y_train) == 20 and "p0" not in set(sub.persons_train)
    with pytest.raises(ValueError, match="do not match the clip spec"): Protocol(**{**p.__dict__, "clip": ClipSpec()})


def test_sweep_is_resumable(tiny, tmp_path, monkeypatch):
    p = _protocol(tiny, public=False)
    runs = privacy_utility_sweep(p, epsilons=(4, None), seeds=(0,), model_kinds=("stgcn",), out_dir=tmp_path, settings=FAST, progress=False)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["utd_stgcn_eps4_s0.json", "utd_stgcn_epsnone_s0.json"]
    r = json.loads((tmp_path / "utd_stgcn_eps4_s0.json").read_text())
    assert r["ledger"]["epsilon_prv"] <= 4 + 1e-6 and r["ledger"]["epsilon_rdp"] > 0 and "command" in r and r["machine"]["cpu_cores"]
    assert r["settings"]["channels"] == [8, 16] and r["settings"]["augment"]["class"] == "Augment"
    assert len(runs) == 2 and set(runs.columns) >= {"epsilon_prv", "epsilon_rdp", "accuracy", "kappa"}
    def boom(*a, **k): raise AssertionError("a finished run was retrained")
    monkeypatch.setattr(B, "run_experiment", boom)
    again = privacy_utility_sweep("utd", epsilons=(4, None), seeds=(0,), model_kinds=("stgcn",), out_dir=tmp_path, settings=FAST, progress=False)
    pd.testing.assert_frame_equal(again, runs)
    # a finished run trained for other epochs than asked is refused, never passed off as done (a quick --epochs 1 look)
    with pytest.raises(ValueError, match="these settings ask for"):
        privacy_utility_sweep("utd", epsilons=(4, None), seeds=(0,), model_kinds=("stgcn",), out_dir=tmp_path, progress=False)
    with pytest.raises(FileNotFoundError, match="no such file"): collect_runs(tmp_path, ["utd_stgcn_eps1_s0"])
    with pytest.raises(ValueError, match="unknown model kind 'gru'"): privacy_utility_sweep("utd", model_kinds=("gru",), out_dir=tmp_path)


def test_public_pretraining_and_private_head(tiny):
    "stgcn_ft: backbone trained on the public data only, last layer trained (DP) on the private data; the backbone is shared."
    X, y, _, _ = tiny
    p, shared = _protocol(tiny), {}
    out, model = run_experiment(p, "stgcn_ft", 4.0, 0, FAST["stgcn_ft"], return_model=True, backbones=shared)
    backbone = next(iter(shared.values()))
    assert torch.allclose(backbone.input_norm.mean, torch.from_numpy(p.public.X).mean(dim=(0, 2, 3)), atol=1e-4)
    assert out["pretrained_on"] == "pub" and out["ledger"]["epsilon_prv"] <= 4 + 1e-6
    for n, v in backbone.state_dict().items():                    # only the head differs from the public backbone
        if not n.startswith("head."): assert torch.equal(v, model.state_dict()[n]), n
    f_pub = run_model(backbone, p.public.X, method="features")
    assert torch.allclose(backbone.public_feature_stats[0], f_pub.mean(0), atol=1e-5)   # head standardisation: public features only
    run_experiment(p, "stgcn_ncm", 4.0, 0, FAST["stgcn_ncm"], backbones=shared)
    assert len(shared) == 1                                        # the class-means head reused the same backbone
    assert model(torch.from_numpy(X)).shape == (24, 4)
    with pytest.raises(ValueError, match="no public dataset"): run_experiment(_protocol(tiny, public=False), "stgcn_ft", 4.0, 0, FAST["stgcn_ft"])


def test_private_class_means(tiny):
    "stgcn_ncm: without noise the head is the cosine nearest-class-mean rule; with noise the ledger is the Gaussian mechanism's."
    X, y, _, _ = tiny
    p = _protocol(tiny, seed=2)
    backbone = pretrain_public(p.public, CLIP, "stgcn_ft", FAST["stgcn_ncm"], seed=0)
    model = build_model("stgcn_ncm", CLIP, 4, FAST["stgcn_ncm"])
    model.load_state_dict({n: v for n, v in backbone.state_dict().items() if not n.startswith("head.")}, strict=False)
    stats = backbone.public_feature_stats
    res = fit_private_ncm(model, X, y, stats, create_privacy_config(None, 1e-5, noise_multiplier=0.0))
    mu, sd = stats
    f = (run_model(backbone, X, method="features") - mu) / sd
    u = f / f.norm(dim=1, keepdim=True)
    C = torch.stack([u[torch.from_numpy(y == c)].sum(0) for c in range(4)]); C = C / C.norm(dim=1, keepdim=True)
    with torch.no_grad(): assert torch.equal(model(torch.from_numpy(X)).argmax(1), (u @ C.T).argmax(1))
    assert res["ledger"]["epsilon_prv"] == float("inf") and res["ledger"]["noise_multiplier"] == 0.0
    # with a public PCA projection the folded head is the cosine rule in the projected space
    fit_private_ncm(model, X, y, stats, create_privacy_config(None, 1e-5, noise_multiplier=0.0), dims=4, public_X=p.public.X)
    fp = (run_model(backbone, p.public.X, method="features") - mu) / sd
    P = torch.linalg.svd(fp - fp.mean(0), full_matrices=False)[2][:4].T
    z = f @ P; uz = z / z.norm(dim=1, keepdim=True)
    Cz = torch.stack([uz[torch.from_numpy(y == c)].sum(0) for c in range(4)]); Cz = Cz / Cz.norm(dim=1, keepdim=True)
    with torch.no_grad(): assert torch.equal(model(torch.from_numpy(X)).argmax(1), (uz @ Cz.T).argmax(1))
    out = run_experiment(p, "stgcn_ncm", 1.0, 0, FAST["stgcn_ncm"])
    led = out["ledger"]
    assert led["epsilon_prv"] <= 1 + 1e-6 and led["steps"] == 1 and led["sample_rate"] == 1.0 and led["noise_multiplier"] > 3
    assert out["pretrained_on"] == "pub" and "Gaussian mechanism" in led["mechanism"]


def test_deployable_kinds():
    assert deployable("stgcn", None) and not deployable("stgcn", 8) and not deployable("lstm", 1)
    assert all(deployable(k, e) for k in ("stgcn_ft", "stgcn_ncm", "lstm_ft") for e in (0.5, 8, None))
    assert set(PUBLIC_BACKBONE) <= set(MODEL_KINDS) and set(RECIPES) == set(MODEL_KINDS)


@pytest.mark.parametrize("kind", ["stgcn_ncm", "stgcn_ft"])
def test_recorded_seed_does_not_replay_private_noise(tiny, kind):
    "The run file records seed 0; replaying with it reproduces only a reproducible run, never a private one."
    p, shared = _protocol(tiny), {}
    (a, ma), (b, mb) = [run_experiment(p, kind, 1.0, 0, FAST[kind], return_model=True, backbones=shared) for _ in range(2)]
    assert a["seed"] == 0 and a["private"] and a["ledger"]["randomness"].startswith("secret")
    assert not torch.equal(ma.head.weight, mb.head.weight)
    (r1, m1), (r2, m2) = [run_experiment(p, kind, 1.0, 0, FAST[kind], return_model=True, reproducible=True, backbones=shared) for _ in range(2)]
    assert torch.equal(m1.head.weight, m2.head.weight)                  # the attack succeeds against a seeded run ...
    assert not r1["private"] and "NOT PRIVATE" in r1["ledger"]["randomness"]   # ... which therefore says it is not private


@pytest.mark.parametrize("kind", ["stgcn_ncm", "stgcn_ft"])
def test_person_unit_recipes(tiny, kind):
    p, shared = _protocol(tiny), {}
    out = run_experiment(p, kind, 4.0, 0, FAST[kind], unit="person", backbones=shared)
    led = out["ledger"]
    assert led["unit"] == "person" and led["num_samples"] == 6 and led["epsilon_prv"] <= 4 + 1e-6 and out["privacy_unit"] == "person"
    clip = run_experiment(p, kind, 4.0, 0, FAST[kind], backbones=shared)["ledger"]
    assert clip["unit"] == "clip" and clip["person_level"]["k"] == 4     # 24 clips of 6 people: group privacy of 4 clips


def test_pyramid_ncm_recipe(tiny, tmp_path):
    "pyramid_ncm: no network; its map fitted on the public clips, one Gaussian release of class sums; secret noise; a checkpoint that loads."
    from prism.checkpoint import load_checkpoint
    from prism.privacy import noise_multiplier_for
    p = _protocol(tiny)
    s = recipe("pyramid_ncm", dims=6)
    assert "pyramid_ncm" in MODEL_KINDS and deployable("pyramid_ncm", 1.0) and B.PRIVATE_RECIPES["pyramid_ncm"] == "cv_pyramid_ncm"
    out, model = run_experiment(p, "pyramid_ncm", 1.0, 0, s, return_model=True, checkpoint=tmp_path / "pyr")
    led = out["ledger"]
    assert led["epsilon_prv"] <= 1 + 1e-6 and led["steps"] == 1 and led["sample_rate"] == 1.0 and out["private"]
    assert led["noise_multiplier"] == noise_multiplier_for(1.0, 1e-5, sample_rate=1.0, steps=1)
    assert "kinematic pyramid" in led["mechanism"] and out["pretrained_on"] == "pub" and out["settings"]["degree"] == s.degree
    back, card = load_checkpoint(tmp_path / "pyr")
    X = torch.from_numpy(p.X_test)
    with torch.no_grad(): assert torch.equal(back(X).argmax(1), model(X).argmax(1))
    assert card["model"]["class"] == "PyramidNCM" and card["ledger"]["epsilon_prv"] <= 1 + 1e-6
    (_, m1), (_, m2) = [run_experiment(p, "pyramid_ncm", 1.0, 0, s, return_model=True) for _ in range(2)]
    assert not torch.equal(m1.head.weight, m2.head.weight)              # secret noise: the recorded seed replays nothing
    (r1, m1), (_, m2) = [run_experiment(p, "pyramid_ncm", 1.0, 0, s, return_model=True, reproducible=True) for _ in range(2)]
    assert torch.equal(m1.head.weight, m2.head.weight) and not r1["private"]
    with pytest.raises(ValueError, match="no public dataset"): run_experiment(_protocol(tiny, public=False), "pyramid_ncm", 1.0, 0, s)


def test_hybrid_ncm_recipe(tiny, tmp_path):
    "hybrid_ncm: the pyramid and ST-GCNs trained on the public clips only, one release of class sums; backbones shared between runs; a checkpoint that loads."
    from prism.checkpoint import load_checkpoint
    from prism.models import HybridNCM
    p = _protocol(tiny)
    s = recipe("hybrid_ncm", dims=6, backbone_epochs=(1, 2), backbone_dims=4, channels=(8, 16))
    assert "hybrid_ncm" in MODEL_KINDS and deployable("hybrid_ncm", 1.0) and B.PRIVATE_RECIPES["hybrid_ncm"] == "cv_hybrid_ncm"
    shared = {}
    out, model = run_experiment(p, "hybrid_ncm", 1.0, 0, s, return_model=True, checkpoint=tmp_path / "hyb", backbones=shared)
    assert isinstance(model, HybridNCM) and len(model.backbones) == 2 and len(shared) == 2
    assert [b.num_classes for b in model.backbones] == [5, 5]                       # trained on the public clips' 5 classes
    led = out["ledger"]
    assert led["epsilon_prv"] <= 1 + 1e-6 and led["steps"] == 1 and out["private"] and "2 ST-GCN(s) trained on pub only" in led["mechanism"]
    assert out["pretrained_on"] == "pub" and out["settings"]["backbone_epochs"] == [1, 2] and out["hparams"]["backbones"] == 2
    back, card = load_checkpoint(tmp_path / "hyb")
    X = torch.from_numpy(p.X_test)
    with torch.no_grad(): assert torch.equal(back(X).argmax(1), model(X).argmax(1))
    assert card["model"]["class"] == "HybridNCM" and len(card["model"]["backbones"]) == 2
    _, m2 = run_experiment(p, "hybrid_ncm", 1.0, 0, s, return_model=True, backbones=shared)
    assert len(shared) == 2 and m2.backbones[1] is model.backbones[1]             # the same public backbones, reused
    assert not torch.equal(m2.head.weight, model.head.weight)                     # secret noise
    assert B.run_cost(out)["params"] == model.feature_dim * 4 + 4                   # trainable: the class-sum head only
    # the recipe's weight at epsilon 1 is 1: the backbones alone (the ledger does not name the pyramid); at epsilon 8 a quarter
    assert s.backbone_weight_at(1.0) == 1.0 and model.weights[0] == 0 and "kinematic pyramid" not in led["mechanism"]
    o8, m8 = run_experiment(p, "hybrid_ncm", 8.0, 0, s, return_model=True, backbones=shared)
    assert m8.backbone_weight == 0.25 and o8["hparams"]["backbone_weight"] == 0.25 and "kinematic pyramid" in o8["ledger"]["mechanism"]
    assert B.run_cost(o8)["params"] == m8.feature_dim * 4 + 4 > B.run_cost(out)["params"]
    d = tmp_path / "runs"
    for name, r in ((B.run_name(p.dataset, "hybrid_ncm", 1.0, 0), out), (B.run_name(p.dataset, "hybrid_ncm", 8.0, 0), o8)): B.write_json_atomic(d / f"{name}.json", r)
    assert B.run_costs(collect_runs(d), d).params.item() == B.run_cost(o8)["params"]   # the table: the kind's largest run
    with pytest.raises(ValueError, match="no public dataset"): run_experiment(_protocol(tiny, public=False), "hybrid_ncm", 1.0, 0, s)
    with pytest.raises(ValueError, match="backbone_weight must be in"): recipe("hybrid_ncm", backbone_weight=0)
    with pytest.raises(ValueError, match="backbone_epochs must be positive"): recipe("hybrid_ncm", backbone_epochs=(0,))


def test_utkinect_is_public_data_only(data_root):
    "UTKinect-Action3D loads as public data (all 199 clips); it has no protocol here and stays out of the benchmark grid."
    from prism.catalog import PROTOCOLS
    if not (data_root / "utkinect/UTKinect_Skeletons.mat").is_file(): pytest.skip("no utkinect/ under PRISM_DATA")
    pub, clip, (mu, sd), words = B.load_public("utkinect", data_root)
    assert (pub.name, pub.X.shape, len(np.unique(pub.y)), pub.checkpoint) == ("utkinect", (199, 9, 32, 15), 10, None)
    assert words == "utkinect, all clips (treated as public)" and mu.shape == sd.shape == (9,) and (sd > 0).all()
    assert "utkinect" in B.PUBLIC_ONLY and "utkinect" not in PROTOCOLS
    with pytest.raises(ValueError, match="utkinect is public data only"): B.load_protocol("utkinect", data_root)


def test_pooled_public_data(data_root, tmp_path):
    "Library datasets joined by '+' pool into one public dataset (classes kept apart); a backbone pretrained on a pool is public too."
    from prism.checkpoint import save_checkpoint
    from prism.clip import DEFAULT_CLIP
    if not (data_root / "utkinect/UTKinect_Skeletons.mat").is_file(): pytest.skip("no utkinect/ under PRISM_DATA")
    pub, clip, (mu, sd), words = B.load_public("msr+utkinect", data_root)
    msr, utk = B.load_public("msr", data_root)[0], B.load_public("utkinect", data_root)[0]
    assert (pub.name, words, clip) == ("msr+utkinect", "msr+utkinect, all clips (treated as public)", DEFAULT_CLIP)
    assert np.array_equal(pub.X, np.concatenate([msr.X, utk.X])) and np.array_equal(pub.y, np.concatenate([msr.y, utk.y + 20]))
    for bad in ("msr+msr", "msr+ntu", "msr+", ""):
        with pytest.raises(ValueError, match="neither a library dataset"): B.load_public(bad, data_root)
    m = pretrain_public(pub, clip, settings=recipe("stgcn_ft", channels=(8,), pretrain_epochs=1))
    assert m.num_classes == 30
    save_checkpoint(m, tmp_path / "pooled", {"dataset": pub.name, "pretrained_on": pub.name, "layout": clip.layout, "spec": clip.channels,
                                             "frames": clip.frames})
    back, _, _, words = B.load_public(tmp_path / "pooled", data_root)
    assert (back.name, back.checkpoint, back.X.shape) == ("msr+utkinect", str(tmp_path / "pooled"), pub.X.shape)
    assert words.startswith("checkpoint pooled, its own statistics")


def test_2d_clips_stay_2d(tiny, tmp_path, monkeypatch):
    "A 2-D protocol (ClipSpec(depth=False)): every trainer gets a projecting augmentation; run file and card say depth false."
    from prism.checkpoint import load_checkpoint, card_contract, checkpoint_paths
    X, y, _, _ = tiny
    X2 = X.copy(); X2[:, 2::3] = 0
    Xp = (np.random.default_rng(3).normal(size=(20, 9, 16, 15)) * 2 + 1).astype(np.float32); Xp[:, 2::3] = 0
    clip = ClipSpec(frames=16, depth=False)
    p = Protocol("utd", "synthetic 2-D test data", X2, y, X2, y, np.array([f"p{i % 6}" for i in range(len(y))]),
                 np.array([f"q{i % 6}" for i in range(len(y))]), tuple("abcd"), clip, public=PublicData("pub", Xp, np.arange(20) % 5))
    seen, real = [], B.PrivacyPreservingTrainer
    def spy(*a, **k):
        seen.append(k.get("augment")); return real(*a, **k)
    monkeypatch.setattr(B, "PrivacyPreservingTrainer", spy)
    out = run_experiment(p, "stgcn", None, 0, FAST["stgcn"], checkpoint=tmp_path / "m2d")
    run_experiment(p, "stgcn_ft", None, 0, FAST["stgcn_ft"])    # public pretraining + head
    assert [a.depth for a in seen if a is not None and hasattr(a, "depth")] == [False, False]
    assert out["depth"] is False
    _, card = load_checkpoint(tmp_path / "m2d")
    assert card["depth"] is False and card_contract(card) == clip
    assert "Depth**: none (2-D clips" in checkpoint_paths(tmp_path / "m2d")["markdown"].read_text()
    assert card_contract({k: v for k, v in card.items() if k != "depth"}).depth   # cards from before depth existed: 3-D


def test_public_start_begins_from_the_public_network(tiny, monkeypatch):
    "public_init_epochs: the run starts from an ST-GCN trained on the public clips (all but head and input statistics), shared through `backbones`; the streams' members each get one on their channels."
    p = _protocol(tiny)
    calls, real = [], B.pretrain_public
    def marked(public, clip, kind, settings, seed, device):   # the real pretraining, then every block weight set to 0.25
        calls.append((public.X.shape[1], kind, settings.epochs, settings.public_init_epochs))
        m = real(public, clip, kind, settings, seed, device)
        with torch.no_grad():
            for n, v in m.named_parameters():
                if not n.startswith("head."): v.fill_(0.25)
        return m
    monkeypatch.setattr(B, "pretrain_public", marked)
    s = recipe("stgcn", epochs=1, batch_size=8, channels=(8, 16), lr=1e-9, public_init_epochs=2)
    shared = {}
    out, model = run_experiment(p, "stgcn", None, 0, s, return_model=True, backbones=shared)
    assert calls == [(9, "stgcn", 2, 0)] and len(shared) == 1 and out["settings"]["public_init_epochs"] == 2
    assert out["public_start"] == "pub" and out["pretrained_on"] is None               # its weights saw the private clips too
    blocks = {n: v for n, v in model.named_parameters() if n.startswith("blocks.")}
    assert blocks and all(torch.allclose(v, torch.full_like(v, 0.25), atol=1e-6) for v in blocks.values())   # the start's weights (lr ~ 0)
    start = next(iter(shared.values()))
    assert model.head.out_features == 4 and start.head.out_features == 5                # the protocol's classes, the public's
    assert not torch.equal(model.input_norm.mean, start.input_norm.mean)                 # the protocol's input statistics, not the start's
    run_experiment(p, "stgcn", None, 0, s, backbones=shared)
    assert len(calls) == 1                                                            # the same start, reused
    ens = run_experiment(p, "stgcn", None, 0, recipe("stgcn", epochs=1, batch_size=8, channels=(8, 16), public_init_epochs=1, streams=("vel", "pos+bone")))
    assert [c[0] for c in calls[1:]] == [3, 6] and ens["public_start"] == "pub"        # each member's start sees its channels only
    with pytest.raises(ValueError, match="for the end-to-end ST-GCN"): run_experiment(p, "lstm", None, 0, recipe("lstm", epochs=1, public_init_epochs=1))
    with pytest.raises(ValueError, match="no public dataset"): run_experiment(_protocol(tiny, public=False), "stgcn", None, 0, s)
    with pytest.raises(ValueError, match="an integer above warmup_epochs=5"): recipe("stgcn", public_init_epochs=5)


def test_public_start_checkpoint_counts_both_datasets(data_root, tmp_path):
    "A checkpoint whose run had a public start saw both datasets: as public data it is their pool, refused for either protocol."
    from prism.experiments import load_public, load_protocol
    from prism.checkpoint import save_checkpoint
    from prism.models import STGCN_PRISM
    m = STGCN_PRISM(num_joints=15, in_channels=9, num_classes=20, layout="prism15", channels=(8, 16))
    card = {"dataset": "msr", "model": "stgcn", "public_start": "utd", "pretrained_on": None, "spec": "pos+vel+bone", "frames": 32, "layout": "prism15"}
    save_checkpoint(m, tmp_path / "msr_start", card)
    from prism.checkpoint import checkpoint_paths
    assert "**Public start**: first trained on utd (public data), then on msr" in checkpoint_paths(tmp_path / "msr_start")["markdown"].read_text()
    pub, *_ = load_public(tmp_path / "msr_start", data_root)
    assert pub.name == "msr+utd"
    for ds in ("utd", "msr"):
        with pytest.raises(ValueError, match=f"cannot include {ds}"): load_protocol(ds, data_root, public=str(tmp_path / "msr_start"))


def test_public_clips_of_another_spec_are_refused():
    "Loaded public data says which clip spec made it; asked for another spec of the same shape (2-D, the body's frame), it is refused."
    Xp = np.zeros((4, 9, 16, 15), np.float32)
    pub = PublicData("msr", Xp, np.arange(4), clip=CLIP)
    assert B.load_public(pub, clip=CLIP)[1] == CLIP and B.load_public(pub)[1] == CLIP   # its own spec, given or not
    for other in (ClipSpec(frames=16, depth=False), ClipSpec(frames=16, view="body")):
        with pytest.raises(ValueError, match="pass its name"): B.load_public(pub, clip=other)
    assert B.load_public(PublicData("msr", Xp, np.arange(4)), clip=ClipSpec(frames=16, view="body"))[1].view == "body"   # unstated: as given
    cut = B.protocol_channels(_protocol(tiny=(np.zeros((6, 9, 16, 15), np.float32), np.arange(6) % 4, None, None), public=False), "pos")
    assert cut.clip.channels == "pos"
    p = _protocol((np.zeros((6, 9, 16, 15), np.float32), np.arange(6) % 4, None, None))
    p = B.replace(p, public=B.replace(p.public, clip=CLIP))
    assert B.protocol_channels(p, "pos+vel").public.clip == ClipSpec("prism15", "pos+vel", 16)   # a stream's public clips state its channels
