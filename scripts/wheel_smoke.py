"""Smoke test of an installed PRISM wheel, run by scripts/check_wheel.sh in a fresh virtual environment.

It is copied out of the repository and run from an empty folder, so only the installed package is on
`sys.path`: anything the package needs at run time (package data, console script, dependencies) must
come with the wheel; nothing under nbs/, results/ or tests/ is reachable. With `PRISM_DATA` set it
also runs the CLI on the real data (a summary and a one-epoch training with a checkpoint).
"""
import importlib, importlib.metadata as md, json, os, pkgutil, subprocess, sys, tempfile, time
from pathlib import Path

DIST = sys.argv[1] if len(sys.argv) > 1 else 'prism-har'
t0 = time.time()
def ok(msg): print(f'ok  [{time.time()-t0:5.1f}s] {msg}', flush=True)
def run(*args) -> str:
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, f'{" ".join(args)} exited {r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}'
    return r.stdout

import prism
site = Path(md.distribution(DIST).locate_file('')).resolve()
here = Path(prism.__file__).resolve()
assert site in here.parents, f'prism imported from {here}, not from the installed {DIST} in {site}'
for p in map(Path, sys.path):   # no repository on the path: nbs/, results/, tests/ are out of reach
    assert not (p/'nbs').is_dir() and not (p/'settings.ini').exists(), f'a source tree is on sys.path: {p}'
ok(f'prism imported from the installed wheel ({here.parent.name}/ in site-packages)')

version = md.version(DIST)
assert prism.__version__ == version, f'prism.__version__ {prism.__version__} != {DIST} {version}'
assert prism.__distribution__ == DIST, prism.__distribution__
owners = sorted(set(md.packages_distributions().get('prism', [])))
assert owners == [DIST], f'module prism is provided by {owners}; only {DIST} may provide it (uninstall the other `prism`)'
ok(f'{DIST} {version} is the only distribution providing module prism')

mods = sorted(m.name for m in pkgutil.iter_modules(prism.__path__, 'prism.'))
for m in mods: importlib.import_module(m)
ok(f'imported {len(mods)} modules: {", ".join(m.split(".")[1] for m in mods)}')

from prism.jhmdb import jhmdb_split, _split_resource
assert _split_resource().is_file(), 'prism/splits/jhmdb_split.json is not in the wheel'
sp = jhmdb_split()   # the saved split: no data root needed
assert sp['train'] and sp['test'] and not set(sp['train']) & set(sp['test'])
ok(f'package data: JHMDB split with {len(sp["train"])} train / {len(sp["test"])} test clips')

out = run('prism', '--version').strip()
assert out == f'prism {version} ({DIST})', out
assert 'reproduce' in run('prism', '--help')
ok(f'console script: `prism --version` -> {out}')

import numpy as np, torch
from prism.models import STGCN_PRISM
from prism.checkpoint import save_checkpoint, load_checkpoint
torch.manual_seed(0)
model = STGCN_PRISM(num_joints=15, in_channels=9, num_classes=4, layout='prism15', channels=(8, 16)).eval()
x = torch.from_numpy(np.random.default_rng(0).normal(size=(2, 9, 16, 15)).astype(np.float32))
with tempfile.TemporaryDirectory() as d:
    card = save_checkpoint(model, Path(d)/'tiny', {'command': 'wheel smoke test'})
    assert (card['distribution'], card['code_version']) == (DIST, version), card
    loaded, card2 = load_checkpoint(Path(d)/'tiny')
    with torch.no_grad(): assert torch.allclose(model(x), loaded.eval()(x))
ok('STGCN_PRISM forward, checkpoint round trip; the card records the distribution and its version')

if os.environ.get('PRISM_DATA'):
    assert 'utd_mhad' in run('prism', 'summary')
    with tempfile.TemporaryDirectory() as d:
        run('prism', 'train', '--dataset', 'msr', '--model', 'stgcn', '--epochs', '1', '--out', d, '--checkpoint', f'{d}/ck')
        card = json.loads(Path(d, 'ck.json').read_text())
        assert card['distribution'] == DIST and card['code_version'] == version
    ok('real data: `prism summary`, `prism train --epochs 1 --checkpoint` (card carries the version)')
else: print('skip real-data CLI runs: PRISM_DATA is not set')
print(f'wheel smoke test passed in {time.time()-t0:.0f}s')
