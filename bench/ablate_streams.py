"""Issue 15's multi-stream ingredient: ST-GCNs that each see one kinematic stream (joint positions, joint motion, bones),
combined late (their class probabilities averaged), against the default early-fused model (positions, motion and bones
in one network) and against an ensemble of as many early-fused models with other seeds (the same compute). Trained with
the ST-GCN's default recipe on validation people of the TRAINING side (`prism.experiments.validation_protocol`); the
test people are never read.

    # on a lent GPU (bench/gpu_streams_on_device.sh runs it with bench/ablate_recipe.py's longer clips), or here
    python bench/ablate_streams.py run --arrays .gpu/arrays --datasets utd msr jhmdb --device cuda
    # the table: each stream alone, the early-fused model, and the ensembles (mean and std over draws; parameters, FLOPs
    # per clip and training seconds summed over the member networks, as measured with every run sharing the GPU)
    python bench/ablate_streams.py summary
    # the ensemble chosen on validation (the best mean over the datasets), on the test people (bench/gpu_streams_test_on_device.sh)
    python bench/ablate_streams.py run --test --arrays .gpu/arrays --device cuda
    python bench/ablate_streams.py summary --runs results/benchmarks/stream_runs --out results/benchmarks/streams_test.csv

`run` writes, per (dataset, stream, seed), the run file (<out>/<stream>/<name>.json, counted by
`prism.experiments.release_ledger` as a tuning release) and the validation probabilities beside it (<name>.npz, the
softmax of the final model). A stream is a slice of the default clip (`pos+vel+bone`) with the same input statistics,
so every stream sees the same clips, people and normalisation. Runs whose file exists are skipped.

Bone motion (`bvel`, the time difference of the bone vectors), the fourth stream of multi-stream skeleton models, came
later, trained on the CPU: its protocol is the default clip with `bvel` appended (`EXTENDED`: the first nine
channels and their statistics are the default clip's), so it needs the data, not the packed arrays. Its rule, written
before its runs: bone motion joins the ensemble if "4 streams + fused, late" beats "3 streams + fused, late" by at least
1 point of validation accuracy averaged over the three datasets (the members of the other rows stay as they were made).

    PRISM_DATA=/path/to/data python bench/ablate_streams.py run --streams bvel --threads 1

2-D clips for video poses (`--no-depth`: `prism.clip.ClipSpec(depth=False)`: depth 0 before normalising, so the centre
and torso length are the image plane's; the augmentation's turns projected back onto the image plane, where
bench/ablate_recipe.py's `combined_xy` turned flat poses into 3-D ones; public input statistics from 2-D public clips;
runs under <out>/2d/): the five-network ensemble again on JHMDB's MediaPipe poses. Its "fused alone" row is the ST-GCN's
default recipe on 2-D clips, the same settings, validation people and seeds as bench/ablate_recipe.py's `combined`.
The rules, written before their runs (means of 3 seeds or draws, JHMDB's validation people):
- one network: the 2-D clip for video poses if "fused alone" on 2-D clips beats `combined` (results/benchmarks/ablation.csv)
  by at least 2 points, and is not below `combined_xy` by more than the larger of the two seeds' standard deviations;
- the ensemble: the 2-D "4 streams + fused, late" replaces the 3-D one (results/benchmarks/streams.csv) if it beats it
  by at least 2 points.

    PRISM_DATA=/path/to/data python bench/ablate_streams.py run --no-depth --datasets jhmdb --threads 1
    python bench/ablate_streams.py summary --runs results/benchmarks/tune/streams/2d --datasets jhmdb --out results/benchmarks/streams_2d.csv

Left-right mirroring (`--mirror 0.5`: `prism.clip.Augment(mirror=0.5)` in every member's recipe, half the training clips
mirrored; runs under <out>/2d_mirror/ with --no-depth) on the 2-D ensemble: bench/ablate_recipe.py's `combined_2d_mirror`
met its rule for one network (the fused member), and this asks whether the gain survives the late ensemble, whose other
members may already cover what the mirror adds. Its "fused alone" row is `combined_2d_mirror` again (the same settings,
people and seeds), with the probabilities kept. The rule, written before its runs: the mirrored 2-D "4 streams + fused,
late" replaces the unmirrored one (results/benchmarks/streams_2d.csv) as the ensemble for video poses if it beats it by at
least 2 points on JHMDB's validation people (mean of 3 draws). The test people are scored afterwards (`--test`),
whatever the rule says, and reported beside the unmirrored ensemble's (streams_2d_test.csv).

    PRISM_DATA=/path/to/data python bench/ablate_streams.py run --no-depth --mirror 0.5 --datasets jhmdb --threads 1
    python bench/ablate_streams.py summary --runs results/benchmarks/tune/streams/2d_mirror --datasets jhmdb --out results/benchmarks/streams_2d_mirror.csv
    # the test people (every member, 3 seeds), beside streams_2d_test.csv
    PRISM_DATA=/path/to/data python bench/ablate_streams.py run --test --no-depth --mirror 0.5 --datasets jhmdb --threads 1
    python bench/ablate_streams.py summary --runs results/benchmarks/stream_runs/2d_mirror --datasets jhmdb --out results/benchmarks/streams_2d_mirror_test.csv

Longer training (`--config gpu`: every member trained with the full configuration, `prism.experiments.GPU_RECIPES`,
150 epochs where the CPU default has 100; runs under <out>/gpu/), on MSR Action3D, the Kinect dataset furthest from its
target. bench/gpu_config.py chose 150 epochs for the full configuration from one network (`combined_epochs150`, +2.5
points on MSR's validation people, results/benchmarks/gpu_ablation.csv); this asks what it gives the late ensemble.
It runs on 2 CPU cores (a member takes minutes on MSR). The rule, written before its runs: the report for issue 15
names the full configuration's ensemble as the longer-trained one for MSR if its "4 streams + fused, late" beats the
CPU recipe's (results/benchmarks/streams.csv) by at least 1 point on MSR's validation people (mean of 3 draws); the
test people are scored whatever the rule says (in a second process at the same time: the rule, fixed beforehand, is
applied to the validation figures alone), beside streams_test.csv.

    PRISM_DATA=/path/to/data python bench/ablate_streams.py run --config gpu --datasets msr --seeds 0 1 2 --threads 1
    python bench/ablate_streams.py summary --runs results/benchmarks/tune/streams/gpu --datasets msr --out results/benchmarks/streams_gpu.csv
    PRISM_DATA=/path/to/data python bench/ablate_streams.py run --test --config gpu --datasets msr --seeds 0 1 2 --threads 1
    python bench/ablate_streams.py summary --runs results/benchmarks/stream_runs/gpu --datasets msr --out results/benchmarks/streams_gpu_test.csv

The late ensembles' accuracies come from the members' saved probabilities (`prism.experiments.late_ensemble_accuracy`).
"""
from __future__ import annotations
import argparse, sys, time
from pathlib import Path
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO)); sys.path.insert(0, str(REPO / "bench"))
import numpy as np

