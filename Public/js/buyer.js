// Buyer portal (采购单位): organization, yearly quota plan with its progress chart, cart and
// checkout (a fresh Idempotency-Key per attempt), orders: cancel, accept (验收), pay, refunds.
import { api, fen, bp, fenToYuanInput, parseYuan, parsePercentToBp, parseInt10, fieldError, quotaYear, time, countyName, regionOptions, regionName, MEMBER_ROLES, CANTEEN_MODES, FILING_STATUS, WAIVER_STATUS } from './api.js';
import { h, form, facts, badge, tabs, table, section, pagedList, actionButton, disclosure, notice, quotaChart, showProblem, clearErrors, filterNav, hashParam } from './ui.js';
import { state, go, flash, cart, loadMe } from './state.js';
import { countyOptions } from './catalog.js';
import { orderCard, paymentForm, orderFilters } from './shared.js';
import { filingQueue } from './finance.js';

const reload = () => go(location.hash);

export async function buyerPortal(view, tab) {
  // An admin may have verified the organization since sign-in: the header reads a fresh /me.
  try { await loadMe(); } catch (e) { /* unreachable server: keep what we know, the tab shows the error */ }
  if (!state.me) return; // the session ended: the sign-in page is on its way
  const org = state.me.buyerOrganization;
  const manager = state.me.memberRole === 'manager';
  const list = org
    ? [['quota', '预留份额'], ['cart', '采购车'], ['orders', '订单'], ['organization', '单位信息'], ...(manager ? [['members', '账号管理'], ['subtree', '下级填报']] : [])]
    : [['organization', '单位信息'], ['cart', '采购车']];
  if (!list.some(([k]) => k === tab)) tab = list[0][0];
  view.append(...[h('h2', {}, '采购单位工作台'),
    org ? h('p', { class: 'muted', testid: 'org-summary' }, `${org.name} · ${org.department} · `, h('span', { testid: 'org-status', 'data-status': org.status }, badge(org.status))) : null,
    org?.status === 'pending' ? notice('单位信息待平台审核，审核通过后才能下单。', 'warn') : null,
    tabs('buyer', list, tab)].filter(Boolean));
  const body = h('div', { class: 'tab-body', testid: `buyer-${tab}` });
  view.append(body);
  const views = { organization: organizationTab, quota: quotaTab, cart: cartTab, orders: ordersTab, members: membersTab, subtree: () => filingQueue('#/buyer/subtree') };
  await section(body, () => views[tab](body));
}

async function organizationTab() {
  const org = state.me.buyerOrganization;
  if (org) {
    const fresh = await api('GET', `/buyer-organizations/${encodeURIComponent(org.id)}`);
    return h('section', { class: 'card', testid: 'organization' },
      h('h3', {}, fresh.name, ' ', h('span', { testid: 'org-status-detail', 'data-status': fresh.status }, badge(fresh.status))),
      facts([['统一社会信用代码', fresh.creditCode], ['主管部门', fresh.department], ['所在县', fresh.countyCode ? await countyName(fresh.countyCode) : '—'],
        ['行政区划', h('span', { testid: 'org-region' }, await regionName(fresh.regionCode))],
        ['上级主管单位', fresh.parentId ? await parentName(fresh.parentId) : '—'],
        ['食堂地址', fresh.canteenAddress], ['联系人', `${fresh.contactName} ${fresh.contactPhone}`], ['审核时间', time(fresh.verifiedAt)], ['登记时间', time(fresh.createdAt)],
        ['本账号', MEMBER_ROLES[state.me.memberRole] || '—']]),
      state.me.memberRole === 'manager' ? await subordinates(fresh) : null);
  }
  const regionOpts = await regionOptions();
  const countyOpts = await countyOptions();
  return [h('p', {}, '请登记本单位（机关、事业单位）信息，平台审核通过后即可申报预留份额并下单采购。'),
    form({
      id: 'organization-form', submit: '提交单位信息',
      fields: [
        { name: 'name', label: '单位名称', required: true },
        { name: 'creditCode', label: '统一社会信用代码', required: true, hint: '机关、事业单位的代码以 1 开头' },
        { name: 'department', label: '主管部门', required: true },
        { name: 'regionCode', label: '所在行政区划', type: 'select', required: true, options: [['', '请选择'], ...regionOpts], value: '230000' },
        { name: 'countyCode', label: '所在脱贫县（可选）', type: 'select', options: [['', '不属于脱贫县'], ...countyOpts] },
        { name: 'canteenAddress', label: '食堂地址', required: true },
        { name: 'contactName', label: '联系人', required: true },
        { name: 'contactPhone', label: '联系电话', required: true, inputmode: 'tel' },
      ],
      onSubmit: async (v) => {
        await api('POST', '/buyer-organizations', { body: { ...v, creditCode: v.creditCode.toUpperCase(), countyCode: v.countyCode || null } });
        await loadMe();
        flash('单位信息已提交，等待平台审核。');
        go('#/buyer/organization');
      },
    })];
}

