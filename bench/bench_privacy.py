"""Privacy-utility benchmark for PRISM: UTD-MHAD and MSR Action3D cross-subject accuracy without DP and at
epsilon 1, 4, 8 (delta 1e-5), with the privacy ledger of every run, plus DP/non-DP epoch-time ratios per grad_sample_mode.

Every run writes results/privacy/runs/<name>.json (with the command line, machine and date); `summary` aggregates them
into results/privacy/summary.json, .csv and .png.  Examples:

    PRISM_DATA=/path/to/data python bench/bench_privacy.py run --dataset utd --method linear_frozen --eps 8 --seed 0
    python bench/bench_privacy.py timing --dataset utd
    python bench/bench_privacy.py summary
"""
from __future__ import annotations
import argparse, json, os, platform, sys, time, warnings, datetime, copy
from pathlib import Path
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from prism.data import load_utd_mhad, load_msr_action3d, utd_cross_subject, msr_cross_subject, validation_split
from prism.pose import normalize_pose
from prism.skeleton import to_common
from prism.benchmarks import stamp as lib_stamp, write_json_atomic as write_json
from prism.kinematics import compute_channels, num_channels
from prism.models import STGCN_PRISM, LSTMBaseline, model_cost
from prism.benchmarks import clip_tensor as _clip_tensor
from prism.privacy import (create_privacy_config, PrivacyPreservingTrainer, SkeletonAugment, extract_features,
                           LinearHead, format_ledger)

# Opacus warns that its own secure RNG is off: PRISM draws noise and sampling from its secret generators (see the ledgers)
warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
warnings.filterwarnings("ignore", message="Full backward hook")
REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "results" / "privacy"
CACHE = REPO / ".cache" / "privacy"
LAYOUT, SPEC, T = "prism15", "pos+vel+bone", 32
DELTA = 1e-5
OTHER = {"utd": "msr", "msr": "utd"}  # the dataset treated as public when the other one is private

def stamp() -> dict:
    "Command line, machine and UTC date of this script's results files."
    return lib_stamp("python bench/bench_privacy.py " + " ".join(sys.argv[1:]))

# ---------------------------------------------------------------- data
def clip_tensor(rec) -> np.ndarray:
    "(C, T, V) float32: normalised pose -> common 15-joint layout -> T frames -> pos+vel+bone channels (prism.benchmarks)."
    return _clip_tensor(rec, LAYOUT, SPEC, T)

def load(name:str) -> dict:
    "Tensors and labels of the cross-subject protocol (train, test) and the validation split of training subjects."
    CACHE.mkdir(parents=True, exist_ok=True)
    f = CACHE / f"{name}_{LAYOUT}_{SPEC}_{T}_v2.npz"
    if not f.exists():
        recs = load_utd_mhad() if name == "utd" else load_msr_action3d()
        tr, te = (utd_cross_subject if name == "utd" else msr_cross_subject)(recs)
        fit, val = validation_split(tr, frac=0.25, seed=0, by="subject")
        d = {}
        for k, rs in [("train", tr), ("test", te), ("fit", fit), ("val", val), ("all", recs)]:
            d[k + "_x"] = np.stack([clip_tensor(r) for r in rs]); d[k + "_y"] = np.array([r.label for r in rs])
            d[k + "_s"] = np.array([int(r.subject) for r in rs])
        np.savez(f, **d)
    z = np.load(f)
    return {k: z[k] for k in z.files}

def loader(x, y, bs, shuffle=False):
    return DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y).long()), batch_size=bs, shuffle=shuffle)

def public_pca(pub:np.ndarray, k:int, *xs):
    "Project `xs` on the top-k principal directions of the PUBLIC features `pub`, whitened by the public variances."
    _, s, vt = np.linalg.svd(pub - pub.mean(0), full_matrices=False)
    w = vt[:k].T / (s[:k] / np.sqrt(len(pub)))
    return [((x - pub.mean(0)) @ w).astype(np.float32) for x in xs]

