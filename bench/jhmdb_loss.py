"""Where the JHMDB video model loses accuracy: per-clip detection, size and motion statistics set against its mistakes,
measured without any training.

Reads the zoo's first video model (results/zoo/jhmdb_nodp_lstm3d: an LSTM on 3-D clips chosen on a validation split of
JHMDB's training side by source video; the 2-D, mirrored configuration this analysis led to replaced it as
results/zoo/jhmdb_nodp, and it stays published, its card naming its successor), rebuilds that validation split as
bench/video_model.py made it (`prism.experiments.validation_protocol`,
frac 0.2, seed 0), checks that the model scores its card's validation accuracy there and its card's test predictions on
the test side, and runs it once over both (inference only). For every clip it measures, without labels:

- `prism.jhmdb.jhmdb_clip_stats`: frames, share of frames with a person, longest gap, share of landmarks seen with low
  visibility, leg visibility, person height in the frame, variation of the torso length (the scale `normalize_pose` uses);
- `prism.jhmdb.jhmdb_tags`: HMDB51's annotations in the clip name (body part, camera motion, viewpoint, quality);
- on the normalised positions the model reads (`prism.clip.clip_positions`, layout prism15): motion (image-plane joint
  speed), landmark jitter (second differences of x and y) and how much rougher depth z is than x and y.

Each factor is related to whether the model is right: accuracy per bin with counts and exact intervals, and, for a split
into a worse and a better side fixed before looking (direction and threshold: a rule, or the training side's median), the
accuracy points the worse side costs, crude and within class (Mantel-Haenszel), with intervals from a bootstrap over
source videos; a logistic regression on all factors at once. Training-free diagnostics add: accuracy on the clips with
every frame detected (and the legs seen), the clips lost before any model sees them, the input scale under the model's
input statistics, and how much the model's predictions depend on the motion in z (a sensitivity, not the accuracy of a
2-D model, which would need training).

Everything that ranks a factor is measured on the validation clips; the test clips are described with the same tables,
never used to rank. Writes results/benchmarks/jhmdb_loss.{json,csv} and jhmdb_loss_confusion.png.

    PRISM_DATA=/path/to/data python bench/jhmdb_loss.py
"""
from __future__ import annotations
import argparse, sys, warnings
from pathlib import Path
import numpy as np
import pandas as pd
import torch
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import seaborn as sns
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from prism.io import atomic_write, atomic_write_text, stamp, write_json_atomic
from prism.jhmdb import load_jhmdb, jhmdb_clip_stats, jhmdb_tags
from prism.clip import clip_positions, positions_tensor
from prism.kinematics import channel_slices
from prism.checkpoint import load_checkpoint, card_contract
from prism.models import run_model
from prism.experiments import load_protocol, validation_protocol
from prism.attacks import clopper_pearson

# (factor, what it measures, the worse side: "<" or ">" a threshold ("median": the training side's), or "==" a tag value)
FACTORS = (
    ("found_frac", "share of frames with a person detected", "<", 1.0),
    ("leg_visibility", "mean MediaPipe visibility of hips, knees and ankles (found frames)", "<", 0.5),
    ("low_vis_frac", "share of landmarks seen with visibility < 0.5 (found frames)", ">", "median"),
    ("frames", "clip length in frames (the model reads 32)", "<", 32),
    ("person_height", "median height of the seen landmarks' box, in frame heights", "<", "median"),
    ("motion", "mean image-plane joint speed, torso lengths per frame (consecutive found frames)", ">", "median"),
    ("xy_jitter", "mean |second difference| of x and y, torso lengths (found frames)", ">", "median"),
    ("z_jitter_ratio", "jitter of depth z over the jitter of x and y (found frames)", ">", "median"),
    ("torso_cv", "coefficient of variation of the torso length over the clip (found frames)", ">", "median"),
    ("camera", "HMDB51 tag: camera motion", "==", "moving"),
    ("body", "HMDB51 tag: visible body part", "!=", "full body"),
    ("quality", "HMDB51 tag: video quality", "==", "low"),
)
TABLE_ONLY = (("view", "HMDB51 tag: viewpoint"),)   # no side is worse before looking: a table, not a ranking
# fixed bins where a rule gives them, else terciles of the training side
FIXED_BINS = {"found_frac": [(-np.inf, 0.8, "< 0.8"), (0.8, 1.0, "0.8 to < 1"), (1.0, np.inf, "1 (every frame)")],
              "frames": [(-np.inf, 30, "< 30"), (30, 40, "30 to 39"), (40, np.inf, "40")],
              "leg_visibility": [(-np.inf, 0.5, "< 0.5"), (0.5, np.inf, ">= 0.5")]}
