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

void main;
