'use strict'
// The public surface of CONTRACT.md section 1, from CommonJS and ESM.

const { test } = require('node:test')
const assert = require('node:assert/strict')

const cloud = require('..')
const pkg = require('../package.json')
const { startEmulator } = require('../emulator')
const { rejection } = require('./helpers')

test('CommonJS exports', () => {
  assert.equal(typeof cloud.init, 'function')
  assert.equal(typeof cloud.openapi, 'function')
  assert.equal(typeof cloud.createNewInstance, 'function')
  assert.equal(typeof cloud.DYNAMIC_CURRENT_ENV, 'symbol')
  assert.equal(cloud.version, pkg.version)
  for (const name of ['send', 'setTyping', 'uploadTempMedia', 'getTempMedia']) {
    assert.equal(typeof cloud.openapi.customerServiceMessage[name], 'function', name)
    assert.equal(typeof cloud.openapi({ convertCase: false }).customerServiceMessage[name], 'function', name)
  }
})

test('ESM exports are the same objects', async () => {
  const esm = await import('wx-openapi-native')
  assert.equal(esm.default, cloud)
  assert.equal(esm.init, cloud.init)
  assert.equal(esm.openapi, cloud.openapi)
  assert.equal(esm.createNewInstance, cloud.createNewInstance)
  assert.equal(esm.DYNAMIC_CURRENT_ENV, cloud.DYNAMIC_CURRENT_ENV)
  assert.equal(esm.version, pkg.version)
})

test('wx-server-sdk code runs unchanged: init({ env: DYNAMIC_CURRENT_ENV }) then send', async (t) => {
  const emu = await startEmulator()
  t.after(() => emu.close())
  const saved = { ...process.env }
  t.after(() => {
    for (const key of ['WX_APPID', 'WX_APPSECRET', 'WX_API_BASE_URL']) {
      if (saved[key] === undefined) delete process.env[key]
      else process.env[key] = saved[key]
    }
  })
  Object.assign(process.env, { WX_APPID: emu.appid, WX_APPSECRET: emu.secret, WX_API_BASE_URL: emu.url })

  const instance = cloud.createNewInstance()
  instance.init({ env: instance.DYNAMIC_CURRENT_ENV, traceUser: true })
  const result = await instance.openapi.customerServiceMessage.send({
    touser: 'OPENID',
    msgtype: 'text',
    text: { content: 'Hello World' },
  })
  assert.deepEqual(result, { errMsg: 'openapi.customerServiceMessage.send:ok', errCode: 0 })
})

test('a call before init uses the environment variables', async (t) => {
  const emu = await startEmulator()
  t.after(() => emu.close())
  const saved = { ...process.env }
  t.after(() => {
    for (const key of ['WX_ACCESS_TOKEN', 'WX_API_BASE_URL']) {
      if (saved[key] === undefined) delete process.env[key]
      else process.env[key] = saved[key]
    }
  })
  const token = await fetch(`${emu.url}/cgi-bin/stable_token`, {
    method: 'POST',
    body: JSON.stringify({ grant_type: 'client_credential', appid: emu.appid, secret: emu.secret }),
  }).then((r) => r.json())
  Object.assign(process.env, { WX_ACCESS_TOKEN: token.access_token, WX_API_BASE_URL: emu.url })
  const fresh = cloud.createNewInstance()
  const result = await fresh.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', text: { content: 'x' } })
  assert.equal(result.errCode, 0)
})

test('init may be called again to reconfigure', async (t) => {
  const first = await startEmulator()
  const second = await startEmulator()
  t.after(() => Promise.all([first.close(), second.close()]))
  const instance = cloud.createNewInstance({ appid: first.appid, secret: first.secret, apiBaseUrl: first.url })
  const send = () => instance.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', text: { content: 'x' } })
  await send()
  instance.init({ appid: second.appid, secret: second.secret, apiBaseUrl: second.url })
  await send()
  assert.equal(first.messages.length, 1)
  assert.equal(second.messages.length, 1)
})

test('createNewInstance gives independent instances', async (t) => {
  const a = await startEmulator()
  const b = await startEmulator()
  t.after(() => Promise.all([a.close(), b.close()]))
  const one = cloud.createNewInstance({ appid: a.appid, secret: a.secret, apiBaseUrl: a.url })
  const two = one.createNewInstance({ appid: b.appid, secret: b.secret, apiBaseUrl: b.url })
  const params = { touser: 'o', msgtype: 'text', text: { content: 'x' } }
  await Promise.all([one.openapi.customerServiceMessage.send(params), two.openapi.customerServiceMessage.send(params)])
  assert.equal(a.messages.length, 1)
  assert.equal(b.messages.length, 1)
})

test('a bad option throws at init, naming it, with the error shape', () => {
  const instance = cloud.createNewInstance()
  for (const [options, field] of [
    [{ timeout: 'x' }, 'options.timeout'],
    [{ retries: -1 }, 'options.retries'],
    [{ maxConcurrency: 0 }, 'options.maxConcurrency'],
    [{ apiBaseUrl: 'not a url' }, 'apiBaseUrl'],
    [{ tokenEndpoint: 'new' }, 'options.tokenEndpoint'],
    [{ appid: 42 }, 'options.appid'],
    [{ getAccessToken: 'token' }, 'options.getAccessToken'],
  ]) {
    assert.throws(
      () => instance.init(options),
      (e) => e instanceof Error && e.errCode === -401001 && e.errMsg.includes(field) && e.message.includes(e.errMsg),
      field,
    )
  }
})

test('no credentials → -401002 saying what to set, and nothing is sent', async (t) => {
  const emu = await startEmulator()
  t.after(() => emu.close())
  const saved = { ...process.env }
  for (const key of ['WX_APPID', 'WX_APPSECRET', 'WX_ACCESS_TOKEN', 'WX_TOKENLESS']) delete process.env[key]
  t.after(() => Object.assign(process.env, saved))
  const instance = cloud.createNewInstance({ apiBaseUrl: emu.url })
  const error = await rejection(
    instance.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', text: { content: 'x' } }),
    { errCode: -401002 },
  )
  assert.match(error.errMsg, /WX_APPID/)
  assert.equal(emu.requests.length, 0)
})
