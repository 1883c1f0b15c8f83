"""Person-level differential privacy on JHMDB: the source video (one actor, one film or web clip) as the privacy unit.

Trains the public-backbone recipes (stgcn_ncm: private class means; stgcn_ft: a DP-SGD head) with the clip as unit and
with the person as unit (people are sampled, each person's clips give one clipped contribution) at epsilon 8, 4, 1,
seeds 0-2, and then the class-means head at person level on random subsets of the training people, to show how
accuracy grows with the number of people. Writes results/benchmarks/person/ (one JSON per run, summary.csv,
people_curve.csv, summary.json with the command).

    PRISM_DATA=/path/to/data python bench/person_level.py [--dataset jhmdb] [--threads 2]
"""
from __future__ import annotations
import argparse, json, sys
from pathlib import Path
import numpy as np
import pandas as pd
import torch
from prism.io import atomic_write, stamp, write_json_atomic
from prism.experiments import load_protocol, run_experiment, run_name, RECIPES

REPO = Path(__file__).resolve().parents[1]

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="jhmdb", choices=["jhmdb", "utd", "msr"])
    p.add_argument("--kinds", nargs="+", default=["stgcn_ncm", "stgcn_ft"])
    p.add_argument("--epsilons", nargs="+", type=float, default=[8.0, 4.0, 1.0])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--people", nargs="+", type=int, default=[25, 50, 100, 200], help="subset sizes of the people curve")
    p.add_argument("--out", default=str(REPO / "results" / "benchmarks" / "person"))
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    command = " ".join(["python", "bench/person_level.py"] + (sys.argv[1:] if argv is None else list(argv)))
    out = Path(a.out); data = load_protocol(a.dataset)
    persons, shared = data.persons_train, {}
    ids, counts = np.unique(persons, return_counts=True)
    rows = []
    for kind in a.kinds:
        for eps in a.epsilons:
            for seed in a.seeds:
                for unit in ("clip", "person"):
                    r = run_experiment(data, kind, eps, seed, RECIPES[kind], unit=unit, command=command, backbones=shared)
                    write_json_atomic(out / f"{run_name(a.dataset, kind, eps, seed)}_{unit}.json", r)
                    led = r["ledger"]
                    rows.append({"dataset": a.dataset, "model": kind, "unit": unit, "epsilon": eps, "seed": seed, "accuracy": r["accuracy"],
                                 "epsilon_prv": led["epsilon_prv"], "units": led["num_samples"], "noise_multiplier": led["noise_multiplier"],
                                 "person_level": led["person_level"]["text"]})
                    print(f"{kind} eps {eps:g} seed {seed} unit {unit}: {r['accuracy']:.3f} ({led['num_samples']} units)", flush=True)
    curve = []
    rng = np.random.default_rng(0)
    for n in [k for k in a.people if k < len(ids)] + [len(ids)]:
        for seed in a.seeds:
            keep = set(rng.choice(ids, size=n, replace=False)) if n < len(ids) else set(ids)
            m = np.array([s in keep for s in persons])
            sub = data.with_train(m)
            for eps in a.epsilons:
                r = run_experiment(sub, "stgcn_ncm", eps, seed, RECIPES["stgcn_ncm"], unit="person", command=command, backbones=shared)
                curve.append({"people": n, "clips": int(m.sum()), "epsilon": eps, "seed": seed, "accuracy": r["accuracy"]})
                print(f"people {n}: eps {eps:g} seed {seed}: {r['accuracy']:.3f}", flush=True)
    summ = pd.DataFrame(rows).groupby(["dataset", "model", "unit", "epsilon"]).accuracy.agg(["mean", "std", "count"]).reset_index()
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "summary.csv", lambda f: summ.to_csv(f, index=False))
    atomic_write(out / "people_curve.csv", lambda f: pd.DataFrame(curve).to_csv(f, index=False))
    write_json_atomic(out / "summary.json", {**stamp(command), "dataset": a.dataset, "training_people": int(len(ids)),
                      "training_clips": int(len(persons)), "clips_per_person_max": int(counts.max()),
                      "clips_per_person_median": float(np.median(counts)), "table": summ.to_dict(orient="records"),
                      "people_curve": curve, "unit_of_person": "JHMDB source video (one actor)" if a.dataset == "jhmdb" else "subject"})
    print(summ.to_string(index=False))
    return 0

if __name__ == "__main__": sys.exit(main())
