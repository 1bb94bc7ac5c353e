'use strict'
// getWXContext() (context.js): computed from the environment exactly as wx-server-sdk computes
// it, and per message inside a push handler (AsyncLocalStorage).
//
// The expected values below encode wx-server-sdk 4.0.2's own function, read from its published
// package (`npm pack wx-server-sdk@4.0.2`, index.js, webpack module
// "./src/api/utils/api/getWXContext.ts", lines 2945-3006 of that file; the same function, minus
// the second blacklist entry and ENV/SOURCE, is in older bundles found with the code search):
//   - no WX_CONTEXT_KEYS → {} (returns before ENV and SOURCE are read);
//   - each non-empty key of WX_CONTEXT_KEYS.split(','), unless it is API_TOKEN or
//     TRIGGER_API_TOKEN_V0 with or without the WX_ prefix, whose variable is defined: the value,
//     parseInt'ed if it matches /^[-]?\d+$/, under the key without its WX_ prefix (when the key is
//     longer than 3 characters);
//   - then ENV = TCB_ENV || SCF_NAMESPACE (set even when undefined), SOURCE = TCB_SOURCE if truthy.
// wx-server-sdk itself is not a devDependency: it pulls @cloudbase/node-sdk and its tree in for
// one 30-line function. The cases were also run against that function extracted from the tarball
// when they were written (same results).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { getWXContext, runWithWXContext, contextFromEnvironment } = require('../context.js')

/** Runs `fn` with exactly these WX_/TCB_/SCF_ variables set (all others of those prefixes removed). */
function withEnv(vars, fn) {
  const saved = {}
  for (const name of Object.keys(process.env)) {
    if (/^(WX_|TCB_|SCF_|API_TOKEN|TRIGGER_API_TOKEN_V0)/.test(name)) {
      saved[name] = process.env[name]
      delete process.env[name]
    }
  }
  Object.assign(process.env, vars)
  const restore = () => {
    for (const name of Object.keys(vars)) delete process.env[name]
    Object.assign(process.env, saved)
  }
  let result
  try {
    result = fn()
  } catch (error) {
    restore()
    throw error
  }
  // An async fn keeps the variables until it settles.
  if (result instanceof Promise) return result.finally(restore)
  restore()
  return result
}

// [case, environment, what wx-server-sdk 4.0.2 returns]
const SDK_CASES = [
  ['no WX_CONTEXT_KEYS: empty, even with TCB_ENV and TCB_SOURCE', { TCB_ENV: 'env-1', TCB_SOURCE: 'wx_client', WX_OPENID: 'o1' }, {}],
  ['empty WX_CONTEXT_KEYS: empty', { WX_CONTEXT_KEYS: '', WX_OPENID: 'o1', TCB_ENV: 'env-1' }, {}],
  [
    'a mini-program call: prefix dropped, ENV and SOURCE added',
    {
      WX_CONTEXT_KEYS: 'WX_OPENID,WX_APPID,WX_UNIONID,WX_CLIENTIP,WX_CLIENTIPV6',
      WX_OPENID: 'oUser',
      WX_APPID: 'wxApp',
      WX_UNIONID: 'uUnion',
      WX_CLIENTIP: '10.0.0.1',
      WX_CLIENTIPV6: '::ffff:10.0.0.1',
      TCB_ENV: 'prod-1a2b',
      TCB_SOURCE: 'wx_client',
    },
    { OPENID: 'oUser', APPID: 'wxApp', UNIONID: 'uUnion', CLIENTIP: '10.0.0.1', CLIENTIPV6: '::ffff:10.0.0.1', ENV: 'prod-1a2b', SOURCE: 'wx_client' },
  ],
  [
    'integers (optional minus, digits only) are parsed; anything else stays a string',
    {
      WX_CONTEXT_KEYS: 'WX_A,WX_B,WX_C,WX_D,WX_E,WX_F,WX_G',
      WX_A: '123',
      WX_B: '-45',
      WX_C: '007',
      WX_D: '1.5',
      WX_E: '12abc',
      WX_F: '+3',
      WX_G: '',
      TCB_ENV: 'e',
    },
    { A: 123, B: -45, C: 7, D: '1.5', E: '12abc', F: '+3', G: '', ENV: 'e' },
  ],
  [
    'the blacklist: API tokens never show, with or without the prefix',
    {
      WX_CONTEXT_KEYS: 'WX_API_TOKEN,API_TOKEN,WX_TRIGGER_API_TOKEN_V0,TRIGGER_API_TOKEN_V0,WX_OPENID',
      WX_API_TOKEN: 'secret-1',
      API_TOKEN: 'secret-2',
      WX_TRIGGER_API_TOKEN_V0: 'secret-3',
      TRIGGER_API_TOKEN_V0: 'secret-4',
      WX_OPENID: 'oUser',
      TCB_ENV: 'e',
    },
    { OPENID: 'oUser', ENV: 'e' },
  ],
  [
    'keys without the prefix keep their name; "WX_" alone is kept whole; empty and undefined keys are skipped',
    { WX_CONTEXT_KEYS: 'TCB_UUID,,WX_,WX_MISSING,WX_OPENID,', TCB_UUID: 'uuid-1', WX_: 'bare', WX_OPENID: 'o', SCF_NAMESPACE: 'ns-1' },
    { TCB_UUID: 'uuid-1', WX_: 'bare', OPENID: 'o', ENV: 'ns-1' },
  ],
  ['ENV prefers TCB_ENV over SCF_NAMESPACE', { WX_CONTEXT_KEYS: 'WX_OPENID', WX_OPENID: 'o', TCB_ENV: 'tcb', SCF_NAMESPACE: 'scf' }, { OPENID: 'o', ENV: 'tcb' }],
  ['an empty TCB_SOURCE adds no SOURCE', { WX_CONTEXT_KEYS: 'WX_OPENID', WX_OPENID: 'o', TCB_ENV: 'e', TCB_SOURCE: '' }, { OPENID: 'o', ENV: 'e' }],
  ['a later duplicate key wins', { WX_CONTEXT_KEYS: 'WX_OPENID,OPENID', WX_OPENID: 'from-wx', OPENID: 'bare', TCB_ENV: 'e' }, { OPENID: 'bare', ENV: 'e' }],
]

