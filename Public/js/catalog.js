// Public catalog: search with filters and facets, product pages with the certificate badge,
// and certificate verification (status from the server, Ed25519 signature checked in the browser).
import { api, fen, fenToYuanInput, parseYuan, parseInt10, counties, categories, LABELS, statusText, time, date, ApiError } from './api.js';
import { h, clear, form, facts, badge, errorBox, section, notice, table, pagedList } from './ui.js';
import { state, cart, go } from './state.js';
import { stars } from './shared.js';

const SORTS = [['', '默认（相关度/最新）'], ['newest', '最新上架'], ['price_asc', '价格从低到高'], ['price_desc', '价格从高到低'], ['sales', '销量'], ['rating', '供应商评分']];
const FILTERS = ['q', 'categoryId', 'countyCode', 'label', 'minPriceFen', 'maxPriceFen', 'sort'];

export async function categoryOptions() {
  const cats = await categories();
  const byId = Object.fromEntries(cats.map((c) => [c.id, c]));
  return cats.map((c) => [c.id, c.parentId ? `${byId[c.parentId]?.name || ''} / ${c.name}` : c.name]);
}

export async function countyOptions() {
  return (await counties()).map((c) => [c.code, `${c.name}（${c.prefecture}）`]);
}

function catalogHash(params) {
  const qs = new URLSearchParams();
  for (const k of FILTERS) if (params[k]) qs.set(k, params[k]);
  const s = qs.toString();
  return '#/catalog' + (s ? '?' + s : '');
}

export async function catalogView(view, params) {
  const current = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || '']));
  const [catOpts, countyOpts] = await Promise.all([categoryOptions(), countyOptions()]);
  const searchForm = form({
    id: 'search-form', submit: '搜索', className: 'search-form',
    fields: [
      { name: 'q', label: '关键词', value: current.q, placeholder: '如：木耳、大米、合作社名称', type: 'search' },
      { name: 'categoryId', label: '品类', type: 'select', options: [['', '全部品类'], ...catOpts], value: current.categoryId },
      { name: 'countyCode', label: '产地（脱贫县）', type: 'select', options: [['', '全部县'], ...countyOpts], value: current.countyCode },
      { name: 'label', label: '认证标识', type: 'select', options: [['', '不限'], ...Object.entries(LABELS)], value: current.label },
      { name: 'minPriceFen', label: '最低价（元）', type: 'money', value: current.minPriceFen ? fenToYuanInput(Number(current.minPriceFen)) : '', placeholder: '' },
      { name: 'maxPriceFen', label: '最高价（元）', type: 'money', value: current.maxPriceFen ? fenToYuanInput(Number(current.maxPriceFen)) : '', placeholder: '' },
      { name: 'sort', label: '排序', type: 'select', options: SORTS, value: current.sort },
    ],
    onSubmit: async (v) => {
      const next = { ...v };
      for (const k of ['minPriceFen', 'maxPriceFen']) next[k] = v[k] ? String(parseYuan(v[k], k, { allowZero: true })) : '';
      go(catalogHash(next));
    },
  });

  const facetsBox = h('aside', { class: 'facets', 'aria-label': '筛选', testid: 'facets' });
  const results = h('div', { class: 'results' });
  view.append(h('h2', {}, '帮扶产品目录'), searchForm, h('div', { class: 'catalog-layout' }, facetsBox, results));

  const query = { ...current, limit: 24 };
  const grid = h('div', { class: 'grid', testid: 'results' });
  const more = h('button', { type: 'button', class: 'more', testid: 'results-more', hidden: true }, '加载更多');
  const summary = h('p', { class: 'muted', testid: 'results-summary', role: 'status' }, '搜索中…');
  results.append(summary, grid, more);
  let cursor = null;
  async function page(first) {
    more.disabled = true;
    try {
      const r = await api('GET', '/products', { query: { ...query, cursor } });
      if (first) {
        renderFacets(facetsBox, r.facets, current);
        const total = r.facets.category.reduce((n, f) => n + f.count, 0);
        summary.textContent = total ? `共 ${total} 件在售帮扶产品` : '没有找到符合条件的商品，请换个关键词或清除筛选。';
      }
      for (const p of r.items) grid.appendChild(productCard(p));
      cursor = r.nextCursor;
      more.hidden = !cursor;
    } catch (e) {
      if (first && e instanceof ApiError) {
        summary.textContent = '';
        results.prepend(errorBox(e));
      } else throw e;
    } finally { more.disabled = false; }
  }
  more.addEventListener('click', () => page(false));
  await page(true);
}

