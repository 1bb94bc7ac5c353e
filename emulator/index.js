'use strict';

/**
 * A local emulator of the WeChat OpenAPI endpoints that wx-openapi-native calls: access tokens
 * (classic and stable), customer-service messages, typing state and temporary media with
 * WeChat's own rules; subscribe messages, content security, mini-program codes, URL schemes and
 * phone numbers with the documented rules and codes; and every other route of the call table
 * (crates/wx-openapi/apis.json), accepted with `{ errcode: 0, errmsg: 'ok' }` and recorded.
 * It reproduces WeChat's wire format, error codes and time rules closely enough to test a client
 * against it, on loopback, with a clock that tests can move forward and faults that tests can inject.
 *
 * This file is the composition and the HTTP server; each WeChat area is a short module in
 * routes/, the state and its time rules are in state.js. Node's standard library only: the
 * emulator ships in the npm package.
 *
 *   const { startEmulator } = require('wx-openapi-native/emulator');
 *   const emulator = await startEmulator({ tokenTtl: 7200, messageLimit: 5 });
 *   // point the client at emulator.url with emulator.appid / emulator.secret, then inspect
 *   // emulator.messages and emulator.requests, move time with emulator.advanceTime(ms),
 *   // break things with emulator.inject({ path, errcode | delayMs | reset | status/body })
 *   await emulator.close();
 *
 * Types and the full API: index.d.ts.
 */

const http = require('node:http');
const crypto = require('node:crypto');
const { performance } = require('node:perf_hooks');

const { ERRORS, WxError } = require('./errors');
const { Clock, TokenStore, UserStore, MediaStore, PhoneCodeStore, TOKEN_MARK, SECOND } = require('./state');
const { FaultInjector } = require('./faults');
const { Redactor, MAX_BODY_BYTES } = require('./redact');
const { errorReply, injectedErrorReply } = require('./replies');
const { createPusher, createEmulatorPush } = require('./push');

// Every route of the emulator, one module per WeChat area; `generic` comes last and takes
// every route of the call table that no other module claimed.
const ROUTE_MODULES = [
  require('./routes/token'),
  require('./routes/customer-service'),
  require('./routes/subscribe-message'),
  require('./routes/security'),
  require('./routes/wxacode'),
  require('./routes/urlscheme'),
  require('./routes/phonenumber'),
  require('./routes/generic'),
];

/** The pages of the emulated mini program unless `pages` says otherwise: codes, schemes and subscribe messages may point there. */
const DEFAULT_PAGES = ['pages/index/index'];
/** WeChat's own example of risky text in the msgSecCheck docs; `riskyWords` replaces it. */
const DEFAULT_RISKY_WORDS = ['特3456书yuuo莞6543李zxcz蒜7782法fgnv级'];
/** msgSecCheck v2's label for "illegal or criminal" content, the default of a risky word. */
const DEFAULT_RISK_LABEL = 20006;

// Every default secret the emulator makes starts with this (and every token with TOKEN_MARK),
// so that a test run's whole output can be scanned for leaks without knowing the values.
const SECRET_MARK = 'wxemuSK';

/** setTimeout cannot wait longer than this (it would fire at once); longer delays mean "never". */
const MAX_TIMER_MS = 2 ** 31 - 1;

// ---------------------------------------------------------------------------
// The WeChat API proper: one router over the routes of every module.
// A handler gets a parsed call and returns a reply, or throws a WxError.
// ---------------------------------------------------------------------------

class WeChatApi {
  #tokenless;
  #tokens;
  #routes = new Map();

