"""The docs site in a real browser: headless Chromium opens every page of the built `_docs/`.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`): no chromedriver,
no Selenium, no debugging port. The site is served over http on 127.0.0.1 under settings.ini's `doc_baseurl`
(`/prism/`, as GitHub Pages serves it; search fetches `search.json`,
which `file://` pages may not). Install Debian's Chromium with `scripts/install_browser.sh`.
Without Chromium the tests skip, saying so; with `CI` set they fail instead.
Screenshots go to `$PRISM_SCREENSHOTS` if set (else a pytest tmp folder).
"""
import base64, configparser, fcntl, functools, http.server, json, os, re, shutil, subprocess, sys, threading, time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT/'_docs'
NBS = ROOT/'nbs'
CHROMIUM_NAMES = ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
         '--disable-quic', '--disable-component-update', '--disable-sync', '--no-default-browser-check',
         '--disable-extensions', '--mute-audio', '--hide-scrollbars', '--window-size=1280,900']
WIDTH, HEIGHT = 1280, 900   # wide enough for the sidebar (smalldocs folds it away below 992 px)


def notebooks() -> list:
    return sorted(p for p in NBS.rglob('*.ipynb') if not any(s.startswith(('_', '.')) for s in p.relative_to(NBS).parts))

def page_name(nb: Path) -> str:
    "The page nbdev gives a notebook: its path without the number prefix (`01_skeleton` -> `skeleton.html`)."
    rel = nb.relative_to(NBS)
    return rel.with_name(re.sub(r'^\d+[a-z]?_', '', rel.stem) + '.html').as_posix()

PAGES = [page_name(nb) for nb in notebooks()]


def ci() -> bool: return os.environ.get('CI', '').strip().lower() not in ('', '0', 'false', 'no')

def find_chromium() -> str|None:
    "A Chromium/Chrome binary: `$PRISM_CHROMIUM`, else the first of CHROMIUM_NAMES on PATH."
    if os.environ.get('PRISM_CHROMIUM'): return shutil.which(os.environ['PRISM_CHROMIUM'])
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


