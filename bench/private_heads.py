"""Private heads that spend the budget well, on features that need no private training (issue 16).

Stage `validation` (training subjects only): every UTD-MHAD training subject is held out in turn (leave-one-subject-out
over subjects 1, 3, 5, 7; the test subjects are never read) and the pooled validation accuracy is measured for
  - features: the data-free kinematic pyramid of `prism.models.PyramidNCM` (per-joint position and velocity mean and
    spread over a 1-2-4 temporal pyramid) through a public map fitted on MSR Action3D (standardisation, PCA to `dims`,
    within-class whitening with shrinkage `shrink`; shrink 1 = no whitening), then a degree-`degree` polynomial kernel;
    and (c) the same concatenated with the public ST-GCN backbone's features (stgcn_ft pretraining on MSR Action3D);
  - heads: class sums released once (`prism.privacy.private_class_sums`, the recipe `pyramid_ncm`); DP least squares
    from noisy sufficient statistics (F^T F and F^T Y in one Gaussian release, ridge solve); the DP-SGD linear head of
    `stgcn_ft` (Opacus) on the same embedding; each also without DP (its ceiling), and a non-private ridge ceiling.
Noise is secret (every draw is new); each private number is the mean over `--draws` releases per fold (the `sd` columns:
the standard deviation of the pooled accuracy between draws).
Writes results/privacy/tune/private_heads/utd_validation.{json,csv} (the command, machine, the table, the choice).

Stage `test`: the recipe chosen on validation (RECIPES["pyramid_ncm"], checked against the choice) trained on all
training subjects and evaluated once on the test subjects, seeds 0-2 (three secret noise draws) at epsilon 0.5-8 and
without DP, through `prism.experiments.privacy_utility_sweep` into results/benchmarks/runs (checkpoints of seed 0 in
results/benchmarks/checkpoints, as `prism reproduce` makes them); summary in results/privacy/private_heads/test.{json,csv}.

Stage `public_map` (training subjects only, as `validation`): does fitting the public map on more public clips help?
The chosen recipe (RECIPES["pyramid_ncm"]: dims 64, degree 2, shrink 0.1, class sums) with its public map (and input
standardisation) fitted on (a) MSR Action3D alone, as today, (b) MSR Action3D and UTKinect-Action3D pooled (the
within-class covariance pooled over each dataset's own classes: UTKinect's labels follow MSR's), (c) UTKinect-Action3D
alone (for reference); same folds and number of secret draws as `validation`. Writes
results/privacy/tune/private_heads/utd_public_map.{json,csv}; the recipe is not changed.

Stage `features` (training subjects only, as `validation`): do richer data-free features raise the no-DP ceiling and the
private accuracy of the class-sum head? The recipe's public map (fitted on MSR Action3D: standardisation, PCA to 64 or 96
dims, within-class whitening, shrink 0.1), its degree-2 kernel and class sums, on (a) today's pyramid, (a') the pyramid over
all nine channels, the pyramid concatenated with (b) the distance of every pair of joints (and (b') the same divided by the
clip's mean distance), (c) the cosine of every joint angle (two bones meeting at a joint; (c') the limb joints only),
(d) a MiniRocket-style bank of random 1-D kernels (`prism.models.RandomKernels`, fixed seed; biases at quantiles of their outputs on the PUBLIC clips; PPV
and max), and (e) combinations; every block after (a) is pooled over the same 1-2-4 pyramid (mean and spread), and the blocks
enter the PCA as they are or weighted to equal variance. The best row is measured again, with the reference, on fresh
secret draws. Writes results/privacy/tune/private_heads/utd_features.{json,csv}; the recipe is not changed.

Stage `backbone` (training subjects only, as `validation`): does a stronger PUBLIC backbone raise the private heads? ST-GCNs
trained on public clips only: (a) today's stgcn_ft pretraining (5 epochs on MSR Action3D), and issue 15's end-to-end recipe
(RECIPES["stgcn"]: warm-up, label smoothing, learnt topology) for (b) 30 and (c) 100 epochs on MSR Action3D, (d) 100 epochs
on MSR Action3D and UTKinect-Action3D pooled; seed 0, cached under $PRISM_CACHE/bench_backbones. For each: its
non-private linear-probe ceiling (ridge on the publicly standardised features), the DP-SGD linear head of stgcn_ft, the
cosine class means of stgcn_ncm, DP least squares, and class sums of degree-2 kernel features of its public map (48 dims),
alone and summed with the pyramid's kernel (96 dims; backbone weight 0.25-1); then the ensembles (b) + (c) and (b) + (c) + (d). Writes
results/privacy/tune/private_heads/utd_backbone.{json,csv} with the choice: the class-sum row of the best mean private
accuracy among those whose backbones train on the protocol's own public dataset, and that mix's best backbone weight at
each epsilon ("choice_by_epsilon").

Stage `backbone_choice`: the two rules of stage `backbone` applied again to its saved rows (nothing trained, nothing
released); rewrites "choice" and "choice_by_epsilon" in utd_backbone.json.

Stage `ceilings` (test subjects, as `prism reproduce`; no model is saved): the no-DP ceiling of `hybrid_ncm` on
the test subjects of UTD-MHAD, MSR Action3D and JHMDB at each backbone weight the recipe uses (`backbone_weight_by_eps`),
seeds 0-2, each seed's public backbone trained once and shared between its weights; beside them the private test means of
results/benchmarks/utility.csv.
Reporting only: the weights were chosen on validation before this stage ran. Writes the runs to
results/privacy/runs/hybrid_ceilings/weight_<w>/ (non-private releases: the release ledger counts them) and the summary to
results/privacy/private_heads/hybrid_ceilings.{json,csv}.

The chosen mix is the library's kind `hybrid_ncm` (`RECIPES["hybrid_ncm"]`, checked against the choice by the
experiments notebook); `prism reproduce --full` makes its test runs on every dataset.

    PRISM_DATA=/path/to/data python bench/private_heads.py --stage validation
    PRISM_DATA=/path/to/data python bench/private_heads.py --stage test
    PRISM_DATA=/path/to/data python bench/private_heads.py --stage public_map
    PRISM_DATA=/path/to/data python bench/private_heads.py --stage features
    PRISM_DATA=/path/to/data python bench/private_heads.py --stage backbone --draws 6 --threads 2
    python bench/private_heads.py --stage backbone_choice
    PRISM_DATA=/path/to/data python bench/private_heads.py --stage ceilings --threads 2
"""
from __future__ import annotations
import argparse, itertools, os, re, sys, time, warnings
from dataclasses import replace
from pathlib import Path
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, TensorDataset
from prism.kinematics import channel_slices
from prism.skeleton import get_layout
from prism.io import atomic_write, read_json, stamp, write_json_atomic
from prism.models import PyramidNCM, RandomKernels, embed_features, fit_embedding, joint_distances, monomials, pyramid_pool, run_model
from prism.privacy import PrivacyPreservingTrainer, LinearHead, create_privacy_config, private_class_sums
from prism.experiments import (RECIPES, PublicData, build_model, load_protocol, load_public, pretrain_public, privacy_utility_sweep,
                               recipe, run_name, collect_runs, run_experiment)

