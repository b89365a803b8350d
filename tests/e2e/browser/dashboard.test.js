'use strict';
// The web dashboard in headless Chromium against the real binary (issue 7, Tests): `cairn demo`
// starts on a small simulated business, the page logs in with the admin key the demo printed, the
// overview shows live numbers (the same as GET /v1/dashboard), a goal edit changes the ETA, the
// funnel builder shows the counts the API answers for the same spec, the segment and range
// filters change the numbers to the API's answer for that filter, the paths / stickiness /
// lifecycle builders show the API's counts and list the customers behind a clicked number, the
// customer page shows a
// simulated customer's timeline, and the rescue queue acts on an item. Any console error, failed
// request or request leaving 127.0.0.1 fails the test. Screenshots: $CAIRN_E2E_ARTIFACTS (ctest
// sets build/<dir>/e2e-artifacts) or a temp dir.
//
// Usage: node tests/e2e/browser/dashboard.test.js /path/to/cairn
// UI development: CAIRN_E2E_URL=http://127.0.0.1:5173 CAIRN_E2E_KEY=<admin key> runs the browser
// part against a running server (e.g. `npm run dev` in web/ proxying to a `cairn demo`); the
// binary's own serving checks are skipped then.
// Exits 77 (skipped) when web/node_modules is missing (scripts/setup not run) or the binary
// embeds the placeholder page instead of the dashboard (built without npm).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const WEB_DIR = path.resolve(__dirname, '..', '..', '..', 'web');
if (!fs.existsSync(path.join(WEB_DIR, 'node_modules', 'playwright-core'))) {
  console.log(`SKIP: ${path.join(WEB_DIR, 'node_modules')} is missing (run scripts/setup)`);
  process.exit(77);
}
const { chromium } = require(path.join(WEB_DIR, 'node_modules', 'playwright-core'));
const { test } = require('node:test');
const assert = require('node:assert/strict');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const BINARY = process.argv[2] || process.env.CAIRN_BIN;
const ARTIFACTS = process.env.CAIRN_E2E_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-e2e-'));
fs.mkdirSync(ARTIFACTS, { recursive: true });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(fn, { timeoutMs = 30000, intervalMs = 250, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// `cairn demo` on a fresh data dir and a free port; resolves once it printed its URL, admin key
// and that the business is live.
async function startDemo(t) {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-e2e-data-'));
  const proc = spawn(BINARY, ['demo', '--data', path.join(data, 'd'), '--listen', '127.0.0.1:0', '--customers', '600',
    '--days', '120', '--seed', '7', '--live-rate', '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  proc.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const kill = () => { try { proc.kill('SIGKILL'); } catch { /* gone */ } };
  process.on('exit', kill);
  t.after(async () => {
    proc.kill('SIGTERM');
    const timer = setTimeout(kill, 20000);
    await exited;
    clearTimeout(timer);
    // The demo's own account of the run, beside the screenshots: what to read when a step failed.
    fs.writeFileSync(path.join(ARTIFACTS, 'demo.stdout.log'), out);
    fs.writeFileSync(path.join(ARTIFACTS, 'demo.stderr.log'), err);
    fs.rmSync(data, { recursive: true, force: true });
  });
  const ready = await Promise.race([
    waitFor(() => {
      const url = /Dashboard:\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      const key = /created admin key[^:]*:\s*(\S+)/.exec(out);
      return url && key && /simulated business is live/.test(out) ? { url: url[1], key: key[1] } : null;
    }, { timeoutMs: 90000, what: `cairn demo to start (stdout: ${out})` }),
    exited.then((e) => { throw new Error(`cairn demo exited ${JSON.stringify(e)}: ${err.slice(-2000)}`); }),
  ]);
  return ready;
}

function client(base, key) {
  return async (method, p, body) => {
    const res = await fetch(base + p, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${p}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
}

// The binary serves the built dashboard (not the placeholder), with its caching rules.
async function checkServing(url) {
  const index = await fetch(`${url}/`);
  const html = await index.text();
  if (!html.includes('name="cairn-ui"')) {
    console.log('SKIP: this binary embeds the placeholder page (built without npm)');
    process.exit(77);
  }
  assert.match(index.headers.get('content-security-policy'), /default-src 'self'/);
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)[1];
  const js = await fetch(url + script, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const spa = await fetch(`${url}/customers/u:42`, { headers: { accept: 'text/html' } });
  assert.equal(spa.status, 200);
  assert.ok((await spa.text()).includes('name="cairn-ui"'), 'client routes serve index.html');
  const apiMiss = await fetch(`${url}/v1/no-such-route`, { headers: { accept: 'text/html' } });
  assert.equal(apiMiss.status, 404);
  assert.match(apiMiss.headers.get('content-type'), /json/);

}

test('the dashboard in a real browser against cairn demo', { timeout: 290000 }, async (t) => {
  const external = process.env.CAIRN_E2E_URL;
  if (!external && (!BINARY || !fs.existsSync(BINARY))) throw new Error(`cairn binary not found: ${BINARY}`);
  const { url, key } = external ? { url: external, key: process.env.CAIRN_E2E_KEY } : await startDemo(t);
  const api = client(url, key);
  if (!external) await checkServing(url);

  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run',
      // No name resolves but 127.0.0.1: anything the page tried elsewhere would fail and be seen.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  });
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  // Chromium logs every 4xx answer to fetch as a console error. Two are the login contract, not
  // faults: GET /v1/session answers 401 while logged out, POST /v1/session 401 for a wrong key.
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location().url || '';
    if (/status of 401/.test(m.text()) && new URL(where, url).pathname === '/v1/session') return;
    problems.push(`console: ${m.text()} (${where})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (u.hostname !== '127.0.0.1' && u.protocol !== 'data:') problems.push(`external request: ${r.url()}`);
  });
  // The chart library's chunk (web/src/charts.ts): the overview draws without it.
  const chartChunks = [];
  page.on('request', (r) => {
    if (/^\/assets\/charts-[^/]*\.js$/.test(new URL(r.url()).pathname)) chartChunks.push(r.url());
  });
  const shot = (name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  const clearFilters = async () => {
    if (!new URL(page.url()).search || (await page.locator('#filters-reset').count()) === 0) return;
    await page.click('#filters-reset', { timeout: 5000 });
    await waitFor(async () => !new URL(page.url()).search, { timeoutMs: 5000, what: 'the filters cleared' });
  };
  const step = async (name, fn) => {
    await t.test(name, async () => {
      try {
        await fn();
      } catch (e) {
        // A step that fails midway may leave a date range or segment set; the later steps expect
        // the whole business, so clear the filters before reporting (one failure, not a cascade).
        await shot(name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()).catch(() => {});
        await clearFilters().catch(() => {});
        throw e;
      }
      await shot(name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()).catch(() => {});
      assert.deepEqual(problems.splice(0), [], 'no console errors, failed or external requests');
    });
  };

  let sessionMode = false;  // the server has the session login (else the page sends the key as Bearer)
  await step('login with the printed admin key', async () => {
    await page.goto(url + '/');
    await page.waitForSelector('#login-form');
    assert.match(await page.textContent('#login-form'), /created admin key/, 'the login page says where the key is');
    await page.fill('#login-key', 'not-a-key-0123456789');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('.login-status.error');
    await page.fill('#login-key', key);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('.goal');
    // The session cookie is HttpOnly: the page cannot read it, the browser sends it.
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'cairn_session');
    sessionMode = Boolean(session);
    if (session) assert.equal(session.httpOnly, true);
    assert.equal(await page.evaluate(() => document.cookie.includes('cairn_session')), false);
  });

  let goal;
  await step('overview shows live numbers', async () => {
    const o = await api('GET', '/v1/dashboard');
    assert.ok(o.goals.length > 0, 'cairn demo pre-configures goals');
    goal = o.goals[0];
    await page.waitForSelector('[data-light]');
    assert.equal(await page.locator('[data-light]').count(), o.hazards.length);
    const card = page.locator(`.goal[data-goal-id="${goal.id}"]`);
    const odometer = await card.locator('.odometer .big').textContent();
    const fmt = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
    assert.match(odometer, new RegExp(`/ ${fmt.format(goal.target).replace(/,/g, ',')}$`));
    assert.ok(goal.progress > 0, 'the simulated history made progress');
    // Live: the simulated business keeps sending, the page refreshes and its sequence moves on.
    const seq0 = Number(await page.getAttribute('.meta', 'data-seq'));
    assert.ok(seq0 > 0);
    await waitFor(async () => Number(await page.getAttribute('.meta', 'data-seq')) > seq0,
      { timeoutMs: 40000, what: 'the overview to refresh with newer data' });
  });

  await step('the overview draws the API answer it got, beside the session check and without the chart library', async () => {
    assert.deepEqual(chartChunks, [], 'the overview requested the chart library');
    // A reload while signed in: the overview's calls start beside the session check (not after
    // its answer), and every instrument of the first screen draws the answer the page got.
    const order = [];
    const seen = (what) => (r) => {
      const p = new URL(r.url()).pathname;
      if (p === '/v1/dashboard' || p === '/v1/session') order.push(`${what} ${p}`);
    };
    const onRequest = seen('request');
    const onResponse = seen('response');
    page.on('request', onRequest);
    page.on('response', onResponse);
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/dashboard');
    await page.reload();
    const o = await (await answered).json();
    await page.waitForSelector('#overview[data-ready="1"]');
    page.off('request', onRequest);
    page.off('response', onResponse);
    if (sessionMode) {
      const asked = order.indexOf('request /v1/dashboard');
      assert.ok(asked >= 0 && asked < order.indexOf('response /v1/session'), `order: ${order.join(', ')}`);
    }
    // Everything drawn, read at once (the 15 s refresh could redraw between separate reads).
    const drawn = await page.evaluate(() => {
      const dialOf = (svg) => {
        const n = svg.querySelector('.needle');
        const a = (k) => Number(n.getAttribute(k));
        return { value: Number(svg.dataset.value), max: Number(svg.dataset.max), text: svg.querySelector('.dial-value').textContent,
          needle: (Math.atan2(a('y1') - a('y2'), a('x2') - a('x1')) * 180) / Math.PI, label: svg.getAttribute('aria-label') };
      };
      const goals = {};
      for (const g of document.querySelectorAll('.goal[data-goal-id]')) {
        const eta = g.querySelector('svg.eta-line');
        const dot = eta.querySelector('.eta-dot');
        const band = eta.querySelector('.band');
        goals[g.dataset.goalId] = {
          speed: dialOf(g.querySelector('svg[data-gauge="speed"]')),
          eta: eta.dataset.eta, etaText: g.querySelector('.eta').textContent,
          dotX: dot ? parseFloat(dot.getAttribute('cx')) : null,
          band: band ? [parseFloat(band.getAttribute('x')), parseFloat(band.getAttribute('x')) + parseFloat(band.getAttribute('width'))] : null,
          deadlineX: parseFloat(eta.querySelector('.mark-deadline').getAttribute('x1')),
        };
      }
      return {
        goals,
        rev: dialOf(document.querySelector('svg[data-gauge="rev"]')),
        mirrors: document.querySelector('svg.bars').dataset.values,
        lights: [...document.querySelectorAll('[data-light]')].map((li) => [li.dataset.light, li.classList.contains('on')]),
        canvases: document.querySelectorAll('#overview canvas').length,
      };
    });
    const nf1 = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
    // Drawn positions are rounded to 0.01 (degrees from the needle's rounded ends, % of the line).
    const near = (got, want, what) => assert.ok(Math.abs(got - want) < 0.1, `${what}: drawn ${got}, expected ${want}`);
    // The dial's scale and needle as web/src/svg_gauges.ts documents them: 200° (left) at 0,
    // -20° at max, clockwise; values past the ends stop there.
    const angle = (v, max) => 200 - 220 * Math.min(1, Math.max(0, v / max));
    const degrees = (a) => ((a % 360) + 360) % 360;
    for (const g of o.goals) {
      const d = drawn.goals[g.id];
      assert.ok(d, `goal ${g.id} is drawn`);
      const max = Math.ceil(Math.max(1, (g.speed.rate_needed ?? g.speed.rate_recent) * 2, g.speed.rate_recent * 1.2));
      assert.equal(d.speed.value, g.speed.rate_recent, `goal ${g.id}: speed`);
      assert.equal(d.speed.max, max, `goal ${g.id}: the speedometer's scale`);
      assert.equal(d.speed.text, `${nf1.format(g.speed.rate_recent)}/day`);
      near(degrees(d.speed.needle), degrees(angle(g.speed.rate_recent, max)), `goal ${g.id}: the needle's angle`);
      assert.equal(d.eta, g.eta ?? '', `goal ${g.id}: ETA`);
      if (g.eta && !g.reached) assert.ok(d.etaText.startsWith(g.eta), `goal ${g.id}: ETA text ${d.etaText}`);
      // The time line's scale in % of its width (svg_gauges.ts timeDomain: 3 days before the
      // first date shown, 7 after the last; 2% of margin at both ends).
      const ms = (s) => Date.parse(`${s.slice(0, 10)}T00:00:00Z`);
      const days = [g.start, o.today, g.deadline, g.eta, g.eta_low, g.eta_high].filter(Boolean).map(ms);
      const t0 = Math.min(...days) - 3 * 86400000;
      const t1 = Math.max(...days) + 7 * 86400000;
      const x = (s) => 2 + ((ms(s) - t0) / (t1 - t0)) * 96;
      near(d.deadlineX, x(g.deadline), `goal ${g.id}: the deadline mark`);
      if (g.eta) near(d.dotX, x(g.eta), `goal ${g.id}: the ETA dot`);
      else assert.equal(d.dotX, null);
      if (g.eta_low && g.eta_high) {
        near(d.band[0], x(g.eta_low), `goal ${g.id}: the band's start`);
        near(d.band[1], Math.max(x(g.eta_high), x(g.eta_low) + 0.5), `goal ${g.id}: the band's end`);
      }
    }
    const rev = o.rev;
    const revMax = Math.ceil(Math.max(10, rev.touches_prev_7d * 2, rev.touches_7d * 1.2));
    assert.equal(drawn.rev.value, rev.touches_7d, 'rev counter');
    assert.equal(drawn.rev.max, revMax, "the rev counter's scale");
    near(degrees(drawn.rev.needle), degrees(angle(rev.touches_7d, revMax)), "the rev counter's needle");
    assert.equal(drawn.mirrors, o.mirrors.weeks.map((w) => w.mentions).join(','), 'mirrors: mentions per week');
    assert.deepEqual(drawn.lights, o.hazards.map((z) => [z.light, z.on]), 'hazard lights');
    assert.equal(drawn.canvases, 0, 'no canvas (chart library) on the overview');
    assert.deepEqual(chartChunks, [], 'the overview requested the chart library');
  });

  await step('a goal edit changes the ETA', async () => {
    const card = page.locator(`.goal[data-goal-id="${goal.id}"]`);
    const before = await card.locator('.eta').getAttribute('data-eta');
    const target = Math.round(goal.progress * 3 + goal.target * 2 + 1000);
    await card.locator('details.edit summary').click();
    await card.locator('input[name=target]').fill(String(target));
    await card.locator('button[type=submit]').click();
    const fresh = page.locator(`.goal[data-goal-id="${goal.id}"]`);
    await waitFor(async () => (await fresh.locator('.odometer .big').textContent()).endsWith(
      new Intl.NumberFormat('en', { maximumFractionDigits: 0 }).format(target)), { what: 'the new target on the page' });
    const after = await fresh.locator('.eta').getAttribute('data-eta');
    const o = await api('GET', '/v1/dashboard');
    const g = o.goals.find((x) => x.id === goal.id);
    assert.equal(g.target, target);
    // Live revenue moves progress (today counts) and so, rarely, the ETA by a day.
    const days = (a, b) => Math.abs(Date.parse(a) - Date.parse(b)) / 86400000;
    assert.ok(after === (g.eta ?? '') || (after && g.eta && days(after, g.eta) <= 2),
      `the page shows the API ETA (page ${after}, API ${g.eta})`);
    assert.notEqual(after, before, `the ETA moved (before ${before}, after ${after})`);
  });

  // Early: the history's going-cold rescues close on their own as their customers come back, so
  // open ones of consenting customers are plentiful only in the first minutes.
  await step('the rescue queue acts on an item and the closed loop shows sent → outcome', async () => {
    // Rescues whose action goes to the business (the angry path's `open_case` opens a case
    // instead) for customers who granted the path's purpose on its channel: the simulated
    // customers answer consent at sign-up (Consent Updated for email and SMS, identify traits for
    // the phone; docs/simulator.md "Consent"), so some can be reached and some cannot.
    const consented = async (r) => {
      const c = await api('GET', `/v1/customers/${encodeURIComponent(r.customer.id)}/consents`);
      return (c.current ?? []).some((v) => v.purpose === 'marketing' && v.state === 'granted' && !v.expired &&
        (v.channel === '*' || v.channel === (r.path === 'competitor' ? 'phone' : 'email')));
    };
    const open = await waitFor(async () => {
      const r = await api('GET', '/v1/rescues?status=open&limit=1000');
      const reachable = [];
      // Only identified customers can have said yes (anonymous visitors were never asked).
      const candidates = r.rescues.filter((y) => y.action && y.action !== 'open_case' &&
        y.path !== 'renewal_doubt' && y.customer.ids.some((i) => i.startsWith('userId:')));
      for (const x of candidates) {
        if (await consented(x)) reachable.push(x);
        if (reachable.length >= 6) break;
      }
      return reachable.length ? reachable : null;
    }, { timeoutMs: 90000, intervalMs: 1000, what: 'open rescues of consenting customers whose action is a webhook' });
    await page.click('nav a[href^="/rescues"]');
    await page.waitForSelector('.row-actions');
    const id = open[0].id;
    const row = page.locator(`.row-actions[data-rescue-id="${id}"]`);
    await row.locator('button.act').click();
    await waitFor(async () => (await api('GET', `/v1/rescues/${id}`)).status !== 'open', { what: `rescue ${id} acted` });
    // A few more by the API, so that some simulated customer answers within the test.
    for (const r of open.slice(1)) await api('POST', `/v1/rescues/${r.id}/act`, { note: 'e2e' });
    const ids = new Set(open.map((r) => r.id));
    // The closed loop: each action is delivered to the demo's simulated business (consent
    // granted, no quiet hours on the demo's compressed time), the customer responds with the
    // simulator's probabilities, and a response is the rescue's outcome.
    let mine = [];
    await waitFor(async () => {
      mine = (await api('GET', '/v1/actions?limit=1000')).actions.filter((a) => ids.has(Number(a.source.split(':')[1])) && a.source.startsWith('rescue:'));
      return mine.length === ids.size && mine.every((a) => a.status !== 'pending' && a.status !== 'sending');
    }, { timeoutMs: 60000, what: 'the rescues\' actions settled' }).catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(mine).slice(0, 1500)}`);
    });
    for (const a of mine) assert.match(a.endpoint, /^http:\/\/127\.0\.0\.1:\d+\/demo\/actions$/, 'sent to the simulated business');
    const delivered = mine.filter((a) => a.status === 'delivered');
    assert.ok(delivered.length > 0, `consented actions are delivered: ${JSON.stringify(mine.map((a) => [a.status, a.lastError]))}`);
    let rescued = null;
    await waitFor(async () => {
      for (const a of delivered) {
        const d = await api('GET', `/v1/rescues/${a.source.split(':')[1]}`);
        if (d.status === 'succeeded') { rescued = d; return true; }
      }
      return false;
    }, { timeoutMs: 75000, intervalMs: 2000, what: 'a simulated customer to answer a delivered rescue (its outcome recorded)' });
    // The page shows the loop: sent, then the outcome.
    await page.selectOption('#rescue-status', 'succeeded');
    const cell = page.locator(`[data-loop-rescue="${rescued.id}"]`);
    await cell.waitFor();
    assert.equal(await cell.getAttribute('data-action-status'), 'delivered');
    assert.match(await cell.textContent(), /^sent .* → rescued$/);
    // And the one acted from the page left the open queue.
    await page.selectOption('#rescue-status', 'open');
    await waitFor(async () => (await page.locator(`.row-actions[data-rescue-id="${id}"]`).count()) === 0,
      { what: 'the acted rescue to leave the open queue' });
  });

  await step('the funnel builder returns the same counts as the API', async () => {
    await page.click('nav a[href^="/analyze"]');
    await page.waitForSelector('#funnel-form');
    const sent = page.waitForRequest((r) => r.url().endsWith('/v1/query/funnel') && r.method() === 'POST');
    await page.selectOption('#funnel-breakdown', 'channel');
    await page.click('#funnel-run');
    const spec = JSON.parse((await sent).postData());
    await page.waitForSelector('#funnel-counts td.count');
    const shown = await page.$$eval('#funnel-counts td.count', (tds) => tds.map((td) => Number(td.dataset.count)));
    const answer = await api('POST', '/v1/query/funnel', spec);
    // Live ingest may add customers between the two calls: only counts at least as new as the page's.
    assert.equal(shown.length, spec.steps.length);
    answer.steps.forEach((s, i) => assert.ok(s.count >= shown[i] && s.count - shown[i] <= 5,
      `step ${i + 1}: page ${shown[i]}, API ${s.count}`));
    assert.ok(shown[0] > 0, 'the first step has customers');
    assert.ok(spec.breakdown && spec.breakdown.by === 'channel');
    assert.ok(await page.locator('#funnel-who li').count() > 0, 'the who list');
    // A chart page loads the chart library: the pattern the overview's check uses is its name.
    assert.ok(chartChunks.length > 0, 'the analyze page requested the chart library');
  });

  // Counts the page shows for a query it sent vs the API's answer for the same spec: live ingest
  // may add customers between the two calls, so the API may be ahead by a few.
  const close = (page, api, what) => {
    assert.equal(page.length, api.length, `${what}: as many numbers`);
    page.forEach((v, i) => assert.ok(api[i] >= v - 5 && api[i] - v <= 5, `${what}[${i}]: page ${v}, API ${api[i]}`));
  };
  const runAndCapture = async (kind) => {
    const sent = page.waitForRequest((r) => r.url().endsWith(`/v1/query/${kind}`) && r.method() === 'POST');
    await page.click(`#${kind}-run`);
    return JSON.parse((await sent).postData());
  };

  await step('the segment filter changes the numbers to the API answer for that segment', async () => {
    // Everyone first (the funnel form of the previous step is on the page, filters empty).
    assert.equal(await page.inputValue('#segment-channel'), '');
    const all = await runAndCapture('funnel');
    assert.equal(all.segment, undefined);
    await page.waitForSelector('#funnel-counts td.count');
    const allShown = await page.$$eval('#funnel-counts td.count', (tds) => tds.map((td) => Number(td.dataset.count)));
    // An acquisition channel that holds some of the customers (the API says which): the bar puts
    // it in the URL and into every query of the page.
    const choices = await page.$$eval('#segment-channel option', (os) => os.map((o) => o.value).filter((v) => v));
    let channel = null;
    for (const ch of choices) {
      const f = await api('POST', '/v1/query/funnel', { ...all, segment: { channel: ch } });
      if (f.steps[0].count > 0 && f.steps[0].count < allShown[0]) { channel = ch; break; }
    }
    assert.ok(channel, `some channel acquired part of the customers (of ${choices})`);
    await page.selectOption('#segment-channel', channel);
    await waitFor(async () => new URL(page.url()).searchParams.get('channel') === channel, { what: 'channel in the URL' });
    await page.waitForSelector('#funnel-form');
    await page.selectOption('#funnel-breakdown', '');
    const spec = await runAndCapture('funnel');
    assert.deepEqual(spec.segment, { channel });
    await page.waitForSelector('#funnel-counts td.count');
    const shown = await page.$$eval('#funnel-counts td.count', (tds) => tds.map((td) => Number(td.dataset.count)));
    const answer = await api('POST', '/v1/query/funnel', spec);
    close(shown, answer.steps.map((s) => s.count), `funnel, channel ${channel}`);
    assert.ok(shown[0] > 0 && shown[0] < allShown[0], `a part of the customers (${shown[0]} of ${allShown[0]})`);
    // A date range too: both go into the query, and the numbers are the API's for both.
    const to = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 30 * 86400000).toISOString().slice(0, 10);
    await page.fill('#range-from', from);  // fill sets a date input's value and fires change
    await waitFor(async () => new URL(page.url()).searchParams.get('from') === from, { what: 'from in the URL' });
    await page.waitForSelector('#stickiness-form');
    const sspec = await runAndCapture('stickiness');
    assert.deepEqual(sspec.segment, { channel });
    assert.equal(sspec.from, from);
    await page.waitForSelector('.stickiness-counts .count');
    const sshown = await page.$$eval('.stickiness-counts .count', (els) => els.map((e) => Number(e.dataset.count)));
    close(sshown, (await api('POST', '/v1/query/stickiness', sspec)).counts, `stickiness, channel ${channel}, last 30 days`);
    // The journey page takes the persona and the lifecycle stage.
    const everyone = await api('GET', '/v1/journey/overview');
    const persona = everyone.personas.filter((p) => p.customers > 0).sort((a, b) => a.customers - b.customers)[0];
    await page.click('#filters-reset');
    await waitFor(async () => !new URL(page.url()).search, { what: 'the filters cleared' });
    await page.click('nav a[href^="/journey"]');
    await page.waitForSelector('#journey-customers');
    await waitFor(async () => (await page.locator(`#segment-persona option[value="${persona.name}"]`).count()) > 0,
      { what: 'the persona choices' });
    await page.selectOption('#segment-persona', persona.name);
    await waitFor(async () => new URL(page.url()).searchParams.get('persona') === persona.name, { what: 'persona in the URL' });
    await page.waitForSelector('#journey-customers');
    const jshown = Number(await page.getAttribute('#journey-customers', 'data-count'));
    const janswer = await api('GET', `/v1/journey/overview?persona=${encodeURIComponent(persona.name)}`);
    close([jshown], [janswer.customers], `journey customers, persona ${persona.name}`);
    if (everyone.personas.filter((p) => p.customers > 0).length > 1)
      assert.ok(jshown < everyone.customers, `persona ${persona.name}: ${jshown} of ${everyone.customers}`);
    assert.match(await page.textContent('#filter-scope'), /persona/);
    await page.click('#filters-reset');
    await waitFor(async () => !new URL(page.url()).search, { what: 'the filters cleared' });
  });

  await step('the range and segment filters reach the overview gauges, value and rescues', async () => {
    // The persona with the fewest customers (a real part of the business).
    const everyone = await api('GET', '/v1/journey/overview');
    const persona = everyone.personas.filter((p) => p.customers > 0).sort((a, b) => a.customers - b.customers)[0];
    const enc = encodeURIComponent(persona.name);
    // What the page asked and was answered: the filtered number on screen is that answer.
    const answerTo = (pathStart, pred = () => true) => page.waitForResponse(
      (r) => new URL(r.url()).pathname === pathStart && pred(new URL(r.url()).searchParams) && r.request().method() === 'GET');
    const all = await api('GET', '/v1/dashboard');
    const g0 = all.goals.find((g) => g.metric === 'revenue') ?? all.goals[0];
    await page.click('nav a[href="/"]');
    await page.waitForSelector(`.goal[data-goal-id="${g0.id}"]`);
    await waitFor(async () => (await page.locator(`#segment-persona option[value="${persona.name}"]`).count()) > 0,
      { what: 'the persona choices' });
    let answered = answerTo('/v1/dashboard', (q) => q.get('persona') === persona.name);
    await page.selectOption('#segment-persona', persona.name);
    let o = await (await answered).json();
    assert.equal(o.filtered, true);
    assert.ok(o.segment_customers > 0, `the segment has customers (${o.segment_customers})`);
    let g = o.goals.find((x) => x.id === g0.id);
    const odo = page.locator(`.goal[data-goal-id="${g0.id}"] .odometer .big`);
    await waitFor(async () => Number(await odo.getAttribute('data-progress')) === g.progress,
      { what: `the odometer to show the persona's progress ${g.progress}` });
    // The gauge changed to the persona's share of the goal (the whole business made more), and a
    // fresh call with the same filter answers the same (live ingest may add a little).
    assert.ok(g.progress < g0.progress, `persona ${persona.name}: ${g.progress} of ${g0.progress}`);
    const again = (await api('GET', `/v1/dashboard?persona=${enc}`)).goals.find((x) => x.id === g0.id);
    assert.ok(again.progress >= g.progress && again.progress <= g.progress * 1.05 + 500,
      `page ${g.progress}, API ${again.progress}`);
    assert.match(await page.textContent('.meta'), /segment of \d+ customers/);
    assert.match(await page.textContent('#filter-scope'), /gauges/);
    // A range: the car as of its end, the trip meter over it — the API's numbers for that call.
    const to = new Date(Date.now() - 10 * 86400000).toISOString().slice(0, 10);
    const from = new Date(Date.now() - 40 * 86400000).toISOString().slice(0, 10);
    answered = answerTo('/v1/dashboard', (q) => q.get('to') === to && q.get('persona') === persona.name);
    await page.fill('#range-to', to);
    o = await (await answered).json();
    assert.equal(o.today, to, 'the car as of the range end');
    g = o.goals.find((x) => x.id === g0.id);
    await waitFor(async () => Number(await odo.getAttribute('data-progress')) === g.progress,
      { what: `the odometer as of ${to}` });
    answered = answerTo('/v1/dashboard', (q) => q.get('from') === from && q.get('to') === to);
    await page.fill('#range-from', from);
    o = await (await answered).json();
    assert.deepEqual([o.trip.from, o.trip.to], [from, to]);
    await page.waitForSelector('[data-trip="revenue"]');
    assert.equal(Number(await page.getAttribute('[data-trip="interactions"]', 'data-value')), o.trip.totals.interactions);
    assert.equal(Number(await page.getAttribute('[data-trip="revenue"]', 'data-value')), o.trip.totals.revenue);
    // A past range's totals move only as customers change persona: a fresh call answers about the same.
    const fixed = await api('GET', `/v1/dashboard?from=${from}&to=${to}&persona=${enc}`);
    assert.ok(Math.abs(fixed.trip.totals.interactions - o.trip.totals.interactions) <= 0.05 * o.trip.totals.interactions + 5,
      `page ${o.trip.totals.interactions}, API ${fixed.trip.totals.interactions}`);
    assert.ok(o.trip.totals.interactions > 0, 'the persona did something in the range');
    const wide = await api('GET', `/v1/dashboard?from=${from}&to=${to}`);
    assert.ok(wide.trip.totals.interactions > o.trip.totals.interactions, 'everyone did more than the persona');

    // Rescues: decided in the range, of the persona's customers — the list is the API's.
    answered = answerTo('/v1/rescues', (q) => q.get('persona') === persona.name && q.get('from') === from);
    await page.click('nav a[href^="/rescues"]');
    const rescues = await (await answered).json();
    await page.waitForSelector('.card h2');
    const shownRows = await page.locator('table.rescues tbody tr').count();
    assert.equal(shownRows, rescues.rescues.length);
    const lo = Date.parse(`${from}T00:00:00Z`);
    const hi = Date.parse(`${to}T00:00:00Z`) + 86400000;
    for (const r of rescues.rescues) assert.ok(Date.parse(r.decidedAt) >= lo && Date.parse(r.decidedAt) < hi, r.decidedAt);
    assert.match(await page.textContent('#filter-scope'), /decided in the range/);

    // Value: the persona's CLV total and customers (a part of everyone's), as answered — once the
    // value engine's first fit is done (it runs in the background after start; 409 before).
    const vall = await waitFor(() => api('GET', '/v1/value/summary').catch(() => null),
      { timeoutMs: 60000, intervalMs: 1000, what: 'the first value fit' });
    answered = answerTo('/v1/value/summary', (q) => q.get('persona') === persona.name);
    await page.click('nav a[href^="/value"]');
    const v = await (await answered).json();
    assert.equal(new URL((await answered).url()).searchParams.get('from'), null, 'the value summary takes no range');
    await page.waitForSelector('[data-kpi="total"]');
    assert.equal(typeof v.clv.total, 'number', `the persona's CLV total: ${JSON.stringify(v).slice(0, 1500)}`);
    assert.equal(Number(await page.getAttribute('[data-kpi="total"]', 'data-value')), v.clv.total);
    const scored = v.probAlive.bands.reduce((n, b) => n + b.customers, 0);
    const allScored = vall.probAlive.bands.reduce((n, b) => n + b.customers, 0);
    assert.equal(Number(await page.getAttribute('[data-kpi="customers"]', 'data-value')), scored);
    assert.ok(scored < allScored, `persona ${persona.name}: ${scored} of ${allScored} scored`);
    await page.click('#filters-reset');
    await waitFor(async () => !new URL(page.url()).search, { what: 'the filters cleared' });
  });

  await step('the paths, stickiness and lifecycle builders return the same counts as the API', async () => {
    await page.click('nav a[href^="/analyze"]');
    await page.waitForSelector('#paths-form');
    const pspec = await runAndCapture('paths');
    assert.equal(pspec.anchor, 'Signed Up');
    await page.waitForSelector('.paths-nodes .count');
    const pshown = await page.$$eval('.paths-nodes .count', (els) => els.map((e) => Number(e.dataset.count)));
    const panswer = await api('POST', '/v1/query/paths', pspec);
    assert.ok(pshown[0] > 0, 'customers did the anchor');
    close([pshown[0]], [panswer.nodes[0].count], 'paths step 0');
    assert.ok(await page.locator('#paths-result canvas').count() > 0, 'the Sankey is drawn');
    await page.selectOption('#lifecycle-period', 'month');
    const lspec = await runAndCapture('lifecycle');
    await page.waitForSelector('.lifecycle-rows .count');
    const lshown = await page.$$eval('.lifecycle-rows .count', (els) => els.map((e) => Number(e.dataset.count)));
    const lanswer = await api('POST', '/v1/query/lifecycle', lspec);
    const lapi = lanswer.rows.flatMap((r) => [r.new, r.returning, r.resurrecting, r.dormant]);
    close(lshown.slice(0, -4), lapi.slice(0, -4), 'lifecycle (complete months)');
    assert.ok(lshown.some((v) => v > 0), 'lifecycle has customers');
    const sspec = await runAndCapture('stickiness');
    assert.equal(sspec.segment, undefined);
    await page.waitForSelector('.stickiness-counts .count');
    const sshown = await page.$$eval('.stickiness-counts .count', (els) => els.map((e) => Number(e.dataset.count)));
    close(sshown, (await api('POST', '/v1/query/stickiness', sspec)).counts, 'stickiness');
  });

  await step('clicking a paths, stickiness or lifecycle number lists the customers behind it', async () => {
    // Each click sends the builder's spec plus "who" (docs/api/insights.md "Who"); the list shows
    // the first page of the API's answer for that call, each a link to the customer.
    const listed = async (kind, click) => {
      const sent = page.waitForRequest((r) => r.url().endsWith(`/v1/query/${kind}`) && r.method() === 'POST' &&
        JSON.parse(r.postData()).who !== undefined);
      await click();
      const spec = JSON.parse((await sent).postData());
      await page.waitForSelector(`#${kind}-who ul.who, #${kind}-who .muted, #${kind}-who .error`);
      const shown = await page.$$eval(`#${kind}-who ul.who li a`, (as) => as.map((a) => a.textContent));
      const answer = await api('POST', `/v1/query/${kind}`, spec);
      assert.ok(Array.isArray(answer.who.customers), `${kind}: the API lists customers`);
      // Live ingest may add customers between the two calls: the page's are the API's first ones.
      const overlap = shown.filter((c) => answer.who.customers.includes(c)).length;
      assert.ok(overlap >= shown.length - 5, `${kind}: page ${shown.slice(0, 5)}…, API ${answer.who.customers.slice(0, 5)}…`);
      return { spec, shown };
    };
    // Paths: the customers who reached step 1's busiest node (a count button of the node table).
    const p = await listed('paths', () => page.click('.paths-nodes tbody tr:nth-child(2) button.count'));
    assert.match(p.spec.who.node, /^1:/);
    const node = Number(await page.getAttribute('.paths-nodes tbody tr:nth-child(2) button.count', 'data-count'));
    assert.ok(p.shown.length > 0 && p.shown.length <= Math.min(50, node + 5), `paths: ${p.shown.length} of ${node}`);
    // Stickiness: customers active on exactly one period (the first bar's count).
    const s = await listed('stickiness', () => page.click('.stickiness-counts tbody tr:first-child button.count'));
    assert.deepEqual(s.spec.who, { periods: 1, limit: 50 });
    // Lifecycle: a cell of the first period; its link opens that customer's page.
    const l = await listed('lifecycle', () => page.click('.lifecycle-rows tbody tr:first-child td:nth-child(2) button.count'));
    assert.equal(l.spec.who.status, 'new');
    if (p.shown.length) {
      await page.click('#paths-who ul.who li:first-child a');
      await waitFor(async () => new URL(page.url()).pathname.startsWith('/customers/'), { what: 'the customer page' });
      await page.goBack();
    }
  });

  await step('the customer page shows a simulated customer timeline', async () => {
    const rescues = await api('GET', '/v1/rescues?limit=50');
    const who = rescues.rescues.length ? rescues.rescues[0].customer.ids.find((i) => i.startsWith('userId:')) : null;
    // No rescue open yet: any customer who signed up (from the funnel's "who" list).
    let id = who ? who.slice('userId:'.length) : null;
    if (!id) {
      const f = await api('POST', '/v1/query/funnel', {
        steps: ['Signed Up', 'Signed Up'], window: '365d', who: { step: 1, status: 'reached', limit: 1 } });
      assert.ok(f.who.customers.length > 0, 'a simulated customer who signed up');
      id = f.who.customers[0];
    }
    const profile = await api('GET', `/v1/customers/${encodeURIComponent(id)}`);
    const events = await api('GET', `/v1/customers/${encodeURIComponent(id)}/events?limit=1`);
    const newest = events.interactions[0].event || events.interactions[0].type;
    await page.click('nav a[href^="/customers"]');
    await page.fill('#customer-search', id);
    await page.press('#customer-search', 'Enter');
    await page.waitForSelector('#timeline li');
    assert.equal(await page.getAttribute('.profile', 'data-customer'), profile.id);
    const n = await page.locator('#timeline li').count();
    assert.ok(n >= Math.min(profile.interactionCount, 200) && n <= 200, `timeline has ${n} of ${profile.interactionCount}`);
    const shownEvents = await page.$$eval('#timeline li', (lis) => lis.map((li) => li.dataset.event));
    assert.ok(shownEvents.includes(newest), `the newest interaction (${newest}) is on the timeline`);
    // The journey value with the basis the API says it was reckoned on.
    const journey = await api('GET', `/v1/customers/${encodeURIComponent(id)}/journey`);
    assert.ok(journey.state.value.journeyBasis, 'the API names the basis');
    assert.equal(await page.getAttribute('#journey-value', 'data-basis'), journey.state.value.journeyBasis);
  });

  await step('the other views render', async () => {
    for (const [href, sel] of [['/journey', '.card'], ['/cases', '#nps'], ['/value', '.card']]) {
      await page.click(`nav a[href^="${href}"]`);
      await page.waitForSelector(`main ${sel}`);
      await sleep(300);
      await shot(`view-${href.slice(1)}`);
    }
    // A phone-sized screen: no horizontal scrolling of the page itself.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('nav a[href="/"]');
    await page.waitForSelector('.goal');
    await sleep(300);
    await shot('overview-phone');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `page wider than the phone screen by ${overflow}px`);
  });

  await step('logout ends the session', async () => {
    const ended = sessionMode
      ? page.waitForResponse((r) => r.url().endsWith('/v1/session') && r.request().method() === 'DELETE')
      : null;
    await page.click('#logout');
    if (ended) assert.ok((await ended).ok(), 'DELETE /v1/session succeeded');
    await page.waitForSelector('#login-form');
    // Signed out: a reload asks for nothing but the session check (a data call's 401 would be a
    // console error), and the sign-in form appears.
    const dataCalls = [];
    const onRequest = (r) => {
      const p = new URL(r.url()).pathname;
      if (p.startsWith('/v1/') && p !== '/v1/session') dataCalls.push(p);
    };
    page.on('request', onRequest);
    await page.reload();
    await page.waitForSelector('#login-form');
    await sleep(500);
    page.off('request', onRequest);
    assert.deepEqual(dataCalls, [], 'calls made while signed out');
  });
  console.log(`screenshots: ${ARTIFACTS}`);
});
