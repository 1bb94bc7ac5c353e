// Type test of index.d.ts, compiled (never run) by `tsc -p __test__/tsconfig.json`.
// Positive cases must compile; each `// @ts-expect-error` marks a line that must NOT compile,
// so the test fails if the declarations get looser. Negative cases are one line each and differ
// from a positive case only by the mistake under test.
// This file is CommonJS (package.json has no "type"); types-esm.test-d.mts covers ESM.

import cloud, {
  init,
  openapi,
  createNewInstance,
  DYNAMIC_CURRENT_ENV,
  version,
} from '..';
import cloudRequired = require('..');
import cloudSelf = require('wx-openapi-native'); // resolved through package.json "exports" (require + types)
import type {
  InitOptions,
  OpenApiOptions,
  SendParams,
  TextMessage,
  ImageMessage,
  LinkMessage,
  MiniProgramPageMessage,
  SetTypingParams,
  UploadTempMediaParams,
  GetTempMediaParams,
  Result,
  UploadTempMediaResult,
  GetTempMediaResult,
  OpenApiError,
  CustomerServiceMessage,
  OpenApi,
  Cloud,
  OpenApiResult,
  OpenApiCall,
  OpenApiNamespaces,
  OpenApiWith,
  BinaryResult,
} from '..';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T>(_value: T): void {}
function isOpenApiError(e: unknown): e is OpenApiError {
  return e instanceof Error && typeof (e as Partial<OpenApiError>).errCode === 'number';
}

// ------------------------------------------------------------------ module shape

const asCloud: Cloud = cloud; // the module object is a Cloud
const requiredAsCloud: Cloud = cloudRequired;
const selfAsCloud: Cloud = cloudSelf;
const sameModule: typeof cloud = cloudRequired;
const initFn: (options?: InitOptions) => void = init;
const openapiNs: OpenApi = openapi;
const newInstanceFn: (options?: InitOptions) => Cloud = createNewInstance;
const dynamicEnv: typeof DYNAMIC_CURRENT_ENV = cloud.DYNAMIC_CURRENT_ENV;
const dynamicEnvSymbol: symbol = DYNAMIC_CURRENT_ENV;
const versionString: string = version;
const instanceEnv: typeof DYNAMIC_CURRENT_ENV = cloud.createNewInstance().DYNAMIC_CURRENT_ENV;
const csm: CustomerServiceMessage = cloud.openapi.customerServiceMessage;
const csmCalled: CustomerServiceMessage = cloud.openapi().customerServiceMessage;
const openapiOptions: OpenApiOptions = { convertCase: false };

// ------------------------------------------------------------------ init options

cloud.init();
cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV }); // wx-server-sdk's idiom
cloud.init({ env: 'prod-1a2b3c', traceUser: true });
cloud.init({ env: { database: 'db-env', functions: cloud.DYNAMIC_CURRENT_ENV } });
cloud.init({ someFutureWxServerSdkKey: 1 });
init({ appid: 'wx0123456789abcdef', secret: 's', tokenEndpoint: 'classic' });
init({ accessToken: 'TOKEN', apiBaseUrl: 'http://127.0.0.1:8080', timeout: 5000, retries: 0, maxConcurrency: 8 });
init({ tokenless: true, tokenEndpoint: 'stable' });
init({ getAccessToken: () => 'TOKEN' });
init({ getAccessToken: ({ forceRefresh }) => ({ accessToken: forceRefresh ? 'A' : 'B', expiresIn: 7200 }) });
init({ getAccessToken: async () => 'TOKEN' });
init({ getAccessToken: async ({ forceRefresh }) => ({ accessToken: String(forceRefresh) }) });
const fullOptions: InitOptions = {
  appid: 'wx0123456789abcdef',
  secret: 'secret',
  tokenEndpoint: 'stable',
  timeout: 10000,
  retries: 2,
  maxConcurrency: 64,
  env: DYNAMIC_CURRENT_ENV,
  traceUser: false,
};
const other: Cloud = cloud.createNewInstance(fullOptions);
const other2: Cloud = createNewInstance({ accessToken: 'T' }).createNewInstance();
other.init({ appid: 'wx2', secret: 's2' });

