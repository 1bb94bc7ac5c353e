'use strict';

/**
 * A local emulator of the WeChat OpenAPI endpoints that wx-openapi-native calls:
 * access tokens (classic and stable), customer-service messages, typing state and
 * temporary media. It reproduces WeChat's wire format, error codes and time rules
 * closely enough to test a client against it, on loopback, with a clock that tests
 * can move forward and faults that tests can inject.
 *
 * Node's standard library only: this file ships in the npm package.
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

// Every token and default secret the emulator makes starts with one of these, so that a test run's
// whole output can be scanned for leaks (scripts/scan-secrets.js) without knowing the values.
const TOKEN_MARK = 'wxemuAT_';
const SECRET_MARK = 'wxemuSK';
const { performance } = require('node:perf_hooks');

// ---------------------------------------------------------------------------
// WeChat's limits. Every duration is measured on the emulator clock.
// ---------------------------------------------------------------------------

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** WeChat's front end refuses request bodies above 20 MB. */
const MAX_BODY_BYTES = 20 * 1024 * 1024;
/** A superseded token keeps working this long, so callers holding it are not broken by a refresh. */
const TOKEN_GRACE_MS = 5 * MINUTE;
/** stable_token allows one forced refresh per 30 s ... */
const FORCE_REFRESH_MIN_INTERVAL_MS = 30 * SECOND;
/** ... and 20 per day. */
const FORCE_REFRESH_DAILY_LIMIT = 20;
/** WeChat's daily quotas reset at midnight Beijing time (UTC+8, no daylight saving). */
const QUOTA_DAY_OFFSET_MS = 8 * HOUR;
/** A user's message opens a 48-hour window in which the app may reply. */
const SERVICE_WINDOW_MS = 48 * HOUR;
/** How long a "Typing" indicator lasts unless cancelled. */
const TYPING_MS = 15 * SECOND;
/** setTimeout cannot wait longer than this (it would fire at once); longer delays mean "never". */
const MAX_TIMER_MS = 2 ** 31 - 1;

const REDACTED = '[redacted]';
/** Query and JSON keys whose values are credentials. */
const SECRET_KEYS = new Set(['access_token', 'secret']);
/** Request headers that may carry credentials of some other kind (a proxy's, a cookie). */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);
/**
 * Known credentials (the AppSecret, issued tokens) are also scrubbed wherever they
 * appear in a recorded request; shorter ones are skipped, as replacing every
 * occurrence of a two-letter secret would mangle unrelated text.
 */
const MIN_SCRUBBED_LENGTH = 8;

// ---------------------------------------------------------------------------
// The error table: the single source of every errcode/errmsg the emulator sends.
// ---------------------------------------------------------------------------

