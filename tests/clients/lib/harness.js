'use strict';
// Test harness for the client-SDK suites: starts a real `cairn serve` on a free port with a fresh
// data dir, talks to its admin/read API over real HTTP, and stops it with SIGTERM.
//
// Every suite requires this module FIRST: when node_modules is missing (scripts/setup not run)
// it exits 77, which clients.cmake registers as ctest's SKIP_RETURN_CODE. Nothing else skips.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');

const CLIENTS_DIR = path.resolve(__dirname, '..');
if (!fs.existsSync(path.join(CLIENTS_DIR, 'node_modules'))) {
  console.log(`SKIP: ${path.join(CLIENTS_DIR, 'node_modules')} is missing (run scripts/setup)`);
  process.exit(77);
}

// The cairn binary: first CLI argument (ctest passes $<TARGET_FILE:cairn>), else $CAIRN_BIN.
function cairnBinary() {
  const bin = process.argv[2] || process.env.CAIRN_BIN;
  if (!bin) throw new Error('usage: node <suite>.test.js /path/to/cairn (or set CAIRN_BIN)');
  if (!fs.existsSync(bin)) throw new Error(`cairn binary not found: ${bin}`);
  return bin;
}

function randomKey(prefix) {
  return `${prefix}_${crypto.randomBytes(16).toString('hex')}`;  // ≥ 16 bytes, as cairn requires
}

