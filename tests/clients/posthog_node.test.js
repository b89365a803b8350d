'use strict';
// posthog-node against the real cairn binary: POST /batch/ with a gzipped body and api_key in it;
// $identify / $create_alias / $groupidentify / $pageview mapped onto identify / alias / group /
// page. Usage: node posthog_node.test.js /path/to/cairn
const { startCairn, runTag, waitFor, byProbe, duplicateMessageIds } = require('./lib/harness');  // first
const { test } = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('node:zlib');
const { PostHog } = require('posthog-node');

// A posthog-node client whose requests go through node's real fetch, wrapped (the SDK's own
// `fetch` option) to record every attempt: URL, headers, the exact body bytes, the status.
function client(cairn, { flushAt = 100, flushInterval = 100 } = {}) {
  const wire = [];
  const posthog = new PostHog(cairn.writeKey, {
    host: cairn.url, flushAt, flushInterval,
    fetch: async (url, options) => {
      const raw = Buffer.from(await new Response(options.body).arrayBuffer());
      const gzipped = raw[0] === 0x1f && raw[1] === 0x8b;
      const body = JSON.parse((gzipped ? zlib.gunzipSync(raw) : raw).toString('utf8'));
      const res = await fetch(url, options);
      wire.push({ url: String(url), status: res.status, retryAfter: res.headers.get('retry-after'),
        headers: options.headers, raw, gzipped, body, messages: body.batch, at: Date.now() });
      return res;
    },
  });
  posthog.on('error', () => {});  // failures are asserted through the wire log
  return { posthog, wire };
}

// uuid → the wire message that carried it (first attempt that had it).
function wireByUuid(wire) {
  const m = new Map();
  for (const a of wire) for (const msg of a.messages) if (!m.has(msg.uuid)) m.set(msg.uuid, msg);
  return m;
}

const MAPPED_TYPE = { $identify: 'identify', $create_alias: 'alias', $groupidentify: 'group', $pageview: 'page' };

// Every message the SDK sent for `distinctIds` is stored exactly once under customer `id`, with
// messageId = the PostHog uuid and the mapped type. Returns the stored interactions by uuid.
async function assertExactlyOnce(cairn, id, wire, distinctIds) {
  const sent = [...wireByUuid(wire).values()].filter((m) => distinctIds.includes(m.distinct_id));
  assert.ok(sent.length > 0);
  let events = [];
  await waitFor(async () => {
    events = await cairn.events(id);
    const have = new Set(events.map((i) => i.messageId));
    return sent.every((m) => have.has(m.uuid));
  });
  const stored = byProbe(events, (i) => i.messageId);
  for (const m of sent) {
    const s = stored.get(m.uuid);
    assert.ok(s, `${m.event} ${m.uuid} (distinct_id ${m.distinct_id}) never stored under ${id}`);
    assert.equal(s.length, 1, `${m.event} ${m.uuid} stored ${s.length} times`);
    const type = MAPPED_TYPE[m.event] || 'track';
    assert.equal(s[0].type, type, `${m.event} is stored as ${type}`);
    if (type === 'track') assert.equal(s[0].event, m.event);
  }
  assert.deepEqual(duplicateMessageIds(events), []);
  assert.equal(events.length, sent.length, 'no extra interactions');
  return stored;
}

