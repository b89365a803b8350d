// The overview's first-screen instruments as small hand-written SVG: dials (speedometer, rev
// counter), the ETA with its band on a time line, and weekly bars (the mirrors). They replace
// ECharts there so the overview needs no chart library at all: each ECharts chart cost 60–130 ms
// of script on a loaded machine and its chunk ~500 kB (bench/README.md, session 12); these are a
// few dozen elements each, drawn synchronously with the data.
//
// Every instrument is an <svg role="img"> with a <title> and an aria-label that say its numbers
// in words, draws its value as text too (never only as a needle or a length), and carries the
// drawn value in data-* attributes (tests/e2e compares them with the API's answer).
//
// The geometry is in pure functions (angles, arcs, scales) apart from the DOM builders.

const NS = 'http://www.w3.org/2000/svg';

// ---- Geometry (pure) ----------------------------------------------------------------------

// Angles are in degrees, counter-clockwise from 3 o'clock (as on a clock face turned the
// mathematician's way); a dial sweeps clockwise from `start` to `end`.
export const DIAL_START = 200;
export const DIAL_END = -20;

export interface Point {
  x: number;
  y: number;
}

// The point at `deg` on the circle of radius r around (cx, cy), in SVG's y-down coordinates.
export function polar(cx: number, cy: number, r: number, deg: number): Point {
  const a = (deg * Math.PI) / 180;
  return { x: cx + r * Math.cos(a), y: cy - r * Math.sin(a) };
}

// The angle of `value` on a dial from 0 to `max`; values outside [0, max] stop at the ends.
export function dialAngle(value: number, max: number, start = DIAL_START, end = DIAL_END): number {
  const f = max > 0 && Number.isFinite(value) ? Math.min(1, Math.max(0, value / max)) : 0;
  return start + (end - start) * f;
}

// An SVG path of the arc from angle `from` to `to` (clockwise when to < from).
export function arcPath(cx: number, cy: number, r: number, from: number, to: number): string {
  const p0 = polar(cx, cy, r, from);
  const p1 = polar(cx, cy, r, to);
  const large = Math.abs(from - to) > 180 ? 1 : 0;
  const sweep = to < from ? 1 : 0;
  return `M${f2(p0.x)} ${f2(p0.y)}A${r} ${r} 0 ${large} ${sweep} ${f2(p1.x)} ${f2(p1.y)}`;
}

// The speedometer's scale: twice the rate needed (so "needed" sits at the top of the dial), and
// room for the recent rate; at least 1, a whole number.
export function speedMax(recent: number, needed: number | null): number {
  return Math.ceil(Math.max(1, (needed ?? recent) * 2, recent * 1.2));
}

// A linear scale from [d0, d1] to [r0, r1] (d0 == d1 maps everything to r0).
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

export const DAY_MS = 86400000;
export const dayMs = (d: string): number => new Date(`${d.slice(0, 10)}T00:00:00Z`).getTime();

// The ETA line spans its box's width but ETA_MARGIN_PCT % at both ends.
export const ETA_MARGIN_PCT = 2;

// The ETA line's time domain: every date shown, with 3 days of margin before and 7 after.
export function timeDomain(days: (string | null | undefined)[]): [number, number] {
  const ms = days.filter((d): d is string => !!d).map(dayMs);
  return [Math.min(...ms) - 3 * DAY_MS, Math.max(...ms) + 7 * DAY_MS];
}

// The first day of each month inside [t0, t1] (the ETA line's ticks), thinned to at most `most`.
export function monthTicks(t0: number, t1: number, most = 6): number[] {
  const out: number[] = [];
  const d = new Date(t0);
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth() + 1;
  for (;;) {
    if (m === 12) {
      y++;
      m = 0;
    }
    const t = Date.UTC(y, m, 1);
    if (t > t1) break;
    out.push(t);
    m++;
  }
  const step = Math.ceil(out.length / most);
  return step <= 1 ? out : out.filter((_, i) => i % step === 0);
}

// A round upper bound for a bar chart's axis: 1, 2 or 5 times a power of ten, at least `max`.
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

const f2 = (v: number) => (Math.round(v * 100) / 100).toString();

// ---- DOM builders -------------------------------------------------------------------------

type SvgAttrs = Record<string, string | number>;

