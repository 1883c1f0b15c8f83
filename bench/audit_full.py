"""The full PRISM privacy audit on UTD-MHAD, written to results/audit/ with the command line, machine and date.

Model audit (membership inference with shadow models, canary epsilon lower bounds, re-identification and the bone-length mitigation):

    PRISM_DATA=/path/to/data python bench/audit_full.py                      # AuditMLP target, K=8 shadows, eps none/8/4/1
    PRISM_DATA=/path/to/data python bench/audit_full.py --model stgcn --out results/audit/stgcn   # small ST-GCN target (slow on CPU)

Mechanism audit (the deployed DP-SGD head and private class means as released, with planted-bug controls; an audit that can fail):

    PRISM_DATA=/path/to/data python bench/audit_full.py --mechanisms         # results/audit/mechanisms.{json,csv,png}

How often the quick audits of nbs/08_audit.ipynb miss a planted bug (or flag the shipped mechanism): its cells' audits,
on its cells' inputs (pooled kinematic features of UTD-MHAD's cross-subject training clips), repeated with fresh secret
randomness; per audit the misses, the bounds' mean and sd, and a 95% upper bound on the miss rate:

    PRISM_DATA=/path/to/data python bench/audit_full.py --control-power 40   # results/audit/control_power.{json,csv}
"""
from __future__ import annotations
import argparse, sys, time, warnings
from pathlib import Path
import matplotlib.pyplot as plt
import numpy as np
import torch
import pandas as pd
from scipy.stats import norm
from prism.attacks import clopper_pearson
from prism.audit import run_audit, mechanism_audit, plot_audit_scores, public_backbone_features, clip_features, audit_private_ncm, audit_private_head
from prism.data import load_utd_mhad, utd_cross_subject
from prism.io import atomic_write, stamp, write_json_atomic

def parse_eps(s:str):
    return [None if v.strip().lower() in ("none", "inf") else float(v) for v in s.split(",")]

def mechanisms(a, command:str) -> int:
    "Audit both deployed private heads on the real private training split's backbone features; write json, csv and the score plot."
    t0 = time.perf_counter()
    train, _ = utd_cross_subject(load_utd_mhad())
    X, _ = public_backbone_features(train, seed=a.seed)          # standardised with the public backbone's statistics
    y = np.array([r.label for r in train]); K = int(y.max()) + 1
    res = mechanism_audit(X, y, K, epsilons=[e for e in parse_eps(a.epsilons) if e is not None], controls_at=parse_eps(a.controls_at),
                          releases=a.releases, canaries=a.canaries, runs=a.runs,
                          control_releases=a.control_releases, control_canaries=a.control_canaries,
                          releases_at={float(k): int(v) for k, v in (kv.split(":") for kv in a.releases_at.split(",") if kv)})
    t = res["table"]; out = Path(a.out)
    summary = {**stamp(command), "dataset": "utd_mhad cross-subject training split (the private data of the deployed heads)",
               "clips": int(len(y)), "classes": K, "feature_dim": int(X.shape[1]), "backbone": "ST-GCN pretrained on MSR Action3D (public), seed %d" % a.seed,
               "settings": {"runs": a.runs, "releases": a.releases, "releases_at": a.releases_at, "canaries": a.canaries,
                            "control_releases": a.control_releases, "control_canaries": a.control_canaries, "delta": 1e-5, "alpha": 0.05},
               "seconds": round(time.perf_counter() - t0, 1),
               "reading": ("verdict: VIOLATION = empirical lower bound > claimed epsilon; uninformative = ceiling <= claimed epsilon "
                           "(the check could not fail); consistent otherwise. Planted bugs (control != 'none') must be VIOLATION."),
               "table": t.to_dict(orient="records"),
               "detail": [{k: v for k, v in r.items() if k not in ("scores_in", "scores_out")} |
                          {"scores_in_mean": float(np.mean(r["scores_in"])), "scores_out_mean": float(np.mean(r["scores_out"]))} for r in res["results"]]}
    write_json_atomic(out / "mechanisms.json", summary)
    atomic_write(out / "mechanisms.csv", lambda p: t.to_csv(p, index=False))
    shown = [r for r in res["results"] if r["claimed_epsilon"] == min(parse_eps(a.controls_at))]
    fig = plot_audit_scores(shown)
    atomic_write(out / "mechanisms.png", lambda p: fig.savefig(p, dpi=110, bbox_inches="tight", format="png")); plt.close(fig)
    print(t.drop(columns=["bound", "randomness"]).to_string())
    bad = t[((t.control != "none") & (t.verdict != "VIOLATION")) | ((t.control == "none") & (t.verdict == "VIOLATION"))]
    if len(bad): print("FAIL: a planted bug went unnoticed or a shipped mechanism violated its claim:\n", bad); return 1
    return 0

