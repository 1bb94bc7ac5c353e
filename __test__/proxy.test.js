'use strict'
// HTTP_PROXY, HTTPS_PROXY and NO_PROXY are honoured (CONTRACT.md section 2). The addon reads them
// when an instance is made, so each case runs a child process with its own environment, against
// proxies on loopback. The target host names end in .invalid: only the proxy can reach them.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const { startServer, json, makeCertificates } = require('./helpers')

const TOKEN = 'wxemuAT_proxy-token-0123456789'
const ROOT = path.join(__dirname, '..')
const PROXY_USER = 'proxyuser'
const PROXY_PASSWORD = 'proxy-pass'
const BASIC = `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64')}`

/** Sends one text message from a child process with `env` added; resolves what it printed. */
function sendFromChild(apiBaseUrl, env) {
  const script = `
    const cloud = require(${JSON.stringify(ROOT)}).createNewInstance({
      accessToken: ${JSON.stringify(TOKEN)}, apiBaseUrl: ${JSON.stringify(apiBaseUrl)}, retries: 0 })
    cloud.openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', text: { content: 'via proxy' } })
      .then((r) => console.log(JSON.stringify(r)), (e) => console.log(JSON.stringify({ errCode: e.errCode, errMsg: e.errMsg })))`
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_proxy$/i.test(k)))
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { env: { ...clean, ...env }, encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    )
  })
}

test('HTTP_PROXY: a plain-HTTP request goes to the proxy in absolute form, with the proxy credentials', async (t) => {
  const proxy = await startServer((req, res) => json(res, 200, { errcode: 0, errmsg: 'ok' }))
  t.after(() => proxy.close())
  const proxyUrl = new URL(proxy.url)
  const reply = await sendFromChild('http://wechat.proxy-test.invalid', {
    HTTP_PROXY: `http://${PROXY_USER}:${PROXY_PASSWORD}@${proxyUrl.host}`,
  })
  assert.deepEqual(reply, { errMsg: 'openapi.customerServiceMessage.send:ok', errCode: 0 })
  assert.equal(proxy.requests.length, 1)
  const [request] = proxy.requests
  assert.match(request.url, /^http:\/\/wechat\.proxy-test\.invalid\/cgi-bin\/message\/custom\/send\?access_token=/)
  assert.equal(request.headers['proxy-authorization'], BASIC)
  assert.equal(JSON.parse(request.body).text.content, 'via proxy')
})

test('HTTPS_PROXY: an HTTPS request tunnels through CONNECT, and TLS is verified end to end', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-proxy-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  makeCertificates(dir, 'DNS:wechat.proxy-test.invalid')
  const handled = []
  const wechat = https.createServer(
    { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
    (req, res) => {
      handled.push(req.url)
      req.resume()
      req.on('end', () => json(res, 200, { errcode: 0, errmsg: 'ok' }))
    },
  )
  await new Promise((resolve) => wechat.listen(0, '127.0.0.1', resolve))
  const tunnels = []
  const proxy = http.createServer((req, res) => res.writeHead(405).end())
  proxy.on('connect', (req, client) => {
    tunnels.push({ target: req.url, auth: req.headers['proxy-authorization'] })
    const upstream = net.connect(wechat.address().port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.pipe(client).pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    proxy.closeAllConnections?.()
    wechat.closeAllConnections?.()
    return Promise.all([new Promise((r) => proxy.close(r)), new Promise((r) => wechat.close(r))])
  })
  const proxyUrl = `http://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:${proxy.address().port}`

  const reply = await sendFromChild('https://wechat.proxy-test.invalid', {
    HTTPS_PROXY: proxyUrl,
    SSL_CERT_FILE: path.join(dir, 'ca.pem'),
  })
  assert.deepEqual(reply, { errMsg: 'openapi.customerServiceMessage.send:ok', errCode: 0 })
  assert.deepEqual(tunnels, [{ target: 'wechat.proxy-test.invalid:443', auth: BASIC }])
  assert.equal(handled.length, 1)
  assert.match(handled[0], /^\/cgi-bin\/message\/custom\/send\?access_token=/)

  // The same tunnel, but the certificate is not trusted: refused, nothing reaches the server.
  const refused = await sendFromChild('https://wechat.proxy-test.invalid', { HTTPS_PROXY: proxyUrl })
  assert.equal(refused.errCode, -601003)
  assert.match(refused.errMsg, /certificate/i)
  assert.equal(handled.length, 1)
})

test('NO_PROXY: a listed host is reached directly', async (t) => {
  const server = await startServer((req, res) => json(res, 200, { errcode: 0, errmsg: 'ok' }))
  t.after(() => server.close())
  const proxy = await startServer((req, res) => json(res, 502, { errcode: -1, errmsg: 'the proxy was used' }))
  t.after(() => proxy.close())
  const reply = await sendFromChild(server.url, { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' })
  assert.equal(reply.errCode, 0)
  assert.equal(server.requests.length, 1)
  assert.equal(proxy.requests.length, 0)
})
