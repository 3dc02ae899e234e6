// Who is signed in (GET /me), a one-shot flash message, and the buyer's cart (kept per user in
// localStorage so that it survives a closed tab; prices are re-checked by the server at checkout).
import { api, session } from './api.js';

export const state = { me: null, flash: null };

export async function loadMe() {
  if (!session.token) { state.me = null; return null; }
  try {
    state.me = await api('GET', '/me');
  } catch (e) {
    if (e.status === 401) { session.token = null; state.me = null; } else throw e;
  }
  return state.me;
}

export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

export function flash(text) { state.flash = text; }
export function takeFlash() { const f = state.flash; state.flash = null; return f; }

function cartKey() { return 'bangfu.cart.' + (state.me?.user?.id || 'anon'); }

export const cart = {
  lines() {
    try { return JSON.parse(localStorage.getItem(cartKey()) || '[]'); } catch (e) { return []; }
  },
  save(lines) { localStorage.setItem(cartKey(), JSON.stringify(lines)); notifyCart(); },
  add(product, quantity) {
    const lines = this.lines();
    const line = lines.find((l) => l.productId === product.id);
    if (line) line.quantity = Math.min(100000, line.quantity + quantity);
    else {
      lines.push({
        productId: product.id, title: product.title, priceFen: product.priceFen, unit: product.unit,
        specification: product.specification, merchantName: product.merchantName, quantity,
      });
    }
    this.save(lines);
  },
  setQuantity(productId, quantity) {
    this.save(this.lines().map((l) => (l.productId === productId ? { ...l, quantity } : l)));
  },
  remove(productId) { this.save(this.lines().filter((l) => l.productId !== productId)); },
  clear() { this.save([]); },
  count() { return this.lines().reduce((n, l) => n + 1, 0); },
};

const cartListeners = [];
export function onCartChange(fn) { cartListeners.push(fn); }
function notifyCart() { cartListeners.forEach((fn) => fn()); }