function renderFacets(box, facets, current) {
  clear(box);
  const groups = [['categoryId', '品类', facets.category], ['countyCode', '产地', facets.county], ['label', '认证标识', facets.label]];
  for (const [key, title, list] of groups) {
    if (!list.length) continue;
    box.append(h('h3', {}, title), h('ul', { testid: `facet-${key}` }, list.map((f) => {
      const active = current[key] === f.key;
      return h('li', {}, h('a', {
        href: catalogHash({ ...current, [key]: active ? '' : f.key }),
        class: active ? 'facet active' : 'facet', 'aria-current': active ? 'true' : null,
      }, f.label, h('span', { class: 'count' }, String(f.count))));
    })));
  }
  if (FILTERS.some((k) => current[k])) box.append(h('p', {}, h('a', { href: '#/catalog', testid: 'clear-filters' }, '清除全部筛选')));
}

function productCard(p) {
  return h('article', { class: 'card product-card', testid: 'product-card', 'data-product-id': p.id },
    h('h3', {}, h('a', { href: `#/product/${encodeURIComponent(p.id)}`, testid: 'product-link' }, p.title)),
    h('p', { class: 'price' }, fen(p.priceFen), h('span', { class: 'muted' }, ` / ${p.unit}`)),
    h('p', { class: 'muted' }, `${p.specification} · ${p.countyName} · ${p.merchantName}`),
    h('p', { class: 'labels' }, p.labels.map((l) => h('span', { class: 'label' }, LABELS[l] || l)),
      p.certificate ? h('span', { class: 'label cert' }, '帮扶产品') : null));
}

export async function productView(view, id) {
  const p = await api('GET', `/products/${encodeURIComponent(id)}`);
  document.title = `${p.title} · 帮扶`;
  const images = (p.images || []).map((img) => h('img', { src: img.url, alt: p.title, class: 'product-image', loading: 'lazy' }));
  const cert = p.certificate;
  const certBadge = cert
    ? h('a', { href: `#/certificate/${encodeURIComponent(cert.number)}`, class: `cert-badge cert-${cert.status}`, testid: 'cert-badge' },
      h('strong', {}, '帮扶产品认定'), ' ', h('span', { testid: 'cert-number' }, cert.number), ' · ', statusText(cert.status),
      h('span', { class: 'small' }, `（有效期至 ${date(cert.expiresAt)}，点击查验）`))
    : h('p', { class: 'muted', testid: 'cert-none' }, '暂无帮扶产品证书');
  view.append(
    h('p', {}, h('a', { href: '#/catalog' }, '← 返回目录')),
    h('article', { class: 'product-detail', testid: 'product-detail', 'data-product-id': p.id },
      h('h2', { testid: 'product-title' }, p.title),
      certBadge,
      images.length ? h('div', { class: 'gallery' }, images) : null,
      h('p', { class: 'price big', testid: 'product-price' }, fen(p.priceFen), h('span', { class: 'muted' }, ` / ${p.unit}`)),
      // 价格监测: the price of a kilogram beside the leaf category's median.
      p.unitPrice ? h('p', { class: 'muted', testid: 'unit-price' }, `折合 ${fen(p.unitPrice.perKgFen)}/kg`,
        p.unitPrice.categoryMedianPerKgFen != null ? `，同类商品中位价 ${fen(p.unitPrice.categoryMedianPerKgFen)}/kg` : '') : null,
      p.onSale ? null : h('p', { class: 'alert alert-warn' }, `当前不可订购（${statusText(p.status)}）`),
      facts([
        ['规格', p.specification], ['产地', p.countyName], ['供应商', p.merchantName],
        ['库存', `${p.stock} ${p.unit}`], ['销量', String(p.sales)],
        ['认证标识', p.labels.length ? p.labels.map((l) => LABELS[l] || l).join('、') : '—'],
      ]),
      h('p', { class: 'description' }, p.description),
      buyBox(p),
      h('div', { testid: 'merchant-ratings' }),
      h('div', { testid: 'price-history' })));
  // The merchant's ratings of the last 365 days, and the latest comments (never who gave them).
  const mr = view.querySelector('[data-testid="merchant-ratings"]');
  Promise.all([
    api('GET', `/merchants/${encodeURIComponent(p.merchantId)}`),
    api('GET', `/merchants/${encodeURIComponent(p.merchantId)}/ratings`, { query: { limit: 5 } }),
  ]).then(([m, page]) => {
    mr.append(h('h3', {}, '供应商评价'), ratingSummary(m.rating),
      ...page.items.filter((x) => x.comment || x.reply).map(ratingComment),
      h('p', {}, h('a', { href: `#/supplier/${encodeURIComponent(p.merchantId)}`, testid: 'supplier-link' }, `${m.companyName} 的全部评价 →`)));
  }).catch(() => {});
  const ph = view.querySelector('[data-testid="price-history"]');
  api('GET', `/products/${encodeURIComponent(id)}/price-history`).then((rows) => {
    if (rows.length > 1) ph.append(h('h3', {}, '价格记录'), table(['起始时间', '价格'], rows.map((r) => [time(r.from), fen(r.priceFen)])));
  }).catch(() => {});
}

