'use strict'
// Faults the network and servers throw at a client (issue 8): each ends in the contract's
// rejection or a correct delivery, never a hang, a crash or a message sent twice.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const https = require('node:https')
const os = require('node:os')
const path = require('node:path')

const native = require('..')
const { startEmulator } = require('../emulator')
const { startServer, json, rejection } = require('./helpers')

const TOKEN = 'wxemuAT_faults-token-0123456789'
const SEND = '/cgi-bin/message/custom/send'
const message = (content = 'x') => ({ touser: 'OPENID', msgtype: 'text', text: { content } })
const sendsTo = (server) => server.requests.filter((r) => r.url.startsWith(SEND)).length

function instance(url, options = {}) {
  return native.createNewInstance({ accessToken: TOKEN, apiBaseUrl: url, ...options }).openapi.customerServiceMessage
}

test('requests go in origin form with Host naming the origin, all on one kept-alive connection', async (t) => {
  const server = await startServer((req, res) => json(res, 200, { errcode: 0, errmsg: 'ok' }))
  t.after(() => server.close())
  const csm = instance(server.url)
  for (let i = 0; i < 3; i++) {
    assert.equal((await csm.send(message(`m${i}`))).errCode, 0)
  }
  const { host } = new URL(server.url)
  assert.deepEqual(
    server.requests.map((r) => [r.method, r.url.split('?')[0], r.headers.host]),
    Array.from({ length: 3 }, () => ['POST', SEND, host]),
  )
  assert.equal(server.connections.opened, 1)
})

test('the server closes idle keep-alive connections: the next send succeeds, delivered once', async (t) => {
  const server = await startServer((req, res) => {
    json(res, 200, { errcode: 0, errmsg: 'ok' })
    // Close the connection once the reply is out, as a server whose keep-alive timeout ran out.
    res.on('finish', () => setImmediate(() => req.socket.destroy()))
  })
  t.after(() => server.close())
  const csm = instance(server.url)
  for (let i = 0; i < 5; i++) {
    assert.equal((await csm.send(message(`m${i}`))).errCode, 0)
  }
  assert.deepEqual(
    server.requests.map((r) => JSON.parse(r.body).text.content),
    ['m0', 'm1', 'm2', 'm3', 'm4'],
  )
})

test('a reset in the middle of the reply → -601003, and send is not repeated', async (t) => {
  const server = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
    res.write('{"errcode":0,')
    setImmediate(() => req.socket.destroy())
  })
  t.after(() => server.close())
  await rejection(instance(server.url).send(message()), { errCode: -601003, secrets: [TOKEN] })
  assert.equal(sendsTo(server), 1)
})

test('a reply that never completes → -604102, and the pool is not poisoned', async (t) => {
  let hang = true
  const server = await startServer((req, res) => {
    if (hang) {
      hang = false
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
      res.write('{"errcode":')
      return // the rest never comes
    }
    json(res, 200, { errcode: 0, errmsg: 'ok' })
  })
  t.after(() => server.close())
  const csm = instance(server.url, { timeout: 300 })
  await rejection(csm.send(message('first')), { errCode: -604102 })
  assert.equal((await csm.send(message('second'))).errCode, 0)
  assert.equal(sendsTo(server), 2)
})

for (const status of [500, 502]) {
  test(`HTTP ${status} with an HTML page → -601001 naming the status`, async (t) => {
    const server = await startServer((req, res) => {
      res.writeHead(status, { 'content-type': 'text/html' })
      res.end(`<html><body><h1>${status} Server Error</h1></body></html>`)
    })
    t.after(() => server.close())
    const error = await rejection(instance(server.url).send(message()), { errCode: -601001, secrets: [TOKEN] })
    assert.match(error.errMsg, new RegExp(`HTTP ${status}`))
    assert.match(error.errMsg, /Server Error/)
  })
}

test('a 10 MB reply is refused by its length → -601001', async (t) => {
  const server = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) })
    res.end(Buffer.alloc(10 * 1024 * 1024, 0x20))
  })
  t.after(() => server.close())
  const error = await rejection(instance(server.url).send(message()), { errCode: -601001 })
  assert.match(error.errMsg, /larger than 1048576 bytes/)
})

