'use strict'
// 20,000 concurrent sends: every one settles correctly, never more than maxConcurrency requests
// are in flight at the server, sockets stay bounded, and so does memory. `npm run test:stress`.
//
// Sockets: reqwest's pool (hyper-util) opens a spare connection when a request starts just before
// a finished connection is back in the pool, and it offers no cap on open connections per host;
// the idle pool is capped at maxConcurrency. So the bound asserted is 2 × maxConcurrency, and the
// figure is printed.
const { test } = require('node:test')
const assert = require('node:assert/strict')

const native = require('..')
const { startStandIn, mb } = require('./harness')

const CALLS = 20_000
const MAX_CONCURRENCY = 64

test(`${CALLS} concurrent sends with maxConcurrency ${MAX_CONCURRENCY}`, { timeout: 600_000 }, async (t) => {
  const server = await startStandIn()
  t.after(() => server.stop())
  const csm = native.createNewInstance({
    appid: 'wxstress',
    secret: 'wxemuSK-stress',
    apiBaseUrl: server.url,
    maxConcurrency: MAX_CONCURRENCY,
  }).openapi.customerServiceMessage
  const rssBefore = process.memoryUsage().rss
  let peakRss = rssBefore
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50)
  const calls = Array.from({ length: CALLS }, (_, i) =>
    csm.send({ touser: `user-${i}`, msgtype: 'text', text: { content: `message ${i}` } }),
  )
  const results = await Promise.allSettled(calls)
  clearInterval(sampler)
  const fulfilled = results.filter((r) => r.status === 'fulfilled' && r.value.errCode === 0).length
  const stats = await server.stats()
  console.log(
    `# ${CALLS} sends: ${fulfilled} ok; server saw ${stats.requests} requests, peak ${stats.maxInFlight} in flight, ` +
      `peak ${stats.maxSockets} sockets; ` +
      `RSS ${mb(rssBefore)} MB → peak ${mb(peakRss)} MB`,
  )
  assert.equal(fulfilled, CALLS)
  assert.equal(stats.requests, CALLS + 1, 'every message once, plus one token fetch')
  assert.ok(stats.maxInFlight <= MAX_CONCURRENCY, `${stats.maxInFlight} requests were in flight at once`)
  assert.ok(stats.maxSockets <= 2 * MAX_CONCURRENCY, `${stats.maxSockets} sockets were open at once`)
  assert.ok(peakRss - rssBefore < 256 * 1024 * 1024, `RSS grew by ${mb(peakRss - rssBefore)} MB`)
})
