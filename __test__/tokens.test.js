'use strict'
// Access tokens and retries (CONTRACT.md sections 5 and 6), against the emulator.

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')

const native = require('..')
const { startEmulator } = require('../emulator')
const { rejection, startServer, json } = require('./helpers')

const SEND = '/cgi-bin/message/custom/send'
const STABLE = '/cgi-bin/stable_token'
const text = (touser = 'OPENID', content = 'hi') => ({ touser, msgtype: 'text', text: { content } })
const count = (emu, path) => emu.requests.filter((r) => r.path === path).length
const forcedRefreshes = (emu) => emu.requests.filter((r) => r.path === STABLE && r.body && r.body.force_refresh === true).length

async function setup(t, emulatorOptions = {}, options = {}) {
  const emu = await startEmulator(emulatorOptions)
  t.after(() => emu.close())
  const cloud = native.createNewInstance({ appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url, ...options })
  return { emu, cloud, send: cloud.openapi.customerServiceMessage.send }
}

/** The token the stable endpoint currently hands out, as another process would get it. */
async function stableToken(emu, forceRefresh = false) {
  const reply = await fetch(`${emu.url}${STABLE}`, {
    method: 'POST',
    body: JSON.stringify({ grant_type: 'client_credential', appid: emu.appid, secret: emu.secret, force_refresh: forceRefresh }),
  }).then((r) => r.json())
  assert.ok(reply.access_token, JSON.stringify(reply))
  return reply.access_token
}

describe('cache and single flight', () => {
  test('200 concurrent cold calls make exactly one token request', async (t) => {
    const { emu, send } = await setup(t)
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => send(text(`user-${i}`))))
    assert.ok(results.every((r) => r.errCode === 0))
    assert.equal(count(emu, STABLE), 1)
    assert.equal(emu.messages.length, 200)
    const body = emu.requests.find((r) => r.path === STABLE).body
    assert.deepEqual({ ...body, secret: undefined, appid: undefined }, {
      grant_type: 'client_credential',
      force_refresh: false,
      secret: undefined,
      appid: undefined,
    })
  })

  test('a failed token fetch fails every waiter with the same error, caches nothing, and the next call tries again', async (t) => {
    const { emu, send } = await setup(t)
    emu.inject({ path: STABLE, errcode: 40164, errmsg: 'invalid ip 1.2.3.4, not in whitelist' })
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => send(text(`u${i}`))))
    assert.equal(count(emu, STABLE), 1)
    const first = outcomes[0].reason
    assert.ok(first.errMsg.startsWith('openapi.customerServiceMessage.send:fail invalid ip 1.2.3.4, not in whitelist'), first.errMsg)
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected')
      assert.equal(outcome.reason.errCode, 40164)
      assert.equal(outcome.reason.errMsg, first.errMsg, 'every waiter gets the same error')
    }
    assert.equal(count(emu, SEND), 0, 'nothing was sent without a token')
    assert.equal((await send(text())).errCode, 0)
    assert.equal(count(emu, STABLE), 2)
  })

  test('token endpoint errors: wrong appid 40013, wrong secret 40125, never showing the secret', async (t) => {
    const emu = await startEmulator()
    t.after(() => emu.close())
    const wrongSecret = 'wxemuSK-a-wrong-secret-0123456789abcdef'
    for (const [appid, secret, code] of [
      ['wx0000000000000000', emu.secret, 40013],
      [emu.appid, wrongSecret, 40125],
    ]) {
      for (const tokenEndpoint of ['stable', 'classic']) {
        const cloud = native.createNewInstance({ appid, secret, apiBaseUrl: emu.url, tokenEndpoint })
        await rejection(cloud.openapi.customerServiceMessage.send(text()), { errCode: code, secrets: [secret, emu.secret] })
      }
    }
  })

  test('system busy (-1) from the token endpoint is retried', async (t) => {
    const { emu, send } = await setup(t)
    emu.inject({ path: STABLE, errcode: -1 })
    assert.equal((await send(text())).errCode, 0)
    assert.equal(count(emu, STABLE), 2)
  })

  test("tokenEndpoint 'classic' uses GET /cgi-bin/token", async (t) => {
    const { emu, send } = await setup(t, {}, { tokenEndpoint: 'classic' })
    await Promise.all([send(text('a')), send(text('b'))])
    assert.equal(count(emu, '/cgi-bin/token'), 1)
    assert.equal(count(emu, STABLE), 0)
    const request = emu.requests.find((r) => r.path === '/cgi-bin/token')
    assert.equal(request.method, 'GET')
    assert.equal(request.query.grant_type, 'client_credential')
    assert.equal(request.query.appid, emu.appid)
  })
})