  constructor(context) {
    this.#tokenless = context.tokenless;
    this.#tokens = context.tokens;
    for (const makeRoutes of ROUTE_MODULES) {
      for (const route of makeRoutes({ ...context, claimed: this.#routes })) {
        if (this.#routes.has(route.path)) throw new Error(`emulator: two routes for ${route.path}`);
        this.#routes.set(route.path, route);
      }
    }
  }

  /** @returns a reply `{ status, headers, body, errcode }` */
  handle(call) {
    try {
      if (call.size > MAX_BODY_BYTES) return errorReply(ERRORS.CONTENT_SIZE_OUT_OF_LIMIT, 413);
      const route = this.#routes.get(call.path);
      if (route === undefined) return errorReply(ERRORS.INVALID_URL, 404);
      if (call.method !== route.method) {
        throw new WxError(route.method === 'GET' ? ERRORS.REQUIRE_GET_METHOD : ERRORS.REQUIRE_POST_METHOD);
      }
      if (route.auth) this.#authenticate(call.query.access_token);
      return route.handle(call);
    } catch (error) {
      if (error instanceof WxError) return errorReply(error);
      // A bug in the emulator: answer like WeChat's "system busy" rather than dropping the connection.
      process.emitWarning(error);
      return errorReply(ERRORS.SYSTEM_ERROR, 500);
    }
  }

  #authenticate(token) {
    if (token === undefined || token === '') {
      // The Cloud Run open API service authenticates the container itself; no token is needed.
      if (this.#tokenless) return;
      throw new WxError(ERRORS.ACCESS_TOKEN_MISSING);
    }
    this.#tokens.verify(token);
  }
}

// ---------------------------------------------------------------------------
// HTTP front end: reading, recording, fault injection, stats, shutdown.
// ---------------------------------------------------------------------------

class Emulator {
  #clock;
  #api;
  #faults = new FaultInjector();
  #redactor;
  #onLog;
  #server;
  #sockets = new Set();
  #timers = new Set();
  #waiters = [];
  #inFlight = 0;
  #maxInFlight = 0;
  #closing = null;

  requests = [];

  constructor({ clock, api, redactor, onLog }) {
    this.#clock = clock;
    this.#api = api;
    this.#redactor = redactor;
    this.#onLog = onLog;
    this.#server = http.createServer((req, res) => {
      this.#serve(req, res).catch((error) => {
        process.emitWarning(error);
        res.destroy();
      });
    });
    // Tracked by hand rather than with server.closeAllConnections() (Node >= 18.2), which the package's engines do not guarantee.
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  listen(port, host) {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address().port);
      });
    });
  }

  inject(rule) {
    return this.#faults.add(rule);
  }

  stats() {
    return { inFlight: this.#inFlight, maxInFlight: this.#maxInFlight };
  }

  resetStats() {
    this.#maxInFlight = this.#inFlight;
  }

  waitForRequests(count) {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('waitForRequests: count must be an integer >= 0');
    if (this.#closing !== null) return Promise.reject(new Error('wx-openapi emulator is closed'));
    if (this.requests.length >= count) return Promise.resolve(this.requests);
    return new Promise((resolve, reject) => this.#waiters.push({ count, resolve, reject }));
  }

  close() {
    this.#closing ??= new Promise((resolve) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error('wx-openapi emulator closed'));
      this.#server.close(() => resolve());
      // Keep-alive and deliberately unanswered connections would otherwise keep close() waiting.
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closing;
  }

  async #serve(req, res) {
    const startedAt = performance.now();
    const url = new URL(req.url, 'http://emulator.invalid');
    const query = firstValues(url.searchParams);
    const state = { path: url.pathname, injected: false, reset: false, status: null, errcode: undefined };

    this.#inFlight += 1;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    // 'close' fires once per response, whether it was answered, reset or abandoned.
    res.once('close', () => {
      this.#inFlight -= 1;
      this.#onLog?.({
        method: req.method,
        path: state.path,
        query: this.#redactor.query(query),
        status: state.status,
        errcode: state.errcode,
        durationMs: performance.now() - startedAt,
        injected: state.injected,
        outcome: state.reset ? 'reset' : res.writableFinished ? 'answered' : 'aborted',
      });
    });

    let body;
    try {
      body = await readBody(req);
    } catch {
      return; // the client went away mid-body; there is nothing to answer
    }
    if (this.#closing !== null) return;

    const json = body.data.length > 0 ? parseJson(body.data) : undefined;
    const call = {
      method: req.method,
      path: url.pathname,
      query,
      headers: req.headers,
      body: body.data,
      json,
      size: body.size,
      at: this.#clock.now(),
    };
    this.#record(this.#redactor.record(call));

    const rule = this.#faults.take(call.path);
    if (rule === undefined) return this.#reply(res, state, this.#api.handle(call));

    state.injected = true;
    // A delayed request is still processed if its client gives up meanwhile, as WeChat would:
    // that is exactly the case where a client must not send the message a second time.
    if (rule.delayMs > 0) await this.#sleep(rule.delayMs);
    const { action } = rule;
    switch (action.kind) {
      case 'reset':
        state.reset = true;
        resetSocket(req.socket);
        return undefined;
      case 'raw':
        return this.#reply(res, state, { status: action.status, headers: action.headers, body: action.body, errcode: undefined });
      case 'error':
        return this.#reply(res, state, injectedErrorReply(action));
      default:
        return this.#reply(res, state, this.#api.handle(call));
    }
  }

  #record(entry) {
    this.requests.push(entry);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (this.requests.length < waiter.count) return true;
      waiter.resolve(this.requests);
      return false;
    });
  }

  #reply(res, state, reply) {
    // The client gave up during an injected delay: the request was processed, but nobody is listening.
    if (res.destroyed) return;
    state.status = reply.status;
    state.errcode = reply.errcode;
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  }

  /** Resolves after `ms` real milliseconds, or never: close() clears the timer, and Infinity has none. */
  #sleep(ms) {
    return new Promise((resolve) => {
      if (ms > MAX_TIMER_MS) return;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }
}

