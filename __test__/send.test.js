'use strict'
// customerServiceMessage.send end to end against the emulator: the wire format of the seed,
// case conversion, outcomes and every WeChat error code the seed lists.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')

const native = require('..')
const { startEmulator } = require('../emulator')
const { rejection, SEED_EXAMPLES } = require('./helpers')

describe('send over the wire', () => {
  let emu
  let cloud
  before(async () => {
    emu = await startEmulator({ messageLimit: Infinity })
    emu.addMedia(Buffer.from('image'), 'image/png', 'a.png', 'MEDIA_ID')
    emu.addMedia(Buffer.from('thumb'), 'image/png', 'b.png', 'thumb_media_id')
    cloud = native.createNewInstance({ appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url })
  })
  after(() => emu.close())

  for (const { params, wire } of SEED_EXAMPLES) {
    test(`the seed's ${params.msgtype} example reaches WeChat as its HTTPS example`, async () => {
      const before = emu.requests.length
      const result = await cloud.openapi.customerServiceMessage.send(params)
      assert.deepEqual(result, { errMsg: 'openapi.customerServiceMessage.send:ok', errCode: 0 })
      const sent = emu.requests.slice(before).filter((r) => r.path === '/cgi-bin/message/custom/send')
      assert.equal(sent.length, 1)
      const [request] = sent
      assert.equal(request.method, 'POST')
      assert.deepEqual(Object.keys(request.query), ['access_token'])
      assert.match(request.contentType, /^application\/json/)
      assert.equal(request.rawBody, JSON.stringify(wire))
      assert.deepEqual(emu.messages.at(-1), wire)
    })
  }

  test('snake_case params are accepted as they are', async () => {
    const result = await cloud.openapi.customerServiceMessage.send(SEED_EXAMPLES[1].wire)
    assert.equal(result.errCode, 0)
    assert.deepEqual(emu.messages.at(-1), SEED_EXAMPLES[1].wire)
  })

  test('undefined is dropped, unknown fields pass through converted, values never change', async () => {
    await cloud.openapi.customerServiceMessage.send({
      touser: 'OPENID',
      msgtype: 'text',
      text: { content: 'camelCase_value stays', extraField: undefined },
      customHint: [{ innerKey: 'vAlUe' }, undefined],
      thumbURL: 'x',
    })
    assert.equal(
      emu.requests.at(-1).rawBody,
      '{"touser":"OPENID","msgtype":"text","text":{"content":"camelCase_value stays"},' +
        '"custom_hint":[{"inner_key":"vAlUe"},null],"thumb_u_r_l":"x"}',
    )
  })

  test('the body is UTF-8 with non-ASCII characters unescaped', async () => {
    const content = '你好，世界 👋 <a href="http://www.qq.com" data-miniprogram-appid="appid">点击</a>'
    await cloud.openapi.customerServiceMessage.send({ touser: 'OPENID', msgtype: 'text', text: { content } })
    const raw = emu.requests.at(-1).rawBody
    assert.ok(raw.includes(JSON.stringify(content).slice(1, -1)), raw)
    assert.ok(!raw.includes('\\u'), raw)
  })

  // Short strings are read through a fixed buffer and longer ones another way (src/params.rs):
  // every length around the switch, with characters of 1 to 4 bytes and a lone surrogate, in keys
  // and values, must reach WeChat exactly as JSON.stringify would write them.
  test('strings of every length around 256 bytes reach WeChat unchanged, in keys and values', async () => {
    const send = cloud.openapi({ convertCase: false }).customerServiceMessage.send
    for (const tail of ['a', 'é', '你', '👋', '\ud800']) {
      for (let length = 240; length <= 262; length++) {
        const text = 'x'.repeat(length) + tail
        await send({ touser: 'OPENID', msgtype: 'text', text: { content: text }, [text]: text })
        const raw = emu.requests.at(-1).rawBody
        // A lone surrogate is not UTF-8: it goes as U+FFFD, as Buffer.from(string) writes it.
        const sent = Buffer.from(text).toString()
        const expected = { touser: 'OPENID', msgtype: 'text', text: { content: sent }, [sent]: sent }
        assert.equal(raw, JSON.stringify(expected), `${length} + ${JSON.stringify(tail)}`)
      }
    }
  })

  // The params cross as JSON text (params.js), keys converted on the native side: what reaches
  // WeChat is JSON.stringify's text of the params with wx-server-sdk's key rule applied.
  test('params reach WeChat as JSON.stringify writes them, keys converted as wx-server-sdk does', async () => {
    const text = (extra) => ({ touser: 'OPENID', msgtype: 'text', text: { content: 'x' }, ...extra })
    const snake = (key) => key.replace(/[A-Z]/g, (c, i) => (i === 0 ? '' : '_') + c.toLowerCase())
    const convert = (value) => {
      if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : convert(v)))
      if (value === null || typeof value !== 'object') return value
      const out = {}
      for (const key of Object.keys(value)) if (value[key] !== undefined) out[snake(key)] = convert(value[key])
      return out
    }
    const cases = [
      text({ thumbURL: 'x', customHint: [{ innerKey: 'v' }, undefined, null], skipped: undefined }),
      text({ numbers: [0, 1, -1, 1.5, 1e-7, 2 ** 53 - 1, -(2 ** 53 - 1), 0.1 + 0.2, Number.MIN_VALUE, 1e300] }),
      text({ strings: ['', '\u0000\n"\\', '你好👋', '\u2028'], ['键Key']: true }),
      text({ ['quote"back\\slash\nKey\u001f']: 'v', ['\ud83d\udc4bKey']: '\ud83d\udc4b' }),
      text({ sparse: [1, , 3], flags: [true, false] }), // eslint-disable-line no-sparse-arrays
      Object.assign(Object.create(null), text({ nested: Object.assign(Object.create(null), { deepKey: { deeperKey: 1 } }) })),
    ]
    for (const convertCase of [true, false]) {
      const send = cloud.openapi({ convertCase }).customerServiceMessage.send
      for (const params of cases) {
        const label = `${JSON.stringify(params)} convertCase ${convertCase}`
        assert.equal((await send(params)).errCode, 0, label)
        const expected = JSON.stringify(convertCase ? convert(params) : JSON.parse(JSON.stringify(params)))
        assert.equal(emu.requests.at(-1).rawBody, expected, label)
      }
    }
    // A lone surrogate cannot be UTF-8: it is sent as U+FFFD, as V8 writes it.
    await cloud.openapi.customerServiceMessage.send(text({ lone: 'a\ud800b' }))
    assert.equal(emu.messages.at(-1).lone, 'a\ufffdb')
  })

  // index.js makes the promises and their resolved objects (src/settle.rs `set_settler`): each call
  // gets its own, as from wx-server-sdk, and settles once.
  test('every call resolves to an object of its own', async () => {
    const send = cloud.openapi.customerServiceMessage.send
    const message = { touser: 'OPENID', msgtype: 'text', text: { content: 'x' } }
    const results = await Promise.all(Array.from({ length: 50 }, () => send(message)))
    assert.equal(new Set(results).size, 50)
    results[0].errMsg = 'changed'
    assert.deepEqual(results[1], { errMsg: 'openapi.customerServiceMessage.send:ok', errCode: 0 })
    assert.deepEqual(await send(message), { errMsg: 'openapi.customerServiceMessage.send:ok', errCode: 0 })
  })

  // If index.js fell back to the walk for plain params, the bytes would still match (the test
  // above) but the walk would read every property a second time.
  test('plain params cross as JSON text: index.js reads each property once', async () => {
    let reads = 0
    const params = {
      touser: 'OPENID',
      msgtype: 'text',
      get text() {
        reads++
        return { content: 'read once' }
      },
    }
    const result = await cloud.openapi.customerServiceMessage.send(params)
    assert.equal(result.errCode, 0)
    assert.equal(reads, 1)
    assert.equal(emu.messages.at(-1).text.content, 'read once')
  })

  test('openapi({ convertCase: false }) sends keys as written', async () => {
    const send = cloud.openapi({ convertCase: false }).customerServiceMessage.send
    await send({ touser: 'OPENID', msgtype: 'image', image: { media_id: 'MEDIA_ID' }, someKey: 1 })
    assert.equal(
      emu.requests.at(-1).rawBody,
      '{"touser":"OPENID","msgtype":"image","image":{"media_id":"MEDIA_ID"},"someKey":1}',
    )
  })
})