for (const [name, env, expected] of SDK_CASES) {
  test(`getWXContext from the environment, as wx-server-sdk 4.0.2: ${name}`, () => {
    const actual = withEnv(env, () => getWXContext())
    assert.deepEqual(actual, expected)
    assert.deepEqual(Object.keys(actual), Object.keys(expected), 'same keys in the same order')
  })
}

test('ENV is present (undefined) when WX_CONTEXT_KEYS is set and neither TCB_ENV nor SCF_NAMESPACE is', () => {
  const actual = withEnv({ WX_CONTEXT_KEYS: 'WX_OPENID', WX_OPENID: 'o' }, () => getWXContext())
  assert.ok(Object.hasOwn(actual, 'ENV'))
  assert.equal(actual.ENV, undefined)
  assert.equal(actual.OPENID, 'o')
})

test('the environment is read at each call, not once', () => {
  withEnv({ WX_CONTEXT_KEYS: 'WX_OPENID', WX_OPENID: 'first', TCB_ENV: 'e' }, () => {
    assert.equal(getWXContext().OPENID, 'first')
    process.env.WX_OPENID = 'second'
    assert.equal(getWXContext().OPENID, 'second')
  })
})

test('contextFromEnvironment takes an explicit environment', () => {
  assert.deepEqual(contextFromEnvironment({ WX_CONTEXT_KEYS: 'WX_APPID', WX_APPID: 'wxA', SCF_NAMESPACE: 'n' }), { APPID: 'wxA', ENV: 'n' })
})

test('inside runWithWXContext the message context wins over the environment, and only there', async () => {
  await withEnv({ WX_CONTEXT_KEYS: 'WX_OPENID', WX_OPENID: 'env-user', TCB_ENV: 'e' }, async () => {
    const inside = await runWithWXContext({ OPENID: 'msg-user', APPID: 'wxA', SOURCE: 'wx_unknown' }, async () => {
      await new Promise((resolve) => setImmediate(resolve))
      return getWXContext()
    })
    assert.deepEqual(inside, { OPENID: 'msg-user', APPID: 'wxA', SOURCE: 'wx_unknown' })
    assert.deepEqual(getWXContext(), { OPENID: 'env-user', ENV: 'e' })
  })
})

test('each getWXContext() is a fresh object: changing it changes nothing for others', async () => {
  await runWithWXContext({ OPENID: 'a' }, async () => {
    const first = getWXContext()
    first.OPENID = 'changed'
    assert.equal(getWXContext().OPENID, 'a')
  })
})

test('concurrent contexts never see each other, however their awaits interleave', async () => {
  const gates = Array.from({ length: 50 }, () => {
    let open
    const opened = new Promise((resolve) => (open = resolve))
    return { opened, open }
  })
  const runs = gates.map((gate, i) =>
    runWithWXContext({ OPENID: `user-${i}` }, async () => {
      const before = getWXContext().OPENID
      await gate.opened
      await new Promise((resolve) => setImmediate(resolve))
      return [before, getWXContext().OPENID]
    }),
  )
  // Release them in reverse order, so each resumes after all the later ones have.
  for (const gate of [...gates].reverse()) gate.open()
  const seen = await Promise.all(runs)
  seen.forEach(([before, after], i) => {
    assert.equal(before, `user-${i}`)
    assert.equal(after, `user-${i}`)
  })
})

test('cloud.getWXContext of the main package is this function', { skip: !canLoadMainPackage() && 'the native binary cannot be loaded here' }, () => {
  const cloud = require('..')
  assert.equal(typeof cloud.getWXContext, 'function')
  withEnv({ WX_CONTEXT_KEYS: 'WX_OPENID', WX_OPENID: 'o', TCB_ENV: 'e' }, () => assert.deepEqual(cloud.getWXContext(), { OPENID: 'o', ENV: 'e' }))
  assert.equal(runWithWXContext({ OPENID: 'm' }, () => cloud.getWXContext().OPENID), 'm')
})

function canLoadMainPackage() {
  try {
    require('..')
    return true
  } catch (error) {
    if (error.code === 'ERR_WX_OPENAPI_NATIVE_BINDING') return false
    throw error
  }
}
