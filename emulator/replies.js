'use strict';

/**
 * WeChat's reply shapes: JSON (with an errcode, or without one as the token and upload replies
 * are), errors with WeChat's ` rid: …` suffix, binary files; and the checks of a JSON body.
 */

const crypto = require('node:crypto');
const { ERRORS, WxError } = require('./errors');

/** The body as a JSON object, or the WeChat error for an empty or malformed one. */
function requireJsonObject(body, json, emptyError = ERRORS.EMPTY_POST_DATA) {
  if (body.length === 0) throw new WxError(emptyError);
  if (!isPlainObject(json)) throw new WxError(ERRORS.DATA_FORMAT_ERROR);
  return json;
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function jsonReply(payload, status = 200) {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(body.length) },
    body,
    errcode: payload.errcode ?? 0,
  };
}

function okReply() {
  return jsonReply({ errcode: 0, errmsg: 'ok' });
}

/** WeChat's token reply: no errcode on success, and expires_in counts what is left of the token. */

/** WeChat appends a request id to every error message; clients must not match errmsg exactly. */
function errorReply({ errcode, errmsg }, status = 200) {
  const rid = crypto.randomBytes(12).toString('hex');
  return jsonReply({ errcode, errmsg: `${errmsg} rid: ${rid}` }, status);
}

function injectedErrorReply({ errcode, errmsg, withRid }) {
  return withRid ? errorReply({ errcode, errmsg }) : jsonReply({ errcode, errmsg });
}

/** RFC 6266: an ASCII fallback, plus the exact name in RFC 5987 form when it is not plain ASCII. */
function contentDisposition(filename) {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  if (fallback === filename) return `attachment; filename="${filename}"`;
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** A file as WeChat serves one: its bytes with their type, and a download name. */
function fileReply(data, contentType, filename) {
  return {
    status: 200,
    headers: {
      'Content-Type': contentType,
      'Content-disposition': contentDisposition(filename),
      'Content-Length': String(data.length),
      'Cache-Control': 'no-cache, must-revalidate',
    },
    body: data,
    errcode: undefined,
  };
}

module.exports = { requireJsonObject, isPlainObject, jsonReply, okReply, errorReply, injectedErrorReply, fileReply };
