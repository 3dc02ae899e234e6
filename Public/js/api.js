// Fetch wrapper for /api/v1 (Bearer token from sessionStorage, problem+json errors),
// money in integer fen (no floating point), and display helpers shared by every page.

const TOKEN_KEY = 'bangfu.token';

export class ApiError extends Error {
  constructor(status, code, detail, errors = [], title = '') {
    super(detail || title || code);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = errors;
    this.title = title;
  }
}

/** A client-side refusal in the same shape as a server problem, naming the field. */
export function fieldError(field, message) {
  return new ApiError(0, 'validation_failed', message, [{ field, message }]);
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set token(t) {
    if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
  },
};

const listeners = [];
/** Called with no argument when the server says the session is gone (401 while holding a token). */
export function onSignedOut(fn) { listeners.push(fn); }

/**
 * api('GET', '/products', {query}) → parsed JSON (or null for 204).
 * options: query (object; null/'' values left out), body (JSON), raw (Blob/File sent as is,
 * with its type), headers.
 */
export async function api(method, path, options = {}) {
  let url = '/api/v1' + path;
  if (options.query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query)) {
      if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
    }
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const headers = { Accept: options.blob ? '*/*' : 'application/json', ...(options.headers || {}) };
  const token = session.token;
  if (token) headers.Authorization = 'Bearer ' + token;
  let body;
  if (options.raw) {
    body = options.raw;
    headers['Content-Type'] = options.contentType || options.raw.type || 'application/octet-stream';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  } catch (e) {
    const err = new ApiError(0, 'network', '无法连接服务器，请检查网络后重试。');
    err.network = true;
    throw err;
  }
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  if (!res.ok) {
    let p = {};
    if (type.includes('json')) { try { p = await res.json(); } catch (e) { p = {}; } }
    if (res.status === 401 && token) {
      session.token = null;
      listeners.forEach((fn) => fn());
    }
    const errors = (p.errors || []).map((e) => ({ field: e.field, message: localizeMessage(e.message) }));
    throw new ApiError(res.status, p.code || 'http_' + res.status, localizeDetail(p, res.status), errors, p.title || '');
  }
  if (options.blob) return res.blob();
  if (type.includes('json')) return res.json();
  return res.text();
}

const CODE_TEXT = {
  unauthenticated: '请先登录。',
  forbidden: '没有权限执行此操作。',
  not_found: '未找到该记录。',
  rate_limited: '尝试过于频繁，请稍后再试。',
  insufficient_stock: '库存不足。',
  quota_budget_exceeded: '超出本年度食堂采购预算余额。',
  quota_plan_missing: '请先申报本年度预留份额计划。',
  product_unavailable: '商品当前不可售（未上架、证书无效或商户已暂停）。',
  idempotency_key_reused: '重复提交的内容不一致，请重新下单。',
  payload_too_large: '文件过大。',
  unsupported_media_type: '文件类型不支持（仅限 PDF、JPEG、PNG）。',
};

/** The server writes details in English; keep them, led by a Chinese summary for known codes. */
function localizeDetail(p, status) {
  const zh = CODE_TEXT[p.code];
  const detail = p.detail ? localizeMessage(p.detail) : '';
  if (p.code === 'invalid_transition') return '当前状态不允许此操作：' + detail;
  if (p.code === 'quota_budget_exceeded' && detail !== p.detail) return detail + '。';
  if (zh) return detail ? zh + '（' + detail + '）' : zh;
  if (detail) return detail;
  return '请求失败（HTTP ' + status + '）';
}

