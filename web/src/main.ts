// The dashboard shell: login, navigation, the page-wide date range, and client-side routing
// (History API; the server answers index.html for these paths, see src/api/static_assets.h).
import './style.css';
import { currentSession, login, logout, sessionLikely, setUnauthorizedHandler, type Session } from './api';
import { get } from './api';
import { range, segment, segmentKeys, withRange } from './state';
import { startOverviewCalls } from './views/overview_calls';
import { append, clear, errorBox, h, leaveView, loading, navigate } from './ui';

export interface View {
  // Fills `root`; may return a cleanup (timers) run when the view is left. `started`: what the
  // route's `start` returned.
  (root: HTMLElement, params: Record<string, string>, started?: any): Promise<(() => void) | void>;
}

// Each page is its own chunk, loaded when first visited; the login screen draws no charts.
// `filters`: which of the page-wide filters its API calls take (shown in the filter bar).
// `start` (optional): the page's first API calls, begun by the shell while the page's chunk is
// still loading: beside the session check when this browser's last session is still valid
// (sessionLikely, api.ts), else as soon as the check has passed.
const routes: { pattern: RegExp; nav: string; load: () => Promise<View>; filters: string; start?: () => unknown }[] = [
  {
    pattern: /^\/$/,
    nav: '/',
    load: () => import('./views/overview').then((m) => m.renderOverview),
    start: startOverviewCalls,
    filters: 'range and segment: the gauges (as of the range’s end, the segment’s customers), the trip meter over the range, the mirrors',
  },
  {
    pattern: /^\/customers(?:\/(?<id>[^/]+))?$/,
    nav: '/customers',
    load: () => import('./views/customer').then((m) => m.renderCustomer),
    filters: 'the range’s end: the timeline up to it (one customer: no segment)',
  },
  { pattern: /^\/rescues$/, nav: '/rescues', load: () => import('./views/rescues').then((m) => m.renderRescues), filters: 'range and segment: rescues decided in the range, of the segment’s customers' },
  {
    pattern: /^\/analyze$/,
    nav: '/analyze',
    load: () => import('./views/analyze').then((m) => m.renderAnalyze),
    filters: 'range and segment: every chart',
  },
  {
    pattern: /^\/journey$/,
    nav: '/journey',
    load: () => import('./views/journey').then((m) => m.renderJourney),
    filters: 'persona and lifecycle stage (current state: no range, no channel)',
  },
  {
    pattern: /^\/cases$/,
    nav: '/cases',
    load: () => import('./views/cases').then((m) => m.renderCases),
    filters: 'range and persona: the NPS charts',
  },
  { pattern: /^\/value$/, nav: '/value', load: () => import('./views/value').then((m) => m.renderValue), filters: 'segment: CLV, P(alive) and personas of its customers (as of the last fit: no range)' },
];

const navItems: [string, string][] = [
  ['/', 'Overview'],
  ['/customers', 'Customers'],
  ['/rescues', 'Rescues'],
  ['/analyze', 'Analyze'],
  ['/journey', 'Journey'],
  ['/cases', 'Cases & VoC'],
  ['/value', 'Value'],
];

const app = document.getElementById('app')!;
let session: Session | null = null;
let cleanup: (() => void) | void;


function loginScreen(message?: string): void {
  leaveView();
  clear(app);
  const key = h('input', {
    type: 'password',
    id: 'login-key',
    name: 'key',
    autocomplete: 'current-password',
    placeholder: 'API key',
    required: true,
  });
  const status = h('div', { class: 'login-status', role: 'status' }, message ?? '');
  const form = h(
    'form',
    { class: 'login', id: 'login-form' },
    h('h1', {}, 'Cairn'),
    h('p', {}, 'Sign in with an API key (admin, agent or analyst).'),
    h('label', { for: 'login-key' }, 'API key'),
    key,
    h('button', { type: 'submit' }, 'Sign in'),
    status,
    h(
      'p',
      { class: 'hint' },
      'Where is my key? ',
      h('code', {}, 'cairn demo'),
      ' and the first ',
      h('code', {}, 'cairn serve'),
      ' on a new data directory print it once: look for “created admin key” in the terminal. ',
      'A key given with ',
      h('code', {}, '--admin-key'),
      ' or ',
      h('code', {}, 'CAIRN_ADMIN_KEY'),
      ' works too.',
    ),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    status.textContent = 'Signing in…';
    try {
      session = await login(key.value.trim());
      key.value = '';
      await render();
    } catch (e) {
      status.textContent = e instanceof Error ? e.message : String(e);
      status.className = 'login-status error';
    }
  });
  app.append(form);
  key.focus();
}

// The channel vocabulary of DOMAIN.md §1 (the acquisition channel of a segment).
const channels = ['web', 'mobile', 'email', 'sms', 'chat', 'im', 'social', 'phone', 'video', 'store', 'payment', 'support', 'other'];

// Personas and lifecycle stages for the segment selects: GET /v1/journey/segments (the journey
// map's names, no pass over the customers), asked once per sign-in.
let segmentChoices: Promise<{ persona: string[]; lifecycle: string[] }> | null = null;
function choices(): Promise<{ persona: string[]; lifecycle: string[] }> {
  segmentChoices ??= get('/v1/journey/segments')
    .then((o: any) => ({ persona: o.personas ?? [], lifecycle: o.lifecycle ?? [] }))
    .catch(() => ({ persona: [], lifecycle: [] }));
  return segmentChoices;
}

