'use strict';

/**
 * The emulator's error table: the single source of every errcode/errmsg it sends, with the
 * WxError that route handlers throw and the router turns into WeChat's JSON error reply.
 */

const ERRORS = deepFreeze({
  SYSTEM_ERROR: { errcode: -1, errmsg: 'system error' },
  INVALID_CREDENTIAL: { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' },
  INVALID_GRANT_TYPE: { errcode: 40002, errmsg: 'invalid grant_type' },
  INVALID_OPENID: { errcode: 40003, errmsg: 'invalid openid' },
  INVALID_MEDIA_TYPE: { errcode: 40004, errmsg: 'invalid media type' },
  INVALID_FILE_SIZE: { errcode: 40006, errmsg: 'invalid media size' },
  INVALID_MEDIA_ID: { errcode: 40007, errmsg: 'invalid media_id' },
  INVALID_MESSAGE_TYPE: { errcode: 40008, errmsg: 'invalid message type' },
  INVALID_APPID: { errcode: 40013, errmsg: 'invalid appid' },
  INVALID_CODE: { errcode: 40029, errmsg: 'invalid code' },
  INVALID_TEMPLATE_ID: { errcode: 40037, errmsg: 'invalid template_id' },
  INVALID_URL: { errcode: 40066, errmsg: 'invalid url' },
  INVALID_ARGS: { errcode: 40097, errmsg: 'invalid args' },
  INVALID_APPSECRET: { errcode: 40125, errmsg: 'invalid appsecret' },
  INVALID_PATH_LENGTH: { errcode: 40159, errmsg: 'invalid length for path, or the data is not json string' },
  INVALID_WEAPP_PAGEPATH: { errcode: 40165, errmsg: 'invalid weapp pagepath' },
  INVALID_SCENE: { errcode: 40169, errmsg: 'invalid length for scene, or the data is not json string' },
  INVALID_QUERY: { errcode: 40212, errmsg: 'invalid query' },
  ACCESS_TOKEN_MISSING: { errcode: 41001, errmsg: 'access_token missing' },
  APPID_MISSING: { errcode: 41002, errmsg: 'appid missing' },
  APPSECRET_MISSING: { errcode: 41004, errmsg: 'appsecret missing' },
  MEDIA_DATA_MISSING: { errcode: 41005, errmsg: 'media data missing' },
  INVALID_PAGE: { errcode: 41030, errmsg: 'invalid page' },
  ACCESS_TOKEN_EXPIRED: { errcode: 42001, errmsg: 'access_token expired' },
  REQUIRE_GET_METHOD: { errcode: 43001, errmsg: 'require GET method' },
  REQUIRE_POST_METHOD: { errcode: 43002, errmsg: 'require POST method' },
  USER_REFUSED_MESSAGE: { errcode: 43101, errmsg: 'user refuse to accept the msg' },
  EMPTY_POST_DATA: { errcode: 44002, errmsg: 'empty post data' },
  CONTENT_SIZE_OUT_OF_LIMIT: { errcode: 45002, errmsg: 'content size out of limit' },
  DAILY_QUOTA_REACHED: { errcode: 45009, errmsg: 'reach max api daily quota limit' },
  MINUTE_QUOTA_REACHED: { errcode: 45011, errmsg: 'api minute-quota reach limit  mustslower  retry next time' },
  RESPONSE_OUT_OF_TIME_LIMIT: { errcode: 45015, errmsg: 'response out of time limit or subscription is canceled' },
  RESPONSE_COUNT_LIMIT: { errcode: 45047, errmsg: 'out of response count limit' },
  INVALID_TYPING_COMMAND: { errcode: 45072, errmsg: 'command invalid' },
  USER_NOT_INTERACTED: { errcode: 45080, errmsg: 'user has not interacted recently' },
  ALREADY_TYPING: { errcode: 45081, errmsg: 'user is already in typing state' },
  DATA_FORMAT_ERROR: { errcode: 47001, errmsg: 'data format error' },
  ARGUMENT_INVALID: { errcode: 47003, errmsg: 'argument invalid!' },
  RISKY_CONTENT: { errcode: 87014, errmsg: 'risky content' },
});

/** Injected errcodes reuse WeChat's wording when the code is one the emulator knows. */
const ERRORS_BY_CODE = new Map(Object.values(ERRORS).map((error) => [error.errcode, error]));

/** A WeChat error raised by a handler; the router turns it into a JSON reply. */
class WxError extends Error {
  constructor(error, hint) {
    const errmsg = hint === undefined ? error.errmsg : `${error.errmsg} hint: [${hint}]`;
    super(errmsg);
    this.errcode = error.errcode;
    this.errmsg = errmsg;
  }
}

function deepFreeze(object) {
  for (const value of Object.values(object)) if (value !== null && typeof value === 'object') deepFreeze(value);
  return Object.freeze(object);
}

module.exports = { ERRORS, ERRORS_BY_CODE, WxError, deepFreeze };
