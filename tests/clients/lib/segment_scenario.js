'use strict';
// The journey both Segment-shaped node SDKs (analytics-node, rudder-sdk-node) send, and the
// checks on what Cairn stored. An SDK is wrapped in an adapter:
//   adapter.send(type, params) → Promise resolved when the SDK reports the message delivered
//                                (rejected when it reports a failure);
//   adapter.wire               → [{status, retryAfter, headers, messages}] one per HTTP attempt,
//                                recorded from the SDK's own hooks (the bytes it put on the wire);
//   adapter.close()            → flushes and closes the SDK.
// Every message carries a unique `context.probe`, so each call can be found again in Cairn.

const assert = require('node:assert/strict');
const { waitFor, byProbe, duplicateMessageIds } = require('./harness');

const probeOf = (i) => i.message && i.message.context && i.message.context.probe;

class Journey {
  constructor(adapter, tag) {
    this.adapter = adapter;
    this.tag = tag;
    this.calls = [];  // {probe, type, params}
  }

  // Sends one message with a fresh probe; returns the delivery promise.
  send(type, params) {
    const probe = `${this.tag}:${type}:${this.calls.length}`;
    const sent = { ...params, context: { ...(params.context || {}), probe } };
    this.calls.push({ probe, type, params: sent });
    return this.adapter.send(type, sent);
  }

  // probe → the set of messageIds the SDK sent for it (over every attempt).
  wireIds() {
    const m = new Map();
    for (const attempt of this.adapter.wire) {
      for (const msg of attempt.messages) {
        const p = msg.context && msg.context.probe;
        if (!p) continue;
        if (!m.has(p)) m.set(p, new Set());
        m.get(p).add(msg.messageId);
      }
    }
    return m;
  }
}

// Waits until every probe of `journey` is stored under customer `id`, then asserts each is stored
// exactly once, with the type that was sent and the messageId the SDK put on the wire.
async function assertExactlyOnce(cairn, id, journey) {
  let events = [];
  await waitFor(async () => {
    events = await cairn.events(id);
    const seen = byProbe(events, probeOf);
    return journey.calls.every((c) => seen.has(c.probe));
  });
  const mine = events.filter((i) => String(probeOf(i) || '').startsWith(`${journey.tag}:`));
  const seen = byProbe(mine, probeOf);
  const missing = journey.calls.filter((c) => !seen.has(c.probe)).map((c) => c.probe);
  assert.deepEqual(missing, [], `messages never stored under ${id}`);
  const wire = journey.wireIds();
  for (const c of journey.calls) {
    const stored = seen.get(c.probe);
    assert.equal(stored.length, 1, `${c.probe} stored ${stored.length} times: ${JSON.stringify(stored)}`);
    assert.equal(stored[0].type, c.type, `${c.probe}: stored type`);
    const ids = wire.get(c.probe);
    assert.ok(ids, `${c.probe} never seen on the wire`);
    assert.equal(ids.size, 1, `${c.probe}: the SDK used one messageId across attempts`);
    assert.equal(stored[0].messageId, [...ids][0], `${c.probe}: stored messageId is the one sent`);
  }
  assert.equal(mine.length, journey.calls.length, 'no extra interactions');
  assert.deepEqual(duplicateMessageIds(events), [], 'a messageId stored twice');
  return mine;
}

function identitiesOf(profile) {
  return profile.identities.map((x) => `${x.kind}:${x.value}`).sort();
}