class Chromium:
    "Headless Chromium spoken to over the DevTools protocol on fds 3 (commands) and 4 (replies and events)."
    def __init__(self, exe:str, profile:Path, log:Path, timeout:float=30.):
        self.timeout, self.next_id, self.replies, self.events, self.closed = timeout, 0, {}, [], False
        self.cond = threading.Condition()
        cmd_r, cmd_w = os.pipe(); ev_r, ev_w = os.pipe()
        def fds():  # in the child, before exec: our pipe ends become its fds 3 and 4
            a, b = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10), fcntl.fcntl(ev_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3); os.dup2(b, 4); os.set_inheritable(3, True); os.set_inheritable(4, True)
        self.log = open(log, 'wb')
        self.proc = subprocess.Popen([exe, *FLAGS, f'--user-data-dir={profile}', '--remote-debugging-pipe', 'about:blank'],
                                     preexec_fn=fds, close_fds=False, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        os.close(cmd_r); os.close(ev_w)
        self.w, self.r = os.fdopen(cmd_w, 'wb', buffering=0), os.fdopen(ev_r, 'rb', buffering=0)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b''
        while chunk := self.r.read(1 << 16):
            *msgs, buf = (buf + chunk).split(b'\0')
            with self.cond:
                for m in msgs:
                    d = json.loads(m)
                    if 'id' in d: self.replies[d['id']] = d
                    else: self.events.append(d)
                self.cond.notify_all()
        with self.cond: self.closed = True; self.cond.notify_all()

    def send(self, method:str, session:str|None=None, **params) -> dict:
        "Send one command and wait for its result (RuntimeError with Chromium's message on an error)."
        with self.cond: self.next_id += 1; i = self.next_id
        msg = dict(id=i, method=method, params=params) | (dict(sessionId=session) if session else {})
        try: self.w.write(json.dumps(msg).encode() + b'\0')
        except BrokenPipeError: raise RuntimeError(f'{method}: Chromium has exited (exit code {self.proc.poll()})') from None
        with self.cond:
            if not self.cond.wait_for(lambda: i in self.replies or self.closed, self.timeout):
                raise TimeoutError(f'{method}: no reply from Chromium in {self.timeout:g}s')
            if i not in self.replies: raise RuntimeError(f'{method}: Chromium closed the pipe')
            d = self.replies.pop(i)
        if 'error' in d: raise RuntimeError(f"{method}: {d['error'].get('message')} {d['error'].get('data', '')}")
        return d['result']

    def wait_event(self, method:str, session:str, start:int, timeout:float|None=None) -> dict:
        "The first event `method` of `session` at or after position `start` of the event list."
        found = lambda: next((e for e in self.events[start:] if e['method'] == method and e.get('sessionId') == session), None)
        with self.cond:
            if not self.cond.wait_for(lambda: found() or self.closed, timeout or self.timeout) or not found():
                raise TimeoutError(f'no {method} event in {timeout or self.timeout:g}s')
            return found()

    def close(self):
        try: self.send('Browser.close')
        except Exception: pass
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait(10)
        self.w.close(); self.log.close()


class Tab:
    "One page of the browser, with what went wrong while it loaded (JS exceptions, console errors, failed requests)."
    def __init__(self, browser:Chromium):
        self.b = browser
        self.target = browser.send('Target.createTarget', url='about:blank')['targetId']
        self.s = browser.send('Target.attachToTarget', targetId=self.target, flatten=True)['sessionId']
        for domain in ('Page', 'Runtime', 'Log', 'Network'): self.send(f'{domain}.enable')
        self.send('Emulation.setDeviceMetricsOverride', width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)
        self.mark = len(browser.events)

    def send(self, method:str, **params) -> dict: return self.b.send(method, self.s, **params)

    def open(self, url:str, timeout:float=30.):
        "Navigate to `url` and wait for its load event."
        self.mark = len(self.b.events)
        r = self.send('Page.navigate', url=url)
        if r.get('errorText'): raise AssertionError(f'{url}: {r["errorText"]}')
        self.b.wait_event('Page.loadEventFired', self.s, self.mark, timeout)

    def js(self, expr:str):
        "Value of a JavaScript expression in the page (promises awaited); AssertionError on a thrown exception."
        r = self.send('Runtime.evaluate', expression=expr, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r: raise AssertionError(f'JS error in test expression: {r["exceptionDetails"]}')
        return r['result'].get('value')

    def _events(self):
        return [(e['method'], e['params']) for e in self.b.events[self.mark:] if e.get('sessionId') == self.s]

    def problems(self) -> list[str]:
        "JS exceptions, console errors and failed or 4xx/5xx requests to the site itself since the last `open`."
        out, origin = [], self.js('location.origin')
        failed = {p['requestId'] for m, p in self._events() if m == 'Network.loadingFailed' and not p.get('canceled')}
        urls = {p['requestId']: p['request']['url'] for m, p in self._events() if m == 'Network.requestWillBeSent'}
        local = lambda url: url.startswith((origin, 'data:', 'blob:', 'about:'))
        for m, p in self._events():
            if m == 'Runtime.exceptionThrown':
                d = p['exceptionDetails']
                out.append(f"JS exception: {d.get('exception', {}).get('description') or d.get('text')} "
                           f"at {d.get('url')}:{d.get('lineNumber')}")
            elif m == 'Runtime.consoleAPICalled' and p['type'] in ('error', 'assert'):
                out.append('console.error: ' + ' '.join(str(a.get('value', a.get('description'))) for a in p['args']))
            elif m == 'Log.entryAdded' and p['entry']['level'] == 'error' and p['entry'].get('source') != 'network':
                out.append(f"console: {p['entry']['text']} {p['entry'].get('url', '')}")
            elif m == 'Network.responseReceived' and p['response']['status'] >= 400 and local(p['response']['url']) \
                    and not p['response']['url'].endswith('/favicon.ico'):
                out.append(f"HTTP {p['response']['status']} for {p['response']['url']}")
        out += [f"request failed: {urls.get(r, r)}" for r in sorted(failed) if local(urls.get(r, ''))]
        return out

    def foreign_requests(self) -> list[str]:
        "URLs the page asked for from another host (the site should be self-contained) since the last `open`."
        origin = self.js('location.origin')
        return sorted({p['request']['url'] for m, p in self._events() if m == 'Network.requestWillBeSent'
                       and not p['request']['url'].startswith((origin, 'data:', 'blob:', 'about:'))})

    def screenshot(self, path:Path, full:bool=False, selector:str|None=None) -> Path:
        "Save a PNG of the viewport, the whole page, or the element matching `selector` (with a margin) to `path`."
        params = dict(format='png')
        if selector:
            r = self.js(f"""(() => {{ const b = document.querySelector({json.dumps(selector)}).getBoundingClientRect();
                return {{x: 0, y: Math.max(0, b.top + window.scrollY - 150), width: {WIDTH}, height: b.height + 300, scale: 1}}; }})()""")
            params |= dict(captureBeyondViewport=True, clip=r)
        elif full:
            h = self.js('Math.min(document.documentElement.scrollHeight, 6000)')
            params |= dict(captureBeyondViewport=True, clip=dict(x=0, y=0, width=WIDTH, height=h, scale=1))
        path.write_bytes(base64.b64decode(self.send('Page.captureScreenshot', **params)['data']))
        return path


# ---- fixtures: the browser (skips without it), the built site, an http server

@pytest.fixture(scope='module')
def chromium_exe() -> str:
    exe = find_chromium()
    if exe: return exe
    msg = ('Chromium not found (looked for $PRISM_CHROMIUM, then ' + ', '.join(CHROMIUM_NAMES) + ' on PATH); '
           'install it with `sudo scripts/install_browser.sh` (Debian/Ubuntu) or set PRISM_CHROMIUM to a Chrome/Chromium binary')
    if ci(): pytest.fail(f'CI is set but the docs browser test cannot run: {msg}')
    pytest.skip(msg)


def site_is_fresh() -> bool:
    "Whether `_docs/` was built after the last change to the notebooks, their settings and the build script."
    idx = DOCS/'index.html'
    if not idx.is_file() or not (DOCS/'search.json').is_file(): return False
    srcs = list(NBS.rglob('*.ipynb')) + list(NBS.glob('*.yml')) + [ROOT/'settings.ini', ROOT/'scripts'/'build_docs.py']
    return idx.stat().st_mtime >= max(p.stat().st_mtime for p in srcs if p.exists())


@pytest.fixture(scope='module')
def site(chromium_exe, request) -> Path:
    "The built site: `_docs/` when it is newer than the notebooks, else built now (as tests/test_docs.py does)."
    if not site_is_fresh():
        request.getfixturevalue('data_root')  # the build runs the notebooks' docs cells, which read the data
        r = subprocess.run([sys.executable, str(ROOT/'scripts'/'build_docs.py'), '--quiet'], cwd=ROOT,
                           capture_output=True, text=True, timeout=1800)
        assert r.returncode == 0, f'docs build failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}'
    assert (DOCS/'index.html').is_file(), 'no _docs/index.html after the build'
    return DOCS


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass

def doc_baseurl() -> str:
    "settings.ini's `doc_baseurl` (`/prism`): the path GitHub Pages publishes the site under."
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(ROOT/'settings.ini', encoding='utf-8')
    return '/' + cfg['DEFAULT'].get('doc_baseurl', '/').strip('/')

@pytest.fixture(scope='module')
def base_url(site, tmp_path_factory) -> str:
    """The site served over http on 127.0.0.1 on a free port under `doc_baseurl` (`http://127.0.0.1:PORT/prism/`),
    as GitHub Pages serves it: the server's root holds nothing but that folder (a link to `_docs/`), so a link,
    image, stylesheet or search request that leaves the base path gets a 404."""
    root = tmp_path_factory.mktemp('pages')
    base = doc_baseurl().strip('/')
    if base:
        (root/base).parent.mkdir(parents=True, exist_ok=True)
        (root/base).symlink_to(site.resolve(), target_is_directory=True)
    else: root = site
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(root)))
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    yield f'http://127.0.0.1:{srv.server_address[1]}/' + (base + '/' if base else '')
    srv.shutdown(); srv.server_close()


