'use strict'
// When things go wrong (issue 19): a stalled JS thread, token lifetimes out of range, a token
// provider that never settles, a storm of rejected tokens, descriptors running out, error codes a JS
// number cannot hold. Servers are on loopback; where the JS thread is stalled, in a child process.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')

const native = require('..')
const { rejection, startServer, json } = require('./helpers')

const SEND = '/cgi-bin/message/custom/send'
const STABLE = '/cgi-bin/stable_token'
const TOKEN = 'wxemuAT_resilience-token-0123456789'
const message = (i = 0) => ({ touser: `r${i}`, msgtype: 'text', text: { content: 'x' } })
const sends = (server) => server.requests.filter((r) => r.url.startsWith(SEND))
const tokenFetches = (server) => server.requests.filter((r) => r.url.startsWith(STABLE))

/** Blocks the JS thread for `ms`, as a long synchronous task in a callback would. */
function stall(ms) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    // busy: nothing else runs on this thread meanwhile
  }
}

async function childServer(t, delayMs) {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'reply-server.js'), String(delayMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  t.after(() => child.stdin.end())
  const [url] = await readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value])
  return { url, sends: () => fetch(`${url}/count`).then((r) => r.json()).then((r) => r.sends) }
}

test('a reply that arrived within the timeout resolves, however long the JS thread was busy', async (t) => {
  const server = await childServer(t, 200)
  const csm = native.createNewInstance({ appid: 'wxstall', secret: 'wxemuSK-stall', apiBaseUrl: server.url, timeout: 1000 })
    .openapi.customerServiceMessage
  await csm.send(message(0)) // a warm connection and a cached token
  // In an I/O callback, a call goes out and the thread then stays busy for twice the timeout.
  const pending = await new Promise((resolve) =>
    fs.stat(__filename, () => {
      const call = csm.send(message(1))
      stall(2000)
      resolve([call])
    }),
  )
  const result = await pending[0]
  assert.equal(result.errCode, 0)
  // And a stall right after the call, outside any callback.
  const call = csm.send(message(2))
  stall(2000)
  assert.equal((await call).errCode, 0)
  assert.equal(await server.sends(), 3, 'each message reached WeChat once')
})

/** A stable_token endpoint that answers `expires_in` as the raw JSON text given. */
async function tokenServer(t, expiresInText, token = TOKEN) {
  const server = await startServer((req, res) => {
    if (req.url.startsWith(STABLE)) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(`{"access_token":"${token}","expires_in":${expiresInText}}`)
    } else json(res, 200, { errcode: 0, errmsg: 'ok' })
  })
  t.after(() => server.close())
  return server
}

test('a huge expires_in is clamped: one token fetch serves every call, and nothing panics', async (t) => {
  for (const huge of ['9223372036854775808', '18446744073709551616', '1e300', '1e19']) {
    const server = await tokenServer(t, huge)
    const csm = native.createNewInstance({ appid: 'wxhuge', secret: 'wxemuSK-huge', apiBaseUrl: server.url }).openapi
      .customerServiceMessage
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => csm.send(message(i))))
    assert.ok(results.every((r) => r.errCode === 0), huge)
    assert.equal(tokenFetches(server).length, 1, huge)
  }
})

test('an expires_in that is not a positive number is refused, naming it (-601001), and not cached', async (t) => {
  for (const bad of ['-5', '0', '"7200"', 'null', 'true']) {
    const server = await tokenServer(t, bad)
    const csm = native.createNewInstance({ appid: 'wxbad', secret: 'wxemuSK-bad', apiBaseUrl: server.url }).openapi
      .customerServiceMessage
    for (let i = 0; i < 2; i++) {
      const error = await rejection(csm.send(message(i)), { errCode: -601001, secrets: [TOKEN] })
      assert.match(error.errMsg, /expires_in/, bad)
    }
    assert.equal(tokenFetches(server).length, 2, `${bad}: a failed fetch is not kept`)
    assert.equal(sends(server).length, 0)
  }
})

