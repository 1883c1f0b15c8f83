"Layouts, mappings and graphs of prism.skeleton: structure, bad input, real-data orientation."
import os
from pathlib import Path
import numpy as np
import pytest
import torch
from prism.skeleton import (LAYOUTS, Layout, get_layout, make_layout, check_sequence, joint_groups, to_common,
                            edge_index, graph_summary, get_adjacency, hop_distance, orient_up, up_rotation, schematic_xy,
                            layout_to_dict, layout_from_dict, check_layout, LayoutCheck, LayoutWarning)

NAMES = ['mediapipe33', 'kinect20_utd', 'kinect20_msr', 'kinect20_sdk', 'openni15', 'prism15']


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


# --- layouts as data, new layouts, check_layout ---------------------------------------------------

@pytest.mark.parametrize('name', NAMES)
def test_layout_dict_roundtrip_keeps_everything(name):
    "layout_to_dict -> JSON -> layout_from_dict gives the same layout, up and description included."
    import json
    lay = get_layout(name)
    d = json.loads(json.dumps(layout_to_dict(lay)))
    back = layout_from_dict(d)
    assert back == lay and back.up == lay.up and back.description == lay.description and back.center == lay.center
    assert set(d) == {'name', 'joints', 'edges', 'center', 'up', 'description'}


def test_layout_from_dict_hand_written_and_errors():
    zup = layout_from_dict(dict(name='mocap', joints=['pelvis', 'chest', 'head'], edges=[['pelvis', 'chest'], [1, 2]], up=[0, 0, 1]))
    assert (zup.center, zup.edges, zup.up, zup.description) == (0, [(0, 1), (1, 2)], (0., 0., 1.), '')
    assert 'mocap' not in LAYOUTS
    bad = [({'name': 'm', 'joints': ['a', 'b'], 'edges': [[0, 1]], 'centre': 0}, "f.json: unknown layout key(s) ['centre']"),
           ({'name': 'm', 'joints': ['a', 'b']}, "f.json: layout lacks ['edges']"),
           ({'name': 'm', 'joints': ['a', 'b'], 'edges': [[0, 1]], 'up': 'z'}, "f.json: layout 'm': up must be a non-zero 3-vector"),
           ({'name': 'm', 'joints': ['a', 'b'], 'edges': [[0, 1]], 'up': [0, 0, 0]}, 'up must be a non-zero 3-vector'),
           ({'name': 'm', 'joints': ['a', 'b'], 'edges': [[0, 3]]}, 'edge (0, 3) outside 0..1'),
           ({'name': 'm', 'joints': ['a', 'b', 'c'], 'edges': [[0, 1]]}, "no 'center' given and the bones have 2 roots"),
           ({'name': 'm', 'joints': ['a', 'b'], 'edges': [[0, 1]], 'center': 'z'}, "center must be a joint index or one of its joint names"),
           ({'name': '', 'joints': ['a', 'b'], 'edges': [[0, 1]]}, 'layout name must be a non-empty string'),
           (['a', 'b'], 'a layout description is a dict')]
    for d, msg in bad:
        with pytest.raises(ValueError, match=re_escape(msg)): layout_from_dict(d, 'f.json')


def re_escape(s): import re; return re.escape(s)


def test_layout_equality_is_by_content():
    a = make_layout('mine', ['a', 'b', 'c'], [('a', 'b'), ('b', 'c')], 'a', description='one')
    b = make_layout('mine', ['a', 'b', 'c'], [('a', 'b'), ('b', 'c')], 'a', description='two')
    c = make_layout('mine', ['a', 'b', 'c'], [('a', 'b'), ('b', 'c')], 'a', up=(0, 0, 1))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1 and a != c
    assert a != 'mine' and get_layout('kinect20_utd') != get_layout('kinect20_sdk')


def test_make_layout_registers_nothing():
    before = dict(LAYOUTS)
    lay = make_layout('not_registered', ['a', 'b'], [('a', 'b')], 'a')
    assert LAYOUTS == before and get_layout(lay) is lay
    with pytest.raises(ValueError, match="unknown layout 'not_registered'"): get_layout('not_registered')


