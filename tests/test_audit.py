"Privacy audit: statistics with known answers, the bad-input matrix, and a tiny end-to-end `run_audit` on real UTD-MHAD."
import json, math
import numpy as np
import pytest
import torch

from prism.attacks import (roc_points, auc_score, tpr_at_fpr, mia_metrics, clopper_pearson, eps_lower_bound, max_eps_lower_bound,
                           one_run_eps_lower_bound, one_run_p_value, one_run_audit, split_eps_lower_bound, audit_verdict,
                           logit_confidence, loss_scores, lira_scores, inclusion_matrix)
from prism.audit import (audit_private_ncm, audit_private_head, reid_probe, canary_audit, train_model, accountant_epsilon,
                         run_noise_multiplier, membership_inference, run_audit, AuditMLP, LinearProbe)
from prism.models import run_model
from prism.privacy import secret_numpy_rng


def test_roc_and_auc_known_answers():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=5000), rng.normal(size=5000)
    assert abs(auc_score(a, b) - 0.5) < 0.02
    assert auc_score(b + 100, b) == 1.0 and auc_score(b, b + 100) == 0.0
    assert auc_score([1, 1], [1, 1]) == 0.5                       # ties count half
    f, t, th = roc_points([0.9, 0.1], [0.5])
    assert f.tolist() == [0, 0, 1, 1] and t.tolist() == [0, 0.5, 0.5, 1]
    # AUC equals the trapezoid area under the empirical ROC
    f, t, _ = roc_points(a + 0.5, b)
    assert abs(np.trapz(t, f) - auc_score(a + 0.5, b)) < 1e-9


def test_tpr_at_fpr_resolvability_and_value():
    out = np.arange(1000.)
    assert tpr_at_fpr(out + 0.5, out, 0.01) == pytest.approx(0.011)   # threshold 989: 11 members >= it, 10 non-members (1%)
    assert math.isnan(tpr_at_fpr(out[:99], out[:99], 0.01))
    m = mia_metrics(out + 0.5, out)
    assert m["n_out"] == 1000 and m["min_resolvable_fpr"] == 0.001 and not math.isnan(m["tpr_at_0.1pct_fpr"])
    with pytest.raises(ValueError, match="fpr must be in"): tpr_at_fpr(out, out, 0)


def test_clopper_pearson():
    lo, hi = clopper_pearson(5, 10)
    assert 0.2 < lo < 0.5 < hi < 0.8
    assert clopper_pearson(0, 20)[0] == 0.0 and clopper_pearson(20, 20)[1] == 1.0
    lo, hi = clopper_pearson(np.array([0, 5]), np.array([10, 10]))
    assert lo.shape == (2,)
    # coverage: the one-sided upper bound holds in >= 95% of draws
    rng = np.random.default_rng(0)
    ks = rng.binomial(50, 0.3, 2000)
    assert np.mean([clopper_pearson(k, 50)[1] >= 0.3 for k in ks]) >= 0.95
    for bad, msg in [((3, 0), "n must be >= 1"), ((-1, 5), "k must be in 0..n"), ((1, 5, 0), "alpha must be in")]:
        with pytest.raises(ValueError, match=msg): clopper_pearson(*bad)


def test_eps_lower_bound_null_is_rarely_positive():
    rng = np.random.default_rng(0)
    positives = sum(eps_lower_bound(rng.normal(size=100), rng.normal(size=100))["eps_lb"] > 0 for _ in range(60))
    assert positives <= 6                                     # alpha = 0.05 over the whole max: ~3 of 60 expected at most


def test_eps_lower_bound_respects_a_known_dp_mechanism():
    # randomized response is exactly eps-DP: member -> 1 w.p. e^eps/(1+e^eps), non-member -> 1 w.p. 1/(1+e^eps)
    rng = np.random.default_rng(0)
    for eps in (0.5, 1.0, 2.0):
        p = math.exp(eps) / (1 + math.exp(eps))
        si, so = (rng.random(20000) < p).astype(float), (rng.random(20000) < 1 - p).astype(float)
        lb = eps_lower_bound(si, so, fractions=(0.3,))["eps_lb"]
        assert 0.8 * eps < lb <= eps, (eps, lb)


