"""Choose the sweep's training settings (prism.experiments.RECIPES) on a validation subject of the TRAINING side only.

The last training subject of the protocol is held out as validation; nothing here reads the test subjects.
Each setting writes results/benchmarks/tune/<tag>/<run>.json (command, machine, date, metrics, ledger).
With --cv every training subject is held out in turn (leave-one-subject-out over the training side) and the file
holds the pooled validation accuracy over all training clips and the accuracy of each fold: one subject (~108 clips)
is a noisy judge, differences of a few points between settings are within its noise.

    PRISM_DATA=/path/to/data python bench/tune_benchmarks.py --kind stgcn_ft --eps 8 none --set pretrain_epochs=5 --tag pre5
    PRISM_DATA=/path/to/data python bench/tune_benchmarks.py --kind stgcn_ft --eps 8 4 1 --set views=4 --cv --tag cv_views4
    PRISM_DATA=/path/to/data python bench/tune_benchmarks.py --kind stgcn --eps none --set augment.rotate_deg=90 --turns 0 30 60 90 --tag rot90

`--view body` builds the protocol with the library's body-frame clips (prism.clip.ClipSpec(view="body")): every clip,
the public ones too, turned about the vertical axis so its mean shoulder line lies along x. `--face-camera` was the
first look at the same idea (utd, msr): only the training inputs turned, the public input statistics left un-turned.
`--public msr+utkinect` pools several library datasets as the public data (backbone pretraining and every public
statistic; `prism.experiments.load_public`); the default is the protocol's own (`prism.experiments.NORM_REFERENCE`).
`--set augment.FIELD=VALUE` changes one field of the recipe's `prism.clip.Augment`; `--turns` also scores the final
model on the validation clips turned about the vertical axis (prism.benchmarks.view_robustness), saved in the run file.
"""
from __future__ import annotations
import argparse, ast, sys
from dataclasses import replace
from pathlib import Path
import numpy as np
import torch
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import prism.experiments as B
from prism.benchmarks import view_robustness
from prism.catalog import VIEWS
from prism.clip import Augment, ClipSpec, clip_arrays
from prism.data import load_msr_action3d, load_utd_mhad, msr_cross_subject, utd_cross_subject
from prism.kinematics import normalize_pose
from prism.io import read_json, stamp, write_json_atomic

def _settings(kind:str, pairs:list):
    "The kind's recipe with `key=value` overrides (`augment.FIELD=value` for one field of its augmentation)."
    over = {k: ast.literal_eval(v) for k, v in (kv.split("=", 1) for kv in pairs)}
    aug = {k.split(".", 1)[1]: over.pop(k) for k in list(over) if k.startswith("augment.")}
    s = B.recipe(kind, **over)   # a copy: the defaults stay
    return replace(s, augment=replace(s.augment or Augment(), **aug)) if aug else s

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="utd"); p.add_argument("--kind", default="stgcn")
    p.add_argument("--eps", nargs="+", default=["8", "none"]); p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", nargs="*", default=[], help="TrainSettings overrides of the kind's recipe, key=value (Python literals)")
    p.add_argument("--tag", required=True); p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cv", action="store_true", help="leave-one-training-subject-out instead of the last training subject")
    p.add_argument("--face-camera", action="store_true", help="turn every training clip to face the camera (the first look; see --view)")
    p.add_argument("--view", choices=VIEWS, default="camera", help="the clips' view (prism.clip.ClipSpec.view), public clips included")
    p.add_argument("--public", default=None, help="public data: library datasets joined by '+' (default: the protocol's own)")
    p.add_argument("--turns", nargs="*", type=float, default=[], help="also score the validation clips turned by these degrees")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    settings = _settings(a.kind, a.set)
    if a.face_camera and a.view != "camera": raise SystemExit("--face-camera is the first look at --view body: give one of them")
    data = B.load_protocol(a.dataset, public=a.public, clip=ClipSpec(view=a.view) if a.view != "camera" else None)
    if a.face_camera:   # the same training records through the same path, each turned to face the camera first
        split = {"utd": (load_utd_mhad, utd_cross_subject), "msr": (load_msr_action3d, msr_cross_subject)}[a.dataset]
        train = split[1](split[0]())[0]
        if not np.array_equal(clip_arrays(train, data.clip)[0], data.X_train): raise RuntimeError("records differ from the protocol")
        face = lambda x, layout: normalize_pose(x, layout, center="first", scale=False, rotate="sequence")
        data = replace(data, X_train=clip_arrays(train, data.clip, transform=face)[0])
    s = data.persons_train; subjects = sorted(set(s), key=lambda v: (len(v), v))
    X, y = data.train
    shared = {}   # the public backbones, shared by the folds
    out = REPO / "results" / "benchmarks" / "tune" / a.tag
    command = "python bench/tune_benchmarks.py " + " ".join(sys.argv[1:])
    for e in a.eps:
        eps = None if e in ("none", "inf") else float(e)
        folds = []
        for val in (subjects if a.cv else subjects[-1:]):
            fit = s != val
            tune = replace(data, X_train=X[fit], y_train=y[fit], persons_train=s[fit], X_test=X[~fit], y_test=y[~fit], persons_test=s[~fit],
                           description=f"tuning: training subjects except {val} -> validation subject {val} (test subjects unused)")
            r, model = B.run_experiment(tune, a.kind, eps, a.seed, settings, out_dir=None if a.cv else out, command=command,
                                        backbones=shared, return_model=True)
            if a.turns and not a.cv:   # accuracy on the validation clips seen from turned cameras, kept in the run file
                vr = view_robustness(model, tune.X_test, tune.y_test, a.turns, tune.clip, tune.num_classes)
                f = out / f"{B.run_name(a.dataset, a.kind, eps, a.seed)}.json"
                write_json_atomic(f, {**read_json(f), "turned_accuracy": {f"{d:g}": acc for d, acc in zip(vr.degrees, vr.accuracy)}})
                print("turned:", dict(zip(vr.degrees, vr.accuracy.round(3))), flush=True)
            folds.append({"validation_subject": val, "accuracy": r["accuracy"], "n": r["num_test"], "epsilon_prv": (r["ledger"] or {}).get("epsilon_prv"),
                          "train_seconds": r["train_seconds"]})
        if a.cv:
            pooled = sum(f["accuracy"] * f["n"] for f in folds) / sum(f["n"] for f in folds)
            write_json_atomic(out / f"{B.run_name(a.dataset, a.kind, eps, a.seed)}_cv.json",
                                {**stamp(command), "dataset": a.dataset, "model": a.kind, "epsilon": eps, "seed": a.seed,
                                 "settings": settings.settings(), "clip": data.clip.settings(), "public": data.public.name if data.public is not None else None, "protocol": "leave-one-training-subject-out (test subjects unused)",
                                 "accuracy_pooled": pooled, "folds": folds})
            print(f"{a.tag} {a.kind} eps={e}: pooled validation acc {pooled:.3f} (folds {[round(f['accuracy'], 3) for f in folds]})", flush=True)
        else:
            print(f"{a.tag} {a.kind} eps={e}: val acc {folds[0]['accuracy']:.3f} ({folds[0]['train_seconds']:.0f}s) settings {settings.settings()}", flush=True)

if __name__ == "__main__":
    main()