# the quick audits of nbs/08_audit.ipynb (cells 0500250b and 51f8f1fb) at claimed epsilon 1: (audit, control, size, expected verdict)
# (the notebook runs 1000 releases and 3000 canaries, `mechanism_audit`'s control sizes; 40 releases is the honest audits' size,
#  300 the class-means cell's before this measurement, 6000 canaries a larger audit)
NOTEBOOK_AUDITS = (("stgcn_ncm", "none", 40, "consistent"), ("stgcn_ncm", "quarter noise", 40, "VIOLATION"), ("stgcn_ncm", "quarter noise", 300, "VIOLATION"),
                   ("stgcn_ncm", "quarter noise", 1000, "VIOLATION"), ("stgcn_ft", "none", 3000, "consistent"),
                   ("stgcn_ft", "quarter noise", 3000, "VIOLATION"), ("stgcn_ft", "quarter noise", 6000, "VIOLATION"))

def control_power(a, command:str) -> int:
    "Repeat the notebook's quick audits with fresh secret randomness: how often each gives the wrong verdict."
    train, _ = utd_cross_subject(load_utd_mhad())                   # the cross-subject training side, as in the notebook
    F, y = clip_features(train), np.array([r.label for r in train]); K = int(y.max()) + 1
    rows, t0 = [], time.perf_counter()
    for i in range(a.control_power):
        for recipe_, control, n, want in NOTEBOOK_AUDITS:
            r = (audit_private_ncm(F, y, K, 1.0, control=control, releases=n) if recipe_ == "stgcn_ncm"
                 else audit_private_head(F, y, K, 1.0, control=control, canaries=n))
            rows.append({"repeat": i, "recipe": recipe_, "control": control, "size": n, "trials": r["trials"], "eps_lb": r["eps_lb"],
                         "ceiling": r["ceiling"], "verdict": r["verdict"], "expected": want})
            print(f"{i:3d} {recipe_:9s} {control:13s} {n:5d}: bound {r['eps_lb']:.2f} / ceiling {r['ceiling']:.2f} -> {r['verdict']}", flush=True)
    t = pd.DataFrame(rows)
    g = t.assign(miss=t.verdict != t.expected).groupby(["recipe", "control", "size"], sort=False)
    summ = g.agg(trials=("trials", "first"), expected=("expected", "first"), repeats=("miss", "size"), misses=("miss", "sum"),
                 eps_lb_mean=("eps_lb", "mean"), eps_lb_sd=("eps_lb", "std"), eps_lb_min=("eps_lb", "min"), eps_lb_max=("eps_lb", "max")).reset_index()
    summ["miss_rate_upper95"] = [float(clopper_pearson(int(m), int(n))[1]) for m, n in zip(summ.misses, summ.repeats)]
    side = np.where(summ.expected == "VIOLATION", 1, -1)                  # a violation must lie above epsilon 1, a consistent bound below
    tail = norm.sf(side * (summ.eps_lb_mean - 1.0) / summ.eps_lb_sd)
    summ["miss_normal_approx"] = np.where(summ.eps_lb_min > 0, tail, np.nan)   # bounds held at 0 are no normal sample: no tail
    out = Path(a.out)
    write_json_atomic(out / "control_power.json", {**stamp(command), "claimed_epsilon": 1.0, "delta": 1e-5, "alpha": 0.05,
        "data": "pooled kinematic features (prism.audit.clip_features) of UTD-MHAD's cross-subject training clips, as nbs/08_audit.ipynb",
        "reading": ("a miss: a planted bug (control != 'none') not found VIOLATION, or the shipped mechanism found VIOLATION; "
                    "miss_rate_upper95: Clopper-Pearson 95% upper bound from the repeats; miss_normal_approx: the normal tail of the "
                    "bounds beyond epsilon 1, a rough extrapolation where no miss was seen, left empty where bounds sit at 0"),
        "seconds": round(time.perf_counter() - t0, 1), "summary": summ.to_dict(orient="records")})
    atomic_write(out / "control_power.csv", lambda p: t.to_csv(p, index=False))
    print(summ.to_string())
    return 0

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/audit", help="output folder")
    p.add_argument("--epsilons", default="none,8,4,1", help="comma-separated privacy settings; 'none' = non-private")
    p.add_argument("--models", type=int, default=9, help="models per setting (target + shadows, rotated)")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--control-epochs", type=int, default=150, help="epochs of the overfit non-private canary model")
    p.add_argument("--canaries", type=int, default=None, help="canaries (model audit: 200; mechanism audit: Dirac canaries per DP-SGD run, 1728)")
    p.add_argument("--model", choices=("mlp", "stgcn", "stgcn_ft"), default="mlp",
                   help="audit target: MLP on pooled features, a small ST-GCN trained end to end, or the deployed public-backbone ST-GCN with a private linear head")
    p.add_argument("--mechanisms", action="store_true", help="audit the deployed private heads as released (with planted-bug controls) instead")
    p.add_argument("--controls-at", default="1", help="mechanism audit: claimed epsilons of the planted-bug controls")
    p.add_argument("--releases", type=int, default=300, help="mechanism audit: class-means releases per audit (trials = releases x classes)")
    p.add_argument("--releases-at", default="8:1700", help="mechanism audit: EPS:RELEASES for honest class-means audits that need more trials")
    p.add_argument("--runs", type=int, default=4, help="mechanism audit: DP-SGD runs per audit, canaries pooled")
    p.add_argument("--control-releases", type=int, default=1000, help="mechanism audit: class-means releases of the quarter-noise control")
    p.add_argument("--control-canaries", type=int, default=6912, help="mechanism audit: Dirac canaries of the quarter-noise DP-SGD control in all (4 runs of 1728)")
    p.add_argument("--control-power", type=int, default=0, metavar="N", help="repeat the notebook's quick audits N times: how often each misses")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="opacus")
    command = " ".join(["python", "bench/audit_full.py"] + (sys.argv[1:] if argv is None else list(argv)))
    if a.control_power: return control_power(a, command)
    if a.mechanisms:
        if a.epsilons == "none,8,4,1": a.epsilons = "1,2,4,8"
        a.canaries = a.canaries or 1728
        return mechanisms(a, command)
    s = run_audit(out_dir=a.out, epsilons=parse_eps(a.epsilons), n_models=a.models, epochs=a.epochs,
                  control_epochs=a.control_epochs, canaries=a.canaries or 200, model=a.model, seed=a.seed, command=command)
    bad = [r["setting"] for r in s["table"] if r["bound_within_accountant"] is False]
    if bad: print(f"FAIL: empirical epsilon above the accountant's (where the audit could tell) for {bad}"); return 1
    print("written:", ", ".join(s.get("written", [])))
    return 0

if __name__ == "__main__": sys.exit(main())
