'use strict'
// The JS face of wx-openapi-native: wx-server-sdk's shape (`cloud.init`, a callable `cloud.openapi`
// Proxy that turns any property path into an API name) over the native `Client`. The calls
// themselves (the table, tokens, HTTP) are in Rust.

const { Client } = require('./native.js')
const { toWire, ParamsError } = require('./params.js')
const { getWXContext } = require('./context.js')
const { version } = require('./package.json')

// wx-server-sdk exports this symbol for `init({ env })`; it means nothing outside WeChat's cloud.
const DYNAMIC_CURRENT_ENV = Symbol.for('DYNAMIC_CURRENT_ENV')

// The options as JSON for the native side, and getAccessToken apart when it is a function. A
// provider is wrapped so that sync and async ones, strings and { accessToken, expiresIn } all
// arrive as a promise of JSON text, and a throwing one becomes a rejection.
function newClient(options) {
  if (options === undefined || options === null) return new Client('{}')
  if (typeof options !== 'object' || Array.isArray(options)) return new Client(JSON.stringify(null))
  const { getAccessToken: provider, ...rest } = options
  const json = JSON.stringify(rest, (key, value) => (typeof value === 'bigint' ? String(value) : value))
  if (typeof provider !== 'function') {
    return new Client(provider === undefined ? json : JSON.stringify({ ...rest, getAccessToken: String(provider) }))
  }
  return new Client(json, (forceRefresh) =>
    Promise.resolve()
      .then(() => provider({ forceRefresh }))
      // A non-finite number would become null in JSON; as text it is refused, naming expiresIn.
      .then((result) => JSON.stringify(result === undefined ? null : result, (key, value) =>
        typeof value === 'number' && !Number.isFinite(value) ? String(value) : value)),
  )
}

function call(client, name, params, convertCase) {
  let wire
  try {
    // Params may be left out, as with wx-server-sdk (a call that takes none).
    wire = toWire(params ?? {})
  } catch (error) {
    if (!(error instanceof ParamsError)) throw error
    return client.call(name, undefined, [], convertCase, error.message)
  }
  return client.call(name, wire.json, wire.files, convertCase, undefined)
}

// `cloud.openapi.a.b.c(params)` calls API 'a.b.c', at any depth, as wx-server-sdk's Proxy does.
// Each node is made once and kept, so that a call path costs no new Proxy per call.
function apiNode(path, invoke) {
  const children = new Map()
  const target = function openapiCall(params) {
    return invoke(path, params)
  }
  return new Proxy(target, {
    get(_, key) {
      // Not a thenable, and no symbol paths: `await cloud.openapi.x` must not call anything.
      if (typeof key !== 'string' || key === 'then') return undefined
      let child = children.get(key)
      if (child === undefined) {
        child = apiNode(path === '' ? key : `${path}.${key}`, invoke)
        children.set(key, child)
      }
      return child
    },
  })
}

function createNewInstance(options) {
  let client = options === undefined ? null : newClient(options)
  // A call before init() uses the environment variables, read when the first call is made.
  const currentClient = () => (client ??= newClient(undefined))
  const invoke = (convertCase) => (path, params) => call(currentClient(), path, params, convertCase)

  const converted = apiNode('', invoke(true))
  const asWritten = apiNode('', invoke(false))
  // `cloud.openapi(options)` gives the namespace with per-call options, as wx-server-sdk.
  const openapi = new Proxy(function openapi(callOptions) {
    return callOptions && callOptions.convertCase === false ? asWritten : converted
  }, {
    get: (_, key) => converted[key],
  })

  return {
    init(initOptions) {
      client = newClient(initOptions === undefined ? {} : initOptions)
    },
    openapi,
    createNewInstance,
    getWXContext,
    DYNAMIC_CURRENT_ENV,
    version,
  }
}

module.exports = createNewInstance()
