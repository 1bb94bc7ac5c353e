/// <reference types="node" />

/**
 * wx-openapi-native: `wx-server-sdk`'s `cloud.openapi.customerServiceMessage.*`, usable from any
 * Node.js process. It calls WeChat's HTTPS API directly.
 *
 * The runtime module is CommonJS (`module.exports = cloud`), so these types use `export =`:
 * `const cloud = require('wx-openapi-native')`, `import cloud = require('wx-openapi-native')`,
 * `import * as cloud from 'wx-openapi-native'` and, under `esModuleInterop` or from ESM,
 * `import cloud, { init } from 'wx-openapi-native'` are all typed as the same object.
 */
declare namespace cloud {
  // ---------------------------------------------------------------- options

  /**
   * Options of {@link init} and {@link createNewInstance}. Each one falls back to an environment
   * variable (`WX_APPID`, `WX_APPSECRET`, `WX_ACCESS_TOKEN`, `WX_TOKENLESS`, `WX_API_BASE_URL`).
   * Credential precedence: `tokenless`, then `getAccessToken`, then `accessToken`, then `appid` + `secret`.
   * wx-server-sdk's own keys (`env`, `traceUser`, …) are accepted and ignored, so existing
   * `cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })` calls keep compiling.
   */
  export interface InitOptions {
    /** AppID; with `secret`, the addon fetches and caches access tokens itself. Env: `WX_APPID`. */
    appid?: string;
    /** AppSecret belonging to `appid`. Never logged or put in an error. Env: `WX_APPSECRET`. */
    secret?: string;
    /** A fixed access token, used as is and never refreshed. Env: `WX_ACCESS_TOKEN`. */
    accessToken?: string;
    /**
     * Your own token source (a central token service, Redis, …). Called with `{ forceRefresh: false }`
     * when a token is needed and once with `{ forceRefresh: true }` after WeChat rejects a token.
     * A plain string is used for that call only; `{ accessToken, expiresIn }` (seconds) is cached.
     */
    getAccessToken?: (args: { forceRefresh: boolean }) => AccessTokenSource | PromiseLike<AccessTokenSource>;
    /** Token endpoint: `'stable'` (default, `POST /cgi-bin/stable_token`) or `'classic'` (`GET /cgi-bin/token`). */
    tokenEndpoint?: 'stable' | 'classic';
    /**
     * WeChat Cloud Run "open API service": send no `access_token`, the platform authenticates.
     * The default base URL becomes `http://api.weixin.qq.com`. Default `false`; env `WX_TOKENLESS=1`.
     */
    tokenless?: boolean;
    /** Where requests go (a proxy, the emulator). Default `https://api.weixin.qq.com`; env `WX_API_BASE_URL`. */
    apiBaseUrl?: string;
    /** Milliseconds per HTTP attempt. Default `10000`. */
    timeout?: number;
    /** Extra attempts where a retry is safe (never a `send`/`setTyping` that may have arrived). Default `2`. */
    retries?: number;
    /** HTTP requests in flight per instance; further calls wait in FIFO order. Default `64`. */
    maxConcurrency?: number;
    /** wx-server-sdk's cloud environment; accepted and ignored. */
    env?: string | symbol | Record<string, string | symbol>;
    /** wx-server-sdk's user tracing switch; accepted and ignored. */
    traceUser?: boolean;
    /** Any other wx-server-sdk key is accepted and ignored. */
    [key: string]: unknown;
  }

  /** Per-call options of `cloud.openapi(options)`, as in wx-server-sdk. */
  export interface OpenApiOptions {
    /**
     * `true` (default): request keys are converted camelCase → snake_case and reply keys
     * snake_case → camelCase. `false`: both directions are off, so write WeChat's wire keys
     * (`media_id`, `thumb_url`, …) and read them back unconverted (`media_id`, `created_at`, …).
     */
    convertCase?: boolean;
  }

  // ---------------------------------------------------------------- params

  /** `customerServiceMessage.send` of a text message (`msgtype: 'text'`). */
  export interface TextMessage {
    /** The user's OpenID. */
    touser: string;
    msgtype: 'text';
    /** The text; may contain `<a data-miniprogram-appid data-miniprogram-path>` links. */
    text: { content: string };
    image?: never;
    link?: never;
    miniprogrampage?: never;
  }

