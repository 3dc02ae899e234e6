// Merchant portal (供应商): onboarding application with documents, products (create, edit,
// stock, images, listing), 帮扶产品 certification, orders to confirm/reject/ship, refunds, alerts.
import { api, fen, fenToYuanInput, parseYuan, parseInt10, fieldError, LABELS, DOC_KINDS, EXTENSIONS, INVOICE_KINDS, todayInChina, statusText, time, date, countyName } from './api.js';
import { h, form, facts, badge, tabs, table, section, pagedList, actionButton, disclosure, notice, downloadLink, filterNav, hashParam } from './ui.js';
import { state, go, flash, loadMe } from './state.js';
import { categoryOptions, countyOptions } from './catalog.js';
import { orderCard, alertsView, reviewsTable, orderFilters } from './shared.js';

const reload = () => go(location.hash);

export async function merchantPortal(view, tab) {
  const merchant = state.me.merchant;
  const list = merchant
    ? [['products', '商品管理'], ['certification', '产品认定'], ['orders', '订单'], ['refunds', '退款'], ['application', '入驻资料'], ['alerts', '预警']]
    : [['application', '入驻申请']];
  if (!list.some(([k]) => k === tab)) tab = list[0][0];
  view.append(...[h('h2', {}, '供应商工作台'),
    merchant ? h('p', { class: 'muted', testid: 'merchant-summary' }, `${merchant.companyName} · ${merchant.countyName} · `, badge(merchant.status)) : null,
    merchant?.status === 'suspended' ? notice(`商户已暂停：${merchant.suspensionReason || ''}。商品已下架，进行中的订单仍可履行。`, 'error') : null,
    tabs('merchant', list, tab)].filter(Boolean));
  const body = h('div', { class: 'tab-body', testid: `merchant-${tab}` });
  view.append(body);
  const views = { application: applicationTab, products: productsTab, certification: certificationTab, orders: ordersTab, refunds: refundsTab, alerts: (b) => alertsView(b, { kinds: ['slow_moving', 'shipment_overdue', 'payment_overdue', 'certificate_expiring', 'document_expiring', 'price_outlier', 'price_jump'] }) };
  await section(body, () => views[tab](body));
}

// ---- onboarding ----

function applicationFields(a, countyOpts) {
  return [
    { name: 'companyName', label: '企业/合作社名称', required: true, value: a?.companyName },
    { name: 'creditCode', label: '统一社会信用代码', required: true, value: a?.creditCode, hint: '18 位，含校验码' },
    { name: 'legalRepresentative', label: '法定代表人', required: true, value: a?.legalRepresentative },
    { name: 'contactName', label: '联系人', required: true, value: a?.contactName },
    { name: 'contactPhone', label: '联系电话', required: true, value: a?.contactPhone, inputmode: 'tel', hint: '手机号或带区号的固定电话，如 0451-12345678' },
    { name: 'countyCode', label: '所在脱贫县', type: 'select', required: true, options: [['', '请选择'], ...countyOpts], value: a?.countyCode },
    { name: 'address', label: '地址', required: true, value: a?.address },
    { name: 'foodLicenseNumber', label: '食品经营许可证号（可选）', value: a?.foodLicenseNumber },
    { name: 'bankName', label: '开户银行', required: true, value: a?.bankName },
    { name: 'bankAccount', label: '银行账号', required: true, value: a?.bankAccount, inputmode: 'numeric' },
    { name: 'householdsDriven', label: '带动脱贫户数', type: 'number', required: true, value: a ? String(a.householdsDriven) : '0', min: 0 },
  ];
}

function applicationBody(v) {
  return {
    companyName: v.companyName, creditCode: v.creditCode.toUpperCase(), legalRepresentative: v.legalRepresentative,
    contactName: v.contactName, contactPhone: v.contactPhone, countyCode: v.countyCode, address: v.address,
    foodLicenseNumber: v.foodLicenseNumber || null, bankName: v.bankName, bankAccount: v.bankAccount,
    householdsDriven: parseInt10(v.householdsDriven, 'householdsDriven', { min: 0, max: 10000000 }),
  };
}

