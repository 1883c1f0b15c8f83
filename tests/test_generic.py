"""PRISM's generic format for your own data: layouts (up included) survive a fresh process, records keep source and
meta, custom layouts need no registration, one clip-length rule, a declared layout is checked against the data, and
your files go end to end: convert_folder, split rules, load_protocol on a folder, a private run on public data."""
import json, os, re, subprocess, sys, warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prism import data as D
from prism import userdata as U
from prism.skeleton import LAYOUTS, Layout, LayoutWarning, get_layout, layout_to_dict, make_layout, orient_up

ROOT = Path(__file__).resolve().parent.parent


def zup_layout() -> Layout:
    "A 4-joint skeleton recorded with z up (a motion-capture convention)."
    return make_layout('mocap_z4', ['pelvis', 'chest', 'head', 'tail'], [('pelvis', 'chest'), ('chest', 'head'), ('pelvis', 'tail')],
                       'pelvis', up=(0., 0., 1.), description='lab mocap, metres, z up')


def zup_records(n:int=4, T:int=6, layout=None) -> list:
    "Standing skeletons in `zup_layout`: the head 0.6 m above the pelvis along +z."
    lay = layout or zup_layout()
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        x = np.zeros((T, 4, 3), np.float32)
        x[:, 1, 2], x[:, 2, 2], x[:, 3, 2] = 0.3, 0.6, -0.2
        x += rng.normal(0, 0.005, x.shape).astype(np.float32)
        out.append(D.SkeletonRecord(x, i % 2, ['sit', 'stand'][i % 2], f'p{i // 2}', i, lay, f'site_a/take{i}.c3d', 'lab',
                                    meta=dict(view=['front', 'side'][i % 2], session=np.int64(i))))
    return out


FRESH = """
import json, sys
import numpy as np
from prism.data import load_generic
from prism.skeleton import LAYOUTS, orient_up
recs = load_generic(sys.argv[1])
lay = recs[0].layout
x = orient_up(recs[0].joints, lay)
print(json.dumps(dict(up=list(lay.up), description=lay.description, registered=lay.name in LAYOUTS,
                      head_minus_pelvis=float((x[:, 2, 1] - x[:, 0, 1]).mean()), source=recs[0].source, meta=recs[0].meta)))
"""

