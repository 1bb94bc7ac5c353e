'use strict'
/**
 * One WeChat access token for many processes, kept in Redis.
 *
 * wx-openapi-native caches access tokens per process. When many processes (workers, pods,
 * serverless instances) share one appid, give them all this store as their token source:
 * exactly one of them fetches a token from WeChat, the others read it from Redis.
 *
 * Usage (node-redis v4, v5 or v6; an ioredis client works as well):
 *
 *   const { createClient } = require('redis')
 *   const cloud = require('wx-openapi-native')
 *   // This file is not part of the published package: copy it into your project.
 *   const { createRedisTokenStore } = require('./redis-token-store')
 *
 *   const redis = await createClient({ url: process.env.REDIS_URL }).connect()
 *   cloud.init({
 *     getAccessToken: createRedisTokenStore({
 *       redis,
 *       appid: process.env.WX_APPID,
 *       secret: process.env.WX_APPSECRET,
 *     }),
 *   })
 *   await cloud.openapi.customerServiceMessage.send({ touser, msgtype: 'text', text: { content: 'hi' } })
 *
 * Run directly, it sends one text message:
 *
 *   WX_APPID=… WX_APPSECRET=… WX_TOUSER=… REDIS_URL=redis://127.0.0.1:6379 node examples/redis-token-store.js
 *   (WX_API_BASE_URL points it at a proxy or at the emulator: npx wx-openapi-emulator)
 *
 * How it works
 *
 * - Redis key `${keyPrefix}${appid}` holds `{ accessToken, expiresAt, fetchedAt }` (JSON, epoch ms),
 *   written with `SET key value PX <ms until expiresAt>`, so Redis drops it when the token expires.
 * - A stored token is used until fewer than min(300 s, lifetime / 2) remain (the addon's own rule).
 * - When none is usable, the process that wins `SET ${key}:lock <random> NX PX lockTtlMs` fetches one
 *   from WeChat (`POST {apiBaseUrl}/cgi-bin/stable_token`), stores it and releases the lock with a
 *   compare-and-delete Lua script (a lock that expired and was taken by another process is not
 *   deleted). The other processes poll the key with a short, capped backoff until the token appears
 *   or the lock is free again; after `maxWaitMs` they fail with a clear error.
 * - After a rejection (`getAccessToken({ forceRefresh: true })`, which the addon calls once when WeChat
 *   answers 40001/40014/42001) the token this store last handed out is suspect: if Redis already holds a
 *   different one (another process refreshed it), that one is returned, nothing is fetched. Otherwise
 *   one process fetches with `force_refresh: false` (the stable endpoint hands out a new token once the
 *   old one is invalid); only if WeChat hands back the very token that was rejected does it fetch again
 *   with `force_refresh: true`, and at most once per `forceRefreshIntervalMs` (30 s) for all processes
 *   together (`SET ${key}:forced 1 NX PX 30000`), since WeChat rations forced refreshes (one per 30 s,
 *   20 a day). When that is not allowed the rejected token is returned and the call fails with
 *   WeChat's rejection; the next call tries again.
 * - A WeChat error throws an Error whose message carries `errcode` and `errmsg` (also as properties).
 *   No error message ever contains the AppSecret or a token. A failed fetch stores nothing: the next
 *   caller (in any process) tries again.
 * - `maxWaitMs` bounds the waiting for another process; how long one Redis command may take is up to
 *   the client's own settings (node-redis queues commands while it reconnects).
 *
 * This file needs no Redis library itself: it only sends commands (GET, SET, EVAL) through the client
 * it is given.
 */

const crypto = require('node:crypto')

const DEFAULT_API_BASE_URL = 'https://api.weixin.qq.com'
const DEFAULT_KEY_PREFIX = 'wx-openapi-native:token:'
/** Refresh once fewer than min(this, lifetime / 2) remain. */
const REFRESH_MARGIN_MS = 300_000

