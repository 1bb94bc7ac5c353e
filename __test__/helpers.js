'use strict'
// Shared by the test files: a loopback server for the faults the emulator cannot produce,
// and the checks every rejection must pass.

const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const path = require('node:path')

/** A port on loopback that nothing listens on (bound once, then released). */
async function refusedPort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * A plain loopback HTTP server; `handler(req, res, body)` answers. Records every request, and
 * counts the connections it accepted (`connections.opened`) and the most open at once (`.peak`).
 */
async function startServer(handler) {
  const requests = []
  const sockets = new Set()
  const connections = { opened: 0, peak: 0 }
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      requests.push({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') })
      handler(req, res, body)
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    connections.opened++
    connections.peak = Math.max(connections.peak, sockets.size)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    sockets,
    connections,
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(value))
}

/**
 * Awaits a promise that must reject with the contract's error shape (CONTRACT.md section 5)
 * and returns the error. `secrets` must appear in none of its texts.
 */
async function rejection(promise, { call = 'send', errCode, secrets = [] } = {}) {
  let error
  await promise.then(
    (value) => assert.fail(`expected a rejection, got ${JSON.stringify(value)}`),
    (e) => {
      error = e
    },
  )
  assert.ok(error instanceof Error, 'the rejection is an Error')
  assert.equal(typeof error.errCode, 'number')
  assert.equal(typeof error.errMsg, 'string')
  assert.ok(error.errMsg.startsWith(`openapi.customerServiceMessage.${call}:fail `), error.errMsg)
  assert.ok(error.message.includes(error.errMsg), error.message)
  assert.ok(error.message.includes(String(error.errCode)), error.message)
  if (errCode !== undefined) assert.equal(error.errCode, errCode, error.errMsg)
  assertNoSecrets(error, secrets)
  return error
}

/** Fails if any secret appears in the error's message, errMsg, stack or any own property. */
function assertNoSecrets(error, secrets) {
  const texts = [String(error && error.message), String(error && error.stack), JSON.stringify(error)]
  if (error && typeof error === 'object') {
    for (const key of Object.getOwnPropertyNames(error)) texts.push(String(error[key]))
  }
  for (const secret of secrets.filter(Boolean)) {
    for (const text of texts) assert.ok(!text.includes(secret), `a secret leaked into: ${text}`)
  }
}

/** The four cloud-call examples of the seed, with the HTTPS body WeChat must receive for each. */
const SEED_EXAMPLES = [
  {
    params: { touser: 'OPENID', msgtype: 'text', text: { content: 'Hello World' } },
    wire: { touser: 'OPENID', msgtype: 'text', text: { content: 'Hello World' } },
  },
  {
    params: { touser: 'OPENID', msgtype: 'image', image: { mediaId: 'MEDIA_ID' } },
    wire: { touser: 'OPENID', msgtype: 'image', image: { media_id: 'MEDIA_ID' } },
  },
  {
    params: {
      touser: 'OPENID',
      msgtype: 'link',
      link: { title: 'Happy Day', description: 'Is Really A Happy Day', url: 'URL', thumbUrl: 'THUMB_URL' },
    },
    wire: {
      touser: 'OPENID',
      msgtype: 'link',
      link: { title: 'Happy Day', description: 'Is Really A Happy Day', url: 'URL', thumb_url: 'THUMB_URL' },
    },
  },
  {
    params: {
      touser: 'OPENID',
      msgtype: 'miniprogrampage',
      miniprogrampage: { title: 'title', pagepath: 'pagepath', thumbMediaId: 'thumb_media_id' },
    },
    wire: {
      touser: 'OPENID',
      msgtype: 'miniprogrampage',
      miniprogrampage: { title: 'title', pagepath: 'pagepath', thumb_media_id: 'thumb_media_id' },
    },
  },
]

/**
 * Writes a throwaway CA (`ca.pem`) and a server certificate it signs (`cert.pem`, `key.pem`) for
 * `subjectAltName` (e.g. `DNS:example.invalid` or `IP:127.0.0.1`) into `dir`: rustls refuses a CA
 * certificate used as the server's own, so a single self-signed one would not do.
 */
function makeCertificates(dir, subjectAltName) {
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=wx-openapi-native test CA')
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'key.pem', '-out', 'leaf.csr', '-subj', '/CN=wx-openapi-native test server')
  fs.writeFileSync(path.join(dir, 'leaf.ext'),
    `basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=${subjectAltName}\n`)
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
    '-out', 'cert.pem', '-days', '1', '-extfile', 'leaf.ext')
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') }
}

module.exports = { refusedPort, startServer, json, rejection, assertNoSecrets, makeCertificates, SEED_EXAMPLES }
