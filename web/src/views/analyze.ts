// Analyst views (docs/analytics.md, docs/api/insights.md): the funnel builder (steps, window,
// breakdown → chart, counts and the "who" list), the paths, stickiness and lifecycle builders
// (clicking a node, link, bar or count lists the customers behind it: their "who" lists),
// the cohort retention heatmap and trends. The page's filters (range and segment) go into every
// query (state.ts queryFilters).
import { post, type Call } from '../api';
import { BarChart, HeatmapChart, LineChart, SankeyChart } from 'echarts/charts';
import { VisualMapComponent } from 'echarts/components';
import { categoryOption, chart, palette, series, use } from '../charts';
import { queryFilters } from '../state';
import { card, clear, errorBox, h, link, nf0, nf2, num, pct, table } from '../ui';

use([BarChart, HeatmapChart, LineChart, SankeyChart, VisualMapComponent]);

const DEFAULT_STEPS = ['Signed Up', 'Product Viewed', 'Added To Cart', 'Order Completed'];

async function eventNames(): Promise<string[]> {
  try {
    const t = await post('/v1/query/trends', { breakdown: 'event', top_n: 100, interval: 'month' });
    return (t.series ?? []).map((s: any) => s.label).filter((l: string) => l !== '$other');
  } catch {
    return [];
  }
}

function funnelBuilder(events: string[]): HTMLElement {
  const stepsBox = h('div', { class: 'steps', id: 'funnel-steps' });
  const addStep = (value = '') => {
    const input = h('input', { type: 'text', class: 'step', value, list: 'event-names', 'aria-label': 'step event' });
    const remove = h('button', { type: 'button', class: 'secondary', title: 'remove step' }, '×');
    const row = h('div', { class: 'step-row' }, input, remove);
    remove.addEventListener('click', () => row.remove());
    stepsBox.append(row);
  };
  DEFAULT_STEPS.forEach((s) => addStep(s));
  const add = h('button', { type: 'button', class: 'secondary' }, '+ step');
  add.addEventListener('click', () => addStep());
  const windowSel = h('select', { id: 'funnel-window', 'aria-label': 'window' }, ['1h', '1d', '7d', '14d', '30d', '90d'].map((w) => h('option', { value: w, selected: w === '7d' }, w)));
  const breakdownSel = h(
    'select',
    { id: 'funnel-breakdown', 'aria-label': 'breakdown' },
    h('option', { value: '' }, 'none'),
    h('option', { value: 'channel' }, 'channel'),
    h('option', { value: 'property' }, 'property…'),
  );
  const prop = h('input', { type: 'text', id: 'funnel-property', placeholder: 'property, e.g. plan', hidden: true });
  breakdownSel.addEventListener('change', () => (prop.hidden = breakdownSel.value !== 'property'));
  const whoStep = h('input', { type: 'number', id: 'funnel-who-step', min: '1', value: '1', 'aria-label': 'who step' });
  const whoStatus = h('select', { id: 'funnel-who-status', 'aria-label': 'who status' }, h('option', { value: 'dropped' }, 'dropped after'), h('option', { value: 'reached' }, 'reached'));
  const out = h('div', { class: 'funnel-out', id: 'funnel-result' });
  const form = h(
    'form',
    { class: 'builder', id: 'funnel-form' },
    h('datalist', { id: 'event-names' }, events.map((e) => h('option', { value: e }))),
    h('h3', {}, 'Steps'),
    stepsBox,
    add,
    h('div', { class: 'opts' }, h('label', {}, 'Window ', windowSel), h('label', {}, 'Breakdown ', breakdownSel, prop), h('label', {}, 'Who: ', whoStatus, ' step ', whoStep)),
    h('button', { type: 'submit', id: 'funnel-run' }, 'Run funnel'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const steps = [...stepsBox.querySelectorAll<HTMLInputElement>('input.step')].map((i) => i.value.trim()).filter(Boolean);
    const spec: any = { steps, window: windowSel.value, ...queryFilters() };
    if (breakdownSel.value === 'channel') spec.breakdown = { by: 'channel' };
    if (breakdownSel.value === 'property') spec.breakdown = { by: 'property', property: prop.value.trim() };
    spec.who = { step: Number(whoStep.value) || 1, status: whoStatus.value, limit: 50 };
    clear(out);
    out.append(h('div', { class: 'loading' }, 'Running…'));
    await runFunnel(spec, out);
  });
  return h('div', {}, form, out);
}

