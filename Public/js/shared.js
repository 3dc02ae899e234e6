// Pieces used by several portals: order cards, the payment form, review history, alerts, the sales report.
import { api, fen, fenToYuanInput, parseYuan, fieldError, time, date, statusText, ALERT_KINDS, ROLES, quotaYear, INVOICE_KINDS } from './api.js';
import { h, facts, badge, table, section, disclosure, barChart, form, downloadLink, hashParam, filterNav } from './ui.js';

/** The order status filters; a buyer's shipped order waits for its acceptance (验收). */
export function orderFilters(role) {
  return [['', '全部'], ['placed', '待确认'], ['confirmed', '待发货'], ['shipped', role === 'buyer' ? '待验收' : '已发货'],
    ['accepted', '待付款'], ['settled', '已结算'], ['rejected', '已拒单'], ['cancelled', '已取消']];
}

export function reviewsTable(reviews) {
  return table(['时间', '操作人', '步骤', '说明'], reviews.map((r) => [
    time(r.at), ROLES[r.actorRole] || r.actorRole,
    `${r.fromStatus ? statusText(r.fromStatus) + ' → ' : ''}${statusText(r.toStatus)}`, r.note || '—',
  ]), { testid: 'reviews', empty: '暂无记录' });
}

export function orderCard(o, actions = [], { role } = {}) {
  const overdue = ['placed', 'confirmed'].includes(o.status) && new Date(o.shipBy) < new Date();
  const detail = h('div', {});
  const more = disclosure('订单记录与退款', detail);
  more.addEventListener('toggle', () => {
    if (!more.open || detail.firstChild) return;
    section(detail, async () => {
      const d = await api('GET', `/orders/${encodeURIComponent(o.id)}`);
      return [
        h('h4', {}, '订单记录'),
        reviewsTable(d.events || []),
        h('h4', {}, '退款'),
        table(['申请时间', '金额', '原因', '状态', '处理说明'], (d.refunds || []).map((r) => [time(r.createdAt), fen(r.amountFen), r.reason, statusText(r.status), r.decisionNote || '—']), { empty: '无退款' }),
      ];
    });
  });
  return h('article', { class: 'card order', testid: 'order', 'data-order-id': o.id, 'data-status': o.status },
    h('h3', {}, '订单 ', h('span', { testid: 'order-status' }, badge(o.status, o.status === 'rejected' ? '已拒单' : null)), overdue ? h('span', { class: 'badge status-rejected' }, '发货逾期') : null),
    table(['商品', '单价', '数量', '金额', '证书'], o.items.map((i) => [i.title, fen(i.unitPriceFen), String(i.quantity), fen(i.amountFen), i.certificateNumber]), { testid: 'order-items' }),
    facts([
      ['订单号', h('code', {}, o.id)],
      ['下单时间', time(o.createdAt)],
      ['订单金额', h('strong', { testid: 'order-total', 'data-fen': o.totalFen }, fen(o.totalFen))],
      o.refundedFen ? ['已退款', fen(o.refundedFen)] : null,
      ['应付金额', h('span', { testid: 'order-owed', 'data-fen': o.owedFen }, fen(o.owedFen))],
      ['最晚发货', date(o.shipBy)],
      o.deliveryAddress ? ['收货地址', o.deliveryAddress] : null,
      o.note ? ['备注', o.note] : null,
      o.carrier ? ['物流', `${o.carrier} ${o.trackingNumber || ''}`] : null,
      o.paymentReference ? ['付款凭证号', o.paymentReference] : null,
      invoiceFact(o),
      o.rating ? ['评价', h('span', { testid: 'order-rating' },
        `质量 ${o.rating.quality} · 配送 ${o.rating.delivery} · 服务 ${o.rating.service}`,
        o.rating.comment ? `：${o.rating.comment}` : '', o.rating.reply ? `（商家回复：${o.rating.reply}）` : '')] : null,
      role === 'buyer' ? null : ['采购单位', o.buyerOrganizationName || o.buyerOrganizationId],
    ]),
    actions.length ? h('div', { class: 'actions' }, actions) : null,
    more);
}

/** Five stars for an average from 1 to 5 (rounded to the whole star), as text. */
export function stars(average) {
  const full = Math.round(average);
  return '★'.repeat(full) + '☆'.repeat(Math.max(0, 5 - full));
}

