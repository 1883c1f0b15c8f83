"""Run benchmark runs (prism.experiments.run_experiment) on another machine, e.g. a GPU, from packed arrays.

The device machine may have neither the datasets nor MediaPipe, so the work is split in two:

    # here, with the data: the protocols' arrays (train/test/public splits, input statistics) -> one .npz per dataset
    # (--no-public leaves out the public dataset, which only the *_ft kinds need)
    PRISM_DATA=/path/to/data python bench/sweep_device.py pack --out .gpu/arrays --datasets utd msr jhmdb --no-public
    # there: the runs, one JSON per run (the same files as `prism reproduce` writes), in the order given
    python bench/sweep_device.py run --arrays .gpu/arrays --out results/benchmarks/runs --device cuda \
        --job jhmdb:stgcn:none:0,1,2 --job utd:lstm:1,4,8:0,1,2 --deadline 480

A job is dataset:kind:epsilons:seeds (epsilons "none" or numbers, comma separated). Runs whose file exists are
skipped; no run starts after --deadline seconds, so a time-limited machine returns what it finished. Every run
file records this command, the machine and the device.
"""
from __future__ import annotations
import argparse, json, sys, time
from pathlib import Path
import numpy as np
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

KEYS = ("classes", "protocol", "layout", "spec", "frames", "input_norm_from", "public_name")

def pack(a):
    import prism.experiments as B
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    for ds in a.datasets:
        d = B.load_protocol(ds)
        meta = {k: d[k] for k in KEYS if k in d} | {"public_name": d["public"]["name"] if a.public else None}
        pub = {"X_public": d["public"]["data"][0], "y_public": d["public"]["data"][1]} if a.public else {}
        np.savez_compressed(out / f"{ds}.npz", X_train=d["train"][0], y_train=d["train"][1], X_test=d["test"][0], y_test=d["test"][1],
                            **pub, norm_mean=d["input_norm"].mean.numpy(), norm_std=d["input_norm"].std.numpy(),
                            subjects_train=d["subjects"]["train"], subjects_test=d["subjects"]["test"], meta=json.dumps(meta))
        print(ds, d["train"][0].shape, d["test"][0].shape, "public", d["public"]["name"], d["public"]["data"][0].shape, flush=True)

def unpack(path:Path) -> dict:
    import torch
    from prism.models import InputNorm
    z = np.load(path); meta = json.loads(str(z["meta"]))
    norm = InputNorm(z["X_train"].shape[1])
    norm.load_state_dict({"mean": torch.as_tensor(z["norm_mean"]), "std": torch.as_tensor(z["norm_std"])})
    return {**{k: meta[k] for k in KEYS if k != "public_name"}, "train": (z["X_train"], z["y_train"]), "test": (z["X_test"], z["y_test"]),
            "public": {"name": meta["public_name"], "data": (z["X_public"], z["y_public"])} if "X_public" in z else None, "input_norm": norm,
            "subjects": {"train": z["subjects_train"], "test": z["subjects_test"]}}

def run(a):
    import torch
    import prism.experiments as B
    t0 = time.time(); out = Path(a.out); cache = {}
    torch.set_num_threads(a.threads)
    cmd = "python bench/sweep_device.py " + " ".join(sys.argv[1:])
    dev = a.device
    if dev == "cuda" and torch.cuda.is_available(): print("device:", torch.cuda.get_device_name(0), flush=True)
    for job in a.job:
        ds, kind, eps, seeds = job.split(":")
        for e in eps.split(","):
            for s in seeds.split(","):
                epsilon = None if e == "none" else float(e)
                name = B.run_name(ds, kind, epsilon, int(s))
                if (out / f"{name}.json").exists(): print("done before:", name, flush=True); continue
                if time.time() - t0 > a.deadline: print("deadline reached, not started:", name, flush=True); continue
                if ds not in cache: cache[ds] = unpack(Path(a.arrays) / f"{ds}.npz")
                r = B.run_experiment(cache[ds], ds, kind, epsilon, int(s), epochs=a.epochs, out_dir=out, command=cmd, device=dev)
                print(f"{name}: acc {r['accuracy']:.3f} in {r['train_seconds']:.0f} s (t={time.time() - t0:.0f} s)", flush=True)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    pk = sub.add_parser("pack"); pk.add_argument("--out", required=True); pk.add_argument("--datasets", nargs="+", default=["utd", "msr", "jhmdb"])
    pk.add_argument("--no-public", dest="public", action="store_false", help="leave out the public dataset (enough for end-to-end kinds)")
    rn = sub.add_parser("run"); rn.add_argument("--arrays", required=True); rn.add_argument("--out", required=True)
    rn.add_argument("--device", default="cuda"); rn.add_argument("--job", action="append", required=True)
    rn.add_argument("--threads", type=int, default=1, help="torch CPU threads of this process")
    rn.add_argument("--epochs", type=int, default=None, help="epochs per run (default: DEFAULT_TRAIN; set only for smoke tests)")
    rn.add_argument("--deadline", type=float, default=float("inf"), help="seconds after which no new run starts")
    a = p.parse_args()
    pack(a) if a.cmd == "pack" else run(a)

if __name__ == "__main__":
    main()
