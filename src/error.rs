//! The one place where the core's `ApiError` becomes the JS error shape: an `Error` whose
//! `message` holds both fields, with `errCode` and `errMsg`, as wx-server-sdk rejects.

use napi::bindgen_prelude::*;
use wx_openapi::ApiError;

/// The JS `Error` for `error` in a call of `api` (`openapi.<name>`, or `init`).
pub fn js_error<'env>(env: &'env Env, error: &ApiError, api: &str) -> Result<Object<'env>> {
  let mut js_error = env.create_error(Error::from_reason(error.message(api)))?;
  // napi names its status in `code`; callers switch on errCode, as with wx-server-sdk.
  js_error.delete_named_property("code")?;
  js_error.set("errCode", error.code as f64)?;
  js_error.set("errMsg", error.err_msg(api))?;
  Ok(js_error)
}

/// The same, as a napi error to return (a function throws it; a promise rejects with it).
pub fn to_napi(env: &Env, error: &ApiError, api: &str) -> Error {
  match js_error(env, error, api) {
    Ok(js_error) => Error::from(js_error.to_unknown()),
    Err(_) => Error::from_reason(error.message(api)),
  }
}
