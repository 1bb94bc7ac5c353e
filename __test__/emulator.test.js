'use strict';

// Tests of the WeChat OpenAPI emulator (emulator/, bin/wx-openapi-emulator.js), over real HTTP on loopback.
// Time rules are driven by the emulator clock (advanceTime), never by waiting; asynchronous events are
// awaited (waitForRequests, onLog, stdout lines), never slept on.
//
// The emulator clock is real time plus an offset, so it keeps moving while a request is in flight.
// "Not yet expired" is therefore checked a MARGIN before a limit, while "expired" is checked exactly at it.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const { once } = require('node:events');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { promisify } = require('node:util');

const { startEmulator, ERRORS } = require('../emulator');

const EMULATOR_PATH = path.join(__dirname, '..', 'emulator', 'index.js');
const CLI_PATH = path.join(__dirname, '..', 'bin', 'wx-openapi-emulator.js');

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const SEND = '/cgi-bin/message/custom/send';
const TYPING = '/cgi-bin/message/custom/typing';
const UPLOAD = '/cgi-bin/media/upload';
const MEDIA_GET = '/cgi-bin/media/get';
const STABLE_TOKEN = '/cgi-bin/stable_token';
const CLASSIC_TOKEN = '/cgi-bin/token';

/** Far more than any loopback request takes, far less than any limit under test. */
const MARGIN = 10 * SECOND;

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{40,}$/;
const TEXT = { touser: 'o-user-1', msgtype: 'text', text: { content: 'Hello World' } };

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** Starts an emulator that is closed when the test ends, whatever happens. */
async function start(t, options) {
  const emulator = await startEmulator(options);
  t.after(() => emulator.close());
  return emulator;
}

