'use strict'
// The JS face of wx-openapi-native: wx-server-sdk's shape (`cloud.init`, a callable
// `cloud.openapi` namespace) over the native `Client`. Everything else happens in Rust.

const { Client, callNames } = require('./native.js')
const { version } = require('./package.json')

// wx-server-sdk exports this symbol for `init({ env })`; it means nothing outside WeChat's cloud.
const DYNAMIC_CURRENT_ENV = Symbol.for('DYNAMIC_CURRENT_ENV')
const CALL_NAMES = Object.freeze(callNames())

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

function createNewInstance(options) {
  let client = options === undefined ? null : new Client(nativeOptions(options))
  // A call before init() uses the environment variables, read when the first call is made.
  const currentClient = () => (client ??= new Client({}))

  function namespace(callOptions) {
    const convertCase = !(callOptions && callOptions.convertCase === false)
    const customerServiceMessage = {}
    for (const name of CALL_NAMES) {
      customerServiceMessage[name] = (params) => currentClient().call(name, params, convertCase)
    }
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
