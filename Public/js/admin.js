// Admin portal (平台管理): review queues, buyer organization verification, certificates
// (revocation), merchants (suspension), orders (recording a payment), reports with charts, quota
// plans, alerts, audit, 脱贫县 (add and correct), users.
import { api, fen, bp, fieldError, quotaYear, time, date, statusText, ROLES, COUNTY_LEVELS, forgetCounties, regionOptions } from './api.js';
import { h, form, facts, badge, tabs, table, section, pagedList, actionButton, disclosure, notice, barChart, downloadLink, filterNav, hashParam } from './ui.js';
import { go, flash } from './state.js';
import { applicationQueue, certificationQueue } from './county.js';
import { alertsView, salesReport, yearGroupForm, orderCard, paymentForm, orderFilters } from './shared.js';
import { countyOptions } from './catalog.js';

const reload = () => go(location.hash);

const TABS = [
  ['applications', '入驻审核'], ['certifications', '认定审核'], ['organizations', '采购单位'], ['certificates', '证书'],
  ['merchants', '供应商'], ['orders', '订单'], ['reports', '统计报表'], ['quota', '份额计划'], ['alerts', '预警'], ['audit', '审计'],
  ['counties', '脱贫县'], ['users', '账号'],
];

export async function adminPortal(view, tab) {
  if (!TABS.some(([k]) => k === tab)) tab = TABS[0][0];
  view.append(h('h2', {}, '平台管理'), tabs('admin', TABS, tab));
  const body = h('div', { class: 'tab-body', testid: `admin-${tab}` });
  view.append(body);
  const views = {
    applications: () => applicationQueue('admin', 'recommended'),
    certifications: () => certificationQueue('admin', 'county_approved'),
    organizations: organizationsTab, certificates: certificatesTab, merchants: merchantsTab, orders: ordersTab,
    reports: reportsTab, quota: quotaTab, alerts: (b) => alertsView(b), audit: auditTab, counties: countiesTab, users: usersTab,
  };
  await section(body, () => views[tab](body));
}

const param = hashParam;

async function organizationsTab() {
  const status = param('status', 'pending');
  const list = pagedList((cursor) => api('GET', '/buyer-organizations', { query: { status, limit: 20, cursor } }), (o) =>
    h('article', { class: 'card', testid: 'organization-card', 'data-name': o.name },
      h('h3', {}, o.name, ' ', h('span', { testid: 'organization-status' }, badge(o.status))),
      facts([['统一社会信用代码', o.creditCode], ['主管部门', o.department], ['食堂地址', o.canteenAddress],
        ['联系人', `${o.contactName} ${o.contactPhone}`], ['登记时间', time(o.createdAt)], o.verifiedAt ? ['审核时间', time(o.verifiedAt)] : null]),
      o.status === 'pending' ? actionButton('审核通过', () => api('POST', `/buyer-organizations/${encodeURIComponent(o.id)}/verification`),
        { testid: 'verify-organization', kind: 'primary', done: () => { flash(`${o.name} 已审核通过。`); reload(); } }) : null),
  { testid: 'organizations', empty: '没有待审核的采购单位' });
  await list.ready;
  return [filterNav('#/admin/organizations', 'status', [['pending', '待审核'], ['active', '已通过'], ['', '全部']], status), list];
}