// The server words field messages in English; the common ones are shown in Chinese.
const MESSAGES = [
  [/^is required$/, () => '必填'],
  [/^must be at least (\d+) characters$/, (m) => `至少 ${m[1]} 个字符`],
  [/^must be at most (\d+) characters$/, (m) => `最多 ${m[1]} 个字符`],
  [/^must be 3 to 32 characters of/, () => '须为 3–32 位字母、数字或 _ . -'],
  [/^username is taken$/, () => '用户名已被使用'],
  [/^must be 18 characters$/, () => '须为 18 位'],
  [/^character (\d+) is not allowed/, (m) => `第 ${m[1]} 位字符不合法（只能是数字和除 I、O、S、V、Z 外的大写字母）`],
  [/^check character does not match/, () => '校验码不正确（GB 32100-2015），请核对'],
  [/^must be a mobile number/, () => '须为 11 位手机号或带区号的固定电话（如 0451-12345678）'],
  [/^is not a registered (脱贫县|county)$/, () => '不是已登记的脱贫县'],
  [/which this platform does not admit$/, () => '该级别的县不在本平台准入范围内'],
  [/^must be 8 to 32 digits$/, () => '须为 8–32 位数字'],
  [/^must be the code of a 机关 or 事业单位/, () => '须为机关、事业单位的统一社会信用代码（以 1 开头）'],
  [/^an organization with this credit code is registered$/, () => '该统一社会信用代码的单位已登记'],
  [/^must not contain control characters$/, () => '不能包含控制字符'],
  [/^is not a category$/, () => '品类不存在'],
  [/^must be at least 1 fen$|^must be a whole number of fen from 1/, () => '金额须大于 0'],
  [/^must be a date YYYY-MM-DD$/, () => '日期格式须为 YYYY-MM-DD'],
  [/^must not be zero$/, () => '不能为 0'],
  [/^must be a whole number from (\d+) to (\d+)$/, (m) => `须为 ${m[1]} 到 ${m[2]} 之间的整数`],
  [/at most (\d+) fen can still be asked for/, (m) => `退款合计不能超过订单金额，最多还可申请 ${fen(Number(m[1]))}`],
  [/^at most (\d+)$/, (m) => `库存不足，最多可订 ${m[1]}`],
  [/^must be between (\d+) and (\d+)$/, (m) => `须在 ${m[1]} 到 ${m[2]} 之间`],
  [/^is not a product$/, () => '商品不存在'],
  [/(\d+) fen exceed the remaining budget of (\d+) fen/, (m) => `本次订单金额 ${fen(Number(m[1]))} 超出本年度预算余额 ${fen(Number(m[2]))}`],
  [/^must equal the amount owed, (\d+) fen$/, (m) => `须等于应付金额 ${fen(Number(m[1]))}`],
  [/^must be a 6-digit GB\/T 2260 code$/, () => '须为 6 位数字的行政区划代码（GB/T 2260）'],
  [/^a county with this code exists$/, () => '该代码的县已登记'],
  [/^must be national or provincial$/, () => '须为国家级或省级'],
  [/^cannot be changed$/, () => '不能修改'],
];
function localizeMessage(message) {
  for (const [re, fn] of MESSAGES) {
    const m = re.exec(message || '');
    if (m) return fn(m);
  }
  return (message || '').replace(/(\d+) fen\b/g, (_, n) => fen(Number(n)));
}

// ---- money: integer fen, never floating point ----

/** 1234 → "¥12.34"; thousands separated. */
export function fen(value) {
  if (value === null || value === undefined) return '—';
  const neg = value < 0;
  const s = String(Math.abs(value)).padStart(3, '0');
  const yuan = s.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (neg ? '-¥' : '¥') + yuan + '.' + s.slice(-2);
}

/** 1234 → "12.34" (for prefilling inputs). */
export function fenToYuanInput(value) {
  if (value === null || value === undefined) return '';
  const s = String(Math.abs(value)).padStart(3, '0');
  return (value < 0 ? '-' : '') + s.slice(0, -2) + '.' + s.slice(-2);
}

/**
 * "12.3" → 1230 fen, by splitting the string on '.'. Refuses signs, more than two decimals,
 * and anything that is not digits. Throws a field error naming `field`.
 */
export function parseYuan(text, field, { allowZero = false } = {}) {
  const s = String(text ?? '').trim().replace(/^¥/, '').replace(/,/g, '');
  if (s === '') throw fieldError(field, '请填写金额');
  const parts = s.split('.');
  if (parts.length > 2 || !/^\d+$/.test(parts[0] || '0') || (parts.length === 2 && !/^\d*$/.test(parts[1]))) {
    throw fieldError(field, '金额格式不正确，例如 12.34');
  }
  if (parts[0] === '' && (parts.length === 1 || parts[1] === '')) throw fieldError(field, '金额格式不正确，例如 12.34');
  const frac = parts.length === 2 ? parts[1] : '';
  if (frac.length > 2) throw fieldError(field, '金额最多两位小数（精确到分）');
  const yuanDigits = (parts[0] || '0').replace(/^0+(?=\d)/, '');
  if (yuanDigits.length > 13) throw fieldError(field, '金额过大');
  const value = Number(yuanDigits) * 100 + Number((frac + '00').slice(0, 2));
  if (!Number.isSafeInteger(value)) throw fieldError(field, '金额过大');
  if (value === 0 && !allowZero) throw fieldError(field, '金额必须大于 0');
  return value;
}

/** "10" or "12.5" (percent) → basis points, the same way as money. */
export function parsePercentToBp(text, field) {
  try {
    const bp = parseYuan(text, field, { allowZero: true });
    if (bp > 10000) throw fieldError(field, '比例不能超过 100%');
    return bp;
  } catch (e) {
    if (e.errors && e.errors[0]) e.errors[0].message = e.errors[0].message.replace('金额', '比例');
    e.detail = e.errors[0]?.message || e.detail;
    throw e;
  }
}

export function bp(value) {
  if (value === null || value === undefined) return '—';
  return fenToYuanInput(value).replace(/^(-?)\./, '$10.') + '%';
}