REPO = Path(__file__).resolve().parents[1]
EPS = (8.0, 4.0, 2.0, 1.0)
MAX_FEATURES = 20_000   # a head of 27 x 20,000 floats is a 2 MB checkpoint: the largest the grid may choose
GRID = [(d, p, s) for s in (0.1, 1.0) for d, p in [(32, 1), (64, 1), (96, 1), (128, 1), (32, 2), (64, 2), (96, 2), (128, 2), (32, 3), (48, 3)]]

def kernel_features(G:torch.Tensor, degree:int) -> torch.Tensor:
    "Weighted monomials of unit rows G: <phi(g), phi(h)> = <g, h> ** degree, rows of length 1."
    idx, w = monomials(G.shape[1], degree)
    return G[:, idx].prod(-1) * w

def folds(persons:np.ndarray) -> list:
    "Leave-one-training-subject-out: (fit mask, validation mask) per training subject."
    return [(persons != s, persons == s) for s in sorted(set(persons), key=lambda v: (len(v), v))]

def cfg(eps): return None if eps is None else create_privacy_config(eps, 1e-5)

def ncm_acc(Phi, y, K, persons, eps, draws) -> float:
    "Pooled validation accuracy of the class-sum head (mean over secret draws)."
    accs = []
    for _ in range(1 if eps is None else draws):
        correct = 0
        for fit, val in folds(persons):
            S = private_class_sums(Phi[fit], y[fit], K, cfg(eps))["sums"]
            correct += int(((Phi[val] @ S.T).argmax(1).numpy() == y[val]).sum())
        accs.append(correct / len(y))
    return accs

def dpls_acc(G, y, K, persons, eps, draws, lam, share) -> float:
    "DP least squares: F^T F and F^T Y (the class sums) in one Gaussian release split by `share`, then a ridge solve."
    accs = []
    for _ in range(1 if eps is None else draws):
        correct = 0
        for fit, val in folds(persons):
            r = private_class_sums(G[fit], y[fit], K, cfg(eps), second_moment=share)
            A = r["second_moment"].double(); w, Q = torch.linalg.eigh((A + A.T) / 2)
            A = (Q * w.clamp_min(0)) @ Q.T                       # nearest PSD matrix (post-processing)
            W = torch.linalg.solve(A + lam * torch.eye(len(A), dtype=A.dtype), r["sums"].double().T)
            correct += int(((G[val].double() @ W).argmax(1).numpy() == y[val]).sum())
        accs.append(correct / len(y))
    return accs

def dpsgd_acc(G, y, K, persons, eps, draws) -> float:
    "The stgcn_ft recipe's DP-SGD linear head (lr 1, 15 epochs, batch 160, EMA 0.9, C 1) on the embedding."
    s = RECIPES["stgcn_ft"]; lr, epochs, bs = s.optimisation(eps is not None)
    accs = []
    for d in range(1 if eps is None else draws):
        correct = 0
        for fit, val in folds(persons):
            torch.manual_seed(d)
            tr = PrivacyPreservingTrainer(LinearHead(G.shape[1], K), cfg(eps), lr=lr, ema_decay=s.ema, track_epsilon=False, seed=d)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tr.train(DataLoader(TensorDataset(G[fit], torch.as_tensor(y[fit])), batch_size=bs, shuffle=True), num_epochs=epochs)
            correct += int((tr.predict(G[val]) == y[val]).sum())
        accs.append(correct / len(y))
    return accs

def ridge_acc(G, y, K, persons, lam) -> float:
    "Non-private ridge regression on one-hot labels (a ceiling for linear heads on the embedding)."
    correct = 0
    for fit, val in folds(persons):
        X = G[fit].double(); Y = torch.eye(K, dtype=X.dtype)[torch.as_tensor(y[fit])]
        W = torch.linalg.solve(X.T @ X + lam * torch.eye(X.shape[1], dtype=X.dtype), X.T @ Y)
        correct += int(((G[val].double() @ W).argmax(1).numpy() == y[val]).sum())
    return correct / len(y)

