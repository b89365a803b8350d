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

// A chart box; the chart is created once the box is in the document (it needs a size). Views
// often build a card before appending it, so this waits (a few frames at most, in practice).
// `onClick` gets ECharts' click event (a bar, a Sankey node or edge, ...).
export function chart(option: Option, height = 260, cls = '', onClick?: (p: any) => void): HTMLElement {
  const el = h('div', { class: `chart ${cls}`, style: `height:${height}px` });
  const init = (tries: number) => {
    if (!el.isConnected) {
      if (tries < 300) requestAnimationFrame(() => init(tries + 1));
      return;
    }
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
