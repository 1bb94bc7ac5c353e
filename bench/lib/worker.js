'use strict'
// One contender in its own process: `node bench/lib/worker.js '<json config>'`.
// Config: { contender, base, concurrency, n?, targetSeconds, warmupSeconds }.
// It fetches a token (POST /cgi-bin/stable_token, or what the client does by itself), warms up at
// the concurrency, prints `@@bench {"type":"ready",...}`, waits for a line on stdin (the parent
// reads nginx's connection counter meanwhile), sends n messages, prints `@@bench {"type":"result"}`.
// The same protocol as the Rust ceiling (bench/reqwest-ceiling).
const path = require('node:path')
const { performance } = require('node:perf_hooks')

// WX_BENCH_ADDON_DIR points the addon contender at another copy of the package (bench/profile.js
// uses it for a build that keeps its symbols).
const ROOT = process.env.WX_BENCH_ADDON_DIR || path.join(__dirname, '..', '..')
const APPID = 'wxbench0000000000'
const SECRET = 'bench-secret'
// The message of the issue, the same object for every contender.
const MESSAGE = { touser: 'OPENID', msgtype: 'text', text: { content: 'Hello World' } }

function check(statusCode, reply) {
  if (statusCode !== 200 || reply.errcode !== 0) throw new Error(`HTTP ${statusCode}: ${JSON.stringify(reply)}`)
}

const tokenBody = () => JSON.stringify({ grant_type: 'client_credential', appid: APPID, secret: SECRET, force_refresh: false })

// Each contender: setup(base, concurrency) -> async send(), ready to be called concurrently.
const contenders = {
  // (a) this package, as its README says to use it.
  async addon(base, concurrency) {
    const cloud = require(ROOT)
    const inst = cloud.createNewInstance({ appid: APPID, secret: SECRET, apiBaseUrl: base, maxConcurrency: concurrency, timeout: 10_000 })
    const api = inst.openapi.customerServiceMessage
    const first = await api.send(MESSAGE)
    if (first.errCode !== 0) throw new Error(JSON.stringify(first))
    return async () => {
      const r = await api.send(MESSAGE)
      if (r.errCode !== 0) throw new Error(JSON.stringify(r))
    }
  },

  // (b) undici's Pool: one keep-alive connection per concurrent request, HTTP/1.1.
  async undici(base, concurrency) {
    const { Pool } = require('undici')
    const pool = new Pool(base, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 })
    const headers = { 'content-type': 'application/json' }
    const post = async (p, body) => {
      const { statusCode, body: reply } = await pool.request({ path: p, method: 'POST', headers, body })
      const json = await reply.json()
      check(statusCode, statusCode === 200 && 'access_token' in json ? { errcode: 0 } : json)
      return json
    }
    const { access_token: token } = await post('/cgi-bin/stable_token', tokenBody())
    const sendPath = `/cgi-bin/message/custom/send?access_token=${encodeURIComponent(token)}`
    return async () => {
      const { statusCode, body } = await pool.request({ path: sendPath, method: 'POST', headers, body: JSON.stringify(MESSAGE) })
      check(statusCode, await body.json())
    }
  },

  // (c) Node's global fetch (its bundled undici, global keep-alive agent).
  async fetch(base) {
    const headers = { 'content-type': 'application/json' }
    const res = await fetch(`${base}/cgi-bin/stable_token`, { method: 'POST', headers, body: tokenBody() })
    const { access_token: token } = await res.json()
    const url = `${base}/cgi-bin/message/custom/send?access_token=${encodeURIComponent(token)}`
    return async () => {
      const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify(MESSAGE) })
      check(r.status, await r.json())
    }
  },

  // (e) co-wechat-api: its URL prefix is a public instance field, so it points at the bench
  // server without patching. Its own token call is the older GET /cgi-bin/token; its HTTP client
  // (httpx) keeps connections alive with an unbounded agent.
  async 'co-wechat-api'(base) {
    const API = require('co-wechat-api')
    const api = new API(APPID, SECRET)
    api.prefix = `${base}/cgi-bin/`
    const send = async () => {
      const r = await api.sendText('OPENID', 'Hello World')
      if (!r || r.errcode !== 0) throw new Error(JSON.stringify(r))
    }
    await send()
    return send
  },
}

// With `n`, sends n messages; else sends until `deadline` and at least `minCount` messages (so that
// every lane has had its connection before the measured phase, however slow the handshakes).
async function phase(send, concurrency, { n, deadline, minCount = 0, latencies }) {
  let taken = 0
  let errors = 0
  let firstError = null
  let stop = false
  async function lane() {
    for (;;) {
      if (n !== undefined) {
        if (taken >= n) return
      } else if (stop || (performance.now() >= deadline && taken >= minCount)) {
        stop = true
        return
      }
      const i = taken++
      const t = performance.now()
      try {
        await send()
      } catch (e) {
        errors++
        firstError ??= e
      }
      if (latencies) latencies[i] = performance.now() - t
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, lane))
  return { count: taken, errors, firstError, seconds: (performance.now() - start) / 1000 }
}

const report = (value) => process.stdout.write(`@@bench ${JSON.stringify(value)}\n`)
const percentile = (sorted, p) => sorted[Math.floor((sorted.length - 1) * p)]

async function main() {
  const config = JSON.parse(process.argv[2])
  const { contender, base, concurrency } = config
  const setup = contenders[contender]
  if (!setup) throw new Error(`unknown contender ${contender}`)
  const send = await setup(base, concurrency)

  // Warm-up in two halves: the JIT and the connections settle in the first, the second gives the
  // steady rate from which n is chosen (so that the measured phase lasts about targetSeconds).
  const half = (config.warmupSeconds * 1000) / 2
  const first = await phase(send, concurrency, { deadline: performance.now() + half, minCount: 3 * concurrency })
  const warm = await phase(send, concurrency, { deadline: performance.now() + half, minCount: concurrency })
  if (first.errors || warm.errors) throw first.firstError || warm.firstError
  warm.count += first.count
  const n = config.n ?? Math.max(concurrency * 4, Math.ceil(((warm.count - first.count) / warm.seconds) * config.targetSeconds))
  report({ type: 'ready', n, warmup: { count: warm.count, seconds: warm.seconds } })
  await new Promise((resolve) => process.stdin.once('data', resolve))
  process.stdin.pause()

  const latencies = new Float64Array(n)
  const cpu0 = process.cpuUsage()
  const run = await phase(send, concurrency, { n, latencies })
  const cpu = process.cpuUsage(cpu0)
  latencies.sort()
  report({
    type: 'result',
    count: run.count,
    seconds: run.seconds,
    cpuUser: cpu.user / 1e6,
    cpuSys: cpu.system / 1e6,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errors: run.errors,
    firstError: run.firstError && String(run.firstError.stack || run.firstError),
    maxRssKb: process.resourceUsage().maxRSS,
  })
  // Pools and runtimes may hold the loop open; the figures are out, so leave now.
  process.exit(0)
}

main().catch((e) => {
  process.stderr.write(`${e && e.stack ? e.stack : e}\n`)
  process.exit(1)
})
