"Layouts, mappings and graphs of prism.skeleton: structure, bad input, real-data orientation."
import os
from pathlib import Path
import numpy as np
import pytest
import torch
from prism.skeleton import (LAYOUTS, Layout, get_layout, make_layout, check_sequence, joint_groups, to_common,
                            edge_index, graph_summary, get_adjacency, hop_distance, orient_up, up_rotation, schematic_xy)

NAMES = ['mediapipe33', 'kinect20_utd', 'kinect20_msr', 'prism15']


def data_root() -> Path:
    root = os.environ.get('PRISM_DATA')
    if not root or not Path(root).is_dir(): pytest.skip('PRISM_DATA is not set or not a folder: real-data test skipped')
    return Path(root)


@pytest.mark.parametrize('name', NAMES)
def test_layout_is_one_tree(name):
    lay = get_layout(name)
    assert lay.name == name and len(lay.edges) == lay.num_joints - 1
    assert (lay.parents < 0).sum() == 1 and lay.parents[lay.center] == -1
    assert len(set(lay.joints)) == lay.num_joints
    assert all(j == j.lower() and ' ' not in j for j in lay.joints)


@pytest.mark.parametrize('name', NAMES)
def test_graph_connected_no_isolated(name):
    s = graph_summary(name)
    assert s['components'] == 1 and not s['has_isolated'] and s['isolated'] == []
    ei = edge_index(name)
    assert ei.dtype == torch.long and ei.shape == (2, 2 * (s['nodes'] - 1))
    assert set(ei.flatten().tolist()) == set(range(s['nodes']))
    d = hop_distance(name)
    assert np.isfinite(d).all() and (d == d.T).all()


def test_edge_index_options():
    directed = edge_index('prism15', undirected=False)
    lay = get_layout('prism15')
    assert sorted(map(tuple, directed.t().tolist())) == sorted(lay.edges)
    loops = edge_index('prism15', self_loops=True)
    assert loops.shape[1] == 2 * 14 + 15 and (loops[0] == loops[1]).sum() == 15


@pytest.mark.parametrize('name', NAMES)
@pytest.mark.parametrize('strategy,K', [('uniform', 1), ('distance', 2), ('spatial', 3)])
def test_adjacency_shapes_and_normalisation(name, strategy, K):
    A = get_adjacency(name, strategy)
    V = get_layout(name).num_joints
    assert A.shape == (K, V, V) and A.dtype == np.float32
    np.testing.assert_allclose(A.sum((0, 1)), 1.0, atol=1e-6)
    assert (A >= 0).all()
    # only bones and self-loops carry weight
    hop = hop_distance(name)
    assert (A.sum(0)[hop > 1] == 0).all() and (A.sum(0)[hop <= 1] > 0).all()


def test_spatial_partition_direction():
    lay = get_layout('kinect20_utd')
    A = get_adjacency(lay, 'spatial')
    sc, el, sh = lay.index('shoulder_center'), lay.index('right_elbow'), lay.index('right_shoulder')
    assert A[1, sc, sh] > 0 and A[2, sc, sh] == 0      # the centre side feeds the shoulder centripetally
    assert A[2, el, sh] > 0 and A[1, el, sh] == 0      # the elbow feeds it centrifugally
    assert np.allclose(np.diag(A[0]), A[0].sum(0))     # partition 0 is the self-loop only
    assert get_adjacency(lay, 'spatial', max_hop=2).shape == (5, 20, 20)
    assert get_adjacency(lay, 'distance', max_hop=3).shape == (4, 20, 20)


@pytest.mark.parametrize('bad,msg', [
    (lambda: get_layout('coco17'), "unknown layout 'coco17'"),
    (lambda: get_layout(None), 'unknown layout None'),
    (lambda: get_adjacency('prism15', 'random'), "unknown adjacency strategy 'random'"),
    (lambda: get_adjacency('prism15', max_hop=0), 'max_hop must be >= 1'),
    (lambda: get_layout('prism15').index('tail'), "no joint 'tail'"),
    (lambda: check_sequence(np.zeros((3, 20, 3)), 'mediapipe33'), 'has 33 joints, got 20'),
    (lambda: check_sequence(np.zeros((0, 15, 3)), 'prism15'), 'at least 1 frame(s), got 0'),
    (lambda: check_sequence(np.zeros((15, 3)), 'prism15'), 'expected (T, V, C)'),
    (lambda: to_common(np.zeros((3, 33, 3)), 'kinect20_utd'), 'has 20 joints'),
    (lambda: to_common(np.zeros((3, 20, 3)), 'kinect20_utd', 'mediapipe33'), 'cannot give joints'),
    (lambda: make_layout('x', ['a', 'b'], [('a', 'c')], 'a'), "unknown joints ['c']"),
    (lambda: Layout('x', ['a', 'b', 'c'], [(0, 1), (1, 0)], 0), 'one tree'),
    (lambda: Layout('x', ['a', 'b', 'c'], [(0, 1), (0, 5)], 0), 'outside 0..2'),
    (lambda: Layout('x', ['a', 'b'], [(0, 1)], 4), 'center 4 outside'),
    (lambda: Layout('x', ['a', 'b', 'c', 'd'], [(0, 1), (0, 2), (1, 2)], 0), 'more than one parent'),
    (lambda: orient_up(np.zeros((3, 33, 2)), 'mediapipe33'), 'need 3 coordinates'),
    (lambda: plot_bad_xy(), "has 15 joints, got 4"),
])
def test_bad_input_messages(bad, msg):
    with pytest.raises(ValueError, match=None) as e: bad()
    assert msg in str(e.value), str(e.value)


