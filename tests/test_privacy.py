"Proof that prism.privacy's DP-SGD is DP-SGD: accounting, noise, clipping, Poisson sampling, refusals."
import os, warnings
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from opacus.data_loader import DPDataLoader
from prism.privacy import (create_privacy_config, PrivacyConfig, PrivacyPreservingTrainer, privacy_ledger,
                           epsilon_from_history, SkeletonAugment, LinearHead, extract_features, PRIVACY_UNIT)
from prism.models import STGCN_PRISM, LSTMBaseline

for m in ["Secure RNG turned off", "Optimal order is the largest alpha", "Full backward hook"]:
    warnings.filterwarnings("ignore", message=m)

def _lin_data(n=64, d=5, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, d, generator=g), torch.randint(0, k, (n,), generator=g))

def _weights(m): return torch.cat([p.detach().flatten() for p in m.parameters()])

# ------------------------------------------------------------------ configuration
@pytest.mark.parametrize("kw,msg", [
    (dict(epsilon=0), "epsilon must be a finite number > 0"), (dict(epsilon=-2), "epsilon must be"),
    (dict(epsilon=float("inf")), "epsilon must be"), (dict(epsilon=None), "epsilon must be"),
    (dict(epsilon=1, delta=1), "delta must be in (0, 1)"), (dict(epsilon=1, delta=0), "delta must be in (0, 1)"),
    (dict(epsilon=1, delta=1.5), "delta must be in (0, 1)"), (dict(epsilon=1, max_grad_norm=0), "max_grad_norm must be > 0"),
    (dict(epsilon=1, accountant="gdp"), "accountant must be"), (dict(epsilon=1, grad_sample_mode="ew"), "grad_sample_mode must be"),
    (dict(epsilon=None, noise_multiplier=-1), "noise_multiplier must be >= 0"),
    (dict(epsilon=1, max_physical_batch_size=0), "max_physical_batch_size")])
def test_config_rejects_bad_budgets(kw, msg):
    with pytest.raises(ValueError) as e: create_privacy_config(**kw)
    assert msg in str(e.value)

def test_delta_warning_once_n_is_known():
    with pytest.warns(UserWarning, match=r"delta=0.05 >= 1/N"): create_privacy_config(1.0, 0.05, num_samples=64)
    tr = PrivacyPreservingTrainer(nn.Linear(5, 3), create_privacy_config(2.0, 0.05, accountant="rdp"), track_epsilon=False)
    with pytest.warns(UserWarning, match=r"1/N = 1/64"): tr.train(DataLoader(_lin_data(), batch_size=16), num_epochs=1)

def test_describe_names_the_privacy_unit():
    d = create_privacy_config(1.0, 1e-5).describe()
    assert PRIVACY_UNIT in d and "group privacy" in d

# ------------------------------------------------------------------ refusals
def test_refuses_models_opacus_cannot_train():
    cfg = create_privacy_config(1.0, 1e-5)
    with pytest.raises(ValueError, match="BatchNorm"): PrivacyPreservingTrainer(nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)), cfg)
    with pytest.raises(ValueError, match="inplace=True"): PrivacyPreservingTrainer(nn.Sequential(nn.Linear(4, 4), nn.ReLU(inplace=True)), cfg)
    with pytest.raises(ValueError, match="LSTM"): PrivacyPreservingTrainer(nn.LSTM(4, 4), cfg)
    with pytest.raises(TypeError, match="PrivacyConfig"): PrivacyPreservingTrainer(nn.Linear(4, 4), {"epsilon": 1})
    with pytest.raises(ValueError, match="not 'ghost'"):
        PrivacyPreservingTrainer(nn.Linear(4, 4), create_privacy_config(1.0, grad_sample_mode="ghost"), augment=lambda x: x, augment_multiplicity=2)
    with pytest.raises(ValueError, match="num_epochs must be >= 1"):
        PrivacyPreservingTrainer(nn.Linear(5, 3)).train(DataLoader(_lin_data(), batch_size=16), num_epochs=0)