@pytest.fixture(scope='module')
def browser(chromium_exe, tmp_path_factory) -> Chromium:
    d = tmp_path_factory.mktemp('chromium')
    b = Chromium(chromium_exe, d/'profile', d/'chromium.log')
    try: b.send('Browser.getVersion')
    except Exception as e:
        b.close()
        pytest.fail(f'Chromium ({chromium_exe}) did not start: {e}\n{(d/"chromium.log").read_text(errors="replace")[-2000:]}')
    yield b
    b.close()


@pytest.fixture
def tab(browser) -> Tab:
    t = Tab(browser)
    yield t
    browser.send('Target.closeTarget', targetId=t.target)


@pytest.fixture(scope='module')
def shots(tmp_path_factory) -> Path:
    "Where screenshots go: `$PRISM_SCREENSHOTS`, else a pytest tmp folder."
    d = Path(os.environ['PRISM_SCREENSHOTS']) if os.environ.get('PRISM_SCREENSHOTS') else tmp_path_factory.mktemp('screenshots')
    d.mkdir(parents=True, exist_ok=True)
    return d


# ---- the checks

PAGE_STATE = """(async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; setTimeout(r, 10000); })));
  const sb = document.querySelector('#quarto-sidebar');
  const box = sb ? sb.getBoundingClientRect() : null;
  const main = document.querySelector('main');
  return {
    title: document.title,
    h1: (document.querySelector('main h1') || {}).textContent || '',
    main_text: main ? main.innerText.length : 0,
    sidebar: sb ? {width: box.width, height: box.height, visible: getComputedStyle(sb).visibility !== 'hidden' && box.width > 50,
                   links: Array.from(sb.querySelectorAll('a.sidebar-link')).map(a => a.href)} : null,
    images: imgs.map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth})),
    search: !!document.querySelector('.smalldocs-search input'),
    css_ok: getComputedStyle(document.body).fontFamily !== '' && !!document.querySelector('#quarto-header'),
  };
})()"""