// @ts-expect-error timeout is a number of milliseconds
cloud.init({ timeout: 'x' });
// @ts-expect-error tokenEndpoint is 'stable' or 'classic'
cloud.init({ tokenEndpoint: 'new' });
// @ts-expect-error getAccessToken must return a token string or { accessToken, expiresIn }
cloud.init({ getAccessToken: () => 42 });
// @ts-expect-error getAccessToken must not resolve to a number either
cloud.init({ getAccessToken: async () => 42 });
// @ts-expect-error retries is a number
cloud.createNewInstance({ retries: '2' });
// @ts-expect-error convertCase is a boolean
cloud.openapi({ convertCase: 'no' });

cloud.init({ apis: { 'foo.bar': { method: 'POST', path: '/wxa/foo' }, 'foo.list': { method: 'GET', path: '/wxa/list', retry: 'read' } } });
// @ts-expect-error a user route's method is GET or POST
cloud.init({ apis: { 'foo.bar': { method: 'PUT', path: '/wxa/foo' } } });
// @ts-expect-error a user route needs its path
cloud.init({ apis: { 'foo.bar': { method: 'POST' } } });

async function main(): Promise<void> {
  // ---------------------------------------------------------------- the seed's four cloud-call examples

  const textResult = await cloud.openapi.customerServiceMessage.send({
    touser: 'OPENID',
    msgtype: 'text',
    text: {
      content: 'Hello World',
    },
  });
  await cloud.openapi.customerServiceMessage.send({
    touser: 'OPENID',
    msgtype: 'image',
    image: {
      mediaId: 'MEDIA_ID',
    },
  });
  await cloud.openapi.customerServiceMessage.send({
    touser: 'OPENID',
    msgtype: 'link',
    link: {
      title: 'Happy Day',
      description: 'Is Really A Happy Day',
      url: 'URL',
      thumbUrl: 'THUMB_URL',
    },
  });
  await cloud.openapi.customerServiceMessage.send({
    touser: 'OPENID',
    msgtype: 'miniprogrampage',
    miniprogrampage: {
      title: 'title',
      pagepath: 'pagepath',
      thumbMediaId: 'thumb_media_id',
    },
  });

  // ---------------------------------------------------------------- snake_case variants (accepted by wx-server-sdk)

  await csm.send({ touser: 'OPENID', msgtype: 'image', image: { media_id: 'MEDIA_ID' } });
  await csm.send({ touser: 'OPENID', msgtype: 'link', link: { title: 't', description: 'd', url: 'u', thumb_url: 'T' } });
  await csm.send({ touser: 'OPENID', msgtype: 'miniprogrampage', miniprogrampage: { title: 't', pagepath: 'p', thumb_media_id: 'M' } });
  await cloud.openapi({ convertCase: false }).customerServiceMessage.send({ touser: 'OPENID', msgtype: 'image', image: { media_id: 'MEDIA_ID' } });
  await openapi(openapiOptions).customerServiceMessage.setTyping({ touser: 'OPENID', command: 'Typing' });
  await csmCalled.send({ touser: 'OPENID', msgtype: 'text', text: { content: 'hi' } });

  // ---------------------------------------------------------------- named message types

  const textMessage: TextMessage = { touser: 'o', msgtype: 'text', text: { content: 'c' } };
  const imageMessage: ImageMessage = { touser: 'o', msgtype: 'image', image: { mediaId: 'm' } };
  const linkMessage: LinkMessage = { touser: 'o', msgtype: 'link', link: { title: 't', description: 'd', url: 'u', thumbUrl: 'T' } };
  const pageMessage: MiniProgramPageMessage = { touser: 'o', msgtype: 'miniprogrampage', miniprogrampage: { title: 't', pagepath: 'p', thumbMediaId: 'M' } };
  const messages: SendParams[] = [textMessage, imageMessage, linkMessage, pageMessage];
  for (const message of messages) {
    if (message.msgtype === 'text') assertType<string>(message.text.content); // narrowing by msgtype works
    await other.openapi.customerServiceMessage.send(message);
  }

  // ---------------------------------------------------------------- the other three calls

  const typingParams: SetTypingParams = { touser: 'OPENID', command: 'Typing' };
  const typing = await csm.setTyping(typingParams);
  await csm.setTyping({ touser: 'OPENID', command: 'CancelTyping' });

  const uploadParams: UploadTempMediaParams = {
    type: 'image',
    media: { contentType: 'image/png', value: Buffer.from([0x89, 0x50]), fileName: 'a.png' },
  };
  const uploaded = await csm.uploadTempMedia(uploadParams);
  await csm.uploadTempMedia({ type: 'image', media: { contentType: 'image/jpeg', value: new Uint8Array(4) } });

  const getParams: GetTempMediaParams = { mediaId: uploaded.mediaId };
  const media = await csm.getTempMedia(getParams);

  // ---------------------------------------------------------------- results

  assertType<Result>(textResult);
  assertType<Result>(typing);
  const okCode: 0 = textResult.errCode;
  const okMsg: string = textResult.errMsg;
  const extraField: unknown = textResult['anyOtherReplyField'];
  const typingCode: 0 = typing.errCode;
  assertType<UploadTempMediaResult>(uploaded);
  const uploadedType: string = uploaded.type;
  const uploadedId: string = uploaded.mediaId;
  const uploadedAt: number = uploaded.createdAt;
  const uploadedCode: 0 = uploaded.errCode;
  assertType<GetTempMediaResult>(media);
  const mediaType: string = media.contentType;
  const mediaBytes: Buffer = media.buffer;
  const mediaCode: 0 = media.errCode;
  const mediaMsg: string = media.errMsg;
  const sendReturns: Equal<ReturnType<CustomerServiceMessage['send']>, Promise<Result>> = true;
  const getReturns: Equal<Awaited<ReturnType<CustomerServiceMessage['getTempMedia']>>, GetTempMediaResult> = true;
  const codeIsZero: Equal<Result['errCode'], 0> = true;

  // ---------------------------------------------------------------- errors

  try {
    await csm.send({ touser: 'OPENID', msgtype: 'text', text: { content: 'hi' } });
  } catch (err) {
    if (isOpenApiError(err)) {
      const code: number = err.errCode;
      const msg: string = err.errMsg;
      const message: string = err.message;
      const isError: Error = err;
      if (code === -401001 || code === 45015) console.log(msg, message, isError);
    }
  }
  csm.getTempMedia({ mediaId: 'x' }).catch((err: OpenApiError) => err.errCode);

  // ---------------------------------------------------------------- negative cases: send

  // @ts-expect-error a text message must not carry an image object
  await csm.send({ touser: 'o', msgtype: 'text', text: { content: 'c' }, image: { mediaId: 'x' } });
  // @ts-expect-error msgtype 'text' with only an image object
  await csm.send({ touser: 'o', msgtype: 'text', image: { mediaId: 'x' } });
  // @ts-expect-error msgtype 'image' requires the image object
  await csm.send({ touser: 'o', msgtype: 'image' });
  // @ts-expect-error msgtype 'link' requires the link object
  await csm.send({ touser: 'o', msgtype: 'link', text: { content: 'c' } });
  // @ts-expect-error 'voice' is not a customer-service msgtype
  await csm.send({ touser: 'o', msgtype: 'voice', voice: { mediaId: 'x' } });
  // @ts-expect-error text.content is a string
  await csm.send({ touser: 'o', msgtype: 'text', text: { content: 1 } });
  // @ts-expect-error touser is required
  await csm.send({ msgtype: 'text', text: { content: 'c' } });
  // @ts-expect-error image needs mediaId (or media_id)
  await csm.send({ touser: 'o', msgtype: 'image', image: {} });
  // @ts-expect-error image takes mediaId or media_id, not both
  await csm.send({ touser: 'o', msgtype: 'image', image: { mediaId: 'x', media_id: 'x' } });
  // @ts-expect-error link needs thumbUrl (or thumb_url)
  await csm.send({ touser: 'o', msgtype: 'link', link: { title: 't', description: 'd', url: 'u' } });
  // @ts-expect-error miniprogrampage needs pagepath
  await csm.send({ touser: 'o', msgtype: 'miniprogrampage', miniprogrampage: { title: 't', thumbMediaId: 'M' } });

  // ---------------------------------------------------------------- negative cases: other calls and results

  // @ts-expect-error command is 'Typing' or 'CancelTyping', case-sensitive
  await csm.setTyping({ touser: 'OPENID', command: 'typing' });
  // @ts-expect-error uploadTempMedia only accepts type 'image'
  await csm.uploadTempMedia({ type: 'voice', media: { contentType: 'audio/amr', value: Buffer.alloc(1) } });
  // @ts-expect-error media.value is bytes
  await csm.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: 'base64…' } });
  // @ts-expect-error getTempMedia needs mediaId
  await csm.getTempMedia({});
  // @ts-expect-error a resolved result always has errCode 0
  const notOk: 1 = textResult.errCode;
  // @ts-expect-error getTempMedia's buffer is a Buffer, not a string
  const notString: string = media.buffer;
  // @ts-expect-error the CommonJS module has no `default` property at runtime
  cloudRequired.default;
}