# ------------------------------------------------------------------ accounting
@pytest.mark.parametrize("eps,acc", [(1.0, "prv"), (4.0, "rdp")])
def test_epsilon_within_target_and_poisson_loader(eps, acc):
    torch.manual_seed(0)
    tr = PrivacyPreservingTrainer(nn.Linear(5, 3), create_privacy_config(eps, 1e-5, accountant=acc), lr=0.1, track_epsilon=False)
    res = tr.train(DataLoader(_lin_data(200), batch_size=20, shuffle=True), num_epochs=3)
    led = res["ledger"]
    assert led[f"epsilon_{acc}"] <= eps + 1e-6
    assert led["epsilon_prv"] <= led["epsilon_rdp"] + 1e-6
    assert led["steps"] == 30 and abs(led["sample_rate"] - 0.1) < 1e-12 and led["noise_multiplier"] > 0
    assert led["privacy_unit"] == PRIVACY_UNIT and "group privacy" in led["person_level"]
    assert "hyperparameters" in led["covers"]
    assert isinstance(tr.train_loader_, DPDataLoader)                 # Poisson sampling
    assert res["history"][-1]["epsilon"] == pytest.approx(led[f"epsilon_{acc}"])

def test_ledger_recomputes_from_history():
    h = [(1.0, 0.05, 200)]
    cfg = create_privacy_config(3.0, 1e-5)
    led = privacy_ledger(h, cfg, num_samples=1000, epochs=10)
    assert led["epsilon_prv"] == pytest.approx(epsilon_from_history(h, 1e-5, "prv"))
    assert led["epsilon_prv"] < led["epsilon_rdp"]
    assert epsilon_from_history([], 1e-5) == 0.0 and epsilon_from_history([(0.0, 0.1, 1)], 1e-5) == float("inf")

# ------------------------------------------------------------------ noise and clipping
def _run(seed, cfg, ds=None, model_seed=0, **kw):
    torch.manual_seed(model_seed); m = nn.Linear(5, 3)
    PrivacyPreservingTrainer(m, cfg, lr=0.5, seed=seed, track_epsilon=False, **kw).train(
        DataLoader(ds or _lin_data(), batch_size=16), num_epochs=2)
    return _weights(m)

def test_different_seeds_differ_same_seed_reproduces():
    cfg = create_privacy_config(4.0, 1e-3, accountant="rdp")
    a, b, c = _run(0, cfg), _run(1, cfg), _run(0, cfg)
    assert not torch.allclose(a, b)
    assert torch.equal(a, c)

def test_noise_is_added():
    "Same Poisson batches (same seed) with and without noise: the weights differ by the noise."
    with_noise = _run(0, create_privacy_config(None, 1e-3, noise_multiplier=1.0, accountant="rdp"))
    without = _run(0, create_privacy_config(None, 1e-3, noise_multiplier=0.0))
    assert (with_noise - without).abs().max() > 1e-3

def _clipped_mean_update(w0, x, y, C, lr, views=None):
    ref = nn.Linear(x.shape[1], 3).double()
    with torch.no_grad():
        for q, p in zip(ref.parameters(), w0): q.copy_(p)
    def grads(xi, yi): return torch.autograd.grad(nn.functional.cross_entropy(ref(xi), yi), list(ref.parameters()))
    per = []
    for i in range(len(x)):
        if views is None: per.append(grads(x[i:i+1], y[i:i+1]))
        else:
            gs = [grads(v(x[i:i+1]), y[i:i+1]) for v in views]
            per.append([sum(g[j] for g in gs) / len(gs) for j in range(2)])
    norms = torch.stack([torch.cat([g.flatten() for g in gs]).norm() for gs in per])
    f = (C / (norms + 1e-6)).clamp(max=1.0)
    return [p0 - lr * sum(fi * gs[j] for fi, gs in zip(f, per)) / len(x) for j, p0 in enumerate(w0)]

@pytest.mark.parametrize("mode", ["hooks", "functorch", "ghost"])
def test_zero_noise_update_is_clipped_mean_gradient(mode):
    ds = _lin_data(32)
    torch.manual_seed(0); m = nn.Linear(5, 3).double(); w0 = [p.detach().clone() for p in m.parameters()]
    cfg = create_privacy_config(None, 1e-3, max_grad_norm=0.3, noise_multiplier=0.0, grad_sample_mode=mode)
    x, y = ds.tensors
    ds64 = TensorDataset(x.double(), y)
    tr = PrivacyPreservingTrainer(m, cfg, lr=1.0, momentum=0.0, track_epsilon=False)
    # PrivacyPreservingTrainer casts inputs to float32; keep the model float32 too for this check
    m.float(); w0 = [w.float() for w in w0]
    tr.train(DataLoader(ds, batch_size=32), num_epochs=1)       # q = 1: one step on all 32 sequences
    exp = _clipped_mean_update([w.double() for w in w0], x.double(), y, 0.3, 1.0)
    for p, e in zip(m.parameters(), exp): assert torch.allclose(p.detach().double(), e, atol=1e-5)