/** The parent's name, when the caller may see it (a unit does not see above itself: "已设置"). */
async function parentName(id) {
  try { return (await api('GET', `/buyer-organizations/${encodeURIComponent(id)}`)).name; } catch (e) { return '已设置'; }
}

/** The organizations directly below a manager's unit (read-only). */
async function subordinates(org) {
  const page = await api('GET', '/buyer-organizations', { query: { parentId: org.id, limit: 100 } });
  return h('div', { testid: 'subordinates' }, h('h4', {}, '下级预算单位'),
    table(['单位', '行政区划', '状态'], await Promise.all(page.items.map(async (o) => [o.name, await regionName(o.regionCode), badge(o.status)])),
      { testid: 'subordinate-list', empty: '暂无下级单位' }));
}

// ---- members (单位管理账号 only) ----

async function membersTab() {
  const org = state.me.buyerOrganization;
  const base = `/buyer-organizations/${encodeURIComponent(org.id)}/members`;
  const members = await api('GET', base);
  const rows = members.map((m) => [m.username, m.displayName, MEMBER_ROLES[m.memberRole] || m.memberRole, time(m.lastSignInAt),
    m.userId === state.me.user.id ? h('span', { class: 'muted' }, '本人')
      : actionButton('停用并移除', () => api('DELETE', `${base}/${encodeURIComponent(m.userId)}`), { testid: `remove-${m.username}`, kind: 'danger', done: () => { flash('账号已停用。'); reload(); } })]);
  return [
    h('section', { class: 'card' }, h('h3', {}, '本单位账号'), table(['用户名', '姓名', '类型', '最近登录', ''], rows, { testid: 'member-list' })),
    h('section', { class: 'card' }, h('h3', {}, '新增账号'),
      h('p', { class: 'muted' }, '交易账号下单、验收、付款；承包方采购账号只下单和验收，不能付款（须先将本年度计划的食堂模式申报为「外包」）。'),
      form({
        id: 'member-form', submit: '创建账号',
        fields: [
          { name: 'username', label: '用户名', required: true, autocomplete: 'off' },
          { name: 'password', label: '初始密码', type: 'password', required: true, autocomplete: 'new-password', hint: '至少 10 位' },
          { name: 'displayName', label: '姓名', required: true },
          { name: 'memberRole', label: '账号类型', type: 'select', options: Object.entries(MEMBER_ROLES), value: 'purchaser' },
        ],
        onSubmit: async (v) => {
          await api('POST', base, { body: v });
          flash(`账号 ${v.username} 已创建。`);
          reload();
        },
      })),
  ];
}

