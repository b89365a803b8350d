'use strict';
// @segment/analytics-node against the real cairn binary: POST /v1/batch, Basic auth, writeKey in
// the body, X-Retry-Count on retries. Usage: node analytics_node.test.js /path/to/cairn
const { startCairn, runTag } = require('./lib/harness');  // first: exits 77 without node_modules
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Analytics } = require('@segment/analytics-node');
const { runJourney, runRetryAndResend } = require('./lib/segment_scenario');

// Wraps an Analytics instance; records every HTTP attempt through the SDK's own
// http_request/http_response events (paired by the request body, unique per attempt: it holds
// a fresh sentAt).
function adapter(cairn, { flushAt = 100, flushInterval = 100 } = {}) {
  const analytics = new Analytics({
    writeKey: cairn.writeKey, host: cairn.url, path: '/v1/batch', flushAt, flushInterval, maxRetries: 3,
  });
  const requests = new Map();  // body → request headers
  const wire = [];
  analytics.on('http_request', (r) => requests.set(r.body, r.headers));
  analytics.on('http_response', (r) => {
    const body = JSON.parse(r.body);
    wire.push({ status: r.status, retryAfter: r.headers['retry-after'], headers: requests.get(r.body) || {},
      body, messages: body.batch });
  });
  analytics.on('error', () => {});  // failures surface through the per-message callbacks
  return {
    wire,
    send: (type, params) => new Promise((resolve, reject) => {
      analytics[type](params, (err, ctx) => (err ? reject(err) : resolve(ctx)));
    }),
    close: () => analytics.closeAndFlush({ timeout: 30000 }),
  };
}

test('analytics-node: journey stored exactly once, identities merged, traits and groups', async (t) => {
  const cairn = await startCairn(t);
  // Small batches on a short timer: the journey goes out as many /v1/batch requests.
  const a = adapter(cairn, { flushAt: 3, flushInterval: 50 });
  const tag = runTag('an');
  await runJourney(t, cairn, a, tag);
  assert.ok(a.wire.length >= 5, `sent in several batches (${a.wire.length})`);
  for (const attempt of a.wire) {
    assert.equal(attempt.status, 200);
    assert.equal(attempt.headers.Authorization, `Basic ${Buffer.from(`${cairn.writeKey}:`).toString('base64')}`);
    assert.equal(attempt.body.writeKey, cairn.writeKey, 'analytics-node also puts writeKey in the body');
  }
});

test('analytics-node: 503 is retried with the same messageIds; a resend is de-duplicated', async (t) => {
  const cairn = await startCairn(t);
  const tag = runTag('an-retry');
  const { wire, retry } = await runRetryAndResend(t, cairn, () => adapter(cairn), tag);
  // analytics-node batches everything here into one request: 503, then the retry.
  assert.deepEqual(wire.map((a) => a.status), [503, 200]);
  assert.equal(wire[0].headers['X-Retry-Count'], undefined, 'first attempt has no X-Retry-Count');
  assert.equal(retry.headers['X-Retry-Count'], '1', 'the retry says it is one');
  assert.notEqual(retry.body.sentAt, wire[0].body.sentAt, 'analytics-node regenerates sentAt per attempt');
});
