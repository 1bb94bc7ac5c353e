/// <reference types="node" />

/**
 * A local emulator of the WeChat OpenAPI endpoints used by wx-openapi-native:
 * `GET /cgi-bin/token`, `POST /cgi-bin/stable_token`, `POST /cgi-bin/message/custom/send`,
 * `POST /cgi-bin/message/custom/typing`, `POST /cgi-bin/media/upload`, `GET /cgi-bin/media/get`
 * with WeChat's rules; `subscribeMessage.send`, `security.msgSecCheck` / `mediaCheckAsync` /
 * `imgSecCheck`, `wxacode.*` (real PNGs), `urlscheme.*` / `urllink.*` and
 * `phonenumber.getPhoneNumber` with their documented rules and codes; and every other route of the
 * call table (`crates/wx-openapi/apis.json`), answered `{ errcode: 0, errmsg: 'ok' }` (a PNG for a
 * binary route) once its method, token and files are right.
 *
 * Every time rule (token lifetime, 5-minute grace of a superseded token, force-refresh quotas,
 * the 48-hour service window, the 15-second typing state) runs on the emulator's own clock,
 * which `advanceTime()` moves forward.
 */

import type { EmulatorPush, EmulatorPushOptions } from './push';
export { createPusher } from './push';
export type { Pusher, PusherOptions, PushMessage, PushRecord, PushAttempt, EmulatorPush, EmulatorPushOptions } from './push';

/** Any value `JSON.parse` can return. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface EmulatorOptions {
  /** TCP port; `0` (the default) picks a free one. */
  port?: number;
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** The app's AppID. Default: generated, `'wx'` + 16 hex characters. */
  appid?: string;
  /** The app's AppSecret. Default: generated, 32 hex characters. */
  secret?: string;
  /** Lifetime of an issued access token, in seconds. Default `7200`. */
  tokenTtl?: number;
  /** When given, `touser` values outside this list get `40003 invalid openid`. */
  openids?: Iterable<string>;
  /** Messages allowed per user per service window; one more gets `45047`. `Infinity`: no limit. Default `5`. */
  messageLimit?: number;
  /**
   * Accept API calls that carry no `access_token`, as WeChat Cloud Run's open API service does.
   * A token that is present is still checked. Default `false`.
   */
  tokenless?: boolean;
  /**
   * Whether every user has a service window opened at emulator start. Default `true`.
   * With `false`, a user can only be messaged after `userMessaged(openid)`.
   */
  defaultWindow?: boolean;
  /**
   * The mini program's published pages (no leading `/`): `wxacode.getUnlimited`'s `page` (41030),
   * `urlscheme.generate`'s `jump_wxa.path` (40165) and `subscribeMessage.send`'s `page` (41030) must be one.
   * Default `['pages/index/index']`.
   */
  pages?: Iterable<string>;
  /**
   * Text that `security.msgSecCheck` finds risky (v1: `87014`; v2: `result.suggest: 'risky'`, label 20006).
   * Default: WeChat's documented example of risky text.
   */
  riskyWords?: Iterable<string>;
  /** Called once per request when it ends (answered, reset, or its connection closed). */
  onLog?: (entry: RequestLogEntry) => void;
  /** WeChat's message push: where `push()` sends users' messages, and how (emulator/push.d.ts). */
  push?: EmulatorPushOptions;
}

/** One part of a recorded multipart body. */
export interface RecordedPart {
  /** The form field name, e.g. `'media'` or `'img'`. */
  name: string | undefined;
  /** The file name; `undefined` for a plain form field. */
  filename: string | undefined;
  contentType: string | undefined;
  /** Bytes in the part. */
  size: number;
  /** The part's bytes (a plain field's text has credentials scrubbed). */
  data: Buffer;
}

