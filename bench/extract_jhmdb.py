"""Extract all JHMDB clips (928) to poses with prism.pose.extract_folder and time it.

    python bench/extract_jhmdb.py --workers 2 --cache /tmp/jhmdb_w2      # fresh cache: full extraction, timed
    python bench/extract_jhmdb.py --workers 2                            # default cache ($PRISM_CACHE or ~/.cache/prism/pose)/jhmdb

Writes results/pose/jhmdb_extract_w{N}.json (wall time, frames, failures, settings), and, from that run,
results/pose/jhmdb_per_class.csv (clips, frames, found rate and failures per class and split side) and
results/pose/jhmdb_failures.csv. Needs PRISM_DATA (or --root).
"""
from __future__ import annotations
import argparse, csv, datetime, json, os, platform, resource, sys
from pathlib import Path
import numpy as np

from prism.io import atomic_write, write_json_atomic, stamp, load_note
from prism.pose import PoseConfig, extract_folder, load_pose, pose_cache_dir, pose_flags
from prism.jhmdb import JHMDB_POSE_CONFIG, jhmdb_clips, jhmdb_split



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=os.environ.get("PRISM_DATA"), help="data root (default: $PRISM_DATA)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=None, help="pose cache folder; poses go to CACHE/jhmdb (default: pose_cache_dir())")
    ap.add_argument("--min-detection-confidence", type=float, default=JHMDB_POSE_CONFIG.min_detection_confidence)
    ap.add_argument("--out", default="results/pose")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args()
    if not args.root: sys.exit("set PRISM_DATA or pass --root")
    root, out = Path(args.root), Path(args.out)
    cfg = PoseConfig(min_detection_confidence=args.min_detection_confidence)
    cache = pose_cache_dir(args.cache) / "jhmdb"
    load0 = list(os.getloadavg())
    ru0 = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    s = extract_folder(root / "jhmdb" / "videos", cache, workers=args.workers, progress=not args.no_progress, config=cfg)
    ru1 = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu_s = sum((b.ru_utime + b.ru_stime) - (a.ru_utime + a.ru_stime) for a, b in zip(ru0, ru1))  # this process + its (finished) workers
    print(s.report())
    print(f"wall {s.wall_s:.1f} s, {s.frames} frames decoded, {s.frames / max(s.wall_s, 1e-9):.1f} frames/s overall")

    # per class / split side: clips, frames, person-found rate, failures
    sp = jhmdb_split(root)
    side = {r: "train" for r in sp["train"]} | {r: "test" for r in sp["test"]}
    failed = {f["video"] for f in s.failures}
    rows = {}
    flags_count = {}
    for c in jhmdb_clips(root):
        rel = c.rel.split("jhmdb/videos/", 1)[1]
        k = (c.action, side[c.rel])
        r = rows.setdefault(k, dict(action=c.action, side=side[c.rel], clips=0, extracted=0, failed=0, frames=0,
                                    frames_found=0, clips_with_missing_frames=0, clips_long_gap=0))
        r["clips"] += 1
        if rel in failed:
            r["failed"] += 1; continue
        p = load_pose(cache / Path(rel).with_suffix(".npz"))
        r["extracted"] += 1; r["frames"] += p.num_frames; r["frames_found"] += int(p.found.sum())
        fl = pose_flags(p)
        r["clips_with_missing_frames"] += "missing_frames" in fl
        r["clips_long_gap"] += "long_gap" in fl
        for f in fl: flags_count[f] = flags_count.get(f, 0) + 1
    table = [rows[k] for k in sorted(rows)]
    for r in table: r["found_rate"] = round(r["frames_found"] / max(r["frames"], 1), 4)
    total_frames = sum(r["frames"] for r in table)
    st = stamp(" ".join(["python"] + sys.argv))
    doc = dict(**st, load_avg_start=load0, load_avg_end=list(os.getloadavg()), load_note=load_note(load0[0]),
               settings=cfg.key(), workers=args.workers, wall_s=round(s.wall_s, 1),
               videos=s.videos, extracted=s.extracted, cached=s.cached, failed=s.failed,
               frames_decoded=s.frames, frames_in_extracted_clips=total_frames,
               frames_per_s_overall=round(s.frames / max(s.wall_s, 1e-9), 2),
               cpu_s=round(cpu_s, 1), cpu_ms_per_frame=round(1e3 * cpu_s / max(s.frames, 1), 2),
               timings_s_summed_over_workers={k: round(v, 1) for k, v in s.timings.items()},
               flags=flags_count, failures=s.failures,
               failures_by_error={e: sum(f["error"] == e for f in s.failures) for e in sorted({f["error"] for f in s.failures})},
               per_class=table)
    write_json_atomic(out / f"jhmdb_extract_w{args.workers}.json", doc)
    def csv_rows(keys, rows):
        def write(tmp):
            with open(tmp, "w", newline="") as f: w = csv.DictWriter(f, keys); w.writeheader(); w.writerows(rows)
        return write
    atomic_write(out / "jhmdb_per_class.csv", csv_rows(list(table[0]), table))
    atomic_write(out / "jhmdb_failures.csv", csv_rows(["video", "error", "message", "cached"], s.failures))
    print("wrote", out / f"jhmdb_extract_w{args.workers}.json")


if __name__ == "__main__":
    main()