STREAMS3 = ("pos", "vel", "bone")  # one kinematic channel group each, sliced from the default clip
STREAMS = STREAMS3 + ("bvel",)      # and bone motion, sliced from `EXTENDED`
EXTENDED = "pos+vel+bone+bvel"      # the default clip's channels with bone motion appended
FUSED = "fused"                     # the default: all three in one network (early fusion)
FUSED_SEEDS, STREAM_SEEDS = (0, 1, 2, 3, 4, 5), (0, 1, 2)

def stream_protocol(p, stream:str):
    "The protocol `p` with only `stream`'s channels (`prism.experiments.protocol_channels`), or the default clip's for the fused model."
    import prism.experiments as E
    from prism.clip import DEFAULT_CLIP
    if stream == FUSED: return E.protocol_channels(p, DEFAULT_CLIP.channels)
    if stream not in p.clip.channels.split("+"): raise SystemExit(f"{p.dataset}: the stream {stream!r} is not in these inputs ({p.clip.channels}); run it from the data")
    return E.protocol_channels(p, stream)

def run(a):
    import torch
    import prism.experiments as E
    from prism.io import atomic_write
    from prism.models import run_model
    from prism.clip import ClipSpec, Augment
    from sweep_device import read_packed
    torch.set_num_threads(a.threads)
    out, t0, cache = Path(a.out), time.time(), {}
    cmd = "python bench/ablate_streams.py " + " ".join(sys.argv[1:])
    s = E.recipe("stgcn", **({} if a.epochs is None else {"epochs": a.epochs}), **({"augment": Augment(mirror=a.mirror)} if a.mirror else {}),
                 config=a.config)
    for ds in a.datasets:
        packed = a.arrays and (Path(a.arrays) / f"{ds}.npz").exists()
        if packed and a.no_depth: raise SystemExit("--no-depth makes 2-D clips from the data: leave --arrays out")
        full = read_packed(Path(a.arrays), ds, cache) if packed else E.load_protocol(ds, clip=ClipSpec(channels=EXTENDED, depth=not a.no_depth))
        val = full if a.test else E.validation_protocol(full)   # --test: the whole training side, scored on the test people
        for stream in a.streams:
            pv = stream_protocol(val, stream)
            for seed in (FUSED_SEEDS if stream == FUSED else STREAM_SEEDS):
                if a.seeds is not None and seed not in a.seeds: continue
                name = E.run_name(ds, "stgcn", None, seed); f = out / stream / f"{name}.json"
                if f.exists(): print("done before:", f, flush=True); continue
                if time.time() - t0 > a.deadline: print("deadline reached, not started:", f, flush=True); continue
                r, model = E.run_experiment(pv, "stgcn", None, seed, s, out_dir=f.parent, command=cmd, device=a.device, return_model=True)
                prob = torch.softmax(run_model(model, pv.X_test), 1).numpy().astype(np.float32)
                atomic_write(f.with_suffix(".npz"), lambda q: np.savez(q, prob=prob, y=pv.y_test))
                print(f"{ds} {stream} s{seed}: {'test' if a.test else 'validation'} acc {r['accuracy']:.3f} in {r['train_seconds']:.0f} s", flush=True)