/** Sends a request and returns `{ status, headers, body, text }`, body parsed as JSON when it is JSON. */
async function call(url, init) {
  const response = await fetch(url, init);
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** A tiny WeChat client for one emulator. */
function client(emulator) {
  const withToken = (pathname, token, extra = {}) => {
    const query = new URLSearchParams({ ...(token === undefined ? {} : { access_token: token }), ...extra });
    const search = query.toString();
    return `${emulator.url}${pathname}${search === '' ? '' : `?${search}`}`;
  };
  const postJson = (pathname, token, body) =>
    call(withToken(pathname, token), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const credentials = { grant_type: 'client_credential', appid: emulator.appid, secret: emulator.secret };
  const api = {
    url: withToken,
    postJson,
    classicToken: (params = credentials) => call(`${emulator.url}${CLASSIC_TOKEN}?${new URLSearchParams(params)}`),
    stableToken: (overrides = {}) => postJson(STABLE_TOKEN, undefined, { ...credentials, force_refresh: false, ...overrides }),
    async token() {
      const reply = await api.stableToken();
      assert.equal(reply.status, 200);
      return reply.body.access_token;
    },
    send: (token, message) => postJson(SEND, token, message),
    typing: (token, body) => postJson(TYPING, token, body),
    /** `type` defaults to 'image'; pass `{ type: undefined }` to leave it out. */
    upload: (token, body, options = {}) => {
      const type = 'type' in options ? options.type : 'image';
      return call(withToken(UPLOAD, token, type === undefined ? {} : { type }), { method: 'POST', body, headers: options.headers });
    },
    getMedia: (token, mediaId) => fetch(withToken(MEDIA_GET, token, mediaId === undefined ? {} : { media_id: mediaId })),
  };
  return api;
}

/** Asserts a WeChat error reply: the code, and the message with WeChat's ` rid: <24 hex>` suffix. */
function assertWxError(reply, errcode, errmsg, status = 200) {
  assert.equal(reply.status, status, `HTTP status of ${reply.text}`);
  assert.match(reply.headers.get('content-type'), /^application\/json; charset=utf-8$/);
  assert.equal(reply.body.errcode, errcode, reply.text);
  const expected = errmsg instanceof RegExp ? errmsg.source : escapeRegExp(errmsg);
  assert.match(reply.body.errmsg, new RegExp(`^${expected} rid: [0-9a-f]{24}$`));
  assert.deepEqual(Object.keys(reply.body).sort(), ['errcode', 'errmsg']);
}

function assertOk(reply) {
  assert.equal(reply.status, 200, reply.text);
  assert.match(reply.headers.get('content-type'), /^application\/json; charset=utf-8$/);
  assert.deepEqual(reply.body, { errcode: 0, errmsg: 'ok' });
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function imageForm(bytes, { filename = 'photo.png', contentType = 'image/png', field = 'media' } = {}) {
  const form = new FormData();
  form.append(field, new File([bytes], filename, { type: contentType }));
  return form;
}

/** Lines of a stream, awaitable one predicate at a time; rejects if the stream ends first. */
function lineReader(stream) {
  const lines = [];
  const waiters = [];
  let ended = false;
  const settle = () => {
    for (const waiter of [...waiters]) {
      const line = lines.find(waiter.predicate);
      if (line !== undefined || ended) {
        waiters.splice(waiters.indexOf(waiter), 1);
        if (line !== undefined) waiter.resolve(line);
        else waiter.reject(new Error(`stream ended without a matching line; got:\n${lines.join('\n')}`));
      }
    }
  };
  const rl = readline.createInterface({ input: stream });
  rl.on('line', (line) => {
    lines.push(line);
    settle();
  });
  rl.on('close', () => {
    ended = true;
    settle();
  });
  return {
    lines,
    next: (predicate) =>
      new Promise((resolve, reject) => {
        waiters.push({ predicate, resolve, reject });
        settle();
      }),
  };
}

// ---------------------------------------------------------------------------
// Module surface
// ---------------------------------------------------------------------------

describe('module', () => {
  it('starts with generated credentials and a url without trailing slash', async (t) => {
    const emulator = await start(t);
    assert.match(emulator.appid, /^wx[0-9a-f]{16}$/);
    assert.match(emulator.secret, /^wxemuSK[0-9a-f]{26}$/);
    assert.match(emulator.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(emulator.messages, []);
    assert.deepEqual(emulator.requests, []);
    assert.deepEqual(emulator.stats(), { inFlight: 0, maxInFlight: 0 });
    const other = await start(t);
    assert.notEqual(other.appid, emulator.appid);
    assert.notEqual(other.secret, emulator.secret);
  });

  it('keeps the credentials it is given', async (t) => {
    const emulator = await start(t, { appid: 'wx0123456789abcdef', secret: 'my-secret-value-123' });
    assert.equal(emulator.appid, 'wx0123456789abcdef');
    assert.equal(emulator.secret, 'my-secret-value-123');
  });

  it('rejects invalid options', async () => {
    await assert.rejects(startEmulator({ port: -1 }), RangeError);
    await assert.rejects(startEmulator({ port: 1.5 }), RangeError);
    await assert.rejects(startEmulator({ tokenTtl: 0 }), RangeError);
    await assert.rejects(startEmulator({ messageLimit: -1 }), RangeError);
    await assert.rejects(startEmulator({ messageLimit: 2.5 }), RangeError);
    await assert.rejects(startEmulator({ appid: '' }), TypeError);
    await assert.rejects(startEmulator({ secret: 42 }), TypeError);
    await assert.rejects(startEmulator({ openids: 'o1' }), TypeError);
    await assert.rejects(startEmulator({ openids: ['o1', ''] }), TypeError);
    await assert.rejects(startEmulator({ onLog: 'yes' }), TypeError);
    await assert.rejects(startEmulator(null), TypeError);
  });

  it('rejects when the port is taken', async (t) => {
    const first = await start(t);
    const port = Number(new URL(first.url).port);
    await assert.rejects(startEmulator({ port }), { code: 'EADDRINUSE' });
  });

  it('has an ESM entry exporting the same functions', async () => {
    const esm = await import('../emulator/index.mjs');
    assert.equal(esm.startEmulator, startEmulator);
    assert.equal(esm.ERRORS, ERRORS);
    assert.equal(esm.default.startEmulator, startEmulator);
  });

  it('exports a frozen ERRORS table with unique codes, mirrored in index.d.ts', () => {
    assert.ok(Object.isFrozen(ERRORS));
    const entries = Object.entries(ERRORS);
    assert.ok(entries.every(([, error]) => Object.isFrozen(error)));
    const codes = entries.map(([, error]) => error.errcode);
    assert.equal(new Set(codes).size, codes.length);
    const declarations = fs.readFileSync(path.join(__dirname, '..', 'emulator', 'index.d.ts'), 'utf8');
    for (const [name, { errcode, errmsg }] of entries) {
      assert.ok(
        declarations.includes(`readonly ${name}: { readonly errcode: ${errcode}; readonly errmsg: '${errmsg}' };`),
        `index.d.ts declares ${name}`,
      );
    }
    assert.equal(declarations.match(/readonly errcode: -?\d+;/g).length, entries.length);
  });
});

// ---------------------------------------------------------------------------
// Access tokens
// ---------------------------------------------------------------------------

describe('GET /cgi-bin/token (classic)', () => {
  it('issues a new token on every call, with expires_in = tokenTtl and no errcode', async (t) => {
    const emulator = await start(t, { tokenTtl: 3600 });
    const api = client(emulator);
    const first = await api.classicToken();
    const second = await api.classicToken();
    for (const reply of [first, second]) {
      assert.equal(reply.status, 200);
      assert.match(reply.headers.get('content-type'), /^application\/json; charset=utf-8$/);
      assert.deepEqual(Object.keys(reply.body).sort(), ['access_token', 'expires_in']);
      assert.match(reply.body.access_token, TOKEN_PATTERN);
      assert.equal(reply.body.expires_in, 3600);
    }
    assert.notEqual(first.body.access_token, second.body.access_token);
    assert.notEqual(first.body.access_token, emulator.secret);
  });

  it('checks grant_type, appid and secret', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const valid = { grant_type: 'client_credential', appid: emulator.appid, secret: emulator.secret };
    const cases = [
      [{ ...valid, grant_type: 'password' }, 40002, 'invalid grant_type'],
      [{ appid: valid.appid, secret: valid.secret }, 40002, 'invalid grant_type'],
      [{ ...valid, appid: 'wx0000000000000000' }, 40013, 'invalid appid'],
      [{ grant_type: valid.grant_type, secret: valid.secret }, 41002, 'appid missing'],
      [{ ...valid, secret: 'wrong' }, 40125, 'invalid appsecret'],
      [{ grant_type: valid.grant_type, appid: valid.appid }, 41004, 'appsecret missing'],
    ];
    for (const [params, errcode, errmsg] of cases) assertWxError(await api.classicToken(params), errcode, errmsg);
  });

  it('keeps the superseded token valid for 5 minutes, then 42001', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const old = (await api.classicToken()).body.access_token;
    const fresh = (await api.classicToken()).body.access_token;
    assertOk(await api.send(old, TEXT));
    emulator.advanceTime(5 * MINUTE - MARGIN);
    assertOk(await api.send(old, TEXT));
    emulator.advanceTime(MARGIN);
    assertWxError(await api.send(old, TEXT), 42001, 'access_token expired');
    assertOk(await api.send(fresh, TEXT));
  });

  it('requires GET (43001)', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    assertWxError(await api.postJson(CLASSIC_TOKEN, undefined, {}), 43001, 'require GET method');
  });
});

describe('POST /cgi-bin/stable_token', () => {
  it('returns the same token until it expires, with the time left as expires_in', async (t) => {
    const emulator = await start(t, { tokenTtl: 7200 });
    const api = client(emulator);
    const first = await api.stableToken();
    assert.equal(first.status, 200);
    assert.deepEqual(Object.keys(first.body).sort(), ['access_token', 'expires_in']);
    assert.match(first.body.access_token, TOKEN_PATTERN);
    assert.equal(first.body.expires_in, 7200);

    emulator.advanceTime(1000 * SECOND);
    const again = await api.stableToken();
    assert.equal(again.body.access_token, first.body.access_token);
    assert.equal(again.body.expires_in, 6200);

    emulator.advanceTime(6200 * SECOND);
    const renewed = await api.stableToken();
    assert.notEqual(renewed.body.access_token, first.body.access_token);
    assert.equal(renewed.body.expires_in, 7200);
    assertWxError(await api.send(first.body.access_token, TEXT), 42001, 'access_token expired');
    assertOk(await api.send(renewed.body.access_token, TEXT));
  });

  it('shares its current token with the classic endpoint', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const classic = (await api.classicToken()).body.access_token;
    assert.equal((await api.stableToken()).body.access_token, classic);
  });

  it('force_refresh issues a new token; the old one works 5 more minutes, then 42001', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const old = await api.token();
    const forced = await api.stableToken({ force_refresh: true });
    assert.equal(forced.status, 200);
    assert.notEqual(forced.body.access_token, old);
    assert.equal((await api.stableToken()).body.access_token, forced.body.access_token);

    emulator.advanceTime(5 * MINUTE - MARGIN);
    assertOk(await api.send(old, TEXT));
    emulator.advanceTime(MARGIN);
    assertWxError(await api.send(old, TEXT), 42001, 'access_token expired');
    assertOk(await api.send(forced.body.access_token, TEXT));
  });

  it('refuses a second force_refresh within 30 s (45011)', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    assert.equal((await api.stableToken({ force_refresh: true })).status, 200);
    emulator.advanceTime(30 * SECOND - MARGIN);
    assertWxError(
      await api.stableToken({ force_refresh: true }),
      45011,
      'api minute-quota reach limit  mustslower  retry next time',
    );
    // A refusal does not count: the next one only waits for the 30 s since the last success.
    emulator.advanceTime(MARGIN);
    assert.match((await api.stableToken({ force_refresh: true })).body.access_token, TOKEN_PATTERN);
  });

  it('allows 20 forced refreshes per day (Beijing time), then 45009 until the next day', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    // Start just after a midnight in UTC+8, so that the 20 refreshes certainly fall on one quota day.
    const sinceMidnight = (emulator.now() + 8 * HOUR) % DAY;
    emulator.advanceTime(DAY - sinceMidnight + 1);
    const tokens = new Set();
    for (let i = 0; i < 20; i += 1) {
      const reply = await api.stableToken({ force_refresh: true });
      assert.equal(reply.status, 200, reply.text);
      tokens.add(reply.body.access_token);
      emulator.advanceTime(30 * SECOND);
    }
    assert.equal(tokens.size, 20);
    assertWxError(await api.stableToken({ force_refresh: true }), 45009, 'reach max api daily quota limit');
    // Without force_refresh the current token is still served.
    assert.ok(tokens.has((await api.stableToken()).body.access_token));
    emulator.advanceTime(DAY);
    assert.equal((await api.stableToken({ force_refresh: true })).status, 200);
  });

  it('answers 47001 to an empty or malformed body', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    for (const body of ['', 'not json', '[1,2]', '"text"', 'null', '{"grant_type":']) {
      assertWxError(await api.postJson(STABLE_TOKEN, undefined, body), 47001, 'data format error');
    }
  });

  it('checks grant_type, appid and secret', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    assertWxError(await api.stableToken({ grant_type: 'authorization_code' }), 40002, 'invalid grant_type');
    assertWxError(await api.stableToken({ appid: 'wxffffffffffffffff' }), 40013, 'invalid appid');
    assertWxError(await api.stableToken({ appid: undefined }), 41002, 'appid missing');
    assertWxError(await api.stableToken({ secret: 'nope' }), 40125, 'invalid appsecret');
    assertWxError(await api.stableToken({ secret: undefined }), 41004, 'appsecret missing');
    // Bad credentials never consume the force_refresh quota.
    assertWxError(await api.stableToken({ secret: 'nope', force_refresh: true }), 40125, 'invalid appsecret');
    assert.equal((await api.stableToken({ force_refresh: true })).status, 200);
  });

  it('requires POST (43002)', async (t) => {
    const emulator = await start(t);
    assertWxError(await call(`${emulator.url}${STABLE_TOKEN}`), 43002, 'require POST method');
  });
});