const ERRORS = deepFreeze({
  SYSTEM_ERROR: { errcode: -1, errmsg: 'system error' },
  INVALID_CREDENTIAL: { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' },
  INVALID_GRANT_TYPE: { errcode: 40002, errmsg: 'invalid grant_type' },
  INVALID_OPENID: { errcode: 40003, errmsg: 'invalid openid' },
  INVALID_MEDIA_TYPE: { errcode: 40004, errmsg: 'invalid media type' },
  INVALID_MEDIA_ID: { errcode: 40007, errmsg: 'invalid media_id' },
  INVALID_MESSAGE_TYPE: { errcode: 40008, errmsg: 'invalid message type' },
  INVALID_APPID: { errcode: 40013, errmsg: 'invalid appid' },
  INVALID_URL: { errcode: 40066, errmsg: 'invalid url' },
  INVALID_APPSECRET: { errcode: 40125, errmsg: 'invalid appsecret' },
  ACCESS_TOKEN_MISSING: { errcode: 41001, errmsg: 'access_token missing' },
  APPID_MISSING: { errcode: 41002, errmsg: 'appid missing' },
  APPSECRET_MISSING: { errcode: 41004, errmsg: 'appsecret missing' },
  MEDIA_DATA_MISSING: { errcode: 41005, errmsg: 'media data missing' },
  ACCESS_TOKEN_EXPIRED: { errcode: 42001, errmsg: 'access_token expired' },
  REQUIRE_GET_METHOD: { errcode: 43001, errmsg: 'require GET method' },
  REQUIRE_POST_METHOD: { errcode: 43002, errmsg: 'require POST method' },
  EMPTY_POST_DATA: { errcode: 44002, errmsg: 'empty post data' },
  CONTENT_SIZE_OUT_OF_LIMIT: { errcode: 45002, errmsg: 'content size out of limit' },
  DAILY_QUOTA_REACHED: { errcode: 45009, errmsg: 'reach max api daily quota limit' },
  MINUTE_QUOTA_REACHED: { errcode: 45011, errmsg: 'api minute-quota reach limit  mustslower  retry next time' },
  RESPONSE_OUT_OF_TIME_LIMIT: { errcode: 45015, errmsg: 'response out of time limit or subscription is canceled' },
  RESPONSE_COUNT_LIMIT: { errcode: 45047, errmsg: 'out of response count limit' },
  INVALID_TYPING_COMMAND: { errcode: 45072, errmsg: 'command invalid' },
  USER_NOT_INTERACTED: { errcode: 45080, errmsg: 'user has not interacted recently' },
  ALREADY_TYPING: { errcode: 45081, errmsg: 'user is already in typing state' },
  DATA_FORMAT_ERROR: { errcode: 47001, errmsg: 'data format error' },
});

/** Injected errcodes reuse WeChat's wording when the code is one the emulator knows. */
const ERRORS_BY_CODE = new Map(Object.values(ERRORS).map((error) => [error.errcode, error]));

/** A WeChat error raised by a handler; the router turns it into a JSON reply. */
class WxError extends Error {
  constructor(error, hint) {
    const errmsg = hint === undefined ? error.errmsg : `${error.errmsg} hint: [${hint}]`;
    super(errmsg);
    this.errcode = error.errcode;
    this.errmsg = errmsg;
  }
}

// ---------------------------------------------------------------------------
// customerServiceMessage.send: the message types of the seed and their required fields.
// ---------------------------------------------------------------------------

const MESSAGE_TYPES = new Map([
  ['text', { required: ['content'] }],
  ['image', { required: ['media_id'], mediaField: 'media_id' }],
  ['link', { required: ['title', 'description', 'url', 'thumb_url'] }],
  ['miniprogrampage', { required: ['title', 'pagepath', 'thumb_media_id'], mediaField: 'thumb_media_id' }],
]);

const TYPING_COMMANDS = new Set(['Typing', 'CancelTyping']);

// ---------------------------------------------------------------------------
// State: clock, tokens, users, media, fault rules.
// ---------------------------------------------------------------------------

/** Real time plus an offset that only moves forward, so tests can jump over hours without waiting. */
class Clock {
  #offsetMs = 0;

  now() {
    return Date.now() + this.#offsetMs;
  }

  advance(ms) {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`advanceTime: ms must be a finite number >= 0, got ${String(ms)}`);
    }
    this.#offsetMs += ms;
    return this.now();
  }
}

class TokenStore {
  #clock;
  #ttlMs;
  /** token -> expiry time; tokens are never forgotten, so a stale one reads as expired, not unknown. */
  #expiries = new Map();
  #latest = null;
  #forcedDay = NaN;
  #forcedToday = 0;
  #lastForcedAt = -Infinity;

