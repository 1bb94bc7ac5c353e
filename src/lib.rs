#![deny(clippy::all)]
//! wx-openapi-native: the exported surface. The logic lives in the modules below; the JS facade
//! (`index.js`) gives it wx-server-sdk's shape.

mod alloc;
mod case;
mod config;
mod connector;
mod error;
mod executor;
mod instance;
mod local;
mod loop_tcp;
mod markers;
mod openapi;
mod params;
mod pool;
mod settle;
mod token;
mod transport;
mod uv;
mod wechat;

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::config::{Config, ProcessEnv, RawOptions};
use crate::error::ApiError;
use crate::instance::{guard_sync, ok_message, Instance, ResolvedValue};
use crate::settle::Settler;

/// An independent instance: its own options, HTTP connection pool and token cache.
#[napi]
pub struct Client {
  instance: Arc<Instance>,
  settler: Settler,
}

#[napi]
impl Client {
  /// Reads the options (and the environment variables they fall back to) and checks them:
  /// a bad option throws here, naming it.
  #[napi(constructor, catch_unwind)]
  pub fn new(env: Env, options: Option<Object<'_>>) -> Result<Self> {
    RawOptions::from_js(options)
      .and_then(|raw| Config::resolve(raw, &ProcessEnv))
      .and_then(Instance::new)
      .map_err(|e| e.into_js(&env, "init"))
      .and_then(|instance| {
        Ok(Self {
          instance: Arc::new(instance),
          settler: Settler::new(&env)?,
        })
      })
  }

  /// Runs the call at `index` in the call table (the order of `callNames`) with `params`: an
  /// index, not the name, so that no string is read and compared per call. Returns a promise:
  /// invalid params reject it, without anything being sent. `paramsJson`, where given, is `params`
  /// as JSON text, read instead of the object (see `parse_params`). With `promiseId`, the promise
  /// is index.js's own, settled through its settler under that id (`setSettler`), and the call
  /// returns `undefined`.
  #[napi(catch_unwind, ts_return_type = "Promise<any> | undefined")]
  pub fn call<'env>(
    &self,
    env: &'env Env,
    index: u32,
    params: Unknown<'env>,
    convert_case: bool,
    params_json: Option<Unknown<'env>>,
    promise_id: Option<u32>,
  ) -> Result<Unknown<'env>> {
    markers::mark(markers::Point::CallEntered);
    let call = openapi::CALLS.get(index as usize);
    let api = call.map_or_else(
      || format!("{}.#{index}", openapi::NAMESPACE).into(),
      |c| c.api_name().into(),
    );
    let prepared = guard_sync(|| match call {
      None => Err(ApiError::invalid(format!(
        "there is no customerServiceMessage call #{index}"
      ))),
      Some(call) => params_json
        .and_then(|text| params::read_string(text).ok())
        .and_then(|text| params::parse_params(&text, convert_case))
        .map_or_else(|| params::read_params(env, params, convert_case), Ok)
        .and_then(|params| call.prepare(params, convert_case))
        .map(|request| (call, request)),
    });
    markers::mark(markers::Point::RequestBuilt);
    let instance = Arc::clone(&self.instance);
    // Boxed once here: the call's future is over a kilobyte, and each layer that wraps it
    // (panic guard, task) would otherwise copy it again.
    self.settler.run(
      env,
      api,
      promise_id,
      Box::pin(async move {
        let (call, request) = prepared?;
        instance.run(call, request, convert_case).await
      }),
    )
  }

  /// Panics on purpose, on the JS thread (`"sync"`) or in the runtime (`"async"`), so that the
  /// tests can check that a panic becomes a rejection with an errCode and never an abort.
  #[doc(hidden)]
  #[napi(js_name = "__panicForTests", ts_return_type = "Promise<any>")]
  pub fn panic_for_tests<'env>(&self, env: &'env Env, place: String) -> Result<Unknown<'env>> {
    let sync = place == "sync";
    let prepared = guard_sync(|| {
      if sync {
        panic!("deliberate panic on the JS thread")
      } else {
        Ok(())
      }
    });
    self.settler.run(
      env,
      format!("{}.send", openapi::NAMESPACE).into(),
      None,
      async move {
        prepared?;
        panic!("deliberate panic in the runtime")
      },
    )
  }

  /// Where this instance's calls run now: `"js-thread"`, `"helper-thread"` (under load) or
  /// `"runtime-thread"` (the fallback), so that the tests can check which path they exercise.
  #[doc(hidden)]
  #[napi(js_name = "__driverForTests")]
  pub fn driver_for_tests(&self) -> &'static str {
    self.settler.place()
  }
}

