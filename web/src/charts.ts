// ECharts, tree-shaken and split: this module (in the chunk every chart page loads) registers the
// core, the canvas renderer and the components all pages use; each view registers the chart
// types (and rarer components) it draws with `use`, so they load with that view's chunk.
import * as echarts from 'echarts/core';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { h, onLeaveView } from './ui';

echarts.use([GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export const use = echarts.use;

export type Option = echarts.EChartsCoreOption;

const live = new Set<echarts.ECharts>();

// Charts whose box starts below the first screen are drawn when it enters the screen or when the
// page is next idle, whichever is first: the first paint pays only for what it shows (each chart
// costs tens of milliseconds of script on a slow machine).
const near = new Map<Element, () => void>();
const observer =
  typeof IntersectionObserver === 'undefined'
    ? null
    : new IntersectionObserver(
        (entries) => {
          for (const e of entries) if (e.isIntersecting) near.get(e.target)?.();
        },
        { rootMargin: '0px' },
      );
function later(el: HTMLElement, draw: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    observer?.unobserve(el);
    near.delete(el);
    if (el.isConnected) draw();  // a refresh or another page may have replaced it meanwhile
  };
  near.set(el, once);
  observer?.observe(el);
  if (typeof requestIdleCallback === 'function') requestIdleCallback(once, { timeout: 3000 });
  else setTimeout(once, 200);
}

// A chart box; the chart is created once the box is in the document (it needs a size). Views
// often build a card before appending it, so this waits (a few frames at most, in practice).
// Below the first screen it is created later (`later`). `onClick` gets ECharts' click event (a
// bar, a Sankey node or edge, ...).
export function chart(option: Option, height = 260, cls = '', onClick?: (p: any) => void): HTMLElement {
  const el = h('div', { class: `chart ${cls}`, style: `height:${height}px` });
  const draw = () => {
    // Charts whose boxes a refresh replaced are gone from the page: free them.
    for (const old of live) {
      if (!old.getDom().isConnected) {
        old.dispose();
        live.delete(old);
      }
    }
    const c = echarts.init(el, undefined, { renderer: 'canvas' });
    c.setOption({ animation: false, textStyle: { fontFamily: 'system-ui, sans-serif' }, ...option });
    if (onClick) c.on('click', onClick);
    live.add(c);
  };
  const init = (tries: number) => {
    if (!el.isConnected) {
      if (tries < 300) requestAnimationFrame(() => init(tries + 1));
      return;
    }
    if (el.getBoundingClientRect().top > window.innerHeight) later(el, draw);
    else draw();  // setOption draws at once (animation off)
  };
  requestAnimationFrame(() => init(0));
  return el;
}

// Disposes the charts of a view that is being replaced.
export function disposeCharts(): void {
  for (const c of live) c.dispose();
  live.clear();
}

onLeaveView(disposeCharts);

window.addEventListener('resize', () => {
  for (const c of live) c.resize();
});

export const palette = ['#3b6e8f', '#e0863a', '#5aa469', '#c44e52', '#8172b2', '#937860', '#da8bc3', '#8c8c8c'];

// The option of a chart over named categories (funnel steps, stages, weeks, quantiles) against a
// value axis: the shape every bar and line chart of the dashboard shares, written once. The
// fields override the defaults for one chart.
export interface CategoryChart {
  categories: (string | number)[];
  series: any[];
  legend?: boolean; // a legend on top, for several series (and room above the plot for it)
  grid?: { left?: number; right?: number; top?: number; bottom?: number };
  xAxis?: Record<string, unknown>; // more x-axis fields (axisLabel, name, …)
  yAxis?: Record<string, unknown> | Record<string, unknown>[]; // default: one value axis
}

export function categoryOption(c: CategoryChart): Option {
  return {
    grid: { left: 50, right: 10, top: c.legend ? 30 : 20, bottom: 30, ...c.grid },
    tooltip: { trigger: 'axis' },
    legend: c.legend ? { top: 0 } : undefined,
    xAxis: { type: 'category', data: c.categories, ...c.xAxis },
    yAxis: c.yAxis ?? { type: 'value' },
    series: c.series,
  };
}

// One series of `type` drawn in `color`.
export function series(type: 'bar' | 'line', name: string, data: unknown[], color: string, more: Record<string, unknown> = {}): any {
  return { type, name, data, itemStyle: { color }, ...more };
}
