"README.md: generated from nbs/index.ipynb, with exactly the two set-up commands CI runs."
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'scripts'))
import make_readme, readme_commands


def test_readme_is_generated_from_index():
    assert (ROOT/'README.md').read_text(encoding='utf-8') == make_readme.render(), \
        'README.md is stale: run `python scripts/make_readme.py`'


def test_exactly_two_setup_commands():
    cmds = readme_commands.commands()
    assert len(cmds) == 2, cmds
    install, test = cmds
    assert install.startswith('pip install -e ".[dev]"') and 'prism ' in install
    assert test.endswith('pytest')


def test_ci_runs_the_readme_test_command():
    ci = (ROOT/'.ci'/'run').read_text()
    assert 'readme_commands.py --test' in ci and 'pip install -q -e ".[dev]"' in ci


def test_readme_shows_no_unreproduced_claims():
    "The seed's claimed accuracies (89.1% without DP, 84.7% at epsilon 1) appear only where README says nothing reproduced them."
    text = (ROOT/'README.md').read_text(encoding='utf-8')
    for claim in ('89.1%', '84.7%'):
        lines = [l for l in text.splitlines() if claim in l]
        assert lines and all('prototype advertised' in l for l in lines), lines


def test_readme_results_are_the_results_files():
    "Every results table in README is `prism.report.results_markdown` of results/: the numbers cannot drift from the files."
    from prism.report import results_markdown
    md = results_markdown(ROOT/'results')
    assert md and md.strip() in (ROOT/'README.md').read_text(encoding='utf-8'), \
        'README results differ from results/: re-run nbs/index.ipynb and `python scripts/make_readme.py`'


def test_readme_privacy_statement_and_headline_are_the_results_files():
    "What the epsilons cover (unit, person-level, release ledgers, deployable models) and the headline are read from results/."
    from prism.report import privacy_statement, results_headline
    text = (ROOT/'README.md').read_text(encoding='utf-8')
    for md in (privacy_statement(ROOT/'results'), results_headline(ROOT/'results')):
        assert md.strip() and md.strip() in text, 're-run nbs/index.ipynb and `python scripts/make_readme.py`'
    assert 'not one person' in text and 'chosen on a validation split' in text