test('posthog-node: journey mapped, stored exactly once, identities merged, traits and groups', async (t) => {
  const cairn = await startCairn(t);
  const { posthog, wire } = client(cairn, { flushAt: 3, flushInterval: 50 });
  const tag = runTag('ph');
  const anon = `${tag}-anon`;  // the anonymous distinct_id a web client uses before login
  const user = `${tag}-user`;
  const other = `${tag}-other-device`;
  const g1 = `${tag}-acme`;
  const g2 = `${tag}-globex`;

  // Phase 1: anonymous activity.
  for (let n = 0; n < 3; ++n) {
    posthog.capture({ distinctId: anon, event: 'viewed pricing', properties: { n, plan: 'pro' } });
  }
  posthog.capture({ distinctId: anon, event: '$pageview', properties: { $current_url: 'https://shop.test/pricing' } });
  posthog.capture({ distinctId: anon, event: '$pageview', properties: { $current_url: 'https://shop.test/docs' } });
  await posthog.flush();
  const anonCustomer = await waitFor(() => cairn.customer(anon));
  assert.ok(anonCustomer, 'anonymous distinct_id stored');

  // Phase 2: login: $identify with $anon_distinct_id links the anonymous person to the user.
  posthog.identify({ distinctId: user, properties: {
    $set: { email: `${tag}@example.com`, name: 'Grace Hopper', plan: 'pro' },
    $set_once: { signup_source: 'ads' },
    $anon_distinct_id: anon,
  } });
  await posthog.flush();

  // Phase 3: activity, a trait update, group membership.
  posthog.capture({ distinctId: user, event: 'created project', properties: { revenue: 30 } });
  posthog.capture({ distinctId: user, event: 'invited teammate', groups: { company: g1 } });
  posthog.capture({ distinctId: user, event: '$pageview', properties: { $current_url: 'https://shop.test/app' } });
  await posthog.flush();
  posthog.identify({ distinctId: user, properties: { $set: { plan: 'enterprise' }, $set_once: { signup_source: 'seo' } } });
  posthog.groupIdentify({ groupType: 'company', groupKey: g1, properties: { name: 'Acme', employees: 42 },
    distinctId: user });
  // Without distinctId posthog-node uses "$company_<key>" as the distinct_id.
  posthog.groupIdentify({ groupType: 'company', groupKey: g2, properties: { name: 'Globex' } });
  await posthog.flush();

  // Phase 4: another device, then alias it to the user.
  posthog.capture({ distinctId: other, event: 'opened app' });
  posthog.capture({ distinctId: other, event: 'opened app' });
  await posthog.flush();
  const otherCustomer = await waitFor(() => cairn.customer(other));
  assert.ok(otherCustomer);
  posthog.alias({ distinctId: user, alias: other });
  await posthog.shutdown(30000);

  for (const a of wire) {
    assert.equal(new URL(a.url).pathname, '/batch/', 'posthog-node posts to /batch/');
    assert.equal(a.status, 200, `${a.url}: ${a.status}`);
    assert.ok(a.gzipped, 'posthog-node gzips');
    assert.equal(a.headers['Content-Encoding'], 'gzip');
    assert.equal(a.body.api_key, cairn.writeKey, 'the key travels as api_key in the body');
  }
  assert.ok(wire.length >= 5, `several requests (${wire.length})`);

  // One customer for the user, its other device and (by $identify) its anonymous past.
  const profile = await waitFor(async () => {
    const p = await cairn.customer(user);
    return p && p.mergedFrom.includes(otherCustomer.id) ? p : null;
  });
  assert.ok(profile, `$create_alias merged ${other} into ${user}: ${JSON.stringify(await cairn.customer(user))}`);
  assert.equal((await cairn.customer(other)).id, profile.id, `${other} resolves to ${user}`);
  const ids = profile.identities.map((x) => `${x.kind}:${x.value}`);
  assert.ok(ids.includes(`userId:${user}`), ids.join());
  assert.ok(ids.includes(`email:${tag}@example.com`), ids.join());

  // Traits from $set: the later value wins.
  assert.equal(profile.traits.email, `${tag}@example.com`);
  assert.equal(profile.traits.name, 'Grace Hopper');
  assert.equal(profile.traits.plan, 'enterprise');

  // $groupidentify with the user's distinct_id: membership with the group traits and type.
  assert.deepEqual(profile.groups.map((g) => g.groupId), [g1]);
  assert.equal(profile.groups[0].traits.name, 'Acme');
  assert.equal(profile.groups[0].traits.employees, 42);
  assert.equal(profile.groups[0].traits.$group_type, 'company');
  // ... and without: the "$company_<key>" pseudo-customer holds the group.
  const groupCustomer = await cairn.customer(`$company_${g2}`);
  assert.ok(groupCustomer, 'the $company_<key> distinct_id is stored');
  assert.deepEqual(groupCustomer.groups.map((g) => [g.groupId, g.traits.name]), [[g2, 'Globex']]);

  // Stored exactly once each, mapped: the user's and the other device's messages on the user (and
  // the anonymous ones when $identify linked them: checked on its own below).
  const anonLinked = (await cairn.customer(anon)).id === profile.id;
  const stored = await assertExactlyOnce(cairn, user, wire, anonLinked ? [user, other, anon] : [user, other]);
  const byEvent = (e) => [...stored.values()].flat().filter((i) => i.message.event === e);
  assert.equal(byEvent('$create_alias')[0].message.previousId, other, 'alias: previousId = properties.alias');
  assert.equal(byEvent('$create_alias')[0].message.userId, user, 'alias: userId = distinct_id');
  assert.equal(byEvent('$identify').length, 2);
  assert.equal(byEvent('$identify')[0].message.traits.plan, 'enterprise', 'identify traits = $set');
  const page = byEvent('$pageview')[0];
  assert.equal(page.message.name, 'https://shop.test/app', 'page name = $current_url');
  assert.equal(page.channel, 'web');
  assert.equal(byEvent('created project')[0].revenue, 30);
  assert.equal(byEvent('invited teammate')[0].message.properties.$groups.company, g1);

  // PostHog semantics the mapping must keep; subtests so each is reported on its own.
  await t.test('$set_once does not overwrite a trait already set', async () => {
    assert.equal((await cairn.customer(user)).traits.signup_source, 'ads',
      'first identify: $set_once {signup_source: "ads"}; second: $set_once {signup_source: "seo"}');
  });
  await t.test('$identify with $anon_distinct_id links the earlier anonymous events to the user', async () => {
    const anonNow = await cairn.customer(anon);
    assert.equal(anonNow.id, profile.id,
      `$identify {distinct_id: ${user}, $anon_distinct_id: ${anon}} must link the events captured as ` +
      `distinct_id ${anon} (customer ${anonNow.id}, identities ${JSON.stringify(anonNow.identities)}) ` +
      `to the user (customer ${profile.id})`);
    await assertExactlyOnce(cairn, user, wire, [user, other, anon]);
  });
});

