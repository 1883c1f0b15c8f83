"Bad input to the data loaders: each case raises an error whose message names the problem."
import json, os, shutil, warnings, zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io as sio

from prism import data as D
from prism.io import file_hash


def test_root_from_argument_env_and_errors(data_root, monkeypatch):
    assert D.get_data_root(data_root) == data_root
    monkeypatch.setenv("PRISM_DATA", str(data_root))
    assert D.get_data_root() == data_root
    monkeypatch.delenv("PRISM_DATA")
    with pytest.raises(FileNotFoundError, match="PRISM_DATA is not set") as e: D.get_data_root()
    assert "personal.utdallas.edu" in str(e.value)        # says where to get the data
    with pytest.raises(FileNotFoundError, match="/nope/nothing"): D.load_utd_mhad("/nope/nothing")


def test_relative_root_is_found_from_every_folder_of_the_repository(data_root, monkeypatch):
    "README's `PRISM_DATA=../shared/data` is relative to the repository root, and a tutorial's kernel runs in nbs/tutorials/."
    repo = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("PRISM_DATA", os.path.relpath(data_root.resolve(), repo))
    for where in (repo, repo / "nbs", repo / "nbs" / "tutorials"):
        monkeypatch.chdir(where)
        assert D.get_data_root().resolve() == data_root.resolve(), where
    monkeypatch.setenv("PRISM_DATA", "no/such/data")
    with pytest.raises(FileNotFoundError, match="under the repository root") as e: D.get_data_root()
    assert "working directory" in str(e.value)


def test_missing_dataset_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="UTD-MHAD folder not found") as e: D.load_utd_mhad(tmp_path)
    assert str(tmp_path) in str(e.value)
    with pytest.raises(FileNotFoundError, match="MSR Action3D folder not found"): D.load_msr_action3d(tmp_path)
    (tmp_path/"utd_mhad/Skeleton").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="No UTD-MHAD files"): D.load_utd_mhad(tmp_path)


def _fake_utd(root: Path, good_src: Path):
    d = root/"utd_mhad/Skeleton"; d.mkdir(parents=True)
    shutil.copy(good_src, d/"a1_s1_t1_skeleton.mat")
    sio.savemat(d/"a2_s1_t1_skeleton.mat", {"d_skel": np.zeros((20, 2, 9))})       # wrong shape
    (d/"a3_s1_t1_skeleton.mat").write_bytes(b"")                                   # empty
    return d


def test_utd_malformed_raises_or_skips_and_reports(data_root, tmp_path):
    _fake_utd(tmp_path, data_root/"utd_mhad/Skeleton/a1_s1_t1_skeleton.mat")
    with pytest.raises(ValueError, match=r"a2_s1_t1_skeleton.mat: d_skel must have shape \(20, 3, T\)"): D.load_utd_mhad(tmp_path)
    with pytest.warns(UserWarning, match="skipped 2 bad file"):
        recs = D.load_utd_mhad(tmp_path, on_error="skip")
    assert len(recs) == 1 and [n for n, _ in recs.skipped] == ["a2_s1_t1_skeleton.mat", "a3_s1_t1_skeleton.mat"]
    with pytest.raises(ValueError, match="on_error must be"): D.load_utd_mhad(tmp_path, on_error="ignore")


@pytest.mark.parametrize("content,msg", [
    ("1 2 3\n" * 20, "line 1: expected 4 columns"),
    ("", "empty file"),
    ("1 2 3 1\n" * 25, "25 joint lines is not a multiple of 20"),
    ("1 2 x 1\n" * 20, "line 1: not numbers"),
    ("0 0 0 1\n" * 40, "all joint positions are zero"),
])
def test_msr_malformed_file(tmp_path, content, msg):
    f = tmp_path/"a01_s01_e01_skeleton3D.txt"; f.write_text(content)
    with pytest.raises(ValueError, match=msg) as e: D.read_msr_file(f)
    assert f.name in str(e.value)


def test_msr_missing_file_and_subset(data_root, tmp_path):
    with pytest.raises(FileNotFoundError, match="MSR Action3D file not found"): D.read_msr_file(tmp_path/"x.txt")
    with pytest.raises(ValueError, match="subset must be '557' or 'all'"): D.load_msr_action3d(data_root, subset="560")


