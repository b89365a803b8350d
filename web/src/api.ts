// The one way the dashboard talks to Cairn: same-origin JSON calls to the documented API.
//
// Authentication is the session of docs/dashboard-ui.md: `POST /v1/session {"key"}` sets the
// HttpOnly cookie `cairn_session` (sent by the browser on every call, never readable here) and
// answers a CSRF token, sent as `X-CSRF-Token` on every non-GET call. Against a server without
// the session routes (404 on /v1/session) the key is kept in memory only and sent as
// `Authorization: Bearer` — never stored: a reload asks for it again.
//
// Every call is recorded (method, path, body) so each chart can show the query behind it.
//
// The session hint: the page keeps the session's expiry (not the cookie, not the key: nothing
// that authenticates) in localStorage under `cairn.session_expires_at`, set when a session check
// or a login succeeds and removed on sign-out, on a failed check and on any 401. While it is in
// the future, the shell starts a page's first calls beside the session check instead of after it
// (main.ts). Without it — a first visit, after sign-out — the page asks nothing before the check:
// a signed-out visit must not make data calls, whose 401s the browser logs as console errors.

export interface Call {
  method: string;
  path: string;
  body?: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly call: Call,
  ) {
    super(message);
  }
}

export interface Session {
  role: string;
  csrf?: string;
  expires_at?: string;
  mode: 'session' | 'bearer';
}

let csrf: string | undefined;
let bearer: string | undefined;
let onUnauthorized: () => void = () => {};

const HINT = 'cairn.session_expires_at';

function storeHint(expiresAt: string | undefined): void {
  try {
    if (expiresAt) localStorage.setItem(HINT, expiresAt);
    else localStorage.removeItem(HINT);
  } catch {
    /* storage disabled: no hint, the page checks the session first */
  }
}

// True when this browser signed in before and that session has not expired yet: the session
// check will most likely pass, so a page's first calls may start beside it.
export function sessionLikely(): boolean {
  try {
    const t = Date.parse(localStorage.getItem(HINT) ?? '');
    return t > Date.now();
  } catch {
    return false;
  }
}

export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

async function raw(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  if (bearer) headers['Authorization'] = `Bearer ${bearer}`;
  return fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
}

// Reads an unused body to its end: a navigation right after would otherwise abort it mid-stream.
async function drain(res: Response): Promise<void> {
  await res.arrayBuffer().catch(() => undefined);
}

async function errorMessage(res: Response): Promise<string> {
  try {
    const j = await res.json();
    if (j && typeof j.error === 'string') return j.error;
  } catch {
    /* not JSON */
  }
  return `${res.status} ${res.statusText}`;
}

// A JSON call; throws ApiError on a non-2xx answer (401 also calls the unauthorized handler).
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const call: Call = { method, path, body };
  const res = await raw(method, path, body);
  if (!res.ok) {
    const msg = await errorMessage(res);
    if (res.status === 401) {
      storeHint(undefined);
      onUnauthorized();
    }
    throw new ApiError(res.status, msg, call);
  }
  return (await res.json()) as T;
}

export const get = <T = any>(path: string) => api<T>('GET', path);
export const post = <T = any>(path: string, body: unknown = {}) => api<T>('POST', path, body);
export const put = <T = any>(path: string, body: unknown) => api<T>('PUT', path, body);

// The current session, or null when logged out.
export async function currentSession(): Promise<Session | null> {
  if (bearer) return { role: 'admin', mode: 'bearer' };
  const res = await raw('GET', '/v1/session');
  if (res.status !== 200) {
    await drain(res);
    storeHint(undefined);
    return null;
  }
  const j = await res.json();
  csrf = j.csrf ?? csrf;
  storeHint(j.expires_at);
  return { role: j.role, csrf: j.csrf, expires_at: j.expires_at, mode: 'session' };
}

// Logs in with an API key; throws ApiError with the server's message on a bad key.
export async function login(key: string): Promise<Session> {
  const res = await raw('POST', '/v1/session', { key });
  if (res.status === 404 || res.status === 405) {
    await drain(res);
    // This server has no session login: check the key on a read-only call, keep it in memory.
    bearer = key;
    const check = await raw('GET', '/v1/goals');
    if (check.ok) await drain(check);
    if (check.status === 401 || check.status === 403) {
      bearer = undefined;
      throw new ApiError(check.status, await errorMessage(check), { method: 'GET', path: '/v1/goals' });
    }
    return { role: 'admin', mode: 'bearer' };
  }
  if (!res.ok) throw new ApiError(res.status, await errorMessage(res), { method: 'POST', path: '/v1/session' });
  const j = await res.json();
  csrf = j.csrf;
  storeHint(j.expires_at);
  return { role: j.role, csrf: j.csrf, expires_at: j.expires_at, mode: 'session' };
}

export async function logout(): Promise<void> {
  if (bearer) {
    bearer = undefined;
    return;
  }
  storeHint(undefined);
  const res = await raw('DELETE', '/v1/session').catch(() => undefined);
  if (res) await drain(res);
  csrf = undefined;
}

// The call as a curl command (the "view query" link): the key is a placeholder, never the real one.
export function curlOf(call: Call): string {
  const url = `${location.origin}${call.path}`;
  let s = `curl -s -H 'Authorization: Bearer $CAIRN_ADMIN_KEY'`;
  if (call.method !== 'GET' && !(call.method === 'POST' && call.body !== undefined)) s += ` -X ${call.method}`;
  if (call.body !== undefined) s += ` \\\n  -d '${JSON.stringify(call.body).replace(/'/g, `'\\''`)}'`;
  return `${s} \\\n  '${url}'`;
}