async function quotaTab() {
  const org = state.me.buyerOrganization;
  const thisYear = quotaYear();
  const year = Number(hashParam('year')) || thisYear;
  let plan = null;
  try {
    plan = await api('GET', `/buyer-organizations/${encodeURIComponent(org.id)}/quota-plans/${year}`);
  } catch (e) { if (e.status !== 404) throw e; }
  const yearNav = filterNav('#/buyer/quota', 'year', [thisYear - 1, thisYear].map((y) => [String(y), `${y} 年`]), String(year), '年度');
  const out = [yearNav];
  if (plan) {
    out.push(h('section', { class: 'card', testid: 'quota-plan' },
      h('h3', {}, `${year} 年预留份额完成情况 `, h('span', { testid: 'filing-status', 'data-status': plan.status }, badge(plan.status, FILING_STATUS[plan.status]))),
      plan.status === 'returned' ? notice(`填报被退回：${plan.returnReason || ''}。请修改后重新提交；退回期间不能下单。`, 'warn') : null,
      plan.waiverStatus ? h('p', { testid: 'waiver-status', 'data-status': plan.waiverStatus }, `最低比例豁免：${WAIVER_STATUS[plan.waiverStatus]}`, plan.waiverNote ? `（${plan.waiverNote}）` : '') : null,
      plan.hasCanteen ? quotaChart(plan) : notice(plan.canteenMode === 'shared' ? '本单位与其他单位共用食堂，由对方单位申报，不能下单。' : '本单位已申报「无食堂」，无预留份额，不能下单。', 'warn'),
      facts([
        ['食堂模式', CANTEEN_MODES[plan.canteenMode] || plan.canteenMode],
        ['食堂食材采购预算', fen(plan.canteenBudgetFen)], ['预留比例', `${fenToYuanInput(plan.reservedRatioBp)}%（最低 ${fenToYuanInput(plan.minimumBp)}%）`],
        ['预留份额', fen(plan.reservedFen)], ['已完结', fen(plan.completedFen)], ['已下单未完结', fen(plan.committedFen)],
        ['已退款', fen(plan.refundedFen)], ['预算余额', h('span', { testid: 'quota-remaining' }, fen(plan.remainingBudgetFen))],
        ['工会采购预算', fen(plan.unionBudgetFen)], ['工会已下单未完结', fen(plan.unionCommittedFen)], ['工会已完结', fen(plan.unionCompletedFen)],
      ])));
  } else {
    out.push(notice(`尚未申报 ${year} 年的预留份额计划；申报后才能下单。`, 'warn'));
  }
  if (state.me.memberRole !== 'manager') return out; // only managers file
  out.push(h('section', { class: 'card' }, h('h3', {}, plan ? '修改并重新提交' : '申报计划'),
    form({
      id: 'quota-form', submit: plan ? '重新提交' : '提交填报',
      fields: [
        { name: 'canteenMode', label: '食堂模式', type: 'select', options: Object.entries(CANTEEN_MODES), value: plan ? plan.canteenMode : 'own' },
        { name: 'canteenBudgetFen', label: '年度食堂食材采购总额（元）', type: 'money', value: plan ? fenToYuanInput(plan.canteenBudgetFen) : '' },
        { name: 'reservedRatioBp', label: '预留比例（%）', type: 'money', value: plan ? fenToYuanInput(plan.reservedRatioBp) : '10', hint: plan ? `本地区最低 ${fenToYuanInput(plan.minimumBp)}%` : '不低于本地区最低比例' },
        { name: 'sharedCanteenOrganizationId', label: '共用食堂的申报单位 ID（仅共用食堂）', value: plan?.sharedCanteenOrganizationId || '' },
        { name: 'unionBudgetFen', label: '工会采购预算（元，可选）', type: 'money', value: plan ? fenToYuanInput(plan.unionBudgetFen) : '' },
        { name: 'waiverReason', label: '低于最低比例的豁免理由（仅比例低于最低比例时填写）', type: 'textarea', value: plan?.waiverReason || '' },
      ],
      onSubmit: async (v) => {
        const withCanteen = v.canteenMode === 'own' || v.canteenMode === 'outsourced';
        const body = {
          canteenMode: v.canteenMode,
          canteenBudgetFen: withCanteen ? parseYuan(v.canteenBudgetFen, 'canteenBudgetFen') : 0,
          reservedRatioBp: withCanteen ? parsePercentToBp(v.reservedRatioBp, 'reservedRatioBp') : 0,
          sharedCanteenOrganizationId: v.canteenMode === 'shared' ? (v.sharedCanteenOrganizationId || null) : null,
          unionBudgetFen: v.unionBudgetFen ? parseYuan(v.unionBudgetFen, 'unionBudgetFen', { allowZero: true }) : 0,
          waiverReason: v.waiverReason.trim() || null,
        };
        // A reason left from an earlier filing is dropped once the ratio reaches the minimum.
        if (plan && withCanteen && body.reservedRatioBp >= plan.minimumBp) body.waiverReason = null;
        try {
          await api('PUT', `/buyer-organizations/${encodeURIComponent(org.id)}/quota-plans/${year}`, { body });
        } catch (e) {
          // The ratio is typed in percent; the server speaks basis points.
          for (const fe of e.errors || []) if (fe.field === 'reservedRatioBp') fe.message = fe.message.replace(/\d+/g, (n) => bp(Number(n)));
          throw e;
        }
        flash('预留份额填报已提交，等待审核。');
        reload();
      },
    })));
  return out;
}

