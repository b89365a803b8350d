// Value (GET /v1/value/summary, docs/value.md): CLV distribution, CLV by persona, P(alive) bands
// and the model's fit diagnostics.
import { get, type Call } from '../api';
import { BarChart } from 'echarts/charts';
import { categoryOption, chart, palette, series, use } from '../charts';
import { withParams } from '../state';
import { card, dateTime, h, nf0, num, pct, table } from '../ui';

use([BarChart]);

let CALL: Call = { method: 'GET', path: '/v1/value/summary' };

export async function renderValue(root: HTMLElement): Promise<void> {
  // The segment narrows the customers (docs/value.md); the summary is as of the last fit, so the
  // range does not apply here.
  CALL = { method: 'GET', path: withParams('/v1/value/summary', ['persona', 'lifecycle', 'channel']) };
  const s = await get(CALL.path);
  root.append(h('h1', {}, 'Value'));
  const clv = s.clv ?? {};
  const q: any[] = clv.quantiles ?? [];
  const bands: any[] = s.probAlive?.bands ?? [];
  const scored = bands.reduce((n, b) => n + (b.customers ?? 0), 0);
  const fit = s.fit ?? {};
  const d = fit.diagnostics ?? {};
  root.append(
    h(
      'div',
      { class: 'grid2' },
      card(
        'Customer lifetime value',
        [CALL],
        // Customers: those scored in the summary (the segment's, when one applies; the fit's otherwise).
        h(
          'div',
          { class: 'kpis' },
          kpi('total', num(clv.total, nf0), clv.total),
          kpi('mean', num(clv.mean, nf0), clv.mean),
          kpi('customers', num(scored, nf0), scored),
        ),
        chart(
          categoryOption({
            categories: q.map((x) => `p${Math.round(x.q * 100)}`),
            series: [series('bar', 'CLV', q.map((x) => Math.round(x.value)), palette[0])],
          }),
        ),
      ),
      card(
        'P(alive)',
        [CALL],
        h('div', { class: 'kpis' }, kpi('mean P(alive)', num(s.probAlive?.mean, new Intl.NumberFormat('en', { maximumFractionDigits: 3 })))),
        chart(
          categoryOption({
            categories: bands.map((b) => `${b.from}–${b.to}`),
            yAxis: { type: 'value', minInterval: 1 },
            series: [series('bar', 'customers', bands.map((b) => b.customers), palette[2])],
          }),
        ),
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
    chart(
      categoryOption({
        categories: groups.map((g) => g.name || '(none)'),
        legend: true,
        grid: { left: 60, bottom: 50 },
        xAxis: { axisLabel: { interval: 0, rotate: groups.length > 4 ? 20 : 0 } },
        series: [
          series('bar', 'mean CLV', groups.map((g) => Math.round(g.clvMean)), palette[0]),
          series('bar', 'median CLV', groups.map((g) => Math.round(g.clvMedian)), palette[1]),
        ],
      }),
    ),
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

function kpi(label: string, value: string, raw?: number): HTMLElement {
  return h('div', { class: 'kpi', 'data-kpi': label, 'data-value': raw }, h('div', { class: 'label' }, label), h('div', { class: 'big' }, value));
}
