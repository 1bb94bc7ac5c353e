'use strict';

/**
 * Fault injection: rules that make the next requests to a path fail (a WeChat errcode, a raw
 * HTTP reply, a connection reset) or wait, consumed in insertion order.
 */

const { ERRORS_BY_CODE } = require('./errors');

/** Fault rules, consumed in insertion order by the requests whose pathname they name. */
class FaultInjector {
  #rules = [];

  add(rule) {
    const entry = normalizeRule(rule);
    this.#rules.push(entry);
    return Object.freeze({
      remaining: () => entry.remaining,
      cancel: () => {
        entry.remaining = 0;
        this.#prune();
      },
    });
  }

  take(path) {
    const entry = this.#rules.find((candidate) => candidate.path === path && candidate.remaining > 0);
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    this.#prune();
    return entry;
  }

  #prune() {
    this.#rules = this.#rules.filter((entry) => entry.remaining > 0);
  }
}

function normalizeRule(rule) {
  if (rule === null || typeof rule !== 'object') throw new TypeError('inject: rule must be an object');
  const { path, times = 1, delayMs = 0, reset = false, errcode, errmsg, status, body, headers } = rule;
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new TypeError(`inject: path must be a pathname starting with "/", got ${String(path)}`);
  }
  if (times !== Infinity && !(Number.isInteger(times) && times > 0)) {
    throw new RangeError(`inject: times must be a positive integer or Infinity, got ${String(times)}`);
  }
  if (typeof delayMs !== 'number' || Number.isNaN(delayMs) || delayMs < 0) {
    throw new RangeError(`inject: delayMs must be a number >= 0 or Infinity, got ${String(delayMs)}`);
  }
  const raw = status !== undefined || body !== undefined || headers !== undefined;
  const effects = [reset === true, raw, errcode !== undefined].filter(Boolean).length;
  if (effects > 1) throw new TypeError('inject: use only one of reset, status/body/headers, errcode');
  if (errcode !== undefined && !Number.isInteger(errcode)) throw new TypeError('inject: errcode must be an integer');
  if (errmsg !== undefined && (errcode === undefined || typeof errmsg !== 'string')) {
    throw new TypeError('inject: errmsg must be a string and needs errcode');
  }
  if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) {
    throw new RangeError(`inject: status must be an integer in 200..599, got ${String(status)}`);
  }
  if (headers !== undefined && (headers === null || typeof headers !== 'object')) {
    throw new TypeError('inject: headers must be an object');
  }

  let action = { kind: 'pass' };
  if (reset === true) {
    action = { kind: 'reset' };
  } else if (raw) {
    const encoded = encodeRawBody(body);
    action = { kind: 'raw', status: status ?? 200, headers: rawHeaders(encoded, headers ?? {}), body: encoded.data };
  } else if (errcode !== undefined) {
    // A caller's errmsg is sent verbatim (it may carry its own rid); the default one gets a fresh rid, as WeChat's do.
    action =
      errmsg === undefined
        ? { kind: 'error', errcode, errmsg: ERRORS_BY_CODE.get(errcode)?.errmsg ?? 'injected error', withRid: true }
        : { kind: 'error', errcode, errmsg, withRid: false };
  }
  return { path, remaining: times, delayMs, action };
}

/** The caller's headers, completed with a content type and length unless it set them (in any letter case). */
function rawHeaders({ data, contentType }, headers) {
  const given = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  return {
    ...(contentType !== undefined && !given.has('content-type') && { 'Content-Type': contentType }),
    ...(!given.has('content-length') && !given.has('transfer-encoding') && { 'Content-Length': String(data.length) }),
    ...headers,
  };
}

/** An injected raw body: text and bytes as given, anything else as JSON. */
function encodeRawBody(body) {
  if (body === undefined) return { data: Buffer.alloc(0), contentType: undefined };
  if (typeof body === 'string') return { data: Buffer.from(body), contentType: 'text/plain; charset=utf-8' };
  if (body instanceof Uint8Array) return { data: Buffer.from(body), contentType: 'application/octet-stream' };
  return { data: Buffer.from(JSON.stringify(body)), contentType: 'application/json; charset=utf-8' };
}

module.exports = { FaultInjector };