async function runFunnel(spec: any, out: HTMLElement): Promise<void> {
  const call: Call = { method: 'POST', path: '/v1/query/funnel', body: spec };
  let r: any;
  try {
    r = await post('/v1/query/funnel', spec);
  } catch (e) {
    clear(out);
    out.append(card('Funnel', [call], errorBox(e)));
    return;
  }
  clear(out);
  const steps: any[] = r.steps;
  const counts = h(
    'table',
    { class: 'table counts', id: 'funnel-counts' },
    h('thead', {}, h('tr', {}, ['step', 'event', 'customers', 'conversion', 'median time from previous'].map((t) => h('th', {}, t)))),
    h(
      'tbody',
      {},
      steps.map((s, i) =>
        h(
          'tr',
          { 'data-step': i + 1 },
          h('td', {}, String(i + 1)),
          h('td', {}, s.event),
          h('td', { class: 'count', 'data-count': s.count }, nf0.format(s.count)),
          h('td', {}, pct(s.conversion)),
          h('td', {}, s.time_to_convert?.from_previous?.median_ms !== undefined ? `${num(s.time_to_convert.from_previous.median_ms / 3600000)} h` : '—'),
        ),
      ),
    ),
  );
  const series: any[] = [];
  if (r.breakdown?.length) {
    r.breakdown.forEach((b: any, i: number) => series.push({ type: 'bar', name: b.value, data: b.counts, itemStyle: { color: palette[i % palette.length] } }));
  } else {
    series.push({ type: 'bar', name: 'customers', data: steps.map((s) => s.count), itemStyle: { color: palette[0] }, label: { show: true, position: 'top' } });
  }
  const who = r.who;
  out.append(
    card(
      'Funnel',
      [call],
      chart(
        categoryOption({
          categories: steps.map((s, i) => `${i + 1}. ${s.event}`),
          series,
          legend: !!r.breakdown?.length,
          grid: { top: 30, bottom: 40 },
          xAxis: { axisLabel: { interval: 0, overflow: 'truncate', width: 110 } },
        }),
      ),
      counts,
      r.breakdown?.length
        ? table(['breakdown', ...steps.map((_, i) => `step ${i + 1}`)], r.breakdown.map((b: any) => [b.value, ...b.counts.map((c: number) => nf0.format(c))]))
        : null,
      r.warnings?.length ? h('ul', { class: 'warnings' }, r.warnings.map((w: string) => h('li', {}, w))) : null,
      h('div', { class: 'sub' }, `${r.stats?.customers ?? '?'} customers, ${r.stats?.interactions ?? '?'} interactions scanned in ${num(r.stats?.ms)} ms`),
    ),
  );
  if (who)
    out.append(
      card(
        `Who ${who.status} at step ${who.step} (first ${who.customers.length})`,
        [call],
        h('ul', { class: 'who', id: 'funnel-who' }, who.customers.map((c: string) => h('li', {}, link(`/customers/${encodeURIComponent(c)}`, c)))),
        who.next ? h('div', { class: 'sub' }, `more: add "after":"${who.next}" to who`) : null,
      ),
    );
}