describe('access token check', () => {
  const endpoints = [
    ['send', (api, token) => api.send(token, TEXT)],
    ['typing', (api, token) => api.typing(token, { touser: 'o1', command: 'Typing' })],
    ['upload', (api, token) => api.upload(token, imageForm(Buffer.from('img')))],
    [
      'media/get',
      async (api, token) => {
        const response = await api.getMedia(token, 'whatever');
        return { status: response.status, headers: response.headers, text: '', body: await response.json() };
      },
    ],
  ];

  for (const [name, request] of endpoints) {
    it(`${name}: 41001 without a token, 40001 for an unknown one, 42001 for an expired one`, async (t) => {
      const emulator = await start(t, { tokenTtl: 60 });
      const api = client(emulator);
      assertWxError(await request(api, undefined), 41001, 'access_token missing');
      assertWxError(await request(api, ''), 41001, 'access_token missing');
      assertWxError(
        await request(api, 'x'.repeat(64)),
        40001,
        'invalid credential, access_token is invalid or not latest',
      );
      const token = await api.token();
      emulator.advanceTime(60 * SECOND);
      assertWxError(await request(api, token), 42001, 'access_token expired');
    });
  }

  it('accepts a token until tokenTtl has passed on the emulator clock', async (t) => {
    const emulator = await start(t, { tokenTtl: 60 });
    const api = client(emulator);
    const token = await api.token();
    emulator.advanceTime(60 * SECOND - MARGIN);
    assertOk(await api.send(token, TEXT));
    emulator.advanceTime(MARGIN);
    assertWxError(await api.send(token, TEXT), 42001, 'access_token expired');
  });

  it('expireTokens() expires every token; the next stable_token call issues a new one', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const classic = (await api.classicToken()).body.access_token;
    const stable = await api.token();
    emulator.expireTokens();
    assertWxError(await api.send(classic, TEXT), 42001, 'access_token expired');
    assertWxError(await api.send(stable, TEXT), 42001, 'access_token expired');
    const renewed = await api.stableToken();
    assert.notEqual(renewed.body.access_token, stable);
    assert.equal(renewed.body.expires_in, 7200);
    assertOk(await api.send(renewed.body.access_token, TEXT));
  });

  it('tokenless: accepts calls without a token, still checks a token that is present', async (t) => {
    const emulator = await start(t, { tokenless: true });
    const api = client(emulator);
    assertOk(await api.send(undefined, TEXT));
    assertOk(await api.typing(undefined, { touser: 'o1', command: 'Typing' }));
    const upload = await api.upload(undefined, imageForm(Buffer.from('png')));
    assert.equal(upload.status, 200);
    assert.equal((await api.getMedia(undefined, upload.body.media_id)).status, 200);
    assertWxError(await api.send('y'.repeat(64), TEXT), 40001, 'invalid credential, access_token is invalid or not latest');
    const token = await api.token();
    emulator.expireTokens();
    assertWxError(await api.send(token, TEXT), 42001, 'access_token expired');
    assert.equal(emulator.messages.length, 1);
  });
});

// ---------------------------------------------------------------------------
// customerServiceMessage.send
// ---------------------------------------------------------------------------

