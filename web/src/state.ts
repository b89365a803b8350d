// Page-wide filters, kept in the URL so a view can be shared:
//   ?from=YYYY-MM-DD&to=YYYY-MM-DD            the date range (inclusive days)
//   &persona=…&lifecycle=…&channel=…          the segment (docs/dashboard-ui.md "Filters")
// Every view passes them to each API call that takes them (the analytics queries take both as
// `from`/`to` and `segment`; the journey overview takes persona and lifecycle as parameters); the
// shell shows, per page, which of them apply there.

export interface Range {
  from?: string;
  to?: string;
}

export interface Segment {
  persona?: string;
  lifecycle?: string;
  channel?: string;
}

export const segmentKeys = ['persona', 'lifecycle', 'channel'] as const;
const filterKeys = ['from', 'to', ...segmentKeys];

export function range(): Range {
  const q = new URLSearchParams(location.search);
  const r: Range = {};
  const from = q.get('from');
  const to = q.get('to');
  if (from && /^\d{4}-\d{2}-\d{2}$/.test(from)) r.from = from;
  if (to && /^\d{4}-\d{2}-\d{2}$/.test(to)) r.to = to;
  return r;
}

export function segment(): Segment {
  const q = new URLSearchParams(location.search);
  const s: Segment = {};
  for (const k of segmentKeys) {
    const v = q.get(k);
    if (v) s[k] = v;
  }
  return s;
}

// The range for the analytics API, which takes both bounds or neither ([from, to)).
export function queryRange(): Range {
  const r = range();
  if (!r.from && !r.to) return {};
  const to = r.to ? nextDay(r.to) : nextDay(new Date().toISOString().slice(0, 10));
  return { from: r.from ?? '2000-01-01', to };
}

// The page's filters as analytics spec fields: {from, to, segment} (only those set).
export function queryFilters(): Range & { segment?: Segment } {
  const s = segment();
  return Object.keys(s).length ? { ...queryRange(), segment: s } : queryRange();
}

function nextDay(d: string): string {
  const t = new Date(`${d}T00:00:00Z`).getTime() + 86400000;
  return new Date(t).toISOString().slice(0, 10);
}

// `path` with the page's filters (and `extra` parameters) as its query string, for links between
// pages.
export function withRange(path: string, extra: Record<string, string> = {}): string {
  return withParams(path, filterKeys, extra);
}

// `path` with only the given filter parameters of the page (API calls that take some of them).
export function withParams(path: string, keys: readonly string[], extra: Record<string, string> = {}): string {
  const q = new URLSearchParams(location.search);
  const keep = new URLSearchParams(extra);
  for (const k of keys) {
    const v = q.get(k);
    if (v) keep.set(k, v);
  }
  const s = keep.toString();
  return s ? `${path}?${s}` : path;
}