/// The pure parts, for the fuzz targets in `fuzz/`; not a public API.
#[doc(hidden)]
pub mod fuzzing {
  pub use crate::case::{camel_to_snake, map_to_camel, snake_to_camel};
  pub use crate::error::ApiError;
  pub use crate::params::Params;

  /// Runs every call's validation and request building on `params`, as a call would before
  /// sending. Returns the outcome per call name.
  pub fn prepare_all(
    params: &Params,
    convert_case: bool,
  ) -> Vec<(&'static str, Result<(), ApiError>)> {
    crate::openapi::CALLS
      .iter()
      .map(|call| {
        let copy = Params {
          json: params.json.clone(),
          binaries: params.binaries.clone(),
        };
        (call.name, call.prepare(copy, convert_case).map(|_| ()))
      })
      .collect()
  }
}

/// The names of the `customerServiceMessage` calls, from the call table.
#[napi]
pub fn call_names() -> Vec<&'static str> {
  openapi::CALLS.iter().map(|c| c.name).collect()
}

impl ToNapiValue for ResolvedValue<'_> {
  unsafe fn to_napi_value(env: napi::sys::napi_env, value: Self) -> Result<napi::sys::napi_value> {
    let js = Env::from_raw(env);
    let (object, api) = match value {
      ResolvedValue::Json { fields, api } => {
        let mut object = Object::new(&js)?;
        for (key, value) in fields {
          object.set(key, value)?;
        }
        (object, api)
      }
      ResolvedValue::Media {
        content_type,
        bytes,
        api,
      } => {
        let mut object = Object::new(&js)?;
        object.set("contentType", content_type)?;
        object.set("buffer", Buffer::from(bytes))?;
        (object, api)
      }
    };
    let err_msg = unsafe { String::to_napi_value(env, ok_message(api)) }?;
    // The reply's own fields first, then `errMsg` and `errCode: 0`, as wx-server-sdk.
    unsafe {
      check_status!(napi::sys::napi_set_named_property(
        env,
        object.raw(),
        c"errMsg".as_ptr(),
        err_msg
      ))?;
      let err_code = i32::to_napi_value(env, 0)?;
      check_status!(napi::sys::napi_set_named_property(
        env,
        object.raw(),
        c"errCode".as_ptr(),
        err_code
      ))?;
      Object::to_napi_value(env, object)
    }
  }
}

/// The `errMsg` of a successful call, per call of the table, in the order of `callNames`.
#[doc(hidden)]
#[napi(js_name = "okMessages")]
pub fn ok_messages() -> Vec<String> {
  settle::ok_messages()
}

/// Where index.js hands over the function that settles the promises it makes
/// (`settle::set_settler`).
#[doc(hidden)]
#[napi(js_name = "setSettler")]
pub fn set_settler(env: Env, settler: Function<'_>) -> Result<()> {
  settle::set_settler(&env, settler.to_unknown())
}

/// mimalloc commits every segment of a thread after its first one in full (4 MiB) as soon as it
/// takes it: 4.4 MiB more peak RSS for a process that loads the addon and sends one message
/// (48.9 against 44.4 MiB with glibc's malloc). Committed page by page instead: 45.4 MiB.
/// (`mi_option_eager_commit` is 3 in mimalloc v2's `mi_option_e`; the crate names no constant.)
///
/// Set from a constructor with a priority, which runs when the library is loaded and before the
/// unprioritised constructors napi-rs registers its exports with: the segments taken by their
/// allocations are lazy too. (From `module_init`, which runs after them, it came too late once
/// the calls moved to the JS thread: 50.6 MiB.)
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array.00100"]
static LAZY_COMMIT: extern "C" fn() = {
  extern "C" fn lazy_commit() {
    unsafe { libmimalloc_sys::mi_option_set(3, 0) };
  }
  lazy_commit
};

#[napi_derive::module_init]
fn init() {
  #[cfg(not(target_os = "linux"))]
  unsafe {
    libmimalloc_sys::mi_option_set(3, 0)
  };
  // napi-rs would otherwise start its own multi-threaded runtime, which no call uses: calls run
  // on their JS thread's runtime (local.rs) or on settle.rs's. This one starts no thread.
  if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() {
    napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
  }
}

#[global_allocator]
static ALLOCATOR: alloc::MiMalloc = alloc::MiMalloc;