/** A merchant's averages of the last 365 days with its stars, or that it has none. */
function ratingSummary(r) {
  return r
    ? h('p', { testid: 'merchant-rating', 'data-count': r.count },
      h('span', { class: 'stars', 'aria-label': `质量 ${r.quality} 分` }, stars(r.quality)),
      ` 质量 ${r.quality.toFixed(2)} · 配送 ${r.delivery.toFixed(2)} · 服务 ${r.service.toFixed(2)}（近一年 ${r.count} 条评价）`)
    : h('p', { class: 'muted', testid: 'merchant-rating', 'data-count': 0 }, '近一年暂无评价');
}

/** One rating as the public reads it: its stars and comment (as text), the merchant's reply; never who gave it. */
function ratingComment(x) {
  return h('blockquote', { class: 'rating-comment', testid: 'rating-comment' },
    h('span', { class: 'stars' }, stars((x.quality + x.delivery + x.service) / 3)), ' ', x.comment || '（无文字评价）',
    h('span', { class: 'small muted' }, ` ${date(x.createdAt)}`),
    x.reply ? h('p', { class: 'small muted' }, `商家回复：${x.reply}`) : null);
}

/** A supplier's public profile (供应商): its county, households driven, products on sale, its stars and every rating. */
export async function supplierView(view, id) {
  const m = await api('GET', `/merchants/${encodeURIComponent(id)}`);
  document.title = `${m.companyName} · 帮扶`;
  view.append(
    h('p', {}, h('a', { href: '#/catalog' }, '← 返回目录')),
    h('article', { class: 'card', testid: 'supplier', 'data-merchant-id': m.id },
      h('h2', {}, m.companyName),
      facts([['所在脱贫县', m.countyName], ['带动脱贫户', `${m.householdsDriven} 户`], ['在售商品', String(m.productCount)]]),
      ratingSummary(m.rating)),
    h('h3', {}, '全部评价'),
    pagedList((cursor) => api('GET', `/merchants/${encodeURIComponent(id)}/ratings`, { query: { limit: 20, cursor } }), ratingComment,
      { testid: 'supplier-ratings', empty: '暂无评价' }));
}

function buyBox(p) {
  const role = state.me?.user?.role;
  if (!p.onSale) return null;
  if (!role) return h('p', { class: 'muted' }, h('a', { href: `#/login?next=${encodeURIComponent('#/product/' + p.id)}` }, '采购单位登录'), '后可加入采购车。');
  if (role !== 'buyer') return null;
  return form({
    id: 'add-to-cart', submit: '加入采购车', testid: 'add-to-cart', className: 'inline-form',
    fields: [{ name: 'quantity', label: `数量（${p.unit}）`, type: 'number', value: '1', min: 1, max: 100000, required: true }],
    onSubmit: async (v) => {
      const q = parseInt10(v.quantity, 'quantity', { min: 1, max: Math.min(100000, p.stock) });
      cart.add(p, q);
      return `已加入采购车（${q} ${p.unit}）。`;
    },
  });
}