/** A whole number from an input, or a field error. */
export function parseInt10(text, field, { min = -Infinity, max = Infinity } = {}) {
  const s = String(text ?? '').trim();
  if (!/^-?\d+$/.test(s)) throw fieldError(field, '请填写整数');
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw fieldError(field, max === Infinity ? `不能小于 ${min}` : `应在 ${min} 到 ${max} 之间`);
  }
  return n;
}

// ---- time (shown in China Standard Time) ----

const dtf = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
});
export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return isNaN(d) ? iso : dtf.format(d);
}
export function date(iso) {
  return iso ? time(iso).slice(0, 10) : '—';
}
/** The quota year: the calendar year in UTC+8. */
export function quotaYear() {
  return new Date(Date.now() + 8 * 3600 * 1000).getUTCFullYear();
}

// ---- vocabulary ----

export const LABELS = {
  green: '绿色食品', organic: '有机', geo_indication: '地理标志', black_soil: '寒地黑土',
  non_gmo: '非转基因', compliance_certificate: '食用农产品达标合格证',
};
export const ROLES = { merchant: '供应商', buyer: '采购单位', county: '县级审核', admin: '平台管理', finance: '财政部门' };
const STATUS = {
  submitted: '已提交', recommended: '县级已推荐', approved: '已通过', rejected: '已驳回',
  county_approved: '县级已通过', certified: '已认定',
  draft: '草稿', listed: '已上架', delisted: '已下架',
  active: '正常', suspended: '已暂停', pending: '待审核',
  placed: '待确认', confirmed: '已确认', shipped: '已发货', accepted: '已验收', settled: '已结算', cancelled: '已取消',
  requested: '待处理',
  valid: '有效', expired: '已过期', revoked: '已撤销',
};
export function statusText(s) { return STATUS[s] || s; }
export const COUNTY_LEVELS = { national: '国家级', provincial: '省级' };
export const EXTENSIONS = { 'application/pdf': '.pdf', 'image/jpeg': '.jpg', 'image/png': '.png' };
export const DOC_KINDS = { business_license: '营业执照', food_license: '食品经营许可证', test_report: '检测报告', other: '其他' };
export const ALERT_KINDS = {
  slow_moving: '滞销风险', behind_schedule: '份额进度落后', shipment_overdue: '发货逾期',
  payment_overdue: '付款逾期', certificate_expiring: '证书即将到期', document_expiring: '资质文件即将到期',
  filing_overdue: '逾期未填报', waiver_pending: '豁免待审批', price_outlier: '价格偏高', price_jump: '价格异动',
};

// ---- reference data, loaded once ----

let countiesPromise;
let categoriesPromise;
export function counties() {
  countiesPromise ||= api('GET', '/counties').catch((e) => { countiesPromise = null; throw e; });
  return countiesPromise;
}
/** After a county is added or corrected: the next counties() asks the server again. */
export function forgetCounties() { countiesPromise = null; }
export function categories() {
  categoriesPromise ||= api('GET', '/categories').catch((e) => { categoriesPromise = null; throw e; });
  return categoriesPromise;
}
let regionsPromise;
/** Every shipped division as [code, label] for a select: the provinces, and below a province
 *  that has them its prefectures and their counties, indented. */
export function regionOptions() {
  regionsPromise ||= (async () => {
    const provinces = await api('GET', '/regions');
    const out = [];
    for (const p of provinces) {
      out.push([p.code, p.name]);
      const prefectures = await api('GET', '/regions', { query: { parent: p.code } });
      const counties = await Promise.all(prefectures.map((f) => api('GET', '/regions', { query: { parent: f.code } })));
      prefectures.forEach((f, i) => {
        out.push([f.code, `\u3000${f.name}`]);
        for (const c of counties[i]) out.push([c.code, `\u3000\u3000${c.name}`]);
      });
    }
    return out;
  })().catch((e) => { regionsPromise = null; throw e; });
  return regionsPromise;
}
export async function regionName(code) {
  if (!code) return '—';
  return ((await regionOptions()).find(([c]) => c === code)?.[1] || code).trim();
}
export const MEMBER_ROLES = { manager: '单位管理账号', purchaser: '交易账号', contractor: '承包方采购账号' };
export const CANTEEN_MODES = { own: '自营食堂', outsourced: '外包食堂', shared: '共用食堂（由其他单位申报）', none: '无食堂' };
export const FILING_STATUS = { submitted: '待审核', confirmed: '已确认', returned: '已退回' };
export const INVOICE_KINDS = { electronic: '电子发票（数电票）', vat_normal: '增值税普通发票', vat_special: '增值税专用发票' };
/** Today's date (YYYY-MM-DD) in China Standard Time, the day an invoice is dated by default. */
export function todayInChina() { return new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10); }
export const WAIVER_STATUS = { requested: '待财政部门审批', approved: '已同意', rejected: '已驳回' };
export async function countyName(code) {
  if (!code) return '—';
  const list = await counties();
  return list.find((c) => c.code === code)?.name || code;
}