// ------------------------------------------------------------------ every call of the table (issue 20)

async function everyCall(): Promise<void> {
  // ---------------------------------------------------------------- precise types

  const sent = await cloud.openapi.subscribeMessage.send({
    touser: 'OPENID',
    templateId: 'TEMPLATE_ID',
    page: 'pages/index/index',
    miniprogramState: 'formal',
    lang: 'zh_CN',
    data: { thing1: { value: '已发货' }, number2: { value: 42 } },
  });
  assertType<Result>(sent);

  const checked = await cloud.openapi.security.msgSecCheck({ content: 'hi', version: 2, scene: 2, openid: 'OPENID' });
  const suggest: 'pass' | 'review' | 'risky' = checked.result.suggest;
  const label: number = checked.detail[0].label;
  const traceId: string = checked.traceId;
  const checkedV1: Result = await cloud.openapi.security.msgSecCheck({ content: 'hi' });
  const asyncCheck = await cloud.openapi.security.mediaCheckAsync({ mediaUrl: 'https://x/a.png', mediaType: 2, version: 2, scene: 1, openid: 'o' });
  const asyncTrace: string = asyncCheck.traceId;
  await cloud.openapi.security.imgSecCheck({ media: { contentType: 'image/png', value: Buffer.alloc(1) } });

  const code = await cloud.openapi.wxacode.getUnlimited({ scene: 'id=1', page: 'pages/index/index', checkPath: false, width: 430, lineColor: { r: 0, g: 0, b: 0 } });
  const codeBytes: Buffer = code.buffer;
  const codeType: string = code.contentType;
  assertType<BinaryResult>(await cloud.openapi.wxacode.get({ path: 'pages/index/index?id=1', isHyaline: true }));
  assertType<BinaryResult>(await cloud.openapi.wxacode.createQRCode({ path: 'pages/index/index', width: 280 }));

  const openlink: string = (await cloud.openapi.urlscheme.generate({ jumpWxa: { path: 'pages/index/index', query: 'a=1' }, expireType: 1, expireInterval: 7 })).openlink;
  const urlLink: string = (await cloud.openapi.urllink.generate({ path: 'pages/index/index', isExpire: true, expireTime: 1700000000 })).urlLink;
  const phone = await cloud.openapi.phonenumber.getPhoneNumber({ code: 'CODE' });
  const pure: string = phone.phoneInfo.purePhoneNumber;
  const stamp: number = phone.phoneInfo.watermark.timestamp;
  await cloud.openapi.uniformMessage.send({ touser: 'o', mpTemplateMsg: { appid: 'wxmp', templateId: 'T', data: { first: { value: 'v' } } } });
  const side: 'Front' | 'Back' = (await cloud.openapi.ocr.idcard({ type: 'photo', img: { contentType: 'image/jpeg', value: new Uint8Array(1) } })).type;
  await cloud.openapi.ocr.idcard({ imgUrl: 'https://example.com/id.jpg' });
  const sms = await cloud.openapi.cloudbase.sendSms({ env: 'env-1', phoneNumberList: ['+8613800138000'], content: 'hi' });
  const serial: string = sms.sendStatusList[0].serialNo;

  // ---------------------------------------------------------------- every other name: any params, OpenApiResult

  const generic: OpenApiResult = await cloud.openapi.wxa.sec.order.uploadShippingInfo({ orderKey: { orderNumberType: 1 } });
  const noParams: OpenApiResult = await cloud.openapi.analysis.getDailySummary();
  const aliasToo: OpenApiResult = await cloud.openapi.officialAccount.newtmpl.getCategory();
  const vehicle = await cloud.openapi.ocr.vehicleLicense({ imgUrl: 'https://example.com/car.jpg' });
  const anyField: unknown = vehicle['plateNum'];
  const feedback: Buffer = (await cloud.openapi.operation.getFeedbackmedia({ recordId: 1, mediaId: 'm' })).buffer;
  const aliasMedia: Buffer = (await cloud.openapi.officialAccount.media.get({ mediaId: 'm' })).buffer;
  const genericIsCall: Equal<typeof cloud.openapi.liveBroadcast.getLiveInfo, OpenApiCall> = true;
  const viaOptions: OpenApiResult = await cloud.openapi({ convertCase: false }).logistics.getAllDelivery();
  const everyNameTyped: OpenApiNamespaces = cloud.openapi;

  // Routes of the `apis` option, typed by the caller.
  const withMine = cloud.openapi as OpenApiWith<{ foo: { bar: OpenApiCall } }>;
  const mine: OpenApiResult = await withMine.foo.bar({ a: 1 });
  await withMine({ convertCase: false }).foo.bar();
  await withMine.subscribeMessage.send({ touser: 'o', templateId: 'T', data: {} });

  // ---------------------------------------------------------------- negative cases

  // @ts-expect-error a typo in a known namespace is a compile error
  await cloud.openapi.subscribeMessage.sned({});
  // @ts-expect-error a namespace that does not exist
  await cloud.openapi.subscribeMesage.send({});
  // @ts-expect-error a typo four levels deep
  await cloud.openapi.wxa.sec.order.uploadShipingInfo({});
  // @ts-expect-error subscribeMessage.send needs templateId
  await cloud.openapi.subscribeMessage.send({ touser: 'o', data: {} });
  // @ts-expect-error a data value is { value }
  await cloud.openapi.subscribeMessage.send({ touser: 'o', templateId: 'T', data: { thing1: '已发货' } });
  // @ts-expect-error miniprogramState is developer, trial or formal
  await cloud.openapi.subscribeMessage.send({ touser: 'o', templateId: 'T', data: {}, miniprogramState: 'prod' });
  // @ts-expect-error msgSecCheck v2 needs openid
  await cloud.openapi.security.msgSecCheck({ content: 'hi', version: 2, scene: 2 });
  // @ts-expect-error a v1 result has no verdict
  const noVerdict = (await cloud.openapi.security.msgSecCheck({ content: 'hi' })).result.suggest;
  // @ts-expect-error mediaType is 1 (audio) or 2 (image)
  await cloud.openapi.security.mediaCheckAsync({ mediaUrl: 'u', mediaType: 3 });
  // @ts-expect-error imgSecCheck takes a file, not a URL
  await cloud.openapi.security.imgSecCheck({ media: 'https://example.com/a.png' });
  // @ts-expect-error getUnlimited needs scene
  await cloud.openapi.wxacode.getUnlimited({ page: 'pages/index/index' });
  // @ts-expect-error a binary result's buffer is a Buffer
  const notText: string = code.buffer;
  // @ts-expect-error wxacode.get needs path
  await cloud.openapi.wxacode.get({ width: 430 });
  // @ts-expect-error createQRCode's width is a number
  await cloud.openapi.wxacode.createQRCode({ path: 'p', width: '280' });
  // @ts-expect-error envVersion is release, trial or develop
  await cloud.openapi.urlscheme.generate({ jumpWxa: { envVersion: 'prod' } });
  // @ts-expect-error urllink.generate resolves urlLink, not openlink
  const notOpenlink: string = (await cloud.openapi.urllink.generate()).openlink;
  // @ts-expect-error getPhoneNumber needs code
  await cloud.openapi.phonenumber.getPhoneNumber({});
  // @ts-expect-error uniformMessage.send needs mpTemplateMsg
  await cloud.openapi.uniformMessage.send({ touser: 'o' });
  // @ts-expect-error ocr.idcard takes img or imgUrl, not both
  await cloud.openapi.ocr.idcard({ img: { contentType: 'image/jpeg', value: Buffer.alloc(1) }, imgUrl: 'u' });
  // @ts-expect-error ocr.idcard needs img or imgUrl
  await cloud.openapi.ocr.idcard({ type: 'photo' });
  // @ts-expect-error sendSms needs phoneNumberList
  await cloud.openapi.cloudbase.sendSms({ env: 'e' });
  // @ts-expect-error a generic call's params are an object
  await cloud.openapi.analysis.getDailySummary('2025-01-01');
  // @ts-expect-error a user route is not on the plain openapi type
  await cloud.openapi.foo.bar();
}

