"""Run benchmark runs (prism.experiments.run_experiment) on another machine, e.g. a GPU, from packed arrays.

The device machine may have neither the datasets nor MediaPipe, so the work is split in two:

    # here, with the data: each protocol (prism.experiments.save_protocol) -> one .npz per dataset
    # (--no-public leaves out the public dataset, which only the *_ft kinds need)
    PRISM_DATA=/path/to/data python bench/sweep_device.py pack --out .gpu/arrays --datasets utd msr jhmdb --no-public
    # (with public data, a public dataset that is itself packed is stored once: <ds>.public.npz holds row indices into it)
    # there: the runs, one JSON per run (the same files as `prism reproduce` writes), in the order given
    python bench/sweep_device.py run --arrays .gpu/arrays --out results/benchmarks/runs --device cuda \
        --job jhmdb:stgcn:none:0,1,2 --job utd:lstm:1,4,8:0,1,2 --deadline 480

A job is dataset:kind:epsilons:seeds (epsilons "none" or numbers, comma separated). Runs whose file exists are
skipped; no run starts after --deadline seconds, so a time-limited machine returns what it finished. Every run
file records this command, the machine and the device.
"""
from __future__ import annotations
import argparse, sys, time
from pathlib import Path
import numpy as np
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

def _all_clips(p):
    "Every clip of a protocol, train then test."
    return np.concatenate([p.X_train, p.X_test])

def _public_index(p, protocols:dict):
    "Row indices of `p`'s public clips into the packed protocol of the same dataset (None when not all are there)."
    src = protocols.get(p.public.name) if p.public is not None else None
    if src is None: return None
    rows = {x.tobytes(): i for i, x in enumerate(_all_clips(src))}
    idx = [rows.get(x.tobytes()) for x in p.public.X]
    return None if None in idx else np.array(idx, dtype=np.int64)

def pack(a):
    "Save each dataset's protocol (arrays, people, classes, clip spec, input statistics, public data) to one file."
    import prism.experiments as B
    from prism.io import atomic_write
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    protocols = {ds: B.load_protocol(ds) for ds in a.datasets}
    for ds, p in protocols.items():
        idx = _public_index(p, protocols) if a.public else None
        B.save_protocol(p, out / f"{ds}.npz", public=a.public and idx is None)
        if idx is not None:   # the public clips are another packed dataset's: store where they are, not a second copy
            atomic_write(out / f"{ds}.public.npz", lambda f: np.savez(f, name=np.array(p.public.name), index=idx, y=p.public.y))
        print(ds, p.X_train.shape, p.X_test.shape, "public", p.public.name if a.public else None,
              "(shared)" if idx is not None else "", flush=True)

def read_packed(arrays:Path, ds:str, cache:dict):
    "The protocol of `ds` packed under `arrays`, its public clips rebuilt from the shared dataset when packed so."
    import dataclasses
    import prism.experiments as B
    def raw(d):   # a packed file as saved (its public clips not rebuilt)
        if ("raw", d) not in cache: cache["raw", d] = B.read_protocol(arrays / f"{d}.npz")
        return cache["raw", d]
    if ds in cache: return cache[ds]
    p, side = raw(ds), arrays / f"{ds}.public.npz"
    if side.exists():
        z = np.load(side, allow_pickle=False); name = str(z["name"])
        p = dataclasses.replace(p, public=B.PublicData(name, _all_clips(raw(name))[z["index"]], z["y"]))
    cache[ds] = p
    return p

def run(a):
    import torch
    import prism.experiments as B
    t0 = time.time(); out = Path(a.out); cache, shared = {}, {}
    torch.set_num_threads(a.threads)
    cmd = "python bench/sweep_device.py " + " ".join(sys.argv[1:])
    dev = a.device
    if dev == "cuda" and torch.cuda.is_available(): print("device:", torch.cuda.get_device_name(0), flush=True)
    for job in a.job:
        ds, kind, eps, seeds = job.split(":")
        settings = B.recipe(kind, epochs=a.epochs)
        for e in eps.split(","):
            for s in seeds.split(","):
                epsilon = None if e == "none" else float(e)
                name = B.run_name(ds, kind, epsilon, int(s))
                if (out / f"{name}.json").exists(): print("done before:", name, flush=True); continue
                if time.time() - t0 > a.deadline: print("deadline reached, not started:", name, flush=True); continue
                r = B.run_experiment(read_packed(Path(a.arrays), ds, cache), kind, epsilon, int(s), settings, out_dir=out, command=cmd, device=dev, backbones=shared)
                print(f"{name}: acc {r['accuracy']:.3f} in {r['train_seconds']:.0f} s (t={time.time() - t0:.0f} s)", flush=True)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    pk = sub.add_parser("pack"); pk.add_argument("--out", required=True); pk.add_argument("--datasets", nargs="+", default=["utd", "msr", "jhmdb"])
    pk.add_argument("--no-public", dest="public", action="store_false", help="leave out the public dataset (enough for end-to-end kinds)")
    rn = sub.add_parser("run"); rn.add_argument("--arrays", required=True); rn.add_argument("--out", required=True)
    rn.add_argument("--device", default="cuda"); rn.add_argument("--job", action="append", required=True)
    rn.add_argument("--threads", type=int, default=1, help="torch CPU threads of this process")
    rn.add_argument("--epochs", type=int, default=None, help="epochs per run (default: the kind's recipe, RECIPES; set only for smoke tests)")
    rn.add_argument("--deadline", type=float, default=float("inf"), help="seconds after which no new run starts")
    a = p.parse_args()
    pack(a) if a.cmd == "pack" else run(a)

if __name__ == "__main__":
    main()