// ---- certificates ----

const SIGNED_FIELDS = ['number', 'productId', 'productTitle', 'merchantId', 'merchantName', 'countyCode', 'issuedAt', 'expiresAt', 'keyId'];

/** RFC 8785 canonical JSON of the signed fields: keys sorted by UTF-16 code units, ES serialization. */
export function canonicalPayload(cert) {
  const keys = [...SIGNED_FIELDS].sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + JSON.stringify(cert[k])).join(',') + '}';
}

function base64url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** → {state: 'ok'|'bad'|'unsupported'|'nokey', kid} */
export async function verifySignature(cert) {
  const { keys } = await api('GET', '/certificate-keys');
  const jwk = keys.find((k) => k.kid === cert.keyId);
  if (!jwk) return { state: 'nokey' };
  if (!globalThis.crypto?.subtle) return { state: 'unsupported' };
  let key;
  try {
    key = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, { name: 'Ed25519' }, false, ['verify']);
  } catch (e) {
    return { state: 'unsupported' };
  }
  try {
    const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, base64url(cert.signature), new TextEncoder().encode(canonicalPayload(cert)));
    return { state: ok ? 'ok' : 'bad', kid: jwk.kid };
  } catch (e) {
    return { state: 'bad', kid: jwk.kid };
  }
}

export async function certificateView(view, number) {
  view.append(h('h2', {}, '帮扶产品证书查验'),
    form({
      id: 'cert-lookup', submit: '查验', className: 'inline-form',
      fields: [{ name: 'number', label: '证书编号', value: number || '', placeholder: 'BF-2026-000123', required: true }],
      onSubmit: async (v) => { go(`#/certificate/${encodeURIComponent(v.number.toUpperCase())}`); },
    }));
  if (!number) return;
  const box = h('div', {});
  view.append(box);
  await section(box, async () => {
    const c = await api('GET', `/certificates/${encodeURIComponent(number)}`);
    const sig = h('p', { testid: 'cert-signature', class: 'sig sig-pending' }, '正在用平台公钥验证签名…');
    verifySignature(c).then((r) => {
      sig.className = `sig sig-${r.state}`;
      sig.dataset.state = r.state;
      sig.textContent = {
        ok: `✔ 签名有效：证书内容由平台密钥（${r.kid}）签发，未被篡改（Ed25519，已在本浏览器中验证）。`,
        bad: '✘ 签名无效：证书内容与平台签名不符，请勿采信。',
        nokey: '✘ 未找到签发该证书的平台公钥，无法验证签名。',
        unsupported: `本浏览器不支持 Ed25519 验签；以平台当前状态为准：${statusText(c.status)}。`,
      }[r.state];
      if (r.state === 'ok' && c.status !== 'valid') sig.textContent += `但该证书当前状态为「${statusText(c.status)}」，不能作为有效的帮扶产品凭证。`;
    }).catch((e) => { sig.textContent = '无法获取平台公钥：' + (e.detail || e.message); });
    return h('article', { class: 'certificate', testid: 'certificate' },
      h('p', { class: `cert-status cert-${c.status}`, testid: 'cert-status', 'data-status': c.status }, '证书状态：', statusText(c.status)),
      c.status === 'revoked' ? notice(`撤销原因：${c.revocationReason || '—'}（${time(c.revokedAt)}）`, 'error') : null,
      facts([
        ['证书编号', c.number], ['产品', h('a', { href: `#/product/${encodeURIComponent(c.productId)}` }, c.productTitle)],
        ['供应商', c.merchantName], ['产地县代码', c.countyCode], ['签发时间', time(c.issuedAt)], ['有效期至', time(c.expiresAt)],
        ['签名密钥', c.keyId],
      ]),
      sig,
      h('p', { class: 'muted small' }, '签名覆盖证书编号、产品、供应商、县、签发与到期时间和密钥编号（RFC 8785 规范化 JSON）；状态与撤销由平台实时给出，不在签名内。'));
  });
}
