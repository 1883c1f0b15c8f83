"prism.clip: the one record -> input path, its resampler and augmentation, PRISMDataset (UTD-MHAD and MSR Action3D subsets)."
import os
from pathlib import Path
import numpy as np
import pytest
import torch
from prism.clip import (ClipSpec, DEFAULT_CLIP, Augment, PRISMDataset, clip_tensor, clip_arrays, clip_positions, positions_tensor,
                        resample, resample_times)
from prism.data import SkeletonRecord
from prism.kinematics import num_channels
from prism.skeleton import get_layout


@pytest.fixture(scope='module')
def root() -> Path:
    r = os.environ.get('PRISM_DATA')
    if not r or not Path(r).is_dir(): pytest.skip('PRISM_DATA is not set or not a folder: real-data test skipped')
    return Path(r)


@pytest.fixture(scope='module')
def utd(root):
    from prism.data import load_utd_mhad
    return [r for r in load_utd_mhad(root) if r.subject in (1, 2) and r.trial == 1]   # 54 sequences


@pytest.fixture(scope='module')
def msr(root):
    from prism.data import load_msr_action3d
    return [r for r in load_msr_action3d(root) if r.subject in (1, 2)]


@pytest.mark.parametrize('spec', ['pos', 'pos+vel', 'pos+bone+vel', 'pos+vel+acc+bone+angle'])
@pytest.mark.parametrize('layout', ['prism15', 'kinect20_utd'])
@pytest.mark.parametrize('train', [False, True])
def test_item_shape_and_finite(utd, spec, layout, train):
    ds = PRISMDataset(utd, ClipSpec(layout, spec, 24), train=train)
    V = 15 if layout == 'prism15' else 20
    for i in (0, len(ds) // 2, len(ds) - 1):
        x, y = ds[i]
        assert x.shape == (num_channels(spec), 24, V) and x.dtype == torch.float32 and torch.isfinite(x).all()
        assert y == utd[i].label
    assert ds.shape == (num_channels(spec), 24, V) and ds.in_channels == num_channels(spec)


def test_one_path_everywhere(utd):
    "An evaluation item, a clip_tensor and a row of clip_arrays are the same array."
    ds = PRISMDataset(utd[:5])
    X, y = clip_arrays(utd[:5])
    for i in range(5):
        assert np.array_equal(ds[i][0].numpy(), clip_tensor(utd[i])) and np.array_equal(X[i], clip_tensor(utd[i]))
    assert np.array_equal(positions_tensor(clip_positions(utd[0])), X[0]) and list(y) == [r.label for r in utd[:5]]


def test_clip_tensor_on_real_utd(utd):
    x = clip_tensor(utd[0])
    assert x.shape == DEFAULT_CLIP.shape == (9, 32, 15) and x.dtype == np.float32 and np.isfinite(x).all()
    assert clip_tensor(utd[0], ClipSpec("kinect20_utd", "pos", 20)).shape == (3, 20, 20)


def test_msr_short_and_long_clips(msr):
    ds = PRISMDataset(msr, ClipSpec(channels='pos+vel', frames=30))
    T = [r.num_frames for r in msr]
    for i in (int(np.argmin(T)), int(np.argmax(T))):
        x, _ = ds[i]
        assert x.shape == (6, 30, 15) and torch.isfinite(x).all()
        assert (x[:3].abs().sum((0, 2)) > 0).all()        # no zero-padded frames


def test_eval_is_deterministic_train_is_seeded(msr):
    ev = PRISMDataset(msr, train=False)
    assert torch.equal(ev[3][0], ev[3][0])
    a, b, c = PRISMDataset(msr, train=True, seed=7), PRISMDataset(msr, train=True, seed=7), PRISMDataset(msr, train=True, seed=8)
    assert torch.equal(a[3][0], b[3][0]) and not torch.equal(a[3][0], c[3][0])
    x0 = a[3][0]; a.set_epoch(2)
    assert not torch.equal(x0, a[3][0])
    b.set_epoch(2); _ = [b[i] for i in range(5, 0, -1)]   # the same draws whatever the order items are read in
    assert torch.equal(a[3][0], b[3][0])


def test_augment_off_when_not_training(utd):
    ds = PRISMDataset(utd, train=False, augment=Augment(rotate_deg=90))
    assert ds.augment is None
    np.testing.assert_allclose(ds.clip(0)[0], ds.clips[0][0], atol=1e-6)


def test_augmentation_keeps_geometry(utd):
    ds = PRISMDataset(utd, train=True, augment=Augment(scale=0.0, shift=0, crop=(1.0, 1.0)), seed=1)
    ev = PRISMDataset(utd)
    lay = get_layout('prism15')
    bone = lambda x: np.linalg.norm(x - x[:, np.maximum(lay.parents, 0)], axis=-1)
    xa, xe = ds.clip(4), ev.clip(4)
    assert abs(np.median(bone(xa)) - np.median(bone(xe))) < 0.02   # jittered sampling moves frames; the body's bones stay
    assert abs(np.median(xa[..., 1]) - np.median(xe[..., 1])) < 0.05


def test_augment_one_law_for_clips_and_batches():
    x = np.random.default_rng(0).normal(size=(12, 15, 3))
    b = torch.from_numpy(x.transpose(2, 0, 1))[None]
    a = Augment(jitter=0.01)
    np.testing.assert_allclose(a(b, torch.Generator().manual_seed(4))[0].numpy().transpose(1, 2, 0), a(x, torch.Generator().manual_seed(4)))
    y = Augment(rotate_deg=40, scale=0.0, shift=0)(torch.randn(4, 9, 8, 15), torch.Generator().manual_seed(1))
    assert y.shape == (4, 9, 8, 15)
    assert Augment()(torch.zeros(0, 9, 8, 15)).shape == (0, 9, 8, 15)
    with pytest.raises(ValueError, match="needs 9 channels"): Augment()(torch.zeros(2, 6, 8, 15), vector_groups=3)
    assert Augment().settings() == {"class": "Augment", "rotate_deg": 20.0, "scale": 0.15, "shift": 2, "jitter": 0.0, "crop": (0.8, 1.0)}


def test_mirror_swaps_sides_in_every_channel_and_draws_last(msr):
    from prism.clip import augment_for
    from prism.kinematics import compute_channels
    from prism.skeleton import mirror_index
    spec = ClipSpec(channels="pos+vel+bone+bvel")
    x = clip_positions(msr[0], spec.layout)[:20]
    always = augment_for(spec, Augment(rotate_deg=0.0, scale=0.0, shift=0, mirror=1.0))
    assert always.swap == mirror_index("prism15")
    xm = always(x, torch.Generator().manual_seed(0))
    chans = lambda p: torch.from_numpy(compute_channels(p, spec.layout, spec.channels).transpose(2, 0, 1).copy())[None]
    np.testing.assert_allclose(always(chans(x), torch.Generator().manual_seed(0))[0], chans(xm)[0], atol=1e-5)   # 4 vector groups
    np.testing.assert_allclose(always(xm, torch.Generator().manual_seed(0)), x, atol=1e-12)                   # twice: itself
    half = augment_for(spec, Augment(mirror=0.5))
    b = torch.randn(64, 12, 8, 15)
    plain = Augment()(b, torch.Generator().manual_seed(2))
    mixed = half(b, torch.Generator().manual_seed(2))
    same = (mixed == plain).flatten(1).all(1)
    assert 10 < int(same.sum()) < 54                      # about half mirrored, the others drawn exactly as without mirror
    assert augment_for(spec, Augment()) == Augment() and augment_for(spec, Augment()).swap is None
    with pytest.raises(ValueError, match="augment_for"): Augment(mirror=1.0)(b)
    with pytest.raises(ValueError, match="probability"): Augment(mirror=1.5)
    with pytest.raises(ValueError, match="permutation"): Augment(mirror=0.5, swap=(0, 0, 1))


def test_resample_times_contract():
    assert np.allclose(resample_times(5, 9), np.linspace(0, 4, 9))
    rng = np.random.default_rng(0)
    for T in (2, 3, 13, 100, 900):
        t = resample_times(T, 30, rng)
        assert t.shape == (30,) and (np.diff(t) > 0).all() and t[0] >= 0 and t[-1] <= T - 1 + 1e-9
    x = np.arange(4, dtype=np.float32).reshape(4, 1, 1)
    np.testing.assert_allclose(resample(x, np.array([0., 0.5, 3.]))[:, 0, 0], [0, 0.5, 3])
    with pytest.raises(ValueError, match='crop must satisfy'): resample_times(10, 5, rng, crop=(0.5, 1.5))


def test_generic_folder_root(utd, tmp_path):
    from prism.data import save_generic
    save_generic(utd[:4], tmp_path/'mine', name='mine')
    ds = PRISMDataset(tmp_path/'mine', ClipSpec(channels='pos+bone'))
    assert len(ds) == 4 and ds[0][0].shape == (6, 32, 15)


def test_root_with_dataset(root):
    ds = PRISMDataset(root, ClipSpec(channels='pos'), dataset='msr_action3d')
    assert len(ds) == 557 and ds[0][0].shape == (3, 32, 15)


def _rec(joints, layout='kinect20_utd', source='x.mat', dataset='demo'):
    return SkeletonRecord(joints, 0, 'a', 1, 1, layout, source, dataset)


@pytest.mark.parametrize('make,msg', [
    (lambda u, m: PRISMDataset([]), 'no records'),
    (lambda u, m: PRISMDataset([1, 2]), 'expected SkeletonRecord items, got int'),
    (lambda u, m: PRISMDataset(u[:2] + m[:2]), 'several datasets'),
    (lambda u, m: PRISMDataset(u[:2], ClipSpec(channels='pos+jerk')), "unknown channel 'jerk'"),
    (lambda u, m: PRISMDataset(u[:2], ClipSpec(layout='smpl24')), "unknown layout 'smpl24'"),
    (lambda u, m: PRISMDataset(u[:2], ClipSpec(frames=0)), 'frames must be an integer >= 2'),
    (lambda u, m: PRISMDataset([_rec(u[0].joints[:1], source='one.mat')]), 'one.mat: 1 frame(s)'),
    (lambda u, m: clip_tensor(_rec(u[0].joints[:1], source='one.mat')), 'one.mat: 1 frame(s)'),
    (lambda u, m: PRISMDataset([_rec(np.full((5, 20, 3), np.nan, np.float32), source='empty.mat')]), 'empty.mat: cannot normalise'),
    (lambda u, m: PRISMDataset([_rec(np.where(np.arange(20)[None, :, None] == 0, np.nan, u[0].joints).astype(np.float32),
                                     source='nohead.mat')]), "nohead.mat: joints ['head']"),
    (lambda u, m: PRISMDataset(os.environ['PRISM_DATA']), 'say which dataset to load'),
    (lambda u, m: PRISMDataset(os.environ['PRISM_DATA'], dataset='ntu'), "got 'ntu'"),
])
def test_bad_input(utd, msr, make, msg):
    with pytest.raises((ValueError, TypeError)) as e: make(utd, msr)
    assert msg in str(e.value), str(e.value)


def test_index_out_of_range(utd):
    ds = PRISMDataset(utd[:3])
    with pytest.raises(IndexError, match='out of range'): ds[3]
    assert torch.equal(ds[-1][0], ds[2][0])


def _turned(rec:SkeletonRecord, degrees:float) -> SkeletonRecord:
    "The record as a camera turned about its vertical (y) axis would have recorded it."
    from dataclasses import replace
    th = np.radians(degrees); R = np.array([[np.cos(th), 0, np.sin(th)], [0, 1, 0], [-np.sin(th), 0, np.cos(th)]])
    return replace(rec, joints=rec.joints @ R.T)


@pytest.mark.parametrize('degrees', [30., 90., -150.])
def test_body_view_undoes_a_camera_turn(utd, msr, degrees):
    "In the body's frame a camera turned about the vertical axis changes no input (UTD-MHAD and MSR Action3D); as the camera saw it, it does."
    from prism.clip import turn_view
    body = ClipSpec(view='body')
    for rec in utd[:4] + msr[:4]:
        assert get_layout(rec.layout).up == (0, 1, 0)
        np.testing.assert_allclose(clip_tensor(_turned(rec, degrees), body), clip_tensor(rec, body), atol=1e-4)
        assert not np.allclose(clip_tensor(_turned(rec, degrees)), clip_tensor(rec), atol=1e-3)
    ds = PRISMDataset(utd[:3], body)   # the dataset path is the same path
    X = np.stack([ds[i][0].numpy() for i in range(3)])
    assert np.array_equal(X, clip_arrays(utd[:3], body)[0]) and np.array_equal(turn_view(X, degrees, body), X)


def test_clip_spec_as_flat_keys():
    "Run files and cards state a spec as flat keys; files made before depth and views read as depth True, view 'camera'."
    from prism.clip import clip_of
    for c in (DEFAULT_CLIP, ClipSpec('kinect20_utd', 'pos+vel', 40, False), ClipSpec(view='body')):
        assert clip_of(c.card()) == c
    assert 'view' not in DEFAULT_CLIP.card() and 'view' not in DEFAULT_CLIP.settings()
    assert clip_of({'layout': 'prism15', 'spec': 'pos', 'frames': 32}) == ClipSpec(channels='pos')
    with pytest.raises(ValueError, match='needs depth'): ClipSpec(depth=False, view='body')