test('an endless reply is cut at the cap → -601001, and the process stays well', async (t) => {
  let written = 0
  const server = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }) // chunked, no length
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    const pump = () => {
      while (!res.destroyed && written < 64 * 1024 * 1024) {
        written += chunk.length
        if (!res.write(chunk)) return res.once('drain', pump)
      }
      res.end()
    }
    res.on('close', () => {})
    pump()
  })
  t.after(() => server.close())
  const error = await rejection(instance(server.url).send(message()), { errCode: -601001 })
  assert.match(error.errMsg, /larger than 1048576 bytes/)
  assert.ok(written < 64 * 1024 * 1024, 'the client stopped reading long before the server would have stopped')
})

test('never more requests in flight than maxConcurrency; the idle pool keeps at most that many sockets', async (t) => {
  // The handler answers on the next turn, so that requests overlap whenever the client lets them.
  let inFlight = 0
  let peakInFlight = 0
  const server = await startServer((req, res) => {
    inFlight++
    peakInFlight = Math.max(peakInFlight, inFlight)
    setImmediate(() => {
      inFlight--
      if (req.url.startsWith('/cgi-bin/stable_token')) json(res, 200, { access_token: TOKEN, expires_in: 7200 })
      else json(res, 200, { errcode: 0, errmsg: 'ok' })
    })
  })
  t.after(() => server.close())
  const csm = native.createNewInstance({ appid: 'wxsockets', secret: 'wxemuSK-sockets', apiBaseUrl: server.url, maxConcurrency: 4 })
    .openapi.customerServiceMessage
  for (let round = 0; round < 5; round++) {
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => csm.send(message(`r${round}m${i}`))))
    assert.ok(results.every((r) => r.errCode === 0))
  }
  assert.equal(sendsTo(server), 500)
  assert.ok(peakInFlight <= 4, `${peakInFlight} requests were in flight at once`)
  // reqwest's pool may open a connection while another is on its way back (README, "Reliability"):
  // a few over maxConcurrency for a moment, never one per call.
  assert.ok(server.connections.peak <= 2 * 4, `${server.connections.peak} sockets were open at once`)
  assert.ok(server.connections.opened < 50, `${server.connections.opened} connections for 501 requests`)
  t.diagnostic(`sockets: ${server.connections.opened} opened, at most ${server.connections.peak} at once`)
})

test('an invalid TLS certificate → -601003 naming certificate verification; nothing is accepted', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-tls-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
  ], { stdio: 'ignore' })
  const handled = []
  const server = https.createServer(
    { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
    (req, res) => {
      handled.push(req.url)
      json(res, 200, { errcode: 0, errmsg: 'ok' })
    },
  )
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  const error = await rejection(instance(`https://127.0.0.1:${server.address().port}`).send(message()), {
    errCode: -601003,
    secrets: [TOKEN],
  })
  assert.match(error.errMsg, /certificate/i)
  assert.deepEqual(handled, [], 'no request got through')
})

test('a DNS failure → -601003 (in a network namespace of its own, so no query leaves the machine)', (t) => {
  const probe = spawnSync('unshare', ['--net', 'true'])
  if (probe.error || probe.status !== 0) {
    t.skip('unshare --net is not available (needs root)')
    return
  }
  const script = `
    const cloud = require(${JSON.stringify(path.join(__dirname, '..'))}).createNewInstance({
      accessToken: ${JSON.stringify(TOKEN)}, apiBaseUrl: 'http://wx-openapi-native-dns-test.invalid', retries: 0 })
    cloud.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', text: { content: 'x' } })
      .then(() => process.exit(3), (e) => { console.log(JSON.stringify({ errCode: e.errCode, errMsg: e.errMsg })) })`
  const run = spawnSync('unshare', ['--net', process.execPath, '-e', script], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  const error = JSON.parse(run.stdout)
  assert.equal(error.errCode, -601003)
  assert.match(error.errMsg, /dns|resolve|lookup|name/i)
  assert.ok(!run.stdout.includes(TOKEN) && !run.stderr.includes(TOKEN))
})

test('a panic in Rust becomes a rejection with an errCode, on the JS thread and in the runtime', async () => {
  const { Client } = require('../binding.js')
  const client = new Client(JSON.stringify({ accessToken: TOKEN }))
  for (const place of ['sync', 'async']) {
    const error = await rejection(client.__panicForTests(place), { errCode: -601002 })
    assert.match(error.errMsg, /internal error .*deliberate panic/)
  }
  // And the addon still works afterwards.
  const emu = await startEmulator()
  try {
    const csm = native.createNewInstance({ appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url }).openapi
      .customerServiceMessage
    assert.equal((await csm.send(message())).errCode, 0)
  } finally {
    await emu.close()
  }
})
