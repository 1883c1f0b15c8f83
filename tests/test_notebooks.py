"Notebook craft that CI can check: structure, docs-safe cells, and no machine-specific outputs."
import ast, json, re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb') if not any(s.startswith(('_', '.')) for s in p.relative_to(ROOT/'nbs').parts))
MODULE_NBS = [p for p in NBS if re.match(r'^\d', p.name) and p.parent == ROOT/'nbs']
IMPORT = re.compile(r'^\s*(import|from)\s+\S+', re.M)


def cells(nb): return json.loads(nb.read_text(encoding='utf-8'))['cells']
def src(c): return ''.join(c['source'])
def directives(c): return [l.strip() for l in src(c).splitlines() if re.match(r'^\s*#\s*\|', l)]
def parse(c):
    "Top-level statements of a code cell (IPython magics and shell lines dropped)."
    code = '\n'.join(l for l in src(c).splitlines() if not l.lstrip().startswith(('%', '!')))
    try: return ast.parse(code).body
    except SyntaxError: return []
def only_imports(c): return bool(parse(c)) and all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in parse(c))
def has_import(c): return any(isinstance(n, (ast.Import, ast.ImportFrom)) for t in parse(c) for n in ast.walk(t))


@pytest.mark.parametrize('nb', MODULE_NBS, ids=lambda p: p.name)
def test_structure(nb):
    cs = cells(nb)
    assert re.match(r'^#\s*\|\s*default_exp\s+\w+', src(cs[0])), f'{nb.name}: first cell must be `#| default_exp`'
    assert cs[1]['cell_type'] == 'markdown' and re.match(r'^# \S', src(cs[1])), f'{nb.name}: second cell must be the H1 title'
    assert re.search(r'^> \S', src(cs[1]), re.M), f'{nb.name}: the title cell needs a one-line `> summary`'
    exp_imports = [c for c in cs if c['cell_type'] == 'code' and any('export' in d for d in directives(c)) and only_imports(c)]
    assert len(exp_imports) == 1, f'{nb.name}: expected one exported import cell, found {len(exp_imports)}'


@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_unexported_import_cells_hold_only_imports(nb):
    "nbdev's docs build executes every cell that imports; such cells must not need the notebook's state."
    for i, c in enumerate(cells(nb)):
        if c['cell_type'] != 'code' or any(re.search(r'export|exec_doc', d) for d in directives(c)): continue
        if has_import(c) and not only_imports(c):
            other = next(ast.unparse(t).splitlines()[0] for t in parse(c) if not isinstance(t, (ast.Import, ast.ImportFrom)))
            assert False, f'{nb.name} cell {i}: imports mixed with code ({other!r}); put imports in their own cell'


ABS = re.compile(r'(/work/|/home/|/root/|/tmp/pytest|/Users/|[A-Z]:\\\\)')

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_outputs_hold_no_absolute_paths(nb):
    for i, c in enumerate(cells(nb)):
        for o in c.get('outputs', []):
            text = json.dumps({k: v for k, v in o.items() if k != 'data'}) + json.dumps({k: v for k, v in o.get('data', {}).items() if not k.startswith('image/')})
            m = ABS.search(text)
            assert not m, f'{nb.name} cell {i}: output holds an absolute path ({m.group(0)}...)'


@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_slow_cells_are_skipped_by_nbval(nb):
    for i, c in enumerate(cells(nb)):
        if any(re.match(r'#\s*\|\s*slow', d) for d in directives(c)):
            assert 'NBVAL_SKIP' in src(c), f'{nb.name} cell {i}: `#| slow` cells also need `# NBVAL_SKIP`'