def validation(a, command) -> None:
    data = load_protocol("utd")
    X, y, persons, K = data.X_train, data.y_train, data.persons_train, data.num_classes
    rows = []
    def row(features, head, dims, degree, shrink, nfeat, acc_fn, **kw):
        accs = {e: acc_fn(e) for e in EPS}
        r = {"features": features, "head": head, "dims": dims, "degree": degree, "shrink": shrink, "head_features": nfeat,
             **{f"eps {e:g}": round(100 * float(np.mean(a)), 1) for e, a in accs.items()}, "no DP": round(100 * acc_fn(None)[0], 1),
             **{f"sd {e:g}": round(100 * float(np.std(a, ddof=1)), 1) for e, a in accs.items()}, "draws": len(accs[EPS[0]]), **kw}
        r["mean private"] = round(float(np.mean([r[f"eps {e:g}"] for e in EPS])), 2)
        rows.append(r); print({k: v for k, v in r.items()}, flush=True)
    # (a) + (b): the kinematic pyramid, its public map, class sums of kernel features
    embeds = {}
    for dims, degree, shrink in GRID:
        m = build_model("pyramid_ncm", data.clip, K, recipe("pyramid_ncm", dims=dims, degree=degree, shrink=shrink))
        m.input_norm.load_state_dict(data.input_norm().state_dict())
        m.fit_public(data.public.X, data.public.y, shrink)
        Phi = run_model(m, X, method="features")
        embeds[(dims, shrink)] = torch.cat([m.embed(torch.as_tensor(X[i:i + 256]))[0] for i in range(0, len(X), 256)])
        row("pyramid", "class sums", dims, degree, shrink, Phi.shape[1], lambda e: ncm_acc(Phi, y, K, persons, e, a.draws))
    # (b) the other heads on the pyramid embedding (degree 1), whitened, at the dimensions the grid covers
    for dims in (64, 96):
        G = embeds[(dims, 0.1)]
        for lam in (3.0, 30.0):
            row("pyramid", f"DP least squares (lambda {lam:g}, F^T F share 0.3)", dims, 1, 0.1, dims,
                lambda e: dpls_acc(G, y, K, persons, e, a.draws, lam, 0.3))
        row("pyramid", "DP-SGD linear head (stgcn_ft recipe)", dims, 1, 0.1, dims, lambda e: dpsgd_acc(G, y, K, persons, e, a.sgd_draws))
        for lam in (0.3, 3.0):
            acc = ridge_acc(G, y, K, persons, lam)
            rows.append({"features": "pyramid", "head": f"ridge, no DP (lambda {lam:g})", "dims": dims, "degree": 1, "shrink": 0.1,
                         "head_features": dims, "no DP": round(100 * acc, 1)}); print(rows[-1], flush=True)
    # (c) the public ST-GCN backbone's features: alone, and with the pyramid (sum of the two kernels)
    torch.manual_seed(0)
    bb = pretrain_public(data.public, data.clip, "stgcn_ft", RECIPES["stgcn_ft"], seed=0)
    mu, sd = bb.public_feature_stats
    Fb, Fbp = (run_model(bb, X, method="features") - mu) / sd, (run_model(bb, data.public.X, method="features") - mu) / sd
    Gb = embed_features(Fb, fit_embedding(Fbp, data.public.y, 64, 0.1))
    for degree in (1, 2):
        Pb = kernel_features(Gb, degree)
        row("stgcn_ft backbone (public map, 64 dims)", "class sums", 64, degree, 0.1, Pb.shape[1], lambda e: ncm_acc(Pb, y, K, persons, e, a.draws))
        Pp = kernel_features(embeds[(96, 0.1)], degree)
        for wb in (0.25, 0.5):
            Pc = torch.cat([(1 - wb) ** 0.5 * Pp, wb ** 0.5 * Pb], 1)   # rows of length 1: the sum of the two kernels
            row(f"pyramid 96 + backbone 64 (backbone kernel weight {wb:g})", "class sums", 96, degree, 0.1, Pc.shape[1],
                lambda e: ncm_acc(Pc, y, K, persons, e, a.draws))
    table = pd.DataFrame(rows)
    ok = table[(table["features"] == "pyramid") & (table["head"] == "class sums") & (table["head_features"] <= MAX_FEATURES)]
    best = ok.loc[ok["mean private"].idxmax()]
    choice = {"kind": "pyramid_ncm", "dims": int(best.dims), "degree": int(best.degree), "shrink": float(best.shrink),
              "head_features": int(best.head_features), "mean_private_validation_accuracy": float(best["mean private"]),
              "rule": f"the pyramid class-sum setting with the best mean validation accuracy over epsilon {', '.join(f'{e:g}' for e in EPS)} "
                      f"among heads of at most {MAX_FEATURES:,} features (a 2 MB checkpoint)"}
    prior = {}
    for kind, folder in (("stgcn_ft", "cv_stgcn_ft_default"), ("stgcn_ncm", "cv_stgcn_ncm"), ("lstm_ft", "cv_lstm_ft_default")):
        for f in sorted((REPO / "results/benchmarks/tune" / folder).glob("utd_*_cv.json")):
            r = read_json(f); prior.setdefault(kind, {}).setdefault("no DP" if r["epsilon"] is None else f"eps {r['epsilon']:g}", []).append(round(100 * r["accuracy_pooled"], 1))
    out = REPO / "results/privacy/tune/private_heads"
    write_json_atomic(out / "utd_validation.json", {**stamp(command), "dataset": "utd",
        "protocol": "leave-one-training-subject-out over UTD-MHAD's training subjects 1, 3, 5, 7 (test subjects unused); pooled accuracy %",
        "public": data.public.name, "delta": 1e-5, "unit": "one training clip (add/remove)", "draws_per_fold": a.draws,
        "note": ("each private number is the mean over secret noise draws (sd: between draws); these validation scores of private clips are published "
                 "without DP (a tuning release in the release ledger)"),
        "rows": rows, "choice": choice, "existing_recipes_same_protocol": prior})
    atomic_write(out / "utd_validation.csv", lambda tmp: table.to_csv(tmp, index=False))
    print("choice:", choice)

def test(a, command) -> None:
    v = read_json(REPO / "results/privacy/tune/private_heads/utd_validation.json")["choice"]
    s = RECIPES["pyramid_ncm"]
    if (s.dims, s.degree, s.shrink) != (v["dims"], v["degree"], v["shrink"]):
        raise SystemExit(f"RECIPES['pyramid_ncm'] is {(s.dims, s.degree, s.shrink)} but validation chose {v}: update the recipe first")
    data = load_protocol("utd")
    eps = (0.5, 1, 2, 4, 8, None)
    runs = privacy_utility_sweep(data, eps, (0, 1, 2), ("pyramid_ncm",), REPO / "results/benchmarks/runs", command=command,
                                 checkpoint_dir=REPO / "results/benchmarks/checkpoints", checkpoint_seeds=(0,), progress=False)
    g = runs.groupby("epsilon").accuracy.agg(["mean", "std", "count"]).reset_index()
    ceiling = float(g[np.isinf(g.epsilon)]["mean"].iloc[0])
    util = pd.read_csv(REPO / "results/benchmarks/utility.csv"); util = util[(util.dataset == "utd") & (util.model != "pyramid_ncm")]
    before = {}
    for e in ("0.5", "1.0", "2.0", "4.0", "8.0"):
        r = util[(util.epsilon == e) & util.model.isin(["stgcn_ft", "stgcn_ncm", "lstm_ft"])]
        best = r.loc[r.accuracy_mean.idxmax()]
        before[e] = {"model": best.model, "accuracy": round(100 * best.accuracy_mean, 1)}
    rows = [{"epsilon": "none" if np.isinf(r.epsilon) else f"{r.epsilon:g}", "accuracy_mean": round(100 * r["mean"], 1),
             "accuracy_std": round(100 * r["std"], 1), "seeds": int(r["count"]), "no_dp_ceiling_same_features": round(100 * ceiling, 1),
             "best_earlier_private_recipe": before.get(f"{r.epsilon:.1f}", {}).get("model"),
             "best_earlier_private_accuracy": before.get(f"{r.epsilon:.1f}", {}).get("accuracy")} for _, r in g.iterrows()]
    targets = {"8": 80, "4": 70, "2": 55, "1": 40}
    for r in rows: r["target"] = targets.get(r["epsilon"])
    out = REPO / "results/privacy/private_heads"
    write_json_atomic(out / "test.json", {**stamp(command), "dataset": "utd", "model": "pyramid_ncm", "settings": s.settings(),
        "protocol": data.description, "validation_choice": v, "rows": rows,
        "note": ("test subjects 2, 4, 6, 8, evaluated once per run (seeds 0-2: three secret noise draws of the same mechanism); "
                 "the runs are results/benchmarks/runs/utd_pyramid_ncm_eps*_s*.json; the earlier recipes' numbers are the best "
                 "test mean among stgcn_ft, stgcn_ncm and lstm_ft in results/benchmarks/utility.csv, for comparison only")})
    atomic_write(out / "test.csv", lambda tmp: pd.DataFrame(rows).to_csv(tmp, index=False))
    print(pd.DataFrame(rows).to_string(index=False))

