"""Accuracy against values per frame: does the reduced skeleton (prism15) and its kinematic channels keep the motion?

Trains the sweep's non-private ST-GCN (prism.experiments.RECIPES["stgcn"], seed 0) on UTD-MHAD cross-subject
with different input layouts and channel specs, and writes results/benchmarks/values_per_frame.{csv,json}
(command, machine, date). The default input of the benchmarks is prism15 + pos+vel+bone.

    PRISM_DATA=/path/to/data python bench/bench_values_per_frame.py [--configs kinect20_utd:pos prism15:pos ...]
"""
from __future__ import annotations
import argparse, sys
from pathlib import Path
import pandas as pd
import torch
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import prism.experiments as B
from prism.io import atomic_write, stamp, write_json_atomic
from prism.clip import ClipSpec
from prism.kinematics import num_channels
from prism.skeleton import get_layout

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=["kinect20_utd:pos", "prism15:pos", "prism15:pos+vel", "prism15:pos+vel+bone"])
    p.add_argument("--seed", type=int, default=0); p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(REPO / "results" / "benchmarks"))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    out = Path(a.out); rows = []
    f = out / "values_per_frame.csv"
    old = pd.read_csv(f) if f.exists() else None
    for cfg in a.configs:
        layout, spec = cfg.split(":")
        data = B.load_protocol("utd", clip=ClipSpec(layout, spec))
        r = B.run_experiment(data, "stgcn", None, a.seed, B.RECIPES["stgcn"], command="python bench/bench_values_per_frame.py " + " ".join(sys.argv[1:]))
        V = get_layout(layout).num_joints; C = num_channels(spec)
        rows.append({"layout": layout, "spec": spec, "joints": V, "channels": C, "values_per_frame": V * C,
                     "accuracy": r["accuracy"], "f1_macro": r["f1_macro"], "seed": a.seed, "epochs": len(r["history"]),
                     "input_norm_from": data.norm_from, "train_seconds": round(r["train_seconds"], 1)})
        print(rows[-1], flush=True)
    t = pd.DataFrame(rows)
    if old is not None:   # keep configurations measured by earlier calls
        t = pd.concat([old[~old.apply(lambda r: f"{r.layout}:{r.spec}" in a.configs, axis=1)], t], ignore_index=True)
    write_json_atomic(out / "values_per_frame.json", {**stamp("python bench/bench_values_per_frame.py " + " ".join(sys.argv[1:])),
                        "dataset": "utd", "protocol": "cross-subject", "model": "stgcn (RECIPES['stgcn'], non-private)",
                        "settings": B.RECIPES["stgcn"].settings(), "rows": t.to_dict(orient="records")})
    atomic_write(f, lambda tmp: t.to_csv(tmp, index=False))
    print(t.to_string(index=False))

if __name__ == "__main__":
    main()