async function retention(): Promise<HTMLElement> {
  const spec = { period: 'week', ...queryFilters() };
  const call: Call = { method: 'POST', path: '/v1/query/retention', body: spec };
  try {
    const r = await post('/v1/query/retention', spec);
    const cohorts: any[] = r.cohorts ?? [];
    const periods = Math.max(0, ...cohorts.map((c) => c.returned.length));
    const data: [number, number, number][] = [];
    cohorts.forEach((c, y) => c.returned.forEach((n: number, x: number) => data.push([x, y, c.size ? Math.round((n / c.size) * 1000) / 10 : 0])));
    return card(
      'Cohort retention (weekly, % returning)',
      [call],
      chart(
        {
          grid: { left: 90, right: 16, top: 10, bottom: 60 },
          tooltip: { formatter: (p: any) => `cohort ${cohorts[p.data[1]].start} (${cohorts[p.data[1]].size}): week ${p.data[0] + 1} ${p.data[2]}%` },
          xAxis: { type: 'category', data: Array.from({ length: periods }, (_, i) => `+${i + 1}`) },
          yAxis: { type: 'category', data: cohorts.map((c) => `${c.start} (${c.size})`), inverse: true },
          visualMap: { min: 0, max: 100, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120, inRange: { color: ['#f4f7fa', '#3b6e8f'] } },
          series: [{ type: 'heatmap', data, label: { show: periods <= 12, fontSize: 9 } }],
        },
        Math.max(220, 80 + cohorts.length * 18),
      ),
    );
  } catch (e) {
    return card('Cohort retention', [call], errorBox(e));
  }
}

async function trends(): Promise<HTMLElement> {
  const spec = { interval: 'week', breakdown: 'channel', top_n: 6, ...queryFilters() };
  const call: Call = { method: 'POST', path: '/v1/query/trends', body: spec };
  try {
    const t = await post('/v1/query/trends', spec);
    return card(
      'Trends: interactions per week by channel (channel mix)',
      [call],
      chart(
        categoryOption({
          categories: t.buckets,
          legend: true,
          series: t.series.map((s: any, i: number) => series('line', s.label, s.values, palette[i % palette.length], { stack: 'all', areaStyle: {} })),
        }),
      ),
    );
  } catch (e) {
    return card('Trends', [call], errorBox(e));
  }
}

// A query builder: a form whose fields make a spec (with the page's filters), run on submit;
// the answer is drawn into `out` by `draw`, under a card whose "view query" is the call made.
// `draw` also gets `who(w, title)`: it lists the customers behind one number of that answer — the
// same spec plus `"who": w` — in the builder's who panel (#<kind>-who).
type Who = (w: Record<string, unknown>, title: string) => void;
function builder(
  kind: string,
  title: string,
  fields: HTMLElement[],
  spec: () => Record<string, unknown>,
  draw: (r: any, spec: any, who: Who) => (HTMLElement | null)[],
): HTMLElement {
  const out = h('div', { class: 'builder-out', id: `${kind}-result` });
  const whoBox = h('div', { class: 'who-panel', id: `${kind}-who` });
  const form = h('form', { class: 'builder', id: `${kind}-form` }, h('div', { class: 'opts' }, fields), h('button', { type: 'submit', id: `${kind}-run` }, 'Run'));
  const path = `/v1/query/${kind}`;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const s = { ...spec(), ...queryFilters() };
    const call: Call = { method: 'POST', path, body: s };
    clear(out);
    clear(whoBox);
    out.append(h('div', { class: 'loading' }, 'Running…'));
    try {
      const r = await post(path, s);
      clear(out);
      out.append(card(title, [call], draw(r, s, (w, t) => void listWho(path, s, w, t, whoBox))));
    } catch (e) {
      clear(out);
      out.append(card(title, [call], errorBox(e)));
    }
  });
  return card(`${title} builder`, [{ method: 'POST', path, body: spec() }], form, out, whoBox);
}

