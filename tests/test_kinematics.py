"Kinematic channels: spec contract, finite differences at edges and gaps, bad input, real-data sanity."
import os
from pathlib import Path
import numpy as np
import pytest
from prism.skeleton import get_layout, LAYOUTS
from prism.kinematics import (CHANNEL_WIDTHS, parse_channels, num_channels, channel_slices, compute_channels,
                              time_diff, bone_vectors, joint_angles, angle_triplets, frame_size, bone_lengths,
                              canonical_bone_lengths, normalize_bone_lengths)

SPECS = ['pos', 'vel', 'acc', 'bone', 'angle', 'bvel', 'pos+vel', 'pos+bone', 'pos+bone+vel', 'pos+vel+acc+bone+angle', 'pos+vel+bone+bvel']


def data_root() -> Path:
    root = os.environ.get('PRISM_DATA')
    if not root or not Path(root).is_dir(): pytest.skip('PRISM_DATA is not set or not a folder: real-data test skipped')
    return Path(root)


@pytest.mark.parametrize('layout', list(LAYOUTS))
@pytest.mark.parametrize('spec', SPECS)
def test_shapes_follow_spec(layout, spec):
    V = get_layout(layout).num_joints
    x = np.random.default_rng(0).normal(size=(7, V, 3)).astype(np.float32)
    c = compute_channels(x, layout, spec)
    assert c.shape == (7, V, num_channels(spec)) and c.dtype == np.float32 and np.isfinite(c).all()
    assert sum(s.stop - s.start for s in channel_slices(spec).values()) == num_channels(spec)


def test_spec_order_is_respected():
    x = np.random.default_rng(1).normal(size=(6, 15, 3)).astype(np.float32)
    a = compute_channels(x, 'prism15', 'pos+vel')
    b = compute_channels(x, 'prism15', 'vel+pos')
    np.testing.assert_array_equal(a[..., :3], b[..., 3:]); np.testing.assert_array_equal(a[..., 3:], b[..., :3])
    assert parse_channels(['pos', 'angle']) == ['pos', 'angle'] and num_channels(['pos', 'angle']) == 4


def test_extra_columns_are_ignored():
    x = np.random.default_rng(2).normal(size=(6, 33, 4)).astype(np.float32)   # MediaPipe x, y, z, visibility
    np.testing.assert_array_equal(compute_channels(x, 'mediapipe33', 'pos'), x[..., :3])


def test_velocity_of_linear_motion_and_rest():
    t = np.arange(8, dtype=np.float32)[:, None, None]
    x = np.zeros((8, 15, 3), np.float32) + t * np.array([0.1, 0, -0.2], np.float32)
    v = compute_channels(x, 'prism15', 'vel')
    np.testing.assert_allclose(v, np.broadcast_to([0.1, 0, -0.2], v.shape), atol=1e-6)   # edges too
    np.testing.assert_allclose(compute_channels(x, 'prism15', 'acc'), 0, atol=1e-6)
    still = np.repeat(x[:1], 5, axis=0)
    assert np.abs(compute_channels(still, 'prism15', 'vel+acc')).max() == 0


def test_time_diff_gaps():
    x = np.array([0., 1., np.nan, np.nan, 4., 5.])
    d = time_diff(x)
    np.testing.assert_allclose(d[[0, 1, 4, 5]], [1, 1, 1, 1])
    assert np.isnan(d[2:4]).all()
    iso = np.array([np.nan, 3., np.nan])                 # a frame with no finite neighbour
    assert np.isnan(time_diff(iso)).all()


def test_missing_joint_frames_filled_or_kept():
    x = np.random.default_rng(3).normal(size=(9, 20, 3)).astype(np.float32)
    x[2:4, 5] = np.nan
    kept = compute_channels(x, 'kinect20_utd', 'pos+vel+bone', fill=None)
    assert np.isnan(kept[2:4, 5]).all() and np.isfinite(kept[:, :5]).all()
    filled = compute_channels(x, 'kinect20_utd', 'pos+vel+bone', fill=0.0)
    assert np.isfinite(filled).all() and (filled[2:4, 5] == 0).all()
    # a child of the missing joint gets no bone in those frames
    lay = get_layout('kinect20_utd')
    child = lay.children[5][0]
    assert np.isnan(kept[2:4, child, 6:9]).all()