def _seeds(runs:Path, ds:str, stream:str) -> list:
    "The seeds of one dataset's stream whose probabilities are saved."
    return sorted(int(f.stem.rsplit("_s", 1)[1]) for f in (runs / stream).glob(f"{ds}_stgcn_epsnone_s*.npz"))

# the member networks of each model of the table (its cost is theirs, summed)
MEMBERS = {**{f"{st} alone": (st,) for st in (FUSED,) + STREAMS}, "3 streams, late": STREAMS3, "3 streams + fused, late": (FUSED,) + STREAMS3,
           "4 streams, late": STREAMS, "4 streams + fused, late": (FUSED,) + STREAMS,
           "3 fused seeds, late": (FUSED,) * 3, "4 fused seeds, late": (FUSED,) * 4}

def member_costs(runs:Path, ds:str) -> dict:
    "{stream: (parameters, forward FLOPs per clip, median training seconds, device)} of one dataset's member networks."
    import prism.experiments as E
    from prism.io import read_json
    out = {}
    for st in (FUSED,) + STREAMS:
        rs = [read_json(f) for f in sorted((runs / st).glob(f"{ds}_stgcn_epsnone_s*.json"))]
        if not rs: continue
        c = E.run_cost(rs[0])
        out[st] = (c["params"], c["flops"], float(np.median([x["train_seconds"] for x in rs])), " + ".join(sorted({E._device_label(x) for x in rs})))
    return out

def ensembles(runs:Path, ds:str) -> dict:
    "{what: [accuracy of each draw]} for one dataset: each stream alone, the fused model, and the ensembles (`prism.experiments.late_ensemble_accuracy`)."
    from prism.experiments import late_ensemble_accuracy
    S = {st: _seeds(runs, ds, st) for st in (FUSED,) + STREAMS}
    acc = lambda members: late_ensemble_accuracy([runs / st / f"{ds}_stgcn_epsnone_s{s}.npz" for st, s in members])
    res = {f"{st} alone": [acc([(st, s)]) for s in S[st]] for st in (FUSED,) + STREAMS}
    for k, group in ((3, STREAMS3), (4, STREAMS)):
        both = [s for s in STREAM_SEEDS if all(s in S[st] for st in group)]
        res[f"{k} streams, late"] = [acc([(st, s) for st in group]) for s in both]
        res[f"{k} streams + fused, late"] = [acc([(st, s) for st in (FUSED,) + group]) for s in both if s in S[FUSED]]
    draws = [g for g in (FUSED_SEEDS[:3], FUSED_SEEDS[3:]) if all(s in S[FUSED] for s in g)]
    res["3 fused seeds, late"] = [acc([(FUSED, s) for s in g]) for g in draws]
    res["4 fused seeds, late"] = [acc([(FUSED, s) for s in g]) for g in (FUSED_SEEDS[:4],) if all(s in S[FUSED] for s in g)]
    return res

