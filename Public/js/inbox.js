// The bell: the signed-in user's unread count, kept live by the inbox event stream
// (GET /api/v1/notifications/stream, read with fetch so the Bearer token goes along), and the
// inbox page (#/inbox) with mark-read and mark-all-read.
import { api, session, time } from './api.js';
import { h, clear, pagedList, actionButton } from './ui.js';

const listeners = [];
let unread = 0;
let stream = null;

/** The unread count now; `fn(count)` is called whenever it changes. */
export const bell = {
  get count() { return unread; },
  onChange(fn) { listeners.push(fn); },
};

function setCount(n) {
  if (n === unread) return;
  unread = n;
  listeners.forEach((fn) => fn(n));
}

/** Starts (or restarts) following the signed-in user's inbox; stops when signed out. */
export async function followInbox() {
  stopInbox();
  if (!session.token) return;
  const controller = new AbortController();
  stream = controller;
  let lastId = null;
  // The stream's first event carries the count too; this only fills the bell sooner.
  try {
    const count = (await api('GET', '/notifications', { query: { limit: 1 } })).unreadCount;
    if (stream === controller) setCount(count);
  } catch (e) { /* the bell waits for the stream */ }
  (async () => {
    while (stream === controller && session.token) {
      try {
        const headers = { Accept: 'text/event-stream', Authorization: 'Bearer ' + session.token };
        if (lastId) headers['Last-Event-ID'] = lastId;
        const res = await fetch('/api/v1/notifications/stream', { headers, signal: controller.signal });
        // Signed out elsewhere: the next page the user opens says so; the bell stops asking.
        if (res.status === 401) { if (stream === controller) stopInbox(); return; }
        if (!res.ok || !res.body) throw new Error('stream ' + res.status);
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let data = null;
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) lastId = line.slice(4);
              else if (line.startsWith('data: ')) data = line.slice(6);
            }
            if (data && stream === controller) { try { setCount(JSON.parse(data).unreadCount); } catch (e) { /* not ours */ } }
          }
        }
      } catch (e) {
        if (controller.signal.aborted) return;
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
  })();
}

export function stopInbox() {
  if (stream) { stream.abort(); stream = null; }
  setCount(0);
}

/** #/inbox: the user's notifications, newest first. */
export async function inboxView(view) {
  view.appendChild(h('h2', {}, '消息通知'));
  const readAll = actionButton('全部标为已读', async () => {
    const r = await api('POST', '/notifications/read-all');
    setCount(r.unreadCount);
    view.querySelectorAll('.notification.unread').forEach((n) => n.classList.remove('unread'));
  }, { testid: 'inbox-read-all' });
  view.appendChild(h('p', {}, readAll));
  const list = pagedList(
    async (cursor) => {
      const page = await api('GET', '/notifications', { query: { limit: 20, cursor } });
      setCount(page.unreadCount);
      return page;
    },
    (n) => {
      const item = h('div', { class: 'notification' + (n.readAt ? '' : ' unread'), testid: 'notification' },
        h('strong', {}, n.title), ' ', h('span', { class: 'muted' }, time(n.createdAt)),
        h('p', {}, n.body));
      if (!n.readAt) {
        item.appendChild(actionButton('标为已读', async () => {
          await api('POST', `/notifications/${encodeURIComponent(n.id)}/read`);
          item.classList.remove('unread');
          setCount(Math.max(0, unread - 1));
          item.querySelector('.action')?.remove();
        }, { testid: 'notification-read' }));
      }
      return item;
    },
    { testid: 'inbox-list', empty: '暂无通知' });
  view.appendChild(list);
  await list.ready;
}