# the training change each factor suggests, if it ranks high: a hypothesis to test on validation, never a finding
HYPOTHESES = {
    "found_frac": "detection gaps: train with a per-frame 'person found' channel or mask the filled frames (the held edges and "
                  "interpolated spans look like real stillness), and count the clips with no person at all",
    "leg_visibility": "guessed legs: weight joints by visibility, or zero the joints below a visibility threshold in training "
                      "and evaluation",
    "low_vis_frac": "guessed landmarks: a visibility channel, or zero the joints below a visibility threshold",
    "frames": "clip length: resample short clips less (fewer frames than the model reads are stretched), or read a variable length",
    "person_height": "small people: landmarks of a small person are noisier at JHMDB's 320 x 240; smooth them before velocities",
    "motion": "fast motion: velocities over two or more frames, or smoothed landmarks, so that fast actions are not noise",
    "xy_jitter": "landmark jitter: temporal smoothing before the velocity and bone channels",
    "z_jitter_ratio": "noisy depth: a 2-D input (x, y only) or a smoothed z",
    "torso_cv": "unstable scale: normalise per frame (centre each frame's hips, scale by a robust torso or shoulder width), not "
                "by the clip's first frame and median torso",
    "camera": "a moving camera: centre each frame on the person (center='frame') so camera pans do not read as motion",
    "body": "upper-body clips: a model on the upper-body joints, or masked legs",
    "quality": "low quality: nothing to change in training beyond the above; report separately",
}


def clip_motion(rec, layout:str) -> dict:
    "Motion, x-y jitter and the jitter ratio of z of one record, on the normalised positions the model reads (found frames only)."
    x = clip_positions(rec, layout)
    f = np.asarray(rec.meta["found"], bool)
    pairs, triples = f[1:] & f[:-1], f[2:] & f[1:-1] & f[:-2]
    d1, d2 = np.diff(x, 1, axis=0), np.abs(np.diff(x, 2, axis=0))
    motion = float(np.linalg.norm(d1[pairs][..., :2], axis=-1).mean()) if pairs.any() else np.nan
    if not triples.any(): return dict(motion=motion, xy_jitter=np.nan, z_jitter_ratio=np.nan)
    jit = d2[triples].mean(axis=(0, 1))   # per axis
    xy = float(jit[:2].mean())
    return dict(motion=motion, xy_jitter=xy, z_jitter_ratio=float(jit[2] / xy) if xy > 0 else np.nan,
                rough_x=float(jit[0] / np.abs(d1[pairs][..., 0]).mean()), rough_y=float(jit[1] / np.abs(d1[pairs][..., 1]).mean()),
                rough_z=float(jit[2] / np.abs(d1[pairs][..., 2]).mean()))


def clip_table(records, layout:str) -> pd.DataFrame:
    "One row per record: detection statistics, tags, motion."
    rows = []
    for r in records:
        rows.append(dict(source=r.source, source_video=str(r.subject), label=int(r.label), action=r.action, **jhmdb_clip_stats(r),
                         **jhmdb_tags(Path(r.source).name, r.action), **clip_motion(r, layout)))
    return pd.DataFrame(rows)