// ---- cart and checkout ----

let pendingCheckout = null; // {body, key}: reused only when the previous attempt got no answer

async function cartTab() {
  const lines = cart.lines();
  if (!state.me.buyerOrganization) return notice('请先登记单位信息并通过审核后再下单。', 'warn');
  if (!lines.length) return h('p', { class: 'muted empty', testid: 'cart-empty' }, '采购车是空的。', h('a', { href: '#/catalog' }, '去商品目录选购'));
  const totalEl = h('strong', { testid: 'cart-total' });
  const rows = lines.map((l, i) => {
    const qty = h('input', {
      type: 'number', name: `items[${i}].quantity`, id: `qty-${i}`, min: 1, max: 100000, value: String(l.quantity), class: 'qty',
      testid: 'cart-quantity', onchange: () => { const n = Number(qty.value); if (Number.isInteger(n) && n >= 1) { cart.setQuantity(l.productId, n); updateTotal(); } },
    });
    return h('div', { class: 'cart-line field', testid: 'cart-line', 'data-product-id': l.productId },
      h('div', { class: 'cart-title' }, h('a', { href: `#/product/${encodeURIComponent(l.productId)}` }, l.title), h('span', { class: 'muted' }, ` ${l.merchantName} · ${fen(l.priceFen)}/${l.unit}`)),
      h('label', { for: `qty-${i}` }, '数量'), qty,
      h('button', { type: 'button', class: 'link', onclick: () => { cart.remove(l.productId); reload(); } }, '移除'));
  });
  function updateTotal() {
    const total = cart.lines().reduce((n, l) => n + l.priceFen * l.quantity, 0);
    totalEl.textContent = fen(total);
    totalEl.dataset.fen = String(total);
  }
  updateTotal();
  const checkout = form({
    id: 'checkout-form', submit: '提交订单', testid: 'checkout',
    fields: [
      { name: 'shipWithinDays', label: '最晚发货时限', type: 'select', options: [['7', '7 天内'], ['15', '15 天内'], ['30', '30 天内']], value: '7' },
      { name: 'purpose', label: '采购用途', type: 'select', options: [['canteen', '食堂采购（计入预留份额）'], ['union', '工会采购（使用工会预算）']], value: 'canteen' },
      { name: 'deliveryAddress', label: '收货地址', value: state.me.buyerOrganization.canteenAddress },
      { name: 'note', label: '备注（可选）', type: 'textarea', rows: 2 },
    ],
    onSubmit: async (v, formEl) => {
      const current = cart.lines();
      const items = current.map((l, i) => {
        const q = parseInt10(formEl.querySelector(`[name="items[${i}].quantity"]`).value, `items[${i}].quantity`, { min: 1, max: 100000 });
        return { productId: l.productId, quantity: q };
      });
      const body = { items, purpose: v.purpose === 'union' ? 'union' : undefined, shipWithinDays: Number(v.shipWithinDays), deliveryAddress: v.deliveryAddress || undefined, note: v.note || undefined };
      const bodyText = JSON.stringify(body);
      const key = pendingCheckout?.body === bodyText ? pendingCheckout.key : crypto.randomUUID();
      pendingCheckout = { body: bodyText, key };
      let r;
      try {
        r = await api('POST', '/orders', { body, headers: { 'Idempotency-Key': key } });
      } catch (e) {
        if (!e.network) pendingCheckout = null; // the server answered: a retry is a new attempt
        for (const fe of e.errors || []) fe.field = fe.field.replace(/\.productId$/, '.quantity');
        throw e;
      }
      pendingCheckout = null;
      cart.clear();
      flash(`下单成功：共 ${r.orders.length} 个订单，合计 ${fen(r.totalFen)}。`);
      go('#/buyer/orders');
    },
  });
  // The quantity inputs sit outside the <form>; put them inside so their errors are placed there.
  const linesBox = h('div', { class: 'cart-lines', testid: 'cart-lines' }, rows, h('p', { class: 'cart-sum' }, '合计：', totalEl));
  checkout.insertBefore(linesBox, checkout.children[1]);
  return [h('h3', {}, '采购车'), checkout];
}

