'use strict';

// The WeChat side of the message push ("消息推送"), for tests and demos: it sends a user's
// message to a configured URL as WeChat's servers do (signed; in safe mode encrypted, in
// compatible mode both), waits for the answer as long as WeChat does (5 s) and, when none comes,
// sends the same request again, up to 3 more times. It checks and decrypts the reply as WeChat
// would, and records every push and attempt. Node's standard library only; ships in the package.
//
//   const wechat = await startEmulator({ push: { url, token, encodingAESKey, mode: 'safe' } });
//   await wechat.push({ from: 'OPENID', content: '你好' });   // or, standalone:
//   const pusher = createPusher({ url, token, encodingAESKey, appid, mode: 'safe', format: 'xml' });
//   await pusher.verify();                                  // the URL check of the push settings page
//   const record = await pusher.push({ from: 'OPENID', content: '你好' });
//   // record.reply: 'success' or the passive reply's fields; record.attempts: each try

const http = require('node:http');
const crypto = require('node:crypto');
const { signature, aesKey, encrypt, decrypt } = require('../push/crypto.js');
const { parseXml, toXml } = require('../push/xml.js');

/** WeChat gives up on an answer after 5 s ... */
const DEFAULT_RETRY_WAIT_MS = 5000;
/** ... and then sends the message again, 3 times at most. */
const DEFAULT_RETRIES = 3;
/** Replies longer than this are not read further (WeChat's replies are tiny). */
const MAX_REPLY_BYTES = 1024 * 1024;
const MODES = ['plain', 'compatible', 'safe'];
const FORMATS = ['xml', 'json'];

function randomDigits(count) {
  let out = String(crypto.randomInt(1, 10));
  while (out.length < count) out += String(crypto.randomInt(0, 10));
  return out;
}

/** A 64-bit message id, as WeChat's (digits; more than a double holds exactly). */
function newMsgId() {
  return BigInt('0x' + crypto.randomBytes(8).toString('hex')) & ((1n << 63n) - 1n);
}

function checkOptions(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('createPusher: options must be an object');
  const { url, token, encodingAESKey, appid } = options;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new TypeError('createPusher: url must be an http(s) URL');
  if (typeof token !== 'string' || token === '') throw new TypeError('createPusher: token must be a non-empty string');
  const mode = options.mode ?? (encodingAESKey === undefined ? 'plain' : 'safe');
  if (!MODES.includes(mode)) throw new TypeError(`createPusher: mode must be one of ${MODES.join(', ')}`);
  const format = options.format ?? 'xml';
  if (!FORMATS.includes(format)) throw new TypeError(`createPusher: format must be one of ${FORMATS.join(', ')}`);
  const key = encodingAESKey === undefined ? null : aesKey(encodingAESKey);
  if (mode !== 'plain' && key === null) throw new TypeError(`createPusher: mode "${mode}" needs encodingAESKey`);
  if (mode !== 'plain' && (typeof appid !== 'string' || appid === '')) throw new TypeError(`createPusher: mode "${mode}" needs appid`);
  const retryWaitMs = options.retryWaitMs ?? DEFAULT_RETRY_WAIT_MS;
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!(retryWaitMs > 0)) throw new TypeError('createPusher: retryWaitMs must be a positive number');
  if (!Number.isInteger(retries) || retries < 0) throw new TypeError('createPusher: retries must be a non-negative integer');
  if (options.onAttempt !== undefined && typeof options.onAttempt !== 'function') throw new TypeError('createPusher: onAttempt must be a function');
  return {
    url,
    token,
    key,
    appid,
    mode,
    format,
    retryWaitMs,
    retries,
    toUserName: options.toUserName ?? 'gh_' + crypto.randomBytes(6).toString('hex'),
    now: options.now ?? Date.now,
    onAttempt: options.onAttempt,
  };
}

// ---------------------------------------------------------------------------------------------
// The message, as WeChat writes it
// ---------------------------------------------------------------------------------------------

/**
 * The message's fields in WeChat's order. `{ from, content }` is a text message; `type` picks
 * another (`image`, `miniprogrampage`, `event`), whose fields come in `fields` (WeChat's names).
 */