def load_in_fresh_process(folder:Path) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    out = subprocess.run([sys.executable, '-c', FRESH, str(folder)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_zup_layout_survives_a_fresh_process(tmp_path):
    "Issue 18, item 1: up and description are written to dataset.json and read back in a new process."
    D.save_generic(zup_records(), tmp_path/'z', name='lab')
    spec = json.loads((tmp_path/'z'/'dataset.json').read_text())
    assert spec['version'] == 2 and spec['layout']['up'] == [0., 0., 1.] and spec['layout']['description'] == 'lab mocap, metres, z up'
    got = load_in_fresh_process(tmp_path/'z')
    assert got['up'] == [0., 0., 1.] and got['description'] == 'lab mocap, metres, z up' and not got['registered']
    assert got['head_minus_pelvis'] == pytest.approx(0.6, abs=0.02)          # orient_up turned z up into y up
    assert got['source'] == 'site_a/take0.c3d' and got['meta'] == {'view': 'front', 'session': 0}


def test_layout_dict_with_up_is_read_back(tmp_path):
    "The dict form (as the bring-your-own-data tutorial passes it) keeps up too."
    recs = [replace(r, layout='mocap_z4') for r in zup_records()]
    D.save_generic(recs, tmp_path/'d', layout=layout_to_dict(zup_layout()))
    back = D.load_generic(tmp_path/'d')
    assert back[0].layout == zup_layout() and back[0].layout.up == (0., 0., 1.)
    x = orient_up(back[0].joints, back[0].layout)
    assert (x[:, 2, 1] > x[:, 0, 1] + 0.5).all()


def test_source_meta_and_subject_types_roundtrip(tmp_path):
    "Issue 18, item 2: records keep their source (the user's file) and meta, so meta can drive a split."
    recs = zup_records()
    recs[3] = replace(recs[3], subject='007')                                # a string that looks like a number stays a string
    recs[2] = replace(recs[2], subject=12)
    D.save_generic(recs, tmp_path/'m')
    back = D.load_generic(tmp_path/'m')
    assert [r.source for r in back] == [f'site_a/take{i}.c3d' for i in range(4)]
    assert [r.meta for r in back] == [dict(view=['front', 'side'][i % 2], session=i) for i in range(4)]
    assert [r.subject for r in back] == ['p0', 'p0', 12, '007']
    front = [r for r in back if r.meta['view'] == 'front']
    assert [r.source for r in front] == ['site_a/take0.c3d', 'site_a/take2.c3d']
    with pytest.raises(ValueError, match=r"site_a/take0\.c3d: meta\['when'\] holds a set"):
        D.save_generic([replace(recs[0], meta={'when': {1, 2}})], tmp_path/'bad')
    with pytest.raises(ValueError, match="site_a/take0.c3d: meta keys must be strings"):
        D.save_generic([replace(recs[0], meta={1: 'x'})], tmp_path/'bad')
    assert not (tmp_path/'bad').exists()                                     # refused before anything was written


def test_errors_name_the_users_file(tmp_path):
    D.save_generic(zup_records(), tmp_path/'e')
    np.savez(tmp_path/'e'/'000009.npz', joints=np.zeros((5, 7, 3)), label=0, source='site_b/odd take.csv')
    with pytest.raises(ValueError, match=r"000009\.npz \(from site_b/odd take\.csv\): joints must be \(T, 4, 3\)"):
        D.load_generic(tmp_path/'e')
    np.savez(tmp_path/'e'/'000009.npz', joints=np.zeros((5, 4, 3)), label=0, source='site_b/x.csv', meta='{not json')
    with pytest.raises(ValueError, match=r"000009\.npz \(from site_b/x\.csv\): meta is not valid JSON"):
        D.load_generic(tmp_path/'e')


def test_custom_layout_needs_no_registration(tmp_path):
    "Issue 18, item 3: a Layout object in the records (or layout=) is enough; LAYOUTS is never written."
    before = dict(LAYOUTS)
    D.save_generic(zup_records(), tmp_path/'a')                                      # records carry the Layout
    D.save_generic([replace(r, layout='mocap_z4') for r in zup_records()], tmp_path/'b', layout=zup_layout())
    for f in ('a', 'b'):
        back = D.load_generic(tmp_path/f)
        assert back[0].layout == zup_layout() and all(r.layout is back[0].layout for r in back)
    assert LAYOUTS == before
    with pytest.raises(ValueError, match="site_a/take0.c3d: layout 'mocap_z4' is not one of PRISM's layouts"):
        D.save_generic([replace(r, layout='mocap_z4') for r in zup_records()], tmp_path/'c')
    other = make_layout('mocap_z4', ['pelvis', 'chest', 'head', 'tail'], [('pelvis', 'chest'), ('chest', 'head'), ('pelvis', 'tail')], 'pelvis')
    with pytest.raises(ValueError, match="site_a/take1.c3d: layout 'mocap_z4' differs from 'mocap_z4'"):
        D.save_generic([zup_records()[0], zup_records(layout=other)[1]], tmp_path/'c')
    ku = get_layout('kinect20_utd')
    clash = Layout('kinect20_utd', list(ku.joints), ku.edges, ku.center, up=(0., 0., 1.))
    rec = D.SkeletonRecord(np.random.default_rng(0).normal(size=(4, 20, 3)), 0, 'a', 1, 1, clash, 'clash.csv', 'x')
    with pytest.raises(ValueError, match="differs from PRISM's registered layout of that name"):
        D.save_generic([rec], tmp_path/'c', check=False)
    assert not (tmp_path/'c').exists()


def test_registered_layouts_keep_their_name(tmp_path):
    rec = D.SkeletonRecord(np.random.default_rng(0).normal(size=(4, 20, 3)), 0, 'a', 1, 1, 'kinect20_utd', 'a.mat', 'x')
    D.save_generic([rec], tmp_path/'r', check=False)
    assert D.load_generic(tmp_path/'r')[0].layout == 'kinect20_utd'
    spec = json.loads((tmp_path/'r'/'dataset.json').read_text())
    spec['layout'] = dict(spec['layout'], up=[0, 0, 1])                       # same name, other up
    (tmp_path/'r'/'dataset.json').write_text(json.dumps(spec))
    with pytest.raises(ValueError, match=r"r/dataset\.json: layout 'kinect20_utd' differs from PRISM's registered"):
        D.load_generic(tmp_path/'r')
    spec['version'] = 3
    (tmp_path/'r'/'dataset.json').write_text(json.dumps(spec))
    with pytest.raises(ValueError, match=r"format version 3 is not one this PRISM reads"):
        D.load_generic(tmp_path/'r')


def test_version_1_files_still_load(tmp_path):
    "A dataset written by PRISM before version 2 (no up, source or meta; subjects as text) reads as before."
    f = tmp_path/'v1'; f.mkdir()
    lay = {k: v for k, v in layout_to_dict('mediapipe33').items() if k not in ('up', 'description')}
    (f/'dataset.json').write_text(json.dumps(dict(format='prism-generic', version=1, name='old', layout=lay, classes=['wave'])))
    np.savez(f/'000000.npz', joints=np.zeros((3, 33, 3)), label=np.int64(0), action=np.str_('wave'), subject=np.str_('3'), trial=np.int64(1))
    r = D.load_generic(f)[0]
    assert (r.layout, r.subject, r.source, r.meta, r.dataset) == ('mediapipe33', 3, '000000.npz', {}, 'old')
    assert get_layout(r.layout).up == (0., -1., 0.)                         # PRISM's own mediapipe33, image y down


def test_one_rule_for_clip_length(tmp_path):
    "Issue 18, item 7: MIN_CLIP_FRAMES, checked with check_clip_length by save_generic and load_generic."
    assert D.MIN_CLIP_FRAMES == 2 and D.check_clip_length(2, 'a') == 2 and D.check_clip_length(np.zeros((3, 4, 3)), 'a') == 3
    with pytest.raises(ValueError, match="take1.csv: 1 frame.s., but a clip needs at least MIN_CLIP_FRAMES = 2"):
        D.check_clip_length(1, 'take1.csv')
    recs = zup_records()
    with pytest.raises(ValueError, match="site_a/take2.c3d: 1 frame.s., but a clip needs at least MIN_CLIP_FRAMES = 2"):
        D.save_generic(recs[:2] + [replace(recs[2], joints=recs[2].joints[:1])], tmp_path/'s')
    assert not (tmp_path/'s').exists()
    D.save_generic(recs, tmp_path/'s')
    np.savez(tmp_path/'s'/'000009.npz', joints=np.zeros((1, 4, 3)), label=0, source='site_b/blink.csv')
    with pytest.raises(ValueError, match=r"000009\.npz \(from site_b/blink\.csv\): 1 frame.s., but a clip needs at least"):
        D.load_generic(tmp_path/'s')
    with pytest.warns(UserWarning, match="skipped 1 bad file"):
        assert len(D.load_generic(tmp_path/'s', on_error='skip')) == 4


def test_mixed_layouts_refused(tmp_path):
    a = D.SkeletonRecord(np.zeros((3, 20, 3)), 0, 'a', 1, 1, 'kinect20_utd', 'a.mat', 'x')
    b = D.SkeletonRecord(np.zeros((3, 20, 3)), 0, 'a', 1, 1, 'kinect20_msr', 'b.txt', 'x')
    with pytest.raises(ValueError, match="b.txt: layout 'kinect20_msr' differs from 'kinect20_utd'"):
        D.save_generic([a, b], tmp_path/'x', check=False)
    with pytest.raises(ValueError, match=r"b.txt: layout 'kinect20_msr' has 20 joints, got 15|b.txt: layout 'kinect20_utd' has 20 joints"):
        D.save_generic([a, D.SkeletonRecord(np.zeros((3, 15, 3)), 0, 'a', 1, 1, 'kinect20_utd', 'b.txt', 'x')], tmp_path/'x', check=False)


def _utkinect_records(root:Path, layout:str) -> list:
    import scipy.io as sio
    cells = sio.loadmat(root/'utkinect/UTKinect_Skeletons.mat')['data']
    return [D.SkeletonRecord(np.asarray(cells[a, s, 0]).transpose(2, 1, 0), a, f'action {a + 1}', s + 1, 1, layout,
                             f'utkinect/UTKinect_Skeletons.mat:a{a + 1:02d}_s{s + 1:02d}_e01', 'utkinect')
            for a in range(10) for s in range(3)]


def test_save_generic_warns_when_the_declared_layout_does_not_fit(data_root, tmp_path):
    "Issue 18, item 5: UTKinect (Kinect SDK order) declared as kinect20_utd is written, with a warning naming kinect20_sdk."
    with pytest.warns(LayoutWarning, match=r"save_generic to wrong: joint order looks like kinect20_sdk, not kinect20_utd: "
                                           r"the head \(joint 0\) is below the hips \(joint 3\)"):
        D.save_generic(_utkinect_records(data_root, 'kinect20_utd'), tmp_path/'wrong')
    assert len(D.load_generic(tmp_path/'wrong')) == 30
    with warnings.catch_warnings():
        warnings.simplefilter('error', LayoutWarning)
        D.save_generic(_utkinect_records(data_root, 'kinect20_sdk'), tmp_path/'right')
        D.save_generic(D.load_utd_mhad(data_root)[::40], tmp_path/'utd')
        D.save_generic(D.load_msr_action3d(data_root)[::30], tmp_path/'msr')
    with warnings.catch_warnings():
        warnings.simplefilter('error', LayoutWarning)                    # check=False: no check, no warning
        D.save_generic(_utkinect_records(data_root, 'kinect20_utd'), tmp_path/'unchecked', check=False)


def test_custom_zup_layout_feeds_prismdataset(data_root, tmp_path):
    "Real UTD-MHAD takes re-exported in a z-up custom layout train like any dataset: PRISMDataset takes the records' Layout."
    ku = get_layout('kinect20_utd')
    names = ['pelvis', 'chest', 'neck', 'head'] + [f'{s}_{j}' for s in ('left', 'right') for j in ('shoulder', 'elbow', 'wrist', 'hip', 'knee', 'ankle')]
    bones = [('pelvis', 'chest'), ('chest', 'neck'), ('neck', 'head')] + [b for s in ('left', 'right') for b in [
        ('neck', f'{s}_shoulder'), (f'{s}_shoulder', f'{s}_elbow'), (f'{s}_elbow', f'{s}_wrist'),
        ('pelvis', f'{s}_hip'), (f'{s}_hip', f'{s}_knee'), (f'{s}_knee', f'{s}_ankle')]]
    lab = make_layout('lab16', names, bones, 'pelvis', up=(0., 0., 1.))
    src = {'pelvis': 'hip_center', 'chest': 'spine', 'neck': 'shoulder_center'}
    R = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], np.float32)         # y up -> z up
    utd = D.load_utd_mhad(data_root)[:6]
    recs = [replace(r, joints=r.joints[:, [ku.index(src.get(j, j)) for j in names]] @ R.T, layout=lab) for r in utd]
    with warnings.catch_warnings():
        warnings.simplefilter('error', LayoutWarning)
        D.save_generic(recs, tmp_path/'lab')
    from prism.clip import PRISMDataset, ClipSpec
    ds = PRISMDataset(tmp_path/'lab', ClipSpec(channels='pos'))
    x, _ = ds[0]
    assert x.shape == (3, 32, 15) and np.isfinite(x.numpy()).all()
    p = get_layout('prism15')
    assert (x[1, :, p.index('head')] > x[1, :, p.index('hip_center')]).all()   # y-up after orient_up


