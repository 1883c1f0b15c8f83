"""Dimensionality of PRISM's inputs: values per frame and bytes per 30-frame clip for raw MediaPipe,
the Kinect layouts and the reduced `prism15` layout with each channel spec, measured on real clips.

Usage: PRISM_DATA=/path/to/data python bench/bench_kinematics.py [--clips 40] [--videos 3] [--out results/kinematics]
Writes dim_reduction.json and dim_reduction.csv (and prints the table)."""
from __future__ import annotations
import argparse, datetime, io, json, os, platform, sys, tempfile, time
from pathlib import Path
import numpy as np
import pandas as pd
import scipy.io
import torch

from prism.skeleton import get_layout, to_common, orient_up
from prism.kinematics import compute_channels, num_channels, frame_size
from prism.clip import resample, resample_times
from prism.pose import extract_pose, pose_joints, video_info
from prism.io import atomic_write, write_json_atomic, stamp

FRAMES = 30
SPECS = ['pos', 'pos+vel', 'pos+bone', 'pos+vel+acc', 'pos+bone+vel', 'pos+vel+acc+bone+angle']


def uniform_30(x: np.ndarray) -> np.ndarray:
    "The sequence resampled to 30 evenly spaced times: the evaluation resampling of `prism.clip` (linear interpolation)."
    return resample(x, resample_times(len(x), FRAMES)).astype(np.float32)


def npz_bytes(a: np.ndarray) -> int:
    "Size of the array written with np.savez_compressed."
    b = io.BytesIO(); np.savez_compressed(b, a=a); return b.getbuffer().nbytes


def measure(clips: list[np.ndarray], layout: str, spec: str|None, repeats: int = 3) -> dict:
    "Measured float32 bytes, compressed bytes and compute time per 30-frame clip."
    arrs, times = [], []
    for c in clips:
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            a = c.astype(np.float32) if spec is None else compute_channels(c, layout, spec)
            best = min(best, time.perf_counter() - t0)
        arrs.append(a); times.append(best)
    return dict(measured_bytes_per_clip=int(np.mean([a.nbytes for a in arrs])),
                compressed_bytes_per_clip=float(np.mean([npz_bytes(a) for a in arrs])),
                compute_ms_per_clip_median=float(np.median(times) * 1e3))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--clips', type=int, default=40, help='UTD-MHAD clips to measure (spread over actions and subjects)')
    ap.add_argument('--videos', type=int, default=3, help='JHMDB videos to run MediaPipe on (0: skip the MediaPipe rows)')
    ap.add_argument('--out', default='results/kinematics')
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    root = Path(os.environ['PRISM_DATA'])
    files = sorted((root/'utd_mhad/Skeleton').glob('*_skeleton.mat'))
    files = files[::max(1, len(files) // a.clips)][:a.clips]
    kin = [uniform_30(scipy.io.loadmat(f)['d_skel'].transpose(2, 0, 1).astype(np.float32)) for f in files]
    p15 = [to_common(k, 'kinect20_utd') for k in kin]

    rows = []
    def add(source, layout, spec, clips, values_per_joint=None, note=''):
        r = frame_size(layout, spec, frames=FRAMES, values_per_joint=values_per_joint)
        r.update(source=source, note=note, clips_measured=len(clips))
        r.update(measure(clips, layout, spec if values_per_joint is None else None))
        rows.append(r)

    # MediaPipe on real JHMDB videos: the raw landmark array (x, y, z, visibility) and the same clips in prism15
    video_rows = []
    if a.videos > 0:
        vids = sorted((root/'jhmdb/videos').glob('*/*.mp4'))
        vids = vids[::max(1, len(vids) // a.videos)][:a.videos]
        mp_raw, mp15 = [], []
        for v in vids:
            r = extract_pose(v)
            lm = np.nan_to_num(r.landmarks, nan=0.0)
            mp_raw.append(uniform_30(lm))
            j, _ = pose_joints(r, fill=True)
            mp15.append(uniform_30(to_common(orient_up(j, 'mediapipe33'), 'mediapipe33')))
            info = video_info(v)
            video_rows.append(dict(video=str(v.relative_to(root)), width=info.width, height=info.height, frames=info.frames,
                                   mp4_bytes_per_30_frames=v.stat().st_size / info.frames * FRAMES,
                                   rgb_bytes_per_30_frames=info.width * info.height * 3 * FRAMES))
        add('jhmdb (MediaPipe)', 'mediapipe33', None, mp_raw, values_per_joint=4, note='raw landmarks x, y, z, visibility')
        add('jhmdb (MediaPipe)', 'mediapipe33', 'pos', [m[..., :3] for m in mp_raw])
        for s in SPECS: add('jhmdb (MediaPipe)', 'prism15', s, mp15)
    add('utd_mhad (Kinect v1)', 'kinect20_utd', None, kin, values_per_joint=3, note='raw joints x, y, z')
    for s in SPECS: add('utd_mhad (Kinect v1)', 'prism15', s, p15)

    df = pd.DataFrame(rows)
    df['values_vs_raw_mediapipe'] = (df.values_per_frame / (33 * 4)).round(3)
    cols = ['source', 'layout', 'spec', 'joints', 'channels', 'values_per_frame', 'values_vs_raw_mediapipe', 'bytes_per_clip',
            'measured_bytes_per_clip', 'compressed_bytes_per_clip', 'compute_ms_per_clip_median', 'clips_measured', 'note']
    df = df[cols]
    out = Path(a.out)
    res = dict(**stamp('PRISM_DATA=<data root> python ' + ' '.join(['bench/bench_kinematics.py'] + (argv if argv is not None else sys.argv[1:]))),
               frames_per_clip=FRAMES, dtype='float32',
               notes=['bytes_per_clip = joints x channels x 30 frames x 4 bytes (exact count)',
                      'measured_bytes_per_clip = nbytes of the arrays computed from real clips resampled to 30 frames (prism.clip.resample)',
                      'compressed_bytes_per_clip = size of np.savez_compressed of that array (mean over clips)',
                      'compute_ms_per_clip_median = compute_channels on one 30-frame clip, best of 3 repeats, median over clips'],
               rows=df.to_dict(orient='records'), videos=video_rows)
    write_json_atomic(out/'dim_reduction.json', res)
    atomic_write(out/'dim_reduction.csv', lambda tmp: df.to_csv(tmp, index=False))
    with pd.option_context('display.width', 200, 'display.max_columns', 20): print(df.drop(columns=['note']).to_string(index=False))
    if video_rows: print(pd.DataFrame(video_rows).to_string(index=False))


if __name__ == '__main__': main()
