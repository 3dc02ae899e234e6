// Hash router (#/catalog, #/product/ID, #/certificate/NUMBER, #/login, #/register, and the
// portals #/merchant, #/buyer, #/county, #/admin with a tab after them), navigation by role,
// sign-in, registration and sign-out.
import { api, session, onSignedOut, ROLES } from './api.js';
import { h, clear, form, notice, errorBox } from './ui.js';
import { state, loadMe, go, takeFlash, flash, cart, onCartChange } from './state.js';
import { catalogView, productView, certificateView, supplierView } from './catalog.js';
import { merchantPortal } from './merchant.js';
import { buyerPortal } from './buyer.js';
import { countyPortal } from './county.js';
import { adminPortal } from './admin.js';
import { financePortal } from './finance.js';
import { bell, followInbox, stopInbox, inboxView } from './inbox.js';

const main = document.getElementById('app');
const nav = document.getElementById('nav');

const PORTALS = { merchant: merchantPortal, buyer: buyerPortal, county: countyPortal, admin: adminPortal, finance: financePortal };

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query) };
}

function renderNav() {
  clear(nav);
  const me = state.me;
  const links = [h('a', { href: '#/catalog', testid: 'nav-catalog' }, '商品目录'), h('a', { href: '#/certificate', testid: 'nav-certificate' }, '证书查验')];
  if (me) {
    const role = me.user.role;
    links.push(h('a', { href: `#/${role}`, testid: 'nav-portal' }, portalName(role)));
    if (role === 'buyer') {
      const n = cart.count();
      links.push(h('a', { href: '#/buyer/cart', testid: 'nav-cart' }, '采购车', n ? h('span', { class: 'count', testid: 'cart-count' }, String(n)) : null));
    }
    links.push(bellLink());
    links.push(h('span', { class: 'who', testid: 'nav-user' }, `${me.user.displayName}（${ROLES[role]}）`));
    links.push(h('button', { type: 'button', class: 'link', testid: 'nav-logout', onclick: signOut }, '退出'));
  } else {
    links.push(h('a', { href: '#/login', testid: 'nav-login' }, '登录'), h('a', { href: '#/register', testid: 'nav-register' }, '注册'));
  }
  nav.append(...links);
}

/** The nav's bell: 通知 with the unread count; updated in place as the count changes. */
function bellLink() {
  const link = h('a', { href: '#/inbox', testid: 'nav-inbox' }, '通知');
  showCount(link, bell.count);
  return link;
}

function showCount(link, n) {
  link.querySelector('.count')?.remove();
  link.setAttribute('aria-label', n ? `通知（${n} 条未读）` : '通知');
  if (n) link.appendChild(h('span', { class: 'count', testid: 'inbox-count' }, String(n)));
}

function portalName(role) {
  return { merchant: '供应商工作台', buyer: '采购单位工作台', county: '县级审核工作台', admin: '平台管理', finance: '财政部门工作台' }[role];
}

async function signOut() {
  try { await api('DELETE', '/sessions/current'); } catch (e) { /* already gone */ }
  session.token = null;
  state.me = null;
  stopInbox();
  flash('已退出登录。');
  go('#/login');
}

onSignedOut(() => {
  state.me = null;
  stopInbox();
  flash('登录已过期，请重新登录。');
  go('#/login');
});
onCartChange(renderNav);
bell.onChange((n) => { const link = nav.querySelector('[data-testid="nav-inbox"]'); if (link) showCount(link, n); });

function loginView(params) {
  const next = params.get('next');
  return h('section', { class: 'narrow' },
    h('h2', {}, '登录'),
    form({
      id: 'login-form', submit: '登录',
      fields: [
        { name: 'username', label: '用户名', required: true, autocomplete: 'username' },
        { name: 'password', label: '密码', type: 'password', required: true, autocomplete: 'current-password' },
      ],
      onSubmit: async (v) => {
        const r = await api('POST', '/sessions', { body: { username: v.username, password: v.password } });
        session.token = r.token;
        await loadMe();
        followInbox();
        go(next && next.startsWith('#/') ? next : `#/${state.me.user.role}`);
      },
    }),
    h('p', {}, '还没有账号？', h('a', { href: '#/register' }, '注册供应商或采购单位账号')));
}