function messageFields(config, message) {
  if (message === null || typeof message !== 'object') throw new TypeError('push: the message must be an object');
  const { from, content, type = 'text', fields = {} } = message;
  if (typeof from !== 'string' || from === '') throw new TypeError('push: from (the user\'s openid) must be a non-empty string');
  if (type === 'text' && typeof content !== 'string') throw new TypeError('push: a text message needs content');
  const base = {
    ToUserName: config.toUserName,
    FromUserName: from,
    CreateTime: message.createTime ?? Math.floor(config.now() / 1000),
    MsgType: type,
  };
  if (type === 'text') base.Content = content;
  // Events carry no MsgId; every message does.
  const msgId = type === 'event' ? undefined : message.msgId !== undefined ? BigInt(message.msgId) : newMsgId();
  return { ...base, ...fields, ...(msgId === undefined ? {} : { MsgId: msgId }) };
}

/** JSON with the 64-bit MsgId written in its place as a bare number, as WeChat writes it. */
function toJson(fields) {
  if (fields.MsgId === undefined) return JSON.stringify(fields);
  // A stand-in string where MsgId goes (JSON.stringify cannot write a BigInt), then the digits.
  const standIn = `msgid-${crypto.randomBytes(8).toString('hex')}`;
  return JSON.stringify({ ...fields, MsgId: standIn }).replace(`"${standIn}"`, String(fields.MsgId));
}

function serialize(format, fields) {
  return format === 'xml' ? toXml(fields) : toJson(fields);
}

/** The request WeChat sends for these fields: query string and body. Signed; sealed in safe and compatible mode. */
function buildRequest(config, fields) {
  const timestamp = String(Math.floor(config.now() / 1000));
  const nonce = randomDigits(10);
  const query = new URLSearchParams({ signature: signature(config.token, timestamp, nonce), timestamp, nonce, openid: fields.FromUserName });
  const plain = serialize(config.format, fields);
  if (config.mode === 'plain') return { query, body: plain };
  const encrypted = encrypt(config.key, plain, config.appid);
  query.set('encrypt_type', 'aes');
  query.set('msg_signature', signature(config.token, timestamp, nonce, encrypted));
  const envelope = config.mode === 'safe' ? { ToUserName: fields.ToUserName, Encrypt: encrypted } : { ...fields, Encrypt: encrypted };
  return { query, body: serialize(config.format, envelope) };
}

// ---------------------------------------------------------------------------------------------
// Sending, with WeChat's retries
// ---------------------------------------------------------------------------------------------