describe('rejected tokens', () => {
  test('a token rotated by another process: one re-fetch, one retry, delivered once', async (t) => {
    const { emu, send } = await setup(t)
    await send(text())
    // Another process forces a new token; the old one dies once its 5-minute grace has passed.
    await stableToken(emu, true)
    emu.advanceTime(5 * 60 * 1000 + 1000)
    const before = count(emu, SEND)
    assert.equal((await send(text('OPENID', 'after rotation'))).errCode, 0)
    assert.equal(count(emu, SEND) - before, 2, 'one rejected send, one retry')
    assert.equal(count(emu, STABLE), 3, "ours, the other process's, and one re-fetch with force_refresh false")
    assert.equal(forcedRefreshes(emu), 1, "only the other process's")
    assert.equal(emu.messages.filter((m) => m.text.content === 'after rotation').length, 1)
  })

  test('expired tokens (42001) are replaced the same way', async (t) => {
    const { emu, send } = await setup(t)
    await send(text())
    emu.expireTokens()
    assert.equal((await send(text())).errCode, 0)
    assert.equal(count(emu, STABLE), 2)
  })

  test('persistent 40001: rejected after at most two sends; force_refresh only when WeChat hands back the rejected token', async (t) => {
    const { emu, send } = await setup(t)
    emu.inject({ path: SEND, errcode: 40001, errmsg: 'invalid credential', times: Infinity })
    await rejection(send(text()), { errCode: 40001, secrets: [emu.secret] })
    assert.equal(count(emu, SEND), 2)
    // stable_token gave back the same (still valid) token, so the second fetch forced a refresh.
    assert.equal(count(emu, STABLE), 3)
    assert.equal(forcedRefreshes(emu), 1)

    // Within 30 s, no second forced refresh: the rejection stands after one send.
    await rejection(send(text()), { errCode: 40001 })
    assert.equal(count(emu, SEND), 3)
    assert.equal(forcedRefreshes(emu), 1)
  })

  test('concurrent rejections of one token re-fetch once (compare-and-expire)', async (t) => {
    const { emu, send } = await setup(t)
    await send(text())
    emu.expireTokens()
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => send(text(`c${i}`))))
    assert.ok(results.every((r) => r.errCode === 0))
    assert.equal(count(emu, STABLE), 2)
  })

  test('a fixed accessToken is never refreshed', async (t) => {
    const emu = await startEmulator()
    t.after(() => emu.close())
    const token = await stableToken(emu)
    const cloud = native.createNewInstance({ accessToken: token, apiBaseUrl: emu.url })
    assert.equal((await cloud.openapi.customerServiceMessage.send(text())).errCode, 0)
    emu.expireTokens()
    await rejection(cloud.openapi.customerServiceMessage.send(text()), { errCode: 42001, secrets: [token] })
    assert.equal(count(emu, STABLE), 1, 'only the test fetched a token')
  })
})

describe('retries never send a message twice', () => {
  test('-1 then success', async (t) => {
    const { emu, send } = await setup(t)
    emu.inject({ path: SEND, errcode: -1 })
    assert.equal((await send(text())).errCode, 0)
    assert.equal(count(emu, SEND), 2)
    assert.equal(emu.messages.length, 1)
  })

  test('-1 forever: exactly retries + 1 attempts', async (t) => {
    const { emu, send } = await setup(t, {}, { retries: 3 })
    emu.inject({ path: SEND, errcode: -1, times: Infinity })
    await rejection(send(text()), { errCode: -1 })
    assert.equal(count(emu, SEND), 4)
  })

  test('retries: 0 means one attempt', async (t) => {
    const { emu, send } = await setup(t, {}, { retries: 0 })
    emu.inject({ path: SEND, errcode: -1, times: Infinity })
    await rejection(send(text()), { errCode: -1 })
    assert.equal(count(emu, SEND), 1)
  })

  test('45xxx errors are not retried', async (t) => {
    const { emu, send } = await setup(t)
    emu.inject({ path: SEND, errcode: 45047, errmsg: 'out of response count limit' })
    await rejection(send(text()), { errCode: 45047 })
    assert.equal(count(emu, SEND), 1)
  })

  test('a read timeout on send → -604102, the server saw it once, and the next call works', async (t) => {
    const { emu, send } = await setup(t, {}, { timeout: 300 })
    emu.inject({ path: SEND, delayMs: Infinity })
    await rejection(send(text('OPENID', 'slow')), { errCode: -604102 })
    assert.equal(count(emu, SEND), 1)
    assert.equal((await send(text('OPENID', 'next'))).errCode, 0)
    assert.equal(count(emu, SEND), 2)
  })

  test('a reset after the request was written is not retried for send', async (t) => {
    const { emu, send } = await setup(t)
    emu.inject({ path: SEND, reset: true })
    await rejection(send(text()), { errCode: -601003 })
    assert.equal(count(emu, SEND), 1)
  })

  test('a reset on a read (getTempMedia) is retried', async (t) => {
    const { emu, cloud } = await setup(t)
    const mediaId = emu.addMedia(Buffer.from([1, 2, 3]), 'image/png')
    emu.inject({ path: '/cgi-bin/media/get', reset: true })
    const result = await cloud.openapi.customerServiceMessage.getTempMedia({ mediaId })
    assert.deepEqual([...result.buffer], [1, 2, 3])
    assert.equal(count(emu, '/cgi-bin/media/get'), 2)
  })

  test('maxConcurrency: 4 → never more than 4 requests in flight at the server', async (t) => {
    const { emu, send } = await setup(t, {}, { maxConcurrency: 4 })
    await send(text('warm'))
    emu.resetStats()
    emu.inject({ path: SEND, delayMs: 20, times: 40 })
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => send(text(`m${i}`))))
    assert.ok(results.every((r) => r.errCode === 0))
    assert.equal(emu.stats().maxInFlight, 4)
  })
})