/** Reads a body, keeping at most MAX_BODY_BYTES: a larger one is drained so its client still gets the 413. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.once('end', () => resolve({ size, data: size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : Buffer.alloc(0) }));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
  });
}

/** The query as an object; the first value of a repeated parameter wins, as with URLSearchParams.get(). */
function firstValues(searchParams) {
  const values = new Map();
  for (const [key, value] of searchParams) if (!values.has(key)) values.set(key, value);
  // fromEntries defines own properties, so a "__proto__" parameter is just a key.
  return Object.fromEntries(values);
}

function parseJson(buffer) {
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** An RST where the platform allows it (Node >= 18.3), so the client sees ECONNRESET rather than a clean close. */
function resetSocket(socket) {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

// ---------------------------------------------------------------------------
// Public entry point
// ---------------------------------------------------------------------------

function normalizeOptions(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('startEmulator: options must be an object');
  const {
    port = 0,
    host = '127.0.0.1',
    appid = `wx${crypto.randomBytes(8).toString('hex')}`,
    secret = SECRET_MARK + crypto.randomBytes(13).toString('hex'),
    tokenTtl = 7200,
    openids,
    messageLimit = 5,
    tokenless = false,
    defaultWindow = true,
    pages = DEFAULT_PAGES,
    riskyWords = DEFAULT_RISKY_WORDS,
    onLog,
  } = options;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new RangeError(`startEmulator: invalid port ${String(port)}`);
  if (typeof host !== 'string' || host === '') throw new TypeError('startEmulator: host must be a non-empty string');
  if (typeof appid !== 'string' || appid === '') throw new TypeError('startEmulator: appid must be a non-empty string');
  if (typeof secret !== 'string' || secret === '') throw new TypeError('startEmulator: secret must be a non-empty string');
  if (!(typeof tokenTtl === 'number' && Number.isFinite(tokenTtl) && tokenTtl > 0)) {
    throw new RangeError(`startEmulator: tokenTtl must be a number of seconds > 0, got ${String(tokenTtl)}`);
  }
  if (!((Number.isInteger(messageLimit) && messageLimit >= 0) || messageLimit === Infinity)) {
    throw new RangeError(`startEmulator: messageLimit must be an integer >= 0 or Infinity, got ${String(messageLimit)}`);
  }
  let openidList;
  if (openids !== undefined) {
    if (openids === null || typeof openids[Symbol.iterator] !== 'function' || typeof openids === 'string') {
      throw new TypeError('startEmulator: openids must be an array of strings');
    }
    openidList = [...openids];
    if (!openidList.every((openid) => typeof openid === 'string' && openid !== '')) {
      throw new TypeError('startEmulator: openids must be non-empty strings');
    }
  }
  if (onLog !== undefined && typeof onLog !== 'function') throw new TypeError('startEmulator: onLog must be a function');
  const pageList = nonEmptyStrings('pages', pages);
  const riskyWordList = nonEmptyStrings('riskyWords', riskyWords);
  return {
    port,
    host,
    appid,
    secret,
    tokenTtl,
    openids: openidList,
    messageLimit,
    tokenless: Boolean(tokenless),
    defaultWindow: Boolean(defaultWindow),
    pages: pageList,
    riskyWords: riskyWordList,
    onLog,
  };
}

function nonEmptyStrings(name, values) {
  if (values === null || typeof values !== 'object' || typeof values[Symbol.iterator] !== 'function') {
    throw new TypeError(`startEmulator: ${name} must be an array of strings`);
  }
  const list = [...values];
  if (!list.every((value) => typeof value === 'string' && value !== '')) throw new TypeError(`startEmulator: ${name} must be non-empty strings`);
  return list;
}

/**
 * Starts an emulator listening on `host:port` (port 0: any free port).
 * @param {import('./index').EmulatorOptions} [options]
 * @returns {Promise<import('./index').Emulator>}
 */
async function startEmulator(options = {}) {
  const config = normalizeOptions(options);
  // WeChat's message push to options.push.url (push.js); checked before anything listens.
  const pushing = createEmulatorPush(options.push, { appid: config.appid, userMessaged: (openid) => users.messaged(openid) });
  const clock = new Clock();
  const tokens = new TokenStore(clock, config.tokenTtl * SECOND);
  const users = new UserStore(clock, config);
  const media = new MediaStore(clock);
  const messages = [];
  const subscribeMessages = [];
  const phoneCodes = new PhoneCodeStore(clock);
  const pages = new Set(config.pages);
  // word -> msgSecCheck label; a Map so that addRiskyWord() reaches the security routes.
  const riskyWords = new Map(config.riskyWords.map((word) => [word, DEFAULT_RISK_LABEL]));
  const api = new WeChatApi({ ...config, clock, tokens, users, media, messages, subscribeMessages, phoneCodes, pages, riskyWords });
  const redactor = new Redactor(function* knownSecrets() {
    yield config.secret;
    yield* tokens.issued();
  });
  const emulator = new Emulator({ clock, api, redactor, onLog: config.onLog });
  const port = await emulator.listen(config.port, config.host);
  const hostInUrl = config.host.includes(':') ? `[${config.host}]` : config.host;

  return Object.freeze({
    url: `http://${hostInUrl}:${port}`,
    appid: config.appid,
    secret: config.secret,
    messages,
    subscribeMessages,
    ...pushing.api,
    requests: emulator.requests,
    inject: (rule) => emulator.inject(rule),
    expireTokens: () => tokens.expireAll(),
    userMessaged: (openid) => {
      if (typeof openid !== 'string' || openid === '') throw new TypeError('userMessaged: openid must be a non-empty string');
      users.messaged(openid);
    },
    addMedia: (data, contentType = 'application/octet-stream', filename = 'media', mediaId = undefined) => {
      if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
        throw new TypeError('addMedia: data must be a Buffer, a Uint8Array or a string');
      }
      for (const [name, value] of [['contentType', contentType], ['filename', filename]]) {
        if (typeof value !== 'string' || value === '') throw new TypeError(`addMedia: ${name} must be a non-empty string`);
      }
      // A chosen id lets tests use literal ids such as the seed's "MEDIA_ID".
      if (mediaId !== undefined && (typeof mediaId !== 'string' || mediaId === '')) {
        throw new TypeError('addMedia: mediaId must be a non-empty string');
      }
      return media.add({ type: 'image', data, contentType, filename, mediaId }).mediaId;
    },
    userSubscribed: (openid, templateId, count = 1) => {
      if (typeof openid !== 'string' || openid === '') throw new TypeError('userSubscribed: openid must be a non-empty string');
      if (typeof templateId !== 'string' || templateId === '') throw new TypeError('userSubscribed: templateId must be a non-empty string');
      if (!((Number.isInteger(count) && count > 0) || count === Infinity)) {
        throw new RangeError('userSubscribed: count must be a positive integer or Infinity');
      }
      users.subscribed(openid, templateId, count);
    },
    addRiskyWord: (word, label = DEFAULT_RISK_LABEL) => {
      if (typeof word !== 'string' || word === '') throw new TypeError('addRiskyWord: word must be a non-empty string');
      if (!Number.isInteger(label)) throw new TypeError('addRiskyWord: label must be an integer');
      riskyWords.set(word, label);
    },
    addPage: (page) => {
      if (typeof page !== 'string' || page === '' || page.startsWith('/')) throw new TypeError('addPage: page must be a path such as "pages/item/item"');
      pages.add(page);
    },
    phoneCode: (phoneNumber = '13800138000', countryCode = '86') => {
      if (typeof phoneNumber !== 'string' || !/^[0-9]{5,20}$/.test(phoneNumber)) throw new TypeError('phoneCode: phoneNumber must be digits');
      if (typeof countryCode !== 'string' || !/^[0-9]{1,4}$/.test(countryCode)) throw new TypeError('phoneCode: countryCode must be digits');
      return phoneCodes.issue(phoneNumber, countryCode);
    },
    advanceTime: (ms) => clock.advance(ms),
    now: () => clock.now(),
    stats: () => emulator.stats(),
    resetStats: () => emulator.resetStats(),
    waitForRequests: (count) => emulator.waitForRequests(count),
    close: () => {
      pushing.close();
      return emulator.close();
    },
  });
}

module.exports = { startEmulator, createPusher, ERRORS, TOKEN_MARK, SECRET_MARK };
