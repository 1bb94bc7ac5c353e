// ESM entry of wx-openapi-native/push: the implementation is CommonJS, so both module systems
// share one copy of it (and one AsyncLocalStorage for getWXContext).
import push from './index.js'

export const { createPushHandler, serve, createMemoryStore, getWXContext, signature, encrypt, decrypt, aesKey, parseXml, toXml } = push
export default push
