// Cases and the voice of the customer (docs/cases.md): open cases by SLA state, the Pareto of
// complaint causes, NPS with its interval, and the themes of delight and annoyance.
import { get, type Call } from '../api';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { categoryOption, chart, palette, series, use } from '../charts';
import { withParams } from '../state';
import { card, dateTime, errorBox, h, link, nf0, num, table } from '../ui';

use([BarChart, LineChart, PieChart]);

async function safe<T>(call: Call, fn: (d: any) => T): Promise<T | HTMLElement> {
  try {
    return fn(await get(call.path));
  } catch (e) {
    return errorBox(e);
  }
}

// The page filters the NPS calls take: the range and the persona (docs/api: GET /v1/feedback/nps).
const NPS_FILTERS = ['from', 'to', 'persona'];

function slaState(c: any): string {
  const s = c.sla ?? {};
  if (s.resolutionBreached || s.firstResponseBreached) return 'breached';
  if (c.status === 'resolved' || c.status === 'closed') return 'done';
  return 'within SLA';
}

export async function renderCases(root: HTMLElement): Promise<void> {
  root.append(h('h1', {}, 'Cases & voice of the customer'));
  const casesCall: Call = { method: 'GET', path: '/v1/cases?limit=200' };
  const analysisCall: Call = { method: 'GET', path: '/v1/complaints/analysis' };
  const npsCall: Call = { method: 'GET', path: withParams('/v1/feedback/nps', NPS_FILTERS) };
  const npsMonthCall: Call = { method: 'GET', path: withParams('/v1/feedback/nps', NPS_FILTERS, { by: 'month' }) };
  const npsChannelCall: Call = { method: 'GET', path: withParams('/v1/feedback/nps', NPS_FILTERS, { by: 'channel' }) };
  const themesCall: Call = { method: 'GET', path: '/v1/feedback/themes' };
  const [cases, analysis, nps, themes, npsMonth, npsChannel] = await Promise.all([
    safe(casesCall, (d) => {
      const list: any[] = d.cases ?? [];
      const open = list.filter((c) => c.status !== 'resolved' && c.status !== 'closed');
      const states: Record<string, number> = {};
      for (const c of open) states[slaState(c)] = (states[slaState(c)] ?? 0) + 1;
      const escalated = open.filter((c) => c.escalationLevel !== null && c.escalationLevel !== undefined).length;
      return [
        h('div', { class: 'kpis' }, Object.entries(states).map(([k, v]) => h('div', { class: 'kpi' }, h('div', { class: 'label' }, k), h('div', { class: 'big' }, String(v)))), h('div', { class: 'kpi' }, h('div', { class: 'label' }, 'escalated'), h('div', { class: 'big' }, String(escalated)))),
        table(
          ['id', 'customer', 'category', 'severity', 'status', 'SLA', 'resolution due', 'opened'],
          open.slice(0, 50).map((c) => [String(c.id), link(`/customers/${encodeURIComponent(c.customer)}`, c.customer), c.category, c.severity, c.status, slaState(c), dateTime(c.sla?.resolutionDue), dateTime(c.openedAt)]),
        ),
      ];
    }),
    safe(analysisCall, (a) => {
      const cats: any[] = a.categories ?? [];
      return [
        chart({
          grid: { left: 40, right: 40, top: 20, bottom: 60 },
          tooltip: { trigger: 'axis' },
          xAxis: { type: 'category', data: cats.map((c) => c.key), axisLabel: { rotate: 30 } },
          yAxis: [{ type: 'value' }, { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } }],
          series: [
            { type: 'bar', name: 'cases', data: cats.map((c) => c.count), itemStyle: { color: palette[0] } },
            { type: 'line', name: 'cumulative %', yAxisIndex: 1, data: cats.map((c) => c.cumulative), itemStyle: { color: palette[1] } },
          ],
        }),
        h('div', { class: 'sub' }, `${a.cases} cases · ${a.open} open · SLA attainment ${num(a.slaAttainment)}% · secondary errors ${num(a.secondaryErrors?.rate)}% · median time to resolution ${num(a.timeToResolution?.medianHours)} h`),
      ];
    }),
    safe(npsCall, (n) => [
      h('div', { class: 'kpis' }, h('div', { class: 'kpi' }, h('div', { class: 'label' }, 'NPS'), h('div', { class: 'big', id: 'nps' }, num(n.nps)), h('div', { class: 'sub' }, `95% CI ${num(n.ci?.low)} … ${num(n.ci?.high)} · ${n.responses} answers`))),
      chart(
        {
          tooltip: { trigger: 'item' },
          series: [{ type: 'pie', radius: ['40%', '70%'], data: [{ name: 'promoters', value: n.promoters, itemStyle: { color: palette[2] } }, { name: 'passives', value: n.passives, itemStyle: { color: '#bbb' } }, { name: 'detractors', value: n.detractors, itemStyle: { color: palette[3] } }] }],
        },
        200,
      ),
    ]),
    safe(themesCall, (t) => [
      h('div', { class: 'grid2 tight' }, h('div', {}, h('h3', {}, 'Delight'), terms(t.delight, 'ok')), h('div', {}, h('h3', {}, 'Annoyance'), terms(t.annoyance, 'bad'))),
      h('div', { class: 'sub' }, `${t.comments} comments · ${t.positive} positive · ${t.negative} negative`),
    ]),
    safe(npsMonthCall, (n) => {
      const g: any[] = n.groups ?? [];
      return chart(
        categoryOption({
          categories: g.map((x) => x.key),
          grid: { left: 40 },
          yAxis: { type: 'value', min: -100, max: 100 },
          series: [
            series('line', 'NPS', g.map((x) => Math.round(x.nps * 10) / 10), palette[0]),
            series('bar', 'answers', g.map((x) => x.responses), '#cfd8e0'),
          ],
        }),
      );
    }),
    safe(npsChannelCall, (n) =>
      table(['channel', 'NPS', '95% CI', 'answers'], (n.groups ?? []).map((g: any) => [g.key || '(none)', num(g.nps), `${num(g.ci?.low)} … ${num(g.ci?.high)}`, nf0.format(g.responses ?? 0)])),
    ),
  ]);
  root.append(
    card('Open cases by SLA state', [casesCall], cases),
    h('div', { class: 'grid2' }, card('Pareto of complaint causes', [analysisCall], analysis), card('NPS', [npsCall], nps)),
    h('div', { class: 'grid2' }, card('NPS by month', [npsMonthCall], npsMonth), card('NPS by channel', [npsChannelCall], npsChannel)),
    card('Themes', [themesCall], themes),
  );
}

function terms(list: any[] | undefined, cls: string): HTMLElement {
  if (!list?.length) return h('p', { class: 'muted' }, 'No comments yet.');
  return h('ul', { class: `terms ${cls}` }, list.map((t) => h('li', {}, `${t.term} `, h('span', { class: 'n' }, String(t.count)))));
}