describe('POST /cgi-bin/message/custom/send', () => {
  it('accepts the four message types of the seed and records them exactly', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    const mediaId = emulator.addMedia(Buffer.from([0xff, 0xd8, 0xff]), 'image/jpeg');
    const bodies = [
      { touser: 'o1', msgtype: 'text', text: { content: '你好 <a href="http://www.qq.com" data-miniprogram-appid="wx1">点击</a>' } },
      { touser: 'o1', msgtype: 'image', image: { media_id: mediaId } },
      { touser: 'o2', msgtype: 'link', link: { title: 'Happy Day', description: 'Is Really A Happy Day', url: 'https://example.com', thumb_url: 'https://example.com/a.png' } },
      { touser: 'o2', msgtype: 'miniprogrampage', miniprogrampage: { title: 'title', pagepath: 'pages/index/index?foo=bar', thumb_media_id: mediaId }, extra: [1, { deep: null }] },
    ];
    for (const body of bodies) assertOk(await api.send(token, body));
    assert.deepEqual(emulator.messages, bodies);
  });

  it('answers 44002 to an empty body and 47001 to one that is not a JSON object', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    assertWxError(await api.send(token, ''), 44002, 'empty post data');
    for (const body of ['not json', '{"touser":', '[]', '42', 'null', ' ']) {
      assertWxError(await api.send(token, body), 47001, 'data format error');
    }
    assert.deepEqual(emulator.messages, []);
  });

  it('answers 40008 to a msgtype that is not one of the seed', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    for (const msgtype of [undefined, 'news', 'TEXT', 'constructor', '__proto__', 7]) {
      assertWxError(await api.send(token, { touser: 'o1', msgtype, text: { content: 'x' } }), 40008, 'invalid message type');
    }
    assert.deepEqual(emulator.messages, []);
  });

  it('answers 47001 with a hint when the content object or a required field is missing or empty', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    const mediaId = emulator.addMedia(Buffer.from('img'), 'image/png');
    const valid = {
      text: { content: 'x' },
      image: { media_id: mediaId },
      link: { title: 't', description: 'd', url: 'u', thumb_url: 'th' },
      miniprogrampage: { title: 't', pagepath: 'p', thumb_media_id: mediaId },
    };
    for (const [msgtype, content] of Object.entries(valid)) {
      for (const missing of [undefined, null, 'string', []]) {
        assertWxError(
          await api.send(token, { touser: 'o1', msgtype, [msgtype]: missing }),
          47001,
          `data format error hint: [${msgtype} is required]`,
        );
      }
      for (const field of Object.keys(content)) {
        for (const bad of [undefined, '', 42, null]) {
          assertWxError(
            await api.send(token, { touser: 'o1', msgtype, [msgtype]: { ...content, [field]: bad } }),
            47001,
            `data format error hint: [${msgtype}.${field} must be a non-empty string]`,
          );
        }
      }
    }
    // The cloud-call camelCase keys are not WeChat's wire format.
    assertWxError(
      await api.send(token, { touser: 'o1', msgtype: 'image', image: { mediaId } }),
      47001,
      'data format error hint: [image.media_id must be a non-empty string]',
    );
    assert.deepEqual(emulator.messages, []);
  });

  it('answers 40007 to a media_id it does not know, for image and miniprogrampage', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    assertWxError(await api.send(token, { touser: 'o1', msgtype: 'image', image: { media_id: 'unknown' } }), 40007, 'invalid media_id');
    assertWxError(
      await api.send(token, {
        touser: 'o1',
        msgtype: 'miniprogrampage',
        miniprogrampage: { title: 't', pagepath: 'p', thumb_media_id: 'unknown' },
      }),
      40007,
      'invalid media_id',
    );
    assert.deepEqual(emulator.messages, []);
  });

  it('answers 40003 to a touser outside the openids list, or a missing one', async (t) => {
    const emulator = await start(t, { openids: ['o-alice', 'o-bob'] });
    const api = client(emulator);
    const token = await api.token();
    assertOk(await api.send(token, { ...TEXT, touser: 'o-alice' }));
    assertOk(await api.send(token, { ...TEXT, touser: 'o-bob' }));
    for (const touser of ['o-mallory', undefined, '', 12]) {
      assertWxError(await api.send(token, { ...TEXT, touser }), 40003, 'invalid openid');
    }
    assert.deepEqual(emulator.messages.map((message) => message.touser), ['o-alice', 'o-bob']);

    const open = await start(t);
    const openApi = client(open);
    assertOk(await openApi.send(await openApi.token(), { ...TEXT, touser: 'anyone-at-all' }));
    assertWxError(await openApi.send(await openApi.token(), { ...TEXT, touser: '' }), 40003, 'invalid openid');
  });

  it('closes the service window 48 h after emulator start (45015); userMessaged reopens it', async (t) => {
    const emulator = await start(t, { tokenTtl: 1e6 });
    const api = client(emulator);
    const token = await api.token();
    emulator.advanceTime(48 * HOUR - MARGIN);
    assertOk(await api.send(token, TEXT));
    emulator.advanceTime(MARGIN);
    assertWxError(await api.send(token, TEXT), 45015, 'response out of time limit or subscription is canceled');
    // A user never seen before also got a window at start, so it is closed too.
    assertWxError(await api.send(token, { ...TEXT, touser: 'o-new' }), 45015, 'response out of time limit or subscription is canceled');

    emulator.userMessaged(TEXT.touser);
    assertOk(await api.send(token, TEXT));
    emulator.advanceTime(48 * HOUR);
    assertWxError(await api.send(token, TEXT), 45015, 'response out of time limit or subscription is canceled');
    assert.equal(emulator.messages.length, 2);
  });

  it('allows messageLimit messages per window (45047 after); userMessaged resets the count', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    for (let i = 0; i < 5; i += 1) assertOk(await api.send(token, TEXT));
    assertWxError(await api.send(token, TEXT), 45047, 'out of response count limit');
    // Counts are per user.
    assertOk(await api.send(token, { ...TEXT, touser: 'o-other' }));
    emulator.userMessaged(TEXT.touser);
    for (let i = 0; i < 5; i += 1) assertOk(await api.send(token, TEXT));
    assertWxError(await api.send(token, TEXT), 45047, 'out of response count limit');
    assert.equal(emulator.messages.length, 11);
  });

  it('honours a custom messageLimit, and Infinity for none', async (t) => {
    const emulator = await start(t, { messageLimit: 2 });
    const api = client(emulator);
    const token = await api.token();
    assertOk(await api.send(token, TEXT));
    assertOk(await api.send(token, TEXT));
    assertWxError(await api.send(token, TEXT), 45047, 'out of response count limit');

    const unlimited = await start(t, { messageLimit: Infinity });
    const unlimitedApi = client(unlimited);
    const unlimitedToken = await unlimitedApi.token();
    for (let i = 0; i < 20; i += 1) assertOk(await unlimitedApi.send(unlimitedToken, TEXT));
  });

  it('defaultWindow: false opens no window until userMessaged', async (t) => {
    const emulator = await start(t, { defaultWindow: false });
    const api = client(emulator);
    const token = await api.token();
    assertWxError(await api.send(token, TEXT), 45015, 'response out of time limit or subscription is canceled');
    emulator.userMessaged(TEXT.touser);
    assertOk(await api.send(token, TEXT));
  });

  it('validates userMessaged arguments', async (t) => {
    const emulator = await start(t);
    assert.throws(() => emulator.userMessaged(''), TypeError);
    assert.throws(() => emulator.userMessaged(undefined), TypeError);
  });

  it('requires POST (43002)', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    assertWxError(await call(api.url(SEND, await api.token())), 43002, 'require POST method');
  });
});

// ---------------------------------------------------------------------------
// customerServiceMessage.setTyping
// ---------------------------------------------------------------------------

describe('POST /cgi-bin/message/custom/typing', () => {
  it('answers 45072 to a command other than Typing/CancelTyping', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    for (const command of [undefined, 'typing', 'Stop', 1]) {
      assertWxError(await api.typing(token, { touser: 'o1', command }), 45072, 'command invalid');
    }
  });

  it('answers 44002 / 47001 to an empty or malformed body, 40003 to a bad touser', async (t) => {
    const emulator = await start(t, { openids: ['o1'] });
    const api = client(emulator);
    const token = await api.token();
    assertWxError(await api.typing(token, ''), 44002, 'empty post data');
    assertWxError(await api.typing(token, '{'), 47001, 'data format error');
    assertWxError(await api.typing(token, { touser: 'o2', command: 'Typing' }), 40003, 'invalid openid');
  });

  it('Typing lasts 15 s: a second one within it gets 45081', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    assertOk(await api.typing(token, { touser: 'o1', command: 'Typing' }));
    emulator.advanceTime(15 * SECOND - MARGIN);
    assertWxError(await api.typing(token, { touser: 'o1', command: 'Typing' }), 45081, 'user is already in typing state');
    // Typing state is per user.
    assertOk(await api.typing(token, { touser: 'o2', command: 'Typing' }));
    emulator.advanceTime(MARGIN);
    assertOk(await api.typing(token, { touser: 'o1', command: 'Typing' }));
  });

  it('CancelTyping and a sent message end the typing state', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    assertOk(await api.typing(token, { touser: 'o1', command: 'CancelTyping' }));
    assertOk(await api.typing(token, { touser: 'o1', command: 'Typing' }));
    assertOk(await api.typing(token, { touser: 'o1', command: 'CancelTyping' }));
    assertOk(await api.typing(token, { touser: 'o1', command: 'Typing' }));
    assertOk(await api.send(token, { ...TEXT, touser: 'o1' }));
    assertOk(await api.typing(token, { touser: 'o1', command: 'Typing' }));
  });

  it('answers 45080 when the user has no open window; userMessaged reopens it', async (t) => {
    const emulator = await start(t, { tokenTtl: 1e6 });
    const api = client(emulator);
    const token = await api.token();
    emulator.advanceTime(48 * HOUR);
    for (const command of ['Typing', 'CancelTyping']) {
      assertWxError(await api.typing(token, { touser: 'o1', command }), 45080, 'user has not interacted recently');
    }
    emulator.userMessaged('o1');
    assertOk(await api.typing(token, { touser: 'o1', command: 'Typing' }));
  });
});

