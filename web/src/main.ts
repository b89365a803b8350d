// The dashboard shell: login, navigation, the page-wide date range, and client-side routing
// (History API; the server answers index.html for these paths, see src/api/static_assets.h).
import './style.css';
import { currentSession, login, logout, setUnauthorizedHandler, type Session } from './api';
import { disposeCharts } from './charts';
import { range, withRange } from './state';
import { append, clear, errorBox, h, loading, navigate } from './ui';
import { renderOverview } from './views/overview';
import { renderCustomer } from './views/customer';
import { renderRescues } from './views/rescues';
import { renderAnalyze } from './views/analyze';
import { renderJourney } from './views/journey';
import { renderCases } from './views/cases';
import { renderValue } from './views/value';

export interface View {
  // Fills `root`; may return a cleanup (timers) run when the view is left.
  (root: HTMLElement, params: Record<string, string>): Promise<(() => void) | void>;
}

const routes: { pattern: RegExp; nav: string; view: View }[] = [
  { pattern: /^\/$/, nav: '/', view: renderOverview },
  { pattern: /^\/customers(?:\/(?<id>[^/]+))?$/, nav: '/customers', view: renderCustomer },
  { pattern: /^\/rescues$/, nav: '/rescues', view: renderRescues },
  { pattern: /^\/analyze$/, nav: '/analyze', view: renderAnalyze },
  { pattern: /^\/journey$/, nav: '/journey', view: renderJourney },
  { pattern: /^\/cases$/, nav: '/cases', view: renderCases },
  { pattern: /^\/value$/, nav: '/value', view: renderValue },
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
  disposeCharts();
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

function shell(): HTMLElement {
  const r = range();
  const from = h('input', { type: 'date', id: 'range-from', value: r.from ?? '', 'aria-label': 'from' });
  const to = h('input', { type: 'date', id: 'range-to', value: r.to ?? '', 'aria-label': 'to' });
  const apply = () => {
    const q = new URLSearchParams(location.search);
    for (const [k, el] of [['from', from], ['to', to]] as const) {
      if (el.value) q.set(k, el.value);
      else q.delete(k);
    }
    const s = q.toString();
    history.replaceState(null, '', s ? `${location.pathname}?${s}` : location.pathname);
    void render();
  };
  from.addEventListener('change', apply);
  to.addEventListener('change', apply);
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
    await logout();
    loginScreen('Signed out.');
  });
  return h(
    'header',
    { class: 'top' },
    h('a', { href: '/', 'data-route': '1', class: 'brand' }, 'Cairn'),
    nav,
    h('div', { class: 'range' }, h('span', {}, 'Range'), from, '–', to),
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
  disposeCharts();
  if (!session) session = await currentSession();
  if (!session) return loginScreen();
  clear(app);
  const main = h('main', { id: 'view' }, loading());
  append(app, [shell(), main]);
  const route = routes.find((r) => r.pattern.test(location.pathname));
  if (!route) {
    clear(main);
    main.append(h('div', { class: 'error' }, `No page at ${location.pathname}`));
    return;
  }
  const params = (route.pattern.exec(location.pathname)?.groups ?? {}) as Record<string, string>;
  for (const k of Object.keys(params)) if (params[k] !== undefined) params[k] = decodeURIComponent(params[k]);
  try {
    clear(main);
    cleanup = await route.view(main, params);
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
