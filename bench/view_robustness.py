"""View robustness: UTD-MHAD cross-subject test clips seen by a camera turned about the vertical axis.

Scores the committed UTD-MHAD checkpoints (results/benchmarks/checkpoints: trained on the training subjects by
`prism reproduce --full`, seed 0) on the whole test split turned by each angle (prism.clip.turn_view through
prism.benchmarks.view_robustness), and draws accuracy against the turn. Inference only: no training, no private data
beyond the test split. Writes results/benchmarks/view_robustness.csv, .json (with this command) and .png.

    PRISM_DATA=/path/to/data python bench/view_robustness.py
"""
from __future__ import annotations
import argparse, sys
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import torch
from prism.io import atomic_write, atomic_write_text, stamp, write_json_atomic
from prism.checkpoint import load_checkpoint
from prism.experiments import LABELS, load_protocol
from prism.benchmarks import VIEW_ANGLES, view_robustness, plot_view_robustness

REPO = Path(__file__).resolve().parents[1]
MODELS = ("utd_stgcn_epsnone_s0", "utd_lstm_epsnone_s0", "utd_stgcn_ft_epsnone_s0", "utd_stgcn_ncm_eps8_s0", "utd_stgcn_ft_eps8_s0")

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoints", default=str(REPO / "results" / "benchmarks" / "checkpoints"))
    p.add_argument("--models", nargs="+", default=list(MODELS), help="checkpoint stems in --checkpoints")
    p.add_argument("--angles", nargs="+", type=float, default=list(VIEW_ANGLES))
    p.add_argument("--out", default=str(REPO / "results" / "benchmarks"))
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    command = " ".join(["python", "bench/view_robustness.py"] + (sys.argv[1:] if argv is None else list(argv)))
    data = load_protocol("utd")
    rows = []
    for stem in a.models:
        model, card = load_checkpoint(Path(a.checkpoints) / stem)
        eps, kind = card.get("epsilon"), stem.split("_eps")[0].split("_", 1)[1]   # <dataset>_<kind>_eps<e>_s<seed>
        label = LABELS[kind] + (", no DP" if eps is None else f", DP ε={eps:g} per {card.get('privacy_unit') or 'clip'}")
        t = view_robustness(model, data.X_test, data.y_test, a.angles, data.clip, data.num_classes)
        rows.append(t.assign(model=label, kind=kind, checkpoint=stem, seed=card.get("seed"), epsilon=eps))
        print(stem, " ".join(f"{d:+.0f}:{acc:.3f}" for d, acc in zip(t.degrees, t.accuracy)), flush=True)
    table = pd.concat(rows, ignore_index=True)
    out = Path(a.out)
    atomic_write_text(out / "view_robustness.csv", table.to_csv(index=False, float_format="%.4f"))
    write_json_atomic(out / "view_robustness.json", {**stamp(command), "dataset": "utd", "protocol": data.description,
                      "note": "inputs turned about the vertical axis after the clip is made (prism.clip.turn_view); seed-0 checkpoints",
                      "rows": table.to_dict("records")})
    fig, ax = plt.subplots(figsize=(9.5, 4))
    plot_view_robustness(table, ax, title=f"UTD-MHAD, {len(data.y_test)} test-subject clips, seed-0 models")
    fig.tight_layout()
    atomic_write(out / "view_robustness.png", lambda f: fig.savefig(f, dpi=120, metadata={"Software": None}))
    print("wrote", out / "view_robustness.csv", out / "view_robustness.json", out / "view_robustness.png")
    return 0

if __name__ == "__main__":
    sys.exit(main())
