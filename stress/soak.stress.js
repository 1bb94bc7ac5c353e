'use strict'
// A soak of 1,000,000 sends: RSS grows by less than 20 MB after warm-up. `npm run test:stress`.
// Run with --expose-gc so that the samples are taken after a full collection.
const { test } = require('node:test')
const assert = require('node:assert/strict')

const native = require('..')
const { startStandIn, mb } = require('./harness')

const TOTAL = Number(process.env.WX_SOAK_SENDS || 1_000_000)
// Warm-up: the first fifth. Allocator arenas and the pool settle in it; a leak shows after it.
const WARM_UP = Math.floor(TOTAL / 5)
const IN_FLIGHT = 256

function rssAfterGc() {
  if (global.gc) {
    global.gc()
    global.gc()
  }
  return process.memoryUsage().rss
}

test(`soak: ${TOTAL} sends, RSS growth after warm-up < 20 MB`, { timeout: 3_600_000 }, async (t) => {
  const server = await startStandIn()
  t.after(() => server.stop())
  const csm = native.createNewInstance({ appid: 'wxsoak', secret: 'wxemuSK-soak', apiBaseUrl: server.url })
    .openapi.customerServiceMessage
  let sent = 0
  let failed = 0
  let baseline = 0
  const samples = []
  const started = Date.now()
  async function lane() {
    while (sent < TOTAL) {
      const i = sent++
      const result = await csm
        .send({ touser: `user-${i % 1000}`, msgtype: 'text', text: { content: `soak message ${i}` } })
        .catch(() => null)
      if (!result || result.errCode !== 0) failed++
      if (i === WARM_UP) baseline = rssAfterGc()
      if (i > WARM_UP && i % 100_000 === 0) samples.push(mb(rssAfterGc()))
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
  const end = rssAfterGc()
  const seconds = (Date.now() - started) / 1000
  console.log(
    `# ${TOTAL} sends in ${seconds.toFixed(1)} s (${Math.round(TOTAL / seconds)}/s), ${failed} failed; ` +
      `RSS after warm-up ${mb(baseline)} MB, samples ${samples.join(', ')} MB, end ${mb(end)} MB, growth ${mb(end - baseline)} MB`,
  )
  assert.equal(failed, 0)
  assert.ok(end - baseline < 20 * 1024 * 1024, `RSS grew by ${mb(end - baseline)} MB after warm-up`)
})