/** The order's invoice (发票) as a fact line: kind, number, date, amount, its PDF; or that it is awaited. */
function invoiceFact(o) {
  const i = o.invoice;
  if (!i) return ['shipped', 'accepted', 'settled'].includes(o.status) ? ['发票', h('span', { testid: 'order-invoice', 'data-status': 'missing' }, '待商家开具')] : null;
  return ['发票', h('span', { testid: 'order-invoice', 'data-status': i.status },
    `${INVOICE_KINDS[i.kind] || i.kind} ${i.number}，${i.issuedOn}，${fen(i.amountFen)}`,
    i.status === 'superseded' ? '（退款后已作废，待商家重开）' : '',
    i.fileId ? h('span', { testid: 'invoice-file' }, ' ', downloadLink('下载 PDF',
      () => api('GET', `/orders/${encodeURIComponent(o.id)}/invoice/file`, { blob: true }), `invoice-${i.number}.pdf`)) : null)];
}

/**
 * Records the payment of an accepted order (its buyer or an admin): the amount is prefilled with
 * what is owed (total less approved refunds); the server refuses any other amount beside it.
 */
export function paymentForm(o, done) {
  return form({
    id: `pay-${o.id}`, testid: 'pay-form', submit: '登记付款', className: 'inline-form',
    fields: [
      { name: 'amountFen', label: '付款金额（元）', type: 'money', value: fenToYuanInput(o.owedFen), required: true, hint: `应付 ${fen(o.owedFen)}（订单金额减已批准退款）` },
      { name: 'reference', label: '付款凭证号', required: true, placeholder: '如 国库集中支付凭证号',
        hint: o.invoice?.status === 'current' ? `凭发票 ${o.invoice.number} 付款` : '商家尚未开具有效发票：预算单位凭发票付款，付款将被拒绝' },
    ],
    onSubmit: async (v) => {
      const amountFen = parseYuan(v.amountFen, 'amountFen', { allowZero: o.owedFen === 0 }); // 0 once fully refunded
      if (!v.reference) throw fieldError('reference', '请填写付款凭证号');
      const paid = await api('POST', `/orders/${encodeURIComponent(o.id)}/payment`, { body: { reference: v.reference, amountFen } });
      await done(paid);
    },
  });
}

export async function alertsView(body, { kinds = Object.keys(ALERT_KINDS) } = {}) {
  const kind = hashParam('kind');
  const base = location.hash.split('?')[0];
  const r = await api('GET', '/reports/alerts', { query: { kind, limit: 500 } });
  return [
    filterNav(base, 'kind', [['', '全部'], ...kinds.map((k) => [k, ALERT_KINDS[k]])], kind, '预警类型'),
    table(['类型', '对象', '说明', '起始'], r.items.map((a) => [
      h('span', { class: `badge alert-${a.kind}` }, ALERT_KINDS[a.kind] || a.kind),
      a.subjectType === 'product' ? h('a', { href: `#/product/${encodeURIComponent(a.subjectId)}` }, '商品') : `${a.subjectType}`,
      a.detail, date(a.since),
    ]), { testid: 'alerts', empty: '当前没有预警' }),
  ];
}

const GROUPS = [['county', '按县'], ['category', '按品类'], ['merchant', '按供应商'], ['month', '按月份']];

export async function salesReport(body, base) {
  const year = hashParam('year') || String(quotaYear());
  const groupBy = hashParam('groupBy') || 'county';
  const r = await api('GET', '/reports/sales', { query: { year, groupBy } });
  const rows = r.rows.map((x) => ({ label: x.label, value: x.amountFen }));
  const total = r.rows.reduce((n, x) => n + x.amountFen, 0);
  return h('section', { class: 'report', testid: 'sales-report' },
    h('h3', {}, `${year} 年帮扶产品销售额（已结算，扣除退款）`),
    yearGroupForm('sales-filter', base, year, groupBy, GROUPS),
    h('p', {}, '合计：', h('strong', { testid: 'sales-total', 'data-fen': total }, fen(total))),
    barChart(rows, { title: `销售额${GROUPS.find(([k]) => k === groupBy)?.[1] || ''}`, format: fen, testid: 'sales-chart' }),
    r.rows.length ? table(['项目', '订单数', '金额'], r.rows.map((x) => [x.label, String(x.orders), fen(x.amountFen)])) : null,
    h('p', {}, downloadLink('下载 CSV', () => api('GET', '/reports/sales', { query: { year, groupBy, format: 'csv' }, blob: true }), `sales-${year}-${groupBy}.csv`)));
}

export function yearGroupForm(id, base, year, groupBy, groups) {
  const y = quotaYear();
  return form({
    id, submit: '查看', className: 'inline-form',
    fields: [
      { name: 'year', label: '年度', type: 'select', options: [y, y - 1, y - 2].map((v) => [String(v), `${v} 年`]), value: year },
      { name: 'groupBy', label: '分组', type: 'select', options: groups, value: groupBy },
    ],
    onSubmit: async (v) => { location.hash = `${base}?year=${v.year}&groupBy=${v.groupBy}`; },
  });
}