  /** `customerServiceMessage.send` of an image (`msgtype: 'image'`), by the media ID from `uploadTempMedia`. */
  export interface ImageMessage {
    /** The user's OpenID. */
    touser: string;
    msgtype: 'image';
    /** `{ mediaId }`, or wx-server-sdk's also-accepted snake_case `{ media_id }` (not both). */
    image: { mediaId: string; media_id?: never } | { media_id: string; mediaId?: never };
    text?: never;
    link?: never;
    miniprogrampage?: never;
  }

  /** `customerServiceMessage.send` of a link card (`msgtype: 'link'`); one link per message. */
  export interface LinkMessage {
    /** The user's OpenID. */
    touser: string;
    msgtype: 'link';
    /** Title, description, target URL and picture URL (`thumbUrl`, or snake_case `thumb_url`). */
    link: {
      title: string;
      description: string;
      url: string;
    } & ({ thumbUrl: string; thumb_url?: never } | { thumb_url: string; thumbUrl?: never });
    text?: never;
    image?: never;
    miniprogrampage?: never;
  }

  /** `customerServiceMessage.send` of a mini program card (`msgtype: 'miniprogrampage'`). */
  export interface MiniProgramPageMessage {
    /** The user's OpenID. */
    touser: string;
    msgtype: 'miniprogrampage';
    /**
     * Title, page path (as in app.json, query allowed) and cover image media ID
     * (`thumbMediaId`, or snake_case `thumb_media_id`).
     */
    miniprogrampage: {
      title: string;
      pagepath: string;
    } & ({ thumbMediaId: string; thumb_media_id?: never } | { thumb_media_id: string; thumbMediaId?: never });
    text?: never;
    image?: never;
    link?: never;
  }

  /**
   * Params of `customerServiceMessage.send`: a union discriminated by `msgtype`, so the message
   * object must match it (`msgtype: 'text'` requires `text` and forbids `image`, `link`, `miniprogrampage`).
   */
  export type SendParams = TextMessage | ImageMessage | LinkMessage | MiniProgramPageMessage;

  /** Params of `customerServiceMessage.setTyping`: show or hide "typing…" to the user. */
  export interface SetTypingParams {
    /** The user's OpenID. */
    touser: string;
    /** `'Typing'` or `'CancelTyping'`, spelled exactly so. */
    command: 'Typing' | 'CancelTyping';
  }

  /** Params of `customerServiceMessage.uploadTempMedia`: a temporary image for image messages. */
  export interface UploadTempMediaParams {
    /** Only `'image'` is supported by this API. */
    type: 'image';
    media: {
      /** MIME type of `value`, e.g. `'image/png'`. */
      contentType: string;
      /** The file's bytes. */
      value: Buffer | Uint8Array;
      /** File name sent in the multipart part; optional. */
      fileName?: string;
    };
  }

  /** Params of `customerServiceMessage.getTempMedia`. */
  export interface GetTempMediaParams {
    /** A media ID, e.g. from `uploadTempMedia`. */
    mediaId: string;
  }

  // ---------------------------------------------------------------- results

  /**
   * What a successful call resolves to: WeChat's reply without `errcode`/`errmsg` (keys camelCased
   * unless `convertCase: false`), plus `errMsg: 'openapi.customerServiceMessage.<call>:ok'` and `errCode: 0`.
   * Failures reject with an {@link OpenApiError} instead.
   */
  export interface Result {
    errCode: 0;
    errMsg: string;
    [key: string]: unknown;
  }

  /**
   * Result of `uploadTempMedia`. With `convertCase: false` the reply keys stay snake_case
   * (`media_id`, `created_at`) and are reachable through the index signature.
   */
  export interface UploadTempMediaResult extends Result {
    /** The media type, `'image'`. */
    type: string;
    /** The media ID, valid for 3 days; use it as `image.mediaId` of `send`. */
    mediaId: string;
    /** Upload time, Unix seconds. */
    createdAt: number;
  }

  /** Result of `getTempMedia`: the file's bytes and MIME type. */
  export interface GetTempMediaResult {
    /** MIME type from WeChat's `Content-Type`. */
    contentType: string;
    /** The file's bytes. */
    buffer: Buffer;
    errMsg: string;
    errCode: 0;
  }

