'use strict'
// `wx-openapi-native/push`: receives WeChat's message push ("消息推送") for a mini-program and runs
// an unchanged cloud function on each message, as WeChat's cloud does: the message is the
// function's `event`, `cloud.getWXContext()` inside it is the message's context, and its return
// value is the reply. Plain, compatible and safe (AES) modes, XML and JSON. Node's standard
// library only. Types: index.d.ts; the protocol notes and examples: README, "Receive messages".

const crypto = require('node:crypto')
const http = require('node:http')
const { runWithWXContext, getWXContext } = require('../context.js')
const { signature, signatureMatches, aesKey, encrypt, decrypt } = require('./crypto.js')
const { parseXml, toXml } = require('./xml.js')
const { createMemoryStore } = require('./store.js')

const SECOND = 1000
const MINUTE = 60 * SECOND
/** How far a request's `timestamp` may be from this machine's clock, either way. */
const DEFAULT_TIMESTAMP_TOLERANCE_S = 300
/** How long a MsgId is remembered: WeChat retries within 15 s; a replay must fall in the timestamp window. */
const DEFAULT_DEDUP_TTL_MS = 15 * MINUTE
/** WeChat's messages are a few KB; a body larger than this is refused (413). */
const DEFAULT_MAX_BODY_BYTES = 256 * 1024
/** A finished message's outcome is kept this long so that a retry that arrives after it gets the same reply. */
const OUTCOME_KEPT_MS = 30 * SECOND
// WeChat's cloud names no SOURCE for a message push; this is its documented "unknown WeChat source".
const DEFAULT_SOURCE = 'wx_unknown'
const SUCCESS = 'success'
const MODES = ['plain', 'compatible', 'safe']

