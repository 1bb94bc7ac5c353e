'use strict'
// The addon in a real process: it lets the process exit, survives process.exit() and
// worker_threads being terminated mid-call (issue 8, part 3). Each case runs in a child process,
// so a crash shows as that child's exit, not as this runner dying, and runs with the calls on the
// JS thread (the default on Linux, src/local.rs) and on the runtime thread (the fallback).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const path = require('node:path')

const { startEmulator } = require('../emulator')

const fixture = (name) => path.join(__dirname, 'fixtures', name)

const DRIVERS = { 'js-thread': '', 'runtime-thread': 'threads' }

/** Starts node with `args`; `exited` resolves { code, signal, stdout, stderr }. Killed after the test. */
function start(t, args, driver) {
  const env = { ...process.env, WX_OPENAPI_NATIVE_DRIVER: DRIVERS[driver] }
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })))
  t.after(() => child.kill('SIGKILL'))
  return { child, exited }
}

const run = (t, args, driver) => start(t, args, driver).exited

function assertNoCrash(result, driver) {
  assert.equal(result.signal, null, `killed by ${result.signal}: ${result.stderr}`)
  assert.doesNotMatch(result.stderr, /panicked|Abort|Segmentation|FATAL|napi_fatal/i)
  // Every fixture prints where its calls ran: the case tested the path it names.
  assert.match(result.stdout, new RegExp(`driver ${driver}`))
}

async function stableToken(emu) {
  const reply = await fetch(`${emu.url}/cgi-bin/stable_token`, {
    method: 'POST',
    body: JSON.stringify({ grant_type: 'client_credential', appid: emu.appid, secret: emu.secret }),
  }).then((r) => r.json())
  return reply.access_token
}

for (const driver of Object.keys(DRIVERS)) {
  for (const [source, credentials] of [
    ['appid and secret', async (emu) => [emu.appid, emu.secret]],
    ['a getAccessToken provider', async (emu) => ['', '', await stableToken(emu)]],
  ]) {
    test(`the process exits by itself once its calls have settled (${source}, calls on the ${driver})`, { timeout: 60_000 }, async (t) => {
      const emu = await startEmulator()
      t.after(() => emu.close())
      const result = await run(t, [fixture('send-and-exit.js'), 'settle', emu.url, ...(await credentials(emu))], driver)
      assertNoCrash(result, driver)
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /settled 0,0,0/)
    })
  }

  test(`the process exits by itself after a burst of calls (calls on the ${driver})`, { timeout: 60_000 }, async (t) => {
    const emu = await startEmulator()
    t.after(() => emu.close())
    const result = await run(t, [fixture('send-and-exit.js'), 'burst', emu.url, emu.appid, emu.secret], driver)
    assertNoCrash(result, driver)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /settled (0,){11}0/)
    // Twelve at once put the runtime on the helper thread, which must not keep the process alive.
    if (driver === 'js-thread') assert.match(result.stdout, /driver under load helper-thread/)
  })

  test(`process.exit() with a call in flight exits cleanly (calls on the ${driver})`, { timeout: 60_000 }, async (t) => {
    const emu = await startEmulator()
    t.after(() => emu.close())
    emu.inject({ path: '/cgi-bin/message/custom/send', delayMs: Infinity })
    const arrived = emu.waitForRequests(2) // the token fetch, then the send
    const { child, exited } = start(t, [fixture('send-and-exit.js'), 'exit-in-flight', emu.url, emu.appid, emu.secret], driver)
    await arrived
    child.stdin.write('exit\n')
    const outcome = await exited
    assertNoCrash(outcome, driver)
    assert.equal(outcome.code, 0, outcome.stderr)
    assert.doesNotMatch(outcome.stdout, /unexpectedly/)
  })

  test(`4 worker_threads at once, two terminated mid-call: no crash, the others deliver (calls on the ${driver})`, { timeout: 120_000 }, async (t) => {
    const emu = await startEmulator()
    t.after(() => emu.close())
    const result = await run(t, [fixture('threads.js'), emu.url, emu.appid, emu.secret], driver)
    assertNoCrash(result, driver)
    assert.equal(result.code, 0, result.stderr)
    const done = JSON.parse(result.stdout.match(/done (.*)/)[1])
    assert.equal(done.exits.length, 4)
    // The workers left running completed all their calls.
    assert.equal(done.results[0], 10)
    assert.equal(done.results[2], 10)
  })
}
