'use strict';
// @rudderstack/rudder-sdk-node against the real cairn binary: POST /v1/batch with a gzipped body
// (Content-Encoding: gzip under axios' default form Content-Type), Basic auth only, retries via
// axios-retry. Usage: node rudder_node.test.js /path/to/cairn
const { startCairn, runTag } = require('./lib/harness');  // first: exits 77 without node_modules
const { test } = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('node:zlib');
const axios = require('axios');
const Analytics = require('@rudderstack/rudder-sdk-node');
const { runJourney, runRetryAndResend } = require('./lib/segment_scenario');

// Wraps a rudder client. Its HTTP goes through an axios instance we hand it (the SDK's own
// `axiosInstance` option; axios-retry is installed on it by the SDK), so a response interceptor
// sees every attempt: status, request headers and the exact (gzipped) body.
function adapter(cairn, { flushAt = 100, flushInterval = 100 } = {}) {
  const wire = [];
  const instance = axios.create();
  const record = (res) => {
    const raw = res.config.data;
    const gzipped = Buffer.isBuffer(raw) && raw[0] === 0x1f && raw[1] === 0x8b;
    const body = JSON.parse(gzipped ? zlib.gunzipSync(raw).toString('utf8') : String(raw));
    // Headers as sent: axios adds Authorization (from the `auth` option) in its http adapter.
    const sent = res.request && typeof res.request.getHeaders === 'function' ? res.request.getHeaders() : {};
    wire.push({ status: res.status, retryAfter: res.headers['retry-after'], headers: sent, gzipped, body,
      messages: body.batch, at: Date.now() });
  };
  instance.interceptors.response.use((res) => { record(res); return res; },
    (err) => { if (err.response) record(err.response); return Promise.reject(err); });
  const client = new Analytics(cairn.writeKey, {
    dataPlaneUrl: cairn.url, flushAt, flushInterval, axiosInstance: instance, retryCount: 3, logLevel: 'error',
  });
  return {
    wire,
    send: (type, params) => new Promise((resolve, reject) => {
      client[type](params, (err, data) => (err ? reject(err) : resolve(data)));
    }),
    close: () => client.flush(),
  };
}

function assertRudderWire(cairn, attempt) {
  assert.ok(attempt.gzipped, 'rudder gzips its body');
  assert.equal(attempt.headers['content-encoding'], 'gzip');
  assert.match(String(attempt.headers['content-type']), /x-www-form-urlencoded/,
    'rudder sends gzipped JSON under a form Content-Type');
  assert.equal(attempt.headers.authorization, `Basic ${Buffer.from(`${cairn.writeKey}:`).toString('base64')}`);
  assert.equal(attempt.body.writeKey, undefined, 'rudder sends the key only in the header');
}

test('rudder-sdk-node: journey stored exactly once, identities merged, traits and groups', async (t) => {
  const cairn = await startCairn(t);
  const a = adapter(cairn, { flushAt: 3, flushInterval: 50 });
  const tag = runTag('rs');
  const { journey } = await runJourney(t, cairn, a, tag);
  assert.ok(a.wire.length >= 5, `sent in several batches (${a.wire.length})`);
  for (const attempt of a.wire) {
    assert.equal(attempt.status, 200);
    assertRudderWire(cairn, attempt);
  }
  // Rudder copies identify traits into context.traits and adds its own fields: stored verbatim.
  const stored = await cairn.events(`${tag}-user`);
  const identify = stored.find((i) => i.message.context.probe === journey.calls.find((c) => c.type === 'identify').probe);
  assert.equal(identify.message.context.traits.email, `${tag}@example.com`);
  assert.equal(identify.message.channel, 'server', 'rudder\'s top-level channel kept in the payload');
  assert.ok(identify.message.originalTimestamp, 'originalTimestamp kept in the payload');
});

test('rudder-sdk-node: 503 is retried with the same messageIds; a resend is de-duplicated', async (t) => {
  const cairn = await startCairn(t);
  const tag = runTag('rs-retry');
  const { wire, retry } = await runRetryAndResend(t, cairn, () => adapter(cairn), tag);
  for (const attempt of wire) assertRudderWire(cairn, attempt);
  // axios-retry honours Retry-After (1 s) over its own exponential delay (~200 ms).
  assert.ok(retry.at - wire[0].at >= 900, `retry waited for Retry-After: ${retry.at - wire[0].at} ms`);
});