async function certificatesTab() {
  const status = param('status', 'valid');
  const list = pagedList((cursor) => api('GET', '/certificates', { query: { status, limit: 20, cursor } }), (c) =>
    h('article', { class: 'card', testid: 'certificate-card', 'data-number': c.number, 'data-title': c.productTitle },
      h('h3', {}, h('a', { href: `#/certificate/${encodeURIComponent(c.number)}` }, c.number), ' ', badge(c.status)),
      facts([['产品', c.productTitle], ['供应商', c.merchantName], ['县代码', c.countyCode], ['签发', time(c.issuedAt)], ['到期', time(c.expiresAt)],
        c.revocationReason ? ['撤销原因', c.revocationReason] : null]),
      c.status === 'valid' ? disclosure('撤销证书', form({
        id: `revoke-${c.number}`, testid: 'revoke-form', submit: '确认撤销（商品将立即下架）', className: 'inline-form',
        fields: [{ name: 'reason', label: '撤销原因', required: true }],
        onSubmit: async (v) => {
          if (!v.reason) throw fieldError('reason', '请填写撤销原因');
          await api('POST', `/certificates/${encodeURIComponent(c.number)}/revocation`, { body: { reason: v.reason } });
          flash(`证书 ${c.number} 已撤销。`); reload();
        },
      }), { testid: 'revoke' }) : null),
  { testid: 'certificates', empty: '没有证书' });
  await list.ready;
  return [filterNav('#/admin/certificates', 'status', [['valid', '有效'], ['expired', '已过期'], ['revoked', '已撤销'], ['', '全部']], status),
    h('p', {}, downloadLink('下载帮扶产品目录 CSV', () => api('GET', '/certificates', { query: { status, format: 'csv' }, blob: true }), 'certificates.csv')), list];
}

async function merchantsTab() {
  const list = pagedList((cursor) => api('GET', '/merchants', { query: { limit: 20, cursor } }), (m) =>
    h('article', { class: 'card', testid: 'merchant-card', 'data-name': m.companyName },
      h('h3', {}, m.companyName, ' ', badge(m.status)),
      facts([['所在县', m.countyName], ['带动脱贫户数', String(m.householdsDriven)], ['入驻时间', time(m.createdAt)],
        m.suspensionReason ? ['暂停原因', m.suspensionReason] : null]),
      m.status === 'active' ? disclosure('暂停商户', form({
        id: `suspend-${m.id}`, submit: '确认暂停（商品将从目录隐藏）', className: 'inline-form',
        fields: [{ name: 'reason', label: '暂停原因', required: true }],
        onSubmit: async (v) => {
          if (!v.reason) throw fieldError('reason', '请填写暂停原因');
          await api('POST', `/merchants/${encodeURIComponent(m.id)}/suspension`, { body: { reason: v.reason } }); flash('已暂停。'); reload();
        },
      })) : actionButton('恢复', () => api('DELETE', `/merchants/${encodeURIComponent(m.id)}/suspension`), { done: reload })),
  { testid: 'merchants', empty: '暂无供应商' });
  await list.ready;
  return list;
}

// ---- orders: an admin may record the payment of an accepted order ----

async function ordersTab() {
  const status = param('status', '');
  const list = pagedList((cursor) => api('GET', '/orders', { query: { status, limit: 20, cursor } }),
    (o) => orderCard(o, o.status === 'accepted' ? [paymentForm(o, paid)] : [], { role: 'admin' }), { testid: 'orders', empty: '暂无订单' });
  await list.ready;
  return [filterNav('#/admin/orders', 'status', orderFilters('admin'), status, '订单状态'),
    h('p', { class: 'muted' }, '采购单位付款后，平台管理员可代为登记付款凭证；付款金额须等于应付金额（订单金额减已批准退款）。'), list];
}

function paid(o) {
  flash(`订单 ${o.id} 的付款已登记，订单已结算。`);
  reload();
}

