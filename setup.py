"""Packaging for PRISM, driven by settings.ini (nbdev 2 style, without pkg_resources)."""
from configparser import ConfigParser
import re, setuptools, shlex

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

for o in 'version description keywords author author_email copyright user lib_name dist_name git_url doc_host doc_baseurl'.split():
    assert o in cfg, f'missing expected setting: {o}'

licenses = {'mit': 'MIT'}  # SPDX expression
statuses = ['Planning', 'Pre-Alpha', 'Alpha', 'Beta', 'Production/Stable', 'Mature', 'Inactive']
py_versions = '3.11 3.12'.split()

requirements = shlex.split(cfg.get('requirements', ''))
dev_requirements = shlex.split(cfg.get('dev_requirements', ''))
lic = licenses[cfg['license'].lower()]
min_python = cfg['min_python']
branch = cfg.get('branch', 'main')

def absolute_links(md: str) -> str:
    "README's repository-relative links and images, made absolute for the package index page (PyPI has no repository)."
    raw = cfg['git_url'].replace('https://github.com/', 'https://raw.githubusercontent.com/') + f'/{branch}/'
    md = re.sub(r'(!\[[^\]]*\]\()(?!https?:|#|mailto:)([^)\s]+)\)', lambda m: f'{m.group(1)}{raw}{m.group(2)})', md)
    return re.sub(r'(?<!!)(\[[^\]]*\]\()(?!https?:|#|mailto:)([^)\s]+)\)', lambda m: f"{m.group(1)}{cfg['git_url']}/blob/{branch}/{m.group(2)})", md)

scripts = [s.strip() for s in cfg.get('console_scripts', '').split('\n') if s.strip()]

setuptools.setup(
    name=cfg['dist_name'],   # `prism` on PyPI is another project: the distribution is prism-har, the module prism
    license=lic,
    classifiers=[
        'Development Status :: ' + str(int(cfg['status'])) + ' - ' + statuses[int(cfg['status'])],
        'Intended Audience :: ' + cfg['audience'].title(),
        'Natural Language :: ' + cfg['language'].title(),
    ] + ['Programming Language :: Python :: ' + o for o in py_versions],
    url=cfg['git_url'],
    project_urls={'Documentation': cfg['doc_host'] + cfg['doc_baseurl'] + '/', 'Source': cfg['git_url'],
                  'Changelog': cfg['git_url'] + '/blob/' + branch + '/CHANGELOG.md'},
    packages=setuptools.find_packages(include=['prism', 'prism.*']),
    include_package_data=True,
    package_data={cfg['lib_name']: ['splits/*.json']},   # read at run time (prism.pose.jhmdb_split_path)
    install_requires=requirements,
    extras_require={'dev': dev_requirements},
    python_requires='>=' + min_python,
    long_description=absolute_links(open('README.md', encoding='utf-8').read()),
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={'console_scripts': scripts, 'nbdev': [f"{cfg['lib_name']}={cfg['lib_name']}._modidx:d"]},
    version=cfg['version'],
    description=cfg['description'],
    keywords=cfg['keywords'],
    author=cfg['author'],
    author_email=cfg['author_email'],
)
