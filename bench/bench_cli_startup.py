"""How long the `prism` command takes to answer `--help` and a refused argument, against importing the commands.

    python bench/bench_cli_startup.py [--runs 5]

Each case runs in a fresh interpreter (`python -m prism.cli ...` from this working copy); the median of `--runs` runs is
kept. `import prism.commands` is what every real command pays before it starts (torch, Opacus, scikit-learn, ...);
`prism.cli` defers it until the arguments are good. Writes results/cli/startup.json (command, machine, date, load).
"""
from __future__ import annotations
import argparse, os, statistics, subprocess, sys, time
from pathlib import Path
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from prism.io import stamp, write_json_atomic

CASES = {"prism --help": ["-m", "prism.cli", "--help"],
         "prism train --epochs 0 (refused)": ["-m", "prism.cli", "train", "--epochs", "0"],
         "import prism.commands (what a command loads)": ["-c", "import prism.commands"]}

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    a = p.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    seconds = {}
    for name, argv in CASES.items():
        ts = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, *argv], cwd=REPO, env=env, capture_output=True)
            ts.append(time.perf_counter() - t0)
        seconds[name] = round(statistics.median(ts), 3)
        print(f"{name}: {seconds[name]:.2f} s (median of {a.runs})", flush=True)
    write_json_atomic(REPO / "results" / "cli" / "startup.json",
                      {**stamp(" ".join(["python", "bench/bench_cli_startup.py", *sys.argv[1:]])), "median_seconds": seconds, "runs": a.runs,
                       "note": "fresh interpreter per run, wall time including interpreter start-up"})

if __name__ == "__main__":
    main()