/** A refusal: answered with `status` and `reason`, and the function does not run. */
class Refusal extends Error {
  constructor(status, reason) {
    super(reason)
    this.status = status
  }
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

function requireString(options, name) {
  const value = options[name]
  if (typeof value !== 'string' || value === '') throw new TypeError(`createPushHandler: ${name} must be a non-empty string`)
  return value
}

function positiveNumber(options, name, fallback) {
  const value = options[name] ?? fallback
  if (typeof value !== 'number' || !(value > 0)) throw new TypeError(`createPushHandler: ${name} must be a positive number`)
  return value
}

/** Checks the options once, so that a mistake shows at start-up, not at the first message. */
function normalizeOptions(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('createPushHandler: options must be an object')
  const token = requireString(options, 'token')
  const key = options.encodingAESKey === undefined ? null : aesKey(options.encodingAESKey)
  const mode = options.mode ?? (key === null ? 'plain' : 'safe')
  if (!MODES.includes(mode)) throw new TypeError(`createPushHandler: mode must be one of ${MODES.join(', ')}`)
  if (mode !== 'plain' && key === null) throw new TypeError(`createPushHandler: mode "${mode}" needs encodingAESKey`)
  const appid = key === null && options.appid === undefined ? undefined : requireString(options, 'appid')
  const store = options.store ?? createMemoryStore()
  if (typeof store.putIfAbsent !== 'function') throw new TypeError('createPushHandler: store must have a putIfAbsent(key, value, ttlMs) method')
  const logger = options.logger ?? console
  if (typeof logger.error !== 'function') throw new TypeError('createPushHandler: logger must have an error method')
  return {
    token,
    key,
    mode,
    appid,
    store,
    logger,
    toleranceS: positiveNumber(options, 'timestampToleranceSec', DEFAULT_TIMESTAMP_TOLERANCE_S),
    dedupTtlMs: positiveNumber(options, 'dedupTtlMs', DEFAULT_DEDUP_TTL_MS),
    maxBodyBytes: positiveNumber(options, 'maxBodyBytes', DEFAULT_MAX_BODY_BYTES),
    env: options.env,
    source: options.source ?? DEFAULT_SOURCE,
    functionName: options.functionName ?? 'main',
    now: options.now ?? Date.now,
    // Secrets to scrub from anything logged: a thrown error may quote its input.
    secrets: [token, options.encodingAESKey].filter((secret) => typeof secret === 'string' && secret.length >= 6),
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the request
// ---------------------------------------------------------------------------------------------

function queryOf(req) {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const value = (name) => url.searchParams.get(name) ?? undefined
  return {
    signature: value('signature'),
    msgSignature: value('msg_signature'),
    timestamp: value('timestamp'),
    nonce: value('nonce'),
    echostr: value('echostr'),
    encryptType: value('encrypt_type'),
    unionid: value('unionid'),
  }
}

/**
 * The body as text, at most `limit` bytes. A framework that read the body already (Express with a
 * body parser, Koa's bodyparser) leaves it on req.body; a parsed JSON object is used as it is.
 * @returns {Promise<string | object>}
 */
function readBody(req, limit) {
  if (req._body === true || req.readableEnded) {
    const body = req.body
    if (typeof body === 'string') return Promise.resolve(body)
    if (Buffer.isBuffer(body)) return Promise.resolve(body.toString('utf8'))
    if (body !== null && typeof body === 'object') return Promise.resolve(body)
    return Promise.reject(new Refusal(400, 'the body was consumed by another middleware; mount the handler before body parsers'))
  }
  const declared = Number(req.headers['content-length'])
  if (declared > limit) return Promise.reject(new Refusal(413, 'body too large'))
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.resume()
        reject(new Refusal(413, 'body too large'))
      } else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function formatOf(text) {
  const first = /\S/.exec(text)?.[0]
  if (first === '<') return 'xml'
  if (first === '{') return 'json'
  throw new Refusal(400, 'the body is neither XML nor JSON')
}

/** Parses a body (or a decrypted message) in its format; a JSON MsgId keeps all its digits. */
function parseMessage(text) {
  if (typeof text === 'object') return { format: 'json', fields: text }
  const format = formatOf(text)
  try {
    if (format === 'xml') return { format, fields: parseXml(text) }
    const fields = JSON.parse(text)
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) throw new Error('not an object')
    // MsgId is a 64-bit integer in WeChat's JSON, more than a double holds exactly.
    const digits = /"MsgId"\s*:\s*(-?\d+)/.exec(text)
    if (digits !== null && typeof fields.MsgId === 'number') fields.MsgId = digits[1]
    return { format, fields }
  } catch (error) {
    throw new Refusal(400, `the ${format.toUpperCase()} body cannot be parsed: ${error.message}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

function checkTimestamp(config, timestamp) {
  if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp)) throw new Refusal(401, 'timestamp missing or malformed')
  const skewS = Math.abs(config.now() / SECOND - Number(timestamp))
  if (skewS > config.toleranceS) throw new Refusal(403, 'stale timestamp')
}

function checkSignature(config, query) {
  if (typeof query.nonce !== 'string' || query.nonce === '') throw new Refusal(401, 'nonce missing')
  const expected = signature(config.token, query.timestamp, query.nonce)
  if (!signatureMatches(expected, query.signature)) throw new Refusal(401, 'invalid signature')
}

function checkMsgSignature(config, query, encrypted) {
  if (typeof query.nonce !== 'string' || query.nonce === '') throw new Refusal(401, 'nonce missing')
  const expected = signature(config.token, query.timestamp, query.nonce, encrypted)
  if (!signatureMatches(expected, query.msgSignature)) throw new Refusal(401, 'invalid msg_signature')
}

function decryptChecked(config, encrypted) {
  let opened
  try {
    opened = decrypt(config.key, encrypted)
  } catch (error) {
    throw new Refusal(400, `the message cannot be decrypted (${error.code})`)
  }
  if (opened.appid !== config.appid) throw new Refusal(403, 'the message is for another appid')
  return opened.message
}

/**
 * A nonce is accepted once per timestamp window. The same request again (WeChat's retry of a
 * message whose answer it did not get) carries the same body and is let through to the MsgId
 * check, which runs the function once; the same nonce on another body is a replay.
 */
async function checkNonce(config, query, body) {
  const fingerprint = crypto.createHash('sha1').update(typeof body === 'string' ? body : JSON.stringify(body)).digest('hex')
  const key = `wxpush:nonce:${config.appid ?? ''}:${query.timestamp}:${query.nonce}`
  const earlier = await config.store.putIfAbsent(key, fingerprint, 2 * config.toleranceS * SECOND)
  if (earlier !== undefined && earlier !== null && earlier !== fingerprint) throw new Refusal(403, 'replayed nonce')
}

// ---------------------------------------------------------------------------------------------
// The message as WeChat's cloud gives it to a function
// ---------------------------------------------------------------------------------------------

/** The `event`: the message's fields, `CreateTime` a number, `MsgId` a string of its digits. */
function toEvent(fields) {
  const event = { ...fields }
  if (typeof event.CreateTime === 'string' && /^\d+$/.test(event.CreateTime)) event.CreateTime = Number(event.CreateTime)
  if (typeof event.MsgId === 'number') event.MsgId = String(event.MsgId)
  return event
}

/** WeChat's advice: dedupe messages by MsgId, events by FromUserName + CreateTime. */
function dedupKey(event) {
  if (event.MsgId !== undefined && event.MsgId !== '') return `id:${event.MsgId}`
  return `ev:${event.FromUserName}:${event.CreateTime}:${event.MsgType}:${event.Event ?? ''}`
}

function contextOf(config, event, query) {
  const context = { OPENID: event.FromUserName, APPID: config.appid }
  const unionid = event.UnionId ?? event.UnionID ?? query.unionid
  if (unionid !== undefined) context.UNIONID = unionid
  const env = config.env ?? (process.env.TCB_ENV || process.env.SCF_NAMESPACE)
  if (env !== undefined && env !== '') context.ENV = env
  context.SOURCE = config.source
  return context
}

// ---------------------------------------------------------------------------------------------
// Running the function once per message
// ---------------------------------------------------------------------------------------------

function scrub(config, text) {
  let out = String(text)
  for (const secret of config.secrets) out = out.split(secret).join('[redacted]')
  return out
}

/** Runs main; its failure is logged (once per message, without secrets) and becomes `success`. */
async function runMain(config, main, event, context) {
  const scfContext = { request_id: crypto.randomUUID(), function_name: config.functionName }
  try {
    return await runWithWXContext(context, () => main(event, scfContext))
  } catch (error) {
    const detail = error instanceof Error ? error.stack || error.message : String(error)
    config.logger.error(
      scrub(config, `wx-openapi-native/push: the function failed on a ${event.MsgType} message (MsgId ${event.MsgId ?? 'none'}); WeChat is answered "success": ${detail}`),
    )
    return SUCCESS
  }
}

/** Per process: outcomes of messages being handled or just handled, so a retry shares them. */
function createRunner(config, main) {
  const outcomes = new Map()
  const instance = crypto.randomUUID()

  // The outcome is registered before the store is asked (which may be asynchronous), so a retry
  // that arrives meanwhile waits for this one's outcome instead of racing it.
  async function claimAndRun(key, event, context) {
    const earlier = await config.store.putIfAbsent(`wxpush:msg:${config.appid ?? ''}:${key}`, instance, config.dedupTtlMs)
    if (earlier !== undefined && earlier !== null) return SUCCESS // handled by another process sharing the store
    return runMain(config, main, event, context)
  }

  return function runOnce(event, context) {
    const key = dedupKey(event)
    const known = outcomes.get(key)
    if (known !== undefined) return known
    const outcome = claimAndRun(key, event, context)
    outcomes.set(key, outcome)
    outcome.then(
      () => setTimeout(() => outcomes.delete(key), OUTCOME_KEPT_MS).unref(),
      () => outcomes.delete(key), // the store failed: nothing ran, so WeChat's retry may try again
    )
    return outcome
  }
}

// ---------------------------------------------------------------------------------------------
// The reply
// ---------------------------------------------------------------------------------------------

function serialize(format, fields) {
  return format === 'xml' ? toXml(fields) : JSON.stringify(fields)
}

const CONTENT_TYPES = { xml: 'text/xml; charset=utf-8', json: 'application/json; charset=utf-8', text: 'text/plain; charset=utf-8' }

/** The HTTP answer for main's return value: `success`, or the passive reply (sealed in safe mode). */
function replyFor(config, result, format, sealed, event) {
  if (result === undefined || result === null || result === '' || result === SUCCESS) return { type: 'text', body: SUCCESS }
  if (typeof result !== 'object' || Array.isArray(result)) {
    config.logger.error(`wx-openapi-native/push: the function returned a ${typeof result}, not "success" or a reply object; WeChat is answered "success"`)
    return { type: 'text', body: SUCCESS }
  }
  const fields = { ...result }
  fields.ToUserName ??= event.FromUserName
  fields.FromUserName ??= event.ToUserName
  fields.CreateTime ??= Math.floor(config.now() / SECOND)
  let plain
  try {
    plain = serialize(format, fields)
  } catch (error) {
    config.logger.error(`wx-openapi-native/push: the reply cannot be written as ${format.toUpperCase()} (${error.message}); WeChat is answered "success"`)
    return { type: 'text', body: SUCCESS }
  }
  if (!sealed) return { type: format, body: plain }
  const timestamp = Math.floor(config.now() / SECOND)
  const nonce = String(crypto.randomInt(1e9, 1e10))
  const encrypted = encrypt(config.key, plain, config.appid)
  const envelope = { Encrypt: encrypted, MsgSignature: signature(config.token, String(timestamp), nonce, encrypted), TimeStamp: timestamp, Nonce: nonce }
  return { type: format, body: serialize(format, envelope) }
}

function answer(res, status, type, body) {
  if (res.headersSent || res.writableEnded) return
  res.writeHead(status, { 'content-type': CONTENT_TYPES[type], 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' })
  res.end(body)
}

// ---------------------------------------------------------------------------------------------
// The handler
// ---------------------------------------------------------------------------------------------

/** GET: WeChat checks the URL when the push is configured. Answers echostr (decrypted if sealed). */
function verifyUrl(config, query) {
  if (typeof query.echostr !== 'string') throw new Refusal(400, 'echostr missing')
  const sealed = query.signature === undefined && query.msgSignature !== undefined && config.key !== null
  if (sealed) checkMsgSignature(config, query, query.echostr)
  else checkSignature(config, query)
  checkTimestamp(config, query.timestamp)
  return sealed ? decryptChecked(config, query.echostr) : query.echostr
}

/** POST: one message. Every check that can refuse it runs before main does. */
async function receive(config, runOnce, req, query) {
  // Where WeChat sends `signature` it is checked first: in plain mode it is all there is, and a
  // request without a valid one is refused before its body is read or parsed.
  const hasSignature = query.signature !== undefined
  if (hasSignature) checkSignature(config, query)
  checkTimestamp(config, query.timestamp)
  const body = await readBody(req, config.maxBodyBytes)
  const envelope = parseMessage(body)
  const encrypted = envelope.fields.Encrypt
  const sealed = typeof encrypted === 'string' && config.mode !== 'plain'
  if (sealed) checkMsgSignature(config, query, encrypted)
  else if (config.mode === 'safe') throw new Refusal(401, 'safe mode accepts encrypted messages only')
  else if (!hasSignature) throw new Refusal(401, 'signature missing')
  await checkNonce(config, query, body)
  const message = sealed ? parseMessage(decryptChecked(config, encrypted)) : envelope
  if (typeof message.fields.FromUserName !== 'string' || message.fields.FromUserName === '') throw new Refusal(400, 'FromUserName missing')
  const event = toEvent(message.fields)
  const result = await runOnce(event, contextOf(config, event, query))
  return replyFor(config, result, envelope.format, sealed, event)
}

/**
 * A Node `(req, res)` handler for WeChat's message push that runs `main(event, context)` per message.
 * @param {import('./index').PushHandlerOptions} options
 * @param {(event: import('./index').PushEvent, context: object) => unknown} main
 * @returns {import('./index').PushHandler}
 */
function createPushHandler(options, main) {
  if (typeof main !== 'function') throw new TypeError('createPushHandler: main must be a function (the cloud function\'s exports.main)')
  const config = normalizeOptions(options)
  const runOnce = createRunner(config, main)

  return async function handleWeChatPush(req, res) {
    try {
      const query = queryOf(req)
      if (req.method === 'GET') return answer(res, 200, 'text', verifyUrl(config, query))
      if (req.method !== 'POST') {
        res.setHeader('allow', 'GET, POST')
        return answer(res, 405, 'text', 'method not allowed')
      }
      const reply = await receive(config, runOnce, req, query)
      return answer(res, 200, reply.type, reply.body)
    } catch (error) {
      if (error instanceof Refusal) return answer(res, error.status, 'text', error.message)
      config.logger.error(scrub(config, `wx-openapi-native/push: internal error: ${error && error.stack}`))
      return answer(res, 500, 'text', 'internal error')
    }
  }
}

/**
 * A standalone server for the handler (node:http), listening on `host:port` (default
 * 127.0.0.1, any free port); only `path` (default: any) is served.
 * @param {import('./index').ServeOptions} options
 * @param {(event: import('./index').PushEvent, context: object) => unknown} main
 * @returns {Promise<import('./index').PushServer>}
 */
async function serve(options, main) {
  const { port = 0, host = '127.0.0.1', path, ...handlerOptions } = options ?? {}
  const handler = createPushHandler(handlerOptions, main)
  const server = http.createServer((req, res) => {
    if (path !== undefined && new URL(req.url ?? '/', 'http://localhost').pathname !== path) return answer(res, 404, 'text', 'not found')
    handler(req, res)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const address = server.address()
  const hostInUrl = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${hostInUrl}:${address.port}${path ?? '/'}`,
    port: address.port,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections?.()
      }),
  }
}

module.exports = { createPushHandler, serve, createMemoryStore, getWXContext, signature, encrypt, decrypt, aesKey, parseXml, toXml }