def test_vector_channels_turn_with_the_positions():
    # the training augmentation turns and scales every 3-wide channel of a batch (prism.clip.Augment): that is the same as
    # turning the positions first only if each such channel is linear in the positions; bone motion included
    x = np.random.default_rng(5).normal(size=(9, 15, 3))
    th = 0.7; R = 1.1 * np.array([[np.cos(th), 0, np.sin(th)], [0, 1, 0], [-np.sin(th), 0, np.cos(th)]])
    for ch in ('pos', 'vel', 'acc', 'bone', 'bvel'):
        np.testing.assert_allclose(compute_channels(x @ R.T, 'prism15', ch), compute_channels(x, 'prism15', ch) @ R.T.astype(np.float32), atol=1e-5)


def test_bone_motion_is_the_bones_of_the_velocities():
    x = np.random.default_rng(6).normal(size=(8, 20, 3))
    np.testing.assert_allclose(compute_channels(x, 'kinect20_utd', 'bvel'), bone_vectors(time_diff(x), 'kinect20_utd'), atol=1e-5)
    x[3, 7] = np.nan                                     # a missing joint: its bone and that bone's motion are missing there
    kept = compute_channels(x, 'kinect20_utd', 'bvel', fill=None)
    assert np.isnan(kept[3, 7]).all() and np.isfinite(kept[:, 0]).all()


def test_bones_and_angles_invariant_to_translation():
    x = np.random.default_rng(4).normal(size=(5, 20, 3))
    y = x + np.array([3., -2., 10.])
    np.testing.assert_allclose(bone_vectors(x, 'kinect20_msr'), bone_vectors(y, 'kinect20_msr'), atol=1e-9)
    np.testing.assert_allclose(joint_angles(x, 'kinect20_msr'), joint_angles(y, 'kinect20_msr'), atol=1e-7)


def test_angles_defined_where_parent_and_child():
    for name, lay in LAYOUTS.items():
        tr = angle_triplets(lay)
        has = tr[:, 0] >= 0
        expect = np.array([lay.parents[v] >= 0 and len(lay.children[v]) > 0 for v in range(lay.num_joints)])
        np.testing.assert_array_equal(has, expect)
        x = np.random.default_rng(5).normal(size=(3, lay.num_joints, 3)).astype(np.float32)
        a = compute_channels(x, lay, 'angle')[..., 0]
        assert (a[:, ~has] == 0).all() and (a[:, has] > 0).all() and (a <= np.pi + 1e-6).all()


@pytest.mark.parametrize('call,msg', [
    (lambda x: parse_channels('pos+jerk'), "unknown channel 'jerk'"),
    (lambda x: parse_channels(''), 'empty channel name'),
    (lambda x: parse_channels('vel+vel'), "channel 'vel' repeated"),
    (lambda x: num_channels('position'), "unknown channel 'position'"),
    (lambda x: compute_channels(x, 'mediapipe33'), 'has 33 joints, got 15'),
    (lambda x: compute_channels(x, 'kinect_v2'), "unknown layout 'kinect_v2'"),
    (lambda x: compute_channels(x[:0], 'prism15', 'pos'), 'got 0'),
    (lambda x: compute_channels(x[:1], 'prism15', 'pos+vel'), 'at least 2 frame(s), got 1'),
    (lambda x: compute_channels(x[:2], 'prism15', 'pos+acc'), 'at least 3 frame(s), got 2'),
    (lambda x: compute_channels(x[0], 'prism15'), 'expected (T, V, C)'),
    (lambda x: compute_channels(x[..., :2], 'prism15', 'pos'), 'need 3 coordinates per joint, got 2'),
    (lambda x: compute_channels(np.full_like(x, np.nan), 'prism15'), 'every value is NaN'),
    (lambda x: compute_channels(np.where(np.arange(15)[None, :, None] == 2, np.nan, x), 'prism15'), "['head']"),
    (lambda x: compute_channels(np.where(np.arange(15)[None, :, None] == 2, np.inf, x), 'prism15'), 'contains inf'),
    (lambda x: time_diff(x[:1]), 'at least 2 frames, got 1'),
])
def test_bad_input_messages(call, msg):
    x = np.random.default_rng(6).normal(size=(6, 15, 3)).astype(np.float32)
    with pytest.raises(ValueError) as e: call(x)
    assert msg in str(e.value), str(e.value)


def test_frame_size_counts():
    assert frame_size('mediapipe33', None, values_per_joint=4)['values_per_frame'] == 132
    r = frame_size('prism15', 'pos+bone+vel', frames=30)
    assert r['values_per_frame'] == 135 and r['bytes_per_clip'] == 135 * 30 * 4


