"""Issue 15's GPU configuration of the ST-GCN: the CPU default (RECIPES["stgcn"], `combined` in bench/ablate_recipe.py) or
a wider, deeper or longer-trained variant of it, chosen on validation people of the TRAINING side of every dataset, then
trained on the whole training side and scored once on the test people. One code path: the same `run_experiment`, the
settings differ (`prism.experiments.recipe("stgcn", **GPU_CONFIG)`), the device is `cuda`.

    # here, with the data: the packed protocols and the Opacus wheel (bench/gpu_config_on_device.sh says how)
    # on a lent GPU: every step below in one call; the files come back in $OUT/gpu.tgz
    bash bench/gpu_config_on_device.sh
    # here: unpack into results/benchmarks and make the table
    tar xzf gpu.tgz -C results/benchmarks && python bench/gpu_config.py summary

Steps (subcommands):
  epoch-times  seconds per training epoch of each candidate (and the LSTM) on UTD-MHAD, ALONE on the device: the difference of
               a 3-epoch and a 1-epoch run, halved (start-up and evaluation cancel); also a smoke test of the device path
  choose       the candidate with the best validation accuracy averaged over the datasets, among those with every
               (dataset, seed) run; a candidate must beat the CPU default by MARGIN points, else the default stays
  test         train the chosen candidate on the whole training side, score the test people; seed 0 keeps its checkpoint
  summary      results/benchmarks/gpu_config.csv: per dataset, the CPU default and the GPU configuration side by side
               (test accuracy mean and std over seeds, parameters, FLOPs per clip, the runs' median training seconds on
               their device, and the training time alone on the GPU estimated from UTD-MHAD's epoch time)

Every run file records its command, machine and device. The validation runs live under results/benchmarks/tune/ (tuning
releases) and the test runs under results/benchmarks/gpu_runs/ (seed 0's checkpoints in gpu_checkpoints/); `prism.experiments.release_ledger` counts both.
"""
from __future__ import annotations
import argparse, sys, time
from dataclasses import replace
from pathlib import Path
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO)); sys.path.insert(0, str(REPO / "bench"))
import numpy as np

CANDIDATES = ("combined", "combined_wide", "combined_deep", "combined_epochs150")
MARGIN = 1.0   # points of mean validation accuracy a bigger configuration must gain to replace the CPU default
DATASETS = ("utd", "msr", "jhmdb")

def epoch_times(a):
    "Seconds per epoch of each candidate and the LSTM alone on the device (UTD-MHAD's whole training side)."
    import torch
    import prism.experiments as E
    from prism.io import write_json_atomic
    from ablate_recipe import settings_for
    from sweep_device import read_packed
    p = read_packed(Path(a.arrays), "utd", {})
    short = lambda kind, v, n: replace(settings_for(kind, v), epochs=n, warmup_epochs=0)
    run = lambda kind, v, n: E.run_experiment(p, kind, None, 0, short(kind, v, n), device=a.device)["train_seconds"]
    run("stgcn", "combined", 1)   # start-up of the device (CUDA context, kernels) outside the timings
    rows = []
    for kind, v in [("stgcn", c) for c in CANDIDATES if c != "combined_epochs150"] + [("lstm", "baseline")]:
        t1, t3 = run(kind, v, 1), run(kind, v, 3)
        s = settings_for(kind, v)
        rows.append({"model": kind, "variant": v, "seconds_per_epoch": round((t3 - t1) / 2, 3), "epochs": s.epochs,
                     "train_seconds_estimate": round((t3 - t1) / 2 * s.epochs, 1)})
        print(rows[-1], flush=True)
    dev = torch.cuda.get_device_name(0) if a.device == "cuda" and torch.cuda.is_available() else a.device
    write_json_atomic(Path(a.out), {"command": "python bench/gpu_config.py " + " ".join(sys.argv[1:]), "device": dev,
                                    "torch": torch.__version__, "dataset": "utd", "num_train": int(len(p.y_train)), "rows": rows,
                                    "note": "each model trained alone on the device; seconds per epoch = (3-epoch run - 1-epoch run) / 2"})

def choose_variant(runs:Path, margin:float=MARGIN) -> tuple:
    "(chosen variant, {variant: mean validation accuracy over datasets}) from the validation run files under `runs`/<variant>/."
    from prism.io import read_json
    acc = {}
    for v in CANDIDATES:
        files = sorted((runs / v).glob("*_stgcn_epsnone_s*.json"))
        per = {}
        for f in files: r = read_json(f); per.setdefault(r["dataset"], []).append(r["accuracy"])
        if set(per) == set(DATASETS) and all(len(x) == 3 for x in per.values()): acc[v] = 100 * float(np.mean([np.mean(x) for x in per.values()]))
    if "combined" not in acc: return "combined", acc
    best = max(acc, key=acc.get)
    return (best if acc[best] >= acc["combined"] + margin else "combined"), acc

