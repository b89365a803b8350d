// Value (GET /v1/value/summary, docs/value.md): CLV distribution, CLV by persona, P(alive) bands
// and the model's fit diagnostics.
import { get, type Call } from '../api';
import { BarChart } from 'echarts/charts';
import { chart, palette, use } from '../charts';
import { card, dateTime, h, nf0, num, pct, table } from '../ui';

use([BarChart]);

const CALL: Call = { method: 'GET', path: '/v1/value/summary' };

export async function renderValue(root: HTMLElement): Promise<void> {
  const s = await get('/v1/value/summary');
  root.append(h('h1', {}, 'Value'));
  const clv = s.clv ?? {};
  const q: any[] = clv.quantiles ?? [];
  const bands: any[] = s.probAlive?.bands ?? [];
  const fit = s.fit ?? {};
  const d = fit.diagnostics ?? {};
  root.append(
    h(
      'div',
      { class: 'grid2' },
      card(
        'Customer lifetime value',
        [CALL],
        h('div', { class: 'kpis' }, kpi('total', num(clv.total, nf0)), kpi('mean', num(clv.mean, nf0)), kpi('customers', num(fit.customers, nf0))),
        chart({
          grid: { left: 50, right: 10, top: 20, bottom: 30 },
          tooltip: { trigger: 'axis' },
          xAxis: { type: 'category', data: q.map((x) => `p${Math.round(x.q * 100)}`) },
          yAxis: { type: 'value' },
          series: [{ type: 'bar', data: q.map((x) => Math.round(x.value)), itemStyle: { color: palette[0] } }],
        }),
      ),
      card(
        'P(alive)',
        [CALL],
        h('div', { class: 'kpis' }, kpi('mean P(alive)', num(s.probAlive?.mean, new Intl.NumberFormat('en', { maximumFractionDigits: 3 })))),
        chart({
          grid: { left: 50, right: 10, top: 20, bottom: 30 },
          tooltip: { trigger: 'axis' },
          xAxis: { type: 'category', data: bands.map((b) => `${b.from}–${b.to}`) },
          yAxis: { type: 'value', minInterval: 1 },
          series: [{ type: 'bar', data: bands.map((b) => b.customers), itemStyle: { color: palette[2] } }],
        }),
      ),
      personaCard(s),
      card(
        'Model fit diagnostics',
        [CALL],
        table(
          ['field', 'value'],
          [
            ['model', String(fit.model ?? '—')],
            ['fitted at', dateTime(fit.fittedAt)],
            ['calibration end', String(fit.calibrationEnd ?? '—')],
            ['purchases / customers', `${fit.purchases ?? '—'} / ${fit.customers ?? '—'}`],
            ['converged', `${d.converged} — ${d.message ?? ''}`],
            ['log-likelihood', num(d.logLikelihood)],
            ['parameters', Object.entries<number>(fit.params ?? {}).map(([k, v]) => `${k}=${num(v, new Intl.NumberFormat('en', { maximumSignificantDigits: 4 }))}`).join(', ')],
            ['spend model', fit.spend?.fitted ? `Gamma-Gamma, ${fit.spend.diagnostics?.message ?? ''}` : 'not fitted'],
          ],
        ),
      ),
    ),
  );
}

// CLV by persona (rule personas of the journey map first, then the discovered ones; customers
// with neither under "none"), as of the last fit.
function personaCard(s: any): HTMLElement {
  const groups: any[] = s.byPersona ?? [];
  if (!groups.length) return card('CLV by persona', [CALL], h('p', { class: 'muted' }, 'No personas in the last fit.'));
  return card(
    'CLV by persona',
    [CALL],
    chart({
      grid: { left: 60, right: 10, top: 30, bottom: 50 },
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      xAxis: { type: 'category', data: groups.map((g) => g.name || '(none)'), axisLabel: { interval: 0, rotate: groups.length > 4 ? 20 : 0 } },
      yAxis: { type: 'value' },
      series: [
        { type: 'bar', name: 'mean CLV', data: groups.map((g) => Math.round(g.clvMean)), itemStyle: { color: palette[0] } },
        { type: 'bar', name: 'median CLV', data: groups.map((g) => Math.round(g.clvMedian)), itemStyle: { color: palette[1] } },
      ],
    }),
    table(
      ['persona', 'source', 'customers', 'CLV total', 'mean', 'median', 'mean P(alive)'],
      groups.map((g) => [
        g.name || '(none)',
        g.source,
        h('span', { class: 'count', 'data-count': g.customers }, nf0.format(g.customers)),
        num(g.clvTotal, nf0),
        num(g.clvMean, nf0),
        num(g.clvMedian, nf0),
        pct(g.probAliveMean),
      ]),
      'persona-clv',
    ),
  );
}

function kpi(label: string, value: string): HTMLElement {
  return h('div', { class: 'kpi' }, h('div', { class: 'label' }, label), h('div', { class: 'big' }, value));
}