/** A request as the emulator recorded it on arrival, with every credential replaced by `'[redacted]'`. */
export interface RecordedRequest {
  method: string;
  /** The URL's pathname, without the query. */
  path: string;
  /** Query parameters (first value of a repeated one); `access_token` and `secret` are `'[redacted]'`. */
  query: Record<string, string>;
  /** Request headers, lower-cased names; `authorization`, `proxy-authorization` and `cookie` are `'[redacted]'`. */
  headers: Record<string, string | string[] | undefined>;
  /** The `Content-Type` header as sent, if any. */
  contentType: string | undefined;
  /** The body parsed as JSON (a `secret` or `access_token` key is `'[redacted]'`); `undefined` if not JSON. */
  body: JsonValue | undefined;
  /** The body as text; for multipart uploads and oversized bodies, a short description such as `'<multipart/form-data body: 1234 bytes>'`. */
  rawBody: string;
  /** The parts of a multipart body; `undefined` for any other body. */
  parts: RecordedPart[] | undefined;
  /** Arrival time on the emulator clock, in milliseconds since the epoch. */
  at: number;
}

/** What `onLog` receives: one entry per request, once it has ended. */
export interface RequestLogEntry {
  method: string;
  path: string;
  /** As in `RecordedRequest.query`: credentials are `'[redacted]'`. */
  query: Record<string, string>;
  /** HTTP status sent; `null` when no response was sent. */
  status: number | null;
  /** The reply's `errcode` (`0` for a successful JSON reply); `undefined` for binary and injected raw replies. */
  errcode: number | undefined;
  /** Real (not emulated) time from arrival to end, in milliseconds. */
  durationMs: number;
  /** Whether an `inject()` rule was applied. */
  injected: boolean;
  /** `'reset'`: an injected connection reset; `'aborted'`: the connection closed before a reply was sent. */
  outcome: 'answered' | 'reset' | 'aborted';
}

/** A customer-service message as WeChat receives it (snake_case keys). */
export type WireMessage =
  | { touser: string; msgtype: 'text'; text: { content: string; [key: string]: JsonValue }; [key: string]: JsonValue }
  | { touser: string; msgtype: 'image'; image: { media_id: string; [key: string]: JsonValue }; [key: string]: JsonValue }
  | {
      touser: string;
      msgtype: 'link';
      link: { title: string; description: string; url: string; thumb_url: string; [key: string]: JsonValue };
      [key: string]: JsonValue;
    }
  | {
      touser: string;
      msgtype: 'miniprogrampage';
      miniprogrampage: { title: string; pagepath: string; thumb_media_id: string; [key: string]: JsonValue };
      [key: string]: JsonValue;
    };

interface InjectRuleBase {
  /** The pathname to match exactly, e.g. `'/cgi-bin/message/custom/send'`. */
  path: string;
  /** How many matching requests the rule applies to; `Infinity` for all. Default `1`. */
  times?: number;
  /**
   * Real milliseconds to wait before anything else (cleared by `close()`); `Infinity`: never answer.
   * With no other effect, the request is then handled normally.
   */
  delayMs?: number;
}

/** Destroy the connection without a response. */
export interface InjectResetRule extends InjectRuleBase {
  reset: true;
  errcode?: never;
  errmsg?: never;
  status?: never;
  body?: never;
  headers?: never;
}

/** Answer with a WeChat JSON error `{ errcode, errmsg }` (HTTP 200). */
export interface InjectErrorRule extends InjectRuleBase {
  errcode: number;
  /**
   * Sent verbatim. Default: WeChat's message for a known code (`'system error'` for `-1`),
   * else `'injected error'`, followed by a generated ` rid: <24 hex>`.
   */
  errmsg?: string;
  reset?: false;
  status?: never;
  body?: never;
  headers?: never;
}

/** Answer with this raw HTTP reply; or, with none of `status`/`body`/`headers`, only delay. */
export interface InjectRawRule extends InjectRuleBase {
  /** Default `200`. */
  status?: number;
  /** A string (sent as text/plain), bytes (application/octet-stream) or any other value (sent as JSON), unless `headers` sets the content type. */
  body?: string | Uint8Array | JsonValue;
  headers?: Record<string, string | string[]>;
  reset?: false;
  errcode?: never;
  errmsg?: never;
}

export type InjectRule = InjectResetRule | InjectErrorRule | InjectRawRule;

export interface InjectHandle {
  /** How many more requests the rule will apply to. */
  remaining(): number;
  /** Withdraws the rule. */
  cancel(): void;
}

