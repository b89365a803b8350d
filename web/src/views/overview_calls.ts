// The overview's API calls (GET /v1/dashboard with the page's filters, GET /v1/feedback/csat),
// in the shell's chunk so that main.ts can start them as soon as the session is known, while the
// overview's own chunk and the chart library are still loading (they take longer than the calls).
import { get, type Call } from '../api';
import { withParams } from '../state';

const FILTER_KEYS = ['from', 'to', 'persona', 'lifecycle', 'channel'] as const;

// GET /v1/dashboard with the page's range and segment (docs/dashboard.md "Filters").
export function dashboardCall(): Call {
  return { method: 'GET', path: withParams('/v1/dashboard', FILTER_KEYS) };
}
export const CSAT: Call = { method: 'GET', path: '/v1/feedback/csat' };

// A call already on its way. It never rejects, so that nobody has to be listening when it fails
// (an unhandled rejection is a console error): `take` gives the answer or throws its error.
export interface Started<T> {
  take(): Promise<T>;
}
export function start<T = any>(path: string): Started<T> {
  const settled = get<T>(path).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return {
    take: async () => {
      const r = await settled;
      if (!r.ok) throw r.error;
      return r.value;
    },
  };
}

export interface OverviewCalls {
  dashboard: Started<any>;
  csat: Started<any>;
}

// Both calls of the overview's load, started now and side by side.
export function startOverviewCalls(): OverviewCalls {
  return { dashboard: start(dashboardCall().path), csat: start(CSAT.path) };
}
