// Journey (GET /v1/journey/overview, docs/journey.md): customers per stage and conversion for each
// view, the phase flow as a Sankey (forward transitions; drop-offs as their own node), the
// lifecycle mix, emotion per phase against the ideal line, and value at stake by rescue path.
import { get, type Call } from '../api';
import { BarChart, LineChart, PieChart, SankeyChart } from 'echarts/charts';
import { categoryOption, chart, palette, series, use } from '../charts';
import { withParams } from '../state';
import { card, h, nf0, num, pct, table } from '../ui';

use([BarChart, LineChart, PieChart, SankeyChart]);


function stagesChart(view: any): HTMLElement {
  const stages: any[] = view.stages;
  return chart(
    categoryOption({
      categories: stages.map((s) => s.name),
      legend: true,
      series: [
        series('bar', 'entered', stages.map((s) => s.entered), palette[0]),
        series('bar', 'now in stage', stages.map((s) => s.customers), palette[2]),
        series('bar', 'drop-off', stages.map((s) => s.dropOff), palette[3]),
      ],
    }),
  );
}

// Sankey needs a DAG: keep transitions that go forward in the view's stage order, and show each
// stage's drop-off as a flow into "dropped".
function sankey(view: any): HTMLElement {
  const order: string[] = view.stages.map((s: any) => s.name);
  const links = (view.transitions as any[])
    .filter((t) => order.indexOf(t.to) > order.indexOf(t.from) && t.count > 0)
    .map((t) => ({ source: t.from, target: t.to, value: t.count }));
  for (const s of view.stages) if (s.dropOff > 0) links.push({ source: s.name, target: 'dropped', value: s.dropOff });
  const names = new Set<string>();
  links.forEach((l) => (names.add(l.source), names.add(l.target)));
  return chart(
    {
      tooltip: { trigger: 'item' },
      series: [
        {
          type: 'sankey',
          left: 10,
          right: 90,
          data: [...names].map((n) => ({ name: n, itemStyle: { color: n === 'dropped' ? palette[3] : palette[order.indexOf(n) % palette.length] } })),
          links,
          emphasis: { focus: 'adjacency' },
          lineStyle: { color: 'gradient', opacity: 0.4 },
        },
      ],
    },
    300,
  );
}

export async function renderJourney(root: HTMLElement): Promise<void> {
  // The segment's persona and lifecycle stage (current state, like every number here).
  const CALL: Call = { method: 'GET', path: withParams('/v1/journey/overview', ['persona', 'lifecycle']) };
  const o = await get(CALL.path);
  root.append(h('h1', {}, 'Journey'), h('div', { class: 'meta', id: 'journey-customers', 'data-count': o.customers }, `${num(o.customers, nf0)} customers · values in ${o.currency}`));
  const views: any[] = o.views ?? [];
  const byName = (n: string) => views.find((v) => v.view === n);
  const grid = h('div', { class: 'grid2' });
  root.append(grid);
  const phase = byName('phase');
  const funnel = byName('funnel');
  const lifecycle = byName('lifecycle');
  if (funnel)
    grid.append(
      card(
        'Sales funnel: customers per stage',
        [CALL],
        stagesChart(funnel),
        table(
          ['stage', 'entered', 'reached (of all customers)', 'now in stage', 'stuck'],
          funnel.stages.map((s: any) => [s.name, nf0.format(s.entered), pct(s.entered / Math.max(1, o.customers)), nf0.format(s.customers), nf0.format(s.stuck)]),
        ),
      ),
    );
  if (phase) grid.append(card('Journey flow (phases)', [CALL], sankey(phase)));
  if (lifecycle)
    grid.append(
      card(
        'Lifecycle mix (now)',
        [CALL],
        chart(
          {
            tooltip: { trigger: 'item' },
            legend: { bottom: 0 },
            series: [{ type: 'pie', radius: ['35%', '65%'], data: lifecycle.stages.map((s: any, i: number) => ({ name: s.name, value: s.customers, itemStyle: { color: palette[i % palette.length] } })) }],
          },
          280,
        ),
      ),
    );
  const emo: any[] = o.emotionByPhase ?? [];
  if (emo.length) {
    // The ideal line: interest rising through the journey to satisfaction and delight (DOMAIN.md).
    const ideal = emo.map((_, i) => Math.round(10 + (60 * i) / Math.max(1, emo.length - 1)));
    grid.append(
      card(
        'Emotion along the journey',
        [CALL],
        chart(
          categoryOption({
            categories: emo.map((e) => e.phase),
            legend: true,
            grid: { left: 40 },
            yAxis: { type: 'value', min: -100, max: 100 },
            series: [
              series('line', 'average', emo.map((e) => e.average), palette[0]),
              series('line', 'ideal', ideal, '#999', { lineStyle: { type: 'dashed' } }),
            ],
          }),
        ),
        h('div', { class: 'sub' }, Object.entries<number>(o.emotions ?? {}).map(([k, v]) => `${k} ${v}`).join(' · ')),
      ),
    );
  }
  const stake: any[] = o.valueAtStake ?? [];
  if (stake.length)
    grid.append(
      card(
        'Value at stake by rescue path',
        [CALL],
        table(
          Object.keys(stake[0]),
          stake.map((s) => Object.values(s).map((v) => (typeof v === 'number' ? num(v) : String(v)))),
        ),
      ),
    );
}
