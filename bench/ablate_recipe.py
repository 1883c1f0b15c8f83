"""Issue 15's ingredient ablation: each ingredient of a modern skeleton recipe added ALONE to a kind's default recipe
(prism.experiments.RECIPES; VARIANTS: also left-right mirroring), or one change of the inputs (INPUTS: frames per clip, poses smoothed over time, a 2-D input, the Kinect's 20 joints, the body's frame),
and `combined` (the ingredients that each helped alone, together), trained without DP and scored on validation people of the TRAINING side
(prism.experiments.validation_protocol: a fifth of each class's training clips, held out by person); the test
people are never read. Several seeds per variant, because one validation split is a noisy judge.

    # with the data here
    PRISM_DATA=/path/to/data python bench/ablate_recipe.py run --datasets utd msr --seeds 0 1 2 --threads 2
    # or on a lent GPU from packed arrays (bench/sweep_device.py pack; bench/ablate_on_device.sh runs the whole grid)
    python bench/ablate_recipe.py run --arrays .gpu/arrays --device cuda --datasets utd msr jhmdb --variants warmup wide
    # an input variant chosen on validation, trained on the whole training side and scored on the test people
    # (results/benchmarks/input_runs/<variant>/, counted by release_ledger as published runs)
    PRISM_DATA=/path/to/data python bench/ablate_recipe.py run --test --datasets jhmdb --variants combined_xy
    # the table: mean and std over seeds, difference to the baseline, parameters, FLOPs and training time
    python bench/ablate_recipe.py summary --runs results/benchmarks/tune/ablation --out results/benchmarks/ablation.csv

Each run is the file run_experiment writes (<runs>/<variant>/<dataset>_<kind>_epsnone_s<seed>.json) with this command,
the machine, the device and the settings. By default <runs> is results/benchmarks/tune/ablation, so that
prism.experiments.release_ledger counts every run as a tuning release from its dataset's training clips; runs whose file exists are skipped, so an interrupted grid resumes.
"""
from __future__ import annotations
import argparse, sys, time
from dataclasses import replace
from pathlib import Path
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import numpy as np
import pandas as pd
import torch
import prism.experiments as E
from prism.clip import Augment, ClipSpec, clip_arrays, _flat
from prism.io import read_json, atomic_write
from sweep_device import read_packed

# what every variant starts from: the kind's recipe with the three ingredients below off, as the recipes were when the
# ablation began, so that "baseline" keeps its meaning when a recipe later adopts them
START = {"warmup_epochs": 0, "label_smoothing": 0.0, "learn_topology": False}

# one ingredient at a time on top of START (the names are the folders of the runs)
VARIANTS = {
    "baseline": {},
    "warmup5": {"warmup_epochs": 5},                         # linear warm-up, then the cosine decay
    "label_smoothing": {"label_smoothing": 0.1},
    "rotate45": {"augment": Augment(rotate_deg=45.0)},        # stronger view augmentation (the default turns by up to 20 degrees)
    "rotate60": {"augment": Augment(rotate_deg=60.0)},
    "learned_topology": {"learn_topology": True},            # a learnt correction of the skeleton graph in every block
    "wide": {"channels": (64, 128, 128)},                    # twice the width
    "deep": {"channels": (64, 64, 128, 128, 256, 256)},      # six blocks, nearer the published ST-GCN's ten
    "epochs150": {"epochs": 150},
    # not one ingredient: the three that each helped alone on UTD-MHAD's validation people, together
    "combined": {"warmup_epochs": 5, "label_smoothing": 0.1, "learn_topology": True},
}
# the candidates of the GPU configuration (bench/gpu_config.py): the CPU default (`combined`, = RECIPES["stgcn"]) made
# wider, deeper or trained longer, one change at a time
COMBINED = VARIANTS["combined"]
VARIANTS.update({"combined_wide": {**COMBINED, "channels": (64, 128, 128)},
                 "combined_deep": {**COMBINED, "channels": (64, 64, 128, 128, 256, 256)},
                 "combined_epochs150": {**COMBINED, "epochs": 150}})
# a public start: the CPU default begun from the same network trained on the protocol's public clips (its own recipe for 50
# epochs; UTD-MHAD's for MSR Action3D and JHMDB, MSR Action3D's for UTD-MHAD), all but its head. The rule, written before
# its runs: the public start for the CPU default if it beats `combined` by at least 2 points on MSR Action3D's validation
# people (the dataset furthest from its target) and loses no more than the larger seed sd on UTD-MHAD's and JHMDB's
VARIANTS["combined_public50"] = {**COMBINED, "public_init_epochs": 50}
# the CPU default with left-right mirroring (prism.clip.Augment(mirror=0.5): half the training clips mirrored, x negated and
# left and right joints swapped). JHMDB's labels name no side and its people are left- and right-handed; UTD-MHAD's and
# MSR Action3D's are mostly done with the right arm ("right arm swipe to the left"), where a mirror adds clips unlike any
# test clip. The rule, written before its runs: mirroring becomes the candidate default if it beats `combined` by at least
# 2 points on JHMDB's validation people and loses no more than the larger seed sd on UTD-MHAD's and MSR Action3D's; if it
# passes on JHMDB only, it is a setting of the library for data whose labels name no side (tutorial 3), not the default
VARIANTS["combined_mirror"] = {**COMBINED, "augment": Augment(mirror=0.5)}