test('getAccessToken: a huge expiresIn is clamped; one that is not a positive finite number is refused (-401002)', async (t) => {
  const server = await tokenServer(t, '7200')
  for (const huge of [1e19, 1e300, Number.MAX_VALUE]) {
    let asked = 0
    const csm = native.createNewInstance({
      apiBaseUrl: server.url,
      getAccessToken: () => (asked++, { accessToken: TOKEN, expiresIn: huge }),
    }).openapi.customerServiceMessage
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => csm.send(message(i))))
    assert.ok(results.every((r) => r.errCode === 0))
    await csm.send(message(99))
    assert.equal(asked, 1, `expiresIn ${huge}`)
  }
  for (const bad of [-5, 0, '7200', Infinity, NaN]) {
    const csm = native.createNewInstance({
      apiBaseUrl: server.url,
      getAccessToken: () => ({ accessToken: TOKEN, expiresIn: bad }),
    }).openapi.customerServiceMessage
    const error = await rejection(csm.send(message()), { errCode: -401002, secrets: [TOKEN] })
    assert.match(error.errMsg, /expiresIn/, String(bad))
  }
})

test('a token lifetime out of range leaves nothing on stderr (run in a child process)', () => {
  const script = `
    const http = require('node:http')
    const cloud = require(${JSON.stringify(path.join(__dirname, '..'))})
    const server = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => res.end(req.url.startsWith('/cgi-bin/stable_token')
        ? '{"access_token":"${TOKEN}","expires_in":9223372036854775808}' : '{"errcode":0,"errmsg":"ok"}'))
    }).listen(0, '127.0.0.1', async () => {
      const url = 'http://127.0.0.1:' + server.address().port
      const a = cloud.createNewInstance({ appid: 'wxa', secret: 'wxemuSK-a', apiBaseUrl: url }).openapi.customerServiceMessage
      const b = cloud.createNewInstance({ apiBaseUrl: url, getAccessToken: () => ({ accessToken: '${TOKEN}', expiresIn: 1e300 }) })
        .openapi.customerServiceMessage
      const all = await Promise.allSettled([...Array(50)].map((_, i) => (i % 2 ? a : b).send({ touser: 'o', msgtype: 'text', text: { content: 'x' } })))
      console.log(all.filter((r) => r.status === 'fulfilled').length)
      server.close()
    })`
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(run.status, 0, run.stderr)
  assert.equal(run.stdout.trim(), '50')
  assert.equal(run.stderr, '')
})

test('a getAccessToken that never settles: calls reject -604102 naming it, the next call asks again', async (t) => {
  const server = await tokenServer(t, '7200')
  let asked = 0
  const csm = native.createNewInstance({
    apiBaseUrl: server.url,
    timeout: 300,
    getAccessToken: () => (asked++, new Promise(() => {})),
  }).openapi.customerServiceMessage
  const errors = await Promise.all([0, 1, 2].map((i) => rejection(csm.send(message(i)), { errCode: -604102 })))
  for (const error of errors) assert.match(error.errMsg, /getAccessToken/)
  assert.equal(asked, 1, 'the three waited on one fetch')
  await rejection(csm.send(message(3)), { errCode: -604102 })
  assert.equal(asked, 2, 'the stuck fetch was abandoned')
  assert.equal(sends(server).length, 0)
})

test('a getAccessToken that never settles does not keep the process alive', () => {
  const script = `
    const cloud = require(${JSON.stringify(path.join(__dirname, '..'))})
    cloud.init({ apiBaseUrl: 'http://127.0.0.1:9', timeout: 200, getAccessToken: () => new Promise(() => {}) })
    cloud.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', text: { content: 'x' } })
      .catch((e) => console.log(e.errCode))`
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(run.signal, null, 'the process had to be killed: it did not exit by itself')
  assert.equal(run.status, 0, run.stderr)
  assert.equal(run.stdout.trim(), '-604102')
})