export interface EmulatorStats {
  /** HTTP requests being handled now, including those held by an injected delay. */
  inFlight: number;
  /** The highest `inFlight` since start or the last `resetStats()`. */
  maxInFlight: number;
}

/** `push`, `verifyPush` and `pushes` (EmulatorPush) reject without the `push` option. */
export interface Emulator extends EmulatorPush {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  readonly appid: string;
  readonly secret: string;
  /** Bodies accepted by `/cgi-bin/message/custom/send`, as parsed JSON, in order. */
  readonly messages: WireMessage[];
  /** Bodies accepted by `/cgi-bin/message/subscribe/send` (snake_case, as WeChat receives them), in order. */
  readonly subscribeMessages: Array<{ touser: string; template_id: string; data: Record<string, { value: string | number }>; [key: string]: JsonValue }>;
  /** Every request, recorded on arrival (before any injected delay). */
  readonly requests: RecordedRequest[];
  /** Adds a fault rule; rules are tried in insertion order and the first with uses left is consumed. */
  inject(rule: InjectRule): InjectHandle;
  /** Makes every token issued so far expired (`42001`); the next stable_token call issues a new one. */
  expireTokens(): void;
  /** The user sent a message now: opens a new 48-hour service window and resets its message count. */
  userMessaged(openid: string): void;
  /**
   * Stores an image as if uploaded; returns its media_id: `mediaId` if given (replacing any media with that id),
   * else a generated one. Defaults: `contentType` `'application/octet-stream'`, `filename` `'media'`.
   */
  addMedia(data: Buffer | Uint8Array | string, contentType?: string, filename?: string, mediaId?: string): string;
  /**
   * The user accepted `count` (default 1) more subscribe messages of `templateId` (`wx.requestSubscribeMessage`);
   * `Infinity` for a long-term subscription. Each `subscribeMessage.send` uses one; without one it gets `43101`.
   */
  userSubscribed(openid: string, templateId: string, count?: number): void;
  /** Makes `security.msgSecCheck` find text containing `word` risky, with v2 `label` (default 20006). */
  addRiskyWord(word: string, label?: number): void;
  /** Publishes one more page of the mini program (see `EmulatorOptions.pages`). */
  addPage(page: string): void;
  /**
   * A code as the phone-number button hands it to the mini program: `phonenumber.getPhoneNumber({ code })`
   * answers this number once, within 5 minutes (emulator clock); any other code gets `40029`.
   * Defaults: `'13800138000'`, country code `'86'`.
   */
  phoneCode(phoneNumber?: string, countryCode?: string): string;
  /** Moves the emulator clock forward; returns the new `now()`. */
  advanceTime(ms: number): number;
  /** The emulator clock: `Date.now()` plus every `advanceTime()`. */
  now(): number;
  stats(): EmulatorStats;
  /** Resets `maxInFlight` to the current `inFlight`. */
  resetStats(): void;
  /** Resolves with `requests` once it holds at least `count` entries; rejects if the emulator closes first. */
  waitForRequests(count: number): Promise<RecordedRequest[]>;
  /** Stops listening, destroys every connection and pending timer; resolves when closed. Idempotent. */
  close(): Promise<void>;
}

export function startEmulator(options?: EmulatorOptions): Promise<Emulator>;

/** Every WeChat error the emulator sends, by name. */
/** Every token the emulator issues starts with this, so test output can be scanned for leaks. */
export declare const TOKEN_MARK: 'wxemuAT_';
/** Every default secret the emulator makes starts with this. */
export declare const SECRET_MARK: 'wxemuSK';