# one change of the INPUT at a time (the clip spec, or a filter on the normalised poses), with the kind's recipe unchanged
INPUTS = {
    "frames64": {"clip": {"frames": 64}},                    # twice the frames per clip
    "smooth1": {"sigma": 1.0},                               # Gaussian smoothing over time (sigma in the record's frames)
    "smooth2": {"sigma": 2.0},
    "combined_frames64": {"clip": {"frames": 64}, "settings": COMBINED},   # the CPU default (RECIPES["stgcn"]) on twice the frames
    # the CPU default on 2-D poses: depth set to 0 (MediaPipe's image-plane z is an estimate, and JHMDB's model leans on
    # it: bench/jhmdb_loss.py). Compared with `combined`; the rule, written before its runs: a 2-D input for video poses
    # if it beats `combined` on JHMDB's validation people by at least 2 points (mean of 3 seeds)
    "combined_xy": {"flat_z": True, "settings": COMBINED},
    # the CPU default in the Kinect's own 20 joints (hands, feet and spine kept) instead of the 15 it shares with MediaPipe:
    # Kinect datasets only (utd, msr). The rule, written before its runs: the full layout for Kinect data if it beats
    # `combined` by at least 1 point averaged over UTD-MHAD's and MSR Action3D's validation people (3 seeds each)
    "combined_kinect20": {"clip": {"layout": "kinect20_sdk"}, "settings": COMBINED},
    # the CPU default in the body's frame (prism.clip.ClipSpec(view="body")): every clip turned about the vertical axis so its
    # mean shoulder line lies along x, so that a camera turned about that axis no longer changes the input (03b shows it on
    # records). These datasets were filmed from the front, so validation here can only show its cost on the recorded view.
    # The rule, written before its runs: the body's frame becomes the candidate default if it loses no more than the larger
    # seed sd against `combined` on the validation people of every dataset (UTD-MHAD, MSR Action3D, JHMDB); adopting it
    # means re-making every published run
    "combined_body": {"clip": {"view": "body"}, "settings": COMBINED},
    # left-right mirroring (`combined_mirror`, which passed on JHMDB only) on 2-D clips (prism.clip.ClipSpec(depth=False)), the
    # library's clip for poses from one camera. The rule, written before its runs: mirroring is the recommended setting for
    # video poses on 2-D clips too if it beats the CPU default on 2-D clips (the 2-D ensemble's early-fused member,
    # results/benchmarks/streams_2d.csv, the same people and seeds) by at least 2 points on JHMDB's validation people
    "combined_2d_mirror": {"clip": {"depth": False}, "settings": VARIANTS["combined_mirror"]},
}

def smooth_time(sigma:float):
    "f(x, layout): NaN-aware Gaussian smoothing of (T, V, C) poses along time, a missing value left missing."
    r = max(1, int(round(3 * sigma))); k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    def f(x, layout):
        ok = np.isfinite(x); v = np.where(ok, x, 0.0)
        conv = lambda a: np.apply_along_axis(lambda c: np.convolve(c, k, mode="same"), 0, a)
        num, den = conv(v), conv(ok.astype(float))
        return np.where(ok & (den > 0), num / np.where(den > 0, den, 1.0), np.nan)
    return f

def flat_z(x, layout):
    "f(x, layout): the normalised poses with depth set to 0 (the quick 2-D input; missing values stay missing)."
    return _flat(x)

def protocol_for(ds:str, variant:str, test:bool=False) -> E.Protocol:
    "The dataset's protocol, built with an input variant's clip spec or pose filter (the baseline's otherwise); `test`: the test side filtered too."
    v = INPUTS.get(variant, {})
    clip = ClipSpec(**v.get("clip", {}))
    p = E.load_protocol(ds, clip=clip)
    if "sigma" in v or v.get("flat_z"):   # the same records in the same order, their poses filtered (the public statistics stay the unfiltered ones)
        tr, te = E._protocol_records(ds, None)[:2]
        f = smooth_time(v["sigma"]) if "sigma" in v else flat_z
        X, y = clip_arrays(tr, clip, transform=f)
        if not np.array_equal(y, p.y_train): raise RuntimeError(f"{ds}: the records differ from the protocol's training side")
        p = replace(p, X_train=X)
        if test:
            X, y = clip_arrays(te, clip, transform=f)
            if not np.array_equal(y, p.y_test): raise RuntimeError(f"{ds}: the records differ from the protocol's test side")
            p = replace(p, X_test=X)
    return p

def settings_for(kind:str, variant:str, epochs:int|None=None) -> E.TrainSettings:
    "The kind's recipe from START with one variant's ingredient (`epochs`: fewer epochs, for smoke tests only)."
    if variant not in VARIANTS and variant not in INPUTS: raise SystemExit(f"unknown variant {variant!r}; known: {list(VARIANTS) + list(INPUTS)}")
    return E.recipe(kind, **{**START, **VARIANTS.get(variant, INPUTS.get(variant, {}).get("settings", {})), **({"epochs": epochs} if epochs else {})})