test('50 calls rejected with 40001 while the forced refresh runs all wait for it: one forced refresh, 50 delivered', async (t) => {
  // The stable endpoint hands out T1 until a forced refresh, then T2; WeChat rejects T1.
  const T1 = 'wxemuAT_storm-token-one-0123456789'
  const T2 = 'wxemuAT_storm-token-two-0123456789'
  let current = T1
  let forced = 0
  const server = await startServer((req, res, body) => {
    if (req.url.startsWith(STABLE)) {
      if (JSON.parse(body).force_refresh === true) {
        forced++
        current = T2
      }
      return json(res, 200, { access_token: current, expires_in: 7200 })
    }
    const token = new URL(req.url, 'http://x').searchParams.get('access_token')
    if (token !== T2) return json(res, 200, { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' })
    json(res, 200, { errcode: 0, errmsg: 'ok' })
  })
  t.after(() => server.close())
  const csm = native.createNewInstance({ appid: 'wxstorm', secret: 'wxemuSK-storm', apiBaseUrl: server.url }).openapi
    .customerServiceMessage
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => csm.send(message(i))))
  const rejected = results.filter((r) => r.status === 'rejected').map((r) => r.reason.errMsg)
  assert.deepEqual(rejected, [])
  assert.equal(forced, 1)
  const delivered = sends(server).filter((r) => r.url.includes(T2)).map((r) => JSON.parse(r.body).touser)
  assert.equal(delivered.length, 50)
  assert.equal(new Set(delivered).size, 50, 'each message once')
})

/** Runs node with `args` under `ulimit -n limit`, without blocking this thread (its server answers). */
function underLimit(limit, args) {
  const child = spawn('sh', ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, process.execPath, ...args])
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })))
}

test('2,000 instances made and dropped in a row under ulimit -n 512: every send delivered', async (t) => {
  const server = await startServer((req, res) => json(res, 200, { errcode: 0, errmsg: 'ok' }))
  t.after(() => server.close())
  const run = await underLimit(512, [path.join(__dirname, 'fixtures', 'descriptors.js'), 'instances', server.url])
  assert.equal(run.status, 0, run.stderr)
  const result = JSON.parse(run.stdout)
  assert.deepEqual(result.failures, [])
  assert.equal(result.ok, 2000)
  assert.equal(sends(server).length, 2000)
  assert.ok(server.connections.opened < 50, `${server.connections.opened} connections`)
})

test('out of file descriptors is reported as such (-601003), over HTTP and HTTPS, and the next call works', async (t) => {
  const server = await startServer((req, res) => json(res, 200, { errcode: 0, errmsg: 'ok' }))
  t.after(() => server.close())
  const run = await underLimit(256, [path.join(__dirname, 'fixtures', 'descriptors.js'), 'exhausted', server.url])
  assert.equal(run.status, 0, run.stderr)
  const result = JSON.parse(run.stdout)
  assert.ok(result.held > 0)
  for (const scheme of ['http', 'https']) {
    assert.equal(result[scheme].errCode, -601003, JSON.stringify(result[scheme]))
    assert.match(result[scheme].errMsg, /too many open files/, scheme)
    assert.doesNotMatch(result[scheme].errMsg, /certificate/i, scheme)
  }
  assert.equal(result.after.errCode, 0)
})

test('an errcode beyond ±2^53 keeps its digits in errMsg; errCode is -601001', async (t) => {
  const server = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"errcode":9223372036854775807,"errmsg":"odd"}')
  })
  t.after(() => server.close())
  const csm = native.createNewInstance({ accessToken: TOKEN, apiBaseUrl: server.url }).openapi.customerServiceMessage
  const error = await rejection(csm.send(message()), { errCode: -601001, secrets: [TOKEN] })
  assert.match(error.errMsg, /errcode 9223372036854775807\b.*odd/)
})
