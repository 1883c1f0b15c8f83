"""Tests of prism.pose beyond the notebook's lessons: the bad-input matrix, offline operation, the cache,
atomic writes, worker processes (JHMDB clips as real videos); the JHMDB dataset itself is tested in test_jhmdb.py."""
import json, os, shutil, subprocess, sys, textwrap, warnings
from pathlib import Path

import numpy as np
import pytest

import prism.pose as pp
from prism.pose import (NoPersonError, PoseConfig, PoseResult, VideoError, extract_folder, extract_path,
                        extract_pose, load_pose, pose_joints, read_frames, save_pose, video_info)


def _root() -> Path:
    r = os.environ.get("PRISM_DATA")
    if not r or not (Path(r) / "jhmdb" / "videos").is_dir():
        pytest.skip("PRISM_DATA is not set or has no jhmdb/videos: set PRISM_DATA to the data folder (see CONTRIBUTING.md)")
    return Path(r)


@pytest.fixture(scope="module")
def root() -> Path: return _root()

@pytest.fixture(scope="module")
def clip(root) -> Path: return root / "jhmdb/videos/wave/21_wave_u_nm_np1_fr_goo_5.mp4"   # 23 frames, person in all

@pytest.fixture(scope="module")
def clip2(root) -> Path: return root / "jhmdb/videos/clap/Theslowclap1_clap_f_cm_np1_fr_med_0.mp4"

@pytest.fixture(scope="module")
def ntu(root) -> Path: return root / "videos/mmaction2_S001C001P001R001A001_rgb.avi"


def _write_video(path: Path, frames: int, fourcc: str):
    import cv2
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25, (160, 120))
    assert w.isOpened()
    for _ in range(frames): w.write(np.zeros((120, 160, 3), np.uint8))
    w.release()
    return path


# ---------------------------------------------------------------- bad input, each with its message
def test_nonexistent_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="video not found"): extract_pose(tmp_path / "missing.mp4")
    with pytest.raises(FileNotFoundError, match="video or folder not found"): extract_path(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="folder not found"): extract_folder(tmp_path / "missing")

def test_not_a_video(tmp_path):
    p = tmp_path / "notes.mp4"; p.write_text("this is a text file, not a video\n" * 20)
    with pytest.raises(VideoError, match="cannot open .*notes.mp4 as a video"): extract_pose(p)

def test_zero_byte_file(tmp_path):
    p = tmp_path / "empty.mp4"; p.touch()
    with pytest.raises(VideoError, match=r"empty \(0 bytes\)"): extract_pose(p)

def test_zero_frame_video(tmp_path):
    p = _write_video(tmp_path / "zero.avi", 0, "MJPG")
    with pytest.raises(VideoError, match="no decodable frames"): extract_pose(p)

def test_no_person(tmp_path):
    p = _write_video(tmp_path / "black.mp4", 12, "mp4v")
    with pytest.raises(NoPersonError, match="no person found in any of the 12 frames"): extract_pose(p)
    assert issubclass(NoPersonError, ValueError)