# --- your own data, end to end (issue 18): files -> convert -> split rule -> protocol -> runs ---------------------------------



def test_split_rules_parse_and_explain_what_is_wrong(tmp_path):
    "The four rules parse; a malformed rule, an unknown field, an absent value or an empty side is an error that says which."
    recs = zup_records(n=8)                                                   # subjects p0..p3, meta view front/side
    assert U.parse_split('meta:view=front/side') == U.SplitRule('values', 'view', ('front',), ('side',), text='meta:view=front/side')
    for bad, says in [('view', "unknown split rule 'view'"), ('meta:view=front/', 'the test side is empty'),
                      ('meta:view=/side', 'the train side is empty'), ('meta:view=a/a', 'on both sides'), ('logo:', 'expected logo:FIELD=VALUE')]:
        with pytest.raises(ValueError, match=re.escape(says)): U.parse_split(bad)
    tr, te, desc = U.split_records(recs, 'subject', 'lab')
    assert ({r.subject for r in tr}, {r.subject for r in te}) == ({'p0', 'p2'}, {'p1', 'p3'}) and 'train p0, p2; test p1, p3' in desc
    tr, te, _ = U.split_records(recs, 'meta:view=front/side', 'lab')
    assert {r.meta['view'] for r in tr} == {'front'} and {r.meta['view'] for r in te} == {'side'} and len(tr) + len(te) == 8
    tr, te, desc = U.split_records(recs, 'logo:subject=p3', 'lab')
    assert {r.subject for r in te} == {'p3'} and len(tr) == 6 and 'the other 3 train' in desc
    for rule, says in [('meta:angle=1/2', "lab: no sequence has a field 'angle'; fields: subject, trial, and the meta keys session, view"),
                       ('meta:view=front/top', "view top occur(s) in no sequence of lab (view values: front, side)"),
                       ('logo:view', 'names no group to hold out: use logo:view=VALUE, one fold per value (view values: front, side)')]:
        with pytest.raises(ValueError, match=re.escape(says)): U.split_records(recs, rule, 'lab')
    (tmp_path / 'all.txt').write_text('\n'.join(r.source for r in recs))
    with pytest.raises(ValueError, match='the train side of lab is empty'): U.split_records(recs, 'file:all.txt', 'lab', base=tmp_path)