// The who panel: the first page (50) of customers, each a link to their page; "more" fetches the
// next page with the answer's cursor.
async function listWho(path: string, spec: any, who: Record<string, unknown>, title: string, box: HTMLElement): Promise<void> {
  clear(box);
  box.append(h('div', { class: 'loading' }, 'Listing customers…'));
  const body = { ...spec, who: { ...who, limit: 50 } };
  const call: Call = { method: 'POST', path, body };
  const list = h('ul', { class: 'who' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'more');
  let after: string | null = null;
  let shown = 0;
  const page = async () => {
    const r = await post(path, after ? { ...body, who: { ...body.who, after } } : body);
    const ids: string[] = r.who?.customers ?? [];
    ids.forEach((c) => list.append(h('li', {}, link(`/customers/${encodeURIComponent(c)}`, c))));
    shown += ids.length;
    after = r.who?.next ?? null;
    more.hidden = !after;
    list.dataset.count = String(shown);
    return r;
  };
  try {
    const r = await page();
    clear(box);
    box.append(card(`Who: ${title}`, [call], shown ? list : h('p', { class: 'muted' }, 'Nobody.'), more, warnings(r)));
    more.addEventListener('click', () => void page().catch((e) => box.append(errorBox(e))));
  } catch (e) {
    clear(box);
    box.append(card(`Who: ${title}`, [call], errorBox(e)));
  }
}

// A count that lists its customers when clicked (keeps data-count for tests and scripts).
const countButton = (n: number, onClick: () => void, title: string) =>
  h('button', { type: 'button', class: 'count link', 'data-count': n, title, onclick: () => onClick() }, nf0.format(n));

const sel = (id: string, label: string, options: string[], selected: string) =>
  h('select', { id, 'aria-label': label }, options.map((o) => h('option', { value: o, selected: o === selected }, o)));
const eventInput = (id: string, value: string, placeholder = 'any interaction') =>
  h('input', { type: 'text', id, value, list: 'event-names', placeholder, 'aria-label': 'event' });

// Paths: what customers did after (before) an anchor event, as a Sankey of (step, event) nodes.
function pathsBuilder(): HTMLElement {
  const anchor = eventInput('paths-anchor', 'Signed Up', 'anchor event');
  const direction = sel('paths-direction', 'direction', ['next', 'previous'], 'next');
  const depth = sel('paths-depth', 'depth', ['1', '2', '3', '4', '5'], '3');
  const windowSel = sel('paths-window', 'window', ['none', '1h', '1d', '7d', '30d'], 'none');
  return builder(
    'paths',
    'Paths',
    [h('label', {}, 'Anchor ', anchor), h('label', {}, 'Direction ', direction), h('label', {}, 'Depth ', depth), h('label', {}, 'Window ', windowSel)],
    () => {
      const s: Record<string, unknown> = { anchor: anchor.value.trim(), direction: direction.value, depth: Number(depth.value), max_nodes_per_step: 6, exclude: ['$identify'] };
      if (windowSel.value !== 'none') s.window = windowSel.value;
      return s;
    },
    (r, _s, who) => {
      const nodes: any[] = r.nodes ?? [];
      const links: any[] = r.links ?? [];
      const node = (id: string, status: string) => who({ node: id, status }, status === 'dropped' ? `dropped after ${id}` : `reached ${id}`);
      return [
        links.length
          ? chart(
              {
                tooltip: { trigger: 'item' },
                series: [
                  {
                    type: 'sankey',
                    left: 10,
                    right: 120,
                    data: nodes.map((n) => ({ name: n.id, label: { formatter: `${n.event} (${n.count})` }, itemStyle: { color: palette[n.step % palette.length] } })),
                    links: links.map((l) => ({ source: l.source, target: l.target, value: l.count })),
                    emphasis: { focus: 'adjacency' },
                    lineStyle: { color: 'gradient', opacity: 0.4 },
                  },
                ],
              },
              320,
              '',
              // A node lists who reached it, a link who took it.
              (p) => {
                if (p.dataType === 'node') node(p.data.name, 'reached');
                else if (p.dataType === 'edge') who({ source: p.data.source, target: p.data.target }, `${p.data.source} → ${p.data.target}`);
              },
            )
          : h('p', { class: 'muted' }, 'No paths: nobody did the anchor event in the range and segment.'),
        table(
          ['step', 'event', 'customers', 'dropped here'],
          nodes.map((n) => [
            String(n.step),
            n.event,
            countButton(n.count, () => node(n.id, 'reached'), 'list who reached this step'),
            h('button', { type: 'button', class: 'dropoff link', 'data-count': n.dropoff, title: 'list who dropped here', onclick: () => node(n.id, 'dropped') }, nf0.format(n.dropoff)),
          ]),
          'counts paths-nodes',
        ),
        h('div', { class: 'sub', id: 'paths-customers', 'data-count': r.customers }, `${nf0.format(r.customers)} customers did the anchor event`),
        warnings(r),
      ];
    },
  );
}

// Stickiness: how many periods of the range customers were active on.
function stickinessBuilder(): HTMLElement {
  const event = eventInput('stickiness-event', '');
  const interval = sel('stickiness-interval', 'interval', ['day', 'week', 'month'], 'week');
  return builder(
    'stickiness',
    'Stickiness',
    [h('label', {}, 'Event ', event), h('label', {}, 'Interval ', interval)],
    () => ({ event: event.value.trim(), interval: interval.value }),
    (r, _s, who) => {
      const counts: number[] = r.counts ?? [];
      const bar = (k: number) => who({ periods: k }, `active on exactly ${k} ${r.interval}${k === 1 ? '' : 's'}`);
      return [
        chart(
          categoryOption({
            categories: counts.map((_, i) => String(i + 1)),
            series: [series('bar', 'customers', counts, palette[2])],
            grid: { bottom: 40 },
            xAxis: { name: `${r.interval}s active`, nameLocation: 'middle', nameGap: 26 },
            yAxis: { type: 'value', minInterval: 1 },
          }),
          260,
          '',
          (p) => bar(p.dataIndex + 1),
        ),
        table(
          [`${r.interval}s active`, 'customers', 'share'],
          counts.map((n, i) => [String(i + 1), countButton(n, () => bar(i + 1), 'list these customers'), pct(r.customers ? n / r.customers : 0)]),
          'counts stickiness-counts',
        ),
        h('div', { class: 'sub', id: 'stickiness-customers', 'data-count': r.customers }, `${nf0.format(r.customers)} active customers over ${r.periods} ${r.interval}s · average ${num(r.average, nf2)}`),
        warnings(r),
      ];
    },
  );
}

// Lifecycle: new / returning / resurrecting / dormant customers per period.
function lifecycleBuilder(): HTMLElement {
  const event = eventInput('lifecycle-event', '');
  const period = sel('lifecycle-period', 'period', ['day', 'week', 'month'], 'week');
  const kinds = ['new', 'returning', 'resurrecting', 'dormant'];
  return builder(
    'lifecycle',
    'Lifecycle',
    [h('label', {}, 'Event ', event), h('label', {}, 'Period ', period)],
    () => ({ event: event.value.trim(), period: period.value }),
    (r, _s, who) => {
      const rows: any[] = r.rows ?? [];
      const cell = (start: string, status: string) => who({ period: start, status }, `${status} in the ${r.period} of ${start}`);
      return [
        chart(
          categoryOption({
            categories: rows.map((x) => x.start),
            legend: true,
            series: kinds.map((k, i) =>
              series('bar', k, rows.map((x) => (k === 'dormant' ? -x[k] : x[k])), [palette[0], palette[2], palette[1], palette[3]][i], { stack: 'all' }),
            ),
          }),
          260,
          '',
          (p) => rows[p.dataIndex] && cell(rows[p.dataIndex].start, p.seriesName),
        ),
        table(
          ['period', ...kinds],
          rows.map((x) => [x.start, ...kinds.map((k) => countButton(x[k], () => cell(x.start, k), `list the ${k} customers`))]),
          'counts lifecycle-rows',
        ),
        warnings(r),
      ];
    },
  );
}

function warnings(r: any): HTMLElement | null {
  return r.warnings?.length ? h('ul', { class: 'warnings' }, r.warnings.map((w: string) => h('li', {}, w))) : null;
}

export async function renderAnalyze(root: HTMLElement): Promise<void> {
  root.append(h('h1', {}, 'Analyze'));
  const events = await eventNames();
  root.append(card('Funnel builder', [{ method: 'POST', path: '/v1/query/funnel', body: { steps: ['…'], window: '7d' } }], funnelBuilder(events)));
  root.append(h('div', { class: 'grid2 builders' }, pathsBuilder(), h('div', {}, stickinessBuilder(), lifecycleBuilder())));
  const [ret, tr] = await Promise.all([retention(), trends()]);
  root.append(h('div', { class: 'grid2' }, ret, tr));
}