// ---------------------------------------------------------------------------
// Temporary media
// ---------------------------------------------------------------------------

describe('media upload and get', () => {
  it('round-trips every byte value, with content type, filename and created_at', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    emulator.advanceTime(DAY);
    const token = await api.token();
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\r\n--\r\n\r\n')]);
    const uploaded = await api.upload(token, imageForm(bytes, { filename: 'photo.png', contentType: 'image/png' }));
    assert.equal(uploaded.status, 200, uploaded.text);
    assert.deepEqual(Object.keys(uploaded.body).sort(), ['created_at', 'media_id', 'type']);
    assert.equal(uploaded.body.type, 'image');
    assert.match(uploaded.body.media_id, /^[A-Za-z0-9_-]{20,}$/);
    assert.equal(uploaded.body.created_at, Math.floor(emulator.now() / 1000));

    const response = await api.getMedia(token, uploaded.body.media_id);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/png');
    assert.equal(response.headers.get('content-disposition'), 'attachment; filename="photo.png"');
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), bytes);

    assertOk(await api.send(token, { touser: 'o1', msgtype: 'image', image: { media_id: uploaded.body.media_id } }));
  });

  it('parses a hand-written multipart body: preamble, other fields, boundary-like bytes, RFC 5987 filename', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    const boundary = 'XyZ-boundary';
    const noHeaders = Buffer.from(`--${boundary}\r\n\r\nanonymous part\r\n`);
    const file = Buffer.from([0x00, 0x0d, 0x0a, 0x2d, 0x2d, 0x58, 0x79, 0x0d, 0x0a, 0xff]); // contains "\r\n--Xy"
    const body = Buffer.concat([
      Buffer.from(`preamble to ignore\r\n`),
      noHeaders,
      Buffer.from(`--${boundary}\r\n`),
      Buffer.from('Content-Disposition: form-data; name="note"; constructor=x\r\n\r\nnot the file\r\n'),
      Buffer.from(`--${boundary}\r\n`),
      Buffer.from(
        'Content-Disposition: form-data; name="media"; filename="cover.jpg"; filename*=UTF-8\'\'%E5%B0%81%E9%9D%A2.jpg\r\n' +
          'Content-Type: image/jpeg\r\n\r\n',
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\nepilogue`),
    ]);
    const uploaded = await api.upload(token, body, { headers: { 'content-type': `multipart/form-data; boundary="${boundary}"` } });
    assert.equal(uploaded.status, 200, uploaded.text);

    const response = await api.getMedia(token, uploaded.body.media_id);
    assert.equal(response.headers.get('content-type'), 'image/jpeg');
    assert.equal(
      response.headers.get('content-disposition'),
      'attachment; filename="__.jpg"; filename*=UTF-8\'\'%E5%B0%81%E9%9D%A2.jpg',
    );
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), file);
  });

  it('answers 40004 to a type other than image', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    for (const type of ['video', 'voice', 'thumb', undefined]) {
      assertWxError(await api.upload(token, imageForm(Buffer.from('x')), { type }), 40004, 'invalid media type');
    }
  });

  it('answers 41005 when there is no media file part', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    const plainField = new FormData();
    plainField.append('media', 'just text, no filename');
    const bodies = [
      [imageForm(Buffer.from('x'), { field: 'file' })],
      [plainField],
      [imageForm(Buffer.alloc(0))],
      [Buffer.from('raw bytes'), { 'content-type': 'image/png' }],
      ['', { 'content-type': 'multipart/form-data; boundary=abc' }],
      ['--abc\r\nContent-Disposition: form-data; name="media"; filename="a.png"\r\n\r\ntruncated', { 'content-type': 'multipart/form-data; boundary=abc' }],
    ];
    for (const [body, headers] of bodies) {
      assertWxError(await api.upload(token, body, { headers }), 41005, 'media data missing');
    }
  });

  it('media/get answers 40007 to an unknown or missing media_id', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    for (const mediaId of ['nope', undefined]) {
      const response = await api.getMedia(token, mediaId);
      assertWxError({ status: response.status, headers: response.headers, text: '', body: await response.json() }, 40007, 'invalid media_id');
    }
  });

  it('addMedia stores bytes that media/get returns and send accepts', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    const mediaId = emulator.addMedia(new Uint8Array([1, 2, 3]), 'image/gif', 'anim.gif');
    const response = await api.getMedia(token, mediaId);
    assert.equal(response.headers.get('content-type'), 'image/gif');
    assert.equal(response.headers.get('content-disposition'), 'attachment; filename="anim.gif"');
    assert.deepEqual([...new Uint8Array(await response.arrayBuffer())], [1, 2, 3]);
    const defaults = emulator.addMedia('text bytes');
    assert.notEqual(defaults, mediaId);
    const defaultResponse = await api.getMedia(token, defaults);
    assert.equal(defaultResponse.headers.get('content-type'), 'application/octet-stream');
    assert.equal(defaultResponse.headers.get('content-disposition'), 'attachment; filename="media"');

    // A chosen id, such as the seed's literal "MEDIA_ID".
    assert.equal(emulator.addMedia(Buffer.from('seed'), 'image/png', 'seed.png', 'MEDIA_ID'), 'MEDIA_ID');
    assertOk(await api.send(token, { touser: 'o1', msgtype: 'image', image: { media_id: 'MEDIA_ID' } }));
    assert.equal(await (await api.getMedia(token, 'MEDIA_ID')).text(), 'seed');

    assert.throws(() => emulator.addMedia(42), TypeError);
    assert.throws(() => emulator.addMedia('x', ''), TypeError);
    assert.throws(() => emulator.addMedia('x', 'image/png', 'a.png', ''), TypeError);
  });
});

// ---------------------------------------------------------------------------
// Routing and limits
// ---------------------------------------------------------------------------

describe('routing and limits', () => {
  it('answers 404 with 40066 to any other path', async (t) => {
    const emulator = await start(t);
    for (const pathname of ['/', '/cgi-bin/message/custom/send/', '/wxa/not_an_api', '/CGI-BIN/TOKEN']) {
      assertWxError(await call(`${emulator.url}${pathname}`, { method: 'POST', body: '{}' }), 40066, 'invalid url', 404);
    }
  });

  it('answers 413 to a body over 20 MB, and records only its size', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    const tooLarge = Buffer.alloc(20 * 1024 * 1024 + 1, 0x61);
    const reply = await call(api.url(SEND, token), { method: 'POST', body: tooLarge });
    assertWxError(reply, 45002, 'content size out of limit', 413);
    const recorded = emulator.requests.at(-1);
    assert.equal(recorded.rawBody, `<body too large: ${tooLarge.length} bytes>`);
    assert.equal(recorded.body, undefined);
    assert.deepEqual(emulator.messages, []);
  });
});

// ---------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------

describe('requests', () => {
  it('records every request with method, path, query, headers, body and emulator time', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    emulator.advanceTime(HOUR);
    const before = emulator.now();
    await api.send(token, TEXT);
    const after = emulator.now();
    await call(`${emulator.url}/unknown?a=1&a=2&b=%20x`);

    assert.equal(emulator.requests.length, 3);
    const [tokenRequest, sendRequest, unknownRequest] = emulator.requests;
    assert.equal(tokenRequest.path, STABLE_TOKEN);
    assert.deepEqual(sendRequest.query, { access_token: '[redacted]' });
    assert.equal(sendRequest.method, 'POST');
    assert.equal(sendRequest.path, SEND);
    assert.equal(sendRequest.contentType, 'application/json');
    assert.equal(sendRequest.headers['content-type'], 'application/json');
    assert.deepEqual(sendRequest.body, TEXT);
    assert.equal(sendRequest.rawBody, JSON.stringify(TEXT));
    assert.ok(sendRequest.at >= before && sendRequest.at <= after);
    assert.deepEqual(unknownRequest.query, { a: '1', b: ' x' });
    assert.equal(unknownRequest.method, 'GET');
    assert.equal(unknownRequest.contentType, undefined);
    assert.equal(unknownRequest.body, undefined);
    assert.equal(unknownRequest.rawBody, '');
  });

  it('keeps non-JSON bodies as text and describes multipart bodies', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    await api.send(token, 'not json');
    await api.upload(token, imageForm(Buffer.alloc(1000)));
    const [, textRequest, uploadRequest] = emulator.requests;
    assert.equal(textRequest.body, undefined);
    assert.equal(textRequest.rawBody, 'not json');
    assert.match(uploadRequest.contentType, /^multipart\/form-data; boundary=/);
    assert.equal(uploadRequest.body, undefined);
    assert.match(uploadRequest.rawBody, /^<multipart\/form-data body: \d+ bytes>$/);
  });

  it('never holds a token or the secret', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const classic = (await api.classicToken()).body.access_token;
    const stable = await api.token();
    const forced = (await api.stableToken({ force_refresh: true })).body.access_token;
    assertWxError(await api.stableToken({ secret: 'a-wrong-secret-guess' }), 40125, 'invalid appsecret');
    // JSON escapes in the raw body must not let the secret through either.
    const escaped = `{"grant_type":"client_credential","appid":"${emulator.appid}","secret":"\\u00${emulator.secret
      .charCodeAt(0)
      .toString(16)}${emulator.secret.slice(1)}"}`;
    assert.equal((await api.postJson(STABLE_TOKEN, undefined, escaped)).body.access_token, forced);
    assertOk(await api.send(forced, TEXT));
    // Credentials in unexpected places: another query parameter, a header, the message text itself.
    await call(`${api.url(SEND, classic)}&copy=${stable}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stable}`, 'x-debug': emulator.secret, cookie: 'session=1' },
      body: JSON.stringify({ ...TEXT, text: { content: `token ${forced} secret ${emulator.secret}` } }),
    });
    await api.upload(stable, imageForm(Buffer.from(emulator.secret)));
    await api.getMedia(forced, 'nope');

    const recorded = JSON.stringify(emulator.requests);
    for (const secret of [classic, stable, forced, emulator.secret, 'a-wrong-secret-guess']) {
      assert.ok(!recorded.includes(secret), `requests must not contain ${secret.slice(0, 6)}…`);
    }
    const stableRequests = emulator.requests.filter((request) => request.path === STABLE_TOKEN);
    for (const request of stableRequests) {
      assert.equal(request.body.secret, '[redacted]');
      assert.match(request.rawBody, /"secret":"\[redacted\]"/);
    }
    assert.equal(emulator.requests[0].query.secret, '[redacted]');
    assert.equal(emulator.requests[0].query.appid, emulator.appid);
    const noisy = emulator.requests.find((request) => request.query.copy !== undefined);
    assert.equal(noisy.query.copy, '[redacted]');
    assert.equal(noisy.headers.authorization, '[redacted]');
    assert.equal(noisy.headers.cookie, '[redacted]');
    assert.equal(noisy.headers['x-debug'], '[redacted]');
    assert.equal(noisy.body.text.content, 'token [redacted] secret [redacted]');
    // messages keep the body exactly as WeChat received it.
    assert.equal(emulator.messages.at(-1).text.content, `token ${forced} secret ${emulator.secret}`);
  });

  it('records a request on arrival, before an injected delay', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    emulator.inject({ path: SEND, delayMs: Infinity });
    const pending = api.send(token, TEXT).then(
      () => assert.fail('a never-answered request must not resolve'),
      (error) => error,
    );
    const requests = await emulator.waitForRequests(2);
    assert.equal(requests, emulator.requests);
    assert.deepEqual(requests[1].body, TEXT);
    assert.deepEqual(emulator.messages, []);
    assert.equal(emulator.stats().inFlight, 1);
    await emulator.close();
    assert.ok((await pending) instanceof TypeError);
  });

  it('waitForRequests resolves at once when enough have arrived, rejects on close and on bad counts', async (t) => {
    const emulator = await start(t);
    assert.equal(await emulator.waitForRequests(0), emulator.requests);
    assert.throws(() => emulator.waitForRequests(-1), RangeError);
    const waiting = emulator.waitForRequests(1);
    await emulator.close();
    await assert.rejects(waiting, /closed/);
    await assert.rejects(emulator.waitForRequests(1), /closed/);
  });
});