def handcrafted(x:np.ndarray, segments:int=4) -> np.ndarray:
    "(N, F) fixed features of (N, C, T, V) clips: per joint and channel, the mean of each of `segments` time segments and the std over time."
    n, c, t, v = x.shape
    seg = np.stack([s.mean(2) for s in np.array_split(x, segments, axis=2)], -1)   # (N, C, V, S)
    return np.concatenate([seg.reshape(n, -1), x.std(2).reshape(n, -1)], 1).astype(np.float32)

# ---------------------------------------------------------------- public pretraining
def pretrained(public:str, channels=(64, 64, 128, 128), epochs=60, seed=0, lr=0.1) -> Path:
    "An STGCN_PRISM trained non-privately on ALL of the public dataset (never sees the private one); cached."
    f = CACHE / f"pretrain_{public}_{'-'.join(map(str, channels))}_{epochs}_s{seed}_lr{lr:g}_v2.pt"
    if f.exists(): return f
    d = load(public)
    torch.manual_seed(seed)
    m = STGCN_PRISM(num_joints=15, in_channels=num_channels(SPEC), num_classes=int(d["all_y"].max()) + 1,
                    layout=LAYOUT, channels=channels, dropout=0.1)
    m.input_norm.fit(d["all_x"])   # public data: its statistics are public too
    tr = PrivacyPreservingTrainer(m, None, lr=lr, weight_decay=5e-4, augment=SkeletonAugment(rotate_deg=20, scale=0.15),
                                  seed=seed, verbose=True, lr_schedule="cosine")
    t0 = time.perf_counter()
    r = tr.train(loader(d["all_x"], d["all_y"], 32, shuffle=True), None, num_epochs=epochs)
    torch.save(m.state_dict(), f)
    write_json(f.with_suffix(".json"), {**stamp(), "public": public, "epochs": epochs, "lr": lr, "channels": list(channels),
                                         "seconds": time.perf_counter() - t0, "final_train_acc": r["history"][-1]["train_acc"]})
    return f