  constructor(clock, ttlMs) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  /** Issues a new token; the one it supersedes stays valid for the grace period at most. */
  issue() {
    const now = this.#clock.now();
    if (this.#latest !== null) {
      const previousExpiry = this.#expiries.get(this.#latest);
      this.#expiries.set(this.#latest, Math.min(previousExpiry, now + TOKEN_GRACE_MS));
    }
    const token = TOKEN_MARK + crypto.randomBytes(45).toString('base64url');
    this.#expiries.set(token, now + this.#ttlMs);
    this.#latest = token;
    return { token, expiresInMs: this.#ttlMs };
  }

  /** The latest token if it is still valid, else null. */
  current() {
    if (this.#latest === null) return null;
    const remainingMs = this.#expiries.get(this.#latest) - this.#clock.now();
    return remainingMs > 0 ? { token: this.#latest, expiresInMs: remainingMs } : null;
  }

  verify(token) {
    const expiry = this.#expiries.get(token);
    if (expiry === undefined) throw new WxError(ERRORS.INVALID_CREDENTIAL);
    if (expiry <= this.#clock.now()) throw new WxError(ERRORS.ACCESS_TOKEN_EXPIRED);
  }

  expireAll() {
    const now = this.#clock.now();
    for (const [token, expiry] of this.#expiries) this.#expiries.set(token, Math.min(expiry, now));
  }

  /** Counts a stable_token force_refresh against WeChat's quotas, or refuses it. */
  chargeForcedRefresh() {
    const now = this.#clock.now();
    const day = Math.floor((now + QUOTA_DAY_OFFSET_MS) / DAY);
    if (day !== this.#forcedDay) {
      this.#forcedDay = day;
      this.#forcedToday = 0;
    }
    if (this.#forcedToday >= FORCE_REFRESH_DAILY_LIMIT) throw new WxError(ERRORS.DAILY_QUOTA_REACHED);
    if (now - this.#lastForcedAt < FORCE_REFRESH_MIN_INTERVAL_MS) throw new WxError(ERRORS.MINUTE_QUOTA_REACHED);
    this.#forcedToday += 1;
    this.#lastForcedAt = now;
  }

  issued() {
    return this.#expiries.keys();
  }
}

/** Per-user service windows, message counts and typing state. */
class UserStore {
  #clock;
  #openids;
  #messageLimit;
  #defaultWindowStart;
  #users = new Map();

  constructor(clock, { openids, messageLimit, defaultWindow }) {
    this.#clock = clock;
    this.#openids = openids === undefined ? null : new Set(openids);
    this.#messageLimit = messageLimit;
    // Users start with a window opened "at emulator start" so that a plain send works out of the box;
    // created lazily, which is the same thing for users that are not in a fixed list.
    this.#defaultWindowStart = defaultWindow ? clock.now() : -Infinity;
  }

  /** 40003 unless `openid` is a plausible user of this app. */
  checkOpenid(openid) {
    if (typeof openid !== 'string' || openid === '') throw new WxError(ERRORS.INVALID_OPENID);
    if (this.#openids !== null && !this.#openids.has(openid)) throw new WxError(ERRORS.INVALID_OPENID);
  }

  messaged(openid) {
    const user = this.#user(openid);
    user.windowStart = this.#clock.now();
    user.sent = 0;
  }

  /** Accounts for one customer-service message, or refuses it. */
  deliver(openid) {
    const user = this.#openUser(openid, ERRORS.RESPONSE_OUT_OF_TIME_LIMIT);
    if (user.sent >= this.#messageLimit) throw new WxError(ERRORS.RESPONSE_COUNT_LIMIT);
    user.sent += 1;
    // The message replaces the typing indicator on the user's screen.
    user.typingUntil = -Infinity;
  }

  setTyping(openid, typing) {
    const user = this.#openUser(openid, ERRORS.USER_NOT_INTERACTED);
    const now = this.#clock.now();
    if (!typing) {
      user.typingUntil = -Infinity;
    } else if (now < user.typingUntil) {
      throw new WxError(ERRORS.ALREADY_TYPING);
    } else {
      user.typingUntil = now + TYPING_MS;
    }
  }

  #openUser(openid, closedError) {
    const user = this.#user(openid);
    if (this.#clock.now() >= user.windowStart + SERVICE_WINDOW_MS) throw new WxError(closedError);
    return user;
  }

  #user(openid) {
    let user = this.#users.get(openid);
    if (user === undefined) {
      user = { windowStart: this.#defaultWindowStart, sent: 0, typingUntil: -Infinity };
      this.#users.set(openid, user);
    }
    return user;
  }
}

class MediaStore {
  #clock;
  #items = new Map();

  constructor(clock) {
    this.#clock = clock;
  }

  add({ type, data, contentType, filename, mediaId = crypto.randomBytes(48).toString('base64url') }) {
    const createdAt = Math.floor(this.#clock.now() / SECOND);
    this.#items.set(mediaId, { type, data: Buffer.from(data), contentType, filename, createdAt });
    return { mediaId, createdAt };
  }

  get(mediaId) {
    return typeof mediaId === 'string' ? this.#items.get(mediaId) : undefined;
  }
}

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

// ---------------------------------------------------------------------------
// The WeChat API proper: one router, one handler per endpoint.
// A handler gets a parsed call and returns a reply, or throws a WxError.
// ---------------------------------------------------------------------------

class WeChatApi {
  #appid;
  #secret;
  #tokenless;
  #tokens;
  #users;
  #media;
  #messages;
  #routes;

  constructor({ appid, secret, tokenless, tokens, users, media, messages }) {
    this.#appid = appid;
    this.#secret = secret;
    this.#tokenless = tokenless;
    this.#tokens = tokens;
    this.#users = users;
    this.#media = media;
    this.#messages = messages;
    this.#routes = new Map([
      ['/cgi-bin/token', { method: 'GET', auth: false, handle: (call) => this.#classicToken(call) }],
      ['/cgi-bin/stable_token', { method: 'POST', auth: false, handle: (call) => this.#stableToken(call) }],
      ['/cgi-bin/message/custom/send', { method: 'POST', auth: true, handle: (call) => this.#send(call) }],
      ['/cgi-bin/message/custom/typing', { method: 'POST', auth: true, handle: (call) => this.#typing(call) }],
      ['/cgi-bin/media/upload', { method: 'POST', auth: true, handle: (call) => this.#upload(call) }],
      ['/cgi-bin/media/get', { method: 'GET', auth: true, handle: (call) => this.#getMedia(call) }],
    ]);
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

  #checkCredentials({ grant_type: grantType, appid, secret }) {
    if (grantType !== 'client_credential') throw new WxError(ERRORS.INVALID_GRANT_TYPE);
    if (appid === undefined || appid === '') throw new WxError(ERRORS.APPID_MISSING);
    if (appid !== this.#appid) throw new WxError(ERRORS.INVALID_APPID);
    if (secret === undefined || secret === '') throw new WxError(ERRORS.APPSECRET_MISSING);
    if (secret !== this.#secret) throw new WxError(ERRORS.INVALID_APPSECRET);
  }

  /** GET /cgi-bin/token: a new token on every call. */
  #classicToken({ query }) {
    this.#checkCredentials(query);
    return tokenReply(this.#tokens.issue());
  }

  /** POST /cgi-bin/stable_token: the current token, unless there is none or a refresh is forced. */
  #stableToken({ body, json }) {
    const params = requireJsonObject(body, json, ERRORS.DATA_FORMAT_ERROR);
    this.#checkCredentials(params);
    if (params.force_refresh === true) {
      this.#tokens.chargeForcedRefresh();
      return tokenReply(this.#tokens.issue());
    }
    return tokenReply(this.#tokens.current() ?? this.#tokens.issue());
  }

  /** POST /cgi-bin/message/custom/send */
  #send({ body, json }) {
    const message = requireJsonObject(body, json, ERRORS.EMPTY_POST_DATA);
    const type = MESSAGE_TYPES.get(message.msgtype);
    if (type === undefined) throw new WxError(ERRORS.INVALID_MESSAGE_TYPE);
    const content = message[message.msgtype];
    if (!isPlainObject(content)) throw new WxError(ERRORS.DATA_FORMAT_ERROR, `${message.msgtype} is required`);
    for (const field of type.required) {
      if (typeof content[field] !== 'string' || content[field] === '') {
        throw new WxError(ERRORS.DATA_FORMAT_ERROR, `${message.msgtype}.${field} must be a non-empty string`);
      }
    }
    if (type.mediaField !== undefined && this.#media.get(content[type.mediaField]) === undefined) {
      throw new WxError(ERRORS.INVALID_MEDIA_ID);
    }
    this.#users.checkOpenid(message.touser);
    this.#users.deliver(message.touser);
    this.#messages.push(message);
    return okReply();
  }

  /** POST /cgi-bin/message/custom/typing */
  #typing({ body, json }) {
    const { touser, command } = requireJsonObject(body, json, ERRORS.EMPTY_POST_DATA);
    if (!TYPING_COMMANDS.has(command)) throw new WxError(ERRORS.INVALID_TYPING_COMMAND);
    this.#users.checkOpenid(touser);
    this.#users.setTyping(touser, command === 'Typing');
    return okReply();
  }

  /** POST /cgi-bin/media/upload?type=image, multipart field `media` */
  #upload({ query, headers, body }) {
    if (query.type !== 'image') throw new WxError(ERRORS.INVALID_MEDIA_TYPE);
    const parts = parseMultipart(body, headers['content-type']);
    // Like WeChat, only a file part counts: a plain form field named "media" carries no file.
    const file = parts.find((part) => part.name === 'media' && part.filename !== undefined && part.data.length > 0);
    if (file === undefined) throw new WxError(ERRORS.MEDIA_DATA_MISSING);
    const { mediaId, createdAt } = this.#media.add({
      type: 'image',
      data: file.data,
      contentType: file.contentType ?? 'application/octet-stream',
      filename: file.filename,
    });
    // WeChat's upload reply has no errcode on success.
    return jsonReply({ type: 'image', media_id: mediaId, created_at: createdAt });
  }

  /** GET /cgi-bin/media/get?media_id= */
  #getMedia({ query }) {
    const item = this.#media.get(query.media_id);
    if (item === undefined) throw new WxError(ERRORS.INVALID_MEDIA_ID);
    return {
      status: 200,
      headers: {
        'Content-Type': item.contentType,
        'Content-disposition': contentDisposition(item.filename),
        'Content-Length': String(item.data.length),
        'Cache-Control': 'no-cache, must-revalidate',
      },
      body: item.data,
      errcode: undefined,
    };
  }
}

/** The body as a JSON object, or the WeChat error for an empty or malformed one. */
function requireJsonObject(body, json, emptyError) {
  if (body.length === 0) throw new WxError(emptyError);
  if (!isPlainObject(json)) throw new WxError(ERRORS.DATA_FORMAT_ERROR);
  return json;
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// ---------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------

function jsonReply(payload, status = 200) {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(body.length) },
    body,
    errcode: payload.errcode ?? 0,
  };
}

function okReply() {
  return jsonReply({ errcode: 0, errmsg: 'ok' });
}

/** WeChat's token reply: no errcode on success, and expires_in counts what is left of the token. */
function tokenReply({ token, expiresInMs }) {
  return jsonReply({ access_token: token, expires_in: Math.ceil(expiresInMs / SECOND) });
}

/** WeChat appends a request id to every error message; clients must not match errmsg exactly. */
function errorReply({ errcode, errmsg }, status = 200) {
  const rid = crypto.randomBytes(12).toString('hex');
  return jsonReply({ errcode, errmsg: `${errmsg} rid: ${rid}` }, status);
}

function injectedErrorReply({ errcode, errmsg, withRid }) {
  return withRid ? errorReply({ errcode, errmsg }) : jsonReply({ errcode, errmsg });
}

/** RFC 6266: an ASCII fallback, plus the exact name in RFC 5987 form when it is not plain ASCII. */
function contentDisposition(filename) {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  if (fallback === filename) return `attachment; filename="${filename}"`;
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

// ---------------------------------------------------------------------------
// multipart/form-data (RFC 7578), on Buffers so that binary files survive intact.
// ---------------------------------------------------------------------------

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const DASH = 0x2d;

/** @returns the parts `{ name, filename, contentType, data }`; none when the body is not multipart. */
function parseMultipart(body, contentTypeHeader) {
  if (typeof contentTypeHeader !== 'string') return [];
  const [mime] = contentTypeHeader.split(';');
  const { boundary } = parseHeaderParams(contentTypeHeader);
  if (mime.trim().toLowerCase() !== 'multipart/form-data' || !boundary) return [];

  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.concat([CRLF, delimiter]);
  const parts = [];
  let position = body.indexOf(delimiter);
  while (position !== -1) {
    position += delimiter.length;
    if (body[position] === DASH && body[position + 1] === DASH) break; // the close delimiter
    // RFC 2046 allows linear whitespace after a delimiter.
    while (body[position] === 0x20 || body[position] === 0x09) position += 1;
    if (!body.subarray(position, position + 2).equals(CRLF)) break;
    position += 2;

    // Searching from the CRLF that ended the delimiter line also finds the blank line of a part without headers.
    const headerEnd = body.indexOf(HEADER_END, position - CRLF.length);
    if (headerEnd === -1) break;
    const dataStart = headerEnd + HEADER_END.length;
    const dataEnd = body.indexOf(nextDelimiter, dataStart);
    if (dataEnd === -1) break; // truncated: a part without its closing delimiter is not trusted
    const headers = parsePartHeaders(body.toString('utf8', position, Math.max(position, headerEnd)));
    parts.push({ ...headers, data: body.subarray(dataStart, dataEnd) });
    position = dataEnd + CRLF.length;
  }
  return parts;
}

function parsePartHeaders(text) {
  const part = { name: undefined, filename: undefined, contentType: undefined };
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-type') {
      part.contentType = value;
    } else if (name === 'content-disposition') {
      const params = parseHeaderParams(value);
      part.name = params.name;
      part.filename = params['filename*'] !== undefined ? decodeExtValue(params['filename*']) ?? params.filename : params.filename;
    }
  }
  return part;
}

/** The `key=value` parameters after the first `;` of a header, quoted strings unescaped. */
function parseHeaderParams(value) {
  const params = new Map();
  for (const match of value.matchAll(/;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
    const key = match[1].toLowerCase();
    if (!params.has(key)) params.set(key, match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3].trim());
  }
  return Object.fromEntries(params);
}

/** RFC 5987 `charset'lang'pct-encoded`; undefined when it cannot be decoded. */
function decodeExtValue(value) {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (match === null || !/^utf-8$/i.test(match[1])) return undefined;
  try {
    return decodeURIComponent(match[2]);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Redaction of recorded requests
// ---------------------------------------------------------------------------

class Redactor {
  #knownSecrets;

  /** @param knownSecrets a function returning the credentials to scrub wherever they occur */
  constructor(knownSecrets) {
    this.#knownSecrets = knownSecrets;
  }

  /** A recorded copy of a request with no credential left in it. */
  record({ method, path, query, headers, body, json, size, at }) {
    const scrub = this.#scrubber();
    const contentType = headers['content-type'];
    return {
      method,
      path,
      query: this.query(query, scrub),
      headers: Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [
          name,
          SECRET_HEADERS.has(name) ? REDACTED : Array.isArray(value) ? value.map(scrub) : scrub(value),
        ]),
      ),
      contentType,
      body: json === undefined ? undefined : redactJson(json, scrub),
      rawBody: describeRawBody(body, json, size, contentType, scrub),
      at,
    };
  }

  /** A function replacing every known credential in a string. */
  #scrubber() {
    const secrets = [...this.#knownSecrets()].filter((secret) => secret.length >= MIN_SCRUBBED_LENGTH);
    return (text) => secrets.reduce((result, secret) => (result.includes(secret) ? result.split(secret).join(REDACTED) : result), text);
  }

  /** The query with its credential parameters masked (also what the CLI logs). */
  query(query, scrub = this.#scrubber()) {
    return Object.fromEntries(
      Object.entries(query).map(([key, value]) => [key, SECRET_KEYS.has(key) ? REDACTED : scrub(value)]),
    );
  }
}

/** A deep copy of a JSON value with credential keys masked and known secrets scrubbed. */
function redactJson(value, scrub) {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((item) => redactJson(item, scrub));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, SECRET_KEYS.has(key) ? REDACTED : redactJson(item, scrub)]),
  );
}

function describeRawBody(body, json, size, contentType, scrub) {
  if (size > MAX_BODY_BYTES) return `<body too large: ${size} bytes>`;
  if (typeof contentType === 'string' && /^\s*multipart\//i.test(contentType)) {
    return `<${contentType.split(';')[0].trim()} body: ${size} bytes>`;
  }
  let raw = body.toString('utf8');
  const masked = collectSecretValues(json);
  for (const value of masked) {
    const quoted = JSON.stringify(value);
    // The raw text escapes the value some other way: fall back to the redacted JSON, which is equivalent.
    if (!raw.includes(quoted)) return JSON.stringify(redactJson(json, scrub));
    raw = raw.split(quoted).join(JSON.stringify(REDACTED));
  }
  return scrub(raw);
}

/** The string values under credential keys anywhere in a JSON value. */
function collectSecretValues(value, found = []) {
  if (value === null || typeof value !== 'object') return found;
  for (const [key, item] of Object.entries(value)) {
    if (SECRET_KEYS.has(key) && typeof item === 'string' && item !== '') found.push(item);
    else collectSecretValues(item, found);
  }
  return found;
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
    onLog,
  };
}

/**
 * Starts an emulator listening on `host:port` (port 0: any free port).
 * @param {import('./index').EmulatorOptions} [options]
 * @returns {Promise<import('./index').Emulator>}
 */
async function startEmulator(options = {}) {
  const config = normalizeOptions(options);
  const clock = new Clock();
  const tokens = new TokenStore(clock, config.tokenTtl * SECOND);
  const users = new UserStore(clock, config);
  const media = new MediaStore(clock);
  const messages = [];
  const api = new WeChatApi({ ...config, tokens, users, media, messages });
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
    advanceTime: (ms) => clock.advance(ms),
    now: () => clock.now(),
    stats: () => emulator.stats(),
    resetStats: () => emulator.resetStats(),
    waitForRequests: (count) => emulator.waitForRequests(count),
    close: () => emulator.close(),
  });
}

function deepFreeze(object) {
  for (const value of Object.values(object)) if (value !== null && typeof value === 'object') deepFreeze(value);
  return Object.freeze(object);
}

module.exports = { startEmulator, ERRORS, TOKEN_MARK, SECRET_MARK };
