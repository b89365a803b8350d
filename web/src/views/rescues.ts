// The rescue queue (docs/rescue.md): journeys worth saving, highest expected gain first, with
// reasons and value at stake; act / dismiss an open item, record the outcome of an acted one.
import { get, post, type Call } from '../api';
import { withParams } from '../state';
import { card, clear, dateTime, errorBox, h, link, nf0, num, pct, table } from '../ui';

const STATUSES = ['open', 'acted', 'succeeded', 'failed', 'dismissed', 'skipped', ''];

export async function renderRescues(root: HTMLElement): Promise<void> {
  const q = new URLSearchParams(location.search);
  let status = q.get('status') ?? 'open';
  if (!STATUSES.includes(status)) status = 'open';
  const select = h(
    'select',
    { id: 'rescue-status', 'aria-label': 'status' },
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, s || 'all')),
  );
  const box = h('div', {});
  root.append(h('h1', {}, 'Rescue queue'), h('div', { class: 'toolbar' }, h('label', {}, 'Status ', select)), box);

  const load = async () => {
    // The page's range (decided within it) and segment (its customers' rescues): docs/rescue.md.
    const extra: Record<string, string> = { limit: '200' };
    if (status) extra.status = status;
    const path = withParams('/v1/rescues', ['from', 'to', 'persona', 'lifecycle', 'channel'], extra);
    const call: Call = { method: 'GET', path };
    clear(box);
    let data: any;
    try {
      data = await get(path);
    } catch (e) {
      box.append(errorBox(e));
      return;
    }
    const items: any[] = data.rescues ?? [];
    // The closed loop (docs/simulator.md): what became of each acted rescue's action — sent to
    // the business, or held by a gate that says why — from the action log (GET /v1/actions).
    const sent = new Map<number, any>();
    if (items.some((r) => r.status !== 'open' && r.status !== 'skipped' && r.status !== 'dismissed')) {
      const log = await get(ACTIONS.path).catch(() => null);
      for (const a of log?.actions ?? []) {
        const m = /^rescue:(\d+)$/.exec(a.source ?? '');
        if (m && !sent.has(Number(m[1]))) sent.set(Number(m[1]), a);
      }
    }
    const rows = items.map((r) => [
      String(r.id),
      link(`/customers/${encodeURIComponent(r.customer.id)}`, r.customer.ids?.[0] ?? r.customer.id),
      r.path,
      h('span', { title: r.explanation }, (r.reasons ?? []).join('; ')),
      num(r.valueAtStake, nf0),
      num(r.expectedGain, nf0),
      `${pct(r.pRescue)} vs ${pct(r.pNone)}`,
      h('span', { class: `badge status-${r.status}`, 'data-status': r.status }, r.status),
      loop(r, sent.get(Number(r.id))),
      actions(r, load),
    ]);
    box.append(
      card(
        `${items.length} ${status || 'all'} rescue${items.length === 1 ? '' : 's'}`,
        [call, ACTIONS, { method: 'POST', path: '/v1/rescues/{id}/act', body: { note: '…' } }, { method: 'POST', path: '/v1/rescues/{id}/dismiss', body: { note: '…' } }, { method: 'POST', path: '/v1/rescues/{id}/outcome', body: { success: true } }],
        items.length === 0
          ? h('p', { class: 'muted' }, 'Nothing in the queue.')
          : table(['id', 'customer', 'path', 'reasons', 'value at stake', 'expected gain', 'p(rescue) vs p(none)', 'status', 'sent → outcome', ''], rows, 'rescues'),
      ),
    );
  };
  select.addEventListener('change', () => {
    status = select.value;
    const u = new URLSearchParams(location.search);
    u.set('status', status);
    history.replaceState(null, '', `${location.pathname}?${u}`);
    void load();
  });
  await load();
}

const ACTIONS: Call = { method: 'GET', path: '/v1/actions?limit=1000' };

// "sent → outcome": the action's state (delivered, pending, or held with the gate's reason) and
// the rescue's outcome (succeeded / failed, or awaited until the window's end).
function loop(r: any, a: any): HTMLElement {
  const box = h('div', { class: 'loop', 'data-loop-rescue': r.id, 'data-action-status': a?.status ?? '' });
  if (!a) {
    box.append(h('span', { class: 'muted' }, r.status === 'open' ? '' : r.status === 'acted' ? 'action not logged yet' : ''));
    return box;
  }
  const what =
    a.status === 'delivered'
      ? `sent ${dateTime(a.deliveredAt)}`
      : a.status === 'blocked' || a.status === 'suppressed' || a.status === 'dead_letter'
        ? `${a.status}: ${a.lastError}`
        : a.status;
  const outcome =
    r.status === 'succeeded' ? 'rescued' : r.status === 'failed' ? 'lost' : `awaiting until ${dateTime(r.window?.end)}`;
  box.append(h('span', { class: `badge action-${a.status}` }, what), ' → ', h('span', { 'data-outcome': r.status }, outcome));
  return box;
}

function actions(r: any, reload: () => Promise<void>): HTMLElement {
  const box = h('div', { class: 'row-actions', 'data-rescue-id': r.id });
  const msg = h('span', { class: 'form-msg', role: 'status' });
  const run = async (path: string, body: unknown) => {
    msg.textContent = '…';
    try {
      await post(path, body);
      await reload();
    } catch (e) {
      msg.textContent = '';
      box.append(errorBox(e));
    }
  };
  const button = (label: string, cls: string, fn: () => void) => {
    const b = h('button', { type: 'button', class: cls }, label);
    b.addEventListener('click', fn);
    return b;
  };
  if (r.status === 'open') {
    box.append(
      button('Act', 'act', () => void run(`/v1/rescues/${r.id}/act`, { note: 'from the dashboard' })),
      button('Dismiss', 'secondary dismiss', () => void run(`/v1/rescues/${r.id}/dismiss`, { note: 'from the dashboard' })),
    );
  } else if (r.status === 'acted') {
    box.append(
      button('Rescued', 'outcome-yes', () => void run(`/v1/rescues/${r.id}/outcome`, { success: true })),
      button('Lost', 'secondary outcome-no', () => void run(`/v1/rescues/${r.id}/outcome`, { success: false })),
    );
  } else {
    box.append(h('span', { class: 'muted' }, r.closedAt ? `closed ${dateTime(r.closedAt)}` : ''));
  }
  box.append(msg);
  return box;
}