export declare const ERRORS: {
  readonly SYSTEM_ERROR: { readonly errcode: -1; readonly errmsg: 'system error' };
  readonly INVALID_CREDENTIAL: { readonly errcode: 40001; readonly errmsg: 'invalid credential, access_token is invalid or not latest' };
  readonly INVALID_GRANT_TYPE: { readonly errcode: 40002; readonly errmsg: 'invalid grant_type' };
  readonly INVALID_OPENID: { readonly errcode: 40003; readonly errmsg: 'invalid openid' };
  readonly INVALID_MEDIA_TYPE: { readonly errcode: 40004; readonly errmsg: 'invalid media type' };
  readonly INVALID_FILE_SIZE: { readonly errcode: 40006; readonly errmsg: 'invalid media size' };
  readonly INVALID_MEDIA_ID: { readonly errcode: 40007; readonly errmsg: 'invalid media_id' };
  readonly INVALID_MESSAGE_TYPE: { readonly errcode: 40008; readonly errmsg: 'invalid message type' };
  readonly INVALID_APPID: { readonly errcode: 40013; readonly errmsg: 'invalid appid' };
  readonly INVALID_CODE: { readonly errcode: 40029; readonly errmsg: 'invalid code' };
  readonly INVALID_TEMPLATE_ID: { readonly errcode: 40037; readonly errmsg: 'invalid template_id' };
  readonly INVALID_URL: { readonly errcode: 40066; readonly errmsg: 'invalid url' };
  readonly INVALID_ARGS: { readonly errcode: 40097; readonly errmsg: 'invalid args' };
  readonly INVALID_APPSECRET: { readonly errcode: 40125; readonly errmsg: 'invalid appsecret' };
  readonly INVALID_PATH_LENGTH: { readonly errcode: 40159; readonly errmsg: 'invalid length for path, or the data is not json string' };
  readonly INVALID_WEAPP_PAGEPATH: { readonly errcode: 40165; readonly errmsg: 'invalid weapp pagepath' };
  readonly INVALID_SCENE: { readonly errcode: 40169; readonly errmsg: 'invalid length for scene, or the data is not json string' };
  readonly INVALID_QUERY: { readonly errcode: 40212; readonly errmsg: 'invalid query' };
  readonly ACCESS_TOKEN_MISSING: { readonly errcode: 41001; readonly errmsg: 'access_token missing' };
  readonly APPID_MISSING: { readonly errcode: 41002; readonly errmsg: 'appid missing' };
  readonly APPSECRET_MISSING: { readonly errcode: 41004; readonly errmsg: 'appsecret missing' };
  readonly MEDIA_DATA_MISSING: { readonly errcode: 41005; readonly errmsg: 'media data missing' };
  readonly INVALID_PAGE: { readonly errcode: 41030; readonly errmsg: 'invalid page' };
  readonly ACCESS_TOKEN_EXPIRED: { readonly errcode: 42001; readonly errmsg: 'access_token expired' };
  readonly REQUIRE_GET_METHOD: { readonly errcode: 43001; readonly errmsg: 'require GET method' };
  readonly REQUIRE_POST_METHOD: { readonly errcode: 43002; readonly errmsg: 'require POST method' };
  readonly USER_REFUSED_MESSAGE: { readonly errcode: 43101; readonly errmsg: 'user refuse to accept the msg' };
  readonly EMPTY_POST_DATA: { readonly errcode: 44002; readonly errmsg: 'empty post data' };
  readonly CONTENT_SIZE_OUT_OF_LIMIT: { readonly errcode: 45002; readonly errmsg: 'content size out of limit' };
  readonly DAILY_QUOTA_REACHED: { readonly errcode: 45009; readonly errmsg: 'reach max api daily quota limit' };
  readonly MINUTE_QUOTA_REACHED: { readonly errcode: 45011; readonly errmsg: 'api minute-quota reach limit  mustslower  retry next time' };
  readonly RESPONSE_OUT_OF_TIME_LIMIT: { readonly errcode: 45015; readonly errmsg: 'response out of time limit or subscription is canceled' };
  readonly RESPONSE_COUNT_LIMIT: { readonly errcode: 45047; readonly errmsg: 'out of response count limit' };
  readonly INVALID_TYPING_COMMAND: { readonly errcode: 45072; readonly errmsg: 'command invalid' };
  readonly USER_NOT_INTERACTED: { readonly errcode: 45080; readonly errmsg: 'user has not interacted recently' };
  readonly ALREADY_TYPING: { readonly errcode: 45081; readonly errmsg: 'user is already in typing state' };
  readonly DATA_FORMAT_ERROR: { readonly errcode: 47001; readonly errmsg: 'data format error' };
  readonly ARGUMENT_INVALID: { readonly errcode: 47003; readonly errmsg: 'argument invalid!' };
  readonly RISKY_CONTENT: { readonly errcode: 87014; readonly errmsg: 'risky content' };
};