async function applicationTab() {
  const countyOpts = await countyOptions();
  const { items } = await api('GET', '/merchant-applications', { query: { limit: 5 } });
  if (!items.length) {
    return [h('p', {}, '请如实填写入驻信息。提交后由所在县乡村振兴局推荐、平台审核通过后即可发布商品。'),
      form({
        id: 'application-form', submit: '提交入驻申请', fields: applicationFields(null, countyOpts),
        onSubmit: async (v) => {
          await api('POST', '/merchant-applications', { body: applicationBody(v) });
          flash('入驻申请已提交，请上传营业执照等资质文件。');
          reload();
        },
      })];
  }
  const a = await api('GET', `/merchant-applications/${encodeURIComponent(items[0].id)}`);
  const out = [
    h('section', { class: 'card', testid: 'application', 'data-application-id': a.id },
      h('h3', {}, '入驻申请 ', h('span', { testid: 'application-status', 'data-status': a.status }, badge(a.status))),
      a.status === 'approved' && !state.me.merchant ? h('p', {}, actionButton('进入供应商工作台', async () => { await loadMe(); go('#/merchant/products'); }, { testid: 'enter-merchant' })) : null,
      facts([
        ['企业名称', a.companyName], ['统一社会信用代码', a.creditCode], ['所在县', await countyName(a.countyCode)],
        ['联系人', `${a.contactName} ${a.contactPhone}`], ['地址', a.address], ['带动脱贫户数', String(a.householdsDriven)],
        ['提交时间', time(a.createdAt)],
      ]),
      a.warnings?.length ? notice('提示：' + a.warnings.join('；'), 'warn') : null,
      h('h4', {}, '资质文件'),
      table(['类型', '格式', '大小', 'SHA-256', '到期日', ''], (a.documents || []).map((d) => [
        DOC_KINDS[d.kind] || d.kind, d.contentType, `${Math.ceil(d.size / 1024)} KB`, h('code', {}, d.sha256.slice(0, 16) + '…'), d.expiresOn || '—',
        downloadLink('下载', () => api('GET', `/merchant-applications/${encodeURIComponent(a.id)}/documents/${encodeURIComponent(d.id)}`, { blob: true }), `${d.kind}-${d.id}${EXTENSIONS[d.contentType] || ''}`),
      ]), { testid: 'documents', empty: '尚未上传资质文件' }),
      documentForm(a.id),
      h('h4', {}, '审核记录'),
      reviewsTable(a.reviews || [])),
  ];
  if (a.status === 'rejected') {
    out.push(h('section', { class: 'card' }, h('h3', {}, '修改并重新提交'),
      form({
        id: 'application-edit', submit: '重新提交', fields: applicationFields(a, countyOpts),
        onSubmit: async (v) => {
          await api('PUT', `/merchant-applications/${encodeURIComponent(a.id)}`, { body: applicationBody(v) });
          flash('申请已重新提交。');
          reload();
        },
      })));
  }
  return out;
}