def test_real_utd_bone_lengths_and_rest():
    root = data_root()
    import scipy.io
    lay = get_layout('kinect20_utd')
    rel = []
    for a in (1, 5, 9, 13, 17, 21, 25):
        x = scipy.io.loadmat(root/f'utd_mhad/Skeleton/a{a}_s2_t1_skeleton.mat')['d_skel'].transpose(2, 0, 1).astype(np.float32)
        L = np.linalg.norm(compute_channels(x, lay, 'bone'), axis=-1)[:, lay.parents >= 0]
        rel.append(L.std(0) / L.mean(0))
        v = np.linalg.norm(compute_channels(x, lay, 'vel'), axis=-1)
        assert np.median(v[:3]) < 0.003, a          # subjects start at rest (metres per frame)
    assert np.median(np.stack(rel)) < 0.10


# ---- normalisation (moved from prism.pose)
import warnings
from prism.kinematics import GapWarning, fill_gaps, normalize_pose, torso_length

def test_fill_and_normalise_contracts():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 33, 4)).astype(np.float32)
    x[5:25] = np.nan                                        # 20 missing frames > max_gap=15
    with pytest.warns(GapWarning, match="longest run of missing frames is 20 > max_gap=15"):
        n = normalize_pose(x)
    assert np.isfinite(n).all() and n.shape == (30, 33, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        normalize_pose(x, max_gap=20)
    with pytest.raises(ValueError, match="has 33"): normalize_pose(x[:, :20], "mediapipe33")
    with pytest.raises(ValueError, match="has 20"): normalize_pose(x, "kinect20_msr")
    with pytest.raises(ValueError, match="rotate must be"): normalize_pose(x, rotate="yes")
    z = np.zeros((4, 33, 3), np.float32)
    with pytest.raises(ValueError, match="torso length .* undefined"): normalize_pose(z)
    y = fill_gaps(x[..., :3])
    np.testing.assert_allclose(y[5:25], np.broadcast_to(y[4], (20, 33, 3)) + (y[25] - y[4]) * (np.arange(1, 21) / 21)[:, None, None], atol=1e-5)

@pytest.mark.parametrize("layout", ["mediapipe33", "kinect20_utd", "kinect20_msr", "prism15"])
def test_normalise_any_layout(layout):
    from prism.skeleton import get_layout
    V = get_layout(layout).num_joints
    x = np.random.default_rng(1).normal(size=(8, V, 3)).astype(np.float32) * 3 + 7
    n = normalize_pose(x, layout, center="first", rotate=True)
    hip = (n[0, get_layout(layout).index("left_hip")] + n[0, get_layout(layout).index("right_hip")]) / 2
    np.testing.assert_allclose(hip, 0, atol=1e-4)
    np.testing.assert_allclose(np.median(torso_length(n, layout)), 1, atol=1e-4)


def test_bone_normalisation():
    lay = get_layout("kinect20_utd")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 20, 3)).astype(np.float32)
    L = np.abs(rng.normal(size=20)); L[lay.center] = 0
    xb = normalize_bone_lengths(x, lay, L)
    np.testing.assert_allclose(bone_lengths(xb, lay), np.broadcast_to(L, (7, 20)), atol=1e-5)
    np.testing.assert_allclose(xb[:, lay.center], x[:, lay.center])
    # already canonical -> unchanged
    np.testing.assert_allclose(normalize_bone_lengths(x, lay, bone_lengths(x, lay)[0])[0], x[0], atol=1e-5)
    np.testing.assert_allclose(canonical_bone_lengths([x, x], lay), np.median(bone_lengths(x, lay), 0), atol=1e-6)
    with pytest.raises(ValueError, match=r"lengths must have shape \(20,\)"): normalize_bone_lengths(x, lay, L[:3])
    with pytest.raises(ValueError, match="positions must be"): normalize_bone_lengths(x[:, :5], lay, L)
    with pytest.raises(ValueError, match="at least one sequence"): canonical_bone_lengths([], lay)
    np.testing.assert_allclose(bone_lengths(x, lay), np.linalg.norm(bone_vectors(x, lay), axis=-1), atol=1e-6)   # one helper
    xv = np.concatenate([x, np.full_like(x[..., :1], 0.5)], -1)                 # a fourth channel passes through
    np.testing.assert_array_equal(normalize_bone_lengths(xv, lay, L)[..., 3], 0.5)