def test_kinect_sdk_order_and_bones():
    ks, ku = get_layout('kinect20_sdk'), get_layout('kinect20_utd')
    assert ks.joints[:4] == ['hip_center', 'spine', 'shoulder_center', 'head']
    assert ks.joints[4:8] == ['left_shoulder', 'left_elbow', 'left_wrist', 'left_hand']
    assert ks.joints[16:] == ['right_hip', 'right_knee', 'right_ankle', 'right_foot']
    named = lambda l: {(l.joints[p], l.joints[c]) for p, c in l.edges}
    assert named(ks) == named(ku) == named(get_layout('kinect20_msr')) and ks.joints[ks.center] == 'spine'
    x = np.random.default_rng(0).normal(size=(5, 20, 3)).astype(np.float32)
    perm = [ku.index(j) for j in ks.joints]                       # the same skeleton in both orders
    np.testing.assert_allclose(to_common(x[:, perm], ks), to_common(x, ku))


def test_openni15_maps_to_prism15_and_kinect():
    on, p = get_layout('openni15'), get_layout('prism15')
    assert on.joints == ['head', 'neck', 'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow', 'left_hand',
                         'right_hand', 'torso', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_foot', 'right_foot']
    x = np.random.default_rng(2).normal(size=(4, 15, 3)).astype(np.float32)
    y = to_common(x, on)
    assert y.shape == (4, 15, 3)
    np.testing.assert_allclose(y[:, p.index('left_wrist')], x[:, on.index('left_hand')])
    np.testing.assert_allclose(y[:, p.index('right_ankle')], x[:, on.index('right_foot')])
    np.testing.assert_allclose(y[:, p.index('neck')], x[:, on.index('neck')])
    np.testing.assert_allclose(y[:, p.index('hip_center')], (x[:, 9] + x[:, 10]) / 2, atol=1e-6)
    k = to_common(x, on, 'kinect20_sdk')                            # aliases work towards Kinect too
    ks = get_layout('kinect20_sdk')
    np.testing.assert_allclose(k[:, ks.index('spine')], x[:, on.index('torso')])
    np.testing.assert_allclose(k[:, ks.index('left_wrist')], k[:, ks.index('left_hand')])
    # existing layouts keep their own wrists and ankles
    for src in ['mediapipe33', 'kinect20_utd', 'kinect20_msr', 'kinect20_sdk']:
        s = get_layout(src)
        assert [s.joints[g[0]] for g in joint_groups(src)][p.index('left_wrist')] == 'left_wrist'


def _utkinect(root):
    import scipy.io
    cells = scipy.io.loadmat(root/'utkinect/UTKinect_Skeletons.mat')['data']
    return [np.asarray(c).transpose(2, 1, 0).astype(np.float32) for _, c in np.ndenumerate(cells) if np.asarray(c).size]


def test_real_utkinect_is_kinect_sdk_order():
    "UTKinect-Action3D in kinect20_sdk: head above the hip centre, left shoulder at smaller x (as UTD-MHAD and MSR)."
    ks = get_layout('kinect20_sdk')
    x = np.concatenate(_utkinect(data_root()))
    assert len(x) > 5000
    assert (x[:, ks.index('head'), 1] > x[:, ks.index('hip_center'), 1]).mean() > 0.99
    assert (x[:, ks.index('left_shoulder'), 0] < x[:, ks.index('right_shoulder'), 0]).mean() > 0.95


def test_check_layout_names_the_mixup_on_real_data():
    "UTKinect declared in UTD-MHAD's order is caught, with the order that fits; each real dataset passes in its own."
    root = data_root()
    from prism.data import read_utd_mhad_file, read_msr_file
    utk = _utkinect(root)[::3]
    with pytest.warns(LayoutWarning, match=re_escape('mine: joint order looks like kinect20_sdk, not kinect20_utd: '
                                                      'the head (joint 0) is below the hips (joint 3) in ') + r'(99|100)% of frames'):
        c = check_layout(utk, 'kinect20_utd', name='mine')
    assert isinstance(c, LayoutCheck) and not c.ok and c.better_layout == 'kinect20_sdk' and c.head_above_hips == 0
    utd = [read_utd_mhad_file(root/f'utd_mhad/Skeleton/a{a}_s{s}_t1_skeleton.mat') for a in (1, 9, 24, 27) for s in (1, 2, 3)]
    msr = [read_msr_file(f)[0] for f in sorted((root/'msr_action3d/MSRAction3DSkeletonReal3D').glob('a0[1-9]_s0[1-2]_e01_skeleton3D.txt'))]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error', LayoutWarning)          # no warning when the layout is right
        for xs, own in [(utk, 'kinect20_sdk'), (utd, 'kinect20_utd'), (msr, 'kinect20_msr')]:
            c = check_layout(xs, own)
            assert c.ok, str(c)
    assert check_layout(utd, 'kinect20_sdk', warn=False).better_layout == 'kinect20_utd'
    assert check_layout(msr, 'kinect20_utd', warn=False).better_layout == 'kinect20_msr'
    # OpenNI-like data made from UTKinect (NiTE's 15 joints, millimetres) fits openni15
    on, ks = get_layout('openni15'), get_layout('kinect20_sdk')
    rename = {'neck': 'shoulder_center', 'torso': 'spine'}
    oni = [x[:, [ks.index(rename.get(j, j)) for j in on.joints]] * 1000 for x in utk]
    assert check_layout(oni, on).ok


def test_check_layout_other_mixups_and_inputs():
    root = data_root()
    from prism.data import read_utd_mhad_file
    utd = [read_utd_mhad_file(root/f'utd_mhad/Skeleton/a{a}_s{s}_t1_skeleton.mat') for a in (1, 9, 24, 27) for s in (1, 2, 3)]
    lu = get_layout('kinect20_utd')
    def swap(a, b):
        p = np.arange(20); p[[lu.index(a), lu.index(b)]] = [lu.index(b), lu.index(a)]
        return [x[:, p] for x in utd]
    R = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], np.float32)       # y up -> z up
    zup = check_layout([x @ R.T for x in utd], lu, warn=False)
    assert not zup.ok and zup.better_layout is None and zup.better_up == (0., 0., 1.)
    assert 'is not above the hips (joint 3) along up (0.0, 1.0, 0.0)' in str(zup)
    zl = Layout('kinect20_utd_z', list(lu.joints), lu.edges, lu.center, up=(0, 0, 1))
    assert check_layout([x @ R.T for x in utd], zl).ok                   # declared z-up, it fits
    arm = check_layout(swap('left_elbow', 'left_wrist'), lu, warn=False)
    assert any('left_shoulder-left_elbow is longer than its mirror right_shoulder-right_elbow' in p for p in arm.problems)
    knee = check_layout(swap('left_knee', 'left_ankle'), lu, warn=False)
    assert any('left_hip-left_knee is longer than its mirror right_hip-right_knee' in p for p in knee.problems)
    hips = check_layout(swap('left_hip', 'right_hip'), lu, warn=False)
    assert any(p.startswith('left_hip and right_hip (joint 12, joint 16) lie on the opposite sides') for p in hips.problems)
    cross = check_layout(swap('left_elbow', 'right_elbow'), lu, warn=False)
    assert not cross.ok
    # inputs: one array, a stacked batch, records with .joints and .source
    assert check_layout(utd[0], lu).sequences == 1
    assert check_layout(np.stack([utd[0][:30], utd[1][:30]]), lu).sequences == 2
    class Rec:
        def __init__(self, j, s): self.joints, self.source = j, s
    with pytest.raises(ValueError, match=re_escape("bad.npz: layout 'kinect20_utd' has 20 joints, got 17")):
        check_layout([Rec(utd[0], 'ok.npz'), Rec(np.zeros((4, 17, 3)), 'bad.npz')], lu)
    with pytest.raises(ValueError, match='no sequences to check'): check_layout([], lu)
    # a layout without head or sides skips those checks instead of failing
    toy = make_layout('toy', ['a', 'b', 'c'], [('a', 'b'), ('b', 'c')], 'a')
    c = check_layout(np.random.default_rng(0).normal(size=(2, 6, 3, 3)), toy, warn=False)
    assert c.head_above_hips is None and c.sides == {} and c.asymmetry == {}