  /**
   * The rejection of every call: an `Error` whose `message` contains `errCode` and `errMsg`
   * (`'openapi.customerServiceMessage.<call>:fail <detail>'`). Never contains a token or secret.
   *
   * `errCode` is WeChat's `errcode` when WeChat answered with one (e.g. `-1` busy, `40001` invalid
   * token, `40003` invalid OpenID, `45015` reply window over, `45047` too many messages, `48001`
   * not authorised; a token endpoint's code such as `40013`/`40125`), or one of the addon's own:
   * `-401001` invalid argument (nothing sent), `-401002` no credentials configured,
   * `-601001` reply is not a valid WeChat reply, `-601003` network failure, `-604102` timeout.
   *
   * Types only: there is no runtime class; check `err instanceof Error && 'errCode' in err`.
   */
  export interface OpenApiError extends Error {
    errCode: number;
    errMsg: string;
  }

  // ---------------------------------------------------------------- API

  /** `cloud.openapi.customerServiceMessage`: the four customer-service calls. Every call returns a promise. */
  export interface CustomerServiceMessage {
    /**
     * Sends a customer-service message (`POST /cgi-bin/message/custom/send`). Not retried once it
     * may have reached WeChat, so a user never gets a message twice. Rejects with {@link OpenApiError}.
     */
    send(params: SendParams): Promise<Result>;
    /** Shows or cancels "typing…" for a user (`POST /cgi-bin/message/custom/typing`). Rejects with {@link OpenApiError}. */
    setTyping(params: SetTypingParams): Promise<Result>;
    /** Uploads a temporary image (`POST /cgi-bin/media/upload`, multipart). Rejects with {@link OpenApiError}. */
    uploadTempMedia(params: UploadTempMediaParams): Promise<UploadTempMediaResult>;
    /** Downloads a temporary media file (`GET /cgi-bin/media/get`). Rejects with {@link OpenApiError}. */
    getTempMedia(params: GetTempMediaParams): Promise<GetTempMediaResult>;
  }

  /**
   * `cloud.openapi`: an object holding `customerServiceMessage`, and also callable with per-call
   * options, as in wx-server-sdk: `cloud.openapi({ convertCase: false }).customerServiceMessage.send(…)`.
   */
  export interface OpenApi {
    (options?: OpenApiOptions): { readonly customerServiceMessage: CustomerServiceMessage };
    readonly customerServiceMessage: CustomerServiceMessage;
  }

  /** An instance (the module itself, or one from `createNewInstance`): its own options and token cache. */
  export interface Cloud {
    /** Configures this instance; may be called again to reconfigure. Throws on an invalid option. */
    init(options?: InitOptions): void;
    /** The OpenAPI namespace, object and function at once. */
    readonly openapi: OpenApi;
    /** Creates an independent instance with its own credentials, connection pool and token cache. */
    createNewInstance(options?: InitOptions): Cloud;
    /** wx-server-sdk's "current environment" symbol; accepted by `init({ env })` and ignored. */
    readonly DYNAMIC_CURRENT_ENV: typeof DYNAMIC_CURRENT_ENV;
    /** The package version. */
    readonly version: string;
  }

  // ---------------------------------------------------------------- the default instance

  /**
   * Configures the default instance; may be called again to reconfigure. A call made before
   * `init` uses the environment variables. Throws on an invalid option.
   */
  export function init(options?: InitOptions): void;
  /** The default instance's OpenAPI namespace: `openapi.customerServiceMessage.send(…)` or `openapi(options)…`. */
  export const openapi: OpenApi;
  /** Creates an independent instance with its own credentials, connection pool and token cache. */
  export function createNewInstance(options?: InitOptions): Cloud;
  /** wx-server-sdk's "current environment" symbol (`Symbol.for('DYNAMIC_CURRENT_ENV')`); accepted by `init({ env })` and ignored. */
  export const DYNAMIC_CURRENT_ENV: unique symbol;
  /** The package version, e.g. `'0.1.0'`. */
  export const version: string;
}

/** What `getAccessToken` may return: a token for this call only, or a token with its lifetime (seconds) to cache. */
type AccessTokenSource = string | { accessToken: string; expiresIn?: number };

/** The default instance. */
export = cloud;
