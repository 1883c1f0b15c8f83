"Proof that prism.privacy's DP-SGD is DP-SGD: accounting, noise, clipping, Poisson sampling, refusals."
import os, warnings
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from opacus.data_loader import DPDataLoader
from prism.privacy import (create_privacy_config, PrivacyConfig, PrivacyPreservingTrainer, privacy_ledger,
                           epsilon_from_history, LinearHead, PRIVACY_UNITS, is_nonprivate,
                           secret_generator, secret_numpy_rng, gaussian_noise, run_generators, noise_multiplier_for, group_privacy,
                           compose_releases, format_ledger, PersonDataset, collate_persons, _hparams)
from prism.models import STGCN_PRISM, LSTMBaseline, run_model
from prism.clip import Augment, ClipSpec, clip_arrays

for m in ["Optimal order is the largest alpha", "Full backward hook"]:
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
    assert PRIVACY_UNITS["clip"] in d and "add/remove one unit" in d and "secret" in d
    assert "NOT PRIVATE" in create_privacy_config(1.0, 1e-5, reproducible=True).describe()

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
    assert led["privacy_unit"] == PRIVACY_UNITS["clip"] and led["private"] and led["randomness"].startswith("secret")
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

def test_same_seed_private_runs_differ():
    "Private runs with the same seed end with different weights: noise and sampling are secret."
    cfg = create_privacy_config(4.0, 1e-3, accountant="rdp")
    a, b = _run(0, cfg), _run(0, cfg)
    assert not torch.allclose(a, b)

def test_replay_from_recorded_seed_fails_against_private_run():
    "An attacker who knows the recorded seed replays the run reproducibly: it matches a reproducible run exactly, never a private one."
    private = _run(7, create_privacy_config(4.0, 1e-3, accountant="rdp"))
    rep = create_privacy_config(4.0, 1e-3, accountant="rdp", reproducible=True)
    replay, victim = _run(7, rep), _run(7, rep)
    assert torch.equal(replay, victim)                     # the attack works against a reproducible run ...
    assert (replay - private).abs().max() > 1e-3           # ... and not against a private one

