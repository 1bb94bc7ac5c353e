'use strict';

/**
 * phonenumber.getPhoneNumber (`POST /wxa/business/getuserphonenumber`): a code from the phone-number
 * button (`emulator.phoneCode()`) gives `phone_info`, once and within 5 minutes; any other code 40029.
 */

const { jsonReply, requireJsonObject } = require('../replies');
const { SECOND } = require('../state');

module.exports = function phonenumberRoutes({ appid, phoneCodes, clock }) {
  return [
    {
      method: 'POST',
      path: '/wxa/business/getuserphonenumber',
      auth: true,
      handle({ body, json }) {
        const { code } = requireJsonObject(body, json);
        const { phoneNumber, countryCode } = phoneCodes.redeem(code);
        return jsonReply({
          errcode: 0,
          errmsg: 'ok',
          // WeChat's own keys here are camelCase already.
          phone_info: {
            phoneNumber: countryCode === '86' ? phoneNumber : `+${countryCode}${phoneNumber}`,
            purePhoneNumber: phoneNumber,
            countryCode,
            watermark: { timestamp: Math.floor(clock.now() / SECOND), appid },
          },
        });
      },
    },
  ];
};