@pytest.mark.parametrize('page', PAGES)
def test_page_renders_with_sidebar_and_images(page, base_url, tab):
    "Each page loads without JS errors or failed requests, shows the sidebar linking every page, and its images decode."
    tab.open(base_url + page)
    st = tab.js(PAGE_STATE)
    assert st['title'].strip(), f'{page}: empty <title>'
    assert st['h1'].strip(), f'{page}: no H1 title in <main>'
    assert st['main_text'] > 200, f'{page}: <main> holds only {st["main_text"]} characters of text'
    assert st['css_ok'], f'{page}: the stylesheet or the header did not load'
    assert st['search'], f'{page}: no search box'
    assert st['sidebar'], f'{page}: no #quarto-sidebar'
    assert st['sidebar']['visible'], f'{page}: sidebar not visible at {WIDTH}px ({st["sidebar"]})'
    linked = {l.removeprefix(base_url).split('#')[0] for l in st['sidebar']['links']}
    missing = [p for p in PAGES if p not in linked]
    assert not missing, f'{page}: sidebar has no link to {missing}'
    broken = [i['src'].removeprefix(base_url)[:120] for i in st['images'] if not i['ok']]
    assert not broken, f'{page}: {len(broken)} of {len(st["images"])} images did not load: {broken}'
    problems = tab.problems()
    assert not problems, f'{page}: ' + '\n'.join(problems)


def test_site_is_self_contained(base_url, tab):
    """No page fetches anything from another host: the docs work offline (workshops) and tell no third party
    who reads them (a privacy library's docs should not send readers' IP addresses to a font CDN)."""
    foreign = {}
    for page in PAGES:
        tab.open(base_url + page)
        tab.js(PAGE_STATE)
        for url in tab.foreign_requests(): foreign.setdefault(url, []).append(page)
    assert not foreign, 'pages fetch from other hosts:\n' + '\n'.join(f'{u} (from {", ".join(p)})' for u, p in foreign.items())


