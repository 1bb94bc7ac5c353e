import cloud from './index.js'

export const { init, openapi, createNewInstance, getWXContext, DYNAMIC_CURRENT_ENV, version } = cloud
export default cloud