/** Deletes KEYS[1] only if it still holds ARGV[1]: releases a lock only while we own it. */
const RELEASE_LOCK_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`

/**
 * @typedef {object} RedisTokenStoreOptions
 * @property {object|Function} redis A connected client: node-redis (v4+, `sendCommand(args)`), ioredis
 *   (`call(command, ...args)`), or a function `(args: string[]) => Promise<reply>`.
 * @property {string} appid
 * @property {string} secret The AppSecret. Never logged, never in an error message.
 * @property {string} [apiBaseUrl='https://api.weixin.qq.com'] Where stable_token is requested.
 * @property {string} [keyPrefix='wx-openapi-native:token:'] Keys: `${keyPrefix}${appid}`, `…:lock`, `…:forced`.
 * @property {number} [lockTtlMs=10000] How long a fetching process may hold the lock before others may take over.
 * @property {number} [fetchTimeoutMs] Timeout of one stable_token request; default `lockTtlMs / 2`, must be < `lockTtlMs`.
 * @property {number} [maxWaitMs] How long a call waits in total for a token; default `2 * lockTtlMs`.
 * @property {number} [pollMinMs=10] First pause while another process fetches; doubles (with jitter) ...
 * @property {number} [pollMaxMs=200] ... up to this.
 * @property {number} [forceRefreshIntervalMs=30000] At most one `force_refresh: true` per this long, for all processes.
 * @property {typeof fetch} [fetch=globalThis.fetch]
 */

/**
 * Returns a `getAccessToken({ forceRefresh })` function for wx-openapi-native's `init`/`createNewInstance`.
 * It resolves `{ accessToken, expiresIn }`, `expiresIn` being the seconds the token has left.
 *
 * @param {RedisTokenStoreOptions} options
 * @returns {(args?: { forceRefresh?: boolean }) => Promise<{ accessToken: string, expiresIn: number }>}
 */
function createRedisTokenStore(options) {
  const {
    redis,
    appid,
    secret,
    apiBaseUrl = DEFAULT_API_BASE_URL,
    keyPrefix = DEFAULT_KEY_PREFIX,
    lockTtlMs = 10_000,
    fetchTimeoutMs = Math.floor(lockTtlMs / 2),
    maxWaitMs = 2 * lockTtlMs,
    pollMinMs = 10,
    pollMaxMs = 200,
    forceRefreshIntervalMs = 30_000,
    fetch: fetchImpl = globalThis.fetch,
  } = options || {}

  const command = redisCommand(redis)
  for (const [name, value] of [['appid', appid], ['secret', secret]]) {
    if (typeof value !== 'string' || value === '') {
      throw new TypeError(`createRedisTokenStore: options.${name} must be a non-empty string`)
    }
  }
  if (typeof fetchImpl !== 'function') {
    throw new TypeError('createRedisTokenStore: no fetch: use Node.js 18+ or pass options.fetch')
  }
  for (const [name, value] of Object.entries({ lockTtlMs, fetchTimeoutMs, maxWaitMs, pollMinMs, pollMaxMs, forceRefreshIntervalMs })) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new RangeError(`createRedisTokenStore: options.${name} must be a positive integer (ms), got ${String(value)}`)
    }
  }
  if (fetchTimeoutMs >= lockTtlMs) {
    // Otherwise the lock could expire while its holder still waits for WeChat, and a second process would fetch too.
    throw new RangeError('createRedisTokenStore: options.fetchTimeoutMs must be less than options.lockTtlMs')
  }

  const tokenKey = `${keyPrefix}${appid}`
  const lockKey = `${tokenKey}:lock`
  const forcedKey = `${tokenKey}:forced`
  const endpoint = `${String(apiBaseUrl).replace(/\/+$/, '')}/cgi-bin/stable_token`
  const scrub = (text) => String(text).split(secret).join('[redacted]')

  /** The token this store last handed out: after a rejection, the one WeChat rejected. */
  let lastReturned = null
  /** Calls in this process that would do the same work share it: key -> promise. */
  const pending = new Map()

  async function read() {
    const raw = await command(['GET', tokenKey])
    if (raw === null || raw === undefined) return null
    try {
      const value = JSON.parse(String(raw))
      if (typeof value.accessToken === 'string' && value.accessToken && Number.isFinite(value.expiresAt)) {
        return value
      }
    } catch {
      // Not ours or corrupt: treat as missing; the next store overwrites it.
    }
    return null
  }

  /** Whether a stored token may be handed out now. */
  function usable(stored, suspect) {
    if (!stored || stored.accessToken === suspect) return false
    const fetchedAt = Number.isFinite(stored.fetchedAt) ? stored.fetchedAt : stored.expiresAt
    const lifetime = Math.max(0, stored.expiresAt - fetchedAt)
    return Date.now() < stored.expiresAt - Math.min(REFRESH_MARGIN_MS, lifetime / 2)
  }

  function result(stored) {
    lastReturned = stored.accessToken
    return {
      accessToken: stored.accessToken,
      expiresIn: Math.max(1, Math.floor((stored.expiresAt - Date.now()) / 1000)),
    }
  }

  /** POST stable_token; returns `{ accessToken, expiresAt, fetchedAt }`. */
  async function fetchFromWeChat(forceRefresh) {
    const fetchedAt = Date.now()
    let response
    let text
    try {
      response = await fetchImpl(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credential', appid, secret, force_refresh: forceRefresh }),
        signal: AbortSignal.timeout(fetchTimeoutMs),
      })
      text = await response.text()
    } catch (e) {
      const cause = e && e.name === 'TimeoutError' ? `timed out after ${fetchTimeoutMs} ms` : describeError(e)
      throw new Error(`stable_token request to ${endpoint} failed: ${scrub(cause)}`)
    }
    let reply
    try {
      reply = JSON.parse(text)
    } catch {
      reply = undefined
    }
    if (!reply || typeof reply !== 'object') {
      throw new Error(`stable_token: unexpected reply (HTTP ${response.status}): ${scrub(text.slice(0, 200))}`)
    }
    if (reply.errcode !== undefined && reply.errcode !== 0) {
      const errmsg = scrub(reply.errmsg === undefined ? '' : reply.errmsg)
      const error = new Error(`stable_token failed: errcode ${reply.errcode}, errmsg ${errmsg}`)
      error.errcode = reply.errcode
      error.errmsg = errmsg
      throw error
    }
    const expiresIn = Number(reply.expires_in)
    if (typeof reply.access_token !== 'string' || !reply.access_token || !(expiresIn > 0)) {
      throw new Error(`stable_token: reply without access_token/expires_in (HTTP ${response.status})`)
    }
    return { accessToken: reply.access_token, expiresAt: fetchedAt + expiresIn * 1000, fetchedAt }
  }

  async function store(token) {
    const ttl = Math.floor(token.expiresAt - Date.now())
    if (ttl > 0) await command(['SET', tokenKey, JSON.stringify(token), 'PX', String(ttl)])
  }

  /** Under the lock: fetch (forcing only as described at the top), store, return. */
  async function refresh(suspect) {
    let token = await fetchFromWeChat(false)
    if (suspect !== null && token.accessToken === suspect) {
      // WeChat still hands out the token it rejected: only a forced refresh helps, and those are rationed.
      const allowed = await command(['SET', forcedKey, '1', 'NX', 'PX', String(forceRefreshIntervalMs)])
      if (allowed !== null && allowed !== undefined) token = await fetchFromWeChat(true)
    }
    await store(token)
    return token
  }

  /**
   * The token to use, skipping `suspect` (the token just rejected, or null). Loops: use the stored
   * token; else take the lock and refresh; else wait for the lock holder.
   */
  async function obtain(suspect) {
    const deadline = Date.now() + maxWaitMs
    let pause = pollMinMs
    for (;;) {
      const stored = await read()
      if (usable(stored, suspect)) return result(stored)

      const lockToken = crypto.randomUUID()
      const locked = await command(['SET', lockKey, lockToken, 'NX', 'PX', String(lockTtlMs)])
      if (locked !== null && locked !== undefined) {
        try {
          // Another process may have stored a token between our read and our lock.
          const again = await read()
          if (usable(again, suspect)) return result(again)
          return result(await refresh(suspect))
        } finally {
          await command(['EVAL', RELEASE_LOCK_SCRIPT, '1', lockKey, lockToken]).catch(() => {
            // The lock expires by itself after lockTtlMs.
          })
        }
      }

      const left = deadline - Date.now()
      if (left <= 0) {
        throw new Error(
          `redis token store: no access token for appid ${appid} after waiting ${maxWaitMs} ms for another ` +
            `process to fetch one (lock key ${lockKey}); is that process stuck, or Redis unreachable?`,
        )
      }
      await delay(Math.min(left, pause * (0.5 + Math.random() / 2)))
      pause = Math.min(pollMaxMs, pause * 2)
    }
  }

  return function getAccessToken({ forceRefresh = false } = {}) {
    const suspect = forceRefresh ? lastReturned : null
    const key = suspect === null ? '' : `rejected:${suspect}`
    let promise = pending.get(key)
    if (!promise) {
      promise = obtain(suspect).finally(() => pending.delete(key))
      pending.set(key, promise)
    }
    return promise
  }
}

/** Adapts a client to `(args: string[]) => Promise<reply>`. */
function redisCommand(redis) {
  if (typeof redis === 'function') return redis
  if (redis && typeof redis.call === 'function') return (args) => redis.call(...args) // ioredis
  if (redis && typeof redis.sendCommand === 'function') return (args) => redis.sendCommand(args) // node-redis v4+
  throw new TypeError('createRedisTokenStore: options.redis must be a connected node-redis or ioredis client')
}

function describeError(error) {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error ? `: ${error.cause.code || error.cause.message}` : ''
  return `${error.message}${cause}`
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** `node examples/redis-token-store.js`: sends one text message through the store. */
async function main(env = process.env) {
  const missing = ['WX_APPID', 'WX_APPSECRET', 'WX_TOUSER', 'REDIS_URL'].filter((name) => !env[name])
  if (missing.length > 0) {
    throw new Error(`set ${missing.join(', ')} (and optionally WX_API_BASE_URL)`)
  }
  const { createClient } = require('redis')
  const cloud = require('wx-openapi-native')
  const redis = createClient({ url: env.REDIS_URL })
  redis.on('error', () => {}) // reported by the failing command instead
  await redis.connect()
  try {
    const apiBaseUrl = env.WX_API_BASE_URL || DEFAULT_API_BASE_URL
    cloud.init({
      apiBaseUrl,
      getAccessToken: createRedisTokenStore({ redis, appid: env.WX_APPID, secret: env.WX_APPSECRET, apiBaseUrl }),
    })
    const reply = await cloud.openapi.customerServiceMessage.send({
      touser: env.WX_TOUSER,
      msgtype: 'text',
      text: { content: `Hello from wx-openapi-native (pid ${process.pid})` },
    })
    console.log(JSON.stringify(reply))
  } finally {
    await redis.quit().catch(() => {})
  }
}

module.exports = { createRedisTokenStore, main }

if (require.main === module) {
  main().catch((error) => {
    console.error(error.message)
    process.exitCode = 1
  })
}
