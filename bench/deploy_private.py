"""The model zoo's deployable private models: one per private dataset, its recipe chosen on validation, trained once with
secret randomness, its card carrying the release ledger of everything that touched the same clips.

    PRISM_DATA=/path/to/data python bench/deploy_private.py                       # UTD-MHAD and MSR Action3D at epsilon 4
    PRISM_DATA=/path/to/data python bench/deploy_private.py --datasets msr --epsilon 8

Writes results/zoo/<dataset>_private.{safetensors,json,md} and prints each card's release ledger.
"""
from __future__ import annotations
import argparse, sys
from pathlib import Path
import torch
from prism.experiments import load_protocol, deploy_private

REPO = Path(__file__).resolve().parents[1]

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["utd", "msr"], choices=["utd", "msr", "jhmdb"])
    p.add_argument("--epsilon", type=float, default=4.0, help="the one budget each deployed model spends (per training clip)")
    p.add_argument("--out", default=str(REPO / "results" / "zoo"))
    p.add_argument("--results", default=str(REPO / "results"), help="where the validation runs and the other releases are")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    command = " ".join(["python", "bench/deploy_private.py"] + (sys.argv[1:] if argv is None else list(argv)))
    for ds in a.datasets:
        dep = deploy_private(load_protocol(ds), a.epsilon, out=a.out, results=a.results, command=command)
        c = dep["card"]
        print(f"{ds}: {c['recipe_choice']['kind']} at epsilon {a.epsilon:g}, test accuracy {c['accuracy']:.3f}; "
              f"deployment ledger: {c['release_ledger']['deployment']['text']} -> total epsilon {c['release_ledger']['deployment']['epsilon']:.3g}")
    print(f"written under {a.out}")
    return 0

if __name__ == "__main__": sys.exit(main())
