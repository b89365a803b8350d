// The customer page: search by any identity (userId, email, anonymousId, or c:N), then the
// profile, the timeline across channels, the journey's views with time in stage, the emotion
// curve, value and P(alive), consents with their history, and the customer's cases. Calls:
// GET /v1/customers/{id}, …/events, …/journey, …/value, …/consents, GET /v1/cases?customer=.
import { ApiError, get, type Call } from '../api';
import { LineChart, ScatterChart } from 'echarts/charts';
import { MarkLineComponent } from 'echarts/components';
import { chart, palette, use } from '../charts';
import { range } from '../state';
import { card, dateTime, duration, errorBox, h, link, navigate, nf0, nf2, num, pct, table } from '../ui';

use([LineChart, ScatterChart, MarkLineComponent]);

const enc = encodeURIComponent;

function searchForm(initial: string): HTMLElement {
  const input = h('input', {
    type: 'search',
    id: 'customer-search',
    name: 'id',
    value: initial,
    placeholder: 'userId, email, anonymousId or c:123',
    'aria-label': 'customer identity',
  });
  const form = h('form', { class: 'search' }, input, h('button', { type: 'submit' }, 'Find'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = input.value.trim();
    if (v) navigate(`/customers/${enc(v)}${location.search}`);
  });
  return form;
}

async function optional<T>(p: Promise<T>): Promise<T | ApiError> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
}

const channelColor = (channels: string[]) => (c: string) => palette[channels.indexOf(c) % palette.length];

function timelineChart(events: any[]): HTMLElement {
  const channels = [...new Set(events.map((e) => e.channel || '(none)'))].sort();
  const color = channelColor(channels);
  return chart(
    {
      grid: { left: 80, right: 16, top: 10, bottom: 30 },
      tooltip: {
        trigger: 'item',
        formatter: (p: any) => `${p.data.event}<br>${p.data.channel} · ${p.data.when}`,
      },
      xAxis: { type: 'time' },
      yAxis: { type: 'category', data: channels },
      series: [
        {
          type: 'scatter',
          symbolSize: 9,
          data: events.map((e) => ({
            value: [e.timestamp, e.channel || '(none)'],
            event: e.event || e.type,
            channel: e.channel || '(none)',
            when: dateTime(e.timestamp),
            itemStyle: { color: color(e.channel || '(none)') },
          })),
        },
      ],
    },
    Math.max(140, 40 + channels.length * 34),
  );
}

function timelineList(events: any[]): HTMLElement {
  return h(
    'ol',
    { class: 'timeline', id: 'timeline' },
    events.map((e) =>
      h(
        'li',
        { 'data-event': e.event || e.type },
        h('time', {}, dateTime(e.timestamp)),
        h('span', { class: 'chan' }, e.channel || '—'),
        h('strong', {}, e.event || `(${e.type})`),
        e.revenue ? h('span', { class: 'rev' }, ` ${num(e.revenue, nf2)}`) : null,
      ),
    ),
  );
}

function viewsTable(journey: any): HTMLElement {
  const views = journey.state?.views ?? {};
  const now = Date.now();
  const rows: any[][] = [];
  for (const [name, v] of Object.entries<any>(views)) {
    const entered = Object.entries<string | null>(v.entered ?? {}).filter(([, t]) => t);
    entered.sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    const stages = entered.map(([stage, t], i) => {
      const next = entered[i + 1]?.[1];
      const end = next ? new Date(next).getTime() : now;
      const ms = end - new Date(t as string).getTime();
      const current = stage === v.stage;
      return h('span', { class: `stage ${current ? 'current' : ''}` }, `${stage} ${duration(ms)}`);
    });
    rows.push([
      name,
      h('strong', {}, v.stage ?? '—'),
      v.since ? duration(now - new Date(v.since).getTime()) : '—',
      v.expectedDwell ?? '—',
      v.stuck ? h('span', { class: 'badge bad' }, 'stuck') : 'no',
      h('span', { class: 'stages' }, stages),
    ]);
  }
  const emo = journey.state?.emotion;
  rows.push(['emotion', h('strong', {}, emo?.label ?? '—'), '', '', '', emo ? `score ${num(emo.score)}` : '']);
  return table(['view', 'stage', 'time in stage', 'expected dwell', 'stuck', 'path (time in each stage)'], rows, 'views');
}

