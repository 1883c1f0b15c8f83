"""Epoch time of private (DP-SGD) and non-private training on 1 and 2 CPU processes (and GPUs where there are some).

    python bench/bench_distributed.py                      # CPU: 1 process x 1 thread, 1 x 2 threads, 2 processes x 1 thread
    python bench/bench_distributed.py --device cuda --procs 1 2 4   # on a GPU machine: 1, 2, 4 GPUs (one process each)

The data are synthetic clips in PRISM's generic format (`prism.distributed.write_synthetic_generic`), read once through
`GenericClips` into memory, so the times are training, not file reading. Every setting runs in fresh processes started
by `prism.distributed.launch` (the same code path as `prism train --nproc`), all settings in one run of this script, so
their ratios are comparable. Writes results/distributed/epoch_time.json (+ .csv) with the command and the machine.
"""
from __future__ import annotations
import argparse, os, sys, tempfile, time, warnings
from pathlib import Path
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np
import pandas as pd
import torch
from torch.utils.data import TensorDataset
from prism.io import atomic_write, stamp, write_json_atomic, load_note
from prism.clip import ClipSpec
from prism.distributed import GenericClips, launch, train_distributed, write_synthetic_generic
from prism.models import STGCN_PRISM
from prism.privacy import create_privacy_config

NO_GPU = "not measured (no GPU lent)"
warnings.filterwarnings("ignore", message=".*(Optimal order|Full backward hook).*")   # here and in every spawned process


def model(channels):
    torch.manual_seed(0)
    return STGCN_PRISM(num_joints=15, in_channels=9, num_classes=4, layout="prism15", channels=tuple(channels))


def one(ds, channels, private, procs, threads, device, epochs, batch):
    "Rank 0's seconds per epoch of one setting in fresh processes, and the run's steps and sample rate."
    cfg = create_privacy_config(None, 1e-5, noise_multiplier=1.0, accountant="rdp") if private else None
    t0 = time.perf_counter()
    r = launch(train_distributed, procs, model(channels), ds, cfg, batch_size=batch, num_epochs=epochs, lr=0.1,
               track_epsilon=False, device=device, threads=threads)   # device: the launcher's (gloo / nccl); each rank trains on its own
    return {"seconds": [h["epoch_seconds"] for h in r["history"]], "wall": time.perf_counter() - t0,
            "steps_per_epoch": r["ledger"]["steps"] // epochs if private else int(np.ceil(len(ds) / batch)),
            "sample_rate": r["ledger"]["sample_rate"] if private else None}


