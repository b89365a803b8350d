// The car (GET /v1/dashboard, docs/dashboard.md): goals with odometer, speedometer and ETA band,
// rev counter, fuel, hazard lights, ride and mirrors. Refreshes every 15 s; goals are editable
// (POST/PUT /v1/goals) and an edit re-renders the ETA from a fresh overview.
// Its instruments are hand-written SVG (svg_gauges.ts): this page loads no chart library.
import { post, put, type Call } from '../api';
import { bars, dial, etaLine, speedMax } from '../svg_gauges';
import { CSAT, dashboardCall, startOverviewCalls, type OverviewCalls } from './overview_calls';
import { card, clear, day, errorBox, h, link, nf0, nf2, num, pct, table } from '../ui';

interface Goal {
  id: number;
  name: string;
  metric: string;
  target: number;
  start: string;
  deadline: string;
  progress: number;
  fraction: number;
  eta: string | null;
  eta_low: string | null;
  eta_high: string | null;
  reached: boolean;
  on_track: boolean;
  p_on_time: number;
  eta_week_ago: string | null;
  speed: { rate_recent: number; rate_needed: number | null };
  method: string;
  error: string | null;
}

interface Overview {
  today: string;
  as_of_seq: number;
  filtered: boolean;
  segment_customers?: number;
  trip?: { from: string; to: string; totals: Record<string, number> };
  goals: Goal[];
  fuel: {
    id: number;
    name: string;
    amount: number;
    spent: number;
    planned: number;
    left: number;
    burn_per_day: number;
    runway_days: number | null;
  }[];
  rev: { touches_7d: number; touches_prev_7d: number; activities_7d: number };
  ride: {
    nps_30d: number | null;
    nps_prev_30d: number | null;
    complaints_7d: number;
    complaints_weekly_baseline: number;
  };
  mirrors: { event: string; from: string; to: string; weeks: { start: string; mentions: number }[]; total: number };
  hazards: { light: string; on: boolean; why: string; link: string }[];
}

// GET /v1/dashboard with the page's range and segment (docs/dashboard.md "Filters"): set per
// render, so every card's "view query" shows the filtered call.
let DASHBOARD: Call = dashboardCall();

const lightNames: Record<string, string> = {
  projected_miss: 'Projected miss',
  eta_slipping: 'ETA slipping',
  complaint_spike: 'Complaint spike',
  nps_drop: 'NPS drop',
  value_at_risk: 'Value at risk',
  rescues_overdue: 'Rescues overdue',
  slas_overdue: 'SLAs overdue',
};

// The API link of a light → the page that shows its detail.
function detailPage(apiLink: string): string {
  if (apiLink.startsWith('/v1/rescues')) return '/rescues';
  if (apiLink.startsWith('/v1/cases') || apiLink.startsWith('/v1/complaints') || apiLink.startsWith('/v1/feedback'))
    return '/cases';
  if (apiLink.startsWith('/v1/journey')) return '/journey';
  return '/#goals';
}

function speedometer(g: Goal): SVGSVGElement {
  const needed = g.speed.rate_needed;
  const recent = g.speed.rate_recent;
  const max = speedMax(recent, needed);
  const frac = needed && needed > 0 ? Math.min(1, needed / max) : 1;
  return dial({
    name: 'speed',
    value: recent,
    max,
    zones: [
      [frac, '#c44e52'],
      [1, '#5aa469'],
    ],
    text: `${num(recent)}/day`,
    label: `Speed: ${num(recent)} per day over the last 7 days; needed ${num(needed)} per day`,
  });
}

// The ETA band vs the deadline on a time line: start, today, deadline, ETA with its 80% band.
function etaChart(g: Goal, today: string): SVGSVGElement {
  return etaLine({
    start: g.start,
    today,
    deadline: g.deadline,
    eta: g.eta,
    low: g.eta_low,
    high: g.eta_high,
    onTrack: g.on_track,
    label: `ETA ${day(g.eta)} (80%: ${day(g.eta_low)} … ${day(g.eta_high)}), deadline ${g.deadline}, today ${today}`,
  });
}