function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: SvgAttrs = {}, ...children: (Node | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, typeof v === 'number' ? f2(v) : v);
  for (const c of children) el.append(c);
  return el;
}

// The root: scales to its box's width (the viewBox keeps proportions), titled for assistive tech.
function root(w: number, hgt: number, label: string, cls: string): SVGSVGElement {
  return s('svg', { viewBox: `0 0 ${w} ${hgt}`, class: `svg-chart ${cls}`, role: 'img', 'aria-label': label }, s('title', {}, label));
}

export interface DialSpec {
  name: string; // which gauge (data-gauge: "speed", "rev")
  value: number;
  max: number;
  // Coloured bands along the dial: [fraction of the dial where the band ends, colour], in order.
  zones: [number, string][];
  text: string; // the value as shown under the needle (e.g. "12.5/day")
  label: string; // the whole reading in words (title and aria-label)
}

// A dial gauge: coloured bands, ten ticks, a needle at the value, the value as text.
export function dial(d: DialSpec): SVGSVGElement {
  const W = 200;
  const H = 130;
  const cx = W / 2;
  const cy = 78;
  const r = 66;
  const svg = root(W, H, d.label, 'dial');
  svg.setAttribute('data-gauge', d.name);
  svg.setAttribute('data-value', String(d.value));
  svg.setAttribute('data-max', String(d.max));
  let from = 0;
  for (const [to, color] of d.zones) {
    if (to > from)
      svg.append(s('path', { d: arcPath(cx, cy, r, dialAngle(from, 1), dialAngle(to, 1)), stroke: color, 'stroke-width': 10, fill: 'none' }));
    from = to;
  }
  for (let i = 0; i <= 10; i++) {
    const a = dialAngle(i, 10);
    const p0 = polar(cx, cy, r - 6, a);
    const p1 = polar(cx, cy, r - 14, a);
    svg.append(s('line', { x1: p0.x, y1: p0.y, x2: p1.x, y2: p1.y, stroke: '#9aa5b1', 'stroke-width': 1.5 }));
  }
  const angle = dialAngle(d.value, d.max);
  const tip = polar(cx, cy, r - 8, angle);
  svg.append(
    s('line', { class: 'needle', 'data-angle': angle, x1: cx, y1: cy, x2: tip.x, y2: tip.y, stroke: '#1d2733', 'stroke-width': 4, 'stroke-linecap': 'round' }),
    s('circle', { cx, cy, r: 5, fill: '#1d2733' }),
    s('text', { class: 'dial-value', x: cx, y: H - 8, 'text-anchor': 'middle', 'font-size': 17, 'font-weight': 600, fill: '#1d2733' }, d.text),
  );
  return svg;
}

export interface EtaSpec {
  start: string;
  today: string;
  deadline: string;
  eta: string | null;
  low: string | null;
  high: string | null;
  onTrack: boolean;
  label: string; // the reading in words
}

const monthFmt = new Intl.DateTimeFormat('en', { month: 'short', timeZone: 'UTC' });

// A tick's label: the month, with its year on the first tick and where the year changed since the
// previous tick ("Nov 2026", "Dec", "Feb 2027").
export function monthLabel(t: number, prev: number | null): string {
  const y = new Date(t).getUTCFullYear();
  return prev === null || new Date(prev).getUTCFullYear() !== y ? `${monthFmt.format(t)} ${y}` : monthFmt.format(t);
}

// Where text at `pct` % of the width is anchored so that it stays inside the box.
function anchorAt(pct: number, edge: number): string {
  return pct > 100 - edge ? 'end' : pct < edge ? 'start' : 'middle';
}

