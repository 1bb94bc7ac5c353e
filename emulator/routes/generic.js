'use strict';

/**
 * Every other route of the call table (crates/wx-openapi/apis.json): the row's method and a valid
 * access token are required, a JSON body must be a JSON object, a multipart row needs its file
 * (or, for `multipart|query` rows, the URL param that replaces it; else 41005) within the row's
 * size limit (else 40006). Then `{ errcode: 0, errmsg: 'ok' }`, or a PNG for a binary row. Every
 * request is recorded by the server, so tests check what arrived against the row.
 */

const path = require('node:path');
const { ERRORS, WxError } = require('../errors');
const { okReply, fileReply, isPlainObject } = require('../replies');
const { parseMultipart } = require('../multipart');
const { codePng } = require('../png');

const TABLE = require(path.join(__dirname, '..', '..', 'crates', 'wx-openapi', 'apis.json'));

module.exports = function genericRoutes({ claimed }) {
  const routes = new Map();
  for (const row of TABLE) {
    // Routes with rules of their own (token, customer service, …) are already claimed; rows sharing a
    // path (pluginManager's actions) share one route.
    if (claimed.has(row.path) || routes.has(row.path)) continue;
    routes.set(row.path, { method: row.method, path: row.path, auth: true, handle: (call) => accept(row, call) });
  }
  return [...routes.values()];
};

function accept(row, { query, headers, body, json }) {
  if (row.params.startsWith('multipart')) {
    const files = parseMultipart(body, headers['content-type']).filter((part) => part.filename !== undefined && part.data.length > 0);
    const urlInstead = row.params === 'multipart|query' && (row.query ?? []).some((name) => query[name] !== undefined && query[name] !== '');
    if (files.length === 0 && !urlInstead) throw new WxError(ERRORS.MEDIA_DATA_MISSING);
    if (row.maxFileBytes !== undefined && files.some((file) => file.data.length > row.maxFileBytes)) throw new WxError(ERRORS.INVALID_FILE_SIZE);
  } else if (row.method === 'POST' && body.length > 0 && !isPlainObject(json)) {
    throw new WxError(ERRORS.DATA_FORMAT_ERROR);
  }
  if (row.reply === 'binary') return fileReply(codePng(64, row.path), 'image/png', 'media.png');
  return okReply();
}
