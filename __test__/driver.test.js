'use strict'
// Where the calls run. On Linux they run on their JS thread's own runtime, driven from Node's event
// loop (src/local.rs); elsewhere, or with WX_OPENAPI_NATIVE_DRIVER=threads, on a runtime thread
// (src/settle.rs). The rest of the suite runs on the default; here the suites that exercise the
// call path end to end run again on the fallback, in a child process.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const { Client } = require('../binding.js')

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