/** One HTTP attempt; resolves `{ status, body }`, or `{ outcome: 'timeout' | 'error' }`. */
function attemptOnce(config, method, target, body, inFlight) {
  return new Promise((resolve) => {
    const headers = body === undefined ? {} : { 'content-type': config.format === 'xml' ? 'text/xml' : 'application/json', 'content-length': Buffer.byteLength(body) };
    const request = http.request(target, { method, headers, agent: false });
    inFlight.add(request);
    let settled = false;
    const settle = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      inFlight.delete(request);
      resolve(result);
    };
    const timer = setTimeout(() => {
      request.destroy();
      settle({ outcome: 'timeout' });
    }, config.retryWaitMs);
    request.on('error', (error) => settle({ outcome: 'error', error: error.code ?? error.message }));
    request.on('response', (response) => {
      const chunks = [];
      let size = 0;
      response.on('data', (chunk) => {
        size += chunk.length;
        if (size <= MAX_REPLY_BYTES) chunks.push(chunk);
      });
      response.on('end', () => settle({ outcome: 'answered', status: response.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', (error) => settle({ outcome: 'error', error: error.code ?? error.message }));
    });
    request.end(body);
  });
}

/** Reads the reply as WeChat does: `success`/empty, or a passive reply, checked and decrypted when sealed. */
function readReply(config, body) {
  if (body === '' || body === 'success') return { reply: 'success' };
  let fields;
  try {
    fields = body.trimStart().startsWith('<') ? parseXml(body) : JSON.parse(body);
  } catch (error) {
    return { replyError: `the reply is neither "success" nor ${config.format.toUpperCase()}: ${error.message}` };
  }
  if (typeof fields.Encrypt !== 'string') {
    return config.mode === 'safe' ? { reply: fields, replyError: 'safe mode: the reply is not encrypted' } : { reply: fields };
  }
  const expected = signature(config.token, String(fields.TimeStamp), String(fields.Nonce), fields.Encrypt);
  if (expected !== fields.MsgSignature) return { replyError: 'the reply\'s MsgSignature does not match' };
  const opened = decrypt(config.key, fields.Encrypt);
  if (opened.appid !== config.appid) return { replyError: 'the reply is sealed for another appid' };
  try {
    return { reply: opened.message.trimStart().startsWith('<') ? parseXml(opened.message) : JSON.parse(opened.message), sealed: true };
  } catch (error) {
    return { replyError: `the decrypted reply cannot be parsed: ${error.message}` };
  }
}

/**
 * A pusher for one push URL: the WeChat servers' side of the message push.
 * @param {import('./push').PusherOptions} options
 * @returns {import('./push').Pusher}
 */
function createPusher(options) {
  const config = checkOptions(options);
  const pushes = [];
  const inFlight = new Set();
  let closed = false;

  async function push(message) {
    if (closed) throw new Error('push: the pusher is closed');
    const fields = messageFields(config, message);
    const { query, body } = buildRequest(config, fields);
    const target = `${config.url}${config.url.includes('?') ? '&' : '?'}${query}`;
    // What the cloud function should receive as its event: MsgId as a string of its digits.
    const event = fields.MsgId === undefined ? { ...fields } : { ...fields, MsgId: String(fields.MsgId) };
    const record = { message: event, attempts: [], status: undefined, reply: undefined, replyError: undefined, ok: false };
    pushes.push(record);
    // WeChat sends the very same request again when the answer does not come in time.
    for (let attempt = 1; attempt <= config.retries + 1 && !closed; attempt++) {
      const result = await attemptOnce(config, 'POST', target, body, inFlight);
      const entry = { attempt, ...result };
      record.attempts.push(entry);
      if (config.onAttempt) config.onAttempt(entry, record);
      if (result.outcome !== 'answered') continue;
      record.status = result.status;
      if (result.status === 200) Object.assign(record, readReply(config, result.body));
      else record.replyError = `HTTP ${result.status}: ${result.body.slice(0, 200)}`;
      record.ok = result.status === 200 && record.replyError === undefined;
      break;
    }
    return record;
  }

  /** The URL check WeChat makes when the push settings are saved: GET, echostr must come back. */
  async function verify({ echostr = randomDigits(19) } = {}) {
    const timestamp = String(Math.floor(config.now() / 1000));
    const nonce = randomDigits(10);
    const query = new URLSearchParams({ signature: signature(config.token, timestamp, nonce), timestamp, nonce, echostr });
    const result = await attemptOnce(config, 'GET', `${config.url}${config.url.includes('?') ? '&' : '?'}${query}`, undefined, inFlight);
    return { ...result, ok: result.status === 200 && result.body === echostr };
  }

  return {
    push,
    verify,
    pushes,
    /** Aborts the requests in flight; later pushes reject. */
    close() {
      closed = true;
      for (const request of inFlight) request.destroy();
      inFlight.clear();
    },
  };
}

/**
 * The push side of `startEmulator({ push })`: `push`, `verifyPush` and `pushes` for the emulator's
 * object, and `close`. `appid` defaults to the emulator's. Without push options, `push` and
 * `verifyPush` reject, saying what to configure.
 * @param {Omit<import('./push').PusherOptions, 'appid'> & { appid?: string } | undefined} pushOptions
 * @param {{ appid: string, userMessaged: (openid: string) => void }} emulator
 */
function createEmulatorPush(pushOptions, { appid, userMessaged }) {
  const pusher = pushOptions === undefined ? null : createPusher({ appid, ...pushOptions });
  const notConfigured = () => Promise.reject(new Error('push: start the emulator with { push: { url, token, encodingAESKey, mode, format } }'));
  return {
    api: {
      pushes: pusher === null ? [] : pusher.pushes,
      push(message) {
        if (pusher === null) return notConfigured();
        // As on WeChat, the user's message opens the 48-hour window in which the app may answer.
        if (message !== null && typeof message === 'object' && typeof message.from === 'string' && message.from !== '') userMessaged(message.from);
        return pusher.push(message);
      },
      verifyPush: (verifyOptions) => (pusher === null ? notConfigured() : pusher.verify(verifyOptions)),
    },
    close: () => pusher?.close(),
  };
}

module.exports = { createPusher, createEmulatorPush, DEFAULT_RETRY_WAIT_MS, DEFAULT_RETRIES };
