'use strict';

/**
 * Content security: `msgSecCheck` (v1: 87014 on risky text; v2: `result.suggest`/`label` and a
 * `detail` per strategy), `mediaCheckAsync` (a `trace_id`; the verdict would come later by push)
 * and `imgSecCheck` (multipart field `media`, at most 1 MB). Text is risky when it contains a
 * word of the emulator's list (`riskyWords` option, `addRiskyWord()`).
 */

const crypto = require('node:crypto');
const { ERRORS, WxError } = require('../errors');
const { jsonReply, okReply, requireJsonObject } = require('../replies');
const { parseMultipart } = require('../multipart');

/** msgSecCheck v2's labels: 100 is "normal". */
const NORMAL = 100;
/** v2 scenes: 1 profile, 2 comment, 3 forum, 4 social log. */
const SCENES = new Set([1, 2, 3, 4]);
const IMG_SEC_CHECK_MAX_BYTES = 1024 * 1024;

module.exports = function securityRoutes({ riskyWords }) {
  /** The first risky word in any of the texts, with its label; undefined when all are clean. */
  const findRisk = (texts) => {
    for (const text of texts) {
      if (typeof text !== 'string') continue;
      for (const [word, label] of riskyWords) if (text.includes(word)) return { word, label };
    }
    return undefined;
  };
  const traceId = () => `${crypto.randomBytes(4).toString('hex')}-${crypto.randomBytes(4).toString('hex')}-${crypto.randomBytes(4).toString('hex')}`;

  return [
    {
      method: 'POST',
      path: '/wxa/msg_sec_check',
      auth: true,
      handle({ body, json }) {
        const params = requireJsonObject(body, json);
        const { content, version, scene, openid, title, nickname, signature } = params;
        if (typeof content !== 'string' || content === '') throw new WxError(ERRORS.ARGUMENT_INVALID, 'content is empty');
        if (version === undefined || version === 1) {
          if (findRisk([content]) !== undefined) throw new WxError(ERRORS.RISKY_CONTENT);
          return okReply();
        }
        if (version !== 2) throw new WxError(ERRORS.INVALID_ARGS, 'version');
        if (!SCENES.has(scene)) throw new WxError(ERRORS.INVALID_ARGS, 'scene');
        if (typeof openid !== 'string' || openid === '') throw new WxError(ERRORS.INVALID_OPENID);
        const risk = findRisk([content, title, nickname, signature]);
        const suggest = risk === undefined ? 'pass' : 'risky';
        const label = risk === undefined ? NORMAL : risk.label;
        return jsonReply({
          errcode: 0,
          errmsg: 'ok',
          result: { suggest, label },
          detail: [
            { strategy: 'content_model', errcode: 0, suggest, label, prob: risk === undefined ? 0 : 90 },
            { strategy: 'keyword', errcode: 0, suggest, label, level: risk === undefined ? 0 : 20, ...(risk && { keyword: risk.word }) },
          ],
          trace_id: traceId(),
        });
      },
    },
    {
      method: 'POST',
      path: '/wxa/media_check_async',
      auth: true,
      handle({ body, json }) {
        const { media_url: mediaUrl, media_type: mediaType, version, scene, openid } = requireJsonObject(body, json);
        if (typeof mediaUrl !== 'string' || !/^https?:\/\//.test(mediaUrl)) throw new WxError(ERRORS.INVALID_ARGS, 'media_url');
        if (mediaType !== 1 && mediaType !== 2) throw new WxError(ERRORS.INVALID_ARGS, 'media_type');
        if (version === 2) {
          if (!SCENES.has(scene)) throw new WxError(ERRORS.INVALID_ARGS, 'scene');
          if (typeof openid !== 'string' || openid === '') throw new WxError(ERRORS.INVALID_OPENID);
        }
        return jsonReply({ errcode: 0, errmsg: 'ok', trace_id: traceId() });
      },
    },
    {
      method: 'POST',
      path: '/wxa/img_sec_check',
      auth: true,
      handle({ headers, body }) {
        const file = parseMultipart(body, headers['content-type']).find((part) => part.name === 'media' && part.filename !== undefined);
        if (file === undefined || file.data.length === 0) throw new WxError(ERRORS.MEDIA_DATA_MISSING);
        if (file.data.length > IMG_SEC_CHECK_MAX_BYTES) throw new WxError(ERRORS.INVALID_FILE_SIZE);
        return okReply();
      },
    },
  ];
};