def test_ledger_says_which_randomness():
    tr = PrivacyPreservingTrainer(nn.Linear(5, 3), create_privacy_config(4.0, 1e-3, accountant="rdp", reproducible=True), track_epsilon=False)
    led = tr.train(DataLoader(_lin_data(), batch_size=16), num_epochs=1)["ledger"]
    assert led["private"] is False and "NOT PRIVATE" in led["randomness"] and format_ledger(led).startswith("NOT PRIVATE")
    tr = PrivacyPreservingTrainer(nn.Linear(5, 3), create_privacy_config(4.0, 1e-3, accountant="rdp"), track_epsilon=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert tr.train(DataLoader(_lin_data(), batch_size=16), num_epochs=1)["ledger"]["private"] is True
    assert not [w for w in caught if "Secure RNG" in str(w.message)]   # Opacus's "secure RNG off" would mislead: PRISM's generator is secret
    assert tr.optimizer_.secure_mode and tr.optimizer_.generator is not None   # Opacus's four-draw noise, PRISM's generator

def test_gaussian_noise_law_and_secrecy():
    z = gaussian_noise((50_000,), 3.0, secret_generator())
    assert abs(float(z.std()) - 3.0) < 0.06 and abs(float(z.mean())) < 0.06
    assert not torch.equal(gaussian_noise((8,), 1.0, secret_generator()), gaussian_noise((8,), 1.0, secret_generator()))
    assert torch.equal(gaussian_noise((4,), 0.0, secret_generator()), torch.zeros(4))

def test_secret_numpy_rng_never_repeats():
    a, b = secret_numpy_rng(), secret_numpy_rng()
    assert isinstance(a, np.random.Generator) and not np.array_equal(a.integers(0, 2**62, 8), b.integers(0, 2**62, 8))

def test_noise_multiplier_for_matches_accountant():
    for eps in (0.5, 1.0, 4.0):
        s = noise_multiplier_for(eps, 1e-5, 1.0, 1)
        assert epsilon_from_history([(s, 1.0, 1)], 1e-5) == pytest.approx(eps, abs=0.02 * eps + 0.01)
    s = noise_multiplier_for(2.0, 1e-5, 0.1, 300, accountant="rdp")
    assert epsilon_from_history([(s, 0.1, 300)], 1e-5, "rdp") <= 2.0 + 0.02

def test_group_privacy_delta_grows_and_vacuous():
    g = group_privacy(1.0, 1e-5, 108)
    assert g["vacuous"] and g["delta"] == 1.0 and "no guarantee" in g["text"]
    g = group_privacy(0.5, 1e-5, 3)
    assert not g["vacuous"] and g["epsilon"] == pytest.approx(1.5) and g["delta"] == pytest.approx(3 * np.exp(1.0) * 1e-5)

def test_compose_releases():
    led = lambda e: privacy_ledger([(noise_multiplier_for(e, 1e-5, 1.0, 1), 1.0, 1)], create_privacy_config(e), 100, 1)
    one = compose_releases([{"name": "a", "ledger": led(1.0)}])
    two = compose_releases([{"name": "a", "ledger": led(1.0)}, {"name": "b", "ledger": led(1.0)}])
    assert one["epsilon"] == pytest.approx(1.0, abs=0.03) and 1.0 < two["epsilon"] <= 2.05
    rep = privacy_ledger([(1.0, 0.1, 10)], create_privacy_config(1.0, reproducible=True), 100, 1)
    assert compose_releases([{"name": "a", "ledger": led(1.0)}, {"name": "seeded", "ledger": rep}])["epsilon"] == float("inf")
    assert compose_releases([{"name": "plain", "ledger": None}])["not_private"] == ["plain"]

def test_format_ledger_without_clipping_norm():
    assert "C=n/a" in format_ledger({"epsilon_prv": 1.0, "epsilon_rdp": 1.1, "delta": 1e-5, "max_grad_norm": None, "noise_multiplier": 4.0})

def test_hparams_record_settings_not_reprs():
    h = _hparams(augment=Augment(rotate_deg=20), pick=lambda v: v, n=3)
    assert h["augment"]["rotate_deg"] == 20 and "0x" not in str(h) and h["n"] == 3

def test_person_unit_one_clipped_gradient_per_person():
    x, y = _lin_data(30).tensors
    persons = np.repeat(np.arange(6), 5)
    ds = PersonDataset(x, y, persons, max_clips=4)
    assert len(ds) == 6 and ds.clips == 24
    torch.manual_seed(0); m = nn.Linear(5, 3); w0 = [p.detach().clone() for p in m.parameters()]
    cfg = create_privacy_config(None, 1e-3, max_grad_norm=0.3, noise_multiplier=0.0, unit="person", max_clips_per_person=4)
    res = PrivacyPreservingTrainer(m, cfg, lr=1.0, momentum=0.0, track_epsilon=False).train(
        DataLoader(ds, batch_size=6, collate_fn=collate_persons), num_epochs=1)
    assert res["ledger"]["unit"] == "person" and res["ledger"]["num_samples"] == 6
    ref = nn.Linear(5, 3).double()
    with torch.no_grad():
        for q, p in zip(ref.parameters(), w0): q.copy_(p)
    upd = [torch.zeros_like(p).double() for p in w0]
    for i in range(6):
        xi, yi = ds[i]
        gs = [torch.autograd.grad(nn.functional.cross_entropy(ref(xi[j:j+1].double()), yi[j:j+1]), list(ref.parameters())) for j in range(len(yi))]
        g = [sum(t[k] for t in gs) / len(gs) for k in range(2)]
        f = min(1.0, 0.3 / (float(torch.cat([t.flatten() for t in g]).norm()) + 1e-6))
        for k in range(2): upd[k] += f * g[k] / 6
    for p, p0, u in zip(m.parameters(), w0, upd): assert torch.allclose(p.detach().double(), p0.double() - u, atol=1e-5)

def test_person_unit_accounts_people():
    x, y = _lin_data(200).tensors
    ds = PersonDataset(x, y, np.repeat(np.arange(50), 4))
    res = PrivacyPreservingTrainer(nn.Linear(5, 3), create_privacy_config(4.0, 1e-3, unit="person"), track_epsilon=False).train(
        DataLoader(ds, batch_size=10, collate_fn=collate_persons), num_epochs=2)
    led = res["ledger"]
    assert led["num_samples"] == 50 and led["sample_rate"] == pytest.approx(0.2) and led["epsilon_prv"] <= 4.0 + 1e-6
    assert "per person" in led["person_level"]["text"]

def test_noise_is_added():
    "Same Poisson batches (same seed, reproducible) with and without noise: the weights differ by the noise."
    with_noise = _run(0, create_privacy_config(None, 1e-3, noise_multiplier=1.0, accountant="rdp", reproducible=True))
    without = _run(0, create_privacy_config(None, 1e-3, noise_multiplier=0.0, reproducible=True))
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

def test_is_nonprivate():
    assert [is_nonprivate(e) for e in (None, "none", "No DP", "inf", float("inf"), 1, 0.5, "1")] == [True] * 5 + [False] * 3

# ------------------------------------------------------------------ real data, small subset
def _utd_subset():
    root = os.environ.get("PRISM_DATA")
    if not root or not os.path.isdir(os.path.join(root, "utd_mhad")):
        pytest.skip("PRISM_DATA is not set or has no utd_mhad/: set PRISM_DATA to the data root")
    from prism.data import load_utd_mhad, utd_cross_subject
    recs = [r for r in load_utd_mhad(root) if r.label < 4]
    tr, te = utd_cross_subject(recs)
    mk = lambda rs: TensorDataset(*map(torch.as_tensor, clip_arrays(rs, ClipSpec(channels="pos+vel", frames=16))))
    return mk(tr), mk(te)

@pytest.mark.parametrize("make", [
    lambda: STGCN_PRISM(num_joints=15, in_channels=6, num_classes=4, channels=(8, 16), temporal_kernel=3),
    lambda: LSTMBaseline(num_joints=15, in_channels=6, num_classes=4, hidden_size=16)])
def test_real_subset_private_training(make):
    tr_ds, te_ds = _utd_subset()
    torch.manual_seed(0)
    trainer = PrivacyPreservingTrainer(make(), create_privacy_config(4.0, 1e-5), lr=0.1, seed=0,
                                       augment=Augment(), augment_multiplicity=2, ema_decay=0.9)
    res = trainer.train(DataLoader(tr_ds, batch_size=16, shuffle=True), DataLoader(te_ds, batch_size=64), num_epochs=2)
    assert res["ledger"]["epsilon_prv"] <= 4.0 + 1e-6 and res["ledger"]["augment_multiplicity"] == 2
    assert 0.0 <= res["final"]["val_acc"] <= 1.0 and isinstance(trainer.train_loader_, DPDataLoader)
    f = run_model(trainer.model, DataLoader(te_ds, batch_size=64), method="features")
    assert f.shape[0] == len(te_ds)


# ------------------------------------------------------------------ one Gaussian release of class sums (and F^T F)
def _unit_rows(n=30, d=6, seed=0):
    F = torch.randn(n, d, generator=torch.Generator().manual_seed(seed))
    return F / F.norm(dim=1, keepdim=True), torch.arange(n) % 3

def test_class_sums_noise_is_secret_and_calibrated_by_the_accountant(monkeypatch):
    "The noise comes from run_generators (secret generators), its multiplier from noise_multiplier_for; the ledger's epsilon is the target."
    import prism.privacy as P
    F, y = _unit_rows()
    calls = []
    real = P.secret_generator
    monkeypatch.setattr(P, "secret_generator", lambda *a, **k: calls.append(a) or real(*a, **k))
    r = P.private_class_sums(F, y, 3, create_privacy_config(2.0, 1e-5), seed=0)
    assert calls, "the release did not draw from the secret generators"
    assert r["noise_multiplier"] == noise_multiplier_for(2.0, 1e-5, sample_rate=1.0, steps=1)
    led = r["ledger"]
    assert led["epsilon_prv"] <= 2.0 + 1e-6 and led["steps"] == 1 and led["sample_rate"] == 1.0 and led["private"]
    assert led["randomness"].startswith("secret") and "Gaussian mechanism" in led["mechanism"]
    again = P.private_class_sums(F, y, 3, create_privacy_config(2.0, 1e-5), seed=0)
    assert not torch.equal(r["sums"], again["sums"])                       # same seed, new noise
    rep = create_privacy_config(2.0, 1e-5, reproducible=True)
    a, b = P.private_class_sums(F, y, 3, rep, seed=5), P.private_class_sums(F, y, 3, rep, seed=5)
    assert torch.equal(a["sums"], b["sums"]) and a["ledger"]["private"] is False and "NOT PRIVATE" in a["ledger"]["randomness"]

def test_class_sums_split_release_composes_to_the_target():
    from prism.privacy import private_class_sums
    F, y = _unit_rows()
    r = private_class_sums(F, y, 3, create_privacy_config(4.0, 1e-5), second_moment=0.3)
    z = noise_multiplier_for(4.0, 1e-5, sample_rate=1.0, steps=1)
    zs = r["noise_multipliers"]
    assert abs(zs["sums"] ** -2 + zs["second_moment"] ** -2 - z ** -2) < 1e-9   # 1/sigma^2 split: one Gaussian mechanism in total
    assert r["ledger"]["epsilon_prv"] <= 4.0 + 1e-6 and r["ledger"]["steps"] == 2
    A = r["second_moment"]; assert torch.equal(A, A.T)
    exact = private_class_sums(F, y, 3, None, second_moment=0.3)
    assert torch.allclose(exact["second_moment"], F.T @ F, atol=1e-5) and exact["ledger"] is None

def test_class_sums_refuse_unbounded_rows_and_bad_labels():
    from prism.privacy import private_class_sums
    F, y = _unit_rows()
    with pytest.raises(ValueError, match="L2 norm <= 1"): private_class_sums(1.5 * F, y, 3, create_privacy_config(1.0))
    with pytest.raises(ValueError, match="labels must be in"): private_class_sums(F, y + 1, 3, None)
    with pytest.raises(ValueError, match="person privacy unit needs"):
        private_class_sums(F, y, 3, create_privacy_config(1.0, unit="person"))
    with pytest.raises(ValueError, match="second_moment must be in"): private_class_sums(F, y, 3, None, second_moment=1.0)

def test_class_sums_person_unit_bounds_each_person():
    "Adding or removing one person moves the sums by at most 1: each person's clips are weighted 1/count."
    from prism.privacy import private_class_sums
    F, y = _unit_rows()
    persons = np.repeat(np.arange(6), 5)
    cfg0 = create_privacy_config(None, 1e-5, noise_multiplier=0.0, unit="person")
    full = private_class_sums(F, y, 3, cfg0, persons=persons)["sums"]
    keep = persons != 2
    without = private_class_sums(F[keep], y[keep], 3, cfg0, persons=persons[keep])["sums"]
    assert (full - without).norm() <= 1 + 1e-5
