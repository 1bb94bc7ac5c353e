'use strict'
// Many processes, one token: examples/redis-token-store.js against a real redis-server and the emulator.
//
// Needs `redis-server` on PATH (Debian/Ubuntu: `apt-get install -y redis-server`). Without it the whole
// suite is skipped with one line that says what to install, so that `npm install && npm test` passes on a
// fresh machine that has only Node and Rust; WX_REQUIRE_REDIS=1 (set by .ci/run, which installs Redis)
// makes a missing redis-server a failure instead.

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const { createClient } = require('redis')
const { startEmulator } = require('../emulator')
const { createRedisTokenStore } = require('../examples/redis-token-store')

const STABLE = '/cgi-bin/stable_token'
const WORKER = path.join(__dirname, 'fixtures', 'redis-worker.js')
const WORKERS = 4
const MESSAGES_PER_WORKER = 10
// A safety net so that a hung child fails the test (t.after then kills everything) instead of
// hanging the run; never reached when things work, and nothing waits on it.
const TEST_TIMEOUT_MS = 120_000

const tokenRequests = (emu) => emu.requests.filter((r) => r.path === STABLE)
const REQUIRE_REDIS = process.env.WX_REQUIRE_REDIS === '1'
const INSTALL_HINT = 'Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`'

/** The absolute path of an executable on PATH, or null. */
function findOnPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, name)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      if (fs.statSync(candidate).isFile()) return candidate
    } catch {
      // not here
    }
  }
  return null
}

async function freePort() {
  const server = net.createServer()
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Resolves when `child` has exited (at once if it already has). */
function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', resolve))
}

/** Kills every child still running and waits for each to exit. */
async function killAll(children) {
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited(child)
    }),
  )
}

/** Starts redis-server on a free loopback port; resolves once it logs that it accepts connections. */
async function startRedisServer(bin, children, dir) {
  let lastFailure = ''
  // The free port could be taken between our probe and redis binding it: try a few ports.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    const child = spawn(
      bin,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    children.add(child)
    let output = ''
    const ready = await new Promise((resolve) => {
      const onData = (chunk) => {
        output += chunk
        if (output.includes('Ready to accept connections')) {
          child.stdout.off('data', onData)
          child.stdout.resume() // keep draining its log
          resolve(true)
        }
      }
      child.stdout.setEncoding('utf8')
      child.stderr.setEncoding('utf8')
      child.stdout.on('data', onData)
      child.stderr.on('data', (chunk) => {
        output += chunk
      })
      child.once('error', (e) => {
        output += `\nspawn error: ${e.message}`
        resolve(false)
      })
      child.once('exit', (code, signal) => {
        output += `\nexited with ${code === null ? signal : `code ${code}`}`
        resolve(false)
      })
    })
    if (ready) return { url: `redis://127.0.0.1:${port}`, port, child }
    lastFailure = output.slice(-2000)
    await exited(child)
    if (!/address already in use/i.test(output)) break
  }
  throw new Error(`redis-server did not start:\n${lastFailure}`)
}

const REDIS_SERVER = findOnPath('redis-server')
// The one line a run without redis-server shows (the suite's skip reason).
const SKIP = !REDIS_SERVER && !REQUIRE_REDIS && `redis-server is not on PATH: install it to run these tests (${INSTALL_HINT})`