def worse_side(df:pd.DataFrame, factor:str, op:str, thr) -> np.ndarray:
    "(N,) float: 1 on the worse side, 0 on the better, NaN where the factor is undefined."
    v = df[factor]
    if op in ("==", "!="): out = (v == thr) if op == "==" else (v != thr)
    else: out = (v < thr) if op == "<" else (v > thr)
    return np.where(v.isna(), np.nan, out.astype(float))


def bin_rows(df:pd.DataFrame, ok:np.ndarray, factor:str, edges, split:str) -> list:
    "Accuracy per bin of one factor, with counts and exact 95% intervals."
    rows = []
    if edges is None: groups = [(str(b), (df[factor] == b).to_numpy(), None, None) for b in sorted(df[factor].dropna().unique())]
    else: groups = [(lab, ((df[factor] >= lo) & (df[factor] < hi)).to_numpy(), lo, hi) for lo, hi, lab in edges]
    for lab, m, lo, hi in groups:
        n, k = int(m.sum()), int(ok[m].sum())
        lo_ci, hi_ci = clopper_pearson(k, n, 0.025) if n else (np.nan, np.nan)
        rows.append(dict(split=split, factor=factor, bin=lab, lo=lo, hi=hi, n=n, correct=k, accuracy=k / n if n else np.nan,
                         ci_low=lo_ci, ci_high=hi_ci))
    return rows


def losses(ok:np.ndarray, bad:np.ndarray, y:np.ndarray, w:np.ndarray, K:int) -> tuple:
    "(crude, within-class) accuracy points the worse side costs, with clip weights `w` (a bootstrap draw's counts)."
    m = ~np.isnan(bad); ok, bad, y, w = ok[m], bad[m].astype(bool), y[m], w[m]
    nb, ng = w[bad].sum(), w[~bad].sum()
    if nb == 0 or ng == 0: return np.nan, np.nan
    share = nb / (nb + ng)
    crude = share * ((w[~bad] * ok[~bad]).sum() / ng - (w[bad] * ok[bad]).sum() / nb)
    n1, n0 = np.bincount(y[bad], w[bad], K), np.bincount(y[~bad], w[~bad], K)
    c1, c0 = np.bincount(y[bad], w[bad] * ok[bad], K), np.bincount(y[~bad], w[~bad] * ok[~bad], K)
    both = (n1 > 0) & (n0 > 0)
    if not both.any(): return crude, np.nan
    wk = n1[both] * n0[both] / (n1[both] + n0[both])
    rd = (wk * (c0[both] / n0[both] - c1[both] / n1[both])).sum() / wk.sum()   # Mantel-Haenszel risk difference
    return crude, share * rd


def cluster_weights(groups:np.ndarray, draws:int, rng) -> np.ndarray:
    "(draws, N) clip weights of a bootstrap over groups (source videos): how often each clip's group was drawn."
    u, inv = np.unique(groups, return_inverse=True)
    counts = np.stack([np.bincount(rng.integers(0, len(u), len(u)), minlength=len(u)) for _ in range(draws)])
    return counts[:, inv].astype(float)


def rank_factors(df:pd.DataFrame, ok:np.ndarray, thresholds:dict, K:int, W:np.ndarray) -> list:
    "For each factor of FACTORS: its worse side's share and accuracy, the points it costs (crude, within class), bootstrap intervals."
    out = []
    for f, what, op, _ in FACTORS:
        bad = worse_side(df, f, op, thresholds[f])
        m = ~np.isnan(bad); b = bad[m].astype(bool); o = ok[m]
        crude, within = losses(ok, bad, df.label.to_numpy(), np.ones(len(ok)), K)
        boot = np.array([losses(ok, bad, df.label.to_numpy(), w, K) for w in W])
        ci = lambda a: [float(np.nanpercentile(a, 2.5)), float(np.nanpercentile(a, 97.5))]
        out.append(dict(factor=f, what=what, worse=f"{f} {op} {thresholds[f]:.4g}" if not isinstance(thresholds[f], str) else f"{f} {op} {thresholds[f]}",
                        n=int(m.sum()), n_worse=int(b.sum()), share_worse=float(b.mean()),
                        accuracy_worse=float(o[b].mean()) if b.any() else None, accuracy_better=float(o[~b].mean()) if (~b).any() else None,
                        points_crude=float(crude), points_crude_ci=ci(boot[:, 0]),
                        points_within_class=None if np.isnan(within) else float(within), points_within_class_ci=ci(boot[:, 1]),
                        hypothesis=HYPOTHESES[f]))
    return out