describe('WeChat errors become the contract rejection', () => {
  // Every error code in the seed's tables. -1 is retried first, so it is injected for every attempt.
  const SEED_ERRORS = [
    [-1, 'system error'],
    [40001, 'invalid credential, access_token is invalid or not latest'],
    [40002, 'invalid grant_type'],
    [40003, 'invalid openid'],
    [45015, 'response out of time limit or subscription is canceled'],
    [45047, 'out of response count limit'],
    [48001, 'api unauthorized'],
  ]
  let emu
  before(async () => {
    emu = await startEmulator()
  })
  after(() => emu.close())

  for (const [errcode, errmsg] of SEED_ERRORS) {
    test(`errcode ${errcode}`, async () => {
      const token = `wxemuAT_fixed-token-${errcode}-abcdef`
      const cloud = native.createNewInstance({ accessToken: token, apiBaseUrl: emu.url, retries: 1 })
      // -1 is retried (retries: 1 → two attempts); every other code is returned at once.
      emu.inject({ path: '/cgi-bin/message/custom/send', times: errcode === -1 ? 2 : 1, errcode, errmsg: `${errmsg} rid: 0123` })
      const error = await rejection(cloud.openapi.customerServiceMessage.send(SEED_EXAMPLES[0].params), {
        errCode: errcode,
        secrets: [token],
      })
      assert.equal(error.errMsg, `openapi.customerServiceMessage.send:fail ${errmsg} rid: 0123`)
    })
  }

  test('an error from the emulator itself keeps WeChat errmsg verbatim', async () => {
    const cloud = native.createNewInstance({ accessToken: 'wxemuAT_not-a-token-xyz', apiBaseUrl: emu.url })
    const error = await rejection(cloud.openapi.customerServiceMessage.send(SEED_EXAMPLES[0].params), {
      errCode: 40001,
      secrets: ['wxemuAT_not-a-token-xyz'],
    })
    assert.match(error.errMsg, /:fail invalid credential, access_token is invalid or not latest rid: \w+$/)
  })
})