const MIME = { pdf: 'application/pdf', jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png' };
export function fileType(file) {
  return file.type || MIME[(file.name.split('.').pop() || '').toLowerCase()] || 'application/octet-stream';
}

function documentForm(applicationId) {
  return form({
    id: 'document-form', submit: '上传文件', className: 'upload-form',
    fields: [
      { name: 'kind', label: '文件类型', type: 'select', options: Object.entries(DOC_KINDS) },
      { name: 'expiresOn', label: '到期日（可选）', type: 'date' },
      { name: 'file', label: '文件（PDF、JPEG 或 PNG，10 MB 以内）', type: 'file', accept: '.pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png', required: true },
    ],
    onSubmit: async (v) => {
      if (!v.file) throw fieldError('file', '请选择文件');
      if (!EXTENSIONS[fileType(v.file)]) throw fieldError('file', '只能上传 PDF、JPEG 或 PNG 文件');
      if (v.file.size > 10 * 1024 * 1024) throw fieldError('file', '文件不能超过 10 MB');
      await api('POST', `/merchant-applications/${encodeURIComponent(applicationId)}/documents`, {
        query: { kind: v.kind, expiresOn: v.expiresOn }, raw: v.file, contentType: fileType(v.file),
      });
      flash('文件已上传。');
      reload();
    },
  });
}

// ---- products ----

async function productFields(p, { create }) {
  const [catOpts, countyOpts] = await Promise.all([categoryOptions(), countyOptions()]);
  return [
    { name: 'title', label: '商品名称', required: true, value: p?.title },
    { name: 'categoryId', label: '品类', type: 'select', required: true, options: [['', '请选择'], ...catOpts], value: p?.categoryId },
    { name: 'specification', label: '规格', required: true, value: p?.specification, placeholder: '如 500g/袋' },
    { name: 'unit', label: '单位', required: true, value: p?.unit, placeholder: '如 袋、箱、kg' },
    { name: 'netContentGrams', label: '净含量（克或毫升，选填）', type: 'number', min: 1, value: p?.netContentGrams ?? '', placeholder: '如 5000（5kg/袋）' },
    { name: 'priceFen', label: '单价（元）', type: 'money', required: true, value: p ? fenToYuanInput(p.priceFen) : '' },
    create ? { name: 'stock', label: '初始库存', type: 'number', required: true, value: '0', min: 0 } : null,
    { name: 'originCountyCode', label: '产地（脱贫县）', type: 'select', required: true, options: [['', '请选择'], ...countyOpts], value: p?.originCountyCode || state.me.merchant?.countyCode },
    { name: 'labels', label: '认证标识', type: 'checkboxes', options: Object.entries(LABELS), value: p?.labels || [] },
    { name: 'description', label: '商品描述', type: 'textarea', required: true, value: p?.description },
  ].filter(Boolean);
}

function productBody(v, create) {
  const body = {
    title: v.title, categoryId: v.categoryId, specification: v.specification, unit: v.unit,
    priceFen: parseYuan(v.priceFen, 'priceFen'), originCountyCode: v.originCountyCode, labels: v.labels, description: v.description,
  };
  if (create) body.stock = parseInt10(v.stock, 'stock', { min: 0, max: 1000000000 });
  // Blank keeps it unstated (a stated net content changes but is not cleared).
  if (String(v.netContentGrams ?? '').trim() !== '') body.netContentGrams = parseInt10(v.netContentGrams, 'netContentGrams', { min: 1, max: 100000000 });
  return body;
}

async function productsTab() {
  const createForm = form({
    id: 'product-create', submit: '保存为草稿', fields: await productFields(null, { create: true }),
    onSubmit: async (v) => {
      await api('POST', '/products', { body: productBody(v, true) });
      flash('商品已创建（草稿）。申请帮扶产品认定并取得证书后即可上架。');
      reload();
    },
  });
  const list = pagedList((cursor) => api('GET', '/merchants/me/products', { query: { limit: 20, cursor } }), productRow, { testid: 'my-products', empty: '还没有商品' });
  await list.ready;
  return [disclosure('＋ 新建商品', createForm, { testid: 'new-product' }), list];
}

function productRow(p) {
  const cert = p.certificate;
  const actions = h('div', { class: 'actions' });
  if (p.status !== 'listed') {
    actions.append(actionButton('上架', () => api('PUT', `/products/${encodeURIComponent(p.id)}/listing`), { testid: 'list-product', kind: 'primary', done: reload }));
  } else {
    actions.append(actionButton('下架', () => api('DELETE', `/products/${encodeURIComponent(p.id)}/listing`), { testid: 'delist-product', done: reload }));
  }
  const card = h('article', { class: 'card', testid: 'my-product', 'data-product-id': p.id, 'data-title': p.title },
    h('h3', {}, h('a', { href: `#/product/${encodeURIComponent(p.id)}` }, p.title), ' ', h('span', { testid: 'product-status' }, badge(p.status)),
      p.status === 'listed' && !p.onSale ? h('span', { class: 'badge status-rejected' }, '不可售') : null),
    facts([
      ['单价', fen(p.priceFen)], ['库存', `${p.stock} ${p.unit}`], ['规格', p.specification], ['销量', String(p.sales)],
      ['帮扶产品证书', cert ? h('a', { href: `#/certificate/${encodeURIComponent(cert.number)}` }, `${cert.number}（${statusText(cert.status)}，至 ${date(cert.expiresAt)}）`) : '无'],
    ]),
    actions);
  const editBox = h('div', {});
  const editDisclosure = disclosure('编辑', editBox, { testid: 'edit-product' });
  editDisclosure.addEventListener('toggle', async () => {
    if (!editDisclosure.open || editBox.firstChild) return;
    editBox.append(form({
      id: `product-edit-${p.id}`, testid: 'product-edit', submit: '保存修改', fields: await productFields(p, { create: false }),
      onSubmit: async (v) => {
        await api('PATCH', `/products/${encodeURIComponent(p.id)}`, { body: productBody(v, false) });
        flash('商品已更新。');
        reload();
      },
    }));
  });
  card.append(
    editDisclosure,
    disclosure('调整库存', form({
      id: `stock-${p.id}`, testid: 'stock-form', submit: '调整', className: 'inline-form',
      fields: [
        { name: 'delta', label: '增减数量（减少填负数）', type: 'number', required: true },
        { name: 'reason', label: '原因', required: true, placeholder: '如 新收购入库' },
      ],
      onSubmit: async (v) => {
        const delta = parseInt10(v.delta, 'delta', { min: -1000000000, max: 1000000000 });
        if (delta === 0) throw fieldError('delta', '数量不能为 0');
        await api('POST', `/products/${encodeURIComponent(p.id)}/stock-adjustments`, { body: { delta, reason: v.reason } });
        flash('库存已调整。');
        reload();
      },
    }), { testid: 'stock-adjust' }),
    disclosure('上传图片', form({
      id: `image-${p.id}`, testid: 'image-form', submit: '上传', className: 'inline-form',
      fields: [{ name: 'file', label: '图片（JPEG 或 PNG，5 MB 以内）', type: 'file', accept: '.jpg,.jpeg,.png,image/jpeg,image/png', required: true }],
      onSubmit: async (v) => {
        if (!v.file) throw fieldError('file', '请选择图片');
        if (!['image/jpeg', 'image/png'].includes(fileType(v.file))) throw fieldError('file', '只能上传 JPEG 或 PNG 图片');
        if (v.file.size > 5 * 1024 * 1024) throw fieldError('file', '图片不能超过 5 MB');
        await api('POST', `/products/${encodeURIComponent(p.id)}/images`, { raw: v.file, contentType: fileType(v.file) });
        return '图片已上传。';
      },
    }), { testid: 'image-upload' }));
  if (!cert || cert.status !== 'valid') card.append(disclosure('申请帮扶产品认定', certificationForm(p.id), { testid: 'apply-certification' }));
  return card;
}

function certificationForm(productId, productOpts) {
  return form({
    id: `cert-apply-${productId || 'any'}`, testid: 'certification-form', submit: '提交认定申请',
    fields: [
      productOpts ? { name: 'productId', label: '商品', type: 'select', required: true, options: [['', '请选择'], ...productOpts] } : { name: 'productId', type: 'hidden', value: productId },
      { name: 'householdsDriven', label: '带动脱贫户数', type: 'number', required: true, value: String(state.me.merchant?.householdsDriven ?? 0), min: 0 },
      { name: 'description', label: '帮扶情况说明', type: 'textarea', required: true, placeholder: '如：收购本县脱贫户种植的…' },
    ],
    onSubmit: async (v) => {
      if (!v.productId) throw fieldError('productId', '请选择商品');
      await api('POST', '/certification-applications', {
        body: { productId: v.productId, householdsDriven: parseInt10(v.householdsDriven, 'householdsDriven', { min: 0, max: 10000000 }), description: v.description },
      });
      flash('认定申请已提交，等待产地县审核。');
      go('#/merchant/certification');
    },
  });
}

async function certificationTab() {
  const { items: products } = await api('GET', '/merchants/me/products', { query: { limit: 100 } });
  const opts = products.filter((p) => !p.certificate || p.certificate.status !== 'valid').map((p) => [p.id, p.title]);
  const list = pagedList((cursor) => api('GET', '/certification-applications', { query: { limit: 20, cursor } }), (c) =>
    h('article', { class: 'card', testid: 'my-certification', 'data-title': c.productTitle },
      h('h3', {}, c.productTitle, ' ', h('span', { testid: 'certification-status' }, badge(c.status))),
      facts([['提交时间', time(c.createdAt)], ['带动户数', String(c.householdsDriven)],
        ['证书', c.certificateNumber ? h('a', { href: `#/certificate/${encodeURIComponent(c.certificateNumber)}` }, c.certificateNumber) : '—']]),
      historyDisclosure(`/certification-applications/${encodeURIComponent(c.id)}`)), { testid: 'my-certifications', empty: '还没有认定申请' });
  await list.ready;
  return [opts.length ? disclosure('＋ 申请帮扶产品认定', certificationForm(null, opts), { testid: 'new-certification' }) : null, list];
}

export function historyDisclosure(path) {
  const box = h('div', {});
  const d = disclosure('审核记录', box);
  d.addEventListener('toggle', () => {
    if (d.open && !box.firstChild) section(box, async () => reviewsTable((await api('GET', path)).reviews || []));
  });
  return d;
}

// ---- orders and refunds ----

async function ordersTab(body) {
  const status = hashParam('status');
  const invoice = hashParam('invoice');
  const filter = filterNav('#/merchant/orders', 'status', orderFilters('merchant'), status, '订单状态');
  // The orders that have shipped and wait for their invoice (发票).
  const invoices = filterNav('#/merchant/orders', 'invoice', [['', '全部订单'], ['missing', '待开发票']], invoice, '发票');
  const list = pagedList((cursor) => api('GET', '/orders', { query: { status, invoice, limit: 20, cursor } }),
    (o) => orderCard(o, merchantActions(o), { role: 'merchant', onChange: reload }), { testid: 'orders', empty: '暂无订单' });
  await list.ready;
  return [filter, invoices, list];
}

/** Records the invoice of a shipped order for what is owed, optionally with its PDF. */
function invoiceForm(o) {
  const id = encodeURIComponent(o.id);
  return form({
    id: `invoice-${o.id}`, testid: 'invoice-form', submit: '登记发票', className: 'inline-form',
    fields: [
      { name: 'number', label: '发票号码', required: true, hint: '8 位纸质发票号码或 20 位数电发票号码' },
      { name: 'kind', label: '发票种类', type: 'select', options: Object.entries(INVOICE_KINDS), value: 'electronic' },
      { name: 'issuedOn', label: '开票日期', type: 'date', required: true, value: todayInChina() },
      { name: 'amountFen', label: '发票金额（元）', type: 'money', value: fenToYuanInput(o.owedFen), required: true, hint: `须等于应付金额 ${fen(o.owedFen)}` },
      { name: 'file', label: '发票 PDF（可选，5 MB 以内）', type: 'file', accept: '.pdf,application/pdf' },
    ],
    onSubmit: async (v) => {
      const amountFen = parseYuan(v.amountFen, 'amountFen', { allowZero: o.owedFen === 0 });
      if (v.file && v.file.size > 5 * 1024 * 1024) throw fieldError('file', '文件不能超过 5 MB');
      await api('PUT', `/orders/${id}/invoice`, { body: { number: (v.number || '').trim(), kind: v.kind, issuedOn: v.issuedOn, amountFen } });
      // The invoice stands even if its file is refused: the card then offers the file alone.
      try {
        if (v.file) await api('POST', `/orders/${id}/invoice/file`, { raw: v.file, contentType: 'application/pdf' });
        flash('发票已登记。');
      } catch (e) {
        flash(`发票已登记，但 PDF 未上传：${e.detail || e.message}`);
      }
      reload();
    },
  });
}

/** Attaches the PDF to the current invoice when it has none yet. */
function invoiceFileForm(o) {
  return form({
    id: `invoice-file-${o.id}`, testid: 'invoice-file-form', submit: '上传发票 PDF', className: 'inline-form',
    fields: [{ name: 'file', label: '发票 PDF（5 MB 以内）', type: 'file', accept: '.pdf,application/pdf', required: true }],
    onSubmit: async (v) => {
      if (!v.file) throw fieldError('file', '请选择文件');
      if (v.file.size > 5 * 1024 * 1024) throw fieldError('file', '文件不能超过 5 MB');
      await api('POST', `/orders/${encodeURIComponent(o.id)}/invoice/file`, { raw: v.file, contentType: 'application/pdf' });
      flash('发票 PDF 已上传。');
      reload();
    },
  });
}

function merchantActions(o) {
  const id = encodeURIComponent(o.id);
  const out = [];
  if (o.status === 'placed') {
    out.push(actionButton('确认接单', () => api('POST', `/orders/${id}/confirm`), { testid: 'confirm-order', kind: 'primary', done: reload }));
    out.push(disclosure('拒单', form({
      id: `reject-${o.id}`, testid: 'reject-order', submit: '确认拒单', className: 'inline-form',
      fields: [{ name: 'reason', label: '拒单原因', required: true }],
      onSubmit: async (v) => { await api('POST', `/orders/${id}/rejection`, { body: { reason: v.reason } }); reload(); },
    })));
  }
  if (o.status === 'confirmed') {
    out.push(form({
      id: `ship-${o.id}`, testid: 'ship-form', submit: '确认发货', className: 'inline-form',
      fields: [
        { name: 'carrier', label: '承运商', required: true, placeholder: '如 中国邮政' },
        { name: 'trackingNumber', label: '运单号', required: true },
      ],
      onSubmit: async (v) => { await api('POST', `/orders/${id}/shipment`, { body: v }); flash('已发货。'); reload(); },
    }));
  }
  if (['shipped', 'accepted', 'settled'].includes(o.status) && o.invoice?.status !== 'current') out.push(invoiceForm(o));
  if (o.invoice?.status === 'current' && !o.invoice.fileId) out.push(invoiceFileForm(o));
  if (o.rating && !o.rating.reply) {
    out.push(disclosure('回复评价', form({
      id: `reply-${o.id}`, testid: 'rating-reply-form', submit: '提交回复', className: 'inline-form',
      fields: [{ name: 'text', label: '回复（500 字以内，只能回复一次）', type: 'textarea', required: true }],
      onSubmit: async (v) => { await api('POST', `/orders/${id}/rating/reply`, { body: { text: v.text } }); flash('已回复。'); reload(); },
    })));
  }
  return out;
}

const REFUND_FILTERS = [['requested', '待处理'], ['', '全部'], ['approved', '已同意'], ['rejected', '已拒绝']];

// The refunds of this merchant's orders, from GET /refunds (pending ones first by default).
async function refundsTab() {
  const status = hashParam('status', 'requested');
  const filter = filterNav('#/merchant/refunds', 'status', REFUND_FILTERS, status, '退款状态');
  const list = pagedList((cursor) => api('GET', '/refunds', { query: { status, limit: 20, cursor } }),
    (q) => refundCard({ ...q.refund, order: q.order }), { testid: 'refunds', empty: '暂无退款申请' });
  await list.ready;
  return [filter, list];
}

export function refundCard(r) {
  const id = encodeURIComponent(r.id);
  return h('article', { class: 'card', testid: 'refund', 'data-refund-id': r.id },
    h('h3', {}, `退款 ${fen(r.amountFen)} `, badge(r.status)),
    facts([['订单', `${r.order.items.map((i) => i.title).join('、')}（订单金额 ${fen(r.order.totalFen)}）`], ['原因', r.reason], ['申请时间', time(r.createdAt)],
      r.decisionNote ? ['处理说明', r.decisionNote] : null]),
    r.status === 'requested' ? form({
      id: `refund-${r.id}`, testid: 'refund-decision', submit: '同意退款', className: 'inline-form',
      fields: [{ name: 'note', label: '处理说明（可选）' }],
      onSubmit: async (v) => { await api('POST', `/refunds/${id}/approval`, { body: { note: v.note || undefined } }); flash('已同意退款。'); reload(); },
    }) : null,
    r.status === 'requested' ? disclosure('拒绝退款', form({
      id: `refund-reject-${r.id}`, testid: 'refund-reject', submit: '拒绝', className: 'inline-form',
      fields: [{ name: 'note', label: '拒绝理由', required: true }],
      onSubmit: async (v) => {
        if (!v.note) throw fieldError('note', '请填写拒绝理由');
        await api('POST', `/refunds/${id}/rejection`, { body: { note: v.note } }); flash('已拒绝退款。'); reload();
      },
    })) : null);
}