def test_counts_and_protocols(data_root):
    utd, msr = D.load_utd_mhad(data_root), D.load_msr_action3d(data_root)
    assert (len(utd), len({r.label for r in utd}), len({r.subject for r in utd})) == (861, 27, 8)
    assert (len(msr), len({r.label for r in msr}), len({r.subject for r in msr})) == (557, 20, 10)
    tr, te = D.utd_cross_subject(utd)
    assert {r.subject for r in tr} == {1, 3, 5, 7} and {r.subject for r in te} == {2, 4, 6, 8}
    tr, te = D.msr_cross_subject(msr)
    assert {r.subject for r in tr} == {1, 3, 5, 7, 9} and {r.subject for r in te} == {2, 4, 6, 8, 10}
    fit, val = D.validation_split(tr, seed=3)
    assert {r.subject for r in val} <= {1, 3, 5, 7, 9} and not {r.subject for r in fit} & {r.subject for r in val}
    assert all(r.joints.dtype == np.float32 and r.joints.shape[1:] == (20, 3) for r in utd[:20] + msr[:20])


def test_generic_format_errors(data_root, tmp_path):
    utd = D.load_utd_mhad(data_root)[:3]
    with pytest.raises(FileNotFoundError, match="generic dataset folder not found"): D.load_generic(tmp_path/"none")
    (tmp_path/"g").mkdir()
    with pytest.raises(FileNotFoundError, match="dataset.json"): D.load_generic(tmp_path/"g")
    D.save_generic(utd, tmp_path/"g2")
    (tmp_path/"g2"/"dataset.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"): D.load_generic(tmp_path/"g2")
    with pytest.raises(ValueError, match="no records to save"): D.save_generic([], tmp_path/"g3")


def test_generic_custom_layout_roundtrip(tmp_path):
    "A user's own 3-joint layout, described in dataset.json, needs no new code."
    folder = tmp_path/"mine"; folder.mkdir()
    layout = dict(name="toy3", joints=["hip", "chest", "head"], edges=[[0, 1], [1, 2]], center=0)
    (folder/"dataset.json").write_text(json.dumps(dict(format="prism-generic", version=1, name="mine", layout=layout, classes=["sit", "stand"])))
    for i in range(4):
        np.savez(folder/f"{i}.npz", joints=np.random.default_rng(i).normal(size=(10, 3, 3)), label=i % 2, subject=f"p{i // 2}")
    recs = D.load_generic(folder)
    assert [r.action for r in recs] == ["sit", "stand", "sit", "stand"] and recs[0].layout.name == "toy3"
    assert {r.subject for r in recs} == {"p0", "p1"}
    from prism.skeleton import LAYOUTS
    assert "toy3" not in LAYOUTS and recs[0].layout.joints == ["hip", "chest", "head"]   # the layout comes with the data, unregistered


def test_download_local_archive_idempotent_and_atomic(data_root, tmp_path):
    src = data_root/"utd_mhad/Skeleton/a1_s1_t1_skeleton.mat"
    arch = tmp_path/"Skeleton.zip"
    with zipfile.ZipFile(arch, "w") as z: z.write(src, "Skeleton/a1_s1_t1_skeleton.mat")
    sha = file_hash(arch)
    root = tmp_path/"data"
    d = D.download(arch.as_uri(), root, sha256=sha, subdir="utd_mhad")
    assert (d/"Skeleton/a1_s1_t1_skeleton.mat").read_bytes() == src.read_bytes()
    mtime = (d/".prism_download.json").stat().st_mtime_ns
    assert D.download(arch.as_uri(), root, sha256=sha, subdir="utd_mhad") == d
    assert (d/".prism_download.json").stat().st_mtime_ns == mtime          # second call did nothing
    assert len(D.load_utd_mhad(root)) == 1
    with pytest.raises(ValueError, match="checksum mismatch"):
        D.download(arch.as_uri(), tmp_path/"bad", sha256="0" * 64, subdir="utd_mhad")
    assert list((tmp_path/"bad").iterdir()) == []                           # nothing half-written
    (tmp_path/"notzip.bin").write_bytes(b"hello")
    with pytest.raises(ValueError, match="not a zip or tar archive"):
        D.download((tmp_path/"notzip.bin").as_uri(), tmp_path/"bad", subdir="x")
    with pytest.raises(ConnectionError, match="could not download"):
        D.download((tmp_path/"missing.zip").as_uri(), tmp_path/"bad", subdir="x")
    with pytest.raises(ValueError, match="unknown dataset 'ntu'"): D.download("ntu", tmp_path)


