"The docs site: built offline (nbdev processing + smalldocs) and checked page by page."
import importlib, json, posixpath, re, shutil, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT/'_docs'


def page_name(nb: Path) -> str:
    "The page nbdev gives a notebook: its path without the number prefix (`01_skeleton` -> `skeleton.html`)."
    rel = nb.relative_to(ROOT/'nbs')
    return str(rel.with_name(re.sub(r'^\d+[a-z]?_', '', rel.stem) + '.html'))


def notebooks() -> list:
    return sorted(p for p in (ROOT/'nbs').rglob('*.ipynb')
                  if not any(part.startswith(('_', '.')) for part in p.relative_to(ROOT/'nbs').parts))


def site_is_fresh() -> bool:
    "Is `_docs/` newer than every input of the docs build?"
    if not (DOCS/'index.html').is_file(): return False
    built = (DOCS/'index.html').stat().st_mtime
    inputs = notebooks() + [ROOT/'settings.ini', ROOT/'_quarto.yml', ROOT/'nbs'/'styles.css', ROOT/'scripts'/'build_docs.py'] + list((ROOT/'prism').glob('*.py'))
    return all(p.stat().st_mtime <= built for p in inputs if p.exists())


def build_site():
    "Build `_docs/` with scripts/build_docs.py, unless it is already fresh."
    if site_is_fresh(): return DOCS
    r = subprocess.run([sys.executable, str(ROOT/'scripts'/'build_docs.py'), '--quiet'], cwd=ROOT,
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, f'docs build failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}'
    assert (DOCS/'index.html').is_file()
    return DOCS


@pytest.fixture(scope='module')
def site(data_root):
    "The built site (the notebooks' docs cells read the real data, hence `data_root`)."
    return build_site()


def test_a_page_per_notebook_with_sidebar(site):
    pages = [page_name(nb) for nb in notebooks()]
    assert 'index.html' in pages
    for p in pages:
        f = site/p
        assert f.is_file(), f'no page {p} for its notebook'
        html = f.read_text(encoding='utf-8')
        links = {posixpath.normpath(posixpath.join(posixpath.dirname(p), h)) for h in re.findall(r'href="([^"#]+)', html)}
        for other in pages:   # the sidebar links every page from every page
            assert Path(other).as_posix() in links, f'{p}: sidebar has no link to {other}'


def test_every_exported_name_has_its_anchor(site):
    "Each name a module exports (its `__all__`, as listed in `prism/_modidx.py`) has its anchor on its page."
    import prism._modidx as mi
    importlib.reload(mi)
    missing = []
    for mod, syms in mi.d['syms'].items():
        exported = set(getattr(importlib.import_module(mod), '__all__', []))   # what `from mod import *` gives
        for name, (url, _) in syms.items():
            if name.split('.', 1)[1] not in exported: continue                  # private helpers and methods
            page, _, anchor = url.partition('#')
            f = site/page
            if not f.is_file(): missing.append(f'{name}: page {page} missing'); continue
            if f'id="{anchor}"' not in f.read_text(encoding='utf-8'): missing.append(f'{name}: no #{anchor} on {page}')
    assert not missing, '\n'.join(missing)


def test_figures_are_images_and_no_raw_show_doc(site):
    for nb in notebooks():
        cells = json.loads(nb.read_text(encoding='utf-8'))['cells']
        n_img = sum('image/png' in o.get('data', {}) for c in cells if c['cell_type'] == 'code' for o in c.get('outputs', []))
        html = (site/page_name(nb)).read_text(encoding='utf-8')
        assert 'show_doc(' not in html, f'{page_name(nb)} shows raw show_doc( source'
        imgs = re.findall(r'<img[^>]+src="([^"]+)"', html)
        assert len(imgs) >= n_img, f'{page_name(nb)}: {n_img} figures in the notebook, {len(imgs)} images on the page'
        for src in imgs:
            if src.startswith(('data:', 'http')): continue
            assert (site/Path(page_name(nb)).parent/src).is_file(), f'{page_name(nb)}: broken image {src}'


def test_search_index(site):
    idx = json.loads((site/'search.json').read_text(encoding='utf-8'))
    assert isinstance(idx, list) and len(idx) > 10
    text = json.dumps(idx)
    for name in ('get_data_root', 'load_utd_mhad', 'SkeletonRecord'):
        assert name in text, f'search index does not find {name}'
