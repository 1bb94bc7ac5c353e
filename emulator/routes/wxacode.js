'use strict';

/**
 * Mini-program codes, answered with a real PNG (and JSON only on error, as WeChat does):
 * `getwxacodeunlimit` (`scene` 1-32 characters of WeChat's set, else 40169; `page` a published page
 * without a leading '/', else 41030, unless `check_path: false`), `getwxacode` and
 * `createwxaqrcode` (`path` required, at most 1024 / 128 characters, else 40159).
 */

const { ERRORS, WxError } = require('../errors');
const { fileReply, requireJsonObject } = require('../replies');
const { codePng } = require('../png');

/** The characters WeChat allows in a scene. */
const SCENE = /^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$/;
const ENV_VERSIONS = new Set(['release', 'trial', 'develop']);
/** WeChat's documented width range, in pixels; default 430. */
const MIN_WIDTH = 280;
const MAX_WIDTH = 1280;
const DEFAULT_WIDTH = 430;

module.exports = function wxacodeRoutes({ pages }) {
  return [
    {
      method: 'POST',
      path: '/wxa/getwxacodeunlimit',
      auth: true,
      handle({ body, json }) {
        const params = requireJsonObject(body, json);
        const { scene, page, check_path: checkPath = true, env_version: envVersion } = params;
        if (typeof scene !== 'string' || !SCENE.test(scene)) throw new WxError(ERRORS.INVALID_SCENE);
        if (page !== undefined) {
          if (typeof page !== 'string' || page.startsWith('/')) throw new WxError(ERRORS.INVALID_PAGE);
          if (checkPath !== false && !pages.has(page)) throw new WxError(ERRORS.INVALID_PAGE);
        }
        if (envVersion !== undefined && !ENV_VERSIONS.has(envVersion)) throw new WxError(ERRORS.INVALID_ARGS, 'env_version');
        return codeReply(params, `${scene}|${page ?? ''}`);
      },
    },
    {
      method: 'POST',
      path: '/wxa/getwxacode',
      auth: true,
      handle({ body, json }) {
        const params = requireJsonObject(body, json);
        checkPath(params.path, 1024);
        return codeReply(params, params.path);
      },
    },
    {
      method: 'POST',
      path: '/cgi-bin/wxaapp/createwxaqrcode',
      auth: true,
      handle({ body, json }) {
        const params = requireJsonObject(body, json);
        checkPath(params.path, 128);
        return codeReply(params, `qr|${params.path}`);
      },
    },
  ];
};

function checkPath(path, maxLength) {
  if (typeof path !== 'string' || path === '' || path.length > maxLength) throw new WxError(ERRORS.INVALID_PATH_LENGTH);
}

/** The code as a PNG of the requested width, clamped to WeChat's range. */
function codeReply({ width }, seed) {
  const size = Number.isInteger(width) ? Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, width)) : DEFAULT_WIDTH;
  return fileReply(codePng(size, seed), 'image/png', 'wxacode.png');
}