// Every name of crates/wx-openapi/apis.json, aliases included, must exist on cloud.openapi
// (__test__/apis.test.js checks that this list is the table's).
const everyName = [
  cloud.openapi.analysis.getDailyRetain,
  cloud.openapi.analysis.getDailySummary,
  cloud.openapi.analysis.getDailyVisitTrend,
  cloud.openapi.analysis.getMonthlyRetain,
  cloud.openapi.analysis.getMonthlyVisitTrend,
  cloud.openapi.analysis.getPerformanceData,
  cloud.openapi.analysis.getUserPortrait,
  cloud.openapi.analysis.getVisitDistribution,
  cloud.openapi.analysis.getVisitPage,
  cloud.openapi.analysis.getWeeklyRetain,
  cloud.openapi.analysis.getWeeklyVisitTrend,
  cloud.openapi.auth.getPaidUnionId,
  cloud.openapi.chattoolmsg.send,
  cloud.openapi.cloudbase.addDelayedFunctionTask,
  cloud.openapi.cloudbase.createSendSmsTask,
  cloud.openapi.cloudbase.describeExtensionUploadInfo,
  cloud.openapi.cloudbase.describeSmsRecords,
  cloud.openapi.cloudbase.getOpenData,
  cloud.openapi.cloudbase.getStatistics,
  cloud.openapi.cloudbase.getVoIPSign,
  cloud.openapi.cloudbase.report,
  cloud.openapi.cloudbase.sendSms,
  cloud.openapi.cloudbase.sendSmsV2,
  cloud.openapi.customerServiceMessage.getTempMedia,
  cloud.openapi.customerServiceMessage.send,
  cloud.openapi.customerServiceMessage.setTyping,
  cloud.openapi.customerServiceMessage.uploadTempMedia,
  cloud.openapi.device.getSnTicket,
  cloud.openapi.img.aiCrop,
  cloud.openapi.img.scanQRCode,
  cloud.openapi.img.superresolution,
  cloud.openapi.liveBroadcast.addAssistant,
  cloud.openapi.liveBroadcast.addGoods,
  cloud.openapi.liveBroadcast.addRole,
  cloud.openapi.liveBroadcast.addSubAnchor,
  cloud.openapi.liveBroadcast.createRoom,
  cloud.openapi.liveBroadcast.deleteRole,
  cloud.openapi.liveBroadcast.deleteRoom,
  cloud.openapi.liveBroadcast.deleteSubAnchor,
  cloud.openapi.liveBroadcast.editRoom,
  cloud.openapi.liveBroadcast.getAssistantList,
  cloud.openapi.liveBroadcast.getFollowers,
  cloud.openapi.liveBroadcast.getLiveInfo,
  cloud.openapi.liveBroadcast.getPushUrl,
  cloud.openapi.liveBroadcast.getRoleList,
  cloud.openapi.liveBroadcast.getSharedCode,
  cloud.openapi.liveBroadcast.getSubAnchor,
  cloud.openapi.liveBroadcast.goodsAdd,
  cloud.openapi.liveBroadcast.goodsAudit,
  cloud.openapi.liveBroadcast.goodsDelete,
  cloud.openapi.liveBroadcast.goodsInfo,
  cloud.openapi.liveBroadcast.goodsList,
  cloud.openapi.liveBroadcast.goodsPush,
  cloud.openapi.liveBroadcast.goodsResetAudit,
  cloud.openapi.liveBroadcast.goodsSale,
  cloud.openapi.liveBroadcast.goodsSort,
  cloud.openapi.liveBroadcast.goodsUpdate,
  cloud.openapi.liveBroadcast.goodsVideo,
  cloud.openapi.liveBroadcast.modifyAssistant,
  cloud.openapi.liveBroadcast.modifySubAnchor,
  cloud.openapi.liveBroadcast.pushMessage,
  cloud.openapi.liveBroadcast.removeAssistant,
  cloud.openapi.liveBroadcast.updateComment,
  cloud.openapi.liveBroadcast.updateFeedPublic,
  cloud.openapi.liveBroadcast.updateKF,
  cloud.openapi.liveBroadcast.updateReplay,
  cloud.openapi.logistics.addOrder,
  cloud.openapi.logistics.batchGetOrder,
  cloud.openapi.logistics.bindAccount,
  cloud.openapi.logistics.cancelOrder,
  cloud.openapi.logistics.getAllAccount,
  cloud.openapi.logistics.getAllDelivery,
  cloud.openapi.logistics.getContact,
  cloud.openapi.logistics.getOrder,
  cloud.openapi.logistics.getPath,
  cloud.openapi.logistics.getPrinter,
  cloud.openapi.logistics.getQuota,
  cloud.openapi.logistics.previewTemplate,
  cloud.openapi.logistics.updateBusiness,
  cloud.openapi.logistics.updatePath,
  cloud.openapi.logistics.updatePrinter,
  cloud.openapi.midas.cancelPay,
  cloud.openapi.midas.cancelPaySandbox,
  cloud.openapi.midas.getBalance,
  cloud.openapi.midas.getBalanceSandbox,
  cloud.openapi.midas.pay,
  cloud.openapi.midas.paySandbox,
  cloud.openapi.midas.present,
  cloud.openapi.midas.presentSandbox,
  cloud.openapi.nearbyPoi.add,
  cloud.openapi.nearbyPoi.delete,
  cloud.openapi.nearbyPoi.getList,
  cloud.openapi.nearbyPoi.setShowStatus,
  cloud.openapi.ocr.bankcard,
  cloud.openapi.ocr.businessLicense,
  cloud.openapi.ocr.driverLicense,
  cloud.openapi.ocr.drivingLicense,
  cloud.openapi.ocr.idcard,
  cloud.openapi.ocr.printedText,
  cloud.openapi.ocr.vehicleLicense,
  cloud.openapi.officialAccount.media.get,
  cloud.openapi.officialAccount.media.upload,
  cloud.openapi.officialAccount.newtmpl.addTemplate,
  cloud.openapi.officialAccount.newtmpl.delTemplate,
  cloud.openapi.officialAccount.newtmpl.getCategory,
  cloud.openapi.officialAccount.newtmpl.getPubTemplateKeywords,
  cloud.openapi.officialAccount.newtmpl.getPubTemplateTitles,
  cloud.openapi.officialAccount.newtmpl.getTemplate,
  cloud.openapi.operation.getDomainInfo,
  cloud.openapi.operation.getFeedback,
  cloud.openapi.operation.getFeedbackmedia,
  cloud.openapi.operation.getGrayReleasePlan,
  cloud.openapi.operation.getJsErrDetail,
  cloud.openapi.operation.getJsErrList,
  cloud.openapi.operation.getPerformance,
  cloud.openapi.operation.getSceneList,
  cloud.openapi.operation.getVersionList,
  cloud.openapi.operation.realtimelogSearch,
  cloud.openapi.phonenumber.getPhoneNumber,
  cloud.openapi.pluginManager.applyPlugin,
  cloud.openapi.pluginManager.getPluginDevApplyList,
  cloud.openapi.pluginManager.getPluginList,
  cloud.openapi.pluginManager.setDevPluginApplyStatus,
  cloud.openapi.pluginManager.unbindPlugin,
  cloud.openapi.redpacketcover.getAuthenticationUrl,
  cloud.openapi.riskControl.getUserRiskRank,
  cloud.openapi.search.imageSearch,
  cloud.openapi.search.siteSearch,
  cloud.openapi.search.submitPages,
  cloud.openapi.security.imgSecCheck,
  cloud.openapi.security.mediaCheckAsync,
  cloud.openapi.security.msgSecCheck,
  cloud.openapi.serviceMarket.invokeService,
  cloud.openapi.shortlink.generate,
  cloud.openapi.soter.verifySignature,
  cloud.openapi.storage.removeUserStorage,
  cloud.openapi.storage.setUserInteractiveData,
  cloud.openapi.storage.setUserStorage,
  cloud.openapi.subscribeMessage.addTemplate,
  cloud.openapi.subscribeMessage.deleteTemplate,
  cloud.openapi.subscribeMessage.getCategory,
  cloud.openapi.subscribeMessage.getPubTemplateKeyWordsById,
  cloud.openapi.subscribeMessage.getPubTemplateTitleList,
  cloud.openapi.subscribeMessage.getTemplateList,
  cloud.openapi.subscribeMessage.send,
  cloud.openapi.templateMessage.addTemplate,
  cloud.openapi.templateMessage.deleteTemplate,
  cloud.openapi.templateMessage.getTemplateLibraryById,
  cloud.openapi.templateMessage.getTemplateLibraryList,
  cloud.openapi.templateMessage.getTemplateList,
  cloud.openapi.templateMessage.send,
  cloud.openapi.uniformMessage.send,
  cloud.openapi.updatableMessage.createActivityId,
  cloud.openapi.updatableMessage.setUpdatableMsg,
  cloud.openapi.urllink.generate,
  cloud.openapi.urllink.query,
  cloud.openapi.urlscheme.generate,
  cloud.openapi.urlscheme.generateNFCScheme,
  cloud.openapi.urlscheme.query,
  cloud.openapi.wxa.sec.order.getOrder,
  cloud.openapi.wxa.sec.order.getOrderList,
  cloud.openapi.wxa.sec.order.isTradeManaged,
  cloud.openapi.wxa.sec.order.notifyConfirmReceive,
  cloud.openapi.wxa.sec.order.setMsgJumpPath,
  cloud.openapi.wxa.sec.order.uploadCombinedShippingInfo,
  cloud.openapi.wxa.sec.order.uploadShippingInfo,
  cloud.openapi.wxacode.createQRCode,
  cloud.openapi.wxacode.get,
  cloud.openapi.wxacode.getUnlimited,
];

void main;
void everyCall;
void everyName;