def test_eps_lower_bound_ceiling_and_delta():
    r = eps_lower_bound(np.ones(100) + 1, np.zeros(100))
    assert r["eps_lb"] == pytest.approx(r["max_possible"]) and r["tests"] == 2             # ties: only 2 distinct thresholds
    assert r["max_possible"] == pytest.approx(max_eps_lower_bound(100, 100, n_thresholds=1))
    rng = np.random.default_rng(0)
    r = eps_lower_bound(rng.random(100) + 2, rng.random(100))      # distinct scores: all 8 thresholds
    assert r["eps_lb"] == pytest.approx(r["max_possible"]) and r["max_possible"] == pytest.approx(max_eps_lower_bound(100, 100))
    assert eps_lower_bound(np.ones(100) + 1, np.zeros(100), delta=0.5)["eps_lb"] < r["eps_lb"]
    with pytest.raises(ValueError, match="delta must be in"): eps_lower_bound([1.], [0.], delta=1)
    with pytest.raises(ValueError, match="scores_out must be a 1-D"): eps_lower_bound([1.], [[0.]])


def test_one_run_bound():
    assert one_run_eps_lower_bound(0, 0) == 0.0 and one_run_eps_lower_bound(50, 100) == 0.0
    b = [one_run_eps_lower_bound(v, 100) for v in (70, 80, 90, 100)]
    assert all(x < y for x, y in zip(b, b[1:])) and b[0] > 0
    # validity: a pure eps-DP guesser (correct w.p. e^eps/(1+e^eps)) exceeds eps in <= 5% of runs
    rng = np.random.default_rng(0); eps = 1.0
    hits = rng.binomial(100, math.exp(eps) / (1 + math.exp(eps)), 300)
    assert np.mean([one_run_eps_lower_bound(int(h), 100) > eps for h in hits]) <= 0.05
    with pytest.raises(ValueError, match="need 0 <= correct <= guesses"): one_run_eps_lower_bound(3, 2)


def test_logit_confidence_and_loss():
    z = np.array([[100., 0., 0.], [0., 0., 0.]]); y = np.array([0, 2])
    c = logit_confidence(z, y)
    assert np.isfinite(c).all() and c[0] == pytest.approx(100 - math.log(2)) and c[1] == pytest.approx(math.log(1 / 2))
    assert loss_scores(z, y)[1] == pytest.approx(-math.log(3))
    with pytest.raises(ValueError, match="logits must be"): logit_confidence(z[0], y)


def test_lira_matrix():
    rng = np.random.default_rng(0)
    N, M = 1000, 8
    keep = inclusion_matrix(M, N, 0)
    S = rng.normal(0, 2, N) + keep + rng.normal(0, 0.3, (M, N))
    for online in (True, False):
        for fv in (True, False):
            s = lira_scores(S[0], S[1:], keep[1:], online=online, fix_variance=fv)
            assert auc_score(s[keep[0]], s[~keep[0]]) > 0.8
    # identical in/out distributions -> chance
    S0 = rng.normal(0, 2, N) + rng.normal(0, 0.3, (M, N))
    s = lira_scores(S0[0], S0[1:], keep[1:])
    assert abs(auc_score(s[keep[0]], s[~keep[0]]) - 0.5) < 0.06
    with pytest.raises(ValueError, match="need target"): lira_scores(S[0, :5], S[1:], keep[1:])
    with pytest.raises(ValueError, match="in no shadow model"): lira_scores(S[0], S[1:], np.zeros_like(keep[1:]))
    assert np.isfinite(lira_scores(S[0], S[1:], np.zeros_like(keep[1:]), online=False)).all()


def test_reid_probe_and_bad_input():
    rng = np.random.default_rng(0)
    subj = np.repeat(np.arange(4), 30); groups = np.tile(np.arange(6), 20)
    F = rng.normal(size=(120, 5)) + subj[:, None] * 3.0
    r = reid_probe(F, subj, groups)
    assert r["accuracy"] > 0.9 and r["chance"] == 0.25 and r["ci_low"] < r["accuracy"] < r["ci_high"]
    noise = reid_probe(rng.normal(size=(120, 5)), subj, groups)
    assert noise["ci_low"] < 0.25 + 0.1
    with pytest.raises(ValueError, match="need features"): reid_probe(F[:10], subj, groups)
    F2 = F.copy(); F2[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"): reid_probe(F2, subj, groups)


def test_train_model_dp_spends_at_most_target():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 10)).astype(np.float32); y = rng.integers(0, 3, 200)
    m, info = train_model(X, y, 3, epsilon=2.0, epochs=3, batch_size=50)
    assert 0 < accountant_epsilon(info) <= 2.0 * 1.01 and info["noise_multiplier"] > 0
    assert isinstance(m, AuditMLP)
    assert info["noise_multiplier"] == run_noise_multiplier(2.0, 1e-5, 4, 3)   # the trainer's own calibration (200 / 50 = 4 batches)
    assert run_noise_multiplier(None, 1e-5, 4, 3) is None
    with pytest.raises(ValueError, match="epsilon must be > 0"): train_model(X, y, 3, epsilon=0)