# ---------------------------------------------------------------- one run
def run(args) -> dict:
    torch.set_num_threads(args.threads)
    d = load(args.dataset)
    split = ("fit", "val") if args.tune else ("train", "test")
    xtr, ytr, xte, yte = d[split[0] + "_x"], d[split[0] + "_y"], d[split[1] + "_x"], d[split[1] + "_y"]
    n_cls = int(d["all_y"].max()) + 1
    eps = None if args.eps in ("none", "inf") else float(args.eps)
    cfg = None if eps is None else create_privacy_config(eps, DELTA, max_grad_norm=args.clip, grad_sample_mode=args.mode,
                                                         max_physical_batch_size=args.physical)
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    info = {}
    if args.method in ("stgcn", "stgcn_ft", "lstm"):
        if args.method == "lstm":
            m = LSTMBaseline(num_joints=15, in_channels=num_channels(SPEC), num_classes=n_cls, hidden_size=128)
        else:
            ch = tuple(int(c) for c in args.channels.split(","))
            m = STGCN_PRISM(num_joints=15, in_channels=num_channels(SPEC), num_classes=n_cls, layout=LAYOUT, channels=ch,
                            dropout=args.dropout)
            if args.method == "stgcn_ft":
                sd = torch.load(pretrained(OTHER[args.dataset], ch, lr=args.pretrain_lr), weights_only=True)
                sd = {k: v for k, v in sd.items() if not k.startswith("head.")}
                m.load_state_dict(sd, strict=False)
                info["pretrained_on"] = OTHER[args.dataset]
        if args.method != "stgcn_ft":   # a fine-tuned model keeps the statistics of its public pretraining
            if args.norm == "public": m.input_norm.fit(load(OTHER[args.dataset])["all_x"])
            elif args.norm == "train": m.input_norm.fit(xtr)   # a release of private statistics that epsilon does not cover
        info["input_norm"] = "public pretraining" if args.method == "stgcn_ft" else args.norm
        info["cost"] = model_cost(m, xtr.shape[1:])
        aug = SkeletonAugment(rotate_deg=20, scale=0.15) if args.aug else None
        tr = PrivacyPreservingTrainer(m, cfg, lr=args.lr, optimizer=args.opt, weight_decay=args.wd, ema_decay=args.ema,
                                      augment=aug, augment_multiplicity=args.aug if aug else 1, seed=args.seed,
                                      verbose=True, lr_schedule=args.schedule)
        res = tr.train(loader(xtr, ytr, args.bs, True), loader(xte, yte, 256), num_epochs=args.epochs)
    elif args.method == "linear_frozen":
        ch = tuple(int(c) for c in args.channels.split(","))
        pub = OTHER[args.dataset]
        base = STGCN_PRISM(num_joints=15, in_channels=num_channels(SPEC), num_classes=1, layout=LAYOUT, channels=ch)
        sd = torch.load(pretrain_file := pretrained(pub, ch, lr=args.pretrain_lr), weights_only=True)
        base.load_state_dict({k: v for k, v in sd.items() if not k.startswith("head.")}, strict=False)
        dp = load(pub)
        fpub = extract_features(base, loader(dp["all_x"], dp["all_y"], 256))[0]
        mu, sd_ = fpub.mean(0), fpub.std(0) + 1e-6   # standardisation from PUBLIC data only
        ftr = (extract_features(base, loader(xtr, ytr, 256))[0] - mu) / sd_
        fte = (extract_features(base, loader(xte, yte, 256))[0] - mu) / sd_
        if args.pca:
            ftr, fte = [torch.from_numpy(a) for a in public_pca(((fpub - mu) / sd_).numpy(), args.pca, ftr.numpy(), fte.numpy())]
        info.update(pretrained_on=pub, pretrain_file=pretrain_file.name, feature_dim=int(ftr.shape[1]), pca_on_public=args.pca)
        head = LinearHead(ftr.shape[1], n_cls, hidden=args.hidden)
        tr = PrivacyPreservingTrainer(head, cfg, lr=args.lr, optimizer=args.opt, weight_decay=args.wd, ema_decay=args.ema,
                                      seed=args.seed, verbose=False, lr_schedule=args.schedule, track_epsilon=False)
        res = tr.train(loader(ftr.numpy(), ytr, args.bs, True), loader(fte.numpy(), yte, 512), num_epochs=args.epochs)
    elif args.method == "linear_hand":
        pub = OTHER[args.dataset]
        dp = load(pub)
        hp = handcrafted(dp["all_x"])
        mu, sd_ = hp.mean(0), hp.std(0) + 1e-6         # standardisation from PUBLIC data only
        ftr, fte = (handcrafted(xtr) - mu) / sd_, (handcrafted(xte) - mu) / sd_
        if args.pca:
            ftr, fte = public_pca((hp - mu) / sd_, args.pca, ftr, fte)
        info.update(standardised_with=pub, feature_dim=int(ftr.shape[1]), pca_on_public=args.pca)
        head = LinearHead(ftr.shape[1], n_cls, hidden=args.hidden)
        tr = PrivacyPreservingTrainer(head, cfg, lr=args.lr, optimizer=args.opt, weight_decay=args.wd, ema_decay=args.ema,
                                      seed=args.seed, verbose=False, lr_schedule=args.schedule, track_epsilon=False)
        res = tr.train(loader(ftr, ytr, args.bs, True), loader(fte, yte, 512), num_epochs=args.epochs)
    else:
        raise SystemExit(f"unknown method {args.method}")
    out = {**stamp(), "dataset": args.dataset, "protocol": "cross-subject" + (" (tuning: fit/val of training subjects)" if args.tune else ""),
           "split": list(split), "method": args.method, "epsilon_target": eps, "delta": DELTA if eps else None,
           "seed": args.seed, "args": vars(args), "info": info, "num_train": int(len(ytr)), "num_eval": int(len(yte)),
           "eval_acc": res["final"]["val_acc"], "best_epoch_acc": res["best"]["val_acc"] if res["best"] else None,
           "seconds": time.perf_counter() - t0, "ledger": res["ledger"], "history": res["history"],
           "note": "eval_acc is the final model on the evaluation split (test subjects unless tuning); no checkpoint selection on test"}
    name = f"{args.dataset}_{args.method}_eps{args.eps}_s{args.seed}{'_tune' if args.tune else ''}{args.tag}"
    write_json(OUT / ("tune" if args.tune else "runs") / f"{name}.json", out)
    print(f"{name}: acc {out['eval_acc']:.4f}" + (f"  {format_ledger(res['ledger'])}" if res["ledger"] else "") +
          f"  ({out['seconds']:.0f}s)", flush=True)
    return out