def summary(a):
    import pandas as pd
    from prism.io import atomic_write
    from prism.io import read_json
    runs, rows = Path(a.runs), []
    for ds in a.datasets:
        first = read_json(next((runs / FUSED).glob(f"{ds}_stgcn_epsnone_s*.json")))
        on = "validation people" if first["protocol"].startswith("validation:") else "test people"
        cost = member_costs(runs, ds)
        for what, accs in ensembles(runs, ds).items():
            if not accs: continue
            m = [cost[st] for st in MEMBERS[what]]
            rows.append({"dataset": ds, "model": what, "networks": len(m), "draws": len(accs), "scored_on": on,
                         "acc_mean": round(100 * float(np.mean(accs)), 2),
                         "acc_std": round(100 * float(np.std(accs, ddof=1)), 2) if len(accs) > 1 else np.nan,
                         "params": sum(c[0] for c in m), "mflops_per_clip": round(sum(c[1] for c in m) / 1e6, 2),
                         "train_s": round(sum(c[2] for c in m), 1), "train_device": " + ".join(sorted({c[3] for c in m}))})
    t = pd.DataFrame(rows)
    atomic_write(Path(a.out), lambda p: t.to_csv(p, index=False))
    print(t.to_string(index=False))

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    rn = sub.add_parser("run", help="train the streams and the fused model on validation people")
    rn.add_argument("--datasets", nargs="+", default=["utd", "msr", "jhmdb"])
    rn.add_argument("--streams", nargs="+", default=[FUSED, *STREAMS], choices=[FUSED, *STREAMS])
    rn.add_argument("--seeds", nargs="+", type=int, default=None, help="only these seeds (default: 0-5 fused, 0-2 per stream)")
    rn.add_argument("--arrays", default=None, help="packed protocols (bench/sweep_device.py pack); a dataset not packed there is loaded")
    rn.add_argument("--out", default=None, help="default: results/benchmarks/tune/streams, or results/benchmarks/stream_runs with --test")
    rn.add_argument("--test", action="store_true", help="train on the whole training side and score the test people (for the ensemble chosen on validation)")
    rn.add_argument("--device", default="cpu"); rn.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    rn.add_argument("--epochs", type=int, default=None, help="epochs per run (default: the recipe's; set only for smoke tests)")
    rn.add_argument("--deadline", type=float, default=float("inf"), help="seconds after which no new run starts")
    rn.add_argument("--no-depth", action="store_true", help="2-D clips (ClipSpec(depth=False)), runs under <out>/2d/")
    rn.add_argument("--mirror", type=float, default=0., help="share of training clips mirrored (prism.clip.Augment(mirror=P)), runs under <out>/2d_mirror/ or <out>/mirror/")
    rn.add_argument("--config", default="cpu", choices=["cpu", "gpu"], help="the members' recipe: the CPU default or the full one (prism.experiments.GPU_RECIPES), runs under <out>/gpu/")
    sm = sub.add_parser("summary", help="the table of the streams and ensembles")
    sm.add_argument("--runs", default=str(REPO / "results" / "benchmarks" / "tune" / "streams"))
    sm.add_argument("--datasets", nargs="+", default=["utd", "msr", "jhmdb"])
    sm.add_argument("--out", default=str(REPO / "results" / "benchmarks" / "streams.csv"))
    a = p.parse_args()
    if a.cmd == "run" and a.out is None:
        a.out = str(REPO / "results" / "benchmarks" / ("stream_runs" if a.test else "tune/streams") / "_".join(k for k, on in (("2d", a.no_depth), ("mirror", a.mirror), ("gpu", a.config == "gpu")) if on))
    run(a) if a.cmd == "run" else summary(a)

if __name__ == "__main__":
    main()
