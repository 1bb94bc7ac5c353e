'use strict'
// The JS face of wx-openapi-native: wx-server-sdk's shape (`cloud.init`, a callable
// `cloud.openapi` namespace) over the native `Client`. Everything else happens in Rust; the
// promises and the params' JSON are made here only because V8 makes them faster (BENCHMARKS.md).

const { Client, callNames, okMessages, setSettler } = require('./native.js')
const { version } = require('./package.json')

// wx-server-sdk exports this symbol for `init({ env })`; it means nothing outside WeChat's cloud.
const DYNAMIC_CURRENT_ENV = Symbol.for('DYNAMIC_CURRENT_ENV')
const CALL_NAMES = Object.freeze(callNames())
const OK_MESSAGES = Object.freeze(okMessages())

// Each call's promise is made here and its resolvers kept under an id that the call carries; the
// native side settles it through `settle` (src/settle.rs). A JS promise costs less than one made
// and settled through N-API, and the resolved value of a reply with no fields of its own is an
// object literal, its errMsg a string made once (BENCHMARKS.md).
const resolves = []
const rejects = []
const freeIds = []

function forget(id) {
  resolves[id] = undefined
  rejects[id] = undefined
  freeIds.push(id)
}

// kind 0: resolve with the bare result of the call at index `value` of the table; 1: resolve with
// `value`; 2: reject with `value`.
setSettler((id, kind, value) => {
  const resolve = resolves[id]
  const reject = rejects[id]
  forget(id)
  if (kind === 0) resolve({ errMsg: OK_MESSAGES[value], errCode: 0 })
  else if (kind === 1) resolve(value)
  else reject(value)
})

function call(client, index, params, convertCase) {
  const json = paramsJson(params)
  return new Promise((resolve, reject) => {
    const id = freeIds.length > 0 ? freeIds.pop() : resolves.length
    resolves[id] = resolve
    rejects[id] = reject
    try {
      client.call(index, params, convertCase, json, id)
    } catch (error) {
      forget(id)
      throw error
    }
  })
}

// The native side takes getAccessToken as a function that always returns a promise of JSON text,
// so that sync and async providers, plain strings and { accessToken, expiresIn } all arrive alike
// and a throwing provider becomes a rejection.
function nativeOptions(options) {
  if (options === undefined || options === null) return {}
  if (typeof options !== 'object') return options
  const provider = options.getAccessToken
  if (typeof provider !== 'function') return options
  return {
    ...options,
    getAccessToken: (forceRefresh) =>
      Promise.resolve()
        .then(() => provider({ forceRefresh }))
        .then((result) => JSON.stringify(result === undefined ? null : result)),
  }
}

// The params as JSON text, where that text is exactly what the native side would read from the
// object itself: plain objects and arrays of strings, booleans, null, undefined and numbers that
// stay the same number (no toJSON, Buffer, class instance, function, symbol, bigint, NaN, or
// integer beyond 2^53), nested less deep and no larger than the native bounds (src/params.rs).
// One string then crosses into Rust instead of several N-API calls per key and value. For anything
// else it is undefined, and the native side walks the object, with its own errors. (A getter or a
// Proxy trap therefore runs twice if the walk follows.)
//
// The text is the same, byte for byte, as JSON.stringify's (the tests compare what reaches the
// wire with what the native walk sends), but written here in one walk that also checks: V8's
// JSON.stringify after a check of its own cost 4 µs more per call at concurrency 1 over HTTP, its
// C++ run cold between two replies (BENCHMARKS.md), though it is faster in a tight loop.
const MAX_DEPTH = 32
const MAX_KEYS = 10_000
// What JSON.stringify escapes in a string: quote, backslash, control characters, and surrogates
// (lone ones become \u escapes; a string with any is left to JSON.stringify itself).
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/
const quote = (text) => (NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : '"' + text + '"')

function toJson(value, depth) {
  switch (typeof value) {
    case 'string':
      return quote(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      return Number.isSafeInteger(value) || (Number.isFinite(value) && !Number.isInteger(value)) ? '' + value : undefined
    case 'object':
      break
    default:
      return undefined
  }
  if (value === null) return 'null'
  if (depth >= MAX_DEPTH || typeof value.toJSON === 'function') return undefined
  const proto = Object.getPrototypeOf(value)
  if (Array.isArray(value)) {
    if (proto !== Array.prototype || value.length > MAX_KEYS) return undefined
    let out = '['
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      const text = item === undefined ? 'null' : toJson(item, depth + 1)
      if (text === undefined) return undefined
      out += i === 0 ? text : ',' + text
    }
    return out + ']'
  }
  if (proto !== Object.prototype && proto !== null) return undefined
  const keys = Object.keys(value)
  if (keys.length > MAX_KEYS) return undefined
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const item = value[keys[i]]
    if (item === undefined) continue
    const text = toJson(item, depth + 1)
    if (text === undefined) return undefined
    out += (out.length === 1 ? '' : ',') + quote(keys[i]) + ':' + text
  }
  return out + '}'
}

function paramsJson(params) {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return undefined
  try {
    return toJson(params, 0)
  } catch {
    // A getter or Proxy trap threw: the native walk meets it again and names it.
    return undefined
  }
}

function createNewInstance(options) {
  let client = options === undefined ? null : new Client(nativeOptions(options))
  // A call before init() uses the environment variables, read when the first call is made.
  const currentClient = () => (client ??= new Client({}))

  function namespace(callOptions) {
    const convertCase = !(callOptions && callOptions.convertCase === false)
    const customerServiceMessage = {}
    CALL_NAMES.forEach((name, index) => {
      customerServiceMessage[name] = (params) => call(currentClient(), index, params, convertCase)
    })
    return { customerServiceMessage: Object.freeze(customerServiceMessage) }
  }

  const openapi = (callOptions) => namespace(callOptions)
  Object.assign(openapi, namespace())

  return {
    init(initOptions) {
      client = new Client(nativeOptions(initOptions))
    },
    openapi,
    createNewInstance,
    DYNAMIC_CURRENT_ENV,
    version,
  }
}

module.exports = createNewInstance()
