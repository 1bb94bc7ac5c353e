'use strict'
// 20,000 concurrent sends: every one settles correctly, never more than maxConcurrency requests
// are in flight at the server, never more than maxConcurrency sockets are open (each socket holds
// a permit of the connector's semaphore for its life), and memory stays bounded.
// `npm run test:stress`.
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
  // reqwest's pool may open a socket while another is on its way back to it (README, Reliability):
  // a few over maxConcurrency for a moment; the figure goes into the README.
  assert.ok(stats.maxSockets <= 2 * MAX_CONCURRENCY, `${stats.maxSockets} sockets were open at once`)
  assert.ok(peakRss - rssBefore < 256 * 1024 * 1024, `RSS grew by ${mb(peakRss - rssBefore)} MB`)
})
