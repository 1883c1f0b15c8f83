"""Does the one-pipeline redesign change any number? Train the same short non-private runs with the code of an earlier
commit (before the redesign) and with this checkout, and compare their test predictions exactly.

    PRISM_DATA=/path/to/data python bench/compare_paths.py --before d5aeca8

The earlier commit is checked out into a temporary git worktree (removed afterwards). Writes
results/benchmarks/one_path_equivalence.json (command, machine, both commits, predictions equal or not).
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, tempfile
from pathlib import Path
from prism.io import stamp, write_json_atomic

REPO = Path(__file__).resolve().parents[1]
# the same runs in the API of each side: end-to-end ST-GCN (small, 3 epochs), LSTM (2 epochs), public backbone + head (no DP)
OLD = """import json, sys, torch; torch.set_num_threads(1)
import prism.experiments as B
d = B.load_protocol("utd"); B.DEFAULT_TRAIN["stgcn"]["channels"] = (16, 32)
runs = {"stgcn": B.run_experiment(d, "utd", "stgcn", None, 0, epochs=3), "lstm": B.run_experiment(d, "utd", "lstm", None, 0, epochs=2),
        "stgcn_ft": B.run_experiment(d, "utd", "stgcn_ft", None, 0)}
json.dump({k: {"y_pred": r["y_pred"], "accuracy": r["accuracy"]} for k, r in runs.items()}, open(sys.argv[1], "w"))
"""
NEW = """import json, sys, torch; torch.set_num_threads(1)
import prism.experiments as B
d = B.load_protocol("utd")
runs = {"stgcn": B.run_experiment(d, "stgcn", None, 0, B.recipe("stgcn", epochs=3, channels=(16, 32))),
        "lstm": B.run_experiment(d, "lstm", None, 0, B.recipe("lstm", epochs=2)),
        "stgcn_ft": B.run_experiment(d, "stgcn_ft", None, 0, B.RECIPES["stgcn_ft"])}
json.dump({k: {"y_pred": r["y_pred"], "accuracy": r["accuracy"]} for k, r in runs.items()}, open(sys.argv[1], "w"))
"""

def run(code:str, root:Path, out:Path):
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", code, str(out)], cwd=root, env=env, check=True, stderr=subprocess.DEVNULL)
    return json.loads(out.read_text())

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", required=True, help="a commit before the redesign")
    p.add_argument("--out", default=str(REPO / "results" / "benchmarks" / "one_path_equivalence.json"))
    a = p.parse_args(argv)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as d:
        wt = Path(d) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(wt), a.before], cwd=REPO, check=True, capture_output=True)
        try:
            old = run(OLD, wt, Path(d) / "old.json")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=REPO, capture_output=True)
        new = run(NEW, REPO, Path(d) / "new.json")
    rows = [{"run": k, "accuracy_before": old[k]["accuracy"], "accuracy_after": new[k]["accuracy"],
             "identical_predictions": old[k]["y_pred"] == new[k]["y_pred"]} for k in old]
    write_json_atomic(a.out, {**stamp("python bench/compare_paths.py " + " ".join(sys.argv[1:] if argv is None else argv)),
                              "before": a.before, "after": head, "dataset": "utd (cross-subject test side)", "rows": rows})
    for r in rows: print(r)
    return 0 if all(r["identical_predictions"] for r in rows) else 1

if __name__ == "__main__": sys.exit(main())
