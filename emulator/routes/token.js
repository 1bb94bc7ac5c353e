'use strict';

/**
 * Access tokens: `GET /cgi-bin/token` (classic: a new token on every call) and
 * `POST /cgi-bin/stable_token` (the current token, unless there is none or a refresh is forced).
 */

const { ERRORS, WxError } = require('../errors');
const { jsonReply, requireJsonObject } = require('../replies');
const { SECOND } = require('../state');

module.exports = function tokenRoutes({ appid, secret, tokens }) {
  const checkCredentials = ({ grant_type: grantType, appid: givenAppid, secret: givenSecret }) => {
    if (grantType !== 'client_credential') throw new WxError(ERRORS.INVALID_GRANT_TYPE);
    if (givenAppid === undefined || givenAppid === '') throw new WxError(ERRORS.APPID_MISSING);
    if (givenAppid !== appid) throw new WxError(ERRORS.INVALID_APPID);
    if (givenSecret === undefined || givenSecret === '') throw new WxError(ERRORS.APPSECRET_MISSING);
    if (givenSecret !== secret) throw new WxError(ERRORS.INVALID_APPSECRET);
  };

  return [
    {
      method: 'GET',
      path: '/cgi-bin/token',
      auth: false,
      handle({ query }) {
        checkCredentials(query);
        return tokenReply(tokens.issue());
      },
    },
    {
      method: 'POST',
      path: '/cgi-bin/stable_token',
      auth: false,
      handle({ body, json }) {
        const params = requireJsonObject(body, json, ERRORS.DATA_FORMAT_ERROR);
        checkCredentials(params);
        if (params.force_refresh === true) {
          tokens.chargeForcedRefresh();
          return tokenReply(tokens.issue());
        }
        return tokenReply(tokens.current() ?? tokens.issue());
      },
    },
  ];
};

/** WeChat's token reply: no errcode on success, and expires_in counts what is left of the token. */
function tokenReply({ token, expiresInMs }) {
  return jsonReply({ access_token: token, expires_in: Math.ceil(expiresInMs / SECOND) });
}
