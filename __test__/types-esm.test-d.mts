// ESM side of the type test: `import cloud, { … } from 'wx-openapi-native'` from an ES module,
// resolved through package.json "exports" (import + types conditions), as a user's .mjs/.mts would be.

import cloud, { init, openapi, createNewInstance, DYNAMIC_CURRENT_ENV, version } from 'wx-openapi-native';
import * as cloudNs from 'wx-openapi-native';
import type { Cloud, OpenApiError, Result, SendParams, OpenApiResult, BinaryResult, MsgSecCheckV2Result } from 'wx-openapi-native';

const asCloud: Cloud = cloud;
const nsAsCloud: Cloud = cloudNs;
const sameSymbol: typeof DYNAMIC_CURRENT_ENV = cloud.DYNAMIC_CURRENT_ENV;
const versionString: string = version;

cloud.init({ env: DYNAMIC_CURRENT_ENV });
init({ appid: 'wx0123456789abcdef', secret: 's' });
const instance: Cloud = createNewInstance({ accessToken: 'T' });

const params: SendParams = { touser: 'OPENID', msgtype: 'text', text: { content: 'Hello World' } };
const result: Result = await cloud.openapi.customerServiceMessage.send(params); // top-level await: ESM
const code: 0 = result.errCode;
await openapi({ convertCase: false }).customerServiceMessage.send({ touser: 'OPENID', msgtype: 'image', image: { media_id: 'M' } });
await instance.openapi.customerServiceMessage.setTyping({ touser: 'OPENID', command: 'CancelTyping' });

try {
  await openapi.customerServiceMessage.getTempMedia({ mediaId: 'M' });
} catch (err) {
  const e = err as OpenApiError;
  const errCode: number = e.errCode;
}

// Every call of the table, from ESM too.
const shipped: OpenApiResult = await openapi.wxa.sec.order.uploadShippingInfo({ orderKey: { orderNumberType: 1 } });
const qr: BinaryResult = await cloud.openapi.wxacode.getUnlimited({ scene: 'id=1' });
const verdict: MsgSecCheckV2Result = await instance.openapi.security.msgSecCheck({ content: 'c', version: 2, scene: 1, openid: 'o' });
await openapi({ convertCase: false }).subscribeMessage.send({ touser: 'o', templateId: 'T', data: { thing1: { value: 'v' } } });
// @ts-expect-error a typo in a known namespace
await openapi.urlscheme.generat({});

// @ts-expect-error a text message must not carry an image object
await openapi.customerServiceMessage.send({ touser: 'o', msgtype: 'text', image: { mediaId: 'x' } });
// @ts-expect-error timeout is a number
init({ timeout: 'x' });
