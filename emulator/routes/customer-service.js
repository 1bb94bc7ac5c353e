'use strict';

/**
 * customerServiceMessage: `send` and `setTyping` under the 48-hour service window and the
 * per-window message limit, and temporary media (`media/upload`, `media/get`).
 */

const { ERRORS, WxError } = require('../errors');
const { jsonReply, okReply, fileReply, requireJsonObject, isPlainObject } = require('../replies');
const { parseMultipart } = require('../multipart');

/** The message types of the seed and their required fields. */
const MESSAGE_TYPES = new Map([
  ['text', { required: ['content'] }],
  ['image', { required: ['media_id'], mediaField: 'media_id' }],
  ['link', { required: ['title', 'description', 'url', 'thumb_url'] }],
  ['miniprogrampage', { required: ['title', 'pagepath', 'thumb_media_id'], mediaField: 'thumb_media_id' }],
]);

const TYPING_COMMANDS = new Set(['Typing', 'CancelTyping']);

module.exports = function customerServiceRoutes({ users, media, messages }) {
  return [
    {
      method: 'POST',
      path: '/cgi-bin/message/custom/send',
      auth: true,
      handle({ body, json }) {
        const message = requireJsonObject(body, json);
        const type = MESSAGE_TYPES.get(message.msgtype);
        if (type === undefined) throw new WxError(ERRORS.INVALID_MESSAGE_TYPE);
        const content = message[message.msgtype];
        if (!isPlainObject(content)) throw new WxError(ERRORS.DATA_FORMAT_ERROR, `${message.msgtype} is required`);
        for (const field of type.required) {
          if (typeof content[field] !== 'string' || content[field] === '') {
            throw new WxError(ERRORS.DATA_FORMAT_ERROR, `${message.msgtype}.${field} must be a non-empty string`);
          }
        }
        if (type.mediaField !== undefined && media.get(content[type.mediaField]) === undefined) {
          throw new WxError(ERRORS.INVALID_MEDIA_ID);
        }
        users.checkOpenid(message.touser);
        users.deliver(message.touser);
        messages.push(message);
        return okReply();
      },
    },
    {
      method: 'POST',
      path: '/cgi-bin/message/custom/typing',
      auth: true,
      handle({ body, json }) {
        const { touser, command } = requireJsonObject(body, json);
        if (!TYPING_COMMANDS.has(command)) throw new WxError(ERRORS.INVALID_TYPING_COMMAND);
        users.checkOpenid(touser);
        users.setTyping(touser, command === 'Typing');
        return okReply();
      },
    },
    {
      // ?type=image, multipart field `media`
      method: 'POST',
      path: '/cgi-bin/media/upload',
      auth: true,
      handle({ query, headers, body }) {
        if (query.type !== 'image') throw new WxError(ERRORS.INVALID_MEDIA_TYPE);
        const parts = parseMultipart(body, headers['content-type']);
        // Like WeChat, only a file part counts: a plain form field named "media" carries no file.
        const file = parts.find((part) => part.name === 'media' && part.filename !== undefined && part.data.length > 0);
        if (file === undefined) throw new WxError(ERRORS.MEDIA_DATA_MISSING);
        const { mediaId, createdAt } = media.add({
          type: 'image',
          data: file.data,
          contentType: file.contentType ?? 'application/octet-stream',
          filename: file.filename,
        });
        // WeChat's upload reply has no errcode on success.
        return jsonReply({ type: 'image', media_id: mediaId, created_at: createdAt });
      },
    },
    {
      method: 'GET',
      path: '/cgi-bin/media/get',
      auth: true,
      handle({ query }) {
        const item = media.get(query.media_id);
        if (item === undefined) throw new WxError(ERRORS.INVALID_MEDIA_ID);
        return fileReply(item.data, item.contentType, item.filename);
      },
    },
  ];
};
