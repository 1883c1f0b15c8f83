"Tutorials (nbs/tutorials/): the shape workshops rely on. They run under nbval with the other notebooks, and as a participant runs them."
import ast, json, os, re, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = sorted((ROOT/'nbs'/'tutorials').glob('*.ipynb'))


def cells(nb): return json.loads(nb.read_text(encoding='utf-8'))['cells']
def src(c): return ''.join(c['source'])
def directives(c): return [l.strip() for l in src(c).splitlines() if re.match(r'^\s*#\s*\|', l)]


def test_there_are_tutorials():
    assert TUTORIALS, 'no notebooks in nbs/tutorials/'


@pytest.mark.parametrize('nb', TUTORIALS, ids=lambda p: p.name)
def test_title_summary_and_no_exports(nb):
    "A tutorial opens with `# Title` and a `> summary`, and exports nothing (it is not part of the package)."
    cs = cells(nb)
    assert cs[0]['cell_type'] == 'markdown' and re.match(r'^# \S', src(cs[0])), f'{nb.name}: first cell must be the `# Title`'
    assert re.search(r'^> \S', src(cs[0]), re.M), f'{nb.name}: the title cell needs a one-line `> summary`'
    for i, c in enumerate(cs):
        bad = [d for d in directives(c) if re.match(r'#\s*\|\s*(default_exp|export|exports|exporti)\b', d)]
        assert not bad, f'{nb.name} cell {i}: tutorials export nothing, found {bad}'


@pytest.mark.parametrize('nb', TUTORIALS, ids=lambda p: p.name)
def test_exercises_with_hidden_solutions(nb):
    """Two or three exercises at the end, each solution a code cell folded on the site (`#| code-fold: true`) and
    collapsed in Jupyter (`jupyter.source_hidden`), that runs (nbval executes it) and checks its answer."""
    cs = cells(nb)
    start = next((i for i, c in enumerate(cs) if c['cell_type'] == 'markdown' and re.search(r'^#+ Exercises', src(c), re.M)), None)
    assert start is not None, f'{nb.name}: no `## Exercises` section'
    sols = [c for c in cs[start:] if c['cell_type'] == 'code']
    assert 2 <= len(sols) <= 3, f'{nb.name}: expected 2 or 3 exercise solutions after `## Exercises`, found {len(sols)}'
    for c in sols:
        first = src(c).splitlines()[0] if src(c) else ''
        assert any(re.match(r'#\s*\|\s*code-fold:\s*true', d) for d in directives(c)), f'{nb.name}: solution {first!r} lacks `#| code-fold: true`'
        assert c.get('metadata', {}).get('jupyter', {}).get('source_hidden') is True, \
            f'{nb.name}: solution {first!r} is not collapsed in Jupyter (cell metadata jupyter.source_hidden); ' \
            'settings.ini needs `allowed_cell_metadata_keys = jupyter` so nbdev_clean keeps it'
        body = ast.parse('\n'.join(l for l in src(c).splitlines() if not l.lstrip().startswith(('%', '!'))))
        checks = [n for n in ast.walk(body) if isinstance(n, ast.Assert) or
                  (isinstance(n, ast.Call) and getattr(n.func, 'id', '') in ('test_eq', 'test_close', 'test_fail'))]
        assert checks, f'{nb.name}: solution {first!r} checks nothing (add an assert or test_eq)'


@pytest.mark.parametrize('nb', TUTORIALS, ids=lambda p: p.name)
def test_no_skipped_or_slow_cells(nb):
    "A tutorial runs top to bottom as a workshop would run it: no `#| slow`, `#| eval: false` or NBVAL_SKIP cells."
    for i, c in enumerate(cells(nb)):
        if c['cell_type'] != 'code': continue
        bad = [d for d in directives(c) if re.match(r'#\s*\|\s*(slow|eval:\s*false)', d)] + (['NBVAL_SKIP'] if 'NBVAL_SKIP' in src(c) else [])
        assert not bad, f'{nb.name} cell {i}: {bad}'


def _git_status() -> str:
    return subprocess.run(['git', 'status', '--porcelain', '--untracked-files=all'], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize('nb', TUTORIALS, ids=lambda p: p.name)
def test_tutorial_runs_as_a_participant_runs_it(nb, data_root, tmp_path):
    """The way README tells a workshop participant: from the repository root, `PRISM_DATA` relative to it (README's
    `../shared/data`), the notebook executed top to bottom by Jupyter in its own folder (not through pytest's conftest,
    which makes the path absolute). It must run, and leave the clone as it was."""
    rel = os.path.relpath(data_root, ROOT)                  # conftest made PRISM_DATA absolute: give the kernel README's form
    env = {**os.environ, 'PRISM_DATA': rel, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
    before = _git_status()
    r = subprocess.run([sys.executable, '-m', 'jupyter', 'nbconvert', '--to', 'notebook', '--execute', str(nb.relative_to(ROOT)),
                        '--output-dir', str(tmp_path), '--ExecutePreprocessor.timeout=1800'],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, f'{nb.name} failed when run by hand with PRISM_DATA={rel}:\n{r.stderr[-4000:]}'
    assert (tmp_path / nb.name).is_file()
    assert _git_status() == before, f'{nb.name} changed the repository:\n{_git_status()}'


def test_tutorial_1_reads_video_with_a_video_model_and_says_how_far_to_trust_it():
    """Tutorial 1 classifies its video clips with the zoo's model trained on poses from video (not a Kinect model), says
    what that model gets right and wrong, and wherever it shows probabilities it also shows how calibrated they are
    (reliability diagrams) and that small-epsilon models can be over-confident."""
    nb = ROOT/'nbs'/'tutorials'/'01_video_to_private_recognition.ipynb'
    cs = cells(nb)
    code = '\n'.join(src(c) for c in cs if c['cell_type'] == 'code')
    prose = ' '.join(src(c) for c in cs if c['cell_type'] == 'markdown')
    card = json.loads((ROOT/'results'/'zoo'/'jhmdb_nodp.json').read_text(encoding='utf-8'))
    assert card['dataset'] == 'jhmdb' and 'wave' in card['classes']
    assert 'load_checkpoint(ZOO / "jhmdb_nodp")' in code and 'classify(model, card, rec)' in code
    assert 'jhmdb_split()["test"]' in code, 'the clips shown must come from the test side, not from what the model trained on'
    assert code.count('plot_reliability(') >= 2, 'a reliability diagram for the video model and for the private models'
    assert 'test_predictions' in code, 'say what the model gets right and wrong, from its test predictions'
    for word in ('over-confident', 'temperature', 'release'):
        assert word in prose, f'tutorial 1 does not say {word!r}'
    outs = ''.join(''.join(o.get('text', '')) for c in cs for o in c.get('outputs', []))
    assert 'wave clips of the test side:' in outs and 'test ECE' in outs
