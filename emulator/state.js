'use strict';

/**
 * The emulator's state and WeChat's time rules: the clock tests move forward, access tokens,
 * users (service windows, message counts, typing, subscriptions) and stored media.
 */

const crypto = require('node:crypto');
const { ERRORS, WxError } = require('./errors');

// Every token the emulator makes starts with this, so that a test run's whole output can be
// scanned for leaks (scripts/scan-output.js) without knowing the values.
const TOKEN_MARK = 'wxemuAT_';

// Every duration is measured on the emulator clock.
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

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
/** A phone-number code (getphonenumber's `code`) is valid this long, and once. */
const PHONE_CODE_TTL_MS = 5 * MINUTE;

// ---------------------------------------------------------------------------
// State: clock, tokens, users, media, phone-number codes.
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

  /** The user accepted `count` more messages of a template (wx.requestSubscribeMessage); `Infinity`: a long-term subscription. */
  subscribed(openid, templateId, count) {
    const user = this.#user(openid);
    user.subscriptions.set(templateId, (user.subscriptions.get(templateId) ?? 0) + count);
  }

  /** Uses up one accepted message of a template, or refuses it with 43101 as WeChat does. */
  consumeSubscription(openid, templateId) {
    const user = this.#user(openid);
    const left = user.subscriptions.get(templateId) ?? 0;
    if (left <= 0) throw new WxError(ERRORS.USER_REFUSED_MESSAGE);
    user.subscriptions.set(templateId, left - 1);
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
      user = { windowStart: this.#defaultWindowStart, sent: 0, typingUntil: -Infinity, subscriptions: new Map() };
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


/** One-time phone-number codes, as the getPhoneNumber button hands them to the mini program. */
class PhoneCodeStore {
  #clock;
  #codes = new Map();

  constructor(clock) {
    this.#clock = clock;
  }

  issue(phoneNumber, countryCode) {
    const code = crypto.randomBytes(16).toString('hex');
    this.#codes.set(code, { phoneNumber, countryCode, expiresAt: this.#clock.now() + PHONE_CODE_TTL_MS });
    return code;
  }

  /** `{ phoneNumber, countryCode }` behind a code, which is then used up; 40029 for an unknown, used or expired code. */
  redeem(code) {
    const entry = typeof code === 'string' ? this.#codes.get(code) : undefined;
    if (entry === undefined || entry.expiresAt <= this.#clock.now()) throw new WxError(ERRORS.INVALID_CODE);
    this.#codes.delete(code);
    return { phoneNumber: entry.phoneNumber, countryCode: entry.countryCode };
  }
}

module.exports = { Clock, TokenStore, UserStore, MediaStore, PhoneCodeStore, TOKEN_MARK, SECOND, MINUTE, HOUR, DAY };