function goalCard(g: Goal, today: string, reload: () => void): HTMLElement {
  const status = g.reached ? 'reached' : g.on_track ? 'on track' : 'behind';
  const etaText = g.reached
    ? 'reached'
    : g.eta
      ? `${g.eta} (80%: ${day(g.eta_low)} … ${day(g.eta_high)})`
      : 'not within 2 years at this pace';
  const body = h(
    'div',
    { class: 'goal', 'data-goal-id': g.id },
    h(
      'div',
      { class: 'odometer' },
      h('div', { class: 'big', 'data-progress': g.progress }, `${num(g.progress, nf0)} / ${num(g.target, nf0)}`),
      h('div', { class: 'bar' }, h('span', { style: `width:${Math.min(100, g.fraction * 100).toFixed(1)}%` })),
      h('div', { class: 'sub' }, `${pct(g.fraction)} of ${g.metric} since ${g.start} · deadline ${g.deadline}`),
    ),
    h(
      'div',
      { class: 'goal-grid' },
      h('div', {}, h('h3', {}, 'Speed'), speedometer(g), h('div', { class: 'sub' }, `needed ${num(g.speed.rate_needed)}/day`)),
      h(
        'div',
        {},
        h('h3', {}, 'ETA'),
        h('div', { class: `eta ${g.on_track ? 'ok' : 'bad'}`, 'data-eta': g.eta ?? '' }, etaText),
        etaChart(g, today),
        h(
          'div',
          { class: 'sub' },
          `P(on time) ${pct(g.p_on_time)} · a week ago: ${day(g.eta_week_ago)} · `,
          h('span', { class: `badge ${g.on_track ? 'ok' : 'bad'}` }, status),
        ),
      ),
    ),
    g.error ? h('div', { class: 'error' }, g.error) : null,
    goalEditor(g, reload),
  );
  return card(g.name, [DASHBOARD, { method: 'GET', path: `/v1/goals/${g.id}` }], body);
}

function goalEditor(g: Goal | null, reload: () => void): HTMLElement {
  const target = h('input', { type: 'number', name: 'target', min: '0', step: 'any', value: g ? g.target : '', required: true });
  const deadline = h('input', { type: 'date', name: 'deadline', value: g ? g.deadline : '', required: true });
  const name = h('input', { type: 'text', name: 'name', value: g ? g.name : '', required: true });
  const metric = h('input', { type: 'text', name: 'metric', value: g ? g.metric : 'revenue', required: true, list: 'metrics' });
  const msg = h('span', { class: 'form-msg', role: 'status' });
  const form = h(
    'form',
    { class: 'goal-form' },
    g ? null : h('label', {}, 'Name ', name),
    g ? null : h('label', {}, 'Metric ', metric),
    h('label', {}, 'Target ', target),
    h('label', {}, 'Deadline ', deadline),
    h('button', { type: 'submit' }, g ? 'Save goal' : 'Add goal'),
    msg,
    h(
      'datalist',
      { id: 'metrics' },
      ['revenue', 'orders', 'new_customers', 'signups', 'interactions'].map((m) => h('option', { value: m })),
    ),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = 'Saving…';
    try {
      if (g) await put(`/v1/goals/${g.id}`, { target: Number(target.value), deadline: deadline.value });
      else
        await post('/v1/goals', {
          name: name.value,
          metric: metric.value,
          target: Number(target.value),
          deadline: deadline.value,
        });
      msg.textContent = '';
      reload();
    } catch (e) {
      msg.textContent = e instanceof Error ? e.message : String(e);
      msg.className = 'form-msg error';
    }
  });
  if (!g) return form;
  return h('details', { class: 'edit' }, h('summary', {}, 'Edit goal'), form);
}

function hazards(o: Overview): HTMLElement {
  return card(
    'Hazard lights',
    [DASHBOARD],
    h(
      'ul',
      { class: 'hazards' },
      o.hazards.map((z) =>
        h(
          'li',
          { class: z.on ? 'on' : 'off', 'data-light': z.light },
          h('span', { class: 'lamp', 'aria-label': z.on ? 'on' : 'off' }),
          h('div', {}, h('strong', {}, lightNames[z.light] ?? z.light), h('div', { class: 'why' }, z.why)),
          link(detailPage(z.link), 'details'),
        ),
      ),
    ),
  );
}