def plot_bad_xy():
    import matplotlib; matplotlib.use('Agg')
    from prism.skeleton import plot_layout
    plot_layout('prism15', np.zeros((4, 2)))


def test_user_layout_maps_by_name():
    "A user-defined layout following PRISM's names maps to prism15 with no new code."
    joints = ['pelvis', 'neck', 'head', 'left_shoulder', 'left_elbow', 'left_wrist', 'right_shoulder', 'right_elbow', 'right_wrist',
              'left_hip', 'left_knee', 'left_ankle', 'right_hip', 'right_knee', 'right_ankle']
    bones = [('pelvis', 'neck'), ('neck', 'head')] + [b for s in ('left', 'right') for b in [
        ('neck', f'{s}_shoulder'), (f'{s}_shoulder', f'{s}_elbow'), (f'{s}_elbow', f'{s}_wrist'),
        ('pelvis', f'{s}_hip'), (f'{s}_hip', f'{s}_knee'), (f'{s}_knee', f'{s}_ankle')]]
    lay = make_layout('mine', joints, bones, 'pelvis')
    x = np.random.default_rng(0).normal(size=(4, 15, 3)).astype(np.float32)
    y = to_common(x, lay)
    p = get_layout('prism15')
    np.testing.assert_allclose(y[:, p.index('hip_center')], (x[:, 9] + x[:, 12]) / 2, atol=1e-6)   # hip midpoint
    np.testing.assert_allclose(y[:, p.index('left_wrist')], x[:, 5])
    assert get_adjacency(lay).shape == (3, 15, 15)


@pytest.mark.parametrize('src', ['mediapipe33', 'kinect20_utd', 'kinect20_msr'])
def test_to_common_keeps_sides_and_batches(src):
    s, p = get_layout(src), get_layout('prism15')
    x = np.random.default_rng(1).normal(size=(2, 5, s.num_joints, 4)).astype(np.float32)   # batch axis and 4 channels
    y = to_common(x, s)
    assert y.shape == (2, 5, 15, 4) and y.dtype == np.float32
    for j in p.joints:
        if j.startswith(('left_', 'right_')): np.testing.assert_array_equal(y[..., p.index(j), :], x[..., s.index(j), :])


def test_to_common_nan_groups():
    x = np.random.default_rng(2).normal(size=(3, 33, 3)).astype(np.float32)
    x[:, :11] = np.nan                                   # the whole face is missing
    y = to_common(x, 'mediapipe33')
    assert np.isnan(y[:, get_layout('prism15').index('head')]).all()
    assert np.isfinite(np.delete(y, get_layout('prism15').index('head'), axis=1)).all()


def test_up_rotation_is_proper():
    for up in [(0, 1, 0), (0, -1, 0), (1, 0, 0), (0, 0, -1), (0.3, 0.9, 0.1)]:
        R = up_rotation(up)
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
        np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-9)
        np.testing.assert_allclose(R @ (np.array(up) / np.linalg.norm(up)), [0, 1, 0], atol=1e-9)


def test_schematic_covers_every_layout():
    for n in NAMES: assert schematic_xy(n).shape == (get_layout(n).num_joints, 2)


def test_real_msr_order_and_sides():
    "The cited MSR Action3D order holds on the data: head on top, same handedness as UTD-MHAD."
    root = data_root()
    lm, lu = get_layout('kinect20_msr'), get_layout('kinect20_utd')
    files = sorted((root/'msr_action3d/MSRAction3DSkeletonReal3D').glob('a0[1-6]_s0[1-3]_e01_skeleton3D.txt'))
    assert files, 'no MSR files found'
    sides = []
    for f in files:
        m = np.loadtxt(f, dtype=np.float32).reshape(-1, 20, 4)[..., :3]
        head_above = (m[:, lm.index('head'), 1] > m[:, lm.index('shoulder_center'), 1]).mean()
        assert head_above > 0.95, f.name
        sides.append(m[:, lm.index('left_hip'), 0] < m[:, lm.index('right_hip'), 0])
        assert sides[-1].mean() > 0.8, f.name        # Kinect v1 swaps sides in a few glitched frames
        c = to_common(m, lm)
        assert c.shape == (len(m), 15, 3) and np.isfinite(c).all()
    assert np.concatenate(sides).mean() > 0.95
    import scipy.io
    u = scipy.io.loadmat(root/'utd_mhad/Skeleton/a1_s1_t1_skeleton.mat')['d_skel'].transpose(2, 0, 1)
    assert (u[:, lu.index('left_hip'), 0] < u[:, lu.index('right_hip'), 0]).mean() > 0.9