// ---------------------------------------------------------------------------
// Clock and stats
// ---------------------------------------------------------------------------

describe('clock and stats', () => {
  it('now() is Date.now() plus every advanceTime()', async (t) => {
    const emulator = await start(t);
    const before = Date.now();
    const now = emulator.now();
    assert.ok(now >= before && now <= Date.now());
    const advanced = emulator.advanceTime(3 * DAY);
    assert.ok(advanced >= now + 3 * DAY);
    assert.ok(emulator.now() >= Date.now() + 3 * DAY);
    for (const bad of [-1, Number.NaN, Infinity, '5']) assert.throws(() => emulator.advanceTime(bad), RangeError);
  });

  it('counts requests in flight, including delayed ones, and their peak', async (t) => {
    const ended = [];
    let onEnded;
    const emulator = await start(t, {
      onLog: (entry) => {
        ended.push(entry);
        onEnded?.();
      },
    });
    emulator.inject({ path: SEND, delayMs: Infinity, times: 3 });
    const controller = new AbortController();
    const held = Array.from({ length: 3 }, () =>
      fetch(`${emulator.url}${SEND}`, { method: 'POST', body: '{}', signal: controller.signal }).catch((error) => error),
    );
    await emulator.waitForRequests(3);
    assert.deepEqual(emulator.stats(), { inFlight: 3, maxInFlight: 3 });
    emulator.resetStats();
    assert.deepEqual(emulator.stats(), { inFlight: 3, maxInFlight: 3 });

    const allEnded = new Promise((resolve) => {
      onEnded = () => ended.length === 3 && resolve();
    });
    controller.abort();
    await Promise.all(held);
    await allEnded;
    assert.deepEqual(ended.map((entry) => entry.outcome), ['aborted', 'aborted', 'aborted']);
    assert.deepEqual(emulator.stats(), { inFlight: 0, maxInFlight: 3 });
    emulator.resetStats();
    assert.deepEqual(emulator.stats(), { inFlight: 0, maxInFlight: 0 });

    await call(`${emulator.url}/x`);
    assert.deepEqual(emulator.stats(), { inFlight: 0, maxInFlight: 1 });
  });

  it('onLog reports each request once it ends, with credentials redacted', async (t) => {
    const entries = [];
    const emulator = await start(t, { onLog: (entry) => entries.push(entry) });
    const api = client(emulator);
    const token = (await api.classicToken()).body.access_token;
    await api.send(token, { ...TEXT, msgtype: 'bogus' });
    const response = await api.getMedia(token, 'nope');
    await response.arrayBuffer();
    assert.equal(entries.length, 3);
    const [tokenEntry, sendEntry] = entries;
    assert.deepEqual(
      { ...tokenEntry, durationMs: 0 },
      {
        method: 'GET',
        path: CLASSIC_TOKEN,
        query: { grant_type: 'client_credential', appid: emulator.appid, secret: '[redacted]' },
        status: 200,
        errcode: 0,
        durationMs: 0,
        injected: false,
        outcome: 'answered',
      },
    );
    assert.equal(typeof tokenEntry.durationMs, 'number');
    assert.equal(sendEntry.errcode, 40008);
    assert.deepEqual(sendEntry.query, { access_token: '[redacted]' });
    assert.ok(!JSON.stringify(entries).includes(token));
  });
});