function registerView() {
  return h('section', { class: 'narrow' },
    h('h2', {}, '注册'),
    h('p', { class: 'muted' }, '供应商（脱贫县的合作社、家庭农场、企业）和采购单位（预算单位食堂）可自行注册；县级审核和平台管理账号由平台管理员创建。'),
    form({
      id: 'register-form', submit: '注册并登录',
      fields: [
        { name: 'role', label: '账号类型', type: 'select', required: true, options: [['merchant', '供应商'], ['buyer', '采购单位（食堂）']] },
        { name: 'username', label: '用户名', required: true, autocomplete: 'username', hint: '3–32 位字母、数字或 _ . -' },
        { name: 'displayName', label: '显示名称', required: true, hint: '例如单位或合作社名称' },
        { name: 'password', label: '密码', type: 'password', required: true, autocomplete: 'new-password', hint: '至少 10 个字符' },
      ],
      onSubmit: async (v) => {
        await api('POST', '/users', { body: { username: v.username, password: v.password, role: v.role, displayName: v.displayName } });
        const r = await api('POST', '/sessions', { body: { username: v.username, password: v.password } });
        session.token = r.token;
        await loadMe();
        followInbox();
        flash('注册成功，欢迎使用。');
        go(`#/${v.role}`);
      },
    }));
}

let renderSeq = 0;
async function route() {
  const seq = ++renderSeq;
  const { parts, params } = parseHash();
  const [page = 'catalog', arg, arg2] = parts;
  renderNav();
  clear(main);
  const f = takeFlash();
  if (f) { const n = notice(f); n.dataset.testid = 'flash'; main.appendChild(n); }
  const view = h('div', { class: 'view', testid: `view-${page}` });
  main.appendChild(view);
  document.title = '帮扶 · 消费帮扶平台';
  try {
    if (page === 'catalog') await catalogView(view, params);
    else if (page === 'product' && arg) await productView(view, arg);
    else if (page === 'supplier' && arg) await supplierView(view, arg);
    else if (page === 'certificate') await certificateView(view, arg);
    else if (page === 'login') view.appendChild(loginView(params));
    else if (page === 'register') view.appendChild(registerView());
    else if (page === 'inbox') {
      if (!state.me) { go('#/login?next=' + encodeURIComponent(location.hash)); return; }
      await inboxView(view);
    }
    else if (PORTALS[page]) {
      if (!state.me) { go('#/login?next=' + encodeURIComponent(location.hash)); return; }
      if (state.me.user.role !== page) {
        view.appendChild(errorBox({ detail: `此页面仅供${ROLES[page]}使用。` }));
        view.appendChild(h('p', {}, h('a', { href: `#/${state.me.user.role}` }, '前往我的工作台')));
      } else {
        await PORTALS[page](view, arg, arg2, params);
      }
    } else view.appendChild(errorBox({ detail: '页面不存在。' }));
  } catch (e) {
    if (seq === renderSeq) view.appendChild(errorBox(e));
    console.error(e);
  }
  if (seq === renderSeq) {
    main.setAttribute('data-ready', String(seq));
    const heading = view.querySelector('h2');
    if (heading) { heading.tabIndex = -1; if (!main.contains(document.activeElement) || document.activeElement === document.body) heading.focus({ preventScroll: true }); }
  }
}

window.addEventListener('hashchange', () => { if (location.hash.startsWith('#/')) route(); });

(async function start() {
  if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/catalog');
  try { await loadMe(); } catch (e) { /* offline: pages show their own errors */ }
  if (state.me) followInbox();
  route();
})();
