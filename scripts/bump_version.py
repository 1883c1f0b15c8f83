"""Bump PRISM's version: settings.ini, prism/__init__.py and CHANGELOG.md, in one step.

    python scripts/bump_version.py            # 0.1.0 -> 0.1.1 (part 2: fixes)
    python scripts/bump_version.py --part 1   # 0.1.0 -> 0.2.0 (new features, changed results or formats)

nbdev's `nbdev_bump_version` bumps settings.ini and `__version__` too, but it rewrites settings.ini from
scratch (dropping its comments and adding every default key), so use this script instead. It edits the
`version` line of settings.ini in place, writes `__version__` with nbdev's own `update_version`, and turns
CHANGELOG.md's `## Unreleased` section into `## <new version> (<date>)` under a fresh, empty Unreleased.
It refuses to release an empty Unreleased section. `--dry-run` prints what it would do.
"""
import argparse, datetime, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION_LINE = re.compile(r'^version\s*=\s*(\S+)\s*$', re.M)

def bump(version: str, part: int = 2) -> str:
    "`version` with `part` (0 major, 1 minor, 2 patch) increased and the parts after it reset to 0."
    nums = [int(x) for x in version.split('.')]
    if len(nums) != 3 or not 0 <= part <= 2: raise ValueError(f'expected a version X.Y.Z and part 0, 1 or 2, got {version!r}, {part}')
    nums[part] += 1
    return '.'.join(str(n) for n in nums[:part + 1] + [0] * (2 - part))

def set_version(settings: str, version: str) -> str:
    "settings.ini's text with its `version` line set to `version` (everything else, comments included, kept)."
    if len(VERSION_LINE.findall(settings)) != 1: raise ValueError('settings.ini must hold exactly one `version =` line')
    return VERSION_LINE.sub(f'version = {version}', settings)

def release_changelog(text: str, version: str, date: str) -> str:
    "CHANGELOG text with `## Unreleased` renamed `## <version> (<date>)` and a new empty Unreleased above it."
    m = re.search(r'^## Unreleased[ \t]*\n(.*?)(?=^## |\Z)', text, re.M | re.S)
    if not m: raise ValueError('CHANGELOG.md has no `## Unreleased` section')
    if not m.group(1).strip(): raise ValueError('the Unreleased section of CHANGELOG.md is empty: say what changed first')
    if re.search(rf'^## {re.escape(version)}\b', text, re.M): raise ValueError(f'CHANGELOG.md already has a section for {version}')
    return text[:m.start()] + f'## Unreleased\n\n## {version} ({date})\n' + m.group(1).rstrip() + '\n\n' + text[m.end():]

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--part', type=int, default=2, choices=(0, 1, 2), help='0 major, 1 minor, 2 patch (default)')
    ap.add_argument('--dry-run', action='store_true')
    a = ap.parse_args(argv)
    ini, log = ROOT/'settings.ini', ROOT/'CHANGELOG.md'
    old = VERSION_LINE.search(ini.read_text(encoding='utf-8')).group(1)
    new = bump(old, a.part)
    try:
        settings = set_version(ini.read_text(encoding='utf-8'), new)
        changelog = release_changelog(log.read_text(encoding='utf-8'), new, datetime.date.today().isoformat())
    except ValueError as e: print(f'bump_version: {e}', file=sys.stderr); return 1
    print(f'{old} -> {new}')
    if a.dry_run: return 0
    ini.write_text(settings, encoding='utf-8'); log.write_text(changelog, encoding='utf-8')
    import os; os.chdir(ROOT)
    from nbdev.config import update_version
    update_version()   # prism/__init__.py's __version__ from settings.ini (its other lines are kept)
    print('updated settings.ini, prism/__init__.py and CHANGELOG.md; commit them, tag v' + new + ', then see CONTRIBUTING.md')
    return 0

if __name__ == '__main__': sys.exit(main())
