// Small DOM helpers: no framework, so the bundle is ECharts plus a few kilobytes.
import { ApiError, curlOf, type Call } from './api';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined | null>;

// h('div', {class: 'x', onclick: fn}, 'text', child): an element. Text is always a text node (no
// innerHTML anywhere: every string from the API is data, never markup).
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

// A card: a title, its content and the "view query" link listing the API calls behind it.
export function card(title: string, calls: Call[], ...content: (Child | Child[])[]): HTMLElement {
  const body = h('div', { class: 'card-body' }, ...content);
  return h('section', { class: 'card' }, h('header', {}, h('h2', {}, title), viewQuery(calls)), body);
}

export function viewQuery(calls: Call[]): HTMLElement {
  const pre = h('pre', { class: 'query' }, calls.map((c) => curlOf(c)).join('\n\n'));
  return h('details', { class: 'view-query' }, h('summary', {}, 'view query'), pre);
}

export function errorBox(e: unknown): HTMLElement {
  const msg = e instanceof ApiError ? `${e.call.method} ${e.call.path}: ${e.status} ${e.message}` : String(e);
  return h('div', { class: 'error', role: 'alert' }, msg);
}

export const nf0 = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
export const nf1 = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
export const nf2 = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });

export function num(v: number | null | undefined, f = nf1): string {
  return v === null || v === undefined || Number.isNaN(v) ? '—' : f.format(v);
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${nf1.format(v * 100)}%`;
}

export function day(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : '—';
}

export function dateTime(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
}

// "3d 4h" from milliseconds.
export function duration(ms: number): string {
  if (!(ms >= 0)) return '—';
  const d = Math.floor(ms / 86400000);
  const hr = Math.floor((ms % 86400000) / 3600000);
  const m = Math.floor((ms % 3600000) / 60000);
  if (d > 0) return `${d}d ${hr}h`;
  if (hr > 0) return `${hr}h ${m}m`;
  return `${m}m`;
}

export function table(headers: string[], rows: (Child | Child[])[][], cls = ''): HTMLTableElement {
  return h(
    'table',
    { class: `table ${cls}` },
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', {}, t)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))),
  );
}

// A link to a client-side route (handled by the router in main.ts).
export function link(href: string, text: string, attrs: Attrs = {}): HTMLAnchorElement {
  return h('a', { href, 'data-route': '1', ...attrs }, text);
}

export function loading(): HTMLElement {
  return h('div', { class: 'loading' }, 'Loading…');
}

// Client-side navigation: main.ts renders on popstate.
export function navigate(path: string): void {
  history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

// Hooks run when a view is replaced (charts.ts frees its charts): main.ts calls leaveView()
// without importing the chart library, so the shell and the login screen stay small.
const leaveHooks = new Set<() => void>();
export function onLeaveView(fn: () => void): void {
  leaveHooks.add(fn);
}
export function leaveView(): void {
  for (const fn of leaveHooks) fn();
}