def choose(a):
    v, acc = choose_variant(Path(a.runs), a.margin)
    print({k: round(x, 2) for k, x in acc.items()}, file=sys.stderr)
    print(v)

def test(a):
    import prism.experiments as E
    from ablate_recipe import settings_for
    from sweep_device import read_packed
    out, cache, cmd = Path(a.out), {}, "python bench/gpu_config.py " + " ".join(sys.argv[1:])
    s = settings_for("stgcn", a.variant) if a.epochs is None else replace(settings_for("stgcn", a.variant), epochs=a.epochs, warmup_epochs=0)
    for ds in a.datasets:
        for seed in a.seeds:
            name = E.run_name(ds, "stgcn", None, seed)
            if (out / f"{name}.json").exists(): print("done before:", name, flush=True); continue
            r = E.run_experiment(read_packed(Path(a.arrays), ds, cache), "stgcn", None, seed, s, out_dir=out, command=cmd, device=a.device,
                                 checkpoint=Path(a.checkpoints) / name if seed == 0 else None)
            print(f"{name} ({a.variant}): test acc {r['accuracy']:.3f} in {r['train_seconds']:.0f} s", flush=True)

def summary(a):
    import pandas as pd
    import prism.experiments as E
    from prism.io import read_json, atomic_write
    R = Path(a.results)
    times = read_json(R / "benchmarks" / "gpu_epoch_times.json")
    lone = {r["variant"]: r for r in times["rows"] if r["model"] == "stgcn"}
    rows = []
    for config, d in [("cpu default", R / "benchmarks" / "runs"), ("gpu", R / "benchmarks" / "gpu_runs")]:
        for ds in DATASETS:
            rs = [read_json(f) for f in sorted(d.glob(f"{ds}_stgcn_epsnone_s*.json"))]
            if not rs: continue
            st, cost = rs[0]["settings"], E.run_cost(rs[0])
            acc = 100 * np.array([r["accuracy"] for r in rs])
            rows.append({"dataset": ds, "config": config, "channels": "-".join(map(str, st["channels"])), "epochs": st["epochs"], "seeds": len(rs),
                         "test_acc_mean": round(acc.mean(), 2), "test_acc_std": round(acc.std(ddof=1), 2) if len(rs) > 1 else np.nan,
                         "params": cost["params"], "mflops_per_clip": round(cost["flops"] / 1e6, 2),
                         "train_s_median": round(float(np.median([r["train_seconds"] for r in rs])), 1),
                         "train_device": " + ".join(sorted({E._device_label(r) for r in rs})),
                         # the same network and clips take the same time per epoch: alone on the GPU, UTD-MHAD's epoch time x epochs
                         "gpu_alone_s_utd": round(lone["combined"]["seconds_per_epoch"] * st["epochs"], 1) if tuple(st["channels"]) == E.RECIPES["stgcn"].channels else np.nan})
    t = pd.DataFrame(rows)
    atomic_write(R / "benchmarks" / "gpu_config.csv", lambda p: t.to_csv(p, index=False))
    print(t.to_string(index=False)); print("alone on", times["device"], {k: v["train_seconds_estimate"] for k, v in lone.items()})

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    et = sub.add_parser("epoch-times"); et.add_argument("--arrays", required=True); et.add_argument("--out", required=True)
    et.add_argument("--device", default="cuda")
    ch = sub.add_parser("choose"); ch.add_argument("--runs", default=str(REPO / "results" / "benchmarks" / "tune" / "gpu_ablation"))
    ch.add_argument("--margin", type=float, default=MARGIN)
    ts = sub.add_parser("test"); ts.add_argument("--arrays", required=True); ts.add_argument("--out", required=True)
    ts.add_argument("--checkpoints", default=None, help="where seed 0 keeps its checkpoint (default: gpu_checkpoints beside --out)")
    ts.add_argument("--variant", required=True, choices=CANDIDATES); ts.add_argument("--device", default="cuda")
    ts.add_argument("--datasets", nargs="+", default=list(DATASETS)); ts.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ts.add_argument("--epochs", type=int, default=None, help="epochs per run (default: the variant's; set only for smoke tests)")
    sm = sub.add_parser("summary"); sm.add_argument("--results", default=str(REPO / "results"))
    a = p.parse_args()
    if a.cmd == "test" and a.checkpoints is None: a.checkpoints = str(Path(a.out).parent / "gpu_checkpoints")   # not the run files' folder
    {"epoch-times": epoch_times, "choose": choose, "test": test, "summary": summary}[a.cmd](a)

if __name__ == "__main__":
    main()
