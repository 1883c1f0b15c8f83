"""Efficiency table of PRISM's deployable forms, measured in one run on real UTD-MHAD test clips.

For a trained ST-GCN and a trained LSTM (UTD-MHAD cross-subject, non-private, same preprocessing as `prism reproduce`)
this runs `prism.optimization.optimize_model`: fp32 eager, fp32 TorchScript, int8 (FX static with and without the
Linear graph aggregation for the ST-GCN; dynamic for the LSTM) and ONNX Runtime fp32, each checked against fp32, then
timed on the same clip with the same thread count. It writes

    results/optimization/efficiency.json   (command, machine, load average, date, torch version, threads, both tables)
    results/optimization/efficiency.csv    (one row per model and form)
    results/optimization/<model>/...       (the artefacts, a table.csv and optimization.json per model)

Models come from the checkpoints `prism reproduce` writes (results/benchmarks/checkpoints/utd_<kind>_eps<e>_s0) when present,
else non-private ones are trained here (--epochs epochs, seed 0) and saved there. A private model (`kind:epsilon`, e.g.
stgcn_ft:8) is calibrated for int8 on public clips only (MSR Action3D, its backbone's public data): ranges fitted to
the private training clips would be a release outside its guarantee. Non-private models are calibrated on training clips.

    PRISM_DATA=/path/to/data python bench/bench_efficiency.py [--threads 1] [--reps 200] [--epochs 8] [--models stgcn,lstm,stgcn_ft:8,stgcn_ncm:8]
"""
from __future__ import annotations
import argparse, os, sys, time
from pathlib import Path
import pandas as pd
import torch

from prism.io import atomic_write, stamp, write_json_atomic, load_note
from prism.clip import make_loader
from prism.experiments import load_protocol, run_experiment, run_name, recipe
from prism.checkpoint import load_checkpoint
from prism.optimization import optimize_model, int8_feature_error
from prism.models import STGCN_PRISM, model_cost

REPO = Path(__file__).resolve().parents[1]

def get_model(kind:str, data:dict, ckdir:Path, epochs:int, eps=None):
    stem = ckdir / run_name("utd", kind, eps, 0)
    if eps is not None and not Path(f"{stem}.json").exists(): raise FileNotFoundError(f"{stem}.json: run `prism reproduce` first")
    if Path(f"{stem}.json").exists():
        m, card = load_checkpoint(stem)
        return m, f"checkpoint {stem.relative_to(REPO)} (accuracy {card['accuracy']:.4f}, {card.get('hparams', {}).get('num_epochs')} epochs)"
    r, m = run_experiment(data, kind, None, 0, recipe(kind, epochs=epochs), checkpoint=stem, return_model=True,
                          command=" ".join(["python"] + sys.argv))
    return m.eval(), f"trained here: {epochs} epochs, non-private, seed 0 (accuracy {r['accuracy']:.4f}); saved to {stem.relative_to(REPO)}"

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1); p.add_argument("--reps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20); p.add_argument("--batch", type=int, default=32)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--models", default="stgcn,lstm,stgcn_ft:8,stgcn_ncm:8", help="kinds, kind:epsilon for a private checkpoint")
    p.add_argument("--out", default=str(REPO / "results" / "optimization"))
    p.add_argument("--checkpoints", default=str(REPO / "results" / "benchmarks" / "checkpoints"))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    data = load_protocol("utd")
    (xtr, ytr), (xte, yte) = data.train, data.test
    rows, per_model = [], {}
    for spec in a.models.split(","):
        kind, _, e = spec.partition(":")
        eps = float(e) if e else None
        model, source = get_model(kind, data, Path(a.checkpoints), a.epochs, eps)
        name = kind if eps is None else f"{kind} eps {eps:g}"
        calib = (data.public.X, data.public.y) if eps is not None else (xtr, ytr)   # a private model sees public clips only
        source += f"; int8 calibrated on {'public clips (' + data.public.name + ')' if eps is not None else 'the training clips'}"
        res = optimize_model(model, make_loader(*calib, 64), make_loader(xte, yte, 64), model_name=f"utd_{kind}" + ("" if eps is None else f"_eps{eps:g}"),
                             out_dir=a.out, threads=a.threads, warmup=a.warmup, reps=a.reps, batch_size=a.batch,
                             command=" ".join(["python"] + sys.argv))
        t = res["table"].reset_index()
        t.insert(0, "model", name)
        rows.append(t)
        per_model[name] = {"source": source, "cost": model_cost(model, xte.shape[1:]), "recommended": res["recommended"],
                           "int8_feature_error": int8_feature_error(model, calib[0], xte) if isinstance(model, STGCN_PRISM) else None,
                           "dir": str(Path(res["dir"]).relative_to(REPO)) if Path(res["dir"]).is_absolute() else str(res["dir"])}
        print(f"{name}: {source}\n{res['table'][['accuracy', 'latency_median_ms', 'latency_p95_ms', 'speedup_vs_fp32', 'size_ratio_vs_fp32']].round(3).to_string()}\n"
              f"recommended: {res['recommended']}", flush=True)
    table = pd.concat(rows, ignore_index=True)
    load_after = os.getloadavg()
    out = Path(a.out)
    atomic_write(out / "efficiency.csv", lambda f: table.to_csv(f, index=False))
    s = stamp(" ".join(["python"] + sys.argv))
    write_json_atomic(out / "efficiency.json", {**s, "data": "UTD-MHAD cross-subject test clips (subjects 2,4,6,8)",
        "preprocessing": data.clip.settings(),
        "threads": a.threads, "reps": a.reps, "warmup": a.warmup, "throughput_batch": a.batch,
        "load_average_1_5_15min": {"before": load_before, "after": load_after},
        "load_note": load_note(max(load_before[0], load_after[0])) + "; ratios within one model's table were measured back to back",
        "seconds": round(time.perf_counter() - t0, 1), "models": per_model, "table": table.to_dict(orient="records")})
    print(f"wrote {out / 'efficiency.json'} in {time.perf_counter() - t0:.0f} s")

if __name__ == "__main__":
    main()
