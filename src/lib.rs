#![deny(clippy::all)]
//! wx-openapi-native: the napi binding. JS values become the core's types (`wx-openapi`), calls
//! run on napi-rs's tokio runtime, and outcomes come back as JS values; index.js gives it
//! wx-server-sdk's shape.

mod error;
mod provider;
mod reply;

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wx_openapi::{guard, guard_sync, ApiError, Options, Params, ProcessEnv, Reply};

/// An independent instance: its own options, token cache and limit on requests in flight.
#[napi]
pub struct Client {
  inner: Arc<wx_openapi::Client>,
}

#[napi]
impl Client {
  /// `options` is the options object as JSON (index.js leaves functions out); `getAccessToken` is
  /// the user's token function, when given. A bad option throws here, naming it.
  #[napi(constructor)]
  pub fn new(
    env: Env,
    options: String,
    get_access_token: Option<Function<'_, bool, Promise<String>>>,
  ) -> Result<Self> {
    let provider = match get_access_token {
      Some(function) => Some(provider::JsTokenSource::new(function)?),
      None => None,
    };
    guard_sync(move || {
      let provider = provider.map(|p| Arc::new(p) as Arc<dyn wx_openapi::TokenSource>);
      let options = Options::from_json(&options, provider, &ProcessEnv)?;
      wx_openapi::Client::new(options)
    })
    .map(|client| Self {
      inner: Arc::new(client),
    })
    .map_err(|e| error::to_napi(&env, &e, "init"))
  }

  /// Calls the API `name` (`customerServiceMessage.send`, an alias, or a route of
  /// `options.apis`). `params` is the params' JSON with each binary value replaced by a marker,
  /// `files` the binary values; `invalid`, where set, is why index.js could not read the params.
  /// Returns a promise: whatever is wrong rejects it, and nothing is sent.
  #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
  pub fn call<'env>(
    &self,
    env: &'env Env,
    name: String,
    params: Option<String>,
    files: Vec<Uint8Array>,
    convert_case: bool,
    invalid: Option<String>,
  ) -> Result<PromiseRaw<'env, Object<'env>>> {
    let api = format!("openapi.{name}");
    let files: Vec<Vec<u8>> = files.iter().map(|file| file.to_vec()).collect();
    let prepared = guard_sync(|| {
      let params = match invalid {
        Some(why) => Err(ApiError::invalid(why)),
        None => Params::from_json(params.as_deref().unwrap_or("{}"), files, convert_case),
      };
      self.inner.prepare(&name, params, convert_case)
    });
    let client = Arc::clone(&self.inner);
    settle_in_runtime(env, api, async move {
      client.run(prepared?, convert_case).await
    })
  }

  /// Panics on purpose, before the call is handed over (`"sync"`) or in the runtime (`"async"`),
  /// so that the tests can check that a panic becomes a rejection with an errCode, never an abort.
  #[doc(hidden)]
  #[napi(js_name = "__panicForTests")]
  pub fn panic_for_tests<'env>(
    &self,
    env: &'env Env,
    place: String,
  ) -> Result<PromiseRaw<'env, Object<'env>>> {
    let sync = place == "sync";
    let prepared = guard_sync(|| {
      if sync {
        panic!("deliberate panic before the call is sent")
      }
      Ok(())
    });
    settle_in_runtime(
      env,
      "openapi.customerServiceMessage.send".to_string(),
      async move {
        prepared?;
        panic!("deliberate panic in the runtime")
      },
    )
  }
}

/// Runs a call's `work` on napi-rs's runtime, a panic in it caught, and settles its promise on
/// the JS thread: the reply as the resolved object, an `ApiError` as the rejection.
fn settle_in_runtime<'env>(
  env: &'env Env,
  api: String,
  work: impl std::future::Future<Output = wx_openapi::ApiResult<Reply>> + Send + 'static,
) -> Result<PromiseRaw<'env, Object<'env>>> {
  let outcome = guard(work);
  env.spawn_future_with_callback(
    async move { Ok(outcome.await) },
    move |env, outcome: std::result::Result<Reply, ApiError>| match outcome {
      Ok(reply) => reply::to_js(env, reply, &api),
      Err(e) => Err(error::to_napi(env, &e, &api)),
    },
  )
}

#[napi_derive::module_init]
fn init() {
  // napi-rs's runtime with one worker instead of one per core: the calls mostly wait on the network,
  // and one worker spends less CPU per message handing tasks around, at the same throughput even at
  // 256 in flight over HTTPS (BENCHMARKS.md). Set the documented way, before the first call.
  if let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
    .worker_threads(1)
    .enable_all()
    .build()
  {
    napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
  }
  // A panic is reported once per process, not once per call: the calls that meet it reject with
  // -601002, and a report per call would flood stderr.
  let report = std::panic::take_hook();
  let reported = std::sync::atomic::AtomicBool::new(false);
  std::panic::set_hook(Box::new(move |info| {
    if !reported.swap(true, std::sync::atomic::Ordering::Relaxed) {
      report(info);
      eprintln!(
        "wx-openapi-native: later panics are not reported; their calls reject with -601002"
      );
    }
  }));
}
