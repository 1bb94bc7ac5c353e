'use strict';

/**
 * subscribeMessage.send (`POST /cgi-bin/message/subscribe/send`) with WeChat's documented rules:
 * `touser`, `template_id` and `data` are required; a user gets a message only for a template they
 * accepted (`userSubscribed()`, one message per acceptance, else 43101); every `data` key is a
 * template keyword such as `thing1` whose `value` must fit its kind's documented limit (else 47003).
 */

const { ERRORS, WxError } = require('../errors');
const { okReply, requireJsonObject, isPlainObject } = require('../replies');

/** The keyword kinds of subscribe-message templates and what a value of each may hold (WeChat's table). */
const KEYWORD_KINDS = new Map([
  ['thing', { max: 20 }],
  ['number', { max: 32, pattern: /^[0-9.]+$/ }],
  ['letter', { max: 32, pattern: /^[A-Za-z]+$/ }],
  ['symbol', { max: 5 }],
  ['character_string', { max: 32, pattern: /^[\x21-\x7e]+$/ }],
  ['time', { max: 32, pattern: /\d{1,2}:\d{2}/ }],
  ['date', { max: 32, pattern: /\d{4}[-/年]\d{1,2}/ }],
  ['amount', { max: 32, pattern: /^[¥￥$]?\d+(\.\d+)?元?$/ }],
  ['phone_number', { max: 17, pattern: /^[0-9+\-() ]+$/ }],
  ['car_number', { max: 8 }],
  ['name', { max: 20 }],
  ['phrase', { max: 5 }],
]);
const KEYWORD = /^([a-z_]+?)(\d+)$/;
const MINIPROGRAM_STATES = new Set(['developer', 'trial', 'formal']);
const LANGUAGES = new Set(['zh_CN', 'en_US', 'zh_HK', 'zh_TW']);

module.exports = function subscribeMessageRoutes({ users, pages, subscribeMessages }) {
  return [
    {
      method: 'POST',
      path: '/cgi-bin/message/subscribe/send',
      auth: true,
      handle({ body, json }) {
        const message = requireJsonObject(body, json);
        const { touser, template_id: templateId, data, page, miniprogram_state: state, lang } = message;
        if (typeof templateId !== 'string' || templateId === '') throw new WxError(ERRORS.INVALID_TEMPLATE_ID);
        users.checkOpenid(touser);
        checkData(data);
        if (page !== undefined && (typeof page !== 'string' || !pages.has(page.split('?')[0]))) throw new WxError(ERRORS.INVALID_PAGE);
        if (state !== undefined && !MINIPROGRAM_STATES.has(state)) throw new WxError(ERRORS.ARGUMENT_INVALID, 'miniprogram_state');
        if (lang !== undefined && !LANGUAGES.has(lang)) throw new WxError(ERRORS.ARGUMENT_INVALID, 'lang');
        // Checked last, as WeChat does: a malformed message does not use up the user's acceptance.
        users.consumeSubscription(touser, templateId);
        subscribeMessages.push(message);
        return okReply();
      },
    },
  ];
};

/** 47003 unless every entry of `data` is `keyword: { value }` within its kind's limit. */
function checkData(data) {
  if (!isPlainObject(data) || Object.keys(data).length === 0) throw new WxError(ERRORS.ARGUMENT_INVALID, 'data is empty');
  for (const [key, entry] of Object.entries(data)) {
    const kind = KEYWORD_KINDS.get(KEYWORD.exec(key)?.[1]);
    if (kind === undefined) throw new WxError(ERRORS.ARGUMENT_INVALID, `data.${key} is not a template keyword`);
    const value = isPlainObject(entry) ? entry.value : undefined;
    if ((typeof value !== 'string' && typeof value !== 'number') || String(value) === '') {
      throw new WxError(ERRORS.ARGUMENT_INVALID, `data.${key}.value is empty`);
    }
    const text = String(value);
    // Limits count characters, not UTF-16 units or bytes.
    if ([...text].length > kind.max) throw new WxError(ERRORS.ARGUMENT_INVALID, `data.${key}.value exceeds ${kind.max} characters`);
    if (kind.pattern !== undefined && !kind.pattern.test(text)) throw new WxError(ERRORS.ARGUMENT_INVALID, `data.${key}.value invalid`);
  }
}