def test_membership_inference_shares_one_calibration_per_rate():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6)).astype(np.float32); y = np.arange(60) % 3
    res = membership_inference(X, y, 3, n_models=4, epsilon=2.0, epochs=2, batch_size=3, seed=0)   # ~10 batches: q ~ 0.1
    by_rate = {}
    for m in res["models"]: by_rate.setdefault(math.ceil(m["n_train"] / 3), set()).add(m["noise_multiplier"])
    assert all(len(s) == 1 for s in by_rate.values())                      # one sigma per sampling rate, shared
    b, (s,) = next(iter(by_rate.items()))
    assert s == run_noise_multiplier(2.0, 1e-5, b, 2)                      # and it is the library's calibration
    assert set(res["metrics"]) == {"loss", "lira_offline", "lira_online"} and len(res["member"]) == 4 * 60


def test_canary_audit_rejects_reused_examples():
    X = np.zeros((20, 4), np.float32); y = np.zeros(20, int)
    with pytest.raises(ValueError, match="also in train_idx"): canary_audit(X, y, 3, np.arange(10), np.arange(8, 16))
    with pytest.raises(ValueError, match="at least 4 canaries"): canary_audit(X, y, 3, np.arange(10), np.arange(10, 12))


def test_run_audit_tiny_end_to_end(data_root, tmp_path):
    torch.set_num_threads(1)
    s = run_audit(root=data_root, out_dir=tmp_path/"audit", epsilons=(None, 8), n_models=4, epochs=5, control_epochs=60,
                  canaries=40, actions=[1, 2, 3, 4, 5, 6], command="pytest tiny audit", verbose=False)
    files = sorted(p.name for p in (tmp_path/"audit").iterdir())
    assert files == ["audit.json", "mia_roc.png", "reid.csv", "summary.csv"]      # no temporary leftovers
    j = json.loads((tmp_path/"audit"/"audit.json").read_text())
    assert j["command"] == "pytest tiny audit" and j["machine"]["cpu_cores"] and j["date"]
    assert j["clips"] == 192 and j["actions"] == 6 and j["subjects"] == 8
    for row in j["table"]:
        assert row["bound_within_accountant"] is not False, row
        if not row["audit_informative"]: assert row["bound_within_accountant"] is None   # no claim where the audit could not fail
    dp = [r for r in j["table"] if r["epsilon_target"] == 8][0]
    assert dp["accountant_epsilon"] <= 8 * 1.01
    with pytest.raises(ValueError, match="action ids are 1..27"): run_audit(root=data_root, out_dir=None, actions=[99], verbose=False)
    with pytest.raises(ValueError, match="model must be"): run_audit(root=data_root, out_dir=None, model="cnn", verbose=False)


def test_linear_probe_is_dp_trainable_and_its_embedding_is_its_input():
    from opacus.validators import ModuleValidator
    p = LinearProbe(8, 3)
    assert ModuleValidator.validate(p, strict=True) == []
    x = torch.randn(5, 8)
    assert torch.equal(p.features(x), x) and p(x).shape == (5, 3)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 8)).astype(np.float32), np.arange(40) % 3
    m, info = train_model(X, y, 3, epsilon=4.0, epochs=2, batch_size=16, model_fn=lambda: LinearProbe(8, 3))
    assert info["epsilon_prv"] <= 4.0 * 1.01 and np.allclose(run_model(m, X, method="features").numpy(), X)   # calibrated with PRV (noise_multiplier_for)
    with pytest.raises(ValueError, match="'mlp', 'stgcn' or 'stgcn_ft'"): run_audit(model="gru", out_dir=None)


def test_one_run_eps_delta_form():
    r, p = 100, 1 / (1 + math.exp(-1.0))
    assert one_run_p_value(1000, r, r, 1.0) == pytest.approx(p ** r)                 # delta 0: the binomial tail
    assert one_run_p_value(1000, r, r, 1.0, 1e-5) > p ** r                           # delta costs
    assert one_run_eps_lower_bound(r, r, delta=1e-5, m=1000) < one_run_eps_lower_bound(r, r)
    # validity under the null: (eps, delta) randomised response never gives a bound above eps in >5% of runs
    rng = np.random.default_rng(0); eps = 1.0
    inc = rng.random((200, 400)) < 0.5
    hits = [one_run_audit(np.where(i, rng.random(400) < 0.73, rng.random(400) < 0.27) + rng.random(400) * 1e-3, i, delta=1e-5)["eps_lb"]
            for i in inc[:30]]
    assert np.mean(np.array(hits) > eps) <= 0.05
    perfect = one_run_audit(inc[0] + rng.random(400) * 0.1, inc[0], delta=1e-5)
    assert perfect["eps_lb"] == pytest.approx(perfect["ceiling"]) and perfect["ceiling"] > 2
    with pytest.raises(ValueError, match="cannot exceed"): one_run_eps_lower_bound(5, 10, m=5)


