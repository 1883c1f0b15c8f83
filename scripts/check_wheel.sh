#!/usr/bin/env bash
# Build the sdist and the wheel, check them, and use the wheel the way a user would.
#
#   1. `python -m build`: the sdist, then the wheel built from that sdist (so the sdist is complete);
#   2. `twine check --strict`: metadata and README render for the package index;
#   3. the archives' contents: the wheel holds every module and prism/splits/*.json, and nothing
#      from nbs/, results/ or tests/; its name and version are settings.ini's dist_name and version;
#   4. a fresh virtual environment outside the repository (no --system-site-packages; dependencies
#      from the registry, through pip's cache), the wheel installed into it, and from an empty folder:
#      `prism --version`, `prism --help` and scripts/wheel_smoke.py (real-data CLI runs if PRISM_DATA is set).
#
# Usage: scripts/check_wheel.sh [DIST_DIR]   (default: a temporary folder, removed afterwards)
# Needs `build` and `twine` in the current Python (dev requirements); PYTHON overrides the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python}
start=$(date +%s)
say() { echo "--- [$(( $(date +%s) - start ))s] $*"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/prism-wheel.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DIST=${1:-$WORK/dist}
mkdir -p "$DIST"; rm -f "$DIST"/*.whl "$DIST"/*.tar.gz
dist_name=$(sed -n 's/^dist_name *= *//p' settings.ini)
version=$(sed -n 's/^version *= *//p' settings.ini)

say "python -m build: sdist, then the wheel from the sdist ($dist_name $version)"
"$PY" -m build --outdir "$DIST" . > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; exit 1; }
# build leaves an egg-info folder in the tree; it is ignored by git but would shadow nothing: remove it
rm -rf "$ROOT"/*.egg-info
ls -l "$DIST"

say "twine check --strict"
"$PY" -m twine check --strict "$DIST"/*

say "contents of the sdist and the wheel"
"$PY" - "$DIST" "$dist_name" "$version" "$ROOT" <<'EOF'
import sys, tarfile, zipfile
from pathlib import Path
dist, name, version, root = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
norm = name.replace('-', '_')
whl, = dist.glob(f'{norm}-{version}-py3-none-any.whl')
sdist, = dist.glob(f'{norm}-{version}.tar.gz')
files = zipfile.ZipFile(whl).namelist()
modules = sorted(f'prism/{p.name}' for p in (root/'prism').glob('*.py'))
data = sorted(f'prism/{p.relative_to(root/"prism").as_posix()}' for p in (root/'prism').rglob('*.json'))
missing = [f for f in modules + data if f not in files]
assert not missing, f'{whl.name} lacks {missing}'
stray = [f for f in files if f.split('/')[0] in ('nbs', 'results', 'tests', 'scripts', 'bench', '_docs', '_proc')]
assert not stray, f'{whl.name} holds repository files: {stray[:10]}'
info = f'{norm}-{version}.dist-info'
meta = zipfile.ZipFile(whl).read(f'{info}/METADATA').decode()
assert f'\nName: {name}\n' in meta and f'\nVersion: {version}\n' in meta, meta[:300]
assert 'prism = prism.cli:main' in zipfile.ZipFile(whl).read(f'{info}/entry_points.txt').decode()
top = zipfile.ZipFile(whl).read(f'{info}/top_level.txt').decode().split()
assert top == ['prism'], top
names = tarfile.open(sdist).getnames()
need = ['setup.py', 'settings.ini', 'README.md', 'LICENSE', 'prism/splits/jhmdb_split.json']
lacks = [n for n in need if f'{norm}-{version}/{n}' not in names]
assert not lacks, f'{sdist.name} lacks {lacks}'
print(f'{whl.name}: {len(files)} files ({len(modules)} modules, {len(data)} data files); {sdist.name}: {len(names)} entries')
EOF

say "fresh virtual environment outside the repository; install the wheel and its dependencies"
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v 'is ignored' || true
"$WORK/venv/bin/python" -m pip install -q "$DIST"/*.whl 2> >(grep -v 'is ignored' >&2)

say "the installed wheel, from an empty folder: prism --version, prism --help, scripts/wheel_smoke.py"
mkdir "$WORK/run"; cp scripts/wheel_smoke.py "$WORK/run/"
(cd "$WORK/run" && env -u PYTHONPATH PATH="$WORK/venv/bin:$PATH" prism --version \
   && env -u PYTHONPATH PATH="$WORK/venv/bin:$PATH" MPLBACKEND=Agg python wheel_smoke.py "$dist_name")
say "wheel check passed in $(( $(date +%s) - start ))s"