test('posthog-node: 503 is retried with the same uuids; a resent body is de-duplicated', async (t) => {
  const cairn = await startCairn(t);
  const { posthog, wire } = client(cairn);
  const tag = runTag('ph-retry');
  const user = `${tag}-user`;
  await cairn.failNext(1);
  posthog.identify({ distinctId: user, properties: { $set: { email: `${tag}@example.com` } } });
  for (let n = 0; n < 3; ++n) posthog.capture({ distinctId: user, event: 'retried', properties: { n } });
  posthog.capture({ distinctId: user, event: '$pageview', properties: { $current_url: 'https://shop.test/r' } });
  posthog.groupIdentify({ groupType: 'company', groupKey: `${tag}-grp`, properties: { name: 'Retry Inc' },
    distinctId: user });
  posthog.alias({ distinctId: user, alias: `${tag}-old` });
  await posthog.shutdown(30000);

  // posthog-node retries 5xx after a fixed fetchRetryDelay (3 s by default; Retry-After is not read).
  t.diagnostic(`attempts: ${wire.map((a) => `${a.status} (${a.messages.length})`).join(', ')}`);
  assert.deepEqual(wire.map((a) => a.status), [503, 200]);
  assert.equal(wire[0].retryAfter, '1');
  assert.equal(wire[0].messages.length, 7);
  assert.deepEqual(wire[1].messages.map((m) => m.uuid), wire[0].messages.map((m) => m.uuid),
    'the retry resent the same uuids');
  assert.ok(wire[1].at - wire[0].at >= 2500, `retried after the fixed delay (${wire[1].at - wire[0].at} ms)`);
  await assertExactlyOnce(cairn, user, wire, [user]);

  // The same body again, byte for byte (what posthog-node sends when a response is lost).
  const dupBefore = await cairn.metric('cairn_ingest_duplicates_total');
  const again = await cairn.request('POST', '/batch/', { auth: 'none', body: wire[1].raw,
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.accepted, 7, `duplicates count as accepted: ${again.text}`);
  assert.equal(again.json.duplicates, 7, again.text);
  assert.equal(await cairn.metric('cairn_ingest_duplicates_total') - dupBefore, 7);
  await assertExactlyOnce(cairn, user, wire, [user]);
  const profile = await cairn.customer(user);
  assert.equal(profile.interactionCount, 7);
  assert.equal(profile.traits.email, `${tag}@example.com`);
  assert.deepEqual(profile.groups.map((g) => g.groupId), [`${tag}-grp`]);
  assert.equal((await cairn.customer(`${tag}-old`)).id, profile.id);
});