def test_split_bound_and_verdict():
    rng = np.random.default_rng(0)
    perfect = split_eps_lower_bound(np.ones(400) + 1, np.zeros(400), rng=rng)
    assert perfect["eps_lb"] == pytest.approx(perfect["ceiling"]) == pytest.approx(max_eps_lower_bound(200, 200, n_thresholds=1))
    assert sum(split_eps_lower_bound(rng.normal(size=300), rng.normal(size=300), rng=rng)["eps_lb"] > 0 for _ in range(60)) <= 6
    # a Gaussian mechanism at known epsilon: the bound stays below it
    from scipy.stats import norm
    mu = 1.0   # N(1, 1) vs N(0, 1) is (eps, delta)-DP with delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2)
    eps_true = 4.0; d = norm.cdf(-eps_true / mu + mu / 2) - math.exp(eps_true) * norm.cdf(-eps_true / mu - mu / 2)
    b = split_eps_lower_bound(rng.normal(mu, 1, 20000), rng.normal(0, 1, 20000), delta=d, rng=rng)
    assert 0 < b["eps_lb"] < eps_true
    fixed = eps_lower_bound(np.ones(50), np.zeros(50), thresholds=[0.5])
    assert fixed["tests"] == 2 and fixed["eps_lb"] == pytest.approx(max_eps_lower_bound(50, 50, n_thresholds=1))
    assert audit_verdict(2, 5, 1) == "VIOLATION" and audit_verdict(0.5, 5, 1) == "consistent" and audit_verdict(0.5, 1, 1) == "uninformative"
    assert not np.array_equal(secret_numpy_rng().integers(0, 2**62, 4), secret_numpy_rng().integers(0, 2**62, 4))


def _synthetic_features(n=600, d=24, k=150, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32) + 0.5, np.arange(n) % k, k


def test_ncm_audit_catches_planted_bugs_and_passes_the_release():
    torch.set_num_threads(1)
    F, y, k = _synthetic_features()
    honest = audit_private_ncm(F, y, k, 1.0, releases=40)
    assert honest["verdict"] == "consistent" and honest["ceiling"] > 1 and "secret" in honest["randomness"]
    quarter = audit_private_ncm(F, y, k, 1.0, control="quarter noise", releases=120)
    assert quarter["verdict"] == "VIOLATION", quarter["detail"]
    replay = audit_private_ncm(F, y, k, 1.0, control="replayable seed", releases=4)
    assert replay["verdict"] == "VIOLATION" and replay["eps_lb"] == pytest.approx(replay["ceiling"])   # certainty
    assert "NOT PRIVATE" in replay["randomness"]
    secret = audit_private_ncm(F, y, k, 1.0, attack="replay", releases=4)       # the same attack on secret noise finds nothing
    assert secret["verdict"] != "VIOLATION"
    with pytest.raises(ValueError, match="control must be"): audit_private_ncm(F, y, k, 1.0, control="typo")


def test_dpsgd_head_audit_catches_planted_bugs_and_passes_the_release():
    torch.set_num_threads(1)
    F, y, _ = _synthetic_features(430, 64, 27)
    honest = audit_private_head(F, y, 27, 1.0, canaries=1728)
    assert honest["verdict"] == "consistent" and honest["ceiling"] > 1 and honest["steps"] == 45
    quarter = audit_private_head(F, y, 27, 1.0, control="quarter noise", canaries=1728, runs=2)   # 3456 canaries
    assert quarter["verdict"] == "VIOLATION", quarter["detail"]
    replay = audit_private_head(F, y, 27, 1.0, control="replayable seed", canaries=1728)   # noise regenerated from the seed
    # at the ceiling: the replay removes the noise and the replayed batch's clipped gradients exactly, so what is left is
    # the canaries alone (0 for every canary out, at least 1 / sigma for one in)
    assert replay["verdict"] == "VIOLATION" and replay["eps_lb"] == pytest.approx(replay["ceiling"]) and "NOT PRIVATE" in replay["randomness"]
    assert np.abs(replay["scores_out"]).max() < 1e-3 < replay["scores_in"].min()
