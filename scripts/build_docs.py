"""Build the docs site offline into `_docs/`.

nbdev's own functions prepare the site (`refresh_quarto_yml`, the module index, the sidebar and
`proc_nbs`, called from Python so that nothing tries to install Quarto), and the pure-Python
`smalldocs` renders nbdev's processed notebooks (`_proc/`) into HTML. Users with Quarto can run
`nbdev_preview` / `nbdev_docs` from the same `_quarto.yml` instead.
"""
import argparse, json, os, re, shutil, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _output_file(nb: dict):
    "The `output-file` of a processed notebook's front matter, if any."
    c = nb['cells'][0] if nb.get('cells') else None
    if not c or c['cell_type'] != 'raw': return None
    m = re.search(r'^output-file:\s*(\S+)\s*$', ''.join(c['source']), re.M)
    return m.group(1) if m else None

def _use_output_files(proc: Path):
    """Rename processed notebooks to their `output-file` names (`01_skeleton.ipynb` -> `skeleton.ipynb`).

    Quarto honours `output-file`; smalldocs names pages after their files. Renaming keeps the page
    names nbdev writes into `prism/_modidx.py` (`skeleton.html#get_layout`), so doc links resolve.
    """
    renames = {}
    for f in sorted(proc.rglob('*.ipynb')):
        if any(p.startswith(('.', '_')) for p in f.relative_to(proc).parts): continue
        out = _output_file(json.loads(f.read_text(encoding='utf-8')))
        if out and Path(out).stem != f.stem:
            renames[f] = f.with_name(Path(out).stem + '.ipynb')
    names = {a.name: b.name for a, b in renames.items()}
    for a, b in renames.items(): a.rename(b)
    pat = re.compile(r'(?<![\w.-])(' + '|'.join(re.escape(n) for n in names) + r')') if names else None
    if not pat: return
    for f in list(proc.rglob('*.ipynb')) + list(proc.rglob('*.yml')):
        if any(p.startswith(('.', '_')) for p in f.relative_to(proc).parts[:-1]): continue
        t = f.read_text(encoding='utf-8')
        t2 = pat.sub(lambda m: names[m.group(1)], t)
        if t2 != t: f.write_text(t2, encoding='utf-8')

def _strip_remote_imports(out: Path):
    "Drop CSS `@import`s of remote fonts: the site must work offline and not tell a font host who reads it."
    for f in out.rglob('*.css'):
        t = f.read_text(encoding='utf-8')
        t2 = re.sub(r'@import\s+url\(\s*["\']?https?://[^)]*\)\s*;?', '', t)
        if t2 != t: f.write_text(t2, encoding='utf-8')

def build(out: Path = ROOT/'_docs', quiet: bool = False) -> Path:
    os.chdir(ROOT)
    from nbdev.config import get_config
    from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
    from nbdev.doclinks import _build_modidx
    from nbdev.serve import proc_nbs
    cfg = get_config()
    t0 = time.time()
    refresh_quarto_yml()
    _build_modidx()
    nbdev_sidebar.__wrapped__(force=True)
    proc = proc_nbs(cfg.nbs_path, n_workers=0, force=True)
    _use_output_files(proc)
    if not quiet: print(f'processed notebooks into {proc.relative_to(ROOT)}/ in {time.time()-t0:.0f}s')
    from smalldocs.site import build as sd_build
    site = sd_build(str(proc), quiet=quiet)
    # expected: Quarto-only keys (output-file is applied above by renaming; commonmark/keep-md are for Quarto users)
    known = re.compile(r'output-file is not read|format commonmark is not built|keep-md is ignored')
    for w in site.warnings:
        if not known.search(w): print(f'warning: {w}', file=sys.stderr)
    built = proc/cfg.doc_path.name
    if not built.is_dir(): raise RuntimeError(f'smalldocs wrote no site into {built}')
    if out.exists(): shutil.rmtree(out)
    shutil.move(str(built), str(out))
    _strip_remote_imports(out)
    if not quiet: print(f'site written to {out.relative_to(ROOT)}/ ({sum(1 for _ in out.rglob("*.html"))} pages) in {time.time()-t0:.0f}s')
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quiet', action='store_true')
    a = ap.parse_args()
    build(quiet=a.quiet)