# ---------------------------------------------------------------- timing
def timing(args):
    "Seconds per epoch of the same STGCN_PRISM on the real training split, non-DP and DP per grad_sample_mode."
    torch.set_num_threads(args.threads)
    d = load(args.dataset)
    n_cls = int(d["all_y"].max()) + 1
    ch = tuple(int(c) for c in args.channels.split(","))
    rows = []
    for mode in [None, "hooks", "functorch", "ghost"]:
        torch.manual_seed(0)
        m = STGCN_PRISM(num_joints=15, in_channels=num_channels(SPEC), num_classes=n_cls, layout=LAYOUT, channels=ch)
        cfg = None if mode is None else create_privacy_config(8.0, DELTA, grad_sample_mode=mode, max_physical_batch_size=args.physical)
        tr = PrivacyPreservingTrainer(m, cfg, lr=0.1, seed=0, track_epsilon=False)
        r = tr.train(loader(d["train_x"], d["train_y"], args.bs, True), None, num_epochs=args.epochs)
        secs = [h["epoch_seconds"] for h in r["history"]]
        rows.append({"grad_sample_mode": mode or "non-DP", "epoch_seconds": secs, "median_epoch_seconds": float(np.median(secs))})
        print(rows[-1], flush=True)
    base = rows[0]["median_epoch_seconds"]
    for r in rows: r["ratio_vs_nondp"] = r["median_epoch_seconds"] / base
    write_json(OUT / f"timing_{args.dataset}.json", {**stamp(), "dataset": args.dataset, "channels": list(ch),
               "batch_size": args.bs, "max_physical_batch_size": args.physical, "epochs": args.epochs, "rows": rows})