def _utkinect_root(data_root: Path) -> Path:
    if not (data_root/"utkinect/UTKinect_Skeletons.mat").is_file():
        pytest.skip("no utkinect/UTKinect_Skeletons.mat under PRISM_DATA: UTKinect-Action3D test skipped")
    return data_root


def test_utkinect_counts_and_cross_subject(data_root):
    root = _utkinect_root(data_root)
    utk = D.load_utkinect(root)
    assert (len(utk), len({r.label for r in utk}), len({r.subject for r in utk})) == (199, 10, 10)
    assert [a for _, a in sorted({(r.label, r.action) for r in utk})] == D.UTKINECT_ACTIONS
    assert all(r.layout == "kinect20_sdk" and r.dataset == "utkinect" and r.joints.shape[1:] == (20, 3) for r in utk)
    assert min(r.num_frames for r in utk) == 5 and not utk.skipped
    tr, te = D.utkinect_cross_subject(utk)
    assert (len(tr), len(te)) == (100, 99)
    assert {r.subject for r in tr} == {1, 3, 5, 7, 9} and {r.subject for r in te} == {2, 4, 6, 8, 10}
    listed = {s: set((root/f"utkinect/full_cross_{s}.txt").read_text().split()) for s in ("tr", "te")}
    assert {r.source.split(":")[1] for r in tr} == listed["tr"]
    assert listed["te"] - {r.source.split(":")[1] for r in te} == {"a05_s10_e02"}          # the one empty cell


def test_utkinect_missing_and_malformed(tmp_path, monkeypatch):
    monkeypatch.delenv("PRISM_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="UTKinect-Action3D folder not found") as e: D.load_utkinect(tmp_path)
    assert str(tmp_path) in str(e.value) and "PRISM_DATA" in str(e.value) and "harskel" in str(e.value)
    (tmp_path/"utkinect").mkdir()
    with pytest.raises(FileNotFoundError, match="UTKinect-Action3D skeletons not found") as e: D.load_utkinect(tmp_path)
    assert str(tmp_path/"utkinect/UTKinect_Skeletons.mat") in str(e.value)
    f = tmp_path/"utkinect/UTKinect_Skeletons.mat"
    cells = np.empty((10, 2, 2), dtype=object)
    for i in np.ndindex(cells.shape): cells[i] = np.ones((3, 20, 4))
    cells[0, 1, 0] = np.ones((3, 20, 1))          # too short
    cells[2, 0, 1] = np.ones((3, 15, 4))          # wrong joint count
    cells[4, 1, 1] = np.zeros((3, 20, 0))         # empty: a take the dataset does not have
    sio.savemat(f, {"data": cells})
    with pytest.raises(ValueError, match=r"a01_s02_e01: 1 frame\(s\), but a clip needs at least MIN_CLIP_FRAMES = 2"): D.load_utkinect(tmp_path)
    with pytest.warns(UserWarning, match="skipped 2 bad file"):
        recs = D.load_utkinect(tmp_path, on_error="skip")
    assert len(recs) == 40 - 3 and [n for n, _ in recs.skipped] == ["UTKinect_Skeletons.mat:a01_s02_e01", "UTKinect_Skeletons.mat:a03_s01_e02"]
    sio.savemat(f, {"skel": cells})
    with pytest.raises(ValueError, match="no variable 'data'"): D.load_utkinect(tmp_path)
    sio.savemat(f, {"data": cells[:5]})
    with pytest.raises(ValueError, match="data must be a 10 x subjects x episodes cell array"): D.load_utkinect(tmp_path)
