"""Run the tutorial notebooks top to bottom (as a workshop participant would) and record how long each took.

    PRISM_DATA=/path/to/data python bench/time_tutorials.py [names ...]

Writes results/tutorials/timing.json (command, machine, date, load, minutes per notebook). The notebooks are executed
in a temporary copy, so the committed notebooks are not changed.
"""
from __future__ import annotations
import argparse, shutil, sys, tempfile, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from prism.io import stamp, write_json_atomic

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="notebook stems in nbs/tutorials (default: all)")
    a = p.parse_args()
    src = REPO / "nbs" / "tutorials"
    books = [src / f"{n}.ipynb" for n in a.names] if a.names else sorted(src.glob("[0-9]*.ipynb"))
    out = REPO / "results" / "tutorials" / "timing.json"
    rows = {}
    if out.exists():
        import json; rows = json.loads(out.read_text()).get("minutes", {})
    for nb_path in books:
        with tempfile.TemporaryDirectory() as d:
            work = Path(d) / "nbs" / "tutorials"; work.mkdir(parents=True)
            (Path(d) / "results").symlink_to(REPO / "results")   # the notebooks read ../../results
            shutil.copy(nb_path, work / nb_path.name)
            nb = nbformat.read(work / nb_path.name, as_version=4)
            t0 = time.perf_counter()
            NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
            rows[nb_path.stem] = round((time.perf_counter() - t0) / 60, 2)
        print(f"{nb_path.name}: {rows[nb_path.stem]:.1f} min", flush=True)
    write_json_atomic(out, {**stamp("python bench/time_tutorials.py " + " ".join(a.names)), "minutes": rows,
                            "note": "whole notebook, fresh kernel, top to bottom; pose extraction and training on the CPU"})

if __name__ == "__main__":
    main()