function gauges(o: Overview, csat: any): HTMLElement[] {
  const rev = o.rev;
  const revMax = Math.max(10, rev.touches_prev_7d * 2, rev.touches_7d * 1.2);
  const revCard = card(
    'Rev counter (effort, 7 days)',
    [DASHBOARD],
    dial({
      name: 'rev',
      value: rev.touches_7d,
      max: Math.ceil(revMax),
      zones: [
        [0.8, '#3b6e8f'],
        [1, '#c44e52'],
      ],
      text: `${num(rev.touches_7d, nf0)} touches`,
      label: `Rev counter: ${num(rev.touches_7d, nf0)} outbound touches in the last 7 days, ${num(rev.touches_prev_7d, nf0)} the 7 before`,
    }),
    h('div', { class: 'sub' }, `previous 7 days: ${rev.touches_prev_7d} touches · activities done: ${rev.activities_7d}`),
  );
  const fuel = card(
    'Fuel (budgets)',
    [DASHBOARD, { method: 'GET', path: '/v1/budgets' }],
    o.fuel.length === 0
      ? h('p', { class: 'muted' }, 'No budgets yet (POST /v1/budgets).')
      : o.fuel.map((f) =>
          h(
            'div',
            { class: 'fuel' },
            h('div', {}, h('strong', {}, f.name), ` ${num(f.left, nf0)} of ${num(f.amount, nf0)} left`),
            h('div', { class: 'bar' }, h('span', { style: `width:${Math.max(0, Math.min(100, (f.left / Math.max(1, f.amount)) * 100)).toFixed(1)}%` })),
            h(
              'div',
              { class: 'sub' },
              `spent ${num(f.spent, nf0)} · planned ${num(f.planned, nf0)} · burn ${num(f.burn_per_day)}/day · runway ${f.runway_days === null ? '—' : `${num(f.runway_days, nf0)} days`}`,
            ),
          ),
        ),
  );
  const r = o.ride;
  const npsDelta = r.nps_30d !== null && r.nps_prev_30d !== null ? r.nps_30d - r.nps_prev_30d : null;
  const ride = card(
    'Ride (how it feels)',
    [DASHBOARD, CSAT],
    h(
      'div',
      { class: 'kpis' },
      kpi('NPS, 30 days', num(r.nps_30d), npsDelta === null ? 'no comparison' : `${npsDelta >= 0 ? '+' : ''}${num(npsDelta)} vs 30 days before`),
      kpi('Complaints, 7 days', String(r.complaints_7d), `weekly baseline ${num(r.complaints_weekly_baseline)}`),
      kpi('CSAT', csat ? `${num(csat.csat)}%` : '—', csat ? `${csat.responses} answers, mean ${num(csat.mean, nf2)}` : 'not available'),
    ),
  );
  return [revCard, fuel, ride];
}

// The trip meter: every series' total over the range (only with a range).
const tripNames: [string, string][] = [
  ['revenue', 'Revenue'],
  ['orders', 'Orders'],
  ['new_customers', 'New customers'],
  ['signups', 'Sign-ups'],
  ['interactions', 'Interactions'],
  ['touches', 'Outbound touches'],
  ['complaints', 'Complaints'],
];
function tripCard(o: Overview): HTMLElement | null {
  if (!o.trip) return null;
  const t = o.trip;
  return card(
    `Trip meter ${t.from} – ${t.to}`,
    [DASHBOARD],
    h(
      'div',
      { class: 'kpis trip' },
      tripNames.map(([k, label]) => h('div', { class: 'kpi', 'data-trip': k, 'data-value': t.totals[k] }, h('div', { class: 'label' }, label), h('div', { class: 'big' }, num(t.totals[k], nf0)))),
    ),
  );
}

function kpi(label: string, value: string, sub: string): HTMLElement {
  return h('div', { class: 'kpi' }, h('div', { class: 'label' }, label), h('div', { class: 'big' }, value), h('div', { class: 'sub' }, sub));
}