def public_map(a, command) -> None:
    "The chosen pyramid_ncm recipe on UTD-MHAD's validation folds, its public map fitted on MSR Action3D, on MSR + UTKinect pooled, on UTKinect."
    data = load_protocol("utd")   # public: MSR Action3D (NORM_REFERENCE), as the validation stage
    X, y, persons, K = data.X_train, data.y_train, data.persons_train, data.num_classes
    s = RECIPES["pyramid_ncm"]
    msr, utk = data.public, load_public("utkinect", clip=data.clip)[0]
    pooled = PublicData("msr+utkinect", np.concatenate([msr.X, utk.X]), np.concatenate([msr.y, utk.y + int(msr.y.max()) + 1]))
    rows, accs = [], {}
    for what, pub in (("(a) msr_action3d (today)", msr), ("(b) msr_action3d + utkinect, pooled", pooled), ("(c) utkinect only (reference)", utk)):
        _, _, (mu, sd), norm_words = load_public(pub, clip=data.clip)   # input statistics of the same public clips, as load_protocol
        m = build_model("pyramid_ncm", data.clip, K, s)
        m.input_norm.load_state_dict({"mean": torch.as_tensor(mu), "std": torch.as_tensor(sd)})
        m.fit_public(pub.X, pub.y, s.shrink)
        Phi = run_model(m, X, method="features")
        acc = accs[what] = {e: ncm_acc(Phi, y, K, persons, e, a.draws) for e in EPS}
        r = {"public_map_fitted_on": what, "public": pub.name, "public_clips": int(len(pub.y)), "public_classes": int(len(np.unique(pub.y))),
             "dims": s.dims, "degree": s.degree, "shrink": s.shrink, "head_features": int(Phi.shape[1]),
             **{f"eps {e:g}": round(100 * float(np.mean(v)), 1) for e, v in acc.items()}, "no DP": round(100 * ncm_acc(Phi, y, K, persons, None, 1)[0], 1),
             **{f"sd {e:g}": round(100 * float(np.std(v, ddof=1)), 1) for e, v in acc.items()}, "draws": len(acc[EPS[0]])}
        r["mean private"] = round(float(np.mean([r[f"eps {e:g}"] for e in EPS])), 2)
        rows.append(r); print(r, flush=True)
    base, more = accs["(a) msr_action3d (today)"], accs["(b) msr_action3d + utkinect, pooled"]
    gains = []
    for e in EPS:
        g, sa, sb = 100 * (np.mean(more[e]) - np.mean(base[e])), 100 * np.std(base[e], ddof=1), 100 * np.std(more[e], ddof=1)
        se = float(np.sqrt(sa ** 2 / len(base[e]) + sb ** 2 / len(more[e])))
        gains.append({"epsilon": f"{e:g}", "gain_b_minus_a": round(float(g), 1), "sd_a": round(float(sa), 1), "sd_b": round(float(sb), 1),
                      "se_of_gain": round(se, 1), "gain_larger_than_sd": bool(abs(g) > max(sa, sb)), "gain_larger_than_2_se": bool(abs(g) > 2 * se)})
    nodp = {r["public_map_fitted_on"]: r["no DP"] for r in rows}
    gains.append({"epsilon": "none", "gain_b_minus_a": round(nodp["(b) msr_action3d + utkinect, pooled"] - nodp["(a) msr_action3d (today)"], 1),
                  "note": "no noise: one deterministic number per map"})
    out = REPO / "results/privacy/tune/private_heads"
    write_json_atomic(out / "utd_public_map.json", {**stamp(command), "dataset": "utd",
        "protocol": "leave-one-training-subject-out over UTD-MHAD's training subjects 1, 3, 5, 7 (test subjects unused); pooled accuracy %",
        "recipe": {"kind": "pyramid_ncm", **{k: getattr(s, k) for k in ("dims", "degree", "shrink")}, "head": "class sums"},
        "question": "does fitting the public map (standardisation, PCA, within-class whitening) on more public clips help?",
        "public": {"(a)": "msr_action3d, all 557 clips, 20 classes", "(b)": "msr_action3d (557) + utkinect (199) pooled: 30 classes, "
                   "UTKinect's labels offset by 20 so the within-class covariance pools each dataset's own classes",
                   "(c)": "utkinect, all 199 clips, 10 classes (reference)"},
        "delta": 1e-5, "unit": "one training clip (add/remove)", "draws_per_fold": a.draws, "rows": rows, "gain": gains,
        "note": ("each private number is the mean over secret noise draws, new in every run (sd: between draws; se_of_gain: standard error "
                 "of the difference of the two means); the input standardisation of each row is fitted on that row's public clips, as "
                 "load_protocol does (the pyramid's per-feature standardisation makes it nearly irrelevant); the recipe is not changed")})
    atomic_write(out / "utd_public_map.csv", lambda tmp: pd.DataFrame(rows).to_csv(tmp, index=False))
    print(pd.DataFrame(rows).to_string(index=False)); print(pd.DataFrame(gains).to_string(index=False))

# ---- stage `features`: richer data-free features under the same public map and class-sum head ----------------------------
def adjacent_bone_pairs(edges, V:int) -> list:
    "(joint, a, b): every pair of bones (j, a) and (j, b) of the layout that meet at joint j."
    nb = {v: sorted({b for a, b in edges if a == v} | {a for a, b in edges if b == v}) for v in range(V)}
    return [(j, a, b) for j in range(V) for ia, a in enumerate(nb[j]) for b in nb[j][ia + 1:]]

def joint_angles(pos:torch.Tensor, pairs:list) -> torch.Tensor:
    "(N, 3, T, V) positions -> (N, len(pairs), T) cosine of the angle between the two bones of each pair at their joint."
    j, a, b = (torch.tensor(t) for t in zip(*pairs))
    u, v = pos[..., a] - pos[..., j], pos[..., b] - pos[..., j]
    return ((u * v).sum(1) / (u.norm(dim=1) * v.norm(dim=1)).clamp_min(1e-6)).transpose(1, 2)