// The ETA on a time line: month ticks, "today" (dashed) and the deadline (red) as marks, the 80%
// band as a shaded span and the ETA as a dot (green on track, red behind). The two marks' labels
// are on rows of their own (they may be a day apart). Unlike the other instruments it has no
// viewBox: x positions are percentages of its width and sizes are pixels, so it stretches to its
// box while its text keeps the page's size, on a laptop as on a phone.
export function etaLine(e: EtaSpec): SVGSVGElement {
  const H = 92;
  const y = 50;
  const axis = H - 24;
  const [t0, t1] = timeDomain([e.start, e.today, e.deadline, e.eta, e.low, e.high]);
  const x = linear(t0, t1, ETA_MARGIN_PCT, 100 - ETA_MARGIN_PCT);
  const pc = (v: number) => `${f2(v)}%`;
  const svg = s('svg', { class: 'svg-chart eta-line', height: H, role: 'img', 'aria-label': e.label }, s('title', {}, e.label));
  svg.setAttribute('data-eta', e.eta ?? '');
  svg.append(s('line', { x1: pc(ETA_MARGIN_PCT), y1: axis, x2: pc(100 - ETA_MARGIN_PCT), y2: axis, stroke: '#c8d0d8' }));
  monthTicks(t0, t1, 5).forEach((t, i, all) => {
    svg.append(
      s('line', { x1: pc(x(t)), y1: axis, x2: pc(x(t)), y2: axis + 5, stroke: '#9aa5b1' }),
      s('text', { x: pc(x(t)), y: H - 5, 'text-anchor': anchorAt(x(t), 8), 'font-size': 12, fill: '#5f6b78' }, monthLabel(t, i ? all[i - 1] : null)),
    );
  });
  if (e.low && e.high) {
    const x0 = x(dayMs(e.low));
    const x1 = x(dayMs(e.high));
    svg.append(s('rect', { class: 'band', x: pc(x0), y: y - 12, width: pc(Math.max(0.5, x1 - x0)), height: 24, fill: 'rgba(59,110,143,0.18)' }));
  }
  const mark = (day: string, text: string, color: string, dash: string, row: number) => {
    const xm = x(dayMs(day));
    svg.append(
      s('line', { class: `mark-${text}`, x1: pc(xm), y1: row + 3, x2: pc(xm), y2: axis, stroke: color, 'stroke-width': dash ? 1 : 2, 'stroke-dasharray': dash }),
      s('text', { x: pc(xm), y: row, 'text-anchor': anchorAt(xm, 12), 'font-size': 12, fill: color }, text),
    );
  };
  mark(e.today, 'today', '#5f6b78', '4 3', 11);
  mark(e.deadline, 'deadline', '#b33a3f', '', 25);
  if (e.eta) {
    const c = s('circle', { class: 'eta-dot', cx: pc(x(dayMs(e.eta))), cy: y, r: 7, fill: e.onTrack ? '#5aa469' : '#c44e52', stroke: '#fff', 'stroke-width': 1.5 });
    c.append(s('title', {}, e.label));
    svg.append(c);
  }
  return svg;
}

export interface BarsSpec {
  labels: string[]; // one per bar (e.g. the week's first day)
  values: number[];
  color: string;
  unit: string; // what a value counts, for the bars' titles ("mentions")
  label: string; // the chart in words
}

// Vertical bars with a zero line and the axis's top value; each bar has its own title (hover:
// its label and value); the first and last labels under the axis.
export function bars(b: BarsSpec): SVGSVGElement {
  const W = 320;
  const H = 140;
  const left = 30;
  const top = 10;
  const bottom = H - 22;
  const svg = root(W, H, b.label, 'bars');
  svg.setAttribute('data-values', b.values.join(','));
  const max = niceMax(Math.max(0, ...b.values));
  const y = linear(0, max, bottom, top);
  svg.append(
    s('line', { x1: left, y1: bottom, x2: W - 4, y2: bottom, stroke: '#9aa5b1' }),
    s('line', { x1: left, y1: top, x2: W - 4, y2: top, stroke: '#eef1f4' }),
    s('text', { x: left - 4, y: top + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#5f6b78' }, String(max)),
    s('text', { x: left - 4, y: bottom + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#5f6b78' }, '0'),
  );
  const n = b.values.length;
  const slot = n ? (W - 4 - left) / n : 0;
  b.values.forEach((v, i) => {
    const bar = s('rect', { x: left + i * slot + slot * 0.15, y: y(v), width: slot * 0.7, height: bottom - y(v), fill: b.color });
    bar.append(s('title', {}, `${b.labels[i]}: ${v} ${b.unit}`));
    svg.append(bar);
  });
  if (n) {
    svg.append(s('text', { x: left, y: H - 5, 'font-size': 11, fill: '#5f6b78' }, b.labels[0]));
    if (n > 1) svg.append(s('text', { x: W - 4, y: H - 5, 'text-anchor': 'end', 'font-size': 11, fill: '#5f6b78' }, b.labels[n - 1]));
  }
  return svg;
}