def test_augmentation_multiplicity_averages_views_before_clipping():
    ds = _lin_data(32)
    calls = {"n": 0}
    def aug(x):                               # deterministic views: x * 1, x * 2, x * 1, x * 2, ...
        calls["n"] += 1
        return x * (1.0 if calls["n"] % 2 else 2.0)
    torch.manual_seed(0); m = nn.Linear(5, 3); w0 = [p.detach().clone() for p in m.parameters()]
    cfg = create_privacy_config(None, 1e-3, max_grad_norm=0.3, noise_multiplier=0.0)
    PrivacyPreservingTrainer(m, cfg, lr=1.0, momentum=0.0, augment=aug, augment_multiplicity=2,
                             track_epsilon=False).train(DataLoader(ds, batch_size=32), num_epochs=1)
    x, y = ds.tensors
    exp = _clipped_mean_update([w.double() for w in w0], x.double(), y, 0.3, 1.0, views=[lambda v: v, lambda v: 2 * v])
    for p, e in zip(m.parameters(), exp): assert torch.allclose(p.detach().double(), e, atol=1e-5)

def test_nonprivate_trainer_same_loop():
    torch.manual_seed(0); m = nn.Linear(5, 3)
    res = PrivacyPreservingTrainer(m, None, lr=0.5, ema_decay=0.9).train(
        DataLoader(_lin_data(), batch_size=16, shuffle=True), DataLoader(_lin_data(), batch_size=64), num_epochs=3)
    assert not res["private"] and res["ledger"] is None and len(res["history"]) == 3
    assert set(res["final"]) == {"val_loss", "val_acc"} and res["best"]["epoch"] in (1, 2, 3)

def test_augment_rotation_is_consistent_across_vector_groups():
    x = torch.randn(3, 9, 8, 15)
    y = SkeletonAugment(rotate_deg=40, scale=0.0, shift=0, generator=torch.Generator().manual_seed(1))(x)
    for g in range(3):
        assert torch.allclose(y[:, 3*g:3*g+3].norm(dim=1), x[:, 3*g:3*g+3].norm(dim=1), atol=1e-5)
    assert SkeletonAugment()(torch.zeros(0, 9, 8, 15)).shape == (0, 9, 8, 15)

# ------------------------------------------------------------------ real data, small subset
def _utd_subset():
    root = os.environ.get("PRISM_DATA")
    if not root or not os.path.isdir(os.path.join(root, "utd_mhad")):
        pytest.skip("PRISM_DATA is not set or has no utd_mhad/: set PRISM_DATA to the data root")
    from prism.data import load_utd_mhad, utd_cross_subject
    from prism.pose import normalize_pose
    from prism.skeleton import to_common
    from prism.kinematics import compute_channels
    recs = [r for r in load_utd_mhad(root) if r.label < 4]
    tr, te = utd_cross_subject(recs)
    def t(r):
        x = to_common(normalize_pose(r.joints, r.layout, center="first"), r.layout, "prism15")
        x = x[np.linspace(0, len(x) - 1, 16).round().astype(int)]
        return compute_channels(x, "prism15", "pos+vel").transpose(2, 0, 1)
    mk = lambda rs: TensorDataset(torch.tensor(np.stack([t(r) for r in rs])), torch.tensor([r.label for r in rs]))
    return mk(tr), mk(te)

@pytest.mark.parametrize("make", [
    lambda: STGCN_PRISM(num_joints=15, in_channels=6, num_classes=4, channels=(8, 16), temporal_kernel=3),
    lambda: LSTMBaseline(num_joints=15, in_channels=6, num_classes=4, hidden_size=16)])
def test_real_subset_private_training(make):
    tr_ds, te_ds = _utd_subset()
    torch.manual_seed(0)
    trainer = PrivacyPreservingTrainer(make(), create_privacy_config(4.0, 1e-5), lr=0.1, seed=0,
                                       augment=SkeletonAugment(), augment_multiplicity=2, ema_decay=0.9)
    res = trainer.train(DataLoader(tr_ds, batch_size=16, shuffle=True), DataLoader(te_ds, batch_size=64), num_epochs=2)
    assert res["ledger"]["epsilon_prv"] <= 4.0 + 1e-6 and res["ledger"]["augment_multiplicity"] == 2
    assert 0.0 <= res["final"]["val_acc"] <= 1.0 and isinstance(trainer.train_loader_, DPDataLoader)
    f, y = extract_features(trainer.model, DataLoader(te_ds, batch_size=64))
    assert f.shape[0] == len(te_ds) and y.shape == (len(te_ds),)
