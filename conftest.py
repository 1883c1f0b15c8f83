"""pytest configuration shared by tests/ and the nbval run over nbs/.

nbdev-cleaned notebooks keep their outputs but drop execution counts; nbval then refuses them
("unrun reference cell has outputs"). Here we clear stored outputs of cells that carry no
execution count (nothing is compared for them under --nbval-lax anyway), and skip cells flagged
with one of settings.ini's `tst_flags` (e.g. `#| slow`) or `#| eval: false`, as nbdev_test would.
"""
import configparser, os, re
from pathlib import Path

import pytest

_root = Path(__file__).parent
_cfg = configparser.ConfigParser()
_cfg.read(_root/'settings.ini')
TST_FLAGS = _cfg['DEFAULT'].get('tst_flags', '').split()

_directive = re.compile(r'^\s*#\s*\|\s*(.+?)\s*$')

def cell_directives(source: str) -> list:
    "The `#| ...` directives of a notebook cell, as lists of words."
    out = []
    for line in source.splitlines():
        m = _directive.match(line)
        if m: out.append(m.group(1).replace(':', ' ').split())
        elif line.strip() and not line.strip().startswith('#'): break
    return out

def skip_reason(source: str):
    "Why nbval should skip this cell (a tst_flag or `eval: false`), or None."
    for words in cell_directives(source):
        if not words: continue
        if words[0] in TST_FLAGS: return f'notebook cell flagged `#| {words[0]}` (tst_flags)'
        if words[0] == 'eval' and len(words) > 1 and words[1].lower() == 'false':
            return 'notebook cell flagged `#| eval: false`'
    return None

def pytest_collection_modifyitems(config, items):
    for item in items:
        cell = getattr(item, 'cell', None)
        if cell is None or not hasattr(item, 'options'): continue  # not an nbval cell
        if cell.get('execution_count') is None and cell.get('outputs'): cell['outputs'] = []
        why = skip_reason(cell.source)
        if why: item.add_marker(pytest.mark.skip(reason=why))

def pytest_configure(config):
    # notebooks and tests read the real data from PRISM_DATA (tests skip, naming it, when unset).
    # A relative PRISM_DATA means "relative to where pytest was started": make it absolute, since
    # nbval runs each notebook's kernel inside nbs/.
    for var in ('PRISM_DATA', 'PRISM_CACHE'):
        if os.environ.get(var): os.environ[var] = str(Path(os.environ[var]).expanduser().resolve())
    os.environ.setdefault('MPLBACKEND', 'Agg')
