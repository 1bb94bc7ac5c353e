'use strict';

/**
 * Redaction of recorded requests: credential keys masked, known secrets (the AppSecret, issued
 * tokens) scrubbed wherever they appear, multipart and oversized bodies described, not kept as text.
 */

const { parseMultipart } = require('./multipart');

/** WeChat's front end refuses request bodies above 20 MB. */
const MAX_BODY_BYTES = 20 * 1024 * 1024;

const REDACTED = '[redacted]';
/** Query and JSON keys whose values are credentials. */
const SECRET_KEYS = new Set(['access_token', 'secret']);
/** Request headers that may carry credentials of some other kind (a proxy's, a cookie). */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);
/**
 * Known credentials (the AppSecret, issued tokens) are also scrubbed wherever they
 * appear in a recorded request; shorter ones are skipped, as replacing every
 * occurrence of a two-letter secret would mangle unrelated text.
 */
const MIN_SCRUBBED_LENGTH = 8;

class Redactor {
  #knownSecrets;

  /** @param knownSecrets a function returning the credentials to scrub wherever they occur */
  constructor(knownSecrets) {
    this.#knownSecrets = knownSecrets;
  }

  /** A recorded copy of a request with no credential left in it. */
  record({ method, path, query, headers, body, json, size, at }) {
    const scrub = this.#scrubber();
    const contentType = headers['content-type'];
    return {
      method,
      path,
      query: this.query(query, scrub),
      headers: Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [
          name,
          SECRET_HEADERS.has(name) ? REDACTED : Array.isArray(value) ? value.map(scrub) : scrub(value),
        ]),
      ),
      contentType,
      body: json === undefined ? undefined : redactJson(json, scrub),
      rawBody: describeRawBody(body, json, size, contentType, scrub),
      parts: recordParts(body, size, contentType, scrub),
      at,
    };
  }

  /** A function replacing every known credential in a string. */
  #scrubber() {
    const secrets = [...this.#knownSecrets()].filter((secret) => secret.length >= MIN_SCRUBBED_LENGTH);
    return (text) => secrets.reduce((result, secret) => (result.includes(secret) ? result.split(secret).join(REDACTED) : result), text);
  }

  /** The query with its credential parameters masked (also what the CLI logs). */
  query(query, scrub = this.#scrubber()) {
    return Object.fromEntries(
      Object.entries(query).map(([key, value]) => [key, SECRET_KEYS.has(key) ? REDACTED : scrub(value)]),
    );
  }
}

/**
 * The parts of a multipart body, so that tests can check each file that arrived; text fields
 * are scrubbed like any other text. `undefined` for any other body.
 */
function recordParts(body, size, contentType, scrub) {
  if (size > MAX_BODY_BYTES || typeof contentType !== 'string' || !/^\s*multipart\//i.test(contentType)) return undefined;
  return parseMultipart(body, contentType).map(({ name, filename, contentType: partType, data }) => ({
    name,
    filename,
    contentType: partType,
    size: data.length,
    data: filename === undefined ? Buffer.from(scrub(data.toString('utf8'))) : Buffer.from(data),
  }));
}

/** A deep copy of a JSON value with credential keys masked and known secrets scrubbed. */
function redactJson(value, scrub) {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((item) => redactJson(item, scrub));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, SECRET_KEYS.has(key) ? REDACTED : redactJson(item, scrub)]),
  );
}

function describeRawBody(body, json, size, contentType, scrub) {
  if (size > MAX_BODY_BYTES) return `<body too large: ${size} bytes>`;
  if (typeof contentType === 'string' && /^\s*multipart\//i.test(contentType)) {
    return `<${contentType.split(';')[0].trim()} body: ${size} bytes>`;
  }
  let raw = body.toString('utf8');
  const masked = collectSecretValues(json);
  for (const value of masked) {
    const quoted = JSON.stringify(value);
    // The raw text escapes the value some other way: fall back to the redacted JSON, which is equivalent.
    if (!raw.includes(quoted)) return JSON.stringify(redactJson(json, scrub));
    raw = raw.split(quoted).join(JSON.stringify(REDACTED));
  }
  return scrub(raw);
}

/** The string values under credential keys anywhere in a JSON value. */
function collectSecretValues(value, found = []) {
  if (value === null || typeof value !== 'object') return found;
  for (const [key, item] of Object.entries(value)) {
    if (SECRET_KEYS.has(key) && typeof item === 'string' && item !== '') found.push(item);
    else collectSecretValues(item, found);
  }
  return found;
}

module.exports = { Redactor, MAX_BODY_BYTES };