function emotionChart(curve: any[]): HTMLElement {
  if (!curve?.length) return h('p', { class: 'muted' }, 'No emotion readings yet.');
  return chart(
    {
      grid: { left: 40, right: 16, top: 10, bottom: 30 },
      tooltip: { trigger: 'axis', formatter: (p: any) => `${p[0].data.label} ${p[0].data.value[1]}<br>${p[0].data.cause}` },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', min: -100, max: 100 },
      series: [
        {
          type: 'line',
          step: 'end',
          data: curve.map((c) => ({ value: [c.at, c.score], label: c.label, cause: c.cause })),
          markLine: { symbol: 'none', data: [{ yAxis: 0 }], lineStyle: { color: '#aaa' } },
        },
      ],
    },
    200,
  );
}

// `&before=` the day after the range's `to` (the timeline ends with that day), or "".
function timelineEnd(): string {
  const to = range().to;
  if (!to) return '';
  const t = new Date(`${to}T00:00:00Z`).getTime() + 86400000;
  return `&before=${encodeURIComponent(new Date(t).toISOString())}`;
}

export async function renderCustomer(root: HTMLElement, params: Record<string, string>): Promise<void> {
  const id = params.id ?? '';
  root.append(h('h1', {}, 'Customers'), searchForm(id));
  if (!id) {
    root.append(h('p', { class: 'muted' }, 'Search by any identity the customer has used; merged identities are one customer.'));
    return;
  }
  const base = `/v1/customers/${enc(id)}`;
  const calls = {
    profile: { method: 'GET', path: base } as Call,
    // The range's end: the latest 200 interactions up to it (the API pages backwards from `before`).
    events: { method: 'GET', path: `${base}/events?limit=200${timelineEnd()}` } as Call,
    journey: { method: 'GET', path: `${base}/journey` } as Call,
    value: { method: 'GET', path: `${base}/value` } as Call,
  };
  let profile: any;
  try {
    profile = await get(base);
  } catch (e) {
    root.append(e instanceof ApiError && e.status === 404 ? h('div', { class: 'error' }, `No customer ${id}.`) : errorBox(e));
    return;
  }
  const casesCall: Call = { method: 'GET', path: `/v1/cases?customer=${enc(profile.id)}&limit=50` };
  const consentsCall: Call = { method: 'GET', path: `/v1/customers/${enc(profile.id)}/consents` };
  const [events, journey, value, cases, consents] = await Promise.all([
    optional(get(calls.events.path)),
    optional(get(calls.journey.path)),
    optional(get(calls.value.path)),
    optional(get(casesCall.path)),
    optional(get(consentsCall.path)),
  ]);

  const traits = Object.entries<any>(profile.traits ?? {});
  root.append(
    card(
      `Customer ${profile.id}`,
      [calls.profile],
      h(
        'div',
        { class: 'profile', 'data-customer': profile.id },
        h(
          'div',
          {},
          h('h3', {}, 'Identities'),
          h('ul', { class: 'ids' }, (profile.identities ?? []).map((i: any) => h('li', {}, `${i.kind}: ${i.value}`))),
          h('div', { class: 'sub' }, `first seen ${dateTime(profile.firstSeen)} · last seen ${dateTime(profile.lastSeen)} · ${profile.interactionCount} interactions`),
        ),
        h('div', {}, h('h3', {}, 'Traits'), table(['trait', 'value'], traits.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]))),
      ),
    ),
  );

  const grid = h('div', { class: 'grid2' });
  root.append(grid);
  if (journey instanceof ApiError) grid.append(card('Journey', [calls.journey], errorBox(journey)));
  else {
    const s = journey.state ?? {};
    grid.append(
      card(
        'Journey: the four views',
        [calls.journey],
        h('div', { class: 'sub' }, `persona ${s.persona ?? '—'} · ${s.orders ?? 0} orders · derailing: ${(s.derailing ?? []).join(', ') || 'no'}`),
        viewsTable(journey),
      ),
      card('Emotion curve', [calls.journey], emotionChart(journey.emotionCurve)),
    );
  }
  const valueBody: HTMLElement[] = [];
  if (!(journey instanceof ApiError) && journey.state?.value) {
    const v = journey.state.value;
    valueBody.push(
      h(
        'div',
        { class: 'kpis' },
        kpi('Realised', `${num(v.realised, nf0)} ${v.currency}`),
        // The journey value and how it was reckoned (docs/journey.md "Value").
        h(
          'div',
          { class: 'kpi', id: 'journey-value', 'data-basis': v.journeyBasis ?? '' },
          h('div', { class: 'label' }, 'Journey value'),
          h('div', { class: 'big' }, `${num(v.journey, nf0)} ${v.currency}`),
          h('div', { class: 'sub' }, basisText[v.journeyBasis] ?? v.journeyBasis ?? ''),
        ),
        kpi('Predicted CLV', `${num(v.predictedClv, nf0)} ${v.currency}`),
        kpi('At stake', `${num(v.atStake, nf0)} ${v.currency}`),
      ),
    );
  }
  if (value instanceof ApiError) valueBody.push(errorBox(value));
  else
    valueBody.push(
      h(
        'div',
        { class: 'kpis' },
        kpi('P(alive)', value.modelled ? pct(value.probAlive) : '—'),
        kpi('Expected purchases', value.modelled ? num(value.expectedPurchases) : '—'),
        kpi('CLV (model)', value.modelled ? num(value.clv, nf0) : 'not modelled'),
      ),
    );
  grid.append(card('Value', [calls.journey, calls.value], valueBody));
  grid.append(
    card(
      'Cases',
      [casesCall],
      cases instanceof ApiError
        ? errorBox(cases)
        : cases.cases.length === 0
          ? h('p', { class: 'muted' }, 'No cases.')
          : table(
              ['id', 'category', 'severity', 'status', 'opened'],
              cases.cases.map((c: any) => [String(c.id), c.category, c.severity, c.status, dateTime(c.openedAt)]),
            ),
    ),
  );
  grid.append(card('Consents', [consentsCall], consents instanceof ApiError ? errorBox(consents) : consentPanel(consents)));
  if (!(journey instanceof ApiError) && journey.decisions?.length)
    grid.append(
      card(
        'Rescue decisions',
        [calls.journey],
        table(
          ['id', 'path', 'expected gain', 'status'],
          journey.decisions.map((d: any) => [String(d.id), d.path, num(d.expectedGain, nf0), d.status]),
        ),
        link('/rescues', 'rescue queue'),
      ),
    );

  if (events instanceof ApiError) root.append(card('Timeline', [calls.events], errorBox(events)));
  else {
    const list = events.interactions ?? [];
    root.append(
      card(
        `Timeline across channels (latest ${list.length})`,
        [calls.events],
        timelineChart(list),
        timelineList(list),
        events.nextBefore ? h('div', { class: 'sub' }, 'Older interactions: GET …/events?before=' + events.nextBefore) : null,
      ),
    );
  }
}

