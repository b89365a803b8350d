'use strict';
// overview_render: the web overview's render time in headless Debian Chromium (issue 7: "the
// overview renders in < 1 s with 1M customers"). Not a test: a benchmark printing one figure per
// line (`name value unit`).
//
//   node bench/dashboard/overview_render.js --cairn BIN --data DIR [--listen 127.0.0.1:18613]
//        [--reps 5] [--persona A,B] [--gap-ms 5500] [--settle-ms 0]
//   node bench/dashboard/overview_render.js --url http://127.0.0.1:8080 --key ADMIN_KEY [...]
//
// With --cairn it starts `cairn serve --data DIR` (admin key generated here) and stops it at the
// end; with --url it measures a running server. --settle-ms: a pause after the first overview, so
// that the start-up's background work (the value engine's first fit, the analytics warm-up: ~20 s
// at 20M interactions) is over before the timed renders, which it would otherwise slow down by a
// different amount in each binary of an A/B. If the data dir has no goals it creates four
// (revenue, orders, signups, new_customers), as bench/dashboard/dashboard_bench does.
//
// Per filter — none, then `?persona=P` for each P of --persona A,B (default: every persona with
// at least 1% of the customers, smallest first) — `reps` runs, each in a fresh browser context
// (nothing cached; the session cookie and the page's session hint added, as in a browser that
// signed in before): the
// time from `page.goto` to `#overview[data-ready="1"]`, the marker the overview sets once every
// panel has its data and every chart of the first screen is drawn (web/src/views/overview.ts). Runs are `gap-ms`
// apart so the server's 5 s overview cache never answers (every run computes). Also per filter:
// the median in-page time from navigation start to the mark `cairn:overview-ready` (set with the
// marker; builds before session 12 have none),
// the median wall of GET /v1/dashboard alone (same gap), the median duration of each API call the
// page made (Chromium's resource timing), and the server's CPU (utime + stime of the process,
// --cairn only) per render.
// Chromium: $CHROMIUM or /usr/bin/chromium, the flags tests/e2e uses.
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');

const WEB_DIR = path.resolve(__dirname, '..', '..', 'web');
const { chromium } = require(path.join(WEB_DIR, 'node_modules', 'playwright-core'));

