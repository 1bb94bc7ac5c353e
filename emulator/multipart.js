'use strict';

/** multipart/form-data (RFC 7578) parsing, on Buffers so that binary files survive intact. */

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const DASH = 0x2d;

/** @returns the parts `{ name, filename, contentType, data }`; none when the body is not multipart. */
function parseMultipart(body, contentTypeHeader) {
  if (typeof contentTypeHeader !== 'string') return [];
  const [mime] = contentTypeHeader.split(';');
  const { boundary } = parseHeaderParams(contentTypeHeader);
  if (mime.trim().toLowerCase() !== 'multipart/form-data' || !boundary) return [];

  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.concat([CRLF, delimiter]);
  const parts = [];
  let position = body.indexOf(delimiter);
  while (position !== -1) {
    position += delimiter.length;
    if (body[position] === DASH && body[position + 1] === DASH) break; // the close delimiter
    // RFC 2046 allows linear whitespace after a delimiter.
    while (body[position] === 0x20 || body[position] === 0x09) position += 1;
    if (!body.subarray(position, position + 2).equals(CRLF)) break;
    position += 2;

    // Searching from the CRLF that ended the delimiter line also finds the blank line of a part without headers.
    const headerEnd = body.indexOf(HEADER_END, position - CRLF.length);
    if (headerEnd === -1) break;
    const dataStart = headerEnd + HEADER_END.length;
    const dataEnd = body.indexOf(nextDelimiter, dataStart);
    if (dataEnd === -1) break; // truncated: a part without its closing delimiter is not trusted
    const headers = parsePartHeaders(body.toString('utf8', position, Math.max(position, headerEnd)));
    parts.push({ ...headers, data: body.subarray(dataStart, dataEnd) });
    position = dataEnd + CRLF.length;
  }
  return parts;
}

function parsePartHeaders(text) {
  const part = { name: undefined, filename: undefined, contentType: undefined };
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-type') {
      part.contentType = value;
    } else if (name === 'content-disposition') {
      const params = parseHeaderParams(value);
      part.name = params.name;
      part.filename = params['filename*'] !== undefined ? decodeExtValue(params['filename*']) ?? params.filename : params.filename;
    }
  }
  return part;
}

/** The `key=value` parameters after the first `;` of a header, quoted strings unescaped. */
function parseHeaderParams(value) {
  const params = new Map();
  for (const match of value.matchAll(/;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
    const key = match[1].toLowerCase();
    if (!params.has(key)) params.set(key, match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3].trim());
  }
  return Object.fromEntries(params);
}

/** RFC 5987 `charset'lang'pct-encoded`; undefined when it cannot be decoded. */
function decodeExtValue(value) {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (match === null || !/^utf-8$/i.test(match[1])) return undefined;
  try {
    return decodeURIComponent(match[2]);
  } catch {
    return undefined;
  }
}

module.exports = { parseMultipart };