describe('getAccessToken', () => {
  test('a sync string is used for that call only', async (t) => {
    const emu = await startEmulator()
    t.after(() => emu.close())
    const token = await stableToken(emu)
    const calls = []
    const cloud = native.createNewInstance({
      apiBaseUrl: emu.url,
      getAccessToken: (args) => {
        calls.push(args)
        return token
      },
    })
    await cloud.openapi.customerServiceMessage.send(text())
    await cloud.openapi.customerServiceMessage.send(text())
    assert.deepEqual(calls, [{ forceRefresh: false }, { forceRefresh: false }])
  })

  test('an async { accessToken, expiresIn } is cached; a rejection asks once with forceRefresh: true', async (t) => {
    const emu = await startEmulator()
    t.after(() => emu.close())
    const calls = []
    const cloud = native.createNewInstance({
      apiBaseUrl: emu.url,
      getAccessToken: async ({ forceRefresh }) => {
        calls.push(forceRefresh)
        return { accessToken: await stableToken(emu, forceRefresh), expiresIn: 7200 }
      },
    })
    await Promise.all([1, 2, 3].map((i) => cloud.openapi.customerServiceMessage.send(text(`u${i}`))))
    assert.deepEqual(calls, [false])
    emu.expireTokens()
    assert.equal((await cloud.openapi.customerServiceMessage.send(text())).errCode, 0)
    assert.deepEqual(calls, [false, true])
  })

  for (const [name, provider, pattern] of [
    ['throws', () => { throw new Error('vault unreachable') }, /getAccessToken failed: vault unreachable/],
    ['rejects', () => Promise.reject(new Error('redis down')), /getAccessToken failed: redis down/],
    ['returns a number', () => 42, /getAccessToken must return/],
    ['returns an empty object', () => ({}), /getAccessToken must return/],
  ]) {
    test(`a provider that ${name} rejects the call clearly; nothing is sent`, async (t) => {
      const emu = await startEmulator()
      t.after(() => emu.close())
      const cloud = native.createNewInstance({ apiBaseUrl: emu.url, getAccessToken: provider })
      const error = await rejection(cloud.openapi.customerServiceMessage.send(text()), { errCode: -401002 })
      assert.match(error.errMsg, pattern)
      assert.equal(emu.requests.length, 0)
    })
  }

  test('two instances sharing one store never fight', async (t) => {
    const emu = await startEmulator()
    t.after(() => emu.close())
    const store = new Map() // stands in for Redis
    let fetches = 0
    let pending = null
    const getAccessToken = async ({ forceRefresh }) => {
      const cached = store.get('token')
      if (cached && !forceRefresh && cached.expiresAt > Date.now()) {
        return { accessToken: cached.accessToken, expiresIn: Math.floor((cached.expiresAt - Date.now()) / 1000) }
      }
      pending ??= stableToken(emu, forceRefresh).then((accessToken) => {
        fetches++
        store.set('token', { accessToken, expiresAt: Date.now() + 7200 * 1000 })
        pending = null
        return accessToken
      })
      return { accessToken: await pending, expiresIn: 7200 }
    }
    const a = native.createNewInstance({ apiBaseUrl: emu.url, getAccessToken })
    const b = native.createNewInstance({ apiBaseUrl: emu.url, getAccessToken })
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).openapi.customerServiceMessage.send(text(`s${i}`))),
    )
    assert.ok(results.every((r) => r.errCode === 0))
    assert.equal(fetches, 1)
    assert.equal(count(emu, SEND), 40, 'no send was rejected and retried')
  })
})

describe('tokenless', () => {
  test('no access_token is sent; the platform authenticates', async (t) => {
    const emu = await startEmulator({ tokenless: true })
    t.after(() => emu.close())
    const cloud = native.createNewInstance({ tokenless: true, apiBaseUrl: emu.url, appid: 'ignored', secret: 'ignored' })
    assert.equal((await cloud.openapi.customerServiceMessage.send(text())).errCode, 0)
    assert.deepEqual(emu.requests.map((r) => [r.path, r.query]), [[SEND, {}]])
  })

  test('WX_TOKENLESS=1 switches it on from the environment', async (t) => {
    const server = await startServer((req, res) => json(res, 200, { errcode: 0, errmsg: 'ok' }))
    t.after(() => server.close())
    const saved = process.env.WX_TOKENLESS
    process.env.WX_TOKENLESS = '1'
    t.after(() => (saved === undefined ? delete process.env.WX_TOKENLESS : (process.env.WX_TOKENLESS = saved)))
    const cloud = native.createNewInstance({ apiBaseUrl: server.url })
    assert.equal((await cloud.openapi.customerServiceMessage.send(text())).errCode, 0)
    assert.equal(server.requests[0].url, SEND)
  })
})
