'use strict'
// Validation before anything is sent, and the local error codes of CONTRACT.md section 5.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')

const native = require('..')
const { startEmulator } = require('../emulator')
const { refusedPort, startServer, rejection } = require('./helpers')

const TOKEN = 'wxemuAT_test-access-token-0123456789'

describe('validation: -401001 naming the field, nothing sent', () => {
  let emu
  let send
  before(async () => {
    emu = await startEmulator()
    send = native.createNewInstance({ accessToken: TOKEN, apiBaseUrl: emu.url }).openapi.customerServiceMessage.send
  })
  after(() => emu.close())

  const cyclic = { touser: 'o', msgtype: 'text', text: { content: 'x' } }
  cyclic.text.self = cyclic
  const CASES = [
    // Left out, as wx-server-sdk allows for calls that take no params: then send's own rules.
    [undefined, 'touser is required'],
    [null, 'touser is required'],
    ['text', 'params must be a plain object, got string'],
    [[{ touser: 'o' }], 'params must be a plain object, got an array'],
    [{ msgtype: 'text', text: { content: 'x' } }, 'touser is required'],
    [{ touser: '', msgtype: 'text', text: { content: 'x' } }, 'touser must not be empty'],
    [{ touser: 42, msgtype: 'text', text: { content: 'x' } }, 'touser must be a string, got a number'],
    [{ touser: 'o', text: { content: 'x' } }, 'msgtype is required'],
    [{ touser: 'o', msgtype: 'voice' }, 'msgtype must be one of "text", "image", "link", "miniprogrampage", got "voice"'],
    [{ touser: 'o', msgtype: 'text' }, 'text is required when msgtype is "text"'],
    [{ touser: 'o', msgtype: 'text', text: 'hello' }, 'text must be an object'],
    [{ touser: 'o', msgtype: 'text', text: {} }, 'text.content is required when msgtype is "text"'],
    [{ touser: 'o', msgtype: 'text', text: { content: '' } }, 'text.content must not be empty when msgtype is "text"'],
    [{ touser: 'o', msgtype: 'image', image: {} }, 'image.mediaId is required when msgtype is "image"'],
    [{ touser: 'o', msgtype: 'link', link: { title: 't', description: 'd', url: 'u' } }, 'link.thumbUrl is required when msgtype is "link"'],
    [{ touser: 'o', msgtype: 'link', link: { title: 't', description: 'd', thumbUrl: 'u' } }, 'link.url is required when msgtype is "link"'],
    [{ touser: 'o', msgtype: 'link', link: { title: 't', url: 'u', thumbUrl: 'u' } }, 'link.description is required when msgtype is "link"'],
    [{ touser: 'o', msgtype: 'link', link: { description: 'd', url: 'u', thumbUrl: 'u' } }, 'link.title is required when msgtype is "link"'],
    [{ touser: 'o', msgtype: 'miniprogrampage', miniprogrampage: { title: 't', pagepath: 'p' } }, 'miniprogrampage.thumbMediaId is required when msgtype is "miniprogrampage"'],
    [{ touser: 'o', msgtype: 'miniprogrampage', miniprogrampage: { title: 't', thumbMediaId: 'm' } }, 'miniprogrampage.pagepath is required when msgtype is "miniprogrampage"'],
    [{ touser: 'o', msgtype: 'miniprogrampage', miniprogrampage: { pagepath: 'p', thumbMediaId: 'm' } }, 'miniprogrampage.title is required when msgtype is "miniprogrampage"'],
    [{ touser: 'o', msgtype: 'text', text: { content: 'x', n: NaN } }, 'text.n must be a finite number, got NaN'],
    [{ touser: 1n }, 'touser is a bigint, which JSON cannot carry'],
    [{ touser: Symbol('o') }, 'touser is a symbol, which JSON cannot carry'],
    [{ touser: 'o', msgtype: 'text', text: { content: Buffer.from('x') } }, 'text.content is binary data, which send does not take'],
    [cyclic, 'params are nested more than 32 levels deep (a cyclic object?) at text.self.text.self'],
    [{ get touser() { throw new Error('getter says no') } }, 'touser could not be read: it threw: getter says no'],
  ]
  for (const [params, detail] of CASES) {
    test(detail, async () => {
      const error = await rejection(send(params), { errCode: -401001 })
      assert.ok(error.errMsg.startsWith(`openapi.customerServiceMessage.send:fail ${detail}`), error.errMsg)
      assert.equal(emu.requests.length, 0, 'nothing reached the network')
    })
  }

  test('a call with bad params returns a rejected promise, never throws', () => {
    const outcome = send(undefined)
    assert.ok(outcome instanceof Promise)
    return outcome.catch(() => {})
  })
})

