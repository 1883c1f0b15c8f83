"""Seconds per epoch of the same STGCN_PRISM on UTD-MHAD's cross-subject training split, non-private and private with
each Opacus `grad_sample_mode`, measured in one run so that the ratios compare like with like.

    PRISM_DATA=/path/to/data python bench/bench_dp_engines.py [--epochs 2] [--batch-size 64] [--threads 1]

Writes results/privacy/timing_utd.json (command, machine, load). Inputs come from `prism.clip` (the one path).
"""
from __future__ import annotations
import argparse, os, sys, warnings
from pathlib import Path
import numpy as np
import torch
from prism.io import stamp, write_json_atomic, load_note
from prism.data import load_utd_mhad, utd_cross_subject
from prism.clip import clip_arrays, make_loader, DEFAULT_CLIP
from prism.models import STGCN_PRISM
from prism.privacy import create_privacy_config, PrivacyPreservingTrainer

REPO = Path(__file__).resolve().parents[1]

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=2); p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=1); p.add_argument("--out", default=str(REPO / "results" / "privacy" / "timing_utd.json"))
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    load0 = os.getloadavg()
    X, y = clip_arrays(utd_cross_subject(load_utd_mhad())[0], DEFAULT_CLIP)
    rows = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(Optimal order|Full backward hook).*")
        for mode in [None, "hooks", "functorch", "ghost"]:
            torch.manual_seed(0)
            m = STGCN_PRISM(num_joints=X.shape[3], in_channels=X.shape[1], num_classes=int(y.max()) + 1, layout=DEFAULT_CLIP.layout)
            cfg = None if mode is None else create_privacy_config(8.0, 1e-5, grad_sample_mode=mode, max_physical_batch_size=a.batch_size)
            r = PrivacyPreservingTrainer(m, cfg, lr=0.1, seed=0, track_epsilon=False).train(
                make_loader(X, y, a.batch_size, shuffle=True), None, num_epochs=a.epochs)
            secs = [h["epoch_seconds"] for h in r["history"]]
            rows.append({"grad_sample_mode": mode or "non-DP", "epoch_seconds": secs, "median_epoch_seconds": float(np.median(secs))})
            print(rows[-1], flush=True)
    for r in rows: r["ratio_vs_nondp"] = r["median_epoch_seconds"] / rows[0]["median_epoch_seconds"]
    write_json_atomic(a.out, {**stamp("python bench/bench_dp_engines.py " + " ".join(sys.argv[1:] if argv is None else argv)),
                              "dataset": "utd", "clips": int(len(y)), "clip_spec": DEFAULT_CLIP.settings(), "batch_size": a.batch_size,
                              "epochs": a.epochs, "load_note": load_note(load0[0]), "load_average_end": os.getloadavg()[0], "rows": rows})

if __name__ == "__main__": main()
