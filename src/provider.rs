//! The user's `getAccessToken` as the core's `TokenSource`, through a threadsafe function. index.js
//! wraps it so that it always returns a promise of the JSON text of what the user's function gave.

use futures_util::future::{BoxFuture, FutureExt};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use wx_openapi::TokenSource;

/// Weak: an idle instance must not keep the process alive; a call in flight already does.
type Tsfn = ThreadsafeFunction<bool, Promise<String>, bool, Status, false, true>;

pub struct JsTokenSource(std::sync::Arc<Tsfn>);

impl JsTokenSource {
  pub fn new(function: Function<'_, bool, Promise<String>>) -> Result<Self> {
    let tsfn = function
      .build_threadsafe_function::<bool>()
      .callee_handled::<false>()
      .weak::<true>()
      .build()?;
    Ok(Self(std::sync::Arc::new(tsfn)))
  }
}

impl TokenSource for JsTokenSource {
  fn fetch(&self, force_refresh: bool) -> BoxFuture<'static, std::result::Result<String, String>> {
    let tsfn = std::sync::Arc::clone(&self.0);
    async move {
      let promise = tsfn.call_async(force_refresh).await.map_err(|e| e.reason)?;
      promise.await.map_err(|e| e.reason)
    }
    .boxed()
  }
}