// Replaces the URL's filter parameters with the bar's values and redraws the page.
function applyFilters(values: Record<string, string>): void {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(values)) {
    if (v) q.set(k, v);
    else q.delete(k);
  }
  const s = q.toString();
  history.replaceState(null, '', s ? `${location.pathname}?${s}` : location.pathname);
  void render();
}

function filterBar(scope: string): HTMLElement {
  const r = range();
  const seg = segment();
  const from = h('input', { type: 'date', id: 'range-from', value: r.from ?? '', 'aria-label': 'from' });
  const to = h('input', { type: 'date', id: 'range-to', value: r.to ?? '', 'aria-label': 'to' });
  const selects: Record<string, HTMLSelectElement> = {};
  const labels: Record<string, string> = { persona: 'Persona', lifecycle: 'Lifecycle', channel: 'Channel' };
  for (const k of segmentKeys) {
    const sel = h('select', { id: `segment-${k}`, name: k, 'aria-label': labels[k] }, h('option', { value: '' }, `any ${labels[k].toLowerCase()}`));
    const cur = seg[k];
    if (cur) sel.append(h('option', { value: cur, selected: true }, cur));
    selects[k] = sel;
  }
  const fill = (sel: HTMLSelectElement, names: string[]) => {
    for (const n of names) if (n !== sel.value) sel.append(h('option', { value: n }, n));
  };
  fill(selects.channel, channels);
  void choices().then((c) => {
    fill(selects.persona, c.persona);
    fill(selects.lifecycle, c.lifecycle);
  });
  const apply = () =>
    applyFilters({
      from: from.value,
      to: to.value,
      persona: selects.persona.value,
      lifecycle: selects.lifecycle.value,
      channel: selects.channel.value,
    });
  for (const el of [from, to, ...Object.values(selects)]) el.addEventListener('change', apply);
  const active = !!(r.from || r.to || Object.keys(seg).length);
  const reset = h('button', { type: 'button', class: 'link', id: 'filters-reset', disabled: !active }, 'clear');
  reset.addEventListener('click', () => applyFilters({ from: '', to: '', persona: '', lifecycle: '', channel: '' }));
  return h(
    'div',
    { class: 'filters', id: 'filters' },
    h('div', { class: 'range' }, h('span', {}, 'Range'), from, '–', to),
    h('div', { class: 'segment' }, h('span', {}, 'Segment'), selects.persona, selects.lifecycle, selects.channel, reset),
    h('div', { class: 'scope', id: 'filter-scope' }, `Applies here to: ${scope}`),
  );
}

function shell(): HTMLElement {
  const nav = h(
    'nav',
    {},
    navItems.map(([path, label]) => {
      const active = currentNav() === path;
      return h('a', { href: withRange(path), 'data-route': '1', class: active ? 'active' : '' }, label);
    }),
  );
  const out = h('button', { type: 'button', class: 'link', id: 'logout' }, 'Sign out');
  out.addEventListener('click', async () => {
    // Stop the view's timers first: a refresh racing the logout would see a 401 of its own.
    if (typeof cleanup === 'function') cleanup();
    cleanup = undefined;
    session = null;
    segmentChoices = null;
    await logout();
    loginScreen('Signed out.');
  });
  return h(
    'header',
    { class: 'top' },
    h('a', { href: '/', 'data-route': '1', class: 'brand' }, 'Cairn'),
    nav,
    h('div', { class: 'who' }, session ? `${session.role}` : '', out),
  );
}

function currentNav(): string {
  for (const r of routes) if (r.pattern.test(location.pathname)) return r.nav;
  return '';
}

async function render(): Promise<void> {
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  leaveView();
  const route = routes.find((r) => r.pattern.test(location.pathname));
  // The page's chunk loads while the session is checked (a handled promise: a failed load is
  // reported below, or never when the login screen is shown instead).
  const loaded = route ? route.load().then((view) => ({ view }), (error: unknown) => ({ error })) : null;
  // A page's first calls go out beside the session check, not after it, when the check will most
  // likely pass (a stale hint costs one 401 answer, handled: the login screen follows).
  const early = !session && sessionLikely() ? route?.start?.() : undefined;
  if (!session) session = await currentSession();
  if (!session) return loginScreen();
  const started = early ?? route?.start?.();
  clear(app);
  const main = h('main', { id: 'view' }, loading());
  append(app, [shell(), route ? filterBar(route.filters) : null, main]);
  if (!route) {
    clear(main);
    main.append(h('div', { class: 'error' }, `No page at ${location.pathname}`));
    return;
  }
  const params = (route.pattern.exec(location.pathname)?.groups ?? {}) as Record<string, string>;
  for (const k of Object.keys(params)) if (params[k] !== undefined) params[k] = decodeURIComponent(params[k]);
  try {
    const r = await loaded!;
    if ('error' in r) throw r.error;
    clear(main);
    cleanup = await r.view(main, params, started);
  } catch (e) {
    main.append(errorBox(e));
  }
}

// Links marked data-route navigate without a reload.
document.addEventListener('click', (ev) => {
  const a = (ev.target as Element | null)?.closest?.('a[data-route]') as HTMLAnchorElement | null;
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin) return;
  ev.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', () => void render());
setUnauthorizedHandler(() => {
  if (!session) return;
  session = null;
  loginScreen('Your session has ended: sign in again.');
});

void render();
