"""Write README.md from nbs/index.ipynb, offline (nbdev_readme needs Quarto).

Front matter becomes the title and the summary, `#|` directive lines are dropped, code cells are
fenced as `python`, and their stored text outputs follow in plain fences. `--check` exits 1 if
README.md differs from what would be written.
"""
import argparse, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _front_matter(src: str) -> dict:
    m = re.match(r"^---\s*\n(.*?)\n---\s*$", src.strip(), re.S)
    if not m: return {}
    out = {}
    for line in m.group(1).splitlines():
        if ':' in line:
            k, v = line.split(':', 1)
            out[k.strip()] = v.strip().strip('"').strip("'")
    return out

def _text_output(o: dict) -> str:
    if o.get('output_type') == 'stream' and o.get('name') == 'stdout': return ''.join(o['text'])
    if o.get('output_type') in ('execute_result', 'display_data'):
        d = o.get('data', {})
        if 'text/markdown' in d: return None, ''.join(d['text/markdown'])
        if 'text/plain' in d and not any(k.startswith('image/') for k in d): return ''.join(d['text/plain'])
    return ''

def render(nb_path: Path = ROOT/'nbs'/'index.ipynb') -> str:
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    parts = []
    for cell in nb['cells']:
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'markdown':
            fm = _front_matter(src)
            if fm:
                parts.append(f"# {fm.get('title', '')}".rstrip())
                if fm.get('description'): parts.append(f"> {fm['description']}")
            else: parts.append(src.strip())
        elif cell['cell_type'] == 'code':
            lines = [l for l in src.splitlines() if not re.match(r'^\s*#\s*\|', l)]
            if any(re.match(r'^\s*#\s*\|\s*hide\b', l) for l in src.splitlines()): continue
            echo = not any(re.match(r'^\s*#\s*\|\s*echo\s*:\s*false', l) for l in src.splitlines())
            code = '\n'.join(lines).strip()
            if code and echo: parts.append(f"```python\n{code}\n```")
            img = [m.group(1) for l in src.splitlines() for m in [re.match(r'^\s*#\s*\|\s*readme-image\s*:\s*(\S+)', l)] if m]
            if img: parts.append(f"![{Path(img[0]).stem}]({img[0]})")
            for o in cell.get('outputs', []):
                t = _text_output(o)
                if isinstance(t, tuple): parts.append(t[1].strip())
                elif t.strip(): parts.append(f"```\n{t.rstrip()}\n```")
    text = '\n\n'.join(p for p in parts if p) + '\n'
    return _site_links_to_notebooks(text)

def _site_links_to_notebooks(text: str) -> str:
    "Links to docs pages (`pose.html`) become links to their notebooks (`nbs/00_pose.ipynb`), which work on the repository."
    nbs = {}
    for nb in (ROOT/'nbs').rglob('*.ipynb'):
        rel = nb.relative_to(ROOT/'nbs')
        if any(p.startswith(('_', '.')) for p in rel.parts): continue
        page = rel.with_name(re.sub(r'^\d+[a-z]?_', '', rel.stem) + '.html').as_posix()
        nbs[page] = 'nbs/' + rel.as_posix()
    return re.sub(r'\]\(([\w/.-]+\.html)(#[\w-]*)?\)', lambda m: f"]({nbs.get(m.group(1), m.group(1))}{m.group(2) or ''})", text)

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--check', action='store_true', help='fail if README.md is not up to date')
    a = ap.parse_args(argv)
    text, readme = render(), ROOT/'README.md'
    if a.check:
        if not readme.exists() or readme.read_text(encoding='utf-8') != text:
            print('README.md is not up to date with nbs/index.ipynb: run `python scripts/make_readme.py`', file=sys.stderr)
            return 1
        print('README.md is up to date'); return 0
    readme.write_text(text, encoding='utf-8'); print(f'wrote {readme.name}'); return 0

if __name__ == '__main__': sys.exit(main())
