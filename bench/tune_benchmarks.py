"""Choose the sweep's training settings (prism.benchmarks.DEFAULT_TRAIN) on a validation subject of the TRAINING side only.

The last training subject of the protocol is held out as validation; nothing here reads the test subjects.
Each setting writes results/benchmarks/tune/<tag>/<run>.json (command, machine, date, metrics, ledger).

    PRISM_DATA=/path/to/data python bench/tune_benchmarks.py --kind stgcn_ft --eps 8 none --set pretrain_epochs=5 --tag pre5
"""
from __future__ import annotations
import argparse, ast, sys
from pathlib import Path
import numpy as np
import torch
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import prism.benchmarks as B

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="utd"); p.add_argument("--kind", default="stgcn")
    p.add_argument("--eps", nargs="+", default=["8", "none"]); p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", nargs="*", default=[], help="DEFAULT_TRAIN overrides, key=value (Python literals)")
    p.add_argument("--tag", required=True); p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for kv in a.set:
        k, v = kv.split("=", 1); B.DEFAULT_TRAIN[a.kind][k] = ast.literal_eval(v)
    data = B.load_protocol(a.dataset)
    s = data["subjects"]["train"]; val = sorted(set(s), key=lambda v: (len(v), v))[-1]
    fit = s != val
    (X, y) = data["train"]
    tune = {**data, "train": (X[fit], y[fit]), "test": (X[~fit], y[~fit]),
            "protocol": f"tuning: training subjects except {val} -> validation subject {val} (test subjects unused)"}
    out = REPO / "results" / "benchmarks" / "tune" / a.tag
    for e in a.eps:
        eps = None if e in ("none", "inf") else float(e)
        r = B.run_experiment(tune, a.dataset, a.kind, eps, a.seed, out_dir=out,
                             command="python bench/tune_benchmarks.py " + " ".join(sys.argv[1:]))
        print(f"{a.tag} {a.kind} eps={e}: val acc {r['accuracy']:.3f} ({r['train_seconds']:.0f}s) settings {B.DEFAULT_TRAIN[a.kind]}", flush=True)

if __name__ == "__main__":
    main()
