// County portal (县乡村振兴局): first-level review of its county's merchant applications and
// certification applications, its county's sales report and alerts. Review cards are shared
// with the admin portal.
import { api, fieldError, DOC_KINDS, EXTENSIONS, time, countyName, statusText } from './api.js';
import { h, form, facts, badge, tabs, table, section, pagedList, disclosure, notice, downloadLink, filterNav, hashParam } from './ui.js';
import { state, go, flash } from './state.js';
import { reviewsTable, alertsView, salesReport } from './shared.js';

const reload = () => go(location.hash);

export async function countyPortal(view, tab) {
  const list = [['applications', '入驻审核'], ['certifications', '产品认定审核'], ['reports', '销售报表'], ['alerts', '预警']];
  if (!list.some(([k]) => k === tab)) tab = list[0][0];
  view.append(h('h2', {}, '县级审核工作台'),
    h('p', { class: 'muted', testid: 'county-summary' }, `${state.me.user.displayName} · ${await countyName(state.me.countyCode)}（${state.me.countyCode}）`),
    tabs('county', list, tab));
  const body = h('div', { class: 'tab-body', testid: `county-${tab}` });
  view.append(body);
  const views = {
    applications: () => applicationQueue('county', 'submitted'),
    certifications: () => certificationQueue('county', 'submitted'),
    reports: (b) => salesReport(b, '#/county/reports'),
    alerts: (b) => alertsView(b, { kinds: ['slow_moving', 'behind_schedule', 'shipment_overdue', 'payment_overdue', 'certificate_expiring', 'document_expiring', 'price_outlier', 'price_jump'] }),
  };
  await section(body, () => views[tab](body));
}

function statusFilter(base, statuses, current) {
  return filterNav(base, 'status', statuses.map((k) => [k, k ? statusText(k) : '全部']), current, '状态');
}

function currentStatus(fallback) {
  return hashParam('status', fallback);
}

// ---- merchant applications ----

export async function applicationQueue(role, fallback) {
  const status = currentStatus(fallback);
  const base = `#/${role}/applications`;
  const list = pagedList((cursor) => api('GET', '/merchant-applications', { query: { status, limit: 20, cursor } }),
    (a) => applicationCard(a, role), { testid: 'application-queue', empty: '没有待处理的申请' });
  await list.ready;
  return [statusFilter(base, ['submitted', 'recommended', 'approved', 'rejected', ''], status), list];
}

function applicationCard(a, role) {
  const id = encodeURIComponent(a.id);
  const canRecommend = role === 'county' && a.status === 'submitted';
  const canApprove = role === 'admin' && a.status === 'recommended';
  const canReject = a.status === 'submitted' || (role === 'admin' && a.status === 'recommended');
  const detail = h('div', {});
  const more = disclosure('资质文件与审核记录', detail, { testid: 'application-detail' });
  more.addEventListener('toggle', () => {
    if (!more.open || detail.firstChild) return;
    section(detail, async () => {
      const d = await api('GET', `/merchant-applications/${id}`);
      return [
        facts([['法定代表人', d.legalRepresentative], ['地址', d.address], ['食品经营许可证号', d.foodLicenseNumber || '—'],
          ['开户银行', d.bankName], ['银行账号', d.bankAccount]]),
        h('h4', {}, '资质文件'),
        table(['类型', '格式', '大小', '到期日', ''], (d.documents || []).map((doc) => [
          DOC_KINDS[doc.kind] || doc.kind, doc.contentType, `${Math.ceil(doc.size / 1024)} KB`, doc.expiresOn || '—',
          downloadLink('下载', () => api('GET', `/merchant-applications/${id}/documents/${encodeURIComponent(doc.id)}`, { blob: true }), `${doc.kind}-${doc.id}${EXTENSIONS[doc.contentType] || ''}`),
        ]), { testid: 'documents', empty: '未上传资质文件' }),
        h('h4', {}, '审核记录'), reviewsTable(d.reviews || []),
      ];
    });
  });
  return h('article', { class: 'card', testid: 'application-card', 'data-application-id': a.id, 'data-company': a.companyName },
    h('h3', {}, a.companyName, ' ', h('span', { testid: 'application-status' }, badge(a.status))),
    facts([['统一社会信用代码', a.creditCode], ['县代码', a.countyCode], ['联系人', `${a.contactName} ${a.contactPhone}`],
      ['带动脱贫户数', String(a.householdsDriven)], ['提交时间', time(a.createdAt)]]),
    a.warnings?.length ? notice('请注意：' + a.warnings.join('；'), 'warn') : null,
    more,
    canRecommend ? form({
      id: `recommend-${a.id}`, testid: 'recommend-form', submit: '推荐', className: 'inline-form',
      fields: [{ name: 'note', label: '推荐意见（可选）' }],
      onSubmit: async (v) => { await api('POST', `/merchant-applications/${id}/recommend`, { body: { note: v.note || undefined } }); flash('已推荐至平台审核。'); reload(); },
    }) : null,
    canApprove ? form({
      id: `approve-${a.id}`, testid: 'approve-form', submit: '批准入驻', className: 'inline-form',
      fields: [{ name: 'note', label: '审核意见（可选）' }],
      onSubmit: async (v) => { await api('POST', `/merchant-applications/${id}/approve`, { body: { note: v.note || undefined } }); flash('已批准入驻。'); reload(); },
    }) : null,
    canReject ? disclosure('驳回', form({
      id: `reject-${a.id}`, testid: 'reject-form', submit: '确认驳回', className: 'inline-form',
      fields: [{ name: 'reason', label: '驳回原因', required: true }],
      onSubmit: async (v) => {
        if (!v.reason) throw fieldError('reason', '请填写驳回原因');
        await api('POST', `/merchant-applications/${id}/reject`, { body: { reason: v.reason } }); flash('已驳回。'); reload();
      },
    }), { testid: 'reject' }) : null);
}