@torch.no_grad()
def fit_map(F, y, dims:int, shrink:float, weight:torch.Tensor) -> dict:
    "`prism.models.fit_embedding` with a weight per standardised feature before the PCA (the buffers of `embed_features`)."
    F = torch.as_tensor(F, dtype=torch.float64); w = torch.as_tensor(weight, dtype=torch.float64)
    emb = fit_embedding(F, y, dims, shrink)                      # its standardisation (mean, scale), as the recipe
    mean, scale = emb["mean"].double(), emb["scale"].double() / w   # weighting = dividing the scale
    if bool((w == 1).all()): return emb
    S = (F - mean) / scale
    proj = torch.linalg.svd(S - S.mean(0), full_matrices=False).Vh[:dims].T
    Z = S @ proj; U = Z / Z.norm(dim=1, keepdim=True).clamp_min(1e-12)
    inv = torch.as_tensor(np.unique(np.asarray(y), return_inverse=True)[1])
    means = torch.zeros(int(inv.max()) + 1, dims, dtype=U.dtype).index_add_(0, inv, U) / torch.bincount(inv)[:, None]
    R = U - means[inv]; Sw = R.T @ R / len(U)
    Sw = (1 - shrink) * Sw + shrink * torch.trace(Sw) / dims * torch.eye(dims, dtype=Sw.dtype)
    ev, Q = torch.linalg.eigh(Sw)
    whiten = (Q / ev.clamp_min(1e-12 * float(ev.max())).sqrt()) @ Q.T
    return {k: v.float() for k, v in dict(mean=mean, scale=scale, proj=proj, center=U.mean(0), whiten=whiten).items()}

def feature_blocks(data, rocket_seed:int=0) -> tuple:
    "(blocks of the private training clips, blocks of the public clips, the bank, the angle pairs, the limb pairs): name -> (N, D); only the kernels' biases see data, public."
    m = build_model("pyramid_ncm", data.clip, data.num_classes, RECIPES["pyramid_ncm"])
    m.input_norm.load_state_dict(data.input_norm().state_dict())
    lay = get_layout(data.clip.layout); pos = channel_slices(data.clip.channels)["pos"]
    pairs = adjacent_bone_pairs(lay.edges, lay.num_joints)
    torso = {lay.center, lay.index("neck")}
    limbs = [t for t in pairs if t[0] not in torso]   # the angles at shoulders, elbows, hips and knees
    bank = RandomKernels(data.clip.in_channels * data.clip.num_joints, seed=rocket_seed)   # prism.models: MiniRocket-style, from the seed
    def blocks(Xc):
        "name -> (N, D) features of clips Xc (raw inputs); nothing here is fitted."
        Xt = torch.as_tensor(Xc, dtype=torch.float32); P = Xt[:, pos]; Z = m.input_norm(Xt)
        return {"pyramid": m.pyramid(Xt)[0], "pyramid (pos, vel, bone)": pyramid_pool(Z.permute(0, 1, 3, 2).flatten(1, 2)),
                "distances": pyramid_pool(D := joint_distances(P)), "angles": pyramid_pool(joint_angles(P, pairs)),
                "distances / clip scale": pyramid_pool(D / D.mean((1, 2), keepdim=True).clamp_min(1e-6)),
                "limb angles": pyramid_pool(joint_angles(P, limbs)),
                "rocket": Z.permute(0, 1, 3, 2).flatten(1, 2)}
    B, Bp = blocks(data.X_train), blocks(data.public.X)
    bank.fit(Bp["rocket"]); B["rocket"], Bp["rocket"] = bank(B["rocket"]), bank(Bp["rocket"])   # biases: quantiles on PUBLIC clips
    for k in B: assert torch.isfinite(B[k]).all() and torch.isfinite(Bp[k]).all(), k
    return B, Bp, bank, pairs, limbs