async function reportsTab(body) {
  const sales = await salesReport(body, '#/admin/reports');
  const year = param('year', String(quotaYear()));
  const qGroup = param('quotaGroupBy', 'organization');
  const q = await api('GET', '/reports/quota', { query: { year, groupBy: qGroup } });
  const quota = h('section', { class: 'report', testid: 'quota-report' },
    h('h3', {}, `${year} 年预留份额完成率`),
    h('nav', { class: 'filters', 'aria-label': '分组' }, [['organization', '按单位'], ['department', '按主管部门']].map(([k, t]) =>
      h('a', { href: `#/admin/reports?year=${year}&quotaGroupBy=${k}`, class: k === qGroup ? 'current' : '' }, t))),
    barChart(q.rows.map((r) => ({ label: r.label, value: r.completionBp })), { title: '完成率（已完结 / 预留份额；满格为 100%）', format: bp, testid: 'quota-chart', max: 10000 }),
    table(['单位', '预留份额', '已完结', '完成率'], q.rows.map((r) => [r.label, fen(r.reservedFen), fen(r.completedFen), bp(r.completionBp)]), { empty: '本年度暂无计划' }),
    h('p', {}, downloadLink('下载 CSV', () => api('GET', '/reports/quota', { query: { year, groupBy: qGroup, format: 'csv' }, blob: true }), `quota-${year}.csv`)));
  return [sales, quota];
}

async function quotaTab() {
  const year = param('year', String(quotaYear()));
  const behind = param('behind', '');
  const list = pagedList((cursor) => api('GET', '/quota-plans', { query: { year, behind: behind || undefined, limit: 50, cursor } }),
    (p) => h('article', { class: 'card compact', testid: 'plan-row' },
      h('h3', {}, p.organizationName || p.organizationId, ' ', p.onTrack ? badge('active', '进度正常') : h('span', { class: 'badge status-rejected' }, '进度落后')),
      facts([['主管部门', p.department || '—'], ['预算', fen(p.canteenBudgetFen)], ['预留份额', fen(p.reservedFen)], ['已完结', fen(p.completedFen)],
        ['已下单未完结', fen(p.committedFen)], ['完成率', `${bp(p.completionBp)}（应达 ${bp(p.expectedBp)}）`], p.hasCanteen ? null : ['食堂', '无食堂']])),
    { testid: 'quota-plans', empty: '本年度暂无计划' });
  await list.ready;
  return [filterNav('#/admin/quota', 'behind', [['', '全部'], ['true', '进度落后']], behind),
    h('p', {}, downloadLink('下载 CSV', () => api('GET', '/quota-plans', { query: { year, behind: behind || undefined, format: 'csv' }, blob: true }), `quota-plans-${year}.csv`)), list];
}

async function auditTab() {
  const v = await api('GET', '/audit-events/verification');
  const events = pagedList((cursor) => api('GET', '/audit-events', { query: { limit: 50, cursor } }), (e) =>
    h('div', { class: 'audit-row' }, h('code', {}, `#${e.seq}`), ` ${time(e.at)} ${e.action} ${e.entityType}/${e.entityId.slice(0, 8)} `, h('code', { class: 'muted' }, e.hash.slice(0, 12))),
  { testid: 'audit-events', empty: '暂无审计记录' });
  await events.ready;
  return [
    h('section', { class: 'card', testid: 'audit-verification', 'data-ok': String(v.ok) },
      h('h3', {}, '审计日志哈希链校验'),
      v.ok ? notice(`✔ 校验通过：共 ${v.events} 条记录，哈希链完整。`, 'ok') : notice(`✘ 校验失败：第 ${v.firstBrokenSeq} 条记录被篡改或删除。`, 'error'),
      facts([['记录数', String(v.events)], ['链头哈希', h('code', {}, v.headHash)]])),
    h('h3', {}, '审计记录（最早在前）'), events,
  ];
}

// ---- 脱贫县: the reference list that merchants, products and county officers name ----

const LEVEL_OPTIONS = Object.entries(COUNTY_LEVELS);
const COUNTY_FIELDS = ['name', 'prefecture', 'province', 'level'];

async function countiesTab() {
  const list = await api('GET', '/counties');
  return [
    h('section', { class: 'card' }, h('h3', {}, '登记脱贫县'), countyForm()),
    h('h3', {}, `已登记的脱贫县（${list.length} 个）`),
    list.length ? h('div', { class: 'list', testid: 'counties' }, list.map(countyCard)) : h('p', { class: 'muted empty' }, '暂无脱贫县'),
  ];
}

