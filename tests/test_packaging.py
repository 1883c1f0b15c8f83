"""Publishable: the distribution `prism-har` (module `prism`), one version everywhere, a complete wheel, the
workflows that test and deploy, and a changelog with its bump rule."""
import configparser, importlib.metadata as md, re, shutil, subprocess, sys, zipfile
from pathlib import Path

import pytest

import prism

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'scripts'))
import bump_version

CFG = configparser.ConfigParser(delimiters=['='])
CFG.read(ROOT/'settings.ini', encoding='utf-8')
CFG = CFG['DEFAULT']
DIST = CFG['dist_name']


def test_distribution_is_not_the_other_prism():
    "`prism` on PyPI is an unrelated project: ours is published under a name of its own, imported as `prism`."
    assert DIST == 'prism-har' and CFG['lib_name'] == 'prism'
    assert prism.__distribution__ == DIST
    r = subprocess.run([sys.executable, 'setup.py', '--name', '--version'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split()[-2:] == [DIST, CFG['version']], r.stdout


def test_installed_distribution_matches_the_package():
    "The installed metadata, `prism.__version__` and settings.ini agree, and only prism-har provides module `prism`."
    try: version = md.version(DIST)
    except md.PackageNotFoundError:
        pytest.fail(f'{DIST} is not installed (an old install under another name?): run pip install -e ".[dev]"')
    assert version == prism.__version__ == CFG['version']
    owners = sorted(set(md.packages_distributions().get('prism', [])))
    assert owners == [DIST], f"module prism comes from {owners}: uninstall PyPI's `prism`"
    eps = [e for e in md.distribution(DIST).entry_points if e.group == 'console_scripts']
    assert [(e.name, e.value) for e in eps] == [('prism', 'prism.cli:main')]


def test_cli_version(capsys):
    from prism.cli import main
    with pytest.raises(SystemExit) as e: main(['--version'])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f'prism {prism.__version__} ({DIST})'


def test_model_cards_record_distribution_and_version(tmp_path, make_tiny):
    from prism.checkpoint import save_checkpoint, load_checkpoint
    *_, stgcn, _ = make_tiny(4)
    card = save_checkpoint(stgcn, tmp_path/'tiny')
    assert (card['distribution'], card['code_version']) == (DIST, prism.__version__)
    assert load_checkpoint(tmp_path/'tiny')[1]['distribution'] == DIST


def test_settings_links_match_the_names():
    "GitHub org `user`, repository `repo`: the source, the Pages host and the base URL of the docs agree."
    user, repo = CFG['user'], CFG['repo']
    assert CFG['git_url'] == f'https://github.com/{user}/{repo}'
    assert CFG['doc_host'] == f'https://{user}.github.io'
    assert CFG['doc_baseurl'] == f'/{repo}'
    assert {'build', 'twine'} <= set(CFG['dev_requirements'].split())


def test_readme_and_docs_say_how_to_install():
    "README (and so the docs front page, both from nbs/index.ipynb) installs prism-har and warns about `prism`."
    text = (ROOT/'README.md').read_text(encoding='utf-8')
    assert f'pip install {DIST}' in text
    assert 'Do not `pip install prism`' in text and 'unrelated project' in text
    assert 'prism-har' in (ROOT/'nbs'/'index.ipynb').read_text(encoding='utf-8')


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> Path:
    "A wheel built (without build isolation) from a copy of the packaging files and prism/."
    pytest.importorskip('build', reason='`build` is a dev requirement: pip install -e ".[dev]"')
    src, out = tmp_path_factory.mktemp('src'), tmp_path_factory.mktemp('dist')
    for f in ('setup.py', 'settings.ini', 'README.md', 'LICENSE', 'MANIFEST.in'): shutil.copy(ROOT/f, src/f)
    shutil.copytree(ROOT/'prism', src/'prism', ignore=shutil.ignore_patterns('__pycache__'))
    r = subprocess.run([sys.executable, '-m', 'build', '--wheel', '--no-isolation', '--outdir', str(out), str(src)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    whl, = out.glob('*.whl')
    return whl


def test_wheel_holds_modules_and_package_data(wheel):
    assert wheel.name == f"{DIST.replace('-', '_')}-{CFG['version']}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    for p in list((ROOT/'prism').glob('*.py')) + [ROOT/'prism'/'splits'/'jhmdb_split.json']:
        rel = p.relative_to(ROOT).as_posix()
        assert rel in names, f'{wheel.name} lacks {rel}'
    assert not [n for n in names if n.split('/')[0] in ('nbs', 'tests', 'results')]


def test_wheel_description_has_no_repository_relative_links(wheel):
    "The package index shows README without the repository: its links and images must be absolute."
    meta = zipfile.ZipFile(wheel).read(f"{DIST.replace('-', '_')}-{CFG['version']}.dist-info/METADATA").decode()
    body = meta.split('\n\n', 1)[1]
    relative = re.findall(r'\]\((?!https?:|#|mailto:)([^)\s]+)\)', body)
    assert not relative, f'relative links in the long description: {relative[:5]}'
    assert f"{CFG['git_url']}/blob/" in body and 'raw.githubusercontent.com' in body


def code(text: str) -> str:
    "Shell or YAML text without its comments."
    return '\n'.join(re.sub(r'(^|\s)#.*$', '', l) for l in text.splitlines())


def test_ci_checks_the_wheel():
    ci = (ROOT/'.ci'/'run').read_text()
    assert 'bash scripts/check_wheel.sh' in ci
    sh = (ROOT/'scripts'/'check_wheel.sh').read_text()
    for part in ('-m build', 'twine check --strict', '-m venv', 'wheel_smoke.py', 'prism --version'): assert part in sh, part
    assert '--system-site-packages' not in code(sh)   # the fresh venv sees only what the wheel brings


def test_workflows():
    wf = ROOT/'.github'/'workflows'
    test, deploy = (wf/'test.yaml').read_text(), (wf/'deploy.yaml').read_text()
    ci = (ROOT/'.ci'/'run').read_text()
    for step in ('pip install -e ".[dev]"', 'nbdev_export', 'nbdev_clean', 'make_readme.py --check',
                 'check_wheel.sh', 'readme_commands.py --test'):
        assert step in ci.replace('-q -e', '-e') and step in test, f'test.yaml lacks .ci/run step {step!r}'
    assert 'PRISM_DATA_URL' in test and 'fetch_data.sh' in test and 'pytest tests' in test
    assert 'python scripts/build_docs.py' in deploy
    for action in ('actions/upload-pages-artifact@', 'actions/deploy-pages@'): assert action in deploy
    assert 'pages: write' in deploy and 'id-token: write' in deploy
    assert not re.search(r'quarto (render|preview|publish|install)|quarto-actions|nbdev_docs|nbdev_prepare|nbdev_readme|nbdev_proc_nbs', code(deploy + test))


def test_changelog_has_the_current_version():
    log = (ROOT/'CHANGELOG.md').read_text(encoding='utf-8')
    assert re.search(r'^## Unreleased\s*$', log, re.M)
    assert re.search(rf"^## {re.escape(CFG['version'])} \(\d{{4}}-\d\d-\d\d\)", log, re.M), \
        f"CHANGELOG.md has no section for version {CFG['version']}"
    assert 'bump_version.py' in (ROOT/'CONTRIBUTING.md').read_text(encoding='utf-8')


def test_bump_version():
    assert [bump_version.bump('0.1.9', p) for p in (2, 1, 0)] == ['0.1.10', '0.2.0', '1.0.0']
    ini = (ROOT/'settings.ini').read_text(encoding='utf-8')
    new = bump_version.set_version(ini, '9.9.9')
    assert 'version = 9.9.9' in new and new.replace('version = 9.9.9', f"version = {CFG['version']}") == ini   # comments kept
    log = '# Changelog\n\n## Unreleased\n\n- a fix\n\n## 0.1.0 (2026-11-26)\n\n- start\n'
    out = bump_version.release_changelog(log, '0.1.1', '2026-12-01')
    assert out == '# Changelog\n\n## Unreleased\n\n## 0.1.1 (2026-12-01)\n\n- a fix\n\n## 0.1.0 (2026-11-26)\n\n- start\n'
    with pytest.raises(ValueError, match='empty'): bump_version.release_changelog(out, '0.1.2', '2026-12-02')