def features_stage(a, command) -> None:
    "Richer data-free features (pairwise distances, joint angles, random kernels) with the recipe's public map and class sums, on validation."
    data = load_protocol("utd")
    X, y, persons, K = data.X_train, data.y_train, data.persons_train, data.num_classes
    s = RECIPES["pyramid_ncm"]
    lay = get_layout(data.clip.layout)
    B, Bp, bank, pairs, limbs = feature_blocks(data, a.rocket_seed)
    words = {"pyramid": "(a) pyramid (today)", "pyramid (pos, vel, bone)": "(a') pyramid on pos, vel and bone channels",
             "distances": "(b) pyramid + joint distances", "distances / clip scale": "(b') pyramid + joint distances / the clip's mean distance",
             "angles": "(c) pyramid + joint angles", "limb angles": "(c') pyramid + limb joint angles", "rocket": "(d) pyramid + random kernels"}
    rows, accs = [], {}
    def measure(name, parts, dims, weighting, draws=a.draws, record=True):
        F, Fp = torch.cat([B[p] for p in parts], 1), torch.cat([Bp[p] for p in parts], 1)
        w = torch.cat([torch.full((B[p].shape[1],), 1.0 if weighting == "none" else B[p].shape[1] ** -0.5) for p in parts])
        Phi = kernel_features(embed_features(F, fit_map(Fp, data.public.y, dims, s.shrink, w)), s.degree)
        assert float(Phi.norm(dim=1).max()) <= 1 + 1e-4   # the sensitivity bound: rows of length <= 1
        acc = {e: ncm_acc(Phi, y, K, persons, e, draws) for e in EPS}
        per_draw = np.mean([acc[e] for e in EPS], 0)          # mean private accuracy of each draw (independent over epsilon)
        r = {"candidate": name, "blocks": " + ".join(parts), "block_weighting": weighting, "features_before_pca": int(F.shape[1]),
             "dims": dims, "degree": s.degree, "shrink": s.shrink, "head_features": int(Phi.shape[1]),
             **{f"eps {e:g}": round(100 * float(np.mean(v)), 1) for e, v in acc.items()},
             "no DP": round(100 * ncm_acc(Phi, y, K, persons, None, 1)[0], 1),
             **{f"sd {e:g}": round(100 * float(np.std(v, ddof=1)), 1) for e, v in acc.items()}, "draws": draws,
             "mean private": round(100 * float(per_draw.mean()), 2), "sd mean private": round(100 * float(np.std(per_draw, ddof=1)), 2)}
        if record: rows.append(r); accs[(name, dims, weighting)] = per_draw
        print(r, flush=True); return r
    measure(words["pyramid"], ["pyramid"], 64, "none")
    measure(words["pyramid"], ["pyramid"], 96, "none")
    measure(words["pyramid (pos, vel, bone)"], ["pyramid (pos, vel, bone)"], 64, "none")
    for extra in ("distances", "distances / clip scale", "angles", "limb angles", "rocket"):
        for weighting in ("none", "equal"):
            for dims in (64, 96): measure(words[extra], ["pyramid", extra], dims, weighting)
    for parts in (["pyramid", "distances", "limb angles"], ["pyramid", "distances", "rocket"], ["pyramid", "limb angles", "rocket"],
                  ["pyramid", "distances", "limb angles", "rocket"]):
        for weighting in ("none", "equal"):
            for dims in (64, 96): measure("(e) combination", parts, dims, weighting)
    table = pd.DataFrame(rows)
    ref = table.iloc[0]
    cand = table.iloc[1:]; best = cand.loc[cand["mean private"].idxmax()]
    # the best row was chosen among many noisy ones: measure it and the reference again with fresh secret draws
    parts = best["blocks"].split(" + ")
    confirm = [measure(ref["candidate"], ["pyramid"], 64, "none", record=False),
               measure(best["candidate"], parts, int(best["dims"]), best["block_weighting"], record=False)]
    gain = confirm[1]["mean private"] - confirm[0]["mean private"]
    sd = max(confirm[0]["sd mean private"], confirm[1]["sd mean private"])
    sd_eps = max(max(c[f"sd {e:g}"] for e in EPS) for c in confirm)
    verdict = {"reference": {k: ref[k] for k in ("candidate", "dims", "no DP", "mean private", "sd mean private")},
               "best_candidate": {k: (v.item() if hasattr(v, "item") else v) for k, v in best.items()},
               "confirmation_fresh_draws": confirm, "gain_mean_private_confirmed": round(float(gain), 2),
               "sd_mean_private_between_draws": sd, "largest_sd_at_one_epsilon": sd_eps,
               "beats_reference_by_more_than_draw_sd": bool(gain > sd),
               "gain_no_dp_ceiling": round(float(best["no DP"] - ref["no DP"]), 1),
               "rule": ("the candidate row with the best mean private accuracy (over epsilon 8, 4, 2, 1) is measured again, with the "
                        "reference, on fresh secret draws; it wins when its confirmed gain in mean private accuracy exceeds the larger "
                        "standard deviation between draws of the two rows' mean private accuracy")}
    verdict["reference"] = {k: (v.item() if hasattr(v, "item") else v) for k, v in verdict["reference"].items()}
    out = REPO / "results/privacy/tune/private_heads"
    write_json_atomic(out / "utd_features.json", {**stamp(command), "dataset": "utd",
        "protocol": "leave-one-training-subject-out over UTD-MHAD's training subjects 1, 3, 5, 7 (test subjects unused); pooled accuracy %",
        "recipe": {"kind": "pyramid_ncm", **{k: getattr(s, k) for k in ("dims", "degree", "shrink")}, "head": "class sums"},
        "public": data.public.name, "question": "do richer data-free features raise the no-DP ceiling and the private accuracy of the class-sum head?",
        "blocks": {
            "pyramid": "the recipe's features: per-joint position and velocity (after the public input standardisation) mean and spread over a 1-2-4 temporal pyramid",
            "pyramid (pos, vel, bone)": "the same pyramid over all nine channels (position, velocity, bone vector)",
            "distances": f"the distance of every pair of the {lay.num_joints} joints ({lay.num_joints * (lay.num_joints - 1) // 2} pairs) in every frame, mean and spread over the same pyramid",
            "distances / clip scale": "the joint distances divided by their mean over the clip's pairs and frames (scale-free), mean and spread over the same pyramid",
            "angles": f"the cosine of the angle between every two bones that meet at a joint ({len(pairs)} pairs in {lay.name}) in every frame, mean and spread over the same pyramid",
            "limb angles": (f"the angles of `angles` at the {len(limbs)} limb joints (shoulders, elbows, hips, knees), without the {len(pairs) - len(limbs)} "
                            "at the hip centre and the neck, whose mean differs most between the public and the private skeletons"),
            "rocket": (f"{bank.num_kernels} MiniRocket kernels (the 84 length-9 kernels of weights -1 and 2, dilations "
                       f"{sorted(set(bank.dilation.tolist()))}, each on the sum of a random subset of the {data.clip.in_channels * data.clip.num_joints} standardised "
                       f"channel series), drawn from the fixed seed {a.rocket_seed}; {bank.bias.shape[1]} biases per kernel at random quantiles "
                       "(from the seed) of its outputs over the PUBLIC clips; proportion of positive values per bias and the max")},
        "block_weighting": {"none": "every standardised feature weighs 1 before the public PCA (as the recipe)",
                            "equal": "each block's standardised features weigh 1 / sqrt(its length): every block carries the same variance into the PCA"},
        "delta": 1e-5, "unit": "one training clip (add/remove)", "draws_per_fold": a.draws, "rows": rows, "verdict": verdict,
        "note": ("nothing is fitted on private clips: the map (standardisation, weighting, PCA, within-class whitening) and the random "
                 "kernels' biases come from the public clips, the kernels from a fixed seed; every clip's kernel feature vector has length 1 "
                 "(sensitivity 1); each private number is the mean over secret noise draws, new in every run (sd: between draws; "
                 "sd mean private: between the draws' means over the four epsilons)")})
    atomic_write(out / "utd_features.csv", lambda tmp: table.to_csv(tmp, index=False))
    print(table.to_string(index=False)); print(verdict)

# ---- stage `backbone`: stronger public backbones under the same heads ----------------------------
BACKBONES = {   # name -> (public data, how it is trained, epochs); every one sees public clips only
    "(a) stgcn_ft pretraining (today): 5 epochs, msr": ("msr", "stgcn_ft", None),
    "(b) the stgcn recipe, 30 epochs, msr": ("msr", "stgcn", 30),
    "(c) the stgcn recipe, 100 epochs, msr": ("msr", "stgcn", 100),
    "(d) the stgcn recipe, 100 epochs, msr + utkinect": ("msr+utkinect", "stgcn", 100)}
BACKBONE_DIMS = 48   # the public map of a backbone's 64 features (PCA, within-class whitening 0.1)
PYRAMID_DIMS = 96    # the pyramid's public map when it joins a backbone (utd_features: 96 dims beat 64)

def public_backbone(name:str, data, seed:int=0) -> tuple:
    "(backbone, its public data) of `BACKBONES[name]`, trained on public clips with `seed` (cached under PRISM_CACHE)."
    public, how, epochs = BACKBONES[name]
    pub = data.public if public == "msr" else load_public(public, clip=data.clip)[0]
    if how == "stgcn_ft": return pretrain_public(pub, data.clip, "stgcn_ft", RECIPES["stgcn_ft"], seed=seed), pub
    f = Path(os.environ.get("PRISM_CACHE", REPO / ".cache/prism")) / "bench_backbones" / f"{re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_')}_s{seed}.pt"
    if f.is_file():
        bb = build_model("stgcn", data.clip, int(pub.y.max()) + 1, recipe("stgcn")); bb.load_state_dict(torch.load(f)); return bb.eval(), pub
    bb = pretrain_public(pub, data.clip, "stgcn", recipe("stgcn", epochs), seed)   # the end-to-end recipe on public clips (hybrid_ncm's backbones)
    f.parent.mkdir(parents=True, exist_ok=True); torch.save(bb.state_dict(), f)
    return bb, pub

def standardised(bb, pub, Xs:list) -> list:
    "The backbone's pooled features of each input array, standardised by its PUBLIC clips' statistics (as `public_feature_stats`); the public ones last."
    Fp = run_model(bb, pub.X, method="features")
    sd = Fp.std(0)
    mu, sd = Fp.mean(0), sd.clamp_min(1e-2 * float(sd.median()) + 1e-6)
    return [(run_model(bb, X, method="features") - mu) / sd for X in Xs] + [(Fp - mu) / sd]