// Completions reach the JS thread in batches (src/settle.rs): every promise of a batch must be
// settled with its own outcome, whichever instance it belongs to, and however many complete at once.
test('calls of two instances completing together each settle with their own outcome', async () => {
  const ok = await startEmulator({ messageLimit: Infinity })
  const failing = await startEmulator({ messageLimit: Infinity })
  try {
    failing.inject({ path: '/cgi-bin/message/custom/send', times: Infinity, errcode: 45047, errmsg: 'out of response count limit' })
    const a = native.createNewInstance({ appid: ok.appid, secret: ok.secret, apiBaseUrl: ok.url, maxConcurrency: 8 })
    const b = native.createNewInstance({ appid: failing.appid, secret: failing.secret, apiBaseUrl: failing.url, maxConcurrency: 8 })
    const message = (i) => ({ touser: 'OPENID', msgtype: 'text', text: { content: `message ${i}` } })
    const outcomes = await Promise.allSettled(
      Array.from({ length: 400 }, (_, i) => (i % 2 ? b : a).openapi.customerServiceMessage.send(message(i))),
    )
    outcomes.forEach((outcome, i) => {
      if (i % 2) {
        assert.equal(outcome.status, 'rejected', `call ${i}`)
        assert.equal(outcome.reason.errCode, 45047, `call ${i}`)
      } else {
        assert.deepEqual(outcome, { status: 'fulfilled', value: { errMsg: 'openapi.customerServiceMessage.send:ok', errCode: 0 } }, `call ${i}`)
      }
    })
    assert.deepEqual(ok.messages.map((m) => m.text.content).sort(), Array.from({ length: 200 }, (_, i) => `message ${2 * i}`).sort())
  } finally {
    await ok.close()
    await failing.close()
  }
})
