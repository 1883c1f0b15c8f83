"""Speed of video -> pose extraction (prism.pose), per process, split into decode / resize / colour conversion / model.

    python bench/bench_pose.py                       # both sections
    python bench/bench_pose.py --sections speed      # frames/s on JHMDB (320x240) and the NTU clip (1920x1080)
    python bench/bench_pose.py --sections threshold  # found-person rate vs MediaPipe's detection threshold

Needs PRISM_DATA (or --root). Writes results/pose/bench_pose.json + .csv and results/pose/detection_threshold.json + .csv.
The JHMDB clips are a fixed subset: the first clip of each class on each side of the saved split (42 clips).
"""
from __future__ import annotations
import argparse, csv, datetime, json, os, platform, sys, time
from pathlib import Path
import numpy as np

from prism.io import atomic_write, write_json_atomic, stamp, load_note
from prism.pose import PoseConfig, PoseExtractor, pose_joints
from prism.jhmdb import jhmdb_clips, jhmdb_split


LOAD_AT_START = list(os.getloadavg())



def machine() -> dict:
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return dict(cores=os.cpu_count(), cpu=cpu, platform=platform.platform(), python=platform.python_version(),
                load_avg_start=LOAD_AT_START,
                note=load_note(LOAD_AT_START[0]))


def subset(root) -> list:
    "First clip of each class on each side of the saved split (42 clips)."
    sp = jhmdb_split(root)
    side = {r: "train" for r in sp["train"]} | {r: "test" for r in sp["test"]}
    seen, out = set(), []
    for c in jhmdb_clips(root):
        if (c.action, side[c.rel]) not in seen:
            seen.add((c.action, side[c.rel])); out.append(c)
    return out


def run_clips(paths, config) -> dict:
    "Extract `paths` with one extractor; return per-frame times in ms and the results."
    ex = PoseExtractor(config)
    t0, c0 = time.perf_counter(), time.process_time()
    results = [ex(p, require_person=False) for p in paths]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    ex.close()
    t, n = ex.timings, ex.timings["frames"]
    return dict(frames=n, videos=len(paths), wall_s=wall, fps=n / wall, cpu_s=cpu, cpu_ms_per_frame=1e3 * cpu / n,
                ms_decode=1e3 * t["decode"] / n, ms_resize=1e3 * t["resize"] / n, ms_convert=1e3 * t["convert"] / n,
                ms_model=1e3 * t["model"] / n, ms_other=1e3 * (wall - t["decode"] - t["resize"] - t["convert"] - t["model"]) / n,
                results=results)


def speed(root: Path, repeats: int) -> list:
    clips = subset(root)
    jh = [root / c.rel for c in clips]
    ntu = root / "videos" / "mmaction2_S001C001P001R001A001_rgb.avi"
    rows = []
    cases = [("jhmdb_320x240_subset42", jh, PoseConfig()),
             ("ntu_1920x1080_max_side_640", [ntu], PoseConfig(max_side=640)),
             ("ntu_1920x1080_full_res", [ntu], PoseConfig(max_side=None))]
    out = {}
    for name, paths, cfg in cases:
        runs = [run_clips(paths, cfg) for _ in range(repeats)]
        best = max(runs, key=lambda r: r["fps"])  # least disturbed by the other processes on the machine
        out[name] = best.pop("results")
        for r in runs: r.pop("results", None)
        rows.append(dict(name=name, max_side=cfg.max_side, repeats=repeats, fps_all=[round(r["fps"], 2) for r in runs],
                         **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in best.items()}))
        print(f"{name:<28} {best['fps']:6.1f} frames/s (best of {repeats}: {[round(r['fps'], 1) for r in runs]}); "
              f"ms/frame decode {best['ms_decode']:.2f} resize {best['ms_resize']:.2f} convert {best['ms_convert']:.2f} "
              f"model {best['ms_model']:.2f} other {best['ms_other']:.2f}; CPU {best['cpu_ms_per_frame']:.2f} ms/frame", flush=True)
    # does downscaling the 1080p frames change the landmarks?
    a, b = out["ntu_1920x1080_max_side_640"][0], out["ntu_1920x1080_full_res"][0]
    both = a.found & b.found
    dpx = np.abs(a.landmarks[both, :, :2] - b.landmarks[both, :, :2]) * np.array([1920, 1080])
    rows.append(dict(name="ntu_landmark_change_640_vs_full", frames_compared=int(both.sum()),
                     mean_abs_px=round(float(dpx.mean()), 2), median_abs_px=round(float(np.median(dpx)), 2),
                     p95_abs_px=round(float(np.percentile(dpx, 95)), 2)))
    print(f"landmarks with max_side=640 vs full resolution: mean |dx,dy| {dpx.mean():.2f} px, 95th percentile "
          f"{np.percentile(dpx, 95):.2f} px (of 1920x1080), {both.sum()} frames", flush=True)
    return rows


def threshold(root: Path, values) -> list:
    clips = subset(root)
    rows = []
    for v in values:
        r = run_clips([root / c.rel for c in clips], PoseConfig(min_detection_confidence=v))
        ratios = np.array([x.found_ratio for x in r["results"]])
        vis = np.concatenate([x.landmarks[x.found, :, 3].ravel() for x in r["results"] if x.found.any()])
        rows.append(dict(min_detection_confidence=v, clips=len(clips), frames=r["frames"],
                         clips_without_person=int((ratios == 0).sum()), clips_all_frames=int((ratios == 1).sum()),
                         mean_found_ratio=round(float(ratios.mean()), 4),
                         frames_found=int(sum(x.found.sum() for x in r["results"])),
                         mean_visibility_found=round(float(vis.mean()), 4)))
        print(rows[-1], flush=True)
    return rows


def write(rows, name, out, args, extra=None):
    st = stamp(" ".join(["python"] + sys.argv))
    doc = dict(command=st["command"], date=st["date"], machine=dict(st["machine"], **machine(), load_avg_end=list(os.getloadavg())),
               mediapipe=PoseConfig().key()["mediapipe"], rows=rows, **(extra or {}))
    write_json_atomic(out / f"{name}.json", doc)
    keys = sorted({k for r in rows for k in r})
    def write_csv(tmp):
        with open(tmp, "w", newline="") as f: w = csv.DictWriter(f, keys); w.writeheader(); w.writerows(rows)
    atomic_write(out / f"{name}.csv", write_csv)
    print("wrote", out / f"{name}.json")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=os.environ.get("PRISM_DATA"), help="data root (default: $PRISM_DATA)")
    ap.add_argument("--sections", default="speed,threshold")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--thresholds", default="0.5,0.3,0.2,0.1")
    ap.add_argument("--out", default="results/pose")
    args = ap.parse_args()
    if not args.root: sys.exit("set PRISM_DATA or pass --root")
    root, out = Path(args.root), Path(args.out)
    secs = args.sections.split(",")
    if "threshold" in secs:
        write(threshold(root, [float(v) for v in args.thresholds.split(",")]), "detection_threshold", out, args)
    if "speed" in secs:
        write(speed(root, args.repeats), "bench_pose", out, args,
              dict(note="fps = frames / wall time of one process (graph start-up included); ms_* are per-frame wall-clock means; "
                        "cpu_ms_per_frame = CPU time of the process (all its threads) per frame, less sensitive to other load; "
                        "best of `repeats` runs reported, all runs in fps_all"))
