"""Print the README's set-up commands: the first fenced `sh` block under 'Set up and run'.

`--main` prints the install-and-run command, `--test` the test command; `.ci/run` runs the latter,
so CI always runs exactly what the README tells a user to run.
"""
import argparse, re, sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent/'README.md'

def commands(text: str = None) -> list:
    "The commands of the README's set-up block (comments and blank lines dropped)."
    text = text if text is not None else README.read_text(encoding='utf-8')
    m = re.search(r'^## Set up and run\s*\n+```sh\n(.*?)\n```', text, re.S | re.M)
    if not m: raise SystemExit("README.md has no '## Set up and run' section with a ```sh block")
    return [l.strip() for l in m.group(1).splitlines() if l.strip() and not l.strip().startswith('#')]

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument('--main', action='store_true'); g.add_argument('--test', action='store_true')
    a = ap.parse_args()
    cmds = commands()
    if len(cmds) != 2: raise SystemExit(f'README set-up block must hold exactly two commands, found {len(cmds)}: {cmds}')
    print(cmds[0] if a.main else cmds[1])
