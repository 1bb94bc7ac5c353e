'use strict'
// A call's params as they cross into the native side: JSON text, with each binary value (a Buffer,
// Uint8Array or ArrayBuffer) swapped for a marker `{ "\u0000file": i }` and passed beside it. The
// walk also refuses what JSON cannot carry, naming the field, so that nothing is sent.

const FILE_MARKER = '\u0000file'
// Deeper than any WeChat body; a cyclic object reaches it quickly.
const MAX_DEPTH = 32
const MAX_KEYS = 10_000
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** Why the params cannot be sent; its message is the errMsg's detail. */
class ParamsError extends Error {}

/**
 * @param {unknown} params
 * @returns {{ json: string, files: Uint8Array[] }}
 * @throws {ParamsError}
 */
function toWire(params) {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new ParamsError(`params must be a plain object, got ${describe(params)}`)
  }
  const files = []
  const json = JSON.stringify(plain(params, '', 0, files))
  return { json, files }
}

function plain(value, path, depth, files) {
  switch (typeof value) {
    case 'string':
      return wellFormed(value)
    case 'boolean':
      return value
    case 'number':
      if (!Number.isFinite(value)) throw new ParamsError(`${name(path)} must be a finite number, got ${value}`)
      return value
    case 'undefined':
      return undefined
    case 'object':
      break
    default:
      throw new ParamsError(`${name(path)} is a ${typeof value}, which JSON cannot carry`)
  }
  if (value === null) return null
  if (depth >= MAX_DEPTH) {
    throw new ParamsError(`params are nested more than ${MAX_DEPTH} levels deep (a cyclic object?) at ${path.slice(0, 60)}…`)
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return file(value, path, files)
  if (Array.isArray(value)) {
    if (value.length > MAX_KEYS) throw new ParamsError(`${name(path)} has ${value.length} items, more than ${MAX_KEYS}`)
    const items = new Array(value.length)
    for (let i = 0; i < value.length; i++) {
      // JSON.stringify writes `undefined` in an array as null.
      const item = plain(read(value, i, `${path}[${i}]`), `${path}[${i}]`, depth + 1, files)
      items[i] = item === undefined ? null : item
    }
    return items
  }
  let keys
  try {
    keys = Object.keys(value)
  } catch (error) {
    throw new ParamsError(`${name(path)} could not be read: ${threw(error)}`)
  }
  if (keys.length > MAX_KEYS) throw new ParamsError(`${name(path)} has more than ${MAX_KEYS} keys`)
  const out = {}
  for (const key of keys) {
    const at = path === '' ? key : `${path}.${key}`
    const item = plain(read(value, key, at), at, depth + 1, files)
    if (item !== undefined) out[wellFormed(key)] = item
  }
  return out
}

// UTF-8 cannot carry a lone surrogate: as V8 does when it writes UTF-8, it becomes U+FFFD.
function wellFormed(text) {
  return text.replace(LONE_SURROGATE, '\ufffd')
}

function file(value, path, files) {
  let bytes
  if (value instanceof Uint8Array) bytes = value
  else if (value instanceof ArrayBuffer) bytes = new Uint8Array(value)
  else throw new ParamsError(`${name(path)} must be a Buffer or Uint8Array`)
  files.push(bytes)
  return { [FILE_MARKER]: files.length - 1 }
}

// `object[key]`, with a throwing getter or Proxy trap named by its path.
function read(object, key, path) {
  try {
    return object[key]
  } catch (error) {
    throw new ParamsError(`${name(path)} could not be read: ${threw(error)}`)
  }
}

function threw(error) {
  const message = error && typeof error === 'object' && typeof error.message === 'string' ? error.message : String(error)
  return `it threw: ${message.slice(0, 200)}`
}

function name(path) {
  if (path === '') return 'params'
  return path.length > 64 ? `${path.slice(0, 64)}… (${path.length} characters)` : path
}

function describe(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

module.exports = { toWire, ParamsError }