// A short random tag that makes every id and probe of one test run unique.
function runTag(prefix) {
  return `${prefix}-${crypto.randomBytes(4).toString('hex')}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Servers still running when this process ends (a crash, or ctest's timeout sending SIGTERM) are
// killed rather than left behind.
const running = new Set();
process.on('exit', () => { for (const p of running) p.kill('SIGKILL'); });
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => { for (const p of running) p.kill('SIGKILL'); process.exit(128 + (sig === 'SIGTERM' ? 15 : 2)); });
}

// Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns the last value.
async function waitFor(fn, { timeoutMs = 10000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v || Date.now() >= deadline) return v;
    await sleep(intervalMs);
  }
}

class Cairn {
  constructor({ binary, dataDir, writeKeys, adminKey }) {
    this.binary = binary;
    this.dataDir = dataDir;
    this.writeKeys = writeKeys;
    this.writeKey = writeKeys[0];
    this.adminKey = adminKey;
    this.url = null;
    this.port = null;
    this.stdout = '';
    this.stderr = '';
    this.exit = null;  // {code, signal} once exited
  }

  async start({ timeoutMs = 60000 } = {}) {
    const args = ['serve', '--data', this.dataDir, '--listen', '127.0.0.1:0', '--admin-key', this.adminKey,
      '--enable-test-endpoints'];
    for (const k of this.writeKeys) args.push('--write-key', k);
    this.proc = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this.proc);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        running.delete(this.proc);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.proc.stdout.setEncoding('utf8');
    const serving = new Promise((resolve, reject) => {
      this.proc.stdout.on('data', (d) => {
        this.stdout += d;
        const m = /cairn: serving (http:\/\/[0-9.]+:(\d+))/.exec(this.stdout);
        if (m && !this.url) { this.url = m[1]; this.port = Number(m[2]); resolve(); }
      });
      this.exited.then((e) => reject(new Error(`cairn exited before serving (${JSON.stringify(e)}): ${this.stderr}`)));
      setTimeout(() => reject(new Error(`cairn did not print "serving" within ${timeoutMs} ms: ${this.stderr}`)),
        timeoutMs).unref();
    });
    await serving;
    return this;
  }

  // SIGTERM, then waits for the exit; returns {code, signal}. Kills with SIGKILL after `timeoutMs`.
  async stop({ timeoutMs = 30000 } = {}) {
    if (!this.proc) return null;
    if (this.exit) return this.exit;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const e = await this.exited;
    clearTimeout(t);
    return e;
  }

  // A request to cairn; `auth` is 'admin' (Bearer admin key), 'write' (Basic write key) or none.
  async request(method, urlPath, { auth = 'admin', body, headers = {} } = {}) {
    const h = { ...headers };
    if (auth === 'admin') h.authorization = `Bearer ${this.adminKey}`;
    if (auth === 'write') h.authorization = `Basic ${Buffer.from(`${this.writeKey}:`).toString('base64')}`;
    if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      body = JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    const res = await fetch(this.url + urlPath, { method, headers: h, body });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON: keep text */ }
    return { status: res.status, headers: res.headers, text, json };
  }

  // Arms the test switch: the next `count` ingest requests get 503 + Retry-After.
  async failNext(count) {
    const r = await this.request('POST', `/v1/admin/test/fail-next?count=${count}`);
    if (r.status !== 200) throw new Error(`fail-next: ${r.status} ${r.text}`);
    return r.json;
  }

  // GET /v1/customers/{id}: the profile JSON, or null on 404.
  async customer(id) {
    const r = await this.request('GET', `/v1/customers/${encodeURIComponent(id)}`);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new Error(`GET customer ${id}: ${r.status} ${r.text}`);
    return r.json;
  }

  // Every interaction of a customer, newest first, following nextBefore to the end.
  async events(id) {
    const out = [];
    let before = null;
    for (let page = 0; page < 100; ++page) {
      const q = `limit=1000${before ? `&before=${encodeURIComponent(before)}` : ''}`;
      const r = await this.request('GET', `/v1/customers/${encodeURIComponent(id)}/events?${q}`);
      if (r.status === 404) return out;
      if (r.status !== 200) throw new Error(`GET events ${id}: ${r.status} ${r.text}`);
      out.push(...r.json.interactions);
      before = r.json.nextBefore;
      if (!before) return out;
    }
    throw new Error(`events ${id}: more than 100 pages`);
  }

  // A Prometheus metric summed over its label sets; 0 when absent.
  async metric(name) {
    const r = await this.request('GET', '/metrics', { auth: 'none' });
    let sum = 0;
    for (const line of r.text.split('\n')) {
      if (line.startsWith('#')) continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (m && m[1] === name) sum += Number(m[3]);
    }
    return sum;
  }
}

// Starts a fresh cairn; registers cleanup with the node:test context `t` that stops it, asserts a
// clean exit (code 0 after SIGTERM) and removes the data dir.
async function startCairn(t, { writeKeys = 1 } = {}) {
  const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-clients-'));
  const keys = Array.from({ length: writeKeys }, (_, i) => randomKey(`wk${i}`));
  const cairn = new Cairn({ binary: cairnBinary(), dataDir: path.join(dataRoot, 'data'), writeKeys: keys,
    adminKey: randomKey('ak') });
  t.after(async () => {
    const e = await cairn.stop();
    const keep = process.env.CAIRN_KEEP_TMP || (e && e.code !== 0);
    if (!keep) fs.rmSync(dataRoot, { recursive: true, force: true });
    if (e && (e.code !== 0 || e.signal)) {
      throw new Error(`cairn did not exit cleanly after SIGTERM: ${JSON.stringify(e)}; data kept in ${dataRoot}\n` +
        cairn.stderr.slice(-4000));
    }
  });
  await cairn.start();
  return cairn;
}

// Groups interactions by a probe value found by `probeOf(interaction)`; returns Map probe → [i].
function byProbe(interactions, probeOf) {
  const m = new Map();
  for (const i of interactions) {
    const p = probeOf(i);
    if (p === undefined || p === null) continue;
    if (!m.has(p)) m.set(p, []);
    m.get(p).push(i);
  }
  return m;
}

// Counts occurrences of each messageId; returns the ids seen more than once.
function duplicateMessageIds(interactions) {
  const n = new Map();
  for (const i of interactions) n.set(i.messageId, (n.get(i.messageId) || 0) + 1);
  return [...n].filter(([, c]) => c > 1).map(([id, c]) => `${id}×${c}`);
}

module.exports = {
  CLIENTS_DIR, cairnBinary, randomKey, runTag, sleep, waitFor, startCairn, byProbe, duplicateMessageIds,
};
