'use strict'
// Where the calls run. On Linux they run on their JS thread's own runtime, driven from Node's event
// loop (src/local.rs); elsewhere, or with WX_OPENAPI_NATIVE_DRIVER=threads, on a runtime thread
// (src/settle.rs). The rest of the suite runs on the default; here the suites that exercise the
// call path end to end run again on the fallback, in a child process.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const { Client, callNames } = require('../binding.js')

const SEND = callNames().indexOf('send')

// NODE_TEST_CONTEXT would make the child's runner report to this one instead of printing TAP.
const { NODE_TEST_CONTEXT, ...ENV } = process.env
const ON_THE_FALLBACK = ['send.test.js', 'faults.test.js', 'media.test.js', 'tokens.test.js', 'hostile.test.js']

test('on Linux the calls run on the JS thread by default', { skip: process.platform !== 'linux' }, () => {
  assert.equal(new Client({ accessToken: 'T' }).__driverForTests(), 'js-thread')
})

test('WX_OPENAPI_NATIVE_DRIVER=threads puts them on the runtime thread', () => {
  const script = `console.log(new (require(${JSON.stringify(path.join(__dirname, '..', 'binding.js'))}).Client)({ accessToken: 'T' }).__driverForTests())`
  const child = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, WX_OPENAPI_NATIVE_DRIVER: 'threads' },
  })
  assert.equal(child.status, 0, child.stderr)
  assert.equal(child.stdout.trim(), 'runtime-thread')
})

test(`on the runtime thread, the call suites pass too (${ON_THE_FALLBACK.join(', ')})`, { timeout: 300_000 }, () => {
  const child = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...ON_THE_FALLBACK.map((f) => path.join(__dirname, f))], {
    encoding: 'utf8',
    env: { ...ENV, WX_OPENAPI_NATIVE_DRIVER: 'threads' },
    maxBuffer: 64 << 20,
  })
  const failures = child.stdout.split('\n').filter((line) => /^\s*not ok /.test(line))
  assert.deepEqual(failures, [], child.stdout.slice(-4000))
  assert.equal(child.status, 0, child.stderr.slice(-4000))
  const passed = Number(child.stdout.match(/^# pass (\d+)/m)?.[1])
  assert.ok(passed >= 40, `only ${passed} tests ran`)
})

test('under load the runtime goes to a helper thread, and comes back to the JS thread after', { skip: process.platform !== 'linux', timeout: 60_000 }, async (t) => {
  const { startEmulator } = require('../emulator')
  const emu = await startEmulator({ messageLimit: Infinity })
  t.after(() => emu.close())
  const client = new Client({ appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url })
  const send = (touser) => client.call(SEND, { touser, msgtype: 'text', text: { content: 'x' } }, true)

  assert.equal((await send('first')).errCode, 0)
  assert.equal(client.__driverForTests(), 'js-thread')

  // Calls already in flight on the JS thread when it hands the runtime over settle all the same.
  const burst = Array.from({ length: 32 }, (_, i) => send(`burst-${i}`))
  assert.equal(client.__driverForTests(), 'helper-thread')
  const results = await Promise.all(burst)
  assert.deepEqual(new Set(results.map((r) => r.errCode)), new Set([0]))

  // One at a time again: within a few ticks of the runtime's 10 ms timer it is the JS thread's again.
  // (A tick restarted by every call never came while the calls came faster: it took thousands.)
  let alone = 0
  while (client.__driverForTests() !== 'js-thread' && alone < 2000) {
    assert.equal((await send(`alone-${alone++}`)).errCode, 0)
  }
  assert.equal(client.__driverForTests(), 'js-thread', `still on the helper after ${alone} calls one at a time`)
  assert.equal((await send('last')).errCode, 0)
  assert.equal(client.__driverForTests(), 'js-thread')

  // Every message reached WeChat once.
  const sent = emu.messages.map((m) => m.touser)
  assert.equal(sent.length, 1 + 32 + alone + 1)
  assert.equal(new Set(sent).size, sent.length)
})

test('timeouts fire on the helper thread too: 8 calls to a server that never answers', { skip: process.platform !== 'linux', timeout: 60_000 }, async (t) => {
  const { startEmulator } = require('../emulator')
  const emu = await startEmulator()
  t.after(() => emu.close())
  emu.inject({ path: '/cgi-bin/message/custom/send', delayMs: Infinity, times: Infinity })
  const client = new Client({ appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url, timeout: 300 })
  const calls = Array.from({ length: 8 }, (_, i) => client.call(SEND, { touser: `t${i}`, msgtype: 'text', text: { content: 'x' } }, true))
  assert.equal(client.__driverForTests(), 'helper-thread')
  const outcomes = await Promise.allSettled(calls)
  assert.deepEqual(outcomes.map((o) => o.status), Array(8).fill('rejected'))
  assert.deepEqual(outcomes.map((o) => o.reason.errCode), Array(8).fill(-604102))
  assert.match(outcomes[0].reason.errMsg, /300 ms/)
})