def backbone_kernel(bb, pub, Xs:list, degree:int=2) -> list:
    "Degree-`degree` kernel features (unit rows) of each input array through the backbone and its public map (`BACKBONE_DIMS`)."
    *G, Gp = standardised(bb, pub, Xs)
    emb = fit_embedding(Gp, pub.y, BACKBONE_DIMS, 0.1)
    return [kernel_features(embed_features(g, emb), degree) for g in G]

def pyramid_kernel(data, Xs:list) -> list:
    "Degree-2 kernel features of the data-free pyramid through its public map (`PYRAMID_DIMS` dims), for each input array."
    pyr = build_model("pyramid_ncm", data.clip, data.num_classes, recipe("pyramid_ncm", dims=PYRAMID_DIMS))
    pyr.input_norm.load_state_dict(data.input_norm().state_dict()); pyr.fit_public(data.public.X, data.public.y, 0.1)
    return [kernel_features(torch.cat([pyr.embed(torch.as_tensor(X[i:i + 256]))[0] for i in range(0, len(X), 256)]), 2) for X in Xs]

def mix(parts:list, weights:list) -> torch.Tensor:
    "Kernel features of a weighted sum of kernels: each unit-row block scaled by sqrt(weight), weights summing to 1 (rows stay of length 1)."
    return torch.cat([w ** 0.5 * P for P, w in zip(parts, weights) if w > 0], 1)

def own_public(members) -> bool:
    "A mix whose backbones all train on the protocol's own public dataset (a recipe every protocol can apply unchanged)."
    return isinstance(members, list) and all(BACKBONES[k][0] == "msr" for k in members)

def backbone_choice(table:pd.DataFrame) -> tuple:
    "The stage's two rules on its table: the best mean over the epsilons (members, weight), then that mix's best weight at each epsilon."
    ok = table[table["backbone_weight"].notna() & table["members"].map(own_public)]
    best = ok.loc[ok["mean private"].idxmax()]
    choice = {"members": list(best.members), "backbone_weight": float(best.backbone_weight), "pyramid_dims": PYRAMID_DIMS,
              "backbone_dims": BACKBONE_DIMS, "degree": 2, "head": "class sums (one Gaussian release)",
              "mean_private_validation_accuracy": float(best["mean private"]), "no_dp_validation_accuracy": float(best["no DP"]),
              "rule": (f"among the class-sum rows (one release: the pyramid, a backbone or an ensemble, alone or mixed) whose backbones "
                       f"train on the protocol's own public dataset (a recipe every protocol can apply unchanged: (d)'s second public "
                       f"dataset is measured for information only), the best mean validation accuracy over epsilon {', '.join(f'{e:g}' for e in EPS)}")}
    same = ok[ok["members"].map(lambda m: list(m) == choice["members"])]
    single = same[same.backbone_weight == choice["backbone_weight"]].iloc[0]
    by_eps = {"rule": ("the chosen mix's backbones kept (one public training serves every epsilon); at each epsilon the backbone "
                       "weight of the best validation accuracy at that epsilon among its rows (0.25-1); a run at another epsilon takes "
                       "the nearest one's weight (log scale), a non-private run the largest epsilon's (TrainSettings.backbone_weight_at)"),
              "weights": [{"epsilon": e, "backbone_weight": float(r.backbone_weight), "accuracy": float(r[f"eps {e:g}"]), "sd": float(r[f"sd {e:g}"]),
                           "no_dp": float(r["no DP"]), "accuracy_at_single_weight": float(single[f"eps {e:g}"])}
                          for e in EPS for r in [same.loc[same[f"eps {e:g}"].idxmax()]]]}
    return choice, by_eps

def backbone_choice_stage(a, command) -> None:
    "Apply `backbone_choice` to the saved rows of stage `backbone` (no new training or release) and write both choices back."
    f = REPO / "results/privacy/tune/private_heads/utd_backbone.json"
    d = read_json(f)
    choice, by_eps = backbone_choice(pd.DataFrame(d["rows"]))
    write_json_atomic(f, {**d, "choice": choice, "choice_by_epsilon": by_eps, "choice_command": command})
    print("choice:", choice); print("by epsilon:", by_eps)

