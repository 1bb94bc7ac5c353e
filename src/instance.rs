//! One configured instance: its transport and its token cache, and the run of one call.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::openapi::{ApiCall, Reply};
use crate::token::Tokens;
use crate::transport::{HttpRequest, Transport};

pub struct Instance {
  transport: Arc<Transport>,
  tokens: Arc<Tokens>,
}

impl Instance {
  pub fn new(config: Config) -> ApiResult<Self> {
    let transport = Arc::new(Transport::new(&config)?);
    let tokens = Arc::new(Tokens::new(config.credentials, Arc::clone(&transport)));
    Ok(Self { transport, tokens })
  }

  /// Runs a call to its outcome.
  pub async fn run(
    self: Arc<Self>,
    call: &'static ApiCall,
    request: HttpRequest,
    convert_case: bool,
  ) -> ApiResult<Reply> {
    let outcome = call
      .run(&self.tokens, &self.transport, &request, convert_case)
      .await;
    outcome.map_err(|e| e.redact(&[self.tokens.secret().unwrap_or_default()]))
  }
}

/// A panic in `work` becomes an error like any other: it must never unwind into the runtime and
/// leave the JS promise unsettled.
pub async fn guard<T>(work: impl Future<Output = ApiResult<T>>) -> ApiResult<T> {
  AssertUnwindSafe(work)
    .catch_unwind()
    .await
    .unwrap_or_else(|panic| Err(ApiError::from_panic(panic)))
}

/// The same for work on the JS thread: a panic there must reject the call, not throw or abort.
pub fn guard_sync<T>(work: impl FnOnce() -> ApiResult<T>) -> ApiResult<T> {
  std::panic::catch_unwind(AssertUnwindSafe(work))
    .unwrap_or_else(|panic| Err(ApiError::from_panic(panic)))
}

/// The resolved value: the reply's own fields, then `errMsg` and `errCode: 0`, as wx-server-sdk.
pub fn resolved_value(reply: Reply, api: &str) -> ResolvedValue<'_> {
  match reply {
    Reply::Json(fields) => ResolvedValue::Json { fields, api },
    Reply::Media {
      content_type,
      bytes,
    } => ResolvedValue::Media {
      content_type,
      bytes,
      api,
    },
  }
}

/// `errMsg` is made from `api` only where it is needed: for a reply with no fields of its own,
/// index.js's settler takes the one it keeps (`settle::settle_js`).
pub enum ResolvedValue<'a> {
  /// The reply's own fields, then `errMsg` and `errCode`, set straight on the JS object: no map
  /// insertions (hashing, two allocations) for the two keys every reply gets.
  Json {
    fields: Map<String, Value>,
    api: &'a str,
  },
  Media {
    content_type: String,
    bytes: Vec<u8>,
    api: &'a str,
  },
}

/// The `errMsg` of a successful call of `api`.
pub fn ok_message(api: &str) -> String {
  format!("{api}:ok")
}