describe('local error codes', () => {
  test('a refused port → -601003 network failure, retried and then rejected', async () => {
    const port = await refusedPort()
    const cloud = native.createNewInstance({ accessToken: TOKEN, apiBaseUrl: `http://127.0.0.1:${port}`, retries: 1 })
    const error = await rejection(
      cloud.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', text: { content: 'x' } }),
      { errCode: -601003, secrets: [TOKEN] },
    )
    assert.match(error.errMsg, /Connection refused/)
  })

  test('a server that never answers → -604102 naming the limit', async (t) => {
    const emu = await startEmulator()
    t.after(() => emu.close())
    emu.inject({ path: '/cgi-bin/message/custom/send', delayMs: Infinity })
    const cloud = native.createNewInstance({ accessToken: TOKEN, apiBaseUrl: emu.url, timeout: 300 })
    const error = await rejection(
      cloud.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', text: { content: 'x' } }),
      { errCode: -604102, secrets: [TOKEN] },
    )
    assert.match(error.errMsg, /300 ms/)
  })

  test('an HTML 502 page → -601001 with the status and the start of the body', async (t) => {
    const emu = await startEmulator()
    t.after(() => emu.close())
    emu.inject({
      path: '/cgi-bin/message/custom/send',
      status: 502,
      headers: { 'content-type': 'text/html' },
      body: '<html><head><title>502 Bad Gateway</title></head><body>' + 'x'.repeat(1000) + '</body></html>',
    })
    const cloud = native.createNewInstance({ accessToken: TOKEN, apiBaseUrl: emu.url })
    const error = await rejection(
      cloud.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', text: { content: 'x' } }),
      { errCode: -601001, secrets: [TOKEN] },
    )
    assert.match(error.errMsg, /HTTP 502/)
    assert.match(error.errMsg, /502 Bad Gateway/)
    assert.ok(error.errMsg.length < 400, 'at most 200 bytes of the body')
  })

  test('a body that is not JSON → -601001', async (t) => {
    const emu = await startEmulator()
    t.after(() => emu.close())
    emu.inject({ path: '/cgi-bin/message/custom/send', status: 200, body: 'not json at all' })
    const cloud = native.createNewInstance({ accessToken: TOKEN, apiBaseUrl: emu.url })
    const error = await rejection(
      cloud.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', text: { content: 'x' } }),
      { errCode: -601001 },
    )
    assert.match(error.errMsg, /HTTP 200.*not json at all/)
  })

  test('a proxy page that echoes the URL never shows the token', async (t) => {
    const server = await startServer((req, res) => {
      res.writeHead(502, { 'content-type': 'text/plain' })
      res.end(`upstream failed for ${req.url}`)
    })
    t.after(() => server.close())
    const cloud = native.createNewInstance({ accessToken: TOKEN, apiBaseUrl: server.url })
    const error = await rejection(
      cloud.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', text: { content: 'x' } }),
      { errCode: -601001, secrets: [TOKEN] },
    )
    assert.match(error.errMsg, /access_token=\[redacted\]/)
  })
})