def test_unreadable_frame_mid_video(tmp_path, clip):
    b = bytearray(clip.read_bytes())
    b[len(b) // 3: len(b) // 3 + 3000] = bytes(3000)   # zero 3 kB in the middle of the stream
    p = tmp_path / "corrupt.mp4"; p.write_bytes(bytes(b))
    with pytest.raises(VideoError, match=r"frame \d+ of .* cannot be decoded \(corrupt data mid-video"): extract_pose(p)
    r = extract_pose(p, PoseConfig(bad_frames="skip"))
    assert r.num_frames == video_info(clip).frames        # lost frames keep their place ...
    assert r.unreadable.any() and not r.found[r.unreadable].any()   # ... as missing frames
    assert np.isnan(r.landmarks[r.unreadable]).all()
    assert "unreadable_frames" in pp.pose_flags(r)

def test_truncated_video(tmp_path, ntu):
    p = tmp_path / "half.avi"; p.write_bytes(ntu.read_bytes()[: ntu.stat().st_size // 2])
    with pytest.raises(VideoError, match=r"stops at frame \d+ but its header declares 103 frames"):
        list(read_frames(p))
    n = sum(1 for _ in read_frames(p, bad_frames="skip"))
    assert 0 < n < 103

def test_folder_without_videos(tmp_path):
    (tmp_path / "a.txt").write_text("x"); (tmp_path / "sub").mkdir(); (tmp_path / "sub" / "b.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no video files"): extract_folder(tmp_path)

def test_folder_given_as_video_and_video_as_folder(tmp_path, clip):
    with pytest.raises(IsADirectoryError, match="is a folder"): extract_pose(tmp_path)
    with pytest.raises(NotADirectoryError, match="use extract_pose"): extract_folder(clip)

def test_bad_settings():
    with pytest.raises(ValueError, match="only the model_complexity=1"): PoseConfig(model_complexity=0)
    with pytest.raises(ValueError, match="max_side"): PoseConfig(max_side=10)
    with pytest.raises(ValueError, match="bad_frames"): PoseConfig(bad_frames="drop")
    with pytest.raises(ValueError, match="workers must be >= 1"): pp.extract_videos([], [], workers=0)


# ---------------------------------------------------------------- offline
def test_extraction_works_with_network_blocked(clip):
    "In a fresh process, block every socket before mediapipe is imported, then extract a real clip."
    code = textwrap.dedent(f"""
        import socket
        def _blocked(*a, **k): raise OSError("network access attempted during pose extraction")
        socket.socket.connect = _blocked; socket.socket.connect_ex = _blocked
        socket.create_connection = _blocked; socket.getaddrinfo = _blocked
        from prism.pose import extract_pose
        r = extract_pose({str(clip)!r})
        assert r.found.all() and r.landmarks.shape == (23, 33, 4), r
        print("OFFLINE_OK")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "OFFLINE_OK" in out.stdout, out.stderr[-2000:]


# ---------------------------------------------------------------- results on disk
def test_save_load_roundtrip_and_bad_files(tmp_path, clip):
    r = extract_pose(clip)
    p = save_pose(r, tmp_path / "deep" / "x.npz")
    b = load_pose(p)
    np.testing.assert_array_equal(b.landmarks, r.landmarks); np.testing.assert_array_equal(b.world, r.world)
    assert (b.fps, b.size, b.key, b.settings) == (r.fps, r.size, r.key, r.settings)
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a PRISM pose file"): load_pose(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_text("junk")
    with pytest.raises(ValueError, match="not a readable PRISM pose file"): load_pose(tmp_path / "junk.npz")

def test_interrupted_write_leaves_nothing(tmp_path, clip, monkeypatch):
    r = extract_pose(clip)
    def boom(f, **arrays):
        f.write(b"partial bytes"); raise KeyboardInterrupt
    monkeypatch.setattr(pp.np, "savez_compressed", boom)
    with pytest.raises(KeyboardInterrupt): save_pose(r, tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def folder(tmp_path, clip, clip2):
    src = tmp_path / "videos"
    (src / "wave").mkdir(parents=True); (src / "clap").mkdir()
    shutil.copy(clip, src / "wave" / clip.name); shutil.copy(clip2, src / "clap" / clip2.name)
    (src / "clap" / "broken.mp4").write_text("not a video")
    return src

def test_folder_cache_rerun_does_no_work(folder, tmp_path):
    out = tmp_path / "poses"
    s1 = extract_folder(folder, out, progress=False)
    assert (s1.videos, s1.extracted, s1.cached, s1.failed) == (3, 2, 0, 1)
    assert s1.failures[0]["video"] == "clap/broken.mp4" and str(tmp_path) not in s1.failures[0]["message"]
    assert (out / "wave" / "21_wave_u_nm_np1_fr_goo_5.npz").exists()
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    s2 = extract_folder(folder, out, progress=False)
    assert (s2.extracted, s2.cached, s2.failed, s2.frames) == (0, 2, 1, 0)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == mtimes      # nothing rewritten
    assert "VideoError: 1" in s2.report()
    # other settings -> other key -> work again; overwrite -> work again
    s3 = extract_folder(folder, out, progress=False, config=PoseConfig(min_detection_confidence=0.4))
    assert s3.extracted == 2
    assert extract_folder(folder, out, progress=False, config=PoseConfig(min_detection_confidence=0.4), overwrite=True).extracted == 2
    # the key is the content: a renamed copy in a new folder is still the same key, a changed file is not
    (folder / "wave" / "21_wave_u_nm_np1_fr_goo_5.mp4").write_bytes(b"now broken")
    s4 = extract_folder(folder, out, progress=False)
    assert s4.failed == 2 and not (out / "wave" / "21_wave_u_nm_np1_fr_goo_5.npz").exists()
    assert not list(out.rglob("*.tmp"))

def test_interrupted_folder_run_resumes(folder, tmp_path, monkeypatch):
    out = tmp_path / "poses"
    real = pp.save_pose
    calls = []
    def flaky(result, path):
        calls.append(path)
        if len(calls) == 2: raise KeyboardInterrupt   # "Ctrl-C" while writing the second clip
        return real(result, path)
    monkeypatch.setattr(pp, "save_pose", flaky)
    with pytest.raises(KeyboardInterrupt): extract_folder(folder, out, progress=False)
    monkeypatch.setattr(pp, "save_pose", real)
    assert len(list(out.rglob("*.npz"))) == 1 and not list(out.rglob("*.tmp"))
    s = extract_folder(folder, out, progress=False)
    assert (s.cached, s.extracted, s.failed) == (1, 1, 1)

def test_workers_match_single_process(folder, tmp_path):
    s1 = extract_folder(folder, tmp_path / "w1", workers=1, progress=False)
    s2 = extract_folder(folder, tmp_path / "w2", workers=2, progress=False)
    assert (s2.extracted, s2.failed, s2.workers) == (2, 1, 2)
    assert s1.outputs.keys() == s2.outputs.keys()
    for k in s1.outputs:
        a, b = load_pose(s1.outputs[k]), load_pose(s2.outputs[k])
        np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-5)

def test_extract_path_single_video(tmp_path, clip):
    s = extract_path(clip, tmp_path / "out", progress=False)
    assert (s.videos, s.extracted) == (1, 1)
    assert load_pose(tmp_path / "out" / (clip.stem + ".npz")).num_frames == 23
    s_json = s.save_json(tmp_path / "summary.json")
    assert json.loads(s_json.read_text())["extracted"] == 1


# ---------------------------------------------------------------- gaps and normalisation
def test_pose_joints_units(clip):
    r = extract_pose(clip)
    j, vis = pose_joints(r)
    np.testing.assert_allclose(j[..., 0], r.landmarks[..., 0] * 320 / 240, rtol=1e-6)
    assert vis.min() >= 0 and vis.max() <= 1


# ---------------------------------------------------------------- JHMDB