// ---- orders ----

async function ordersTab() {
  const status = hashParam('status');
  const filter = filterNav('#/buyer/orders', 'status', orderFilters('buyer'), status, '订单状态');
  const list = pagedList((cursor) => api('GET', '/orders', { query: { status, limit: 20, cursor } }),
    (o) => orderCard(o, buyerActions(o), { role: 'buyer' }), { testid: 'orders', empty: '暂无订单' });
  await list.ready;
  return [filter, list];
}

function buyerActions(o) {
  const id = encodeURIComponent(o.id);
  const out = [];
  if (o.status === 'placed') {
    out.push(actionButton('取消订单', () => api('POST', `/orders/${id}/cancellation`, { body: {} }), { testid: 'cancel-order', done: reload }));
  }
  if (o.status === 'shipped') {
    out.push(actionButton('确认验收', () => api('POST', `/orders/${id}/acceptance`), { testid: 'accept-order', kind: 'primary', done: () => { flash('已验收，请在 30 日内付款。'); reload(); } }));
  }
  if (o.status === 'accepted') {
    out.push(paymentForm(o, () => { flash('付款已登记，订单已结算。'); reload(); }));
  }
  if ((o.status === 'accepted' || o.status === 'settled') && !o.rating && state.me?.memberRole !== 'contractor') {
    const scores = [['5', '5 分'], ['4', '4 分'], ['3', '3 分'], ['2', '2 分'], ['1', '1 分']];
    out.push(form({
      id: `rate-${o.id}`, testid: 'rating-form', submit: '提交评价', className: 'inline-form',
      fields: [
        { name: 'quality', label: '商品质量', type: 'select', options: scores, value: '5' },
        { name: 'delivery', label: '配送时效', type: 'select', options: scores, value: '5' },
        { name: 'service', label: '服务态度', type: 'select', options: scores, value: '5' },
        { name: 'comment', label: '评价内容（可选，500 字以内）', type: 'textarea' },
      ],
      onSubmit: async (v) => {
        await api('POST', `/orders/${id}/rating`, { body: {
          quality: Number(v.quality), delivery: Number(v.delivery), service: Number(v.service), comment: v.comment || null,
        } });
        flash('评价已提交。');
        reload();
      },
    }));
  }
  if (o.status === 'accepted' || o.status === 'settled') {
    out.push(disclosure('申请退款', form({
      id: `refund-${o.id}`, testid: 'refund-form', submit: '提交退款申请', className: 'inline-form',
      fields: [
        { name: 'amountFen', label: '退款金额（元）', type: 'money', required: true },
        { name: 'reason', label: '原因', required: true },
      ],
      onSubmit: async (v) => {
        await api('POST', `/orders/${id}/refunds`, { body: { amountFen: parseYuan(v.amountFen, 'amountFen'), reason: v.reason } });
        flash('退款申请已提交，等待供应商处理。');
        reload();
      },
    }), { testid: 'refund' }));
  }
  return out;
}