# ---------------------------------------------------------------- summary
def summary(args):
    import pandas as pd, shutil
    for f in CACHE.glob("pretrain_*.json"):   # provenance of the public pretraining used by linear_frozen / stgcn_ft
        (OUT / "pretrain").mkdir(parents=True, exist_ok=True); shutil.copy(f, OUT / "pretrain" / f.name)
    rows = []
    for f in sorted((OUT / "runs").glob("*.json")):
        r = json.loads(f.read_text()); led = r.get("ledger") or {}
        rows.append({"dataset": r["dataset"], "method": r["method"], "epsilon": r["epsilon_target"] or float("inf"),
                     "seed": r["seed"], "acc": r["eval_acc"], "epsilon_prv": led.get("epsilon_prv"),
                     "epsilon_rdp": led.get("epsilon_rdp"), "noise_multiplier": led.get("noise_multiplier"),
                     "sample_rate": led.get("sample_rate"), "steps": led.get("steps"), "clip": led.get("max_grad_norm"),
                     "seconds": r["seconds"], "file": f.name})
    df = pd.DataFrame(rows)
    df.to_csv(OUT / "runs.csv", index=False)
    g = df.groupby(["dataset", "method", "epsilon"]).acc.agg(["mean", "std", "count"]).reset_index()
    g.to_csv(OUT / "summary.csv", index=False)
    write_json(OUT / "summary.json", {**stamp(), "delta": DELTA, "protocol": "cross-subject, final model, test subjects",
               "privacy_unit": "one training sequence (clip), not one person", "table": g.to_dict(orient="records")})
    print(g.to_string())
    import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, ds in zip(axes, ["utd", "msr"]):
        for meth, gg in g[g.dataset == ds].groupby("method"):
            e = gg.epsilon.replace(np.inf, 16.0)
            ax.errorbar(e, gg["mean"], yerr=gg["std"].fillna(0), marker="o", label=meth, capsize=3)
        ax.set_xscale("log", base=2); ax.set_xticks([1, 4, 8, 16]); ax.set_xticklabels(["1", "4", "8", "no DP"])
        ax.set_title(f"{ds} cross-subject (delta=1e-5, per clip)"); ax.set_xlabel("epsilon"); ax.set_ylabel("accuracy"); ax.legend(fontsize=7)
    fig.tight_layout(); fig.savefig(OUT / "summary.png", dpi=110)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--dataset", choices=["utd", "msr"], default="utd")
    r.add_argument("--method", choices=["stgcn", "stgcn_ft", "lstm", "linear_frozen", "linear_hand"], default="stgcn")
    r.add_argument("--eps", default="none"); r.add_argument("--seed", type=int, default=0)
    r.add_argument("--epochs", type=int, default=30); r.add_argument("--bs", type=int, default=32)
    r.add_argument("--lr", type=float, default=0.05); r.add_argument("--opt", default="sgd"); r.add_argument("--wd", type=float, default=0.0)
    r.add_argument("--clip", type=float, default=1.0); r.add_argument("--mode", default="hooks"); r.add_argument("--physical", type=int, default=128)
    r.add_argument("--ema", type=float, default=None); r.add_argument("--aug", type=int, default=0)
    r.add_argument("--channels", default="64,64,128,128"); r.add_argument("--dropout", type=float, default=0.0)
    r.add_argument("--hidden", type=int, default=0); r.add_argument("--pca", type=int, default=0); r.add_argument("--schedule", default="constant")
    r.add_argument("--tune", action="store_true", help="train on fit, evaluate on val (training subjects only)")
    r.add_argument("--threads", type=int, default=1); r.add_argument("--tag", default="")
    r.add_argument("--pretrain-lr", type=float, default=0.1, help="learning rate of the public pretraining (linear_frozen, stgcn_ft)")
    r.add_argument("--norm", choices=["public", "train", "none"], default="public",
                   help="per-channel input standardisation from the other (public) dataset, the training split, or none")
    t = sub.add_parser("timing"); t.add_argument("--dataset", default="utd"); t.add_argument("--epochs", type=int, default=2)
    t.add_argument("--bs", type=int, default=64); t.add_argument("--physical", type=int, default=64)
    t.add_argument("--channels", default="32,64,64"); t.add_argument("--threads", type=int, default=1)
    s = sub.add_parser("summary")
    q = sub.add_parser("pretrain"); q.add_argument("--public", choices=["utd", "msr"], default="msr")
    q.add_argument("--channels", default="64,64,128,128"); q.add_argument("--epochs", type=int, default=60)
    q.add_argument("--threads", type=int, default=1); q.add_argument("--lr", type=float, default=0.1)
    a = p.parse_args()
    if a.cmd == "pretrain":
        torch.set_num_threads(a.threads)
        return print(pretrained(a.public, tuple(int(c) for c in a.channels.split(",")), a.epochs, lr=a.lr))
    {"run": run, "timing": timing, "summary": summary}[a.cmd](a)

if __name__ == "__main__":
    main()