def test_site_works_under_its_base_path(base_url, tab):
    """Served under `doc_baseurl`, as on GitHub Pages, every request a page makes to the site stays under that path
    (relative links: nothing assumes the site is at the server's root), and the search index loads from there."""
    assert base_url.rstrip('/').endswith(doc_baseurl().rstrip('/')), base_url
    outside = {}
    for page in PAGES:
        tab.open(base_url + page)
        tab.js(PAGE_STATE)
        origin = tab.js('location.origin')
        for m, p in tab._events():
            url = p['request']['url'] if m == 'Network.requestWillBeSent' else ''
            if url.startswith(origin) and not url.startswith(base_url): outside.setdefault(url, []).append(page)
        links = tab.js("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        for url in links:
            if url.startswith(origin) and not url.startswith(base_url): outside.setdefault(url, []).append(page)
    assert not outside, f'requests or links outside {base_url}:\n' + '\n'.join(f'{u} (from {", ".join(sorted(set(p)))})' for u, p in outside.items())
    tab.open(base_url + 'index.html')
    n = tab.js(f"fetch({json.dumps(base_url + 'search.json')}).then(r => r.ok ? r.json() : []).then(d => d.length)")
    assert n and n > 10, f'search.json does not load under {base_url}'


FRONT = """(() => {
  const main = document.querySelector('main');
  return {
    links: Array.from(main.querySelectorAll('a[href]')).map(a => a.href),
    code: Array.from(main.querySelectorAll('pre, code')).map(c => c.innerText).join('\\n'),
    images: Array.from(main.querySelectorAll('img')).map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
    tables: main.querySelectorAll('table').length,
    text: main.innerText,
  };
})()"""

def test_front_page_shows_install_results_and_links(base_url, tab):
    "The index shows the install command, the privacy-utility plot and results tables, and links to every stage and tutorial."
    tab.open(base_url + 'index.html')
    tab.js(PAGE_STATE)
    st = tab.js(FRONT)
    assert 'pip install' in st['code'], 'the front page shows no `pip install` command'
    linked = {l.removeprefix(base_url).split('#')[0] for l in st['links']}
    missing = [p for p in PAGES if p != 'index.html' and p not in linked]
    assert not missing, f'the front page text does not link to {missing} (the sidebar does not count)'
    assert any(i['ok'] for i in st['images']), 'the front page shows no figure (the privacy-utility plot)'
    assert st['tables'] >= 3, f'the front page has {st["tables"]} tables; expected the data summary and both results tables'


def exported_name() -> tuple[str, str]:
    "(query, name): `STGCN` -> `STGCN_PRISM` when that is exported, else `load_utd` -> `load_utd_mhad`."
    import importlib, prism._modidx as mi
    importlib.reload(mi)
    syms = {n.split('.')[-1] for s in mi.d['syms'].values() for n in s}
    return ('STGCN', 'STGCN_PRISM') if 'STGCN_PRISM' in syms else ('load_utd', 'load_utd_mhad')


def test_search_finds_an_exported_function(base_url, tab):
    "Typing into the site's search box lists the function, and its result leads to the function's documentation."
    query, name = exported_name()
    tab.open(base_url + 'index.html')
    tab.js("document.querySelector('.smalldocs-search input').focus()")
    tab.send('Input.insertText', text=query)   # typed as a user would: fires the box's input event
    hits = []
    for _ in range(100):
        hits = tab.js("""Array.from(document.querySelectorAll('.smalldocs-search-results .search-result')).map(a =>
            ({href: a.href, text: a.innerText, visible: a.getBoundingClientRect().height > 0}))""")
        if hits: break
        time.sleep(0.1)
    assert hits, f'typing {query!r} into the search box lists nothing'
    assert all(h['visible'] for h in hits), 'search results are listed but not visible'
    hit = next((h for h in hits if name in h['text']), None)
    assert hit, f'typing {query!r} does not list {name}; results: {[h["text"][:60] for h in hits]}'
    page, _, anchor = hit['href'].removeprefix(base_url).partition('#')
    tab.open(hit['href'])
    assert tab.js(f'!!document.getElementById({json.dumps(anchor)})'), f'search result {hit["href"]} has no #{anchor} on {page}'
    assert name in tab.js('document.querySelector("main").innerText'), f'{page} does not show {name}'
    assert not tab.problems(), '\n'.join(tab.problems())


TUTORIALS = [p for p in PAGES if p.startswith('tutorials/')]

@pytest.mark.parametrize('page', TUTORIALS)
def test_tutorial_solutions_are_folded(page, base_url, tab, shots):
    "Exercise solutions show as closed 'Solution' folds that open on a click."
    tab.open(base_url + page)
    folds = tab.js("""Array.from(document.querySelectorAll('main details.code-fold')).map(d =>
        ({open: d.open, summary: d.querySelector('summary').innerText, shown: d.querySelector('pre').checkVisibility()}))""")
    assert len(folds) >= 2, f'{page}: {len(folds)} folded solutions; tutorials end with 2-3 exercises with hidden solutions'
    assert not any(f['open'] for f in folds), f'{page}: a solution is shown open: {folds}'
    assert all('olution' in f['summary'] for f in folds), f'{page}: fold summaries should say "Solution": {folds}'
    assert not any(f['shown'] for f in folds), f'{page}: a folded solution is visible: {folds}'
    tab.js("document.querySelector('main details.code-fold summary').click()")
    assert tab.js("document.querySelector('main details.code-fold').open"), f'{page}: clicking a solution does not open it'
    assert tab.js("document.querySelector('main details.code-fold pre').checkVisibility()"), f'{page}: an opened solution stays hidden'
    tab.screenshot(shots/f'{Path(page).stem}_solution.png', selector='main details.code-fold')
    tab.screenshot(shots/f'{Path(page).stem}_full.png', full=True)
    assert not tab.problems(), '\n'.join(tab.problems())


def _distinct_colours(png:Path) -> int:
    from PIL import Image
    with Image.open(png) as im: return len(im.convert('RGB').resize((320, 225)).getcolors(1 << 16) or [])


def test_screenshots_are_not_blank(base_url, tab, shots):
    "Screenshots of the front page and a module page (kept for a human to look at) show a rendered page."
    mods = [p for p in PAGES if p != 'index.html' and '/' not in p]
    for page in ['index.html'] + (['models.html'] if 'models.html' in mods else mods[:1]):
        tab.open(base_url + page)
        tab.js(PAGE_STATE)   # wait for the images
        png = tab.screenshot(shots/f'{Path(page).stem}.png')
        tab.screenshot(shots/f'{Path(page).stem}_full.png', full=True)
        assert _distinct_colours(png) > 20, f'{page}: screenshot {png} is (nearly) blank'


FIT = """(() => {
  const main = document.querySelector('main'), right = main.getBoundingClientRect().right;
  const text = e => (e.innerText || '').split('\\n').sort((a, b) => b.length - a.length)[0].slice(0, 90);
  const lines = e => { const r = document.createRange(); r.selectNodeContents(e);
                       return new Set(Array.from(r.getClientRects()).map(b => Math.round(b.top))).size; };
  return {
    width: main.clientWidth,
    cut: Array.from(main.querySelectorAll('pre')).filter(e => e.scrollWidth > e.clientWidth + 2).map(text),
    out: Array.from(main.querySelectorAll('pre, table, img, .cell-output')).filter(e => e.getBoundingClientRect().right > right + 2)
                .map(e => e.tagName + ': ' + (e.tagName === 'IMG' ? e.naturalWidth + ' px' : text(e))),
    wrapped: Array.from(main.querySelectorAll('td')).filter(td => td.innerText.includes('±') && lines(td) > 1).map(td => td.innerText),
    shrunk: Array.from(main.querySelectorAll('img')).filter(i => i.naturalWidth > 0 && i.getBoundingClientRect().width < 0.45 * i.naturalWidth)
                .map(i => `${i.naturalWidth} px shown at ${Math.round(i.getBoundingClientRect().width)} px`),
  };
})()"""


@pytest.mark.parametrize('page', PAGES)
def test_pages_fit_the_column(page, base_url, tab, shots):
    """At 1280 px the body column gets most of the window, and everything in it fits: no code or output line is cut
    off (long lines wrap), no table, figure or output runs past the column (a wide table scrolls in its own box), a
    `mean ± std` cell stays on one line, and no figure is shrunk below 45% of its width (a figure whose panels stand
    side by side: stack them, one per row)."""
    tab.open(base_url + page)
    tab.js(PAGE_STATE)   # images loaded
    fit = tab.js(FIT)
    if page == 'index.html': tab.screenshot(shots/'index_fit_full.png', full=True)
    assert fit['width'] >= 0.55 * WIDTH, f'{page}: the body column is {fit["width"]} px of a {WIDTH} px window'
    assert not fit['cut'], f'{page}: {len(fit["cut"])} code or output blocks are cut off, e.g. {fit["cut"][:3]}'
    assert not fit['out'], f'{page}: runs past the body column: {fit["out"][:5]}'
    assert not fit['wrapped'], f'{page}: mean ± std cells broken over two lines: {fit["wrapped"][:5]}'
    assert not fit['shrunk'], f'{page}: figures shrunk to fit the column: {fit["shrunk"]}'