// The main journey: anonymous browsing, identify (anonymousId + userId), activity, trait update,
// group membership, a second device and a legacy userId both aliased into the user. Each phase's
// delivery is awaited before the next, so checks between phases see what the phase stored.
async function runJourney(t, cairn, adapter, tag) {
  const j = new Journey(adapter, tag);
  const anon = `${tag}-anon`;
  const user = `${tag}-user`;
  const device2 = `${tag}-device2`;
  const legacy = `${tag}-legacy-user`;
  const g1 = `${tag}-acme`;
  const g2 = `${tag}-globex`;

  // Phase 1: anonymous browsing.
  await Promise.all([
    j.send('track', { anonymousId: anon, event: 'Viewed Pricing', properties: { plan: 'pro', n: 1 } }),
    j.send('track', { anonymousId: anon, event: 'Viewed Pricing', properties: { plan: 'team', n: 2 } }),
    j.send('page', { anonymousId: anon, name: 'Pricing', properties: { path: '/pricing' } }),
    j.send('page', { anonymousId: anon, category: 'Docs', name: 'Quickstart', properties: { path: '/docs' } }),
    j.send('track', { anonymousId: anon, event: 'Started Signup', properties: { n: 3 } }),
  ]);
  const anonProfile = await waitFor(() => cairn.customer(anon));
  assert.ok(anonProfile, `customer ${anon} exists after phase 1`);
  assert.deepEqual(identitiesOf(anonProfile), [`anonymousId:${anon}`]);

  // Phase 2: sign-up identifies the visitor.
  await j.send('identify', {
    anonymousId: anon, userId: user,
    traits: { email: `${tag}@example.com`, name: 'Ada Lovelace', plan: 'pro', seats: 5 },
  });
  const afterIdentify = await waitFor(async () => {
    const p = await cairn.customer(user);
    return p && p.identities.some((x) => x.kind === 'anonymousId') ? p : null;
  });
  assert.ok(afterIdentify, `identify with anonymousId + userId linked ${anon} to ${user}`);
  assert.equal(afterIdentify.id, anonProfile.id, 'identify kept the anonymous customer (no new one)');

  // Phase 3: activity as the user, a trait update, two groups. Sent in order, awaited one by one
  // where order matters (the trait update must follow the first identify).
  await Promise.all([
    j.send('track', { userId: user, event: 'Created Project', properties: { project: 'p1', revenue: 12.5 } }),
    j.send('track', { userId: user, event: 'Invited Teammate', properties: { n: 1 } }),
    j.send('page', { userId: user, name: 'Dashboard', properties: { path: '/app' } }),
    j.send('track', { userId: user, event: 'Invited Teammate', properties: { n: 2 } }),
  ]);
  await j.send('identify', { userId: user, traits: { plan: 'enterprise' } });
  await Promise.all([
    j.send('group', { userId: user, groupId: g1, traits: { name: 'Acme', employees: 42 } }),
    j.send('group', { userId: user, groupId: g2, traits: { name: 'Globex' } }),
  ]);

  // Phase 4: a second device and a legacy account, each still a customer of its own.
  await Promise.all([
    j.send('track', { anonymousId: device2, event: 'Opened App', properties: { os: 'android' } }),
    j.send('page', { anonymousId: device2, name: 'Home' }),
    j.send('track', { userId: legacy, event: 'Logged In (legacy)' }),
  ]);
  const d2 = await waitFor(() => cairn.customer(device2));
  const lg = await waitFor(() => cairn.customer(legacy));
  assert.ok(d2 && lg, 'second device and legacy user are stored');
  assert.notEqual(d2.id, anonProfile.id, 'second device is a separate customer before alias');
  assert.notEqual(lg.id, anonProfile.id, 'legacy user is a separate customer before alias');

  // Phase 5: alias both into the user.
  await j.send('alias', { previousId: device2, userId: user });
  await j.send('alias', { previousId: legacy, userId: user });

  await adapter.close();

  // One customer, reachable by every id.
  const merged = await waitFor(async () => {
    const p = await cairn.customer(user);
    return p && p.mergedFrom.includes(d2.id) && p.mergedFrom.includes(lg.id) ? p : null;
  });
  assert.ok(merged, `alias merged ${d2.id} and ${lg.id} into ${user}: ${JSON.stringify(await cairn.customer(user))}`);
  assert.equal(merged.id, anonProfile.id);
  for (const id of [anon, device2, legacy]) {
    assert.equal((await cairn.customer(id)).id, merged.id, `${id} resolves to the merged customer`);
  }
  // (alias also links previousId under the kind it was not seen as: Cairn cannot tell which.)
  const ids = identitiesOf(merged);
  for (const want of [`anonymousId:${anon}`, `anonymousId:${device2}`, `userId:${legacy}`, `userId:${user}`,
    `email:${tag}@example.com`]) {
    assert.ok(ids.includes(want), `identity ${want} on the merged customer: ${ids}`);
  }

  // Traits: the latest value wins; the others stay.
  assert.equal(merged.traits.plan, 'enterprise');
  assert.equal(merged.traits.email, `${tag}@example.com`);
  assert.equal(merged.traits.name, 'Ada Lovelace');
  assert.equal(merged.traits.seats, 5);

  // Group membership with group traits.
  const groups = Object.fromEntries(merged.groups.map((g) => [g.groupId, g.traits]));
  assert.deepEqual(Object.keys(groups).sort(), [g1, g2].sort());
  assert.equal(groups[g1].name, 'Acme');
  assert.equal(groups[g1].employees, 42);
  assert.equal(groups[g2].name, 'Globex');

  // Every message exactly once, on the one customer (interactions of merged ids included).
  const stored = await assertExactlyOnce(cairn, user, j);
  assert.equal(merged.interactionCount, j.calls.length, 'interactionCount counts every message once');
  const revenue = stored.find((i) => i.event === 'Created Project');
  assert.equal(revenue.revenue, 12.5, 'properties.revenue is read into the revenue column');
  return { journey: j, profile: merged };
}