def _utd_takes(root:Path, actions=(3, 4, 27), subjects=(1, 2, 3, 4), trials=(1, 2)) -> list:
    "(action, subject, trial, (T, 20, 3) joints in the Kinect SDK's order) of real UTD-MHAD takes."
    utd, sdk = get_layout('kinect20_utd'), get_layout('kinect20_sdk')
    order = [utd.index(j) for j in sdk.joints]
    return [(a, s, t, D.read_utd_mhad_file(root / 'utd_mhad/Skeleton' / f'a{a}_s{s}_t{t}_skeleton.mat')[:, order])
            for a in actions for s in subjects for t in trials]


def write_lab_folder(root:Path, folder:Path) -> Path:
    "A lab's export of real takes: subjects 1-2 as wide CSV (named joints, a view column), 3-4 as Kinect text files."
    sdk = get_layout('kinect20_sdk')
    for a, s, t, x in _utd_takes(root):
        d = folder / f'action{a}'; d.mkdir(parents=True, exist_ok=True)
        if s <= 2:
            df = pd.DataFrame(x.reshape(len(x), -1), columns=[f'{j}_{c}' for j in sdk.joints for c in 'xyz'])
            df.assign(frame=range(len(x)), subject=s, view=t).to_csv(d / f'p{s}_take{t}.csv', index=False)
        else: np.savetxt(d / f'p{s}_take{t}.txt', x.reshape(-1, 3), fmt='%.5f')
    return folder