function countyCard(c) {
  return h('article', { class: 'card compact', testid: 'county', 'data-code': c.code },
    h('h3', {}, c.name, ' ', h('code', {}, c.code)),
    facts([['所属地市', c.prefecture], ['所属省份', c.province], ['级别', COUNTY_LEVELS[c.level] || c.level]]),
    countyEdit(c));
}

function countyForm() {
  return form({
    id: 'county-form', submit: '登记',
    fields: [
      { name: 'code', label: '县代码', required: true, inputmode: 'numeric', hint: '6 位行政区划代码（GB/T 2260），登记后不能修改' },
      { name: 'name', label: '县名', required: true },
      { name: 'prefecture', label: '所属地市', required: true },
      { name: 'province', label: '所属省份', required: true },
      { name: 'level', label: '级别', type: 'select', options: LEVEL_OPTIONS, value: 'national' },
    ],
    onSubmit: async (v) => {
      const c = await api('POST', '/counties', { body: v });
      forgetCounties();
      flash(`已登记 ${c.name}（${c.code}）。`);
      reload();
    },
  });
}

/** Sends only the fields that differ from the county as listed. */
function countyEdit(c) {
  return disclosure('修改', form({
    id: `county-${c.code}`, testid: 'county-edit-form', submit: '保存', className: 'inline-form',
    fields: [
      { name: 'name', label: '县名', required: true, value: c.name },
      { name: 'prefecture', label: '所属地市', required: true, value: c.prefecture },
      { name: 'province', label: '所属省份', required: true, value: c.province },
      { name: 'level', label: '级别', type: 'select', options: LEVEL_OPTIONS, value: c.level },
    ],
    onSubmit: async (v) => {
      const changed = Object.fromEntries(COUNTY_FIELDS.filter((k) => v[k] !== c[k]).map((k) => [k, v[k]]));
      if (!Object.keys(changed).length) return '没有修改。';
      const saved = await api('PATCH', `/counties/${encodeURIComponent(c.code)}`, { body: changed });
      forgetCounties();
      flash(`已修改 ${saved.name}（${saved.code}）。`);
      reload();
    },
  }), { testid: 'county-edit' });
}

async function usersTab() {
  const countyOpts = await countyOptions();
  const regionOpts = await regionOptions();
  return h('section', { class: 'card' }, h('h3', {}, '创建县级审核、财政部门或管理员账号'),
    form({
      id: 'user-form', submit: '创建账号', reset: true,
      fields: [
        { name: 'role', label: '角色', type: 'select', options: [['county', ROLES.county], ['finance', ROLES.finance], ['admin', ROLES.admin]] },
        { name: 'username', label: '用户名', required: true, autocomplete: 'off' },
        { name: 'displayName', label: '显示名称', required: true },
        { name: 'password', label: '初始密码', type: 'password', required: true, autocomplete: 'new-password', hint: '至少 10 个字符' },
        { name: 'countyCode', label: '所辖县（县级审核必填）', type: 'select', options: [['', '—'], ...countyOpts] },
        { name: 'regionCode', label: '所辖地区（财政部门必填）', type: 'select', options: [['', '—'], ...regionOpts] },
      ],
      onSubmit: async (v) => {
        if (v.role === 'county' && !v.countyCode) throw fieldError('countyCode', '县级审核账号须选择所辖县');
        if (v.role === 'finance' && !v.regionCode) throw fieldError('regionCode', '财政部门账号须选择所辖地区');
        const u = await api('POST', '/users', { body: {
          username: v.username, password: v.password, role: v.role, displayName: v.displayName,
          countyCode: v.role === 'county' ? v.countyCode : null, regionCode: v.role === 'finance' ? v.regionCode : null } });
        return `已创建账号 ${u.username}（${ROLES[u.role]}）。`;
      },
    }));
}