// ---------------------------------------------------------------------------
// Fault injection
// ---------------------------------------------------------------------------

describe('inject', () => {
  it('errcode: answers a WeChat error once, without delivering, then handles normally', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    const handle = emulator.inject({ path: SEND, errcode: -1 });
    assert.equal(handle.remaining(), 1);
    assertWxError(await api.send(token, TEXT), -1, 'system error');
    assert.equal(handle.remaining(), 0);
    assert.deepEqual(emulator.messages, []);
    assert.equal(emulator.requests.length, 2);
    assertOk(await api.send(token, TEXT));
    assert.equal(emulator.messages.length, 1);
  });

  it('errcode: sends a custom errmsg verbatim, else WeChat\'s wording for a known code with a rid', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    emulator.inject({ path: STABLE_TOKEN, errcode: 40164, errmsg: 'invalid ip 1.2.3.4, not in whitelist rid: 0123' });
    emulator.inject({ path: STABLE_TOKEN, errcode: 45009 });
    emulator.inject({ path: STABLE_TOKEN, errcode: 99999 });
    const custom = await api.stableToken();
    assert.equal(custom.status, 200);
    assert.deepEqual(custom.body, { errcode: 40164, errmsg: 'invalid ip 1.2.3.4, not in whitelist rid: 0123' });
    assertWxError(await api.stableToken(), 45009, 'reach max api daily quota limit');
    assertWxError(await api.stableToken(), 99999, 'injected error');
    assert.equal((await api.stableToken()).status, 200);
  });

  it('applies to `times` matching requests only, in insertion order; Infinity and cancel()', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    const first = emulator.inject({ path: SEND, errcode: 45015, times: 2 });
    const second = emulator.inject({ path: SEND, errcode: -1 });
    const other = emulator.inject({ path: TYPING, errcode: 45080, times: Infinity });
    assertWxError(await api.send(token, TEXT), 45015, 'response out of time limit or subscription is canceled');
    assert.equal(first.remaining(), 1);
    assert.equal(second.remaining(), 1);
    assertWxError(await api.send(token, TEXT), 45015, 'response out of time limit or subscription is canceled');
    assertWxError(await api.send(token, TEXT), -1, 'system error');
    assertOk(await api.send(token, TEXT));
    assert.equal(first.remaining(), 0);
    assert.equal(second.remaining(), 0);

    for (let i = 0; i < 3; i += 1) {
      assertWxError(await api.typing(token, { touser: 'o1', command: 'Typing' }), 45080, 'user has not interacted recently');
    }
    assert.equal(other.remaining(), Infinity);
    other.cancel();
    assert.equal(other.remaining(), 0);
    assertOk(await api.typing(token, { touser: 'o1', command: 'Typing' }));
  });

  it('delayMs: holds the request, then handles it normally', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    emulator.inject({ path: SEND, delayMs: 20 });
    const reply = api.send(token, TEXT);
    await emulator.waitForRequests(2);
    // The delay timer cannot have fired yet: this runs in the same turn in which the request was recorded.
    assert.equal(emulator.stats().inFlight, 1);
    assert.deepEqual(emulator.messages, []);
    assertOk(await reply);
    assert.deepEqual(emulator.messages, [TEXT]);
  });

  it('delayMs: a request whose client gave up during the delay is still processed, as WeChat would', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    emulator.inject({ path: SEND, delayMs: 10 });
    // Timers fire in deadline order, so this later, longer delay ends after the first one.
    emulator.inject({ path: '/after', delayMs: 50, status: 204 });
    const controller = new AbortController();
    const abandoned = fetch(api.url(SEND, token), { method: 'POST', body: JSON.stringify(TEXT), signal: controller.signal });
    await emulator.waitForRequests(2);
    controller.abort();
    await assert.rejects(abandoned, { name: 'AbortError' });
    assert.equal((await call(`${emulator.url}/after`)).status, 204);
    assert.deepEqual(emulator.messages, [TEXT]);
  });

  it('delayMs combines with an effect that follows the delay', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    emulator.inject({ path: SEND, delayMs: 5, errcode: -1 });
    assertWxError(await api.send(token, TEXT), -1, 'system error');
    assert.deepEqual(emulator.messages, []);
  });

  it('delayMs: Infinity never answers; close() ends the request and leaves nothing pending', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    emulator.inject({ path: SEND, delayMs: Infinity });
    emulator.inject({ path: TYPING, delayMs: 10 * MINUTE });
    const send = api.send(token, TEXT).catch((error) => error);
    const typing = api.typing(token, { touser: 'o1', command: 'Typing' }).catch((error) => error);
    await emulator.waitForRequests(3);
    assert.equal(emulator.stats().inFlight, 2);
    await emulator.close();
    assert.ok((await send) instanceof TypeError);
    assert.ok((await typing) instanceof TypeError);
    assert.deepEqual(emulator.messages, []);
    // close() is idempotent.
    await emulator.close();
    await assert.rejects(fetch(`${emulator.url}/`), TypeError);
  });

  it('reset: drops the connection without a response and delivers nothing', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    emulator.inject({ path: SEND, reset: true });
    const error = await api.send(token, TEXT).then(() => assert.fail('expected a network error'), (err) => err);
    assert.ok(error instanceof TypeError);
    assert.equal(emulator.requests.length, 2);
    assert.deepEqual(emulator.messages, []);
    assertOk(await api.send(token, TEXT));
  });

  it('status/body/headers: sends a raw reply, e.g. a 502 HTML page', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    const token = await api.token();
    const html = '<html><body><h1>502 Bad Gateway</h1></body></html>';
    emulator.inject({ path: SEND, status: 502, body: html, headers: { 'Content-Type': 'text/html', 'X-Upstream': 'down' } });
    const reply = await api.send(token, TEXT);
    assert.equal(reply.status, 502);
    assert.equal(reply.headers.get('content-type'), 'text/html');
    assert.equal(reply.headers.get('x-upstream'), 'down');
    assert.equal(reply.text, html);
    assert.deepEqual(emulator.messages, []);
  });

  it('status/body: a 200 reply that is not JSON, bytes, and a JSON value', async (t) => {
    const emulator = await start(t);
    const api = client(emulator);
    emulator.inject({ path: STABLE_TOKEN, body: 'not json' });
    emulator.inject({ path: STABLE_TOKEN, status: 503, body: new Uint8Array([0xde, 0xad]) });
    emulator.inject({ path: STABLE_TOKEN, body: { access_token: 'short', expires_in: 1 } });
    emulator.inject({ path: STABLE_TOKEN, status: 500 });

    const text = await api.stableToken();
    assert.equal(text.status, 200);
    assert.equal(text.text, 'not json');
    assert.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
    const bytes = await api.stableToken();
    assert.equal(bytes.status, 503);
    assert.equal(bytes.headers.get('content-type'), 'application/octet-stream');
    const json = await api.stableToken();
    assert.deepEqual(json.body, { access_token: 'short', expires_in: 1 });
    assert.equal(json.headers.get('content-type'), 'application/json; charset=utf-8');
    const empty = await api.stableToken();
    assert.equal(empty.status, 500);
    assert.equal(empty.text, '');
    assert.match((await api.stableToken()).body.access_token, TOKEN_PATTERN);
  });

  it('marks injected requests in onLog', async (t) => {
    const entries = [];
    const emulator = await start(t, { onLog: (entry) => entries.push(entry) });
    emulator.inject({ path: '/nowhere', status: 204 });
    const reply = await call(`${emulator.url}/nowhere`);
    assert.equal(reply.status, 204);
    assert.equal(entries[0].injected, true);
    assert.equal(entries[0].status, 204);
    assert.equal(entries[0].errcode, undefined);
  });

  it('rejects malformed rules', async (t) => {
    const emulator = await start(t);
    const bad = [
      null,
      {},
      { path: 'no-slash', errcode: -1 },
      { path: SEND, times: 0 },
      { path: SEND, times: 1.5 },
      { path: SEND, delayMs: -1 },
      { path: SEND, delayMs: Number.NaN },
      { path: SEND, reset: true, errcode: -1 },
      { path: SEND, status: 502, errcode: -1 },
      { path: SEND, errcode: 'x' },
      { path: SEND, errmsg: 'without errcode' },
      { path: SEND, status: 99 },
      { path: SEND, headers: 'x' },
    ];
    for (const rule of bad) assert.throws(() => emulator.inject(rule), /inject/);
  });
});