function args() {
  const a = { listen: '127.0.0.1:18613', reps: 5, gapMs: 5500, settleMs: 0 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
    a[k] = v[i + 1];
  }
  a.reps = Number(a.reps);
  a.gapMs = Number(a.gapMs);
  a.settleMs = Number(a.settleMs);
  if (!a.url && !(a.cairn && a.data)) {
    console.error('usage: overview_render.js (--cairn BIN --data DIR | --url URL --key KEY) [--reps N] [--persona A,B]');
    process.exit(2);
  }
  return a;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fig = (name, value, unit) => console.log(`${name} ${typeof value === 'number' ? +value.toFixed(1) : value} ${unit}`);

function cpuMs(pid) {
  if (!pid) return 0;
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;  // utime + stime, USER_HZ = 100
}

async function main() {
  const a = args();
  let proc = null;
  let url = a.url;
  let key = a.key;
  if (a.cairn) {
    key = crypto.randomBytes(24).toString('hex');
    url = `http://${a.listen}`;
    proc = spawn(a.cairn, ['serve', '--data', a.data, '--listen', a.listen, '--admin-key', key,
      '--key-rate-limit', '0', '--ip-rate-limit', '0'], { stdio: ['ignore', 'ignore', 'inherit'] });
    process.on('exit', () => { try { proc.kill('SIGTERM'); } catch { /* gone */ } });
  }
  const api = async (method, p, body) => {
    const t0 = performance.now();
    const r = await fetch(url + p, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text.slice(0, 200)}`);
    return { ms: performance.now() - t0, json: text ? JSON.parse(text) : null };
  };
  const t0 = performance.now();
  for (;;) {
    try {
      const r = await fetch(url + '/healthz');
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (performance.now() - t0 > 600000) throw new Error('cairn serve did not come up in 10 minutes');
    await sleep(200);
  }
  fig('overview_render_serve_up_ms', performance.now() - t0, 'ms');
  const goals = (await api('GET', '/v1/goals')).json.goals;
  if (!goals.length) {
    const deadline = new Date(Date.now() + 90 * 86400000).toISOString().slice(0, 10);
    const start = new Date(Date.now() - 60 * 86400000).toISOString().slice(0, 10);
    for (const [metric, target] of [['revenue', 1e7], ['orders', 1e5], ['signups', 1e5], ['new_customers', 5e4]])
      await api('POST', '/v1/goals', { name: `bench ${metric}`, metric, target, deadline, start });
  }
  // The first overview after start waits for the daily totals' build (one scan of the store).
  const first = await api('GET', '/v1/dashboard');
  fig('overview_render_first_api_ms', first.ms, 'ms');
  await sleep(a.settleMs);
  // The personas to filter by: --persona A,B, else every persona with at least 1% of the customers.
  let personas = a.persona ? a.persona.split(',') : [];
  if (!personas.length) {
    const j = (await api('GET', '/v1/journey/overview')).json;
    const all = j.personas || [];
    const total = all.reduce((s, p) => s + p.customers, 0);
    personas = all.filter((p) => p.customers >= total / 100).sort((x, y) => x.customers - y.customers).map((p) => p.name);
  }

  const session = await fetch(url + '/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }) });
  const cookie = /cairn_session=([^;]+)/.exec(session.headers.get('set-cookie') || '');
  if (!cookie) throw new Error(`POST /v1/session gave no cookie (${session.status})`);
  const expiresAt = (await session.json()).expires_at;
  const host = new URL(url).hostname;

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
  try {
    const filters = [['none', '']];
    for (const p of personas) filters.push([`persona_${p}`, `?persona=${encodeURIComponent(p)}`]);
    for (const [name, query] of filters) {
      const runs = [];
      const callRuns = {};  // API path -> durations in the page, every run
      const marks = [];     // in-page time to the cairn:overview-ready mark, every run
      const cpu0 = cpuMs(proc && proc.pid);
      for (let i = 0; i < a.reps; i++) {
        await sleep(a.gapMs);
        // A browser that signed in before: the session cookie, and the page's session hint (the
        // expiry it keeps in localStorage, web/src/api.ts; builds before session 13 ignore it).
        const context = await browser.newContext({
          viewport: { width: 1360, height: 900 },
          storageState: {
            cookies: [{ name: 'cairn_session', value: cookie[1], domain: host, path: '/', httpOnly: true, secure: false,
              sameSite: 'Strict', expires: -1 }],
            origins: [{ origin: url, localStorage: [{ name: 'cairn.session_expires_at', value: expiresAt }] }],
          },
        });
        const page = await context.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        const start = performance.now();
        await page.goto(url + '/' + query);
        await page.waitForSelector('#overview[data-ready]', { timeout: 120000 });
        const ms = performance.now() - start;
        const ready = await page.getAttribute('#overview', 'data-ready');
        if (ready !== '1' || errors.length) throw new Error(`overview ${name}: ready=${ready} ${errors.join('; ')}`);
        if (i === 0 && query) {
          const meta = await page.textContent('.meta');
          const m = /segment of ([\d,]+) customers/.exec(meta || '');
          if (m) fig(`overview_render_${name}_segment_customers`, Number(m[1].replace(/,/g, '')), 'customers');
        }
        // The page's API calls as Chromium timed them (resource timing: request start to last byte).
        const calls = await page.evaluate(() => performance.getEntriesByType('resource')
          .filter((e) => e.name.includes('/v1/')).map((e) => [new URL(e.name).pathname, e.duration]));
        for (const [p, d] of calls) (callRuns[p] = callRuns[p] || []).push(d);
        // The page's own clock: navigation start to the mark set with the marker (builds from
        // session 12 on), without the polling of waitForSelector.
        const mark = await page.evaluate(() => performance.getEntriesByName('cairn:overview-ready')[0]?.startTime ?? null);
        if (mark !== null) marks.push(mark);
        runs.push(ms);
        fig(`overview_render_${name}_run${i + 1}_ms`, ms, 'ms');
        await context.close();
      }
      const cpu = (cpuMs(proc && proc.pid) - cpu0) / a.reps;
      fig(`overview_render_${name}_median_ms`, median(runs), 'ms');
      if (marks.length) fig(`overview_render_${name}_mark_median_ms`, median(marks), 'ms');
      for (const [p, ds] of Object.entries(callRuns))
        fig(`overview_render_${name}_call${p.replace(/\//g, '_')}_median_ms`, median(ds), 'ms');
      if (proc) fig(`overview_render_${name}_server_cpu_per_render_ms`, cpu, 'ms');
      const apiRuns = [];
      for (let i = 0; i < a.reps; i++) {
        await sleep(a.gapMs);
        apiRuns.push((await api('GET', '/v1/dashboard' + query)).ms);
      }
      fig(`overview_api_${name}_median_ms`, median(apiRuns), 'ms');
    }
  } finally {
    await browser.close();
    if (proc) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.on('exit', r));
    }
  }
}

main().catch((e) => {
  console.error(`overview_render: ${e.stack || e}`);
  process.exit(1);
});