// Messages for the retry case: one request holding every type.
function sendRetryBatch(j, tag) {
  const user = `${tag}-user`;
  return Promise.all([
    j.send('identify', { userId: user, anonymousId: `${tag}-anon`, traits: { email: `${tag}@example.com` } }),
    j.send('track', { userId: user, event: 'Retried', properties: { n: 1 } }),
    j.send('track', { userId: user, event: 'Retried', properties: { n: 2 } }),
    j.send('track', { userId: user, event: 'Retried', properties: { n: 3 } }),
    j.send('page', { userId: user, name: 'Retry Page' }),
    j.send('group', { userId: user, groupId: `${tag}-grp`, traits: { name: 'Retry Inc' } }),
    j.send('alias', { previousId: `${tag}-old`, userId: user }),
  ]);
}

const idsOf = (attempt) => attempt.messages.map((m) => m.messageId).sort();

// Checks a wire log of a run in which Cairn failed exactly the first request: that request got
// 503 + Retry-After: 1, the SDK resent exactly its messageIds in a later attempt that got 200, and
// every message went out in exactly one successful attempt. (SDKs batch differently: rudder
// sends the first message of its life on its own, so the other messages may be in a second
// request.)
function assertOneRetry(w, calls) {
  const statuses = w.map((a) => a.status);
  assert.equal(statuses[0], 503, `first attempt failed by the test switch: ${statuses}`);
  assert.equal(statuses.filter((s) => s !== 200).length, 1, `exactly one failed attempt: ${statuses}`);
  assert.equal(w[0].retryAfter, '1', '503 carries Retry-After: 1');
  const failedIds = JSON.stringify(idsOf(w[0]));
  const retries = w.slice(1).filter((a) => JSON.stringify(idsOf(a)) === failedIds);
  assert.equal(retries.length, 1, 'the failed request was resent once with the same messageIds');
  const delivered = w.filter((a) => a.status === 200).flatMap((a) => a.messages.map((m) => m.messageId));
  assert.equal(new Set(delivered).size, delivered.length, 'no message delivered twice');
  assert.equal(delivered.length, calls.length, 'every message delivered');
  return retries[0];
}

// The retry case. Cairn fails the first ingest request with 503 + Retry-After; the SDK must retry
// the same messages (same messageIds) and each must be stored once. Then a second SDK instance
// resends every message with its original messageId, as a client does after a lost response:
// Cairn must answer 200 and count them as duplicates, storing nothing new.
// `makeAdapter()` builds a fresh adapter. Returns the first adapter's wire log and its retry.
async function runRetryAndResend(t, cairn, makeAdapter, tag) {
  const user = `${tag}-user`;
  const adapter = makeAdapter();
  const j = new Journey(adapter, tag);
  const armed = await cairn.failNext(1);
  assert.equal(armed.failNext, 1);
  const started = Date.now();
  await sendRetryBatch(j, tag);
  await adapter.close();
  const w = adapter.wire;
  t.diagnostic(`attempts: ${w.map((a) => `${a.status} (${a.messages.length} messages)`).join(', ')} ` +
    `in ${Date.now() - started} ms`);
  const retry = assertOneRetry(w, j.calls);
  await assertExactlyOnce(cairn, user, j);

  const wire = j.wireIds();
  const dupBefore = await cairn.metric('cairn_ingest_duplicates_total');
  const again = makeAdapter();
  await Promise.all(j.calls.map((c) => again.send(c.type, { ...c.params, messageId: [...wire.get(c.probe)][0] })));
  await again.close();
  assert.ok(again.wire.every((a) => a.status === 200), 'resent messages are accepted (200)');
  assert.deepEqual(again.wire.flatMap(idsOf).sort(), w.filter((a) => a.status === 200).flatMap(idsOf).sort(),
    'the resend carried the original messageIds');
  const dupAfter = await cairn.metric('cairn_ingest_duplicates_total');
  assert.equal(dupAfter - dupBefore, j.calls.length, 'every resent message counted as a duplicate');
  await assertExactlyOnce(cairn, user, j);
  const profile = await cairn.customer(user);
  assert.equal(profile.interactionCount, j.calls.length);
  assert.equal(profile.traits.email, `${tag}@example.com`);
  assert.deepEqual(profile.groups.map((g) => g.groupId), [`${tag}-grp`]);
  for (const id of [`${tag}-anon`, `${tag}-old`]) {
    assert.equal((await cairn.customer(id)).id, profile.id, `${id} resolves to ${user}`);
  }
  return { wire: w, retry };
}

module.exports = { Journey, runJourney, runRetryAndResend, assertExactlyOnce, probeOf, identitiesOf };