def summary(device, procs, threads, private, runs, n):
    "One row: the first epochs apart (warm-up), then the fastest later epoch over all rounds (the one least disturbed by other work on a shared machine) and their mean."
    first = [r["seconds"][0] for r in runs]; rest = [s for r in runs for s in (r["seconds"][1:] or r["seconds"])]
    return {"device": device, "processes": procs, "threads_per_process": threads if device == "cpu" else None,
            "private": private, "epoch_seconds": round(min(rest), 3), "epoch_seconds_mean": round(float(np.mean(rest)), 3),
            "epoch_seconds_first": round(float(np.mean(first)), 3), "epochs_timed": len(rest),
            "clips_per_second": round(n / min(rest), 1), "wall_seconds_with_start": round(float(np.mean([r["wall"] for r in runs])), 1),
            "steps_per_epoch": runs[0]["steps_per_epoch"], "sample_rate": runs[0]["sample_rate"]}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", type=int, default=1024, help="synthetic clips (default 1024)")
    p.add_argument("--frames", type=int, default=32, help="frames per clip after resampling (default 32)")
    p.add_argument("--channels", type=int, nargs="+", default=[16, 32, 32], help="ST-GCN channels (default 16 32 32)")
    p.add_argument("--batch", type=int, default=64, help="global (expected) batch size (default 64)")
    p.add_argument("--epochs", type=int, default=3, help="epochs per run of a setting; the first is reported apart (default 3)")
    p.add_argument("--rounds", type=int, default=3, help="runs of every setting, interleaved (default 3)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2], help="process counts (CPU: default 1 2; CUDA: GPUs)")
    p.add_argument("--out", default="results/distributed")
    a = p.parse_args()
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        clips = GenericClips(write_synthetic_generic(Path(tmp) / "synthetic", a.clips, frames=a.frames),
                             ClipSpec(channels="pos+vel+bone", frames=a.frames))
        X = torch.stack([clips[i][0] for i in range(len(clips))]); y = torch.arange(len(clips)) % 4
    ds = TensorDataset(X, y)
    cores = os.cpu_count() or 1
    if a.device == "cpu":   # the same cores either way: one process with all threads, or one thread per process
        settings = sorted({(1, 1), (1, min(max(a.procs), cores))} | {(n, max(1, cores // n)) for n in a.procs if n > 1})
    else:
        if not torch.cuda.is_available(): sys.exit("--device cuda: torch sees no CUDA GPU")
        settings = [(n, None) for n in a.procs if n <= torch.cuda.device_count()]
    runs = {}
    for k in range(a.rounds):   # settings interleaved, so that other work on the machine falls on all of them alike
        for private in (False, True):
            for procs, threads in settings:
                r = one(ds, a.channels, private, procs, threads, a.device, a.epochs, a.batch)
                runs.setdefault((private, procs, threads), []).append(r)
                print(f"round {k + 1}: private={private} processes={procs} threads={threads}: epochs {[round(x, 2) for x in r['seconds']]} s", flush=True)
    rows = [summary(a.device, procs, threads, private, rs, len(ds)) for (private, procs, threads), rs in runs.items()]
    t = pd.DataFrame(rows)
    base = t[(t.processes == 1) & (t.threads_per_process.fillna(1) == 1) if a.device == "cpu" else (t.processes == 1)]
    t["speedup_vs_1_process_1_thread" if a.device == "cpu" else "speedup_vs_1_gpu"] = [
        round(float(base[base.private == pr].epoch_seconds.iloc[0]) / s, 2) for pr, s in zip(t.private, t.epoch_seconds)]
    gpu = (NO_GPU if a.device == "cpu" else torch.cuda.get_device_name(0))
    load_end = os.getloadavg()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    csv = t.copy()
    if a.device == "cpu": csv = pd.concat([csv, pd.DataFrame([{"device": "cuda", "processes": 1, "private": pr, "note": NO_GPU}
                                                              for pr in (False, True)])], ignore_index=True)
    atomic_write(out / f"epoch_time{'' if a.device == 'cpu' else '_cuda'}.csv", lambda tmp: csv.to_csv(tmp, index=False))
    write_json_atomic(out / f"epoch_time{'' if a.device == 'cpu' else '_cuda'}.json", {
        **stamp(" ".join(["python"] + sys.argv)),
        "data": f"{a.clips} synthetic clips (write_synthetic_generic, 4 classes), {a.frames} frames, 15 joints, pos+vel+bone (9 channels), in memory",
        "model": f"STGCN_PRISM channels {tuple(a.channels)}",
        "training": (f"global batch {a.batch} (private: Poisson sampling at q = {a.batch}/{a.clips}, noise multiplier 1, clip 1, "
                     f"hooks, physical batches of 128 per process); SGD lr 0.1; {a.rounds} interleaved runs of {a.epochs} epochs per setting"),
        "how": ("each setting in fresh processes (prism.distributed.launch: gloo on CPU, nccl on GPUs); epoch seconds are rank 0's: "
                "the fastest epoch after each run's first over all runs (epoch_seconds, which the ratios use), their mean (epoch_seconds_mean), "
                "and the mean first epoch (epoch_seconds_first, with warm-up)"),
        "gpu": gpu, "cores": cores, "load_average_start": load_start, "load_average_end": load_end, "load_note": load_note(load_start[0]),
        "rows": rows, "runs": [{"private": k[0], "processes": k[1], "threads_per_process": k[2], "epoch_seconds": [r["seconds"] for r in v]}
                               for k, v in runs.items()]})
    print(t.to_string(index=False))


if __name__ == "__main__":
    main()