test('a worker that goes with connections kept alive closes them', { skip: process.platform !== 'linux', timeout: 30_000 }, async (t) => {
  const { Worker } = require('node:worker_threads')
  const { once } = require('node:events')
  const { startServer, json } = require('./helpers')
  const server = await startServer((req, res) => json(res, 200, { errcode: 0, errmsg: 'ok' }))
  t.after(() => server.close())
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { Client, callNames } = require(workerData.binding)
    const client = new Client({ accessToken: 'T', apiBaseUrl: workerData.url })
    parentPort.on('message', () => {}) // stays until terminated
    client.call(callNames().indexOf('send'), { touser: 'OPENID', msgtype: 'text', text: { content: 'x' } }, true)
      .then((r) => parentPort.postMessage([r.errCode, client.__driverForTests()]))`
  const worker = new Worker(code, { eval: true, workerData: { binding: path.join(__dirname, '..', 'binding.js'), url: server.url } })
  const [[errCode, driver]] = await once(worker, 'message')
  assert.deepEqual([errCode, driver], [0, 'js-thread'])
  assert.equal(server.sockets.size, 1, 'the connection is kept alive')
  const [socket] = server.sockets
  const closed = once(socket, 'close')
  await worker.terminate()
  // Left open, the test would time out here.
  await closed
  assert.equal(server.sockets.size, 0)
})

/**
 * One at a time on the JS thread, a burst of 8 on the helper, one at a time on the JS thread again,
 * in a child with its own server (over HTTPS the addon reads SSL_CERT_FILE when an instance is
 * made), which counts connections between the steps. What the child measured.
 */
function sendThroughTheMoves(t, protocol) {
  const fs = require('node:fs')
  const os = require('node:os')
  const { makeCertificates } = require('./helpers')
  let files = null
  if (protocol === 'https') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-driver-'))
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
    files = makeCertificates(dir, 'IP:127.0.0.1')
  }
  const script = `
    const fs = require('node:fs')
    const { Client, callNames } = require(${JSON.stringify(path.join(__dirname, '..', 'binding.js'))})
    const SEND = callNames().indexOf('send')
    const files = ${JSON.stringify(files)}
    const bodies = []
    let connections = 0
    const handler = (req, res) => {
      let body = ''
      req.on('data', (c) => { body += c })
      req.on('end', () => {
        bodies.push(JSON.parse(body).text.content)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0,"errmsg":"ok"}')
      })
    }
    const server = files
      ? require('node:https').createServer({ key: fs.readFileSync(files.key), cert: fs.readFileSync(files.cert) }, handler)
      : require('node:http').createServer(handler)
    // Over TLS, each is a handshake.
    server.on(files ? 'secureConnection' : 'connection', () => connections++)
    server.listen(0, '127.0.0.1', async () => {
      const client = new Client({ accessToken: 'T', apiBaseUrl: '${protocol}://127.0.0.1:' + server.address().port, maxConcurrency: 8 })
      const out = { errors: [] }
      const send = (content) => client.call(SEND, { touser: 'OPENID', msgtype: 'text', text: { content } }, true)
        .then((r) => r.errCode === 0 || out.errors.push(r), (e) => out.errors.push(e.errMsg))
      for (let i = 0; i < 3; i++) await send('before-' + i)
      out.first = [client.__driverForTests(), connections]
      const burst = Array.from({ length: 8 }, (_, i) => send('burst-' + i))
      out.burst = client.__driverForTests()
      await Promise.all(burst)
      let alone = 0
      while (client.__driverForTests() !== 'js-thread' && alone < 2000) await send('alone-' + alone++)
      out.back = client.__driverForTests()
      const before = connections
      for (let i = 0; i < 5; i++) await send('after-' + i)
      out.after = [client.__driverForTests(), connections - before]
      out.connections = connections
      out.sent = [bodies.length, new Set(bodies).size, 3 + 8 + alone + 5]
      console.log(JSON.stringify(out))
      process.exit(0)
    })`
  const { NODE_TEST_CONTEXT, ...env } = process.env
  const child = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: files ? { ...env, SSL_CERT_FILE: files.ca } : env,
    timeout: 50_000,
  })
  assert.equal(child.status, 0, child.stderr)
  return JSON.parse(child.stdout)
}

for (const protocol of ['http', 'https']) {
  test(`the sockets move with the runtime (libuv polls them on the JS thread, tokio on the helper) and stay open, each message once (${protocol})`, { skip: process.platform !== 'linux', timeout: 60_000 }, (t) => {
    const out = sendThroughTheMoves(t, protocol)
    assert.deepEqual(out.errors, [])
    assert.deepEqual(out.first, ['js-thread', 1])
    assert.equal(out.burst, 'helper-thread')
    assert.equal(out.back, 'js-thread')
    // Back on the JS thread, the sockets the helper used serve again.
    assert.deepEqual(out.after, ['js-thread', 0], 'a new connection after the runtime came back')
    assert.ok(out.connections <= 8, `${out.connections} connections for at most 8 in flight`)
    const [sent, distinct, expected] = out.sent
    assert.deepEqual([sent, distinct], [expected, expected], 'a message lost or sent twice')
  })
}