def run(a):
    torch.set_num_threads(a.threads)
    out, cache, t0 = Path(a.out), {}, time.time()
    command = "python bench/ablate_recipe.py " + " ".join(sys.argv[1:])
    for ds in a.datasets:
        base = None
        for variant in a.variants:
            if variant in INPUTS:
                if a.arrays: raise SystemExit(f"{variant} changes the inputs: run it from the data, not from packed arrays")
                full = protocol_for(ds, variant, test=a.test)
                val = full if a.test else E.validation_protocol(full, frac=a.frac)
            else:
                base = base or (read_packed(Path(a.arrays), ds, cache) if a.arrays else E.load_protocol(ds))
                val = base if a.test else E.validation_protocol(base, frac=a.frac)
            s = settings_for(a.kind, variant, a.epochs)
            for seed in a.seeds:
                f = out / variant / f"{E.run_name(ds, a.kind, None, seed)}.json"
                if f.exists(): print("done before:", f, flush=True); continue
                if time.time() - t0 > a.deadline: print("deadline reached, not started:", f, flush=True); continue
                r = E.run_experiment(val, a.kind, None, seed, s, out_dir=f.parent, command=command, device=a.device)
                print(f"{ds} {a.kind} {variant} s{seed}: {'test' if a.test else 'validation'} acc {r['accuracy']:.3f} in {r['train_seconds']:.0f} s", flush=True)

def summary(a):
    rows = []
    for f in sorted(Path(a.runs).glob("*/*.json")):
        r = read_json(f)
        rows.append({"dataset": r["dataset"], "model": r["model"], "variant": f.parent.name, "seed": r["seed"], "accuracy": r["accuracy"],
                     "train_seconds": r["train_seconds"], "device": r.get("device", "cpu"), "num_test": r["num_test"],
                     "cost": E.run_cost(r)})
    if not rows: raise SystemExit(f"no run files under {a.runs}/<variant>/")
    out = []
    for (ds, kind, variant), g in pd.DataFrame(rows).groupby(["dataset", "model", "variant"], sort=True):
        cost = g.cost.iloc[0]
        out.append({"dataset": ds, "model": kind, "variant": variant, "seeds": len(g), "val_acc_mean": round(100 * g.accuracy.mean(), 2),
                    "val_acc_std": round(100 * g.accuracy.std(ddof=1), 2) if len(g) > 1 else np.nan, "val_clips": int(g.num_test.iloc[0]),
                    "params": cost["params"], "mflops_per_clip": round(cost["flops"] / 1e6, 2),
                    "train_s_median": round(float(g.train_seconds.median()), 1), "device": " + ".join(sorted(set(g.device)))})
    t = pd.DataFrame(out)
    base = t[t.variant == a.base].set_index(["dataset", "model"]).val_acc_mean
    t["vs_" + a.base] = [round(r.val_acc_mean - base.get((r.dataset, r.model), np.nan), 2) for r in t.itertuples()]
    atomic_write(Path(a.out), lambda p: t.to_csv(p, index=False))
    print(t.to_string(index=False))

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    rn = sub.add_parser("run", help="train the variants on validation splits of the training people")
    rn.add_argument("--datasets", nargs="+", default=["utd", "msr", "jhmdb"])
    rn.add_argument("--kind", default="stgcn", help="the model kind whose recipe is varied (stgcn, or lstm for its baseline)")
    rn.add_argument("--variants", nargs="+", default=list(VARIANTS), help=f"from {list(VARIANTS)}")
    rn.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    rn.add_argument("--frac", type=float, default=0.2, help="share of each class's training clips held out (by person) for validation")
    rn.add_argument("--arrays", default=None, help="packed protocols (bench/sweep_device.py pack) instead of the data")
    rn.add_argument("--out", default=None, help="default: results/benchmarks/tune/ablation, or results/benchmarks/input_runs with --test")
    rn.add_argument("--test", action="store_true", help="train on the whole training side and score the test people (a variant chosen on validation)")
    rn.add_argument("--device", default="cpu"); rn.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    rn.add_argument("--epochs", type=int, default=None, help="epochs per run (default: the recipe's; set only for smoke tests)")
    rn.add_argument("--deadline", type=float, default=float("inf"), help="seconds after which no new run starts")
    sm = sub.add_parser("summary", help="the table of the runs")
    sm.add_argument("--runs", default=str(REPO / "results" / "benchmarks" / "tune" / "ablation"))
    sm.add_argument("--out", default=str(REPO / "results" / "benchmarks" / "ablation.csv"))
    sm.add_argument("--base", default="baseline", help="the variant every other is compared with (column vs_<base>)")
    a = p.parse_args()
    if a.cmd == "run":
        for v in a.variants: settings_for(a.kind, v, a.epochs)   # an unknown variant fails before any data is read
        if a.out is None: a.out = str(REPO / "results" / "benchmarks" / ("input_runs" if a.test else "tune/ablation"))
    run(a) if a.cmd == "run" else summary(a)

if __name__ == "__main__":
    main()