def backbone_stage(a, command) -> None:
    "Each public backbone (seed 0, public clips only), its non-private linear-probe ceiling and its private heads on UTD-MHAD's validation folds."
    data = load_protocol("utd")   # public: MSR Action3D; the backbones read raw clips through their own public input statistics
    X, y, persons, K = data.X_train, data.y_train, data.persons_train, data.num_classes
    [Pp] = pyramid_kernel(data, [X])
    rows, kern = [], {}
    def row(backbone, head, nfeat, acc_fn, **kw):
        accs = {e: acc_fn(e) for e in EPS}
        r = {"backbone": backbone, "head": head, "head_features": nfeat,
             **{f"eps {e:g}": round(100 * float(np.mean(v)), 1) for e, v in accs.items()}, "no DP": round(100 * acc_fn(None)[0], 1),
             **{f"sd {e:g}": round(100 * float(np.std(v, ddof=1)), 1) for e, v in accs.items()}, "draws": len(accs[EPS[0]]), **kw}
        r["mean private"] = round(float(np.mean([r[f"eps {e:g}"] for e in EPS])), 2)
        rows.append(r); print(r, flush=True)
    for name in BACKBONES:
        bb, pub = public_backbone(name, data, 0)
        [G], [Pb] = standardised(bb, pub, [X])[:1], backbone_kernel(bb, pub, [X])
        for lam in (1.0, 10.0, 100.0):
            rows.append({"backbone": name, "head": f"linear probe: ridge, no DP (lambda {lam:g})", "head_features": G.shape[1],
                         "no DP": round(100 * ridge_acc(G, y, K, persons, lam), 1)}); print(rows[-1], flush=True)
        row(name, "DP-SGD linear head (stgcn_ft recipe)", G.shape[1], lambda e: dpsgd_acc(G, y, K, persons, e, a.sgd_draws))
        U = G / G.norm(dim=1, keepdim=True).clamp_min(1e-12)
        row(name, "class means, cosine (stgcn_ncm)", G.shape[1], lambda e: ncm_acc(U, y, K, persons, e, a.draws))
        for lam in (3.0, 30.0):
            row(name, f"DP least squares (lambda {lam:g}, F^T F share 0.3), unit rows", U.shape[1], lambda e: dpls_acc(U, y, K, persons, e, a.draws, lam, 0.3))
        [P1] = backbone_kernel(bb, pub, [X], 1)
        row(name, f"class sums, public map {BACKBONE_DIMS} dims, degree 1", P1.shape[1], lambda e: ncm_acc(P1, y, K, persons, e, a.draws))
        kern[name] = Pb
        if BACKBONES[name][1] == "stgcn_ft":   # the reference: the pyramid alone at the same map (no backbone)
            row("none (the data-free pyramid alone)", f"class sums, degree 2, pyramid map {PYRAMID_DIMS} dims", Pp.shape[1],
                lambda e: ncm_acc(Pp, y, K, persons, e, a.draws), members=[], backbone_weight=0.0)
        for wb in (0.25, 0.5, 0.75, 1.0):
            Pc = mix([Pp, Pb], [1 - wb, wb])
            row(name, "class sums, degree 2" + (f", with the pyramid ({PYRAMID_DIMS} dims)" if wb < 1 else ""), Pc.shape[1],
                lambda e: ncm_acc(Pc, y, K, persons, e, a.draws), members=[name], backbone_weight=wb)
    # ensembles of the recipe-trained backbones: the sum of their kernels, alone and with the pyramid's
    own = [k for k, v in BACKBONES.items() if v[1] == "stgcn" and v[0] == "msr"]          # trained on the protocol's own public data
    for names in (own, [k for k, v in BACKBONES.items() if v[1] == "stgcn"]):
        ens = "ensemble of " + " + ".join(k.split(")")[0] + ")" for k in names)
        for wb in (0.5, 0.75, 1.0):
            Pc = mix([Pp] + [kern[k] for k in names], [1 - wb] + [wb / len(names)] * len(names))
            row(ens, "class sums, degree 2" + (f", with the pyramid ({PYRAMID_DIMS} dims)" if wb < 1 else ""), Pc.shape[1],
                lambda e: ncm_acc(Pc, y, K, persons, e, a.draws), members=names, backbone_weight=wb)
    table = pd.DataFrame(rows)
    choice, by_eps = backbone_choice(table)
    out = REPO / "results/privacy/tune/private_heads"
    write_json_atomic(out / "utd_backbone.json", {**stamp(command), "dataset": "utd",
        "protocol": "leave-one-training-subject-out over UTD-MHAD's training subjects 1, 3, 5, 7 (test subjects unused); pooled accuracy %",
        "question": "does a stronger public backbone (issue 15's end-to-end recipe, longer training, more public clips) raise the private heads?",
        "backbones": {k: {"public": v[0], "training": "RECIPES['stgcn_ft'] pretraining" if v[1] == "stgcn_ft" else f"RECIPES['stgcn'], {v[2]} epochs",
                          "seed": 0} for k, v in BACKBONES.items()},
        "delta": 1e-5, "unit": "one training clip (add/remove)", "draws_per_fold": a.draws, "sgd_draws_per_fold": a.sgd_draws, "rows": rows,
        "choice": choice, "choice_by_epsilon": by_eps,
        "note": ("the backbones see public clips only; the feature standardisation and the public maps are fitted on their public clips; "
                 "backbone_weight: the backbones' share of the summed kernel (0: the pyramid alone, 1: no pyramid); each private number is "
                 "the mean over secret noise draws, new in every run (sd: between draws); the library's recipes are not changed")})
    atomic_write(out / "utd_backbone.csv", lambda tmp: table.to_csv(tmp, index=False))
    print(table.to_string(index=False)); print("choice:", choice)

def ceilings_stage(a, command) -> None:
    "hybrid_ncm's no-DP test accuracy at each backbone weight of its recipe, per dataset, beside the private test means at the epsilons using it."
    s = RECIPES["hybrid_ncm"]
    util = pd.read_csv(REPO / "results/benchmarks/utility.csv").query("model == 'hybrid_ncm'")
    rows, protocols = [], {}
    for ds in a.datasets:
        data, shared = load_protocol(ds), {}
        protocols[ds] = data.description
        u = util[util.dataset == ds]
        private = {float(e): round(100 * m, 1) for e, m in zip(u.epsilon, u.accuracy_mean) if e != "none"}
        weights = sorted({w for _, w in s.backbone_weight_by_eps} | {s.backbone_weight_at(e) for e in private})
        accs = {w: [] for w in weights}
        for seed in (0, 1, 2):
            for w in weights:
                r = run_experiment(data, "hybrid_ncm", None, seed, replace(s, backbone_weight_by_eps=(), backbone_weight=w), backbones=shared,
                                   out_dir=REPO / f"results/privacy/runs/hybrid_ceilings/weight_{w:g}", command=command)
                accs[w].append(100 * r["accuracy"]); print(f"{ds} seed {seed}, weight {w:g}: {accs[w][-1]:.1f}", flush=True)
        rows += [{"dataset": ds, "backbone_weight": w, "no_dp_accuracy_mean": round(float(np.mean(v)), 1),
                  "no_dp_accuracy_std": round(float(np.std(v, ddof=1)), 1), "seeds": len(v),
                  "epsilons_using_it": [e for e in sorted(private) if s.backbone_weight_at(e) == w],
                  "private_accuracy_mean": [private[e] for e in sorted(private) if s.backbone_weight_at(e) == w]} for w, v in accs.items()]
    out = REPO / "results/privacy/private_heads"
    write_json_atomic(out / "hybrid_ceilings.json", {**stamp(command), "model": "hybrid_ncm", "settings": s.settings(),
        "protocols": protocols, "rows": rows,
        "note": ("no-DP ceilings on the test subjects, seeds 0-2 (no model saved; each run's test predictions are in results/privacy/runs/hybrid_ceilings, non-private releases in the ledger; the weights were "
                 "chosen on UTD-MHAD's validation folds before this ran); private means from results/benchmarks/utility.csv "
                 "(per training clip, add/remove-one neighbours, delta 1e-5, 3 seeds)")})
    atomic_write(out / "hybrid_ceilings.csv", lambda tmp: pd.DataFrame(rows).to_csv(tmp, index=False))
    print(pd.DataFrame(rows).to_string(index=False))

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", choices=["validation", "test", "public_map", "features", "backbone", "backbone_choice", "ceilings"], required=True)
    p.add_argument("--draws", type=int, default=10, help="secret noise draws per fold for the one-release heads")
    p.add_argument("--sgd-draws", type=int, default=2, help="runs per fold for the DP-SGD head")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--datasets", nargs="+", default=["utd", "msr", "jhmdb"], help="stage ceilings: the protocols")
    p.add_argument("--rocket-seed", type=int, default=0, help="stage features: the public seed of the random kernels")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    command = " ".join(["python", "bench/private_heads.py"] + (sys.argv[1:] if argv is None else list(argv)))
    {"validation": validation, "test": test, "public_map": public_map, "features": features_stage, "backbone": backbone_stage,
     "backbone_choice": backbone_choice_stage, "ceilings": ceilings_stage}[a.stage](a, command)
    return 0

if __name__ == "__main__":
    sys.exit(main())
