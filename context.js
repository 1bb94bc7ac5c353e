'use strict'
// `getWXContext()`: wx-server-sdk's, computed from the environment exactly as wx-server-sdk 4.0.2
// computes it, and, while a push handler runs a cloud function for a message (push.js), the
// context of that message instead. The per-message context lives in an AsyncLocalStorage, so two
// messages handled at once never see each other's OPENID, however their awaits interleave.

const { AsyncLocalStorage } = require('node:async_hooks')

// wx-server-sdk 4.0.2, index.js, module "./src/api/utils/api/getWXContext.ts": keys listed in
// WX_CONTEXT_KEYS are read from the environment; `WX_` is dropped from their names; values made of
// an optional minus and digits become numbers (parseInt); these two names are never exposed, with
// or without the prefix, as they hold the function's own API tokens.
const WX_PREFIX = 'WX_'
const CONTEXT_KEYS_BLACKLIST = ['API_TOKEN', 'TRIGGER_API_TOKEN_V0']
const INTEGER = /^[-]?\d+$/

const messageContext = new AsyncLocalStorage()

function isContextKeyInBlacklist(key) {
  return CONTEXT_KEYS_BLACKLIST.some((name) => name === key || WX_PREFIX + name === key)
}

/**
 * The context wx-server-sdk's getWXContext() returns for this environment. Without
 * WX_CONTEXT_KEYS it is `{}` (no ENV, no SOURCE: the SDK returns before reading them); with it,
 * `ENV` is always set (possibly to undefined) and `SOURCE` when TCB_SOURCE is non-empty.
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {Record<string, string | number | undefined>}
 */
function contextFromEnvironment(env = process.env) {
  const wxContext = {}
  if (!env.WX_CONTEXT_KEYS) return wxContext
  for (const key of env.WX_CONTEXT_KEYS.split(',')) {
    if (!key || isContextKeyInBlacklist(key)) continue
    let value = env[key]
    if (value === undefined) continue
    if (INTEGER.test(value)) value = parseInt(value)
    if (key.startsWith(WX_PREFIX) && key.length > 3) wxContext[key.slice(3)] = value
    else wxContext[key] = value
  }
  wxContext.ENV = env.TCB_ENV || env.SCF_NAMESPACE
  if (env.TCB_SOURCE) wxContext.SOURCE = env.TCB_SOURCE
  return wxContext
}

/**
 * wx-server-sdk's `cloud.getWXContext()`. Inside a push handler's call of the cloud function: the
 * message's context (`OPENID` = the sender, `APPID`, `UNIONID` when known, `ENV` when known,
 * `SOURCE`); anywhere else: computed from the environment as wx-server-sdk does. Returns a fresh
 * object each time, so a caller that changes it changes nothing for anyone else.
 * @returns {import('./index').WXContext}
 */
function getWXContext() {
  const current = messageContext.getStore()
  return current === undefined ? contextFromEnvironment() : { ...current }
}

/**
 * Runs `fn` with `context` as what getWXContext() returns in it and in everything it awaits.
 * @template T
 * @param {Record<string, unknown>} context
 * @param {() => T} fn
 * @returns {T}
 */
function runWithWXContext(context, fn) {
  return messageContext.run(Object.freeze({ ...context }), fn)
}

module.exports = { getWXContext, runWithWXContext, contextFromEnvironment, isContextKeyInBlacklist }