def test_convert_split_protocol_and_private_run(data_root, tmp_path):
    "Issue 18: your files -> convert_folder -> load_protocol(folder, split=..., public='msr') -> run_experiment, private, on the public backbone."
    from prism.experiments import load_protocol, run_experiment, recipe
    raw = write_lab_folder(data_root, tmp_path / 'raw')
    out, recs = U.convert_folder(raw, tmp_path / 'lab', 'kinect20_sdk', pattern=r'p(?P<subject>\d+)_take(?P<trial>\d+)', name='lab')
    assert len(recs) == 24 and sorted({r.action for r in recs}) == ['action27', 'action3', 'action4']
    back = D.load_generic(out)
    assert [r.label for r in back] == [r.label for r in recs] and back[0].meta == {'view': 1} and back[-1].meta == {}
    assert {r.action: r.label for r in back} == {'action3': 0, 'action4': 1, 'action27': 2}           # classes in natural order
    p = load_protocol(out, split='subject', public='msr')
    assert (p.dataset, len(p.y_train), len(p.y_test), p.public.name) == ('lab', 12, 12, 'msr')
    assert sorted(set(p.persons_train)) == ['1', '3'] and p.norm_from == 'msr, all clips (treated as public)'
    with pytest.raises(ValueError, match=r"lab: 12 of 24 sequences have no 'view' in their meta \(first: action27/p3_take1.txt\)"):
        load_protocol(out, split='meta:view=1/2', public=p.public)
    fold = load_protocol(out, split='logo:subject=4', public=p.public)                 # the public data, loaded once, reused
    assert fold.public is p.public and sorted(set(fold.persons_test)) == ['4']
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        r = run_experiment(p, 'stgcn_ncm', 8, settings=recipe('stgcn_ncm', pretrain_epochs=1, channels=(8, 16)), out_dir=tmp_path / 'runs')
    assert r['private'] and r['ledger']['epsilon_prv'] <= 8 + 1e-6 and r['pretrained_on'] == 'msr' and r['dataset'] == 'lab'
    assert r['protocol'].startswith('lab, cross-subject') and (tmp_path / 'runs' / 'lab_stgcn_ncm_eps8_s0.json').is_file()
    assert r['classes'] == ['action3', 'action4', 'action27']
