'use strict';

/**
 * URL schemes and URL links: `generatescheme` / `generate_urllink` create one (the page must be a
 * published page, else 40165; the query at most 1024 characters of WeChat's set, else 40212;
 * expiry at most 30 days ahead, else 40097), `queryscheme` / `query_urllink` read it back.
 */

const crypto = require('node:crypto');
const { ERRORS, WxError } = require('../errors');
const { jsonReply, requireJsonObject, isPlainObject } = require('../replies');
const { SECOND, DAY } = require('../state');

const QUERY = /^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~%]{0,1024}$/;
const ENV_VERSIONS = new Set(['release', 'trial', 'develop']);
/** Since 2023 every scheme and link expires within 30 days. */
const MAX_LIFETIME_DAYS = 30;

module.exports = function urlschemeRoutes({ appid, pages, clock }) {
  const schemes = new Map();
  const links = new Map();

  /** The target and expiry of a scheme or link request, checked; `target` is `{ path, query, env_version }`. */
  const describe = (target, params) => {
    const { path = '', query = '', env_version: envVersion = 'release' } = target;
    if (typeof path !== 'string' || (path !== '' && !pages.has(path))) throw new WxError(ERRORS.INVALID_WEAPP_PAGEPATH);
    if (typeof query !== 'string' || !QUERY.test(query)) throw new WxError(ERRORS.INVALID_QUERY);
    if (!ENV_VERSIONS.has(envVersion)) throw new WxError(ERRORS.INVALID_ARGS, 'env_version');
    const now = clock.now();
    let expiresAt = now + MAX_LIFETIME_DAYS * DAY;
    if (params.expire_type === 1) {
      const days = params.expire_interval;
      if (!Number.isInteger(days) || days < 1 || days > MAX_LIFETIME_DAYS) throw new WxError(ERRORS.INVALID_ARGS, 'expire_interval');
      expiresAt = now + days * DAY;
    } else if (params.expire_time !== undefined) {
      const at = params.expire_time * SECOND;
      if (!Number.isInteger(params.expire_time) || at <= now || at > now + MAX_LIFETIME_DAYS * DAY) throw new WxError(ERRORS.INVALID_ARGS, 'expire_time');
      expiresAt = at;
    }
    return { appid, path, query, env_version: envVersion, create_time: Math.floor(now / SECOND), expire_time: Math.floor(expiresAt / SECOND) };
  };
  const id = () => crypto.randomBytes(8).toString('base64url');

  return [
    {
      method: 'POST',
      path: '/wxa/generatescheme',
      auth: true,
      handle({ body, json }) {
        const params = body.length === 0 ? {} : requireJsonObject(body, json);
        const target = params.jump_wxa === undefined ? {} : params.jump_wxa;
        if (!isPlainObject(target)) throw new WxError(ERRORS.INVALID_ARGS, 'jump_wxa');
        const openlink = `weixin://dl/business/?t=${id()}`;
        schemes.set(openlink, describe(target, params));
        return jsonReply({ errcode: 0, errmsg: 'ok', openlink });
      },
    },
    {
      method: 'POST',
      path: '/wxa/queryscheme',
      auth: true,
      handle({ body, json }) {
        const info = schemes.get(requireJsonObject(body, json).scheme);
        if (info === undefined) throw new WxError(ERRORS.INVALID_ARGS, 'scheme');
        return jsonReply({ errcode: 0, errmsg: 'ok', scheme_info: info });
      },
    },
    {
      method: 'POST',
      path: '/wxa/generate_urllink',
      auth: true,
      handle({ body, json }) {
        const params = body.length === 0 ? {} : requireJsonObject(body, json);
        const urlLink = `https://wxaurl.cn/${id()}`;
        links.set(urlLink, describe(params, params));
        return jsonReply({ errcode: 0, errmsg: 'ok', url_link: urlLink });
      },
    },
    {
      method: 'POST',
      path: '/wxa/query_urllink',
      auth: true,
      handle({ body, json }) {
        const info = links.get(requireJsonObject(body, json).url_link);
        if (info === undefined) throw new WxError(ERRORS.INVALID_ARGS, 'url_link');
        return jsonReply({ errcode: 0, errmsg: 'ok', url_link_info: info });
      },
    },
  ];
};
