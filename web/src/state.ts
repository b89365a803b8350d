// Page-wide filters, kept in the URL (?from=YYYY-MM-DD&to=YYYY-MM-DD) so a view can be shared.
// They apply to every call that accepts a range (analytics queries, trends); the overview's
// gauges are "as of today" by definition (docs/dashboard-ui.md).

export interface Range {
  from?: string;
  to?: string;
}

export function range(): Range {
  const q = new URLSearchParams(location.search);
  const r: Range = {};
  const from = q.get('from');
  const to = q.get('to');
  if (from && /^\d{4}-\d{2}-\d{2}$/.test(from)) r.from = from;
  if (to && /^\d{4}-\d{2}-\d{2}$/.test(to)) r.to = to;
  return r;
}

// The range for the analytics API, which takes both bounds or neither ([from, to)).
export function queryRange(): Range {
  const r = range();
  if (!r.from && !r.to) return {};
  const to = r.to ? nextDay(r.to) : nextDay(new Date().toISOString().slice(0, 10));
  return { from: r.from ?? '2000-01-01', to };
}

function nextDay(d: string): string {
  const t = new Date(`${d}T00:00:00Z`).getTime() + 86400000;
  return new Date(t).toISOString().slice(0, 10);
}

// `path` with the page's range (and `extra` parameters) as its query string.
export function withRange(path: string, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams(location.search);
  const keep = new URLSearchParams(extra);
  for (const k of ['from', 'to']) {
    const v = q.get(k);
    if (v) keep.set(k, v);
  }
  const s = keep.toString();
  return s ? `${path}?${s}` : path;
}
