// The customer-service cloud function of WeChat's documentation ("云函数接收消息推送"), with one
// change: `require('wx-openapi-native')` instead of `require('wx-server-sdk')`. It answers every
// message with "收到" through customerServiceMessage.send. examples/push-server.js serves it.
const cloud = require('..') // in your project: require('wx-openapi-native')
cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
exports.main = async (event, context) => {
  const wxContext = cloud.getWXContext()
  await cloud.openapi.customerServiceMessage.send({ touser: wxContext.OPENID, msgtype: 'text', text: { content: '收到' } })
  return 'success'
}
