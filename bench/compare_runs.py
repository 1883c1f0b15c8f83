"""Which committed numbers moved when runs were re-made? Compare every run file in results/benchmarks/runs/ with the same
file at an earlier commit (read with `git show`, nothing is checked out) and write the runs whose accuracy changed.

    python bench/compare_runs.py --before d5aeca8

Writes results/benchmarks/remade_runs.csv and .json (command, both commits, old and new accuracy, old and new date and
command of each run file).
"""
from __future__ import annotations
import argparse, json, subprocess, sys
from pathlib import Path
import pandas as pd
from prism.io import atomic_write, stamp, write_json_atomic, read_json

REPO = Path(__file__).resolve().parents[1]

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", required=True, help="the commit whose run files are compared")
    p.add_argument("--runs", default="results/benchmarks/runs")
    p.add_argument("--out", default=str(REPO / "results" / "benchmarks" / "remade_runs"))
    a = p.parse_args(argv)
    rows = []
    for f in sorted((REPO / a.runs).glob("*.json")):
        old = subprocess.run(["git", "show", f"{a.before}:{f.relative_to(REPO).as_posix()}"], cwd=REPO, capture_output=True, text=True)
        if old.returncode != 0: continue          # a run that did not exist before
        o, n = json.loads(old.stdout), read_json(f)
        if o.get("date") == n.get("date"): continue   # not re-made
        rows.append({"run": f.stem, "accuracy_before": o["accuracy"], "accuracy_after": n["accuracy"],
                     "change_points": round(100 * (n["accuracy"] - o["accuracy"]), 2), "private": bool(n.get("epsilon") is not None),
                     "date_before": o.get("date"), "date_after": n.get("date"), "command_after": n.get("command")})
    t = pd.DataFrame(rows)
    atomic_write(Path(a.out + ".csv"), lambda tmp: t.to_csv(tmp, index=False))
    write_json_atomic(Path(a.out + ".json"), {**stamp("python bench/compare_runs.py " + " ".join(sys.argv[1:] if argv is None else argv)),
                                              "before": a.before, "rows": rows})
    print(t.to_string(index=False) if len(t) else "no run was re-made")
    return 0

if __name__ == "__main__": sys.exit(main())
