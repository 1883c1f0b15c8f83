"""The model zoo's model for poses from video: non-private, trained on JHMDB's MediaPipe poses (21 classes, wave among
them) with the library's video configuration, the model chosen on a validation split, a temperature fitted on the same
split, tested once.

    PRISM_DATA=/path/to/data python bench/video_model.py --threads 2          # the three candidates, seed 0
    PRISM_DATA=/path/to/data python bench/video_model.py --kinds stgcn --epochs 1 --out /tmp/zoo   # a quick look

The video configuration is what the experiments notebook measured for poses from one camera on JHMDB's validation
people: 2-D clips (`prism.clip.ClipSpec(depth=False)`: MediaPipe's depth is guessed from one image) and half the
training clips mirrored (`Augment(mirror=0.5)`: the labels name no side); `prism train --no-depth --mirror 0.5` is the
same. The candidates (`CANDIDATES`) are one ST-GCN, the late ensemble of the library's `STREAMS` (four ST-GCNs,
`prism train --streams`) and the LSTM, each with its kind's recipe and that configuration.

The training side of JHMDB's split by source video is split again by source video (`prism.experiments.validation_protocol`):
each candidate trains on the fit side, the one with the best validation accuracy is kept, its temperature is fitted on the
validation side (`prism.benchmarks.fit_temperature`), and it is evaluated once on the test side. The kept model is the one
trained on the fit side, so the validation clips stay held out from it. Writes <out>/jhmdb_nodp.{safetensors,json,md}; the
card holds the validation scores, the calibration and the test predictions (true class, predicted class, confidence with
and without the temperature) that the tutorial's reliability diagram reads. Then, as `prism reproduce` does for its
checkpoints, the release ledger of everything the results folder publishes from JHMDB's training clips is recomputed
(results/releases/jhmdb.json) and put on the card of every video model in <out> (`jhmdb_nodp*`: the one it replaced,
kept for bench/jhmdb_loss.py, too); `--ledger-only` does only that.
"""
from __future__ import annotations
import argparse, sys
from dataclasses import replace
from pathlib import Path
import numpy as np
import torch
from scipy.special import softmax
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from prism.io import stamp, write_json_atomic
from prism.clip import ClipSpec, Augment
from prism.experiments import load_protocol, validation_protocol, run_experiment, recipe, release_ledger, RECIPES, STREAMS
from prism.privacy import release_summary
from prism.models import run_model
from prism.benchmarks import classification_metrics, fit_temperature, expected_calibration_error
from prism.checkpoint import save_checkpoint, update_card

# the video configuration (see the docstring) and the candidates: name on the card -> (model kind, settings beside its recipe)
VIDEO_CLIP, MIRROR = ClipSpec(depth=False), 0.5
CANDIDATES = {"stgcn": ("stgcn", {}), "stgcn_streams": ("stgcn", {"streams": STREAMS}), "lstm": ("lstm", {})}

def candidate_settings(name:str, epochs:int|None=None):
    "(kind, settings) of a candidate: its kind's recipe with the video configuration's mirroring (and its own fields)."
    kind, extra = CANDIDATES[name]
    aug = RECIPES[kind].augment or Augment()
    return kind, recipe(kind, epochs=epochs, augment=replace(aug, mirror=MIRROR), **extra)

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kinds", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES), help="candidates to choose from (`CANDIDATES`)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frac", type=float, default=0.2, help="share of each class's training clips held out for validation (by source video)")
    p.add_argument("--epochs", type=int, default=None, help="override the recipes' epochs (a quick look; never for the zoo)")
    p.add_argument("--out", default=str(REPO / "results" / "zoo"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--results", default=str(REPO / "results"), help="the results folder whose JHMDB releases are counted")
    p.add_argument("--ledger-only", action="store_true", help="only recompute the release ledger for the model already in --out")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    command = " ".join(["python", "bench/video_model.py"] + (sys.argv[1:] if argv is None else list(argv)))
    if not a.ledger_only: train(a, command)
    rl = release_ledger("jhmdb", a.results)
    if Path(a.out).resolve().parent == Path(a.results).resolve():   # the card is one of the results folder's releases
        write_json_atomic(Path(a.results) / "releases" / "jhmdb.json", {**stamp(command), **rl})
    for card in sorted(Path(a.out).glob("jhmdb_nodp*.json")):   # every video model published from these clips
        update_card(card, release_ledger={"this_repository": release_summary(rl["total"])})
    print(f"release ledger of jhmdb: {len(rl['releases'])} releases; {release_summary(rl['total'])['text']}")
    return 0

def train(a, command:str) -> None:
    "Choose, calibrate, test and save the video model (see the module docstring)."
    data = load_protocol("jhmdb", clip=VIDEO_CLIP)
    val = validation_protocol(data, frac=a.frac, seed=a.seed)
    print(f"{val.description}: fit on {len(val.y_train)} clips, validate on {len(val.y_test)}", flush=True)
    runs = {}
    for name in a.kinds:
        kind, s = candidate_settings(name, a.epochs)
        runs[name] = run_experiment(val, kind, None, a.seed, s, return_model=True, command=command)
        print(f"{name}: validation accuracy {runs[name][0]['accuracy']:.3f} ({runs[name][0]['train_seconds']:.0f} s)", flush=True)
    best = max(runs, key=lambda k: runs[k][0]["accuracy"])
    run, model = runs[best]
    T = fit_temperature(run_model(model, val.X_test).numpy(), val.y_test)
    z = run_model(model, data.X_test).numpy()
    raw, scaled = softmax(z, axis=1), softmax(z / T, axis=1)
    y_pred = z.argmax(1); ok = y_pred == data.y_test
    card = {k: v for k, v in run.items() if k not in ("y_true", "y_pred", "history", "accuracy", "f1_macro", "precision_macro",
                                                         "recall_macro", "kappa", "n", "num_test", "note")}
    card.update(protocol=f"{data.description}; trained on the fit side of a validation split of its training side",
                **classification_metrics(data.y_test, y_pred, data.num_classes), num_test=int(len(data.y_test)), role="video",
                validation={"split": val.description, "n": int(len(val.y_test)), "scores": {k: r[0]["accuracy"] for k, r in runs.items()},
                            "chosen": best, "how": "validation accuracy of each candidate trained on the fit side; the test side unused",
                            "train_seconds": {k: r[0]["train_seconds"] for k, r in runs.items()}},
                calibration={"method": "temperature scaling (logits / T before the softmax)", "temperature": T,
                             "fitted_on": f"the validation side ({len(val.y_test)} clips of held-out training source videos)",
                             "public_data": False, "bins": 10,
                             "ece_test": {"raw": expected_calibration_error(raw.max(1), ok), "scaled": expected_calibration_error(scaled.max(1), ok)}},
                test_predictions={"y_true": data.y_test.tolist(), "y_pred": y_pred.tolist(),
                                  "confidence_raw": [round(float(c), 5) for c in raw.max(1)],
                                  "confidence": [round(float(c), 5) for c in scaled.max(1)]},
                note="the model trained on the fit side (validation clips held out), chosen and calibrated on validation, evaluated once on test")
    full = save_checkpoint(model, Path(a.out) / "jhmdb_nodp", card)
    c = full["calibration"]
    print(f"kept {best}: test accuracy {full['accuracy']:.3f} (chance {1 / data.num_classes:.3f}); temperature {T:.2f}; "
          f"test ECE {c['ece_test']['raw']:.3f} -> {c['ece_test']['scaled']:.3f}")
    print(f"written {Path(a.out) / 'jhmdb_nodp'}.{{safetensors,json,md}}")

if __name__ == "__main__": sys.exit(main())
