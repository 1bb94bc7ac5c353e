/// <reference types="node" />

/**
 * wx-openapi-native: `wx-server-sdk`'s `cloud.openapi`, every cloud-callable WeChat API (API.md),
 * usable from any Node.js process. It calls WeChat's HTTPS API directly.
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
    /**
     * Routes the package does not know yet, by the name you will call them with:
     * `{ 'foo.bar': { method: 'POST', path: '/wxa/foo' } }`, then `cloud.openapi.foo.bar(params)`
     * (type it with `cloud.openapi as cloud.OpenApiWith<{ foo: { bar: cloud.OpenApiCall } }>`).
     * A route here wins over the built-in one of the same name. Checked when the instance is made.
     */
    apis?: Record<string, UserRoute>;
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

  /** A route of the `apis` option. */
  export interface UserRoute {
    method: 'GET' | 'POST';
    /** A path such as `'/wxa/foo'`, without a query string. */
    path: string;
    /** Where the params go. Default: `'query'` for GET, `'json'` for POST. */
    params?: 'json' | 'query' | 'json+query' | 'multipart' | 'multipart|query';
    /** `'binary'`: the reply is a file on success. Default `'json'`. */
    reply?: 'json' | 'binary';
    /** `'read'`: may be retried after it may have reached WeChat. Default `'write'`: at most once. */
    retry?: 'read' | 'write';
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
   * unless `convertCase: false`), plus `errMsg: 'openapi.<name>:ok'` (the name the caller used) and `errCode: 0`.
   * Failures reject with an {@link OpenApiError} instead.
   */
  export interface Result {
    errCode: 0;
    errMsg: string;
    [key: string]: unknown;
  }

  /** The result of any call: {@link Result}. */
  export type OpenApiResult = Result;

  /** A call of the table without a precise type of its own: any params, WeChat's reply as it comes. */
  export type OpenApiCall = (params?: Record<string, unknown>) => Promise<OpenApiResult>;

  /**
   * A file param: sent as a multipart part named after the param's key (`media`, `img`), with
   * `fileName` or `media.<extension of contentType>` as its file name.
   */
  export interface FileParam {
    /** MIME type of `value`, e.g. `'image/png'`. */
    contentType: string;
    /** The file's bytes. */
    value: Buffer | Uint8Array;
    fileName?: string;
  }

  /**
   * The result of a call whose reply is a file (`wxacode.*`, `getTempMedia`, `operation.getFeedbackmedia`):
   * its bytes and MIME type. A JSON error reply rejects instead.
   */
  export interface BinaryResult {
    /** MIME type from WeChat's `Content-Type`, e.g. `'image/jpeg'`. */
    contentType: string;
    buffer: Buffer;
    errMsg: string;
    errCode: 0;
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

  // ---------------------------------------------------------------- precise types of the most used calls

  /** `subscribeMessage.send`: a subscribe message the user accepted with `wx.requestSubscribeMessage`. */
  export interface SubscribeMessageSendParams {
    /** The user's OpenID. */
    touser: string;
    /** The template ID (from the mini program's admin console or `subscribeMessage.addTemplate`). */
    templateId: string;
    /** The page the card opens, e.g. `'pages/index/index?id=42'`. */
    page?: string;
    /** The template's keywords and their values, e.g. `{ thing1: { value: '已发货' }, time2: { value: '2025-01-01 12:00' } }`. */
    data: Record<string, { value: string | number }>;
    /** Which version of the mini program the card opens. Default `'formal'`. */
    miniprogramState?: 'developer' | 'trial' | 'formal';
    lang?: 'zh_CN' | 'en_US' | 'zh_HK' | 'zh_TW';
  }

  /** `security.msgSecCheck` version 1 (the default): rejects with `87014` when the text is risky. */
  export interface MsgSecCheckV1Params {
    content: string;
    version?: 1;
  }

  /** `security.msgSecCheck` version 2: resolves a verdict in `result`. */
  export interface MsgSecCheckV2Params {
    content: string;
    version: 2;
    /** 1 profile, 2 comment, 3 forum, 4 social log. */
    scene: 1 | 2 | 3 | 4;
    /** The user's OpenID (who must have opened the mini program in the last 2 hours). */
    openid: string;
    title?: string;
    nickname?: string;
    signature?: string;
  }

  /** A content-security verdict: `label` 100 is normal, 10001 ad, 20001 politics, 20002 porn, 20003 abuse, 20006 crime, 20008 fraud, 20012 vulgar, 20013 copyright, 21000 other. */
  export interface SecurityVerdict {
    suggest: 'pass' | 'review' | 'risky';
    label: number;
  }

  /** Result of `security.msgSecCheck` version 2. */
  export interface MsgSecCheckV2Result extends Result {
    result: SecurityVerdict;
    /** One entry per strategy (`'content_model'`, `'keyword'`, …). */
    detail: Array<SecurityVerdict & { strategy: string; errcode: number; prob?: number; level?: number; keyword?: string }>;
    traceId: string;
  }

  /** `security.msgSecCheck`: the result's shape follows the `version` param. */
  export interface MsgSecCheck {
    (params: MsgSecCheckV2Params): Promise<MsgSecCheckV2Result>;
    (params: MsgSecCheckV1Params): Promise<Result>;
  }

  /** `security.mediaCheckAsync`: the verdict arrives later, pushed to the mini program's message endpoint. */
  export interface MediaCheckAsyncParams {
    mediaUrl: string;
    /** 1 audio, 2 image. */
    mediaType: 1 | 2;
    version?: 2;
    scene?: 1 | 2 | 3 | 4;
    openid?: string;
  }

  export interface MediaCheckAsyncResult extends Result {
    /** Matches the `trace_id` of the pushed verdict. */
    traceId: string;
  }

  /** `security.imgSecCheck`: an image of at most 1 MB (refused locally with `-401001` above). */
  export interface ImgSecCheckParams {
    media: FileParam;
  }

  /** The `{ r, g, b }` line colour of a mini-program code. */
  export interface WxacodeColor {
    r: number | string;
    g: number | string;
    b: number | string;
  }

  interface WxacodeLook {
    /** Pixels, 280 to 1280. Default 430. */
    width?: number;
    autoColor?: boolean;
    lineColor?: WxacodeColor;
    /** Transparent background. */
    isHyaline?: boolean;
  }

  /** `wxacode.get`: a code for a path (with query), at most 1024 characters; counts against the 100,000-code limit. */
  export interface WxacodeGetParams extends WxacodeLook {
    path: string;
    envVersion?: 'release' | 'trial' | 'develop';
  }

  /** `wxacode.getUnlimited`: a code carrying `scene` (at most 32 characters) for a page, unlimited in number. */
  export interface WxacodeGetUnlimitedParams extends WxacodeLook {
    scene: string;
    /** A published page without a leading `/`, e.g. `'pages/index/index'`. Default: the home page. */
    page?: string;
    /** `false`: do not check that `page` exists (for a page not yet published). Default `true`. */
    checkPath?: boolean;
    envVersion?: 'release' | 'trial' | 'develop';
  }

  /** `wxacode.createQRCode`: a square QR code for a path (at most 128 characters). */
  export interface WxacodeCreateQRCodeParams {
    path: string;
    width?: number;
  }

  /** Expiry of a URL scheme or link: at most 30 days. */
  interface Expiry {
    isExpire?: boolean;
    /** 0: at `expireTime`; 1: after `expireInterval` days. */
    expireType?: 0 | 1;
    /** Unix seconds. */
    expireTime?: number;
    /** Days, 1 to 30. */
    expireInterval?: number;
  }

  /** `urlscheme.generate`. */
  export interface UrlschemeGenerateParams extends Expiry {
    jumpWxa?: {
      /** A published page; empty: the home page. */
      path?: string;
      query?: string;
      envVersion?: 'release' | 'trial' | 'develop';
    };
  }

  export interface UrlschemeGenerateResult extends Result {
    /** `weixin://dl/business/?t=…` */
    openlink: string;
  }

  /** `urllink.generate`. */
  export interface UrllinkGenerateParams extends Expiry {
    path?: string;
    query?: string;
    envVersion?: 'release' | 'trial' | 'develop';
    cloudBase?: { env: string; domain?: string; path?: string; query?: string; resourceAppid?: string };
  }

  export interface UrllinkGenerateResult extends Result {
    /** `https://wxaurl.cn/…` */
    urlLink: string;
  }

  /** `phonenumber.getPhoneNumber`: the code the phone-number button gave the mini program (valid once, 5 minutes). */
  export interface GetPhoneNumberParams {
    code: string;
  }

  export interface GetPhoneNumberResult extends Result {
    phoneInfo: {
      /** With the country code when it is not 86. */
      phoneNumber: string;
      purePhoneNumber: string;
      countryCode: string;
      watermark: { timestamp: number; appid: string };
    };
  }

  /** `uniformMessage.send`: an official-account template message to a mini-program user. */
  export interface UniformMessageSendParams {
    touser: string;
    mpTemplateMsg: {
      /** The official account's AppID. */
      appid: string;
      templateId: string;
      url?: string;
      miniprogram?: { appid: string; pagepath?: string };
      data: Record<string, { value: string; color?: string }>;
    };
    /** Retired by WeChat (45103); kept for old code. */
    weappTemplateMsg?: Record<string, unknown>;
  }

  /** `ocr.idcard`: an image (at most 2 MB), or its URL. */
  export type OcrIdcardParams =
    | { img: FileParam; imgUrl?: never; type?: 'photo' | 'scan' }
    | { imgUrl: string; img?: never; type?: 'photo' | 'scan' };

  export interface OcrIdcardResult extends Result {
    /** Which side the image shows. */
    type: 'Front' | 'Back';
    name?: string;
    id?: string;
    addr?: string;
    gender?: string;
    nationality?: string;
    /** Back side: the validity period, e.g. `'20070105-20270105'`. */
    validDate?: string;
  }

  /** `cloudbase.sendSms`: an SMS with a mini-program link, from the cloud environment `env`. */
  export interface CloudbaseSendSmsParams {
    env: string;
    /** Numbers with country code, e.g. `'+8613800138000'`; at most 1000. */
    phoneNumberList: string[];
    content?: string;
    path?: string;
    templateId?: string;
    templateParamList?: string[];
    smsType?: 'Notification' | 'Marketing';
    useShortName?: boolean;
    resourceAppid?: string;
  }

  export interface CloudbaseSendSmsResult extends Result {
    sendStatusList: Array<{ serialNo: string; phoneNumber: string; code: string; message: string; isoCode: string }>;
  }

  /**
   * The rejection of every call: an `Error` whose `message` contains `errCode` and `errMsg`
   * (`'openapi.customerServiceMessage.<call>:fail <detail>'`). Never contains a token or secret.
   *
   * `errCode` is WeChat's `errcode` when WeChat answered with one (e.g. `-1` busy, `40001` invalid
   * token, `40003` invalid OpenID, `45015` reply window over, `45047` too many messages, `48001`
   * not authorised; a token endpoint's code such as `40013`/`40125`), or one of the addon's own:
   * `-401001` invalid argument (nothing sent), `-401002` no credentials configured,
   * `-601001` reply is not a valid WeChat reply, `-601003` network failure, `-604100` the API name
   * is not known (nothing sent), `-604102` timeout.
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
   * Every namespace of `cloud.openapi` and its calls, one per name of the call table (API.md).
   * Names the table does not have are compile errors; routes of the `apis` option are typed with
   * {@link OpenApiWith}.
   */
  export interface OpenApiNamespaces {
    readonly analysis: {
      /** POST `/datacube/getweanalysisappiddailyretaininfo`. */
      readonly getDailyRetain: OpenApiCall;
      /** POST `/datacube/getweanalysisappiddailysummarytrend`. */
      readonly getDailySummary: OpenApiCall;
      /** POST `/datacube/getweanalysisappiddailyvisittrend`. */
      readonly getDailyVisitTrend: OpenApiCall;
      /** POST `/datacube/getweanalysisappidmonthlyretaininfo`. */
      readonly getMonthlyRetain: OpenApiCall;
      /** POST `/datacube/getweanalysisappidmonthlyvisittrend`. */
      readonly getMonthlyVisitTrend: OpenApiCall;
      /** POST `/wxa/business/performance/boot`. */
      readonly getPerformanceData: OpenApiCall;
      /** POST `/datacube/getweanalysisappiduserportrait`. */
      readonly getUserPortrait: OpenApiCall;
      /** POST `/datacube/getweanalysisappidvisitdistribution`. */
      readonly getVisitDistribution: OpenApiCall;
      /** POST `/datacube/getweanalysisappidvisitpage`. */
      readonly getVisitPage: OpenApiCall;
      /** POST `/datacube/getweanalysisappidweeklyretaininfo`. */
      readonly getWeeklyRetain: OpenApiCall;
      /** POST `/datacube/getweanalysisappidweeklyvisittrend`. */
      readonly getWeeklyVisitTrend: OpenApiCall;
    };
    readonly auth: {
      /** GET `/wxa/getpaidunionid`. */
      readonly getPaidUnionId: OpenApiCall;
    };
    readonly chattoolmsg: {
      /** POST `/cgi-bin/message/wxopen/chattoolmsg/send`. */
      readonly send: OpenApiCall;
    };
    readonly cloudbase: {
      /** POST `/tcb/adddelayedfunctiontask`. */
      readonly addDelayedFunctionTask: OpenApiCall;
      /** POST `/tcb/createsendsmstask`. */
      readonly createSendSmsTask: OpenApiCall;
      /** POST `/tcb/describeextensionuploadinfo`. */
      readonly describeExtensionUploadInfo: OpenApiCall;
      /** POST `/tcb/describesmsrecords`. */
      readonly describeSmsRecords: OpenApiCall;
      /** POST `/wxa/getopendata`. */
      readonly getOpenData: OpenApiCall;
      /** POST `/tcb/getstatistics`. */
      readonly getStatistics: OpenApiCall;
      /** POST `/wxa/getvoipsign`. */
      readonly getVoIPSign: OpenApiCall;
      /** POST `/tcb/cloudbasereport`. */
      readonly report: OpenApiCall;
      /** POST `/tcb/sendsms`. */
      readonly sendSms: (params: CloudbaseSendSmsParams) => Promise<CloudbaseSendSmsResult>;
      /** POST `/tcb/sendsmsv2`. */
      readonly sendSmsV2: OpenApiCall;
    };
    /** The four customer-service calls. */
    readonly customerServiceMessage: CustomerServiceMessage;
    readonly device: {
      /** POST `/wxa/getsnticket`. */
      readonly getSnTicket: OpenApiCall;
    };
    readonly img: {
      /** POST `/cv/img/aicrop`. */
      readonly aiCrop: OpenApiCall;
      /** POST `/cv/img/qrcode`. */
      readonly scanQRCode: OpenApiCall;
      /** POST `/cv/img/superresolution`. */
      readonly superresolution: OpenApiCall;
    };
    readonly liveBroadcast: {
      /** POST `/wxaapi/broadcast/room/addassistant`. */
      readonly addAssistant: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/addgoods`. */
      readonly addGoods: OpenApiCall;
      /** POST `/wxaapi/broadcast/role/addrole`. */
      readonly addRole: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/addsubanchor`. */
      readonly addSubAnchor: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/create`. */
      readonly createRoom: OpenApiCall;
      /** POST `/wxaapi/broadcast/role/deleterole`. */
      readonly deleteRole: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/deleteroom`. */
      readonly deleteRoom: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/deletesubanchor`. */
      readonly deleteSubAnchor: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/editroom`. */
      readonly editRoom: OpenApiCall;
      /** GET `/wxaapi/broadcast/room/getassistantlist`. */
      readonly getAssistantList: OpenApiCall;
      /** POST `/wxa/business/get_wxa_followers`. */
      readonly getFollowers: OpenApiCall;
      /** POST `/wxa/business/getliveinfo`. */
      readonly getLiveInfo: OpenApiCall;
      /** GET `/wxaapi/broadcast/room/getpushurl`. */
      readonly getPushUrl: OpenApiCall;
      /** GET `/wxaapi/broadcast/role/getrolelist`. */
      readonly getRoleList: OpenApiCall;
      /** GET `/wxaapi/broadcast/room/getsharedcode`. */
      readonly getSharedCode: OpenApiCall;
      /** GET `/wxaapi/broadcast/room/getsubanchor`. */
      readonly getSubAnchor: OpenApiCall;
      /** POST `/wxaapi/broadcast/goods/add`. */
      readonly goodsAdd: OpenApiCall;
      /** POST `/wxaapi/broadcast/goods/audit`. */
      readonly goodsAudit: OpenApiCall;
      /** POST `/wxaapi/broadcast/goods/deleteInRoom`. */
      readonly goodsDelete: OpenApiCall;
      /** POST `/wxa/business/getgoodswarehouse`. */
      readonly goodsInfo: OpenApiCall;
      /** GET `/wxaapi/broadcast/goods/getapproved`. */
      readonly goodsList: OpenApiCall;
      /** POST `/wxaapi/broadcast/goods/push`. */
      readonly goodsPush: OpenApiCall;
      /** POST `/wxaapi/broadcast/goods/resetaudit`. */
      readonly goodsResetAudit: OpenApiCall;
      /** POST `/wxaapi/broadcast/goods/onsale`. */
      readonly goodsSale: OpenApiCall;
      /** POST `/wxaapi/broadcast/goods/sort`. */
      readonly goodsSort: OpenApiCall;
      /** POST `/wxaapi/broadcast/goods/update`. */
      readonly goodsUpdate: OpenApiCall;
      /** POST `/wxaapi/broadcast/goods/getVideo`. */
      readonly goodsVideo: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/modifyassistant`. */
      readonly modifyAssistant: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/modifysubanchor`. */
      readonly modifySubAnchor: OpenApiCall;
      /** POST `/wxa/business/push_message`. */
      readonly pushMessage: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/removeassistant`. */
      readonly removeAssistant: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/updatecomment`. */
      readonly updateComment: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/updatefeedpublic`. */
      readonly updateFeedPublic: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/updatekf`. */
      readonly updateKF: OpenApiCall;
      /** POST `/wxaapi/broadcast/room/updatereplay`. */
      readonly updateReplay: OpenApiCall;
    };
    readonly logistics: {
      /** POST `/cgi-bin/express/business/order/add`. */
      readonly addOrder: OpenApiCall;
      /** POST `/cgi-bin/express/business/order/batchget`. */
      readonly batchGetOrder: OpenApiCall;
      /** POST `/cgi-bin/express/business/account/bind`. */
      readonly bindAccount: OpenApiCall;
      /** POST `/cgi-bin/express/business/order/cancel`. */
      readonly cancelOrder: OpenApiCall;
      /** GET `/cgi-bin/express/business/account/getall`. */
      readonly getAllAccount: OpenApiCall;
      /** GET `/cgi-bin/express/business/delivery/getall`. */
      readonly getAllDelivery: OpenApiCall;
      /** POST `/cgi-bin/express/delivery/contact/get`. */
      readonly getContact: OpenApiCall;
      /** POST `/cgi-bin/express/business/order/get`. */
      readonly getOrder: OpenApiCall;
      /** POST `/cgi-bin/express/business/path/get`. */
      readonly getPath: OpenApiCall;
      /** GET `/cgi-bin/express/business/printer/getall`. */
      readonly getPrinter: OpenApiCall;
      /** POST `/cgi-bin/express/business/quota/get`. */
      readonly getQuota: OpenApiCall;
      /** POST `/cgi-bin/express/delivery/template/preview`. */
      readonly previewTemplate: OpenApiCall;
      /** POST `/cgi-bin/express/delivery/service/business/update`. */
      readonly updateBusiness: OpenApiCall;
      /** POST `/cgi-bin/express/delivery/path/update`. */
      readonly updatePath: OpenApiCall;
      /** POST `/cgi-bin/express/business/printer/update`. */
      readonly updatePrinter: OpenApiCall;
    };
    readonly midas: {
      /** POST `/cgi-bin/midas/cancelpay`. */
      readonly cancelPay: OpenApiCall;
      /** POST `/cgi-bin/midas/sandbox/cancelpay`. */
      readonly cancelPaySandbox: OpenApiCall;
      /** POST `/cgi-bin/midas/getbalance`. */
      readonly getBalance: OpenApiCall;
      /** POST `/cgi-bin/midas/sandbox/getbalance`. */
      readonly getBalanceSandbox: OpenApiCall;
      /** POST `/cgi-bin/midas/pay`. */
      readonly pay: OpenApiCall;
      /** POST `/cgi-bin/midas/sandbox/pay`. */
      readonly paySandbox: OpenApiCall;
      /** POST `/cgi-bin/midas/present`. */
      readonly present: OpenApiCall;
      /** POST `/cgi-bin/midas/sandbox/present`. */
      readonly presentSandbox: OpenApiCall;
    };
    readonly nearbyPoi: {
      /** POST `/wxa/addnearbypoi`. */
      readonly add: OpenApiCall;
      /** POST `/wxa/delnearbypoi`. */
      readonly delete: OpenApiCall;
      /** POST `/wxa/getnearbypoilist`. */
      readonly getList: OpenApiCall;
      /** POST `/wxa/setnearbypoishowstatus`. */
      readonly setShowStatus: OpenApiCall;
    };
    readonly ocr: {
      /** POST `/cv/ocr/bankcard`. */
      readonly bankcard: OpenApiCall;
      /** POST `/cv/ocr/bizlicense`. */
      readonly businessLicense: OpenApiCall;
      /** POST `/cv/ocr/drivinglicense`. */
      readonly driverLicense: OpenApiCall;
      /** POST `/cv/ocr/driving`. */
      readonly drivingLicense: OpenApiCall;
      /** POST `/cv/ocr/idcard`. */
      readonly idcard: (params: OcrIdcardParams) => Promise<OcrIdcardResult>;
      /** POST `/cv/ocr/comm`. */
      readonly printedText: OpenApiCall;
      /** alias of `ocr.drivingLicense`: POST `/cv/ocr/driving`. */
      readonly vehicleLicense: OpenApiCall;
    };
    readonly officialAccount: {
      readonly media: {
        /** alias of `customerServiceMessage.getTempMedia`: GET `/cgi-bin/media/get`, binary reply. */
        readonly get: (params: GetTempMediaParams) => Promise<GetTempMediaResult>;
        /** alias of `customerServiceMessage.uploadTempMedia`: POST `/cgi-bin/media/upload`. */
        readonly upload: (params: UploadTempMediaParams) => Promise<UploadTempMediaResult>;
      };
      readonly newtmpl: {
        /** alias of `subscribeMessage.addTemplate`: POST `/wxaapi/newtmpl/addtemplate`. */
        readonly addTemplate: OpenApiCall;
        /** alias of `subscribeMessage.deleteTemplate`: POST `/wxaapi/newtmpl/deltemplate`. */
        readonly delTemplate: OpenApiCall;
        /** alias of `subscribeMessage.getCategory`: GET `/wxaapi/newtmpl/getcategory`. */
        readonly getCategory: OpenApiCall;
        /** alias of `subscribeMessage.getPubTemplateKeyWordsById`: GET `/wxaapi/newtmpl/getpubtemplatekeywords`. */
        readonly getPubTemplateKeywords: OpenApiCall;
        /** alias of `subscribeMessage.getPubTemplateTitleList`: GET `/wxaapi/newtmpl/getpubtemplatetitles`. */
        readonly getPubTemplateTitles: OpenApiCall;
        /** alias of `subscribeMessage.getTemplateList`: GET `/wxaapi/newtmpl/gettemplate`. */
        readonly getTemplate: OpenApiCall;
      };
    };
    readonly operation: {
      /** POST `/wxa/getwxadevinfo`. */
      readonly getDomainInfo: OpenApiCall;
      /** GET `/wxaapi/feedback/list`. */
      readonly getFeedback: OpenApiCall;
      /** GET `/cgi-bin/media/getfeedbackmedia`, binary reply. */
      readonly getFeedbackmedia: (params?: Record<string, unknown>) => Promise<BinaryResult>;
      /** GET `/wxa/getgrayreleaseplan`. */
      readonly getGrayReleasePlan: OpenApiCall;
      /** POST `/wxaapi/log/jserr_detail`. */
      readonly getJsErrDetail: OpenApiCall;
      /** POST `/wxaapi/log/jserr_list`. */
      readonly getJsErrList: OpenApiCall;
      /** POST `/wxaapi/log/get_performance`. */
      readonly getPerformance: OpenApiCall;
      /** GET `/wxaapi/log/get_scene`. */
      readonly getSceneList: OpenApiCall;
      /** GET `/wxaapi/log/get_client_version`. */
      readonly getVersionList: OpenApiCall;
      /** GET `/wxaapi/userlog/userlog_search`. */
      readonly realtimelogSearch: OpenApiCall;
    };
    readonly phonenumber: {
      /** POST `/wxa/business/getuserphonenumber`. */
      readonly getPhoneNumber: (params: GetPhoneNumberParams) => Promise<GetPhoneNumberResult>;
    };
    readonly pluginManager: {
      /** POST `/wxa/plugin`. */
      readonly applyPlugin: OpenApiCall;
      /** POST `/wxa/devplugin`. */
      readonly getPluginDevApplyList: OpenApiCall;
      /** POST `/wxa/plugin`. */
      readonly getPluginList: OpenApiCall;
      /** POST `/wxa/devplugin`. */
      readonly setDevPluginApplyStatus: OpenApiCall;
      /** POST `/wxa/plugin`. */
      readonly unbindPlugin: OpenApiCall;
    };
    readonly redpacketcover: {
      /** POST `/redpacketcover/wxapp/cover_url/get_by_token`. */
      readonly getAuthenticationUrl: OpenApiCall;
    };
    readonly riskControl: {
      /** POST `/wxa/getuserriskrank`. */
      readonly getUserRiskRank: OpenApiCall;
    };
    readonly search: {
      /** POST `/wxa/imagesearch`. */
      readonly imageSearch: OpenApiCall;
      /** POST `/wxa/sitesearch`. */
      readonly siteSearch: OpenApiCall;
      /** POST `/wxa/search/wxaapi_submitpages`. */
      readonly submitPages: OpenApiCall;
    };
    readonly security: {
      /** POST `/wxa/img_sec_check`. */
      readonly imgSecCheck: (params: ImgSecCheckParams) => Promise<Result>;
      /** POST `/wxa/media_check_async`. */
      readonly mediaCheckAsync: (params: MediaCheckAsyncParams) => Promise<MediaCheckAsyncResult>;
      /** POST `/wxa/msg_sec_check`. */
      readonly msgSecCheck: MsgSecCheck;
    };
    readonly serviceMarket: {
      /** POST `/wxa/servicemarket`. */
      readonly invokeService: OpenApiCall;
    };
    readonly shortlink: {
      /** POST `/wxa/genwxashortlink`. */
      readonly generate: OpenApiCall;
    };
    readonly soter: {
      /** POST `/cgi-bin/soter/verify_signature`. */
      readonly verifySignature: OpenApiCall;
    };
    readonly storage: {
      /** POST `/wxa/remove_user_storage`. */
      readonly removeUserStorage: OpenApiCall;
      /** POST `/wxa/setuserinteractivedata`. */
      readonly setUserInteractiveData: OpenApiCall;
      /** POST `/wxa/set_user_storage`. */
      readonly setUserStorage: OpenApiCall;
    };
    readonly subscribeMessage: {
      /** POST `/wxaapi/newtmpl/addtemplate`. */
      readonly addTemplate: OpenApiCall;
      /** POST `/wxaapi/newtmpl/deltemplate`. */
      readonly deleteTemplate: OpenApiCall;
      /** GET `/wxaapi/newtmpl/getcategory`. */
      readonly getCategory: OpenApiCall;
      /** GET `/wxaapi/newtmpl/getpubtemplatekeywords`. */
      readonly getPubTemplateKeyWordsById: OpenApiCall;
      /** GET `/wxaapi/newtmpl/getpubtemplatetitles`. */
      readonly getPubTemplateTitleList: OpenApiCall;
      /** GET `/wxaapi/newtmpl/gettemplate`. */
      readonly getTemplateList: OpenApiCall;
      /** POST `/cgi-bin/message/subscribe/send`. */
      readonly send: (params: SubscribeMessageSendParams) => Promise<Result>;
    };
    readonly templateMessage: {
      /** POST `/cgi-bin/wxopen/template/add`. */
      readonly addTemplate: OpenApiCall;
      /** POST `/cgi-bin/wxopen/template/del`. */
      readonly deleteTemplate: OpenApiCall;
      /** POST `/cgi-bin/wxopen/template/library/get`. */
      readonly getTemplateLibraryById: OpenApiCall;
      /** POST `/cgi-bin/wxopen/template/library/list`. */
      readonly getTemplateLibraryList: OpenApiCall;
      /** POST `/cgi-bin/wxopen/template/list`. */
      readonly getTemplateList: OpenApiCall;
      /** POST `/cgi-bin/message/wxopen/template/send`. */
      readonly send: OpenApiCall;
    };
    readonly uniformMessage: {
      /** POST `/cgi-bin/message/wxopen/template/uniform_send`. */
      readonly send: (params: UniformMessageSendParams) => Promise<Result>;
    };
    readonly updatableMessage: {
      /** GET `/cgi-bin/message/wxopen/activityid/create`. */
      readonly createActivityId: OpenApiCall;
      /** POST `/cgi-bin/message/wxopen/updatablemsg/send`. */
      readonly setUpdatableMsg: OpenApiCall;
    };
    readonly urllink: {
      /** POST `/wxa/generate_urllink`. */
      readonly generate: (params?: UrllinkGenerateParams) => Promise<UrllinkGenerateResult>;
      /** POST `/wxa/query_urllink`. */
      readonly query: OpenApiCall;
    };
    readonly urlscheme: {
      /** POST `/wxa/generatescheme`. */
      readonly generate: (params?: UrlschemeGenerateParams) => Promise<UrlschemeGenerateResult>;
      /** POST `/wxa/generatenfcscheme`. */
      readonly generateNFCScheme: OpenApiCall;
      /** POST `/wxa/queryscheme`. */
      readonly query: OpenApiCall;
    };
    readonly wxa: {
      readonly sec: {
        readonly order: {
          /** POST `/wxa/sec/order/get_order`. */
          readonly getOrder: OpenApiCall;
          /** POST `/wxa/sec/order/get_order_list`. */
          readonly getOrderList: OpenApiCall;
          /** POST `/wxa/sec/order/is_trade_managed`. */
          readonly isTradeManaged: OpenApiCall;
          /** POST `/wxa/sec/order/notify_confirm_receive`. */
          readonly notifyConfirmReceive: OpenApiCall;
          /** POST `/wxa/sec/order/set_msg_jump_path`. */
          readonly setMsgJumpPath: OpenApiCall;
          /** POST `/wxa/sec/order/upload_combined_shipping_info`. */
          readonly uploadCombinedShippingInfo: OpenApiCall;
          /** POST `/wxa/sec/order/upload_shipping_info`. */
          readonly uploadShippingInfo: OpenApiCall;
        };
      };
    };
    readonly wxacode: {
      /** POST `/cgi-bin/wxaapp/createwxaqrcode`, binary reply. */
      readonly createQRCode: (params: WxacodeCreateQRCodeParams) => Promise<BinaryResult>;
      /** POST `/wxa/getwxacode`, binary reply. */
      readonly get: (params: WxacodeGetParams) => Promise<BinaryResult>;
      /** POST `/wxa/getwxacodeunlimit`, binary reply. */
      readonly getUnlimited: (params: WxacodeGetUnlimitedParams) => Promise<BinaryResult>;
    };
  }

  /**
   * `cloud.openapi`: every namespace of the table, and also callable with per-call options, as in
   * wx-server-sdk: `cloud.openapi({ convertCase: false }).customerServiceMessage.send(…)`.
   */
  export interface OpenApi extends OpenApiNamespaces {
    (options?: OpenApiOptions): OpenApiNamespaces;
  }

  /** `cloud.openapi` with the routes of your `apis` option typed too: `cloud.openapi as OpenApiWith<{ foo: { bar: OpenApiCall } }>`. */
  export type OpenApiWith<Extra> = OpenApiNamespaces & Extra & { (options?: OpenApiOptions): OpenApiNamespaces & Extra };

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
    /** wx-server-sdk's `getWXContext()` (the same function on every instance). */
    getWXContext(): WXContext;
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

  /**
   * wx-server-sdk's `getWXContext()`: inside a push handler's call of a cloud function
   * (`wx-openapi-native/push`), the message's context; elsewhere computed from the environment as
   * wx-server-sdk 4.0.2 does (`WX_CONTEXT_KEYS`, the `WX_*` variables, `TCB_ENV`, `TCB_SOURCE`).
   */
  export function getWXContext(): WXContext;
  /** wx-server-sdk's WXContext: the keys it documents, and any other `WX_CONTEXT_KEYS` entry (numbers parsed). */
  export interface WXContext {
    OPENID?: string;
    APPID?: string;
    UNIONID?: string;
    ENV?: string;
    SOURCE?: string;
    CLIENTIP?: string;
    CLIENTIPV6?: string;
    [key: string]: string | number | undefined;
  }
}

/** What `getAccessToken` may return: a token for this call only, or a token with its lifetime (seconds) to cache. */
type AccessTokenSource = string | { accessToken: string; expiresIn?: number };

/** The default instance. */
export = cloud;