def add_support(ranking:list, logistic:dict) -> list:
    "Mark which of three checks put a factor's cost above zero: crude points, within-class points, the logistic regression."
    sign = {f: (1 if op == "<" else -1) for f, _, op, _ in FACTORS}   # '<': a higher value should help, so a harmful factor has coef > 0
    for r in ranking:
        lg = logistic["coefficients"].get(r["factor"])
        r["support"] = {"crude_interval_above_0": bool(r["points_crude_ci"][0] > 0),
                        "within_class_interval_above_0": bool(r["points_within_class_ci"][0] > 0),
                        "logistic_interval_on_the_harmful_side": None if lg is None else bool(min(sign[r["factor"]] * c for c in lg["ci"]) > 0)}
    return ranking


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="zoo/jhmdb_nodp_lstm3d", help="checkpoint stem under --results")
    p.add_argument("--results", default=str(REPO / "results"))
    p.add_argument("--frac", type=float, default=0.2, help="the validation split's held-out share (as bench/video_model.py)")
    p.add_argument("--seed", type=int, default=0, help="the validation split's seed (as bench/video_model.py)")
    p.add_argument("--draws", type=int, default=2000, help="bootstrap draws over source videos")
    p.add_argument("--out", default=str(REPO / "results" / "benchmarks"))
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    command = " ".join(["python", "bench/jhmdb_loss.py"] + (sys.argv[1:] if argv is None else list(argv)))
    model, card = load_checkpoint(Path(a.results) / a.model)
    spec, classes = card_contract(card), list(card["classes"])
    K = len(classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the clips without a person are counted below, from the summaries
        data = load_protocol("jhmdb", clip=spec, norm_from=None)
        (tr, s_tr), (te, s_te) = (load_jhmdb(split=s, return_summary=True) for s in ("train", "test"))
    val = validation_protocol(data, frac=a.frac, seed=a.seed)
    if [str(r.subject) for r in tr] != list(data.persons_train) or [str(r.subject) for r in te] != list(data.persons_test):
        raise RuntimeError("the records are not in the protocol's order")
    isval = np.isin(data.persons_train, val.persons_test)
    assert np.array_equal(data.X_train[isval], val.X_test)
    z_val, z_test = run_model(model, val.X_test).numpy(), run_model(model, data.X_test).numpy()
    pv, pt = z_val.argmax(1), z_test.argmax(1)
    acc_val, acc_test = float((pv == val.y_test).mean()), float((pt == data.y_test).mean())
    v = card["validation"]
    if len(val.y_test) != v["n"] or abs(acc_val - v["scores"][v["chosen"]]) > 1e-9:
        raise RuntimeError(f"validation split or model differ from the card: {len(val.y_test)} clips, accuracy {acc_val} "
                           f"(card: {v['n']}, {v['scores'][v['chosen']]})")
    test_match = pt.tolist() == card["test_predictions"]["y_pred"]
    if not test_match: raise RuntimeError("the test predictions differ from the card's")
    print(f"validation {len(pv)} clips, accuracy {acc_val:.3f}; test {len(pt)} clips, accuracy {acc_test:.3f} (as on the card)", flush=True)

    clips_tr, clips_te = clip_table(tr, spec.layout), clip_table(te, spec.layout)
    vdf, tdf = clips_tr[isval].reset_index(drop=True), clips_te
    ok_val, ok_test = (pv == val.y_test).astype(float), (pt == data.y_test).astype(float)
    # thresholds and terciles from the training side (fit + validation clips), labels unused
    thresholds = {f: (float(clips_tr[f].median()) if thr == "median" else thr) for f, _, _, thr in FACTORS}
    edges = {}
    for f, _, op, _ in FACTORS:
        if f in FIXED_BINS: edges[f] = FIXED_BINS[f]
        elif op in ("==", "!="): edges[f] = None
        else:
            q1, q2 = np.nanquantile(clips_tr[f], [1 / 3, 2 / 3])
            edges[f] = [(-np.inf, q1, f"< {q1:.3g}"), (q1, q2, f"{q1:.3g} to < {q2:.3g}"), (q2, np.inf, f">= {q2:.3g}")]
    for f, _ in TABLE_ONLY: edges[f] = None
    rows = []
    for split, df, ok, yy, pp in (("validation", vdf, ok_val, val.y_test, pv), ("test", tdf, ok_test, data.y_test, pt)):
        rows.append(dict(split=split, factor="all", bin="all", n=len(ok), correct=int(ok.sum()), accuracy=float(ok.mean()),
                         **dict(zip(("ci_low", "ci_high"), clopper_pearson(int(ok.sum()), len(ok), 0.025)))))
        for f in edges: rows += bin_rows(df, ok, f, edges[f], split)
        for k, c in enumerate(classes):
            m = yy == k; n, kk = int(m.sum()), int((pp[m] == k).sum())
            rows.append(dict(split=split, factor="class", bin=c, n=n, correct=kk, accuracy=kk / n if n else np.nan,
                             **dict(zip(("ci_low", "ci_high"), clopper_pearson(kk, n, 0.025) if n else (np.nan, np.nan)))))
    table = pd.DataFrame(rows)

    rng = np.random.default_rng(a.seed)
    W_val = cluster_weights(vdf.source_video.to_numpy(), a.draws, rng)
    ranking = sorted(rank_factors(vdf, ok_val, thresholds, K, W_val),
                     key=lambda r: -(r["points_within_class"] if r["points_within_class"] is not None else -np.inf))
    W_test = cluster_weights(tdf.source_video.to_numpy(), a.draws, rng)
    test_losses = {r["factor"]: {k: r[k] for k in ("n_worse", "share_worse", "accuracy_worse", "accuracy_better", "points_crude",
                                                    "points_crude_ci", "points_within_class", "points_within_class_ci")}
                   for r in rank_factors(tdf, ok_test, thresholds, K, W_test)}

    # logistic regression of correctness on the continuous factors at once (validation), standardised on the training side
    cont = [f for f, _, op, _ in FACTORS if op in ("<", ">")]
    mu, sd = clips_tr[cont].mean(), clips_tr[cont].std()
    Z = ((vdf[cont].fillna(clips_tr[cont].median()) - mu) / sd).to_numpy()
    fit = lambda w: LogisticRegression(C=1.0, max_iter=2000).fit(Z, ok_val.astype(int), sample_weight=w).coef_[0]
    coef = fit(None)
    boot = np.array([fit(w) for w in W_val[:500]])
    logistic = {"how": "L2-penalised logistic regression (C=1) of 'the model is right' on the factors at once, each standardised with "
                       "the training side's mean and SD (a coefficient is the change in log-odds per SD); 95% intervals from 500 "
                       "bootstrap draws over validation source videos",
                "coefficients": {f: {"coef": float(c), "ci": [float(np.percentile(boot[:, i], 2.5)), float(np.percentile(boot[:, i], 97.5))]}
                                 for i, (f, c) in enumerate(zip(cont, coef))}}

    ranking = add_support(ranking, logistic)
    rho = clips_tr[cont].corr(method="spearman")
    correlations = {"how": "Spearman correlation between factors over the training side's clips (labels unused); pairs with |rho| >= 0.4",
                    "pairs": [dict(a=x, b=y, rho=round(float(rho.loc[x, y]), 3)) for i, x in enumerate(cont) for y in cont[i + 1:]
                              if abs(rho.loc[x, y]) >= 0.4]}

    # training-free diagnostics
    full = (vdf.found_frac == 1).to_numpy(); clean = full & (vdf.leg_visibility >= 0.5).to_numpy()
    subset = lambda m: dict(n=int(m.sum()), correct=int(ok_val[m].sum()), accuracy=float(ok_val[m].mean()))
    headroom = {"all": subset(np.ones(len(ok_val), bool)), "every_frame_detected": subset(full), "some_frame_missing": subset(~full),
                "every_frame_detected_and_legs_seen": subset(clean), "the_rest": subset(~clean),
                "note": "validation clips. The accuracy of the clips with every frame detected is what the whole split would score "
                        "if gaps cost nothing and those clips were otherwise alike; they are not (their classes differ), so the "
                        "within-class points of the ranking are the fairer estimate of what detection gaps cost"}
    lost = [dict(video=f["video"], side=side) for side, s in (("train", s_tr), ("test", s_te)) for f in s.failures]
    n_test_all = len(pt) + sum(1 for l in lost if l["side"] == "test")
    lost_clips = {"clips": len(lost), "of": len(tr) + len(te) + len(lost), "by_side": {s: sum(l["side"] == s for l in lost) for s in ("train", "test")},
                  "videos": [l["video"] for l in lost],
                  "test_accuracy_counting_them_wrong": float(ok_test.sum() / n_test_all), "test_clips_counting_them": n_test_all,
                  "note": "no person in any frame (MediaPipe at JHMDB_POSE_CONFIG): left out of every protocol, so the reported "
                          "accuracies do not count them"}
    n = model.input_norm
    Xfit = data.X_train[~isval]
    Xs = ((torch.from_numpy(Xfit).movedim(1, -1) - n.mean) / n.std).movedim(-1, 1).numpy()
    names = [f"{g}_{ax}" for g, s in channel_slices(spec.channels).items() for ax in "xyz"[: s.stop - s.start]]
    input_scale = {"how": f"per-channel SD of the fit side's inputs ({len(Xfit)} clips) after the model's input statistics "
                          f"({card.get('input_norm_from')}); 1 is what the statistics aim at",
                   "sd": dict(zip(names, Xs.std(axis=(0, 2, 3)).round(4).tolist())),
                   "mean": dict(zip(names, Xs.mean(axis=(0, 2, 3)).round(4).tolist()))}
    val_recs = [r for r, m in zip(tr, isval) if m]
    def frozen(axis):
        X = []
        for r in val_recs:
            x = clip_positions(r, spec.layout); x[..., axis] = x[..., axis].mean(0, keepdims=True); X.append(positions_tensor(x, spec))
        return run_model(model, np.stack(X)).numpy().argmax(1)
    sens = {}
    for ax, name in ((2, "z"), (0, "x"), (1, "y")):
        q = frozen(ax)
        sens[name] = dict(predictions_unchanged=float((q == pv).mean()), accuracy=float((q == val.y_test).mean()))
    rough = {ax: float(np.nanmedian(clips_tr[f"rough_{ax}"])) for ax in "xyz"}
    depth = {"z_jitter_ratio_median": float(np.nanmedian(clips_tr.z_jitter_ratio)),
             "roughness_median": rough,
             "roughness_how": "mean |second difference| over mean |first difference| per axis, found frames, training side: "
                              "about 1.73 for pure frame-to-frame noise, well below 1 for smooth motion",
             "freeze_motion": sens,
             "freeze_how": "validation clips with one axis of every joint held at its clip mean (the motion along that axis "
                           "removed, the pose kept), through prism.clip; the unchanged share says how much the decisions rest on "
                           "that axis's motion. Not the accuracy of a model trained without it (that needs training)"}

    # confusions on validation
    cm = confusion_matrix(val.y_test, pv, labels=np.arange(K))
    pairs = sorted(((int(cm[i, j] + cm[j, i]), i, j) for i in range(K) for j in range(i + 1, K) if cm[i, j] + cm[j, i] > 0), reverse=True)
    confused = [dict(a=classes[i], b=classes[j], clips=c, a_as_b=int(cm[i, j]), b_as_a=int(cm[j, i])) for c, i, j in pairs[:8]]
    sinks = sorted(((int(cm[:, j].sum() - cm[j, j]), classes[j]) for j in range(K)), reverse=True)[:5]

    out = Path(a.out)
    result = {**stamp(command), "model": a.model, "model_sha256": card["sha256"],
              "protocol": data.description, "validation": val.description,
              "accuracy": {"validation": acc_val, "test": acc_test, "validation_n": len(pv), "test_n": len(pt),
                           "test_predictions_match_card": test_match},
              "thresholds": thresholds, "ranking": ranking,
              "ranking_how": "validation clips; each factor split into a worse and a better side fixed before looking (the rule in "
                             "'worse'; medians are the training side's); points = share of the worse side x (accuracy of the better "
                             "side - of the worse), crude and within class (Mantel-Haenszel risk difference over the classes with both "
                             "sides); intervals: 2.5 and 97.5 percentiles of a bootstrap over source videos. Ordered by the "
                             "within-class points; 'support' says which of the crude interval, the within-class interval and the logistic "
                             "regression's interval lie wholly on the harmful side. Associations, not causes; factors overlap "
                             "('correlations'), so the points do not add up",
              "test_description": {"how": "the same splits on the test clips: a description, not used to rank", "factors": test_losses},
              "logistic": logistic, "correlations": correlations, "headroom": headroom, "lost_clips": lost_clips, "input_scale": input_scale, "depth": depth,
              "confusion_validation": {"classes": classes, "rows": "true class", "columns": "predicted class", "counts": cm.tolist()},
              "confused_pairs": confused, "most_predicted_wrongly": [dict(cls=c, wrong_predictions=k) for k, c in sinks],
              "clips_per_factor_bins": "results/benchmarks/jhmdb_loss.csv (split, factor, bin, n, correct, accuracy, exact 95% interval)",
              "cannot_show": ["what a retrained model would score with any change (gap masking, 2-D input, other normalisation, "
                              "other clip length): every number here is the committed model's, trained on the inputs as they are",
                              "causes: the factors overlap (gaps go with fast motion and with some classes), and 135 validation clips "
                              "leave wide intervals",
                              "the pose extractor's errors on detected frames: JHMDB's annotated joints are not in the data folder, so "
                              "landmark accuracy is seen only through visibility and jitter",
                              "a comparison with the issue's published figure: other protocols (JHMDB's official splits), pose estimators and models; "
                              "not reproduced here"]}
    write_json_atomic(out / "jhmdb_loss.json", result)
    atomic_write_text(out / "jhmdb_loss.csv", table.to_csv(index=False, float_format="%.4f"))
    fig, ax = plt.subplots(figsize=(9, 7.5))
    sns.heatmap(pd.DataFrame(cm, index=classes, columns=classes), annot=True, fmt="d", cmap="Blues", cbar=False,
                mask=cm == 0, linewidths=0.3, linecolor="0.9", annot_kws={"fontsize": 7}, ax=ax)
    ax.set_xlabel("predicted"); ax.set_ylabel("true")
    ax.set_title(f"JHMDB zoo model on its validation clips ({len(pv)} clips of held-out source videos): counts", fontsize=9)
    fig.tight_layout()
    atomic_write(out / "jhmdb_loss_confusion.png", lambda f: fig.savefig(f, dpi=110, metadata={"Software": None}))
    for r in ranking:
        print(f"{r['factor']:>15}: worse side {r['n_worse']:3d}/{r['n']} acc {r['accuracy_worse']:.3f} vs {r['accuracy_better']:.3f}; "
              f"points crude {100 * r['points_crude']:+.1f}, within class " +
              ("n/a" if r["points_within_class"] is None else f"{100 * r['points_within_class']:+.1f}"))
    print("wrote", out / "jhmdb_loss.json", out / "jhmdb_loss.csv", out / "jhmdb_loss_confusion.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
