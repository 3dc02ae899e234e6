// Finance portal (财政部门): the region's filings with confirm / return for top-level units and
// waiver decisions, the bulletin (通报) with its ranking chart and CSV, the region's alerts.
// The filing queue is shared with the buyer portal's supervisor view (下级填报).
import { api, fen, bp, quotaYear, regionName, CANTEEN_MODES, FILING_STATUS, WAIVER_STATUS } from './api.js';
import { h, form, badge, tabs, table, section, pagedList, actionButton, disclosure, barChart, filterNav, hashParam, downloadLink } from './ui.js';
import { state, go, flash } from './state.js';
import { alertsView } from './shared.js';

const reload = () => go(location.hash);

export async function financePortal(view, tab) {
  const list = [['filings', '填报审核'], ['bulletin', '通报'], ['alerts', '预警']];
  if (!list.some(([k]) => k === tab)) tab = list[0][0];
  view.append(h('h2', {}, '财政部门工作台'),
    h('p', { class: 'muted', testid: 'finance-summary' }, `${state.me.user.displayName} · ${await regionName(state.me.regionCode)}（${state.me.regionCode}）`),
    tabs('finance', list, tab));
  const body = h('div', { class: 'tab-body', testid: `finance-${tab}` });
  view.append(body);
  const views = {
    filings: () => filingQueue('#/finance/filings', { finance: true }),
    bulletin: () => bulletinView(),
    alerts: (b) => alertsView(b, { kinds: ['filing_overdue', 'waiver_pending', 'behind_schedule'] }),
  };
  await section(body, () => views[tab](body));
}

const QUEUE_FILTERS = [['', '全部'], ['submitted', '待审核'], ['confirmed', '已确认'], ['returned', '已退回'], ['missing', '未填报']];

/** The review queue (GET /filings) of the caller's scope, with the steps the caller may take. */
export async function filingQueue(base, { finance = false } = {}) {
  const year = Number(hashParam('year')) || quotaYear();
  const status = hashParam('status');
  const waiver = hashParam('waiver');
  const nav = [
    filterNav(base, 'status', QUEUE_FILTERS, status, '填报状态'),
    finance ? filterNav(base, 'waiver', [['', '全部'], ['requested', '待审批豁免']], waiver, '豁免') : null,
  ];
  const list = pagedList((cursor) => api('GET', '/filings', { query: { year, status, waiver, limit: 20, cursor } }),
    (item) => filingCard(item, year, { finance }), { testid: 'filing-queue', empty: '没有符合条件的单位' });
  return [...nav.filter(Boolean), list];
}

function filingCard(item, year, { finance }) {
  const org = item.organization;
  const f = item.filing;
  const path = `/buyer-organizations/${encodeURIComponent(org.id)}/quota-plans/${year}`;
  const card = h('article', { class: 'card', testid: 'filing-card', 'data-organization': org.id, 'data-name': org.name, 'data-status': f ? f.status : 'missing' },
    h('h4', {}, org.name, ' ', f ? badge(f.status, FILING_STATUS[f.status]) : badge('missing', '未填报')),
    h('p', { class: 'muted' }, `${org.department} · ${org.regionCode || '—'}`));
  if (!f) return card;
  card.append(h('p', {},
    `${CANTEEN_MODES[f.canteenMode]} · 预算 ${fen(f.canteenBudgetFen)} · 比例 ${bp(f.reservedRatioBp)}（最低 ${bp(f.minimumBp)}） · 预留 ${fen(f.reservedFen)} · 已完结 ${fen(f.completedFen)}`));
  if (f.waiverStatus) card.append(h('p', { testid: 'waiver', 'data-status': f.waiverStatus }, `豁免：${WAIVER_STATUS[f.waiverStatus]} · 理由：${f.waiverReason || ''}`));
  if (f.returnReason) card.append(h('p', { class: 'muted' }, `退回理由：${f.returnReason}`));
  const reviewable = finance ? !org.parentId : org.parentId === state.me.buyerOrganization?.id;
  const actions = h('div', { class: 'actions' });
  if (reviewable && f.status === 'submitted') {
    actions.append(actionButton('确认', () => api('POST', `${path}/confirmation`, { body: {} }), { testid: 'confirm-filing', done: () => { flash(`${org.name} 的填报已确认。`); reload(); } }));
  }
  if (reviewable && f.status !== 'returned') {
    actions.append(disclosure('退回', form({
      id: `return-${org.id}`, submit: '退回', testid: 'return-filing',
      fields: [{ name: 'reason', label: '退回理由', type: 'textarea', required: true }],
      onSubmit: async (v) => { await api('POST', `${path}/return`, { body: v }); flash(`${org.name} 的填报已退回。`); reload(); },
    })));
  }
  if (finance && f.waiverStatus === 'requested') {
    actions.append(actionButton('同意豁免', () => api('POST', `${path}/waiver`, { body: { approve: true, note: '同意' } }), { testid: 'approve-waiver', done: () => { flash('已同意豁免。'); reload(); } }));
    actions.append(disclosure('驳回豁免', form({
      id: `reject-waiver-${org.id}`, submit: '驳回', testid: 'reject-waiver',
      fields: [{ name: 'note', label: '驳回理由', type: 'textarea', required: true }],
      onSubmit: async (v) => { await api('POST', `${path}/waiver`, { body: { approve: false, note: v.note } }); flash('已驳回豁免，填报已退回。'); reload(); },
    })));
  }
  if (actions.childNodes.length) card.append(actions);
  return card;
}

const BULLETIN_GROUPS = [['region', '按地区'], ['department', '按主管部门'], ['organization', '按单位']];

async function bulletinView() {
  const year = Number(hashParam('year')) || quotaYear();
  const groupBy = hashParam('groupBy') || 'region';
  const query = { year, groupBy };
  const r = await api('GET', '/reports/bulletin', { query });
  return h('section', { class: 'report', testid: 'bulletin' },
    h('h3', {}, `${year} 年预留份额通报（${await regionName(r.regionCode)}）`),
    filterNav('#/finance/bulletin', 'groupBy', BULLETIN_GROUPS, groupBy, '分组'),
    barChart(r.rows.map((x) => ({ label: x.label, value: x.completionBp })), { title: '完成率排名', format: (v) => bp(v), testid: 'bulletin-chart', max: 10000 }),
    table(['排名', '名称', '单位数', '已填报', '未填报', '无订单', '未登录账号', '预留份额', '已完结', '完成率'],
      r.rows.map((x) => [String(x.rank), x.label, String(x.units), String(x.filed), String(x.notFiled), String(x.withoutOrders), String(x.inactiveAccounts), fen(x.reservedFen), fen(x.completedFen), bp(x.completionBp)]),
      { testid: 'bulletin-table', empty: '本地区暂无单位' }),
    h('p', {}, downloadLink('下载 CSV', () => api('GET', '/reports/bulletin', { query: { ...query, format: 'csv' }, blob: true }), `bulletin-${year}-${groupBy}.csv`)));
}