/** redis-server + emulator + cleanup. Throws when redis-server is missing (only reached with WX_REQUIRE_REDIS=1). */
async function setup(t) {
  const bin = REDIS_SERVER
  if (!bin) {
    throw new Error(`redis-server is not on PATH and WX_REQUIRE_REDIS=1. Install it (${INSTALL_HINT}).`)
  }
  const children = new Set()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-redis-test-'))
  let emu = null
  let client = null
  t.after(async () => {
    if (client) await client.disconnect().catch(() => {})
    await killAll(children)
    if (emu) await emu.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const redis = await startRedisServer(bin, children, dir)
  emu = await startEmulator({ port: 0 })
  return {
    emu,
    redis,
    children,
    /** A node-redis client in this process, connected on first use. */
    async client() {
      if (!client) {
        client = createClient({ url: redis.url })
        client.on('error', () => {})
        await client.connect()
      }
      return client
    },
  }
}

/** Spawns one worker process; `ready` resolves once it is connected, `done` when it exits. */
function spawnWorker(ctx, worker, round) {
  const config = {
    redisUrl: ctx.redis.url,
    apiBaseUrl: ctx.emu.url,
    appid: ctx.emu.appid,
    secret: ctx.emu.secret,
    worker,
    round,
    count: MESSAGES_PER_WORKER,
  }
  const child = spawn(process.execPath, [WORKER], {
    env: { ...process.env, REDIS_WORKER_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  ctx.children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  child.stdin.on('error', () => {}) // a worker that died early closes its stdin
  const done = new Promise((resolve) => {
    child.once('error', (e) => {
      stderr += `\nspawn error: ${e.message}`
    })
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      if (/^ready$/m.test(stdout)) resolve()
    })
    done.then(({ code, signal }) =>
      reject(new Error(`worker ${worker} exited (${code ?? signal}) before it was ready:\n${stderr}`)),
    )
  })
  ready.catch(() => {}) // awaited below; avoid an unhandled rejection if `done` settles first
  return { child, ready, done }
}

/** Runs WORKERS processes together; each sends MESSAGES_PER_WORKER messages. Returns their results. */
async function runRound(ctx, round) {
  const workers = Array.from({ length: WORKERS }, (_, w) => spawnWorker(ctx, w, round))
  // A start barrier, not a sleep: no worker asks for a token before every worker is connected.
  await Promise.all(workers.map((w) => w.ready))
  for (const w of workers) w.child.stdin.end('go\n')
  const exits = await Promise.all(workers.map((w) => w.done))
  return exits.map((exit, worker) => {
    const line = exit.stdout.split('\n').find((l) => l.startsWith('result '))
    assert.ok(line, `worker ${worker} printed no result (exit ${exit.code ?? exit.signal}):\n${exit.stderr}`)
    const result = JSON.parse(line.slice('result '.length))
    assert.deepEqual(result.failures, [], `worker ${worker} had failures`)
    assert.equal(exit.code, 0, `worker ${worker} exited ${exit.code ?? exit.signal}:\n${exit.stderr}`)
    assert.equal(result.sent, MESSAGES_PER_WORKER)
    for (const text of [exit.stdout, exit.stderr]) assert.ok(!text.includes(ctx.emu.secret), 'the AppSecret leaked into worker output')
    return result
  })
}

describe('many processes, one token (examples/redis-token-store.js, redis-server)', { skip: SKIP }, () => {
  test(`${WORKERS} processes sending ${MESSAGES_PER_WORKER} messages each share exactly one token request`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const ctx = await setup(t)
    const results = await runRound(ctx, 1)

    assert.equal(ctx.emu.messages.length, WORKERS * MESSAGES_PER_WORKER)
    const requests = tokenRequests(ctx.emu)
    assert.equal(requests.length, 1, 'exactly one process fetched a token from WeChat')
    assert.equal(requests[0].method, 'POST')
    assert.equal(requests[0].body.grant_type, 'client_credential')
    assert.equal(requests[0].body.appid, ctx.emu.appid)
    assert.equal(requests[0].body.force_refresh, false)
    // Every worker asked its store once (the addon caches `{ accessToken, expiresIn }` per process) and never
    // needed a refresh.
    for (const r of results) assert.deepEqual(r.tokenCalls, [false])

    // The token is in Redis with the documented shape and a TTL that ends when the token does.
    const redis = await ctx.client()
    const key = `wx-openapi-native:token:${ctx.emu.appid}`
    const stored = JSON.parse(await redis.get(key))
    assert.equal(typeof stored.accessToken, 'string')
    assert.ok(stored.expiresAt > Date.now())
    const ttl = await redis.pTTL(key)
    assert.ok(ttl > 0 && ttl <= 7200 * 1000, `PTTL ${ttl}`)
    assert.equal(await redis.exists(`${key}:lock`), 0, 'the lock was released')
    t.diagnostic(`stable_token requests: ${requests.length}`)
  })

  test('after WeChat expires the token, the processes recover with exactly one more token request', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const ctx = await setup(t)
    await runRound(ctx, 1)
    assert.equal(tokenRequests(ctx.emu).length, 1)

    ctx.emu.expireTokens()
    const results = await runRound(ctx, 2)

    assert.equal(ctx.emu.messages.length, 2 * WORKERS * MESSAGES_PER_WORKER)
    // What the design guarantees: Redis still holds the expired token T1 (it does not know WeChat expired
    // it), so every new worker first uses T1, gets 42001, and calls getAccessToken({ forceRefresh: true }),
    // which treats T1 as suspect. Under the lock, the first process re-reads Redis (still T1), fetches with
    // force_refresh: false (the stable endpoint issues a new token T2 once T1 is no longer valid) and stores
    // T2; every other process then finds T2 != T1 in Redis, either while polling or in its own re-read under
    // the lock, and fetches nothing. So: at least one extra request (T1 must be replaced) and at most one
    // (the lock plus the re-read under it), and it is not a forced refresh.
    const requests = tokenRequests(ctx.emu)
    assert.equal(requests.length, 2, 'exactly one extra token request after the rotation')
    assert.equal(requests[1].body.force_refresh, false)
    // Each worker called its store once or twice: forceRefresh only after a rejection (a worker that
    // started after T2 was stored never saw one); the addon asks at most once per rejection.
    for (const r of results) {
      assert.equal(r.tokenCalls[0], false)
      assert.ok(r.tokenCalls.length <= 2 && r.tokenCalls.slice(1).every((f) => f === true), JSON.stringify(r.tokenCalls))
    }
    const forced = results.filter((r) => r.tokenCalls.includes(true)).length
    t.diagnostic(`stable_token requests: ${requests.length} (round 2: ${requests.length - 1}); workers that saw a rejection: ${forced}/${WORKERS}`)
  })

  test('in one process: WeChat errors carry errcode and errmsg but not the secret; forced refreshes are rationed', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const ctx = await setup(t)
    const { emu } = ctx
    const redis = await ctx.client()
    const getAccessToken = createRedisTokenStore({ redis, appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url })

    // A failed fetch throws, releases the lock (the next call does not wait for it) and caches nothing.
    emu.inject({ path: STABLE, errcode: 40164, errmsg: `invalid ip 1.2.3.4, not in whitelist (${emu.secret})` })
    const error = await getAccessToken({ forceRefresh: false }).then(
      () => assert.fail('expected a rejection'),
      (e) => e,
    )
    assert.ok(error instanceof Error)
    assert.match(error.message, /errcode 40164/)
    assert.match(error.message, /invalid ip 1\.2\.3\.4, not in whitelist/)
    assert.ok(!error.message.includes(emu.secret) && !String(error.stack).includes(emu.secret), error.message)
    assert.equal(await redis.exists(`wx-openapi-native:token:${emu.appid}:lock`), 0)

    const first = await getAccessToken({ forceRefresh: false })
    assert.equal(typeof first.accessToken, 'string')
    assert.ok(first.expiresIn > 0 && first.expiresIn <= 7200, String(first.expiresIn))
    assert.deepEqual(await getAccessToken({ forceRefresh: false }), first, 'served from Redis')
    assert.equal(tokenRequests(emu).length, 2)

    // A rejection of a token WeChat still hands out: a non-forced fetch returns the same token, so one
    // forced refresh follows.
    const second = await getAccessToken({ forceRefresh: true })
    assert.notEqual(second.accessToken, first.accessToken)
    assert.deepEqual(tokenRequests(emu).slice(2).map((r) => r.body.force_refresh), [false, true])

    // Another rejection within 30 s: no second forced refresh (WeChat would refuse it); the token stands.
    const third = await getAccessToken({ forceRefresh: true })
    assert.equal(third.accessToken, second.accessToken)
    assert.deepEqual(tokenRequests(emu).slice(4).map((r) => r.body.force_refresh), [false])
  })
})
