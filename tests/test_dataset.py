"PRISMDataset: shapes, resampling, augmentation, seeding, bad input (UTD-MHAD and MSR Action3D subsets)."
import os
from pathlib import Path
import numpy as np
import pytest
import torch
from prism.data import PRISMDataset, Augment, SkeletonRecord, resample, resample_times
from prism.kinematics import num_channels
from prism.skeleton import get_layout


@pytest.fixture(scope='module')
def root() -> Path:
    r = os.environ.get('PRISM_DATA')
    if not r or not Path(r).is_dir(): pytest.skip('PRISM_DATA is not set or not a folder: real-data test skipped')
    return Path(r)


@pytest.fixture(scope='module')
def utd(root):
    from prism.data import read_utd_mhad_file, load_utd_mhad
    return [r for r in load_utd_mhad(root) if r.subject in (1, 2) and r.trial == 1]   # 54 sequences


@pytest.fixture(scope='module')
def msr(root):
    from prism.data import load_msr_action3d
    return [r for r in load_msr_action3d(root) if r.subject in (1, 2)]


@pytest.mark.parametrize('spec', ['pos', 'pos+vel', 'pos+bone+vel', 'pos+vel+acc+bone+angle'])
@pytest.mark.parametrize('layout', ['prism15', None])
@pytest.mark.parametrize('train', [False, True])
def test_item_shape_and_finite(utd, spec, layout, train):
    ds = PRISMDataset(utd, sequence_length=24, layout=layout, channels=spec, train=train)
    V = 15 if layout else 20
    for i in (0, len(ds) // 2, len(ds) - 1):
        x, y = ds[i]
        assert x.shape == (num_channels(spec), 24, V) and x.dtype == torch.float32 and torch.isfinite(x).all()
        assert y == utd[i].label
    assert ds.shape == (num_channels(spec), 24, V) and ds.in_channels == num_channels(spec)


def test_use_kinematics_false_is_positions(utd):
    ds = PRISMDataset(utd, use_kinematics=False, channels='pos+vel')
    assert ds.spec == 'pos' and ds[0][0].shape == (3, 30, 15)


def test_msr_short_and_long_clips(msr):
    ds = PRISMDataset(msr, channels='pos+vel', sequence_length=30)
    T = [r.num_frames for r in msr]
    for i in (int(np.argmin(T)), int(np.argmax(T))):
        x, _ = ds[i]
        assert x.shape == (6, 30, 15) and torch.isfinite(x).all()
        pos = x[:3]
        assert (pos.abs().sum((0, 2)) > 0).all()        # no zero-padded frames


def test_eval_is_deterministic_train_is_seeded(msr):
    ev = PRISMDataset(msr, train=False)
    assert torch.equal(ev[3][0], ev[3][0])
    a = PRISMDataset(msr, train=True, seed=7)
    b = PRISMDataset(msr, train=True, seed=7)
    c = PRISMDataset(msr, train=True, seed=8)
    assert torch.equal(a[3][0], b[3][0]) and not torch.equal(a[3][0], c[3][0])
    x0 = a[3][0]; a.set_epoch(2)
    assert not torch.equal(x0, a[3][0])
    # the same draws whatever the order items are read in (safe with DataLoader workers)
    b.set_epoch(2); _ = [b[i] for i in range(5, 0, -1)]
    assert torch.equal(a[3][0], b[3][0])


def test_augment_off_when_not_training(utd):
    ds = PRISMDataset(utd, train=False, augment=Augment(rotate_deg=90))
    assert ds.augment is None
    np.testing.assert_allclose(ds.clip(0)[0], ds.clips[0][0], atol=1e-6)


def test_augmentation_keeps_geometry(utd):
    ds = PRISMDataset(utd, train=True, augment=Augment(jitter=0.0, scale=(1.0, 1.0), crop=(1.0, 1.0)), seed=1)
    ev = PRISMDataset(utd)
    lay = get_layout('prism15')
    bone = lambda x: np.linalg.norm(x - x[:, np.maximum(lay.parents, 0)], axis=-1)
    xa, xe = ds.clip(4), ev.clip(4)
    # jittered sampling moves the frames, but the bone lengths stay those of the same body (rotation only)
    assert abs(np.median(bone(xa)) - np.median(bone(xe))) < 0.02
    assert abs(np.median(xa[..., 1]) - np.median(xe[..., 1])) < 0.05


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
    ds = PRISMDataset(tmp_path/'mine', channels='pos+bone')
    assert len(ds) == 4 and ds[0][0].shape == (6, 30, 15)


def test_root_with_dataset(root):
    ds = PRISMDataset(root, dataset='msr_action3d', channels='pos')
    assert len(ds) == 557 and ds[0][0].shape == (3, 30, 15)


def _rec(joints, layout='kinect20_utd', source='x.mat', dataset='demo'):
    return SkeletonRecord(joints, 0, 'a', 1, 1, layout, source, dataset)


@pytest.mark.parametrize('make,msg', [
    (lambda u, m: PRISMDataset([]), 'no records'),
    (lambda u, m: PRISMDataset([1, 2]), 'expected SkeletonRecord items, got int'),
    (lambda u, m: PRISMDataset(u[:2] + m[:2], layout=None), 'several layouts'),
    (lambda u, m: PRISMDataset(u[:2] + m[:2]), 'several datasets'),
    (lambda u, m: PRISMDataset(u[:2], channels='pos+jerk'), "unknown channel 'jerk'"),
    (lambda u, m: PRISMDataset(u[:2], layout='smpl24'), "unknown layout 'smpl24'"),
    (lambda u, m: PRISMDataset(u[:2], sequence_length=0), 'sequence_length must be >= 2'),
    (lambda u, m: PRISMDataset([_rec(u[0].joints[:1], source='one.mat')]), 'one.mat: 1 frame(s)'),
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