// ---- certification applications ----

export async function certificationQueue(role, fallback) {
  const status = currentStatus(fallback);
  const list = pagedList((cursor) => api('GET', '/certification-applications', { query: { status, limit: 20, cursor } }),
    (c) => certificationCard(c, role), { testid: 'certification-queue', empty: '没有待处理的认定申请' });
  await list.ready;
  return [statusFilter(`#/${role}/certifications`, ['submitted', 'county_approved', 'certified', 'rejected', ''], status), list];
}

function certificationCard(c, role) {
  const id = encodeURIComponent(c.id);
  const history = h('div', {});
  const more = disclosure('审核记录', history);
  more.addEventListener('toggle', () => {
    if (more.open && !history.firstChild) section(history, async () => reviewsTable((await api('GET', `/certification-applications/${id}`)).reviews || []));
  });
  return h('article', { class: 'card', testid: 'certification-card', 'data-title': c.productTitle, 'data-application-id': c.id },
    h('h3', {}, c.productTitle, ' ', h('span', { testid: 'certification-status' }, badge(c.status))),
    facts([['供应商', c.merchantName], ['产地县代码', c.countyCode], ['带动脱贫户数', String(c.householdsDriven)],
      ['帮扶情况', c.description], ['提交时间', time(c.createdAt)],
      c.certificateNumber ? ['证书', h('a', { href: `#/certificate/${encodeURIComponent(c.certificateNumber)}` }, c.certificateNumber)] : null]),
    more,
    role === 'county' && c.status === 'submitted' ? [
      form({
        id: `county-approve-${c.id}`, testid: 'county-approve-form', submit: '审核通过', className: 'inline-form',
        fields: [{ name: 'note', label: '审核意见（可选）' }],
        onSubmit: async (v) => { await api('POST', `/certification-applications/${id}/county-review`, { body: { approve: true, note: v.note || undefined } }); flash('已通过县级审核。'); reload(); },
      }),
      disclosure('不通过', form({
        id: `county-reject-${c.id}`, testid: 'county-reject-form', submit: '确认不通过', className: 'inline-form',
        fields: [{ name: 'note', label: '不通过原因', required: true }],
        onSubmit: async (v) => {
          if (!v.note) throw fieldError('note', '请填写原因');
          await api('POST', `/certification-applications/${id}/county-review`, { body: { approve: false, note: v.note } }); flash('已退回。'); reload();
        },
      })),
    ] : null,
    role === 'admin' && c.status === 'county_approved' ? [
      form({
        id: `cert-approve-${c.id}`, testid: 'cert-approve-form', submit: '认定并签发证书', className: 'inline-form',
        fields: [{ name: 'validDays', label: '有效期（天）', type: 'number', value: '365', min: 1, max: 3650, required: true }],
        onSubmit: async (v) => {
          const days = Number(v.validDays);
          if (!Number.isInteger(days) || days < 1 || days > 3650) throw fieldError('validDays', '有效期应为 1 到 3650 天');
          const r = await api('POST', `/certification-applications/${id}/approve`, { body: { validDays: days } });
          flash(`已认定，证书编号 ${r.certificateNumber}。`); reload();
        },
      }),
      disclosure('驳回', form({
        id: `cert-reject-${c.id}`, testid: 'cert-reject-form', submit: '确认驳回', className: 'inline-form',
        fields: [{ name: 'reason', label: '驳回原因', required: true }],
        onSubmit: async (v) => {
          if (!v.reason) throw fieldError('reason', '请填写驳回原因');
          await api('POST', `/certification-applications/${id}/reject`, { body: { reason: v.reason } }); flash('已驳回。'); reload();
        },
      })),
    ] : null);
}
