#!/usr/bin/env node
'use strict';

// Runs the WeChat OpenAPI emulator as a standalone server, e.g. for manual testing
// or for a test suite written in another language. One log line per request on stdout.

const { parseArgs } = require('node:util');
const { startEmulator } = require('../emulator');

const USAGE = `Usage: wx-openapi-emulator [options]

A local emulator of WeChat's OpenAPI, for every call of wx-openapi-native's table:
access tokens; customerServiceMessage (48-hour window, message limit) and temporary media;
subscribeMessage, content security, wxacode, urlscheme/urllink and phonenumber with WeChat's
documented rules and error codes; every other call of crates/wx-openapi/apis.json through a
generic route (method, token and body checked, then errcode 0). Every request is logged.

Options:
  --port <n>           port to listen on, 0 for any free port (default 8080)
  --host <addr>        interface to listen on (default 127.0.0.1)
  --appid <id>         the app's AppID (default: generated)
  --secret <s>         the app's AppSecret (default: generated)
  --token-ttl <s>      access token lifetime in seconds (default 7200)
  --message-limit <n>  messages per user per 48-hour window (default 5)
  --openids <a,b,...>  the only valid openids (default: any)
  --tokenless          accept calls without access_token (WeChat Cloud Run open API service)
  -h, --help           show this help
`;

/** Exit status for bad usage, as is conventional for command-line tools. */
const EXIT_USAGE = 2;

function parseCommandLine(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      appid: { type: 'string' },
      secret: { type: 'string' },
      'token-ttl': { type: 'string', default: '7200' },
      'message-limit': { type: 'string', default: '5' },
      openids: { type: 'string' },
      tokenless: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    help: values.help,
    options: {
      port: toNumber('--port', values.port),
      host: values.host,
      appid: values.appid,
      secret: values.secret,
      tokenTtl: toNumber('--token-ttl', values['token-ttl']),
      messageLimit: toNumber('--message-limit', values['message-limit']),
      openids: values.openids?.split(',').map((openid) => openid.trim()).filter(Boolean),
      tokenless: values.tokenless,
    },
  };
}

function toNumber(flag, text) {
  const number = Number(text);
  if (text.trim() === '' || !Number.isFinite(number)) throw new TypeError(`${flag} expects a number, got "${text}"`);
  return number;
}

/** `GET /cgi-bin/token?grant_type=client_credential&appid=wx…&secret=[redacted] 200 errcode=0 1.2ms` */
function formatLogLine({ method, path, query, status, errcode, durationMs, injected, outcome }) {
  const search = Object.entries(query)
    .map(([key, value]) => `${encodeURIComponent(key)}=${value === '[redacted]' ? value : encodeURIComponent(value)}`)
    .join('&');
  const result =
    outcome === 'answered' ? `${status}${errcode === undefined ? '' : ` errcode=${errcode}`}` : outcome.toUpperCase();
  return [
    new Date().toISOString(),
    method,
    search === '' ? path : `${path}?${search}`,
    result,
    `${durationMs.toFixed(1)}ms`,
    ...(injected ? ['(injected)'] : []),
  ].join(' ');
}

async function main() {
  let parsed;
  try {
    parsed = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`wx-openapi-emulator: ${error.message}\n\n${USAGE}`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return;
  }

  let emulator;
  try {
    emulator = await startEmulator({ ...parsed.options, onLog: (entry) => console.log(formatLogLine(entry)) });
  } catch (error) {
    process.stderr.write(`wx-openapi-emulator: ${error.message}\n`);
    process.exitCode = error instanceof TypeError || error instanceof RangeError ? EXIT_USAGE : 1;
    return;
  }

  // Printing the secret is the point here: it is the emulator's own, and the caller needs it to get a token.
  console.log('wx-openapi-emulator listening');
  console.log(`url:    ${emulator.url}`);
  console.log(`appid:  ${emulator.appid}`);
  console.log(`secret: ${emulator.secret}`);

  const stop = (signal) => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    // A second signal while closing falls through to Node's default handler and ends the process at once.
    emulator.close().then(() => console.log(`wx-openapi-emulator stopped (${signal})`));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main();
