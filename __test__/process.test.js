'use strict'
// The addon in a real process: it lets the process exit, survives process.exit() and
// worker_threads being terminated mid-call. Each case runs in a child process, so a crash shows as
// that child's exit, not as this runner dying.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const path = require('node:path')

const { startEmulator } = require('../emulator')

const fixture = (name) => path.join(__dirname, 'fixtures', name)

/** Starts node with `args`; `exited` resolves { code, signal, stdout, stderr }. Killed after the test. */
function start(t, args) {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })))
  t.after(() => child.kill('SIGKILL'))
  return { child, exited }
}

const run = (t, args) => start(t, args).exited

function assertNoCrash(result) {
  assert.equal(result.signal, null, `killed by ${result.signal}: ${result.stderr}`)
  assert.doesNotMatch(result.stderr, /panicked|Abort|Segmentation|FATAL|napi_fatal/i)
}

async function stableToken(emu) {
  const reply = await fetch(`${emu.url}/cgi-bin/stable_token`, {
    method: 'POST',
    body: JSON.stringify({ grant_type: 'client_credential', appid: emu.appid, secret: emu.secret }),
  }).then((r) => r.json())
  return reply.access_token
}

for (const [source, credentials] of [
  ['appid and secret', async (emu) => [emu.appid, emu.secret]],
  ['a getAccessToken provider', async (emu) => ['', '', await stableToken(emu)]],
]) {
  test(`the process exits by itself once its calls have settled (${source})`, { timeout: 60_000 }, async (t) => {
    const emu = await startEmulator()
    t.after(() => emu.close())
    const result = await run(t, [fixture('send-and-exit.js'), 'settle', emu.url, ...(await credentials(emu))])
    assertNoCrash(result)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /settled 0,0,0/)
  })
}

test(`the process exits by itself after a burst of calls`, { timeout: 60_000 }, async (t) => {
  const emu = await startEmulator()
  t.after(() => emu.close())
  const result = await run(t, [fixture('send-and-exit.js'), 'burst', emu.url, emu.appid, emu.secret])
  assertNoCrash(result)
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout, /settled (0,){11}0/)
})

test(`process.exit() with a call in flight exits cleanly`, { timeout: 60_000 }, async (t) => {
  const emu = await startEmulator()
  t.after(() => emu.close())
  emu.inject({ path: '/cgi-bin/message/custom/send', delayMs: Infinity })
  const arrived = emu.waitForRequests(2) // the token fetch, then the send
  const { child, exited } = start(t, [fixture('send-and-exit.js'), 'exit-in-flight', emu.url, emu.appid, emu.secret])
  await arrived
  child.stdin.write('exit\n')
  const outcome = await exited
  assertNoCrash(outcome)
  assert.equal(outcome.code, 0, outcome.stderr)
  assert.doesNotMatch(outcome.stdout, /unexpectedly/)
})

test(`4 worker_threads at once, two terminated mid-call: no crash, the others deliver`, { timeout: 120_000 }, async (t) => {
  const emu = await startEmulator()
  t.after(() => emu.close())
  const result = await run(t, [fixture('threads.js'), emu.url, emu.appid, emu.secret])
  assertNoCrash(result)
  assert.equal(result.code, 0, result.stderr)
  const done = JSON.parse(result.stdout.match(/done (.*)/)[1])
  assert.equal(done.exits.length, 4)
  // The workers left running completed all their calls.
  assert.equal(done.results[0], 10)
  assert.equal(done.results[2], 10)
})