// ---------------------------------------------------------------------------
// Process-level behaviour
// ---------------------------------------------------------------------------

describe('process', () => {
  it('close() leaves nothing holding the event loop, even with unanswered and delayed requests', { timeout: 30_000 }, async () => {
    const script = `
      const { startEmulator } = require(${JSON.stringify(EMULATOR_PATH)});
      (async () => {
        const emulator = await startEmulator();
        emulator.inject({ path: '/cgi-bin/token', delayMs: Infinity });
        emulator.inject({ path: '/cgi-bin/stable_token', delayMs: 3600000 });
        const a = fetch(emulator.url + '/cgi-bin/token').then(() => 'answered', () => 'failed');
        const b = fetch(emulator.url + '/cgi-bin/stable_token', { method: 'POST', body: '{}' }).then(() => 'answered', () => 'failed');
        await emulator.waitForRequests(2);
        await emulator.close();
        console.log(JSON.stringify(await Promise.all([a, b])));
      })();
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(output), ['failed', 'failed']);
  });

  it('CLI: prints url/appid/secret, logs one redacted line per request, stops on SIGTERM', { timeout: 30_000 }, async () => {
    assert.ok(fs.statSync(CLI_PATH).mode & 0o111, 'the CLI is executable');
    assert.match(fs.readFileSync(CLI_PATH, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    const secret = 'cli-secret-0123456789abcdef';
    const child = spawn(process.execPath, [CLI_PATH, '--port', '0', '--appid', 'wxc11c11c11c11c11c', '--secret', secret, '--token-ttl', '600'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    try {
      const stdout = lineReader(child.stdout);
      const url = (await stdout.next((line) => line.startsWith('url:'))).split(/\s+/)[1];
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await stdout.next((line) => line.startsWith('appid:'))).split(/\s+/)[1], 'wxc11c11c11c11c11c');
      assert.equal((await stdout.next((line) => line.startsWith('secret:'))).split(/\s+/)[1], secret);
      const startupLines = stdout.lines.length;

      const tokenReply = await call(`${url}/cgi-bin/token?grant_type=client_credential&appid=wxc11c11c11c11c11c&secret=${secret}`);
      assert.equal(tokenReply.body.expires_in, 600);
      const token = tokenReply.body.access_token;
      const sendReply = await call(`${url}${SEND}?access_token=${token}`, { method: 'POST', body: JSON.stringify(TEXT) });
      assert.equal(sendReply.body.errcode, 0);

      const tokenLine = await stdout.next((line) => line.includes(` ${CLASSIC_TOKEN}`));
      assert.match(tokenLine, /^\S+ GET \/cgi-bin\/token\?grant_type=client_credential&appid=wxc11c11c11c11c11c&secret=\[redacted\] 200 errcode=0 \d+\.\dms$/);
      const sendLine = await stdout.next((line) => line.includes(` ${SEND}`));
      assert.match(sendLine, /^\S+ POST \/cgi-bin\/message\/custom\/send\?access_token=\[redacted\] 200 errcode=0 \d+\.\dms$/);
      const logLines = stdout.lines.slice(startupLines);
      assert.equal(logLines.length, 2, 'one line per request');
      assert.ok(logLines.every((line) => !line.includes(token) && !line.includes(secret)));

      child.kill('SIGTERM');
      const [code, signal] = await exited;
      assert.equal(signal, null);
      assert.equal(code, 0);
      assert.ok(stdout.lines.at(-1).includes('stopped'));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('CLI: --help exits 0, bad usage exits 2', async () => {
    const run = promisify(execFile);
    const help = await run(process.execPath, [CLI_PATH, '--help']);
    assert.match(help.stdout, /Usage: wx-openapi-emulator/);
    for (const args of [['--bogus'], ['--port', 'abc'], ['--port', '70000'], ['--token-ttl', '0']]) {
      await assert.rejects(run(process.execPath, [CLI_PATH, ...args]), (error) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr, /wx-openapi-emulator: /);
        return true;
      });
    }
  });
});