// Mirrors: competitor mentions per week, from the overview itself (GET /v1/dashboard "mirrors":
// the daily totals' count of "Competitor Considered", docs/dashboard.md "Mirrors").
function mirrors(o: Overview): HTMLElement {
  const m = o.mirrors;
  return card(
    'Mirrors: competitor mentions',
    [DASHBOARD],
    bars({
      labels: m.weeks.map((w) => w.start),
      values: m.weeks.map((w) => w.mentions),
      color: '#e0863a',
      unit: 'mentions',
      label: `Competitor mentions per week, ${m.from} – ${m.to}: ${num(m.total, nf0)} in all`,
    }),
    h('div', { class: 'sub', 'data-mirrors-total': m.total }, `${num(m.total, nf0)} mentions ${m.from} – ${m.to}`),
  );
}

// `started`: the first load's calls, when the shell started them already (main.ts).
export async function renderOverview(root: HTMLElement, _params: Record<string, string>, started?: OverviewCalls): Promise<() => void> {
  let stopped = false;
  DASHBOARD = dashboardCall();
  const goalsBox = h('div', { class: 'goals', id: 'goals' });
  const sideBox = h('div', { class: 'side' });
  const meta = h('div', { class: 'meta' });
  // #overview[data-ready="1"]: every panel has its data and the frame showing them has been
  // painted (first load; bench/dashboard/overview_render.js times navigation to it, and the mark
  // cairn:overview-ready). "error": the overview call failed.
  const view = h('div', { class: 'overview', id: 'overview' }, goalsBox, sideBox);
  root.append(h('h1', {}, 'Overview'), meta, view);
  // `force`: after the user's own edit. A timed refresh leaves an open goal editor alone.
  const load = async (force = false) => {
    const calls = started ?? startOverviewCalls();  // side by side
    started = undefined;
    const csatCall = calls.csat.take().catch(() => null);
    let o: Overview;
    try {
      o = await calls.dashboard.take();
    } catch (e) {
      clear(goalsBox);
      goalsBox.append(errorBox(e));
      view.setAttribute('data-ready', 'error');
      return;
    }
    if (stopped) return;
    if (!force && goalsBox.querySelector('details.edit[open], .goal-form input:focus')) return;
    const scope = o.segment_customers !== undefined ? ` · segment of ${num(o.segment_customers, nf0)} customers` : '';
    meta.textContent = `As of ${o.today}${scope} · store sequence ${o.as_of_seq} · refreshes every 15 s`;
    meta.setAttribute('data-today', o.today);
    meta.setAttribute('data-seq', String(o.as_of_seq));
    clear(goalsBox);
    goalsBox.append(...o.goals.map((g) => goalCard(g, o.today, () => void load(true))));
    goalsBox.append(card('New goal', [{ method: 'POST', path: '/v1/goals', body: { name: '…', metric: 'revenue', target: 0, deadline: 'YYYY-MM-DD' } }], goalEditor(null, () => void load(true))));
    const csat = await csatCall;
    if (stopped) return;
    clear(sideBox);
    const trip = tripCard(o);
    if (trip) sideBox.append(trip);
    sideBox.append(hazards(o), ...gauges(o, csat), mirrors(o));
    if (o.goals.length)
      sideBox.append(
        card(
          'Goals at a glance',
          [DASHBOARD],
          table(
            ['goal', 'progress', 'ETA', 'deadline'],
            o.goals.map((g) => [g.name, pct(g.fraction), g.reached ? 'reached' : day(g.eta), g.deadline]),
          ),
        ),
      );
  };
  await load();
  // The SVG instruments are in the document once load() returns; the next frame lays them out and
  // paints them, and a task queued from that frame runs after its paint.
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  if (!stopped && !view.hasAttribute('data-ready')) {
    view.setAttribute('data-ready', '1');
    performance.mark('cairn:overview-ready');  // bench/dashboard/overview_render.js reads it
  }
  const timer = window.setInterval(() => void load(), 15000);
  return () => {
    stopped = true;
    window.clearInterval(timer);
  };
}
