'use strict'
// Property test: random and hostile JS values go to every call (issue 8, part 4). Each call must
// return a promise that settles: resolved, or rejected with the contract's error: -401001 when the
// params were refused, or WeChat's own code when they were valid enough to send. Never a throw, a
// crash, a hang, or another local code. Seeded, so a failure can be replayed with WX_HOSTILE_SEED.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const native = require('..')
const { startEmulator } = require('../emulator')

const SEED = Number(process.env.WX_HOSTILE_SEED || 20261129)
const CASES_PER_CALL = Number(process.env.WX_HOSTILE_CASES || 400)

function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function generator(random) {
  const int = (n) => Math.floor(random() * n)
  const pick = (xs) => xs[int(xs.length)]
  const KEYS = ['touser', 'msgtype', 'text', 'content', 'image', 'mediaId', 'media_id', 'link', 'title', 'description',
    'url', 'thumbUrl', 'miniprogrampage', 'pagepath', 'thumbMediaId', 'command', 'type', 'media', 'contentType',
    'value', 'fileName', '__proto__', 'constructor', 'toJSON', '', 'ÄÖ键', '0', 'a_b', 'aB']
  const strings = () =>
    pick([
      '', 'OPENID', 'text', 'image', 'link', 'miniprogrampage', 'Typing', 'CancelTyping', 'image/png', 'voice',
      '\ud800', 'a\udc00b', '\u0000', '你好👋', 'x'.repeat(int(3) === 0 ? 2 * 1024 * 1024 : 10),
    ])
  const leaf = () =>
    pick([
      () => strings(),
      () => pick([0, -0, 1, -1, 1.5, 2 ** 53, -(2 ** 63), NaN, Infinity, -Infinity, Number.MIN_VALUE]),
      () => pick([true, false, null, undefined]),
      () => BigInt(int(1000)),
      () => Symbol('s'),
      () => () => 'fn',
      () => new (pick([Uint8Array, Int8Array, Uint16Array, Float32Array, Float64Array, BigInt64Array, Uint8ClampedArray]))(int(16)),
      () => Buffer.from(strings()),
      () => new ArrayBuffer(int(8)),
      () => new DataView(new ArrayBuffer(4)),
      () => new Date(int(1e12)),
      () => /re/g,
      () => new Map([[1, 2]]),
      () => new Set([1]),
      () => new Error('an error value'),
      () => Promise.resolve(1),
      () => new WeakMap(),
    ])()
  const hostileObject = (depth) =>
    pick([
      () => {
        const o = {}
        Object.defineProperty(o, pick(KEYS), { enumerable: true, get() { throw new Error('getter threw') } })
        return o
      },
      () => new Proxy({}, { ownKeys() { throw new TypeError('ownKeys trap threw') } }),
      () => new Proxy({ touser: 'o' }, { get() { throw new RangeError('get trap threw') } }),
      () => {
        const target = value(depth + 1)
        return new Proxy(target !== null && typeof target === 'object' ? target : {}, {})
      },
      () => {
        const o = { touser: 'o', msgtype: 'text', text: { content: 'x' } }
        o.text.loop = o
        return o
      },
      () => {
        let deep = { touser: 'o' }
        for (let i = 0; i < 10_000; i++) deep = { nested: deep }
        return deep
      },
      () => {
        let deep = []
        for (let i = 0; i < 10_000; i++) deep = [deep]
        return { touser: 'o', deep }
      },
      () => Object.assign(Object.create(null), { touser: 'o', msgtype: 'text', text: Object.create(null) }),
      () => ({ [Symbol('k')]: 1, touser: 'o' }),
      () => Object.freeze({ touser: 'o', msgtype: pick(['text', 'voice']) }),
      () => {
        const a = [1, , 3] // eslint-disable-line no-sparse-arrays
        a[100] = 'far'
        return { touser: 'o', list: a }
      },
      () => Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i])),
      () => new (class Message { constructor() { this.touser = 'o' } hidden() {} })(),
    ])()
  function object(depth) {
    const o = {}
    const n = int(6)
    for (let i = 0; i < n; i++) o[pick(KEYS)] = value(depth + 1)
    return o
  }
  function value(depth = 0) {
    if (depth > 4) return leaf()
    const r = random()
    if (r < 0.45) return leaf()
    if (r < 0.75) return object(depth)
    if (r < 0.85) return Array.from({ length: int(4) }, () => value(depth + 1))
    return hostileObject(depth)
  }
  /** Mostly-valid params for `call`, with one part replaced by something random or hostile. */
  function params(call) {
    const bases = {
      send: () => ({ touser: 'OPENID', msgtype: 'text', text: { content: 'hello' } }),
      setTyping: () => ({ touser: 'OPENID', command: 'Typing' }),
      uploadTempMedia: () => ({ type: 'image', media: { contentType: 'image/png', value: Buffer.from('png') } }),
      getTempMedia: () => ({ mediaId: 'unknown' }),
    }
    const r = random()
    if (r < 0.2) return value()
    if (r < 0.35) return hostileObject(0)
    const base = bases[call]()
    const target = random() < 0.5 ? base : Object.values(base).find((v) => v && typeof v === 'object') || base
    target[pick(KEYS)] = value(1)
    return base
  }
  return { params }
}

let emu
let csm
before(async () => {
  emu = await startEmulator({ messageLimit: Infinity })
  csm = native.createNewInstance({ appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url }).openapi.customerServiceMessage
})
after(() => emu.close())

for (const call of ['send', 'setTyping', 'uploadTempMedia', 'getTempMedia']) {
  test(`${call}: ${CASES_PER_CALL} random and hostile params settle with the contract's outcome (seed ${SEED})`, async () => {
    const { params } = generator(prng(SEED + call.length))
    const codes = new Map()
    for (let i = 0; i < CASES_PER_CALL; i++) {
      const input = params(call)
      let outcome
      try {
        outcome = csm[call](input)
      } catch (e) {
        assert.fail(`case ${i}: ${call} threw synchronously: ${e && e.stack}`)
      }
      assert.ok(outcome instanceof Promise, `case ${i}: not a promise`)
      await outcome.then(
        (value) => {
          assert.equal(value.errCode, 0)
          codes.set(0, (codes.get(0) || 0) + 1)
        },
        (error) => {
          assert.ok(error instanceof Error, `case ${i}: rejected with a non-Error ${String(error)}`)
          assert.equal(typeof error.errCode, 'number')
          assert.equal(typeof error.errMsg, 'string')
          assert.ok(
            error.errCode === -401001 || error.errCode > 0,
            `case ${i}: ${call} rejected with ${error.errCode} ${error.errMsg}`,
          )
          codes.set(error.errCode, (codes.get(error.errCode) || 0) + 1)
        },
      )
    }
    if (process.env.WX_HOSTILE_VERBOSE) console.log(call, JSON.stringify([...codes]))
    // The generator must really reach both sides: refused params and params that were sent.
    assert.ok(codes.get(-401001) > 0, `no refusal among ${JSON.stringify([...codes])}`)
    assert.ok([...codes.keys()].some((code) => code !== -401001), `nothing was sent: ${JSON.stringify([...codes])}`)
  })
}