// The consent ledger (docs/consent.md): the verdict now per purpose and channel, and every
// statement recorded, newest first, with its source, lawful basis and proof.
function consentPanel(c: any): HTMLElement[] {
  const current: any[] = c.current ?? [];
  const history: any[] = [...(c.history ?? [])].sort((a, b) => String(b.at).localeCompare(String(a.at)));
  const state = (s: string, expired: boolean) =>
    h('span', { class: `badge ${s === 'granted' && !expired ? 'ok' : 'bad'}` }, expired ? `${s} (expired)` : s);
  return [
    current.length
      ? table(
          ['purpose', 'channel', 'now', 'since'],
          current.map((x) => [x.purpose, x.channel || '*', state(x.state, !!x.expired), dateTime(x.record?.at)]),
          'consents-current',
        )
      : h('p', { class: 'muted' }, 'No consent recorded: purposes that require a grant are blocked.'),
    h('h3', {}, `History (${history.length})`),
    history.length
      ? table(
          ['at', 'purpose', 'channel', 'state', 'basis', 'source', 'proof'],
          history.map((x) => [dateTime(x.at), x.purpose, x.channel || '*', x.state, x.lawful_basis ?? '—', x.source ?? '—', x.proof ?? '—']),
          'consents-history',
        )
      : h('p', { class: 'muted' }, 'No statements.'),
  ];
}

const basisText: Record<string, string> = {
  stage_conversion: 'no purchase yet: P(purchase | funnel stage) × average order',
  predicted_purchases: 'expected purchases (value model) × their average spend',
  repeat_rate: 'P(another purchase | orders so far) × average order',
};

function kpi(label: string, value: string): HTMLElement {
  return h('div', { class: 'kpi' }, h('div', { class: 'label' }, label), h('div', { class: 'big' }, value));
}
