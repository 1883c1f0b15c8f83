"""Choose the sweep's training settings (prism.experiments.RECIPES) on a validation subject of the TRAINING side only.

The last training subject of the protocol is held out as validation; nothing here reads the test subjects.
Each setting writes results/benchmarks/tune/<tag>/<run>.json (command, machine, date, metrics, ledger).
With --cv every training subject is held out in turn (leave-one-subject-out over the training side) and the file
holds the pooled validation accuracy over all training clips and the accuracy of each fold: one subject (~108 clips)
is a noisy judge, differences of a few points between settings are within its noise.

    PRISM_DATA=/path/to/data python bench/tune_benchmarks.py --kind stgcn_ft --eps 8 none --set pretrain_epochs=5 --tag pre5
    PRISM_DATA=/path/to/data python bench/tune_benchmarks.py --kind stgcn_ft --eps 8 4 1 --set views=4 --cv --tag cv_views4
"""
from __future__ import annotations
import argparse, ast, sys
from dataclasses import replace
from pathlib import Path
import numpy as np
import torch
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import prism.experiments as B
from prism.io import stamp, write_json_atomic

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="utd"); p.add_argument("--kind", default="stgcn")
    p.add_argument("--eps", nargs="+", default=["8", "none"]); p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", nargs="*", default=[], help="TrainSettings overrides of the kind's recipe, key=value (Python literals)")
    p.add_argument("--tag", required=True); p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cv", action="store_true", help="leave-one-training-subject-out instead of the last training subject")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    settings = B.recipe(a.kind, **{k: ast.literal_eval(v) for k, v in (kv.split("=", 1) for kv in a.set)})   # a copy: the defaults stay
    data = B.load_protocol(a.dataset)
    s = data.persons_train; subjects = sorted(set(s), key=lambda v: (len(v), v))
    X, y = data.train
    shared = {}   # the public backbones, shared by the folds
    out = REPO / "results" / "benchmarks" / "tune" / a.tag
    command = "python bench/tune_benchmarks.py " + " ".join(sys.argv[1:])
    for e in a.eps:
        eps = None if e in ("none", "inf") else float(e)
        folds = []
        for val in (subjects if a.cv else subjects[-1:]):
            fit = s != val
            tune = replace(data, X_train=X[fit], y_train=y[fit], persons_train=s[fit], X_test=X[~fit], y_test=y[~fit], persons_test=s[~fit],
                           description=f"tuning: training subjects except {val} -> validation subject {val} (test subjects unused)")
            r = B.run_experiment(tune, a.kind, eps, a.seed, settings, out_dir=None if a.cv else out, command=command, backbones=shared)
            folds.append({"validation_subject": val, "accuracy": r["accuracy"], "n": r["num_test"], "epsilon_prv": (r["ledger"] or {}).get("epsilon_prv"),
                          "train_seconds": r["train_seconds"]})
        if a.cv:
            pooled = sum(f["accuracy"] * f["n"] for f in folds) / sum(f["n"] for f in folds)
            write_json_atomic(out / f"{B.run_name(a.dataset, a.kind, eps, a.seed)}_cv.json",
                                {**stamp(command), "dataset": a.dataset, "model": a.kind, "epsilon": eps, "seed": a.seed,
                                 "settings": settings.settings(), "protocol": "leave-one-training-subject-out (test subjects unused)",
                                 "accuracy_pooled": pooled, "folds": folds})
            print(f"{a.tag} {a.kind} eps={e}: pooled validation acc {pooled:.3f} (folds {[round(f['accuracy'], 3) for f in folds]})", flush=True)
        else:
            print(f"{a.tag} {a.kind} eps={e}: val acc {folds[0]['accuracy']:.3f} ({folds[0]['train_seconds']:.0f}s) settings {settings.settings()}", flush=True)

if __name__ == "__main__":
    main()
