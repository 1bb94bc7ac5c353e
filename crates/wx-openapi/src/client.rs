//! One configured instance (`init`, `createNewInstance`): its transport, its token cache and its
//! own routes, and the run of one call from name and params to outcome.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;

use crate::error::{ApiError, ApiResult};
use crate::http::{HttpRequest, Transport};
use crate::options::Options;
use crate::params::Params;
use crate::reply::{interpret, Reply};
use crate::table::{self, ReplyKind, Table};
use crate::token::{TokenWait, Tokens};

pub struct Client {
  transport: Arc<Transport>,
  tokens: Arc<Tokens>,
  apis: Table,
}

/// A call checked and ready to send: its request, what its reply is, and its token.
pub struct Prepared {
  reply: ReplyKind,
  request: HttpRequest,
  token: TokenWait,
}

impl Client {
  pub fn new(options: Options) -> ApiResult<Self> {
    let transport = Arc::new(Transport::new(
      &options.api_base_url,
      options.timeout,
      options.retries,
      options.max_concurrency,
    )?);
    let tokens = Arc::new(Tokens::new(
      options.credentials,
      Arc::clone(&transport),
      options.timeout,
    ));
    Ok(Self {
      transport,
      tokens,
      apis: options.apis,
    })
  }

  /// Finds the call's row and checks its params: everything that can be refused before anything
  /// is sent, in this order: an unknown name `-604100`, params that could not be read or are bad
  /// `-401001`. Then takes the call's token, or its place in the token fetch (`Tokens::current`).
  pub fn prepare(
    &self,
    name: &str,
    params: ApiResult<Params>,
    convert_case: bool,
  ) -> ApiResult<Prepared> {
    let route = table::find(&self.apis, name)?;
    let request = crate::request::build(route, params?, convert_case)?;
    Ok(Prepared {
      reply: route.reply,
      request,
      token: self.tokens.current(),
    })
  }

  /// Sends a prepared call with the instance's token, and retries once with a fresh token if
  /// WeChat rejects the token. Errors never carry the token or the secret.
  pub async fn run(&self, call: Prepared, convert_case: bool) -> ApiResult<Reply> {
    let mut token = call.token.get().await?;
    let mut rejected_once = false;
    let outcome = loop {
      let outcome = self
        .transport
        .execute(&call.request, token.as_deref(), |reply| {
          interpret(reply, call.reply, convert_case)
        })
        .await;
      match (outcome, &token) {
        (Err(e), Some(used)) if e.is_token_rejected() && !rejected_once => {
          rejected_once = true;
          match self.tokens.after_rejection(used).await? {
            Some(fresh) => token = Some(fresh),
            None => break Err(e.redact(&[used])),
          }
        }
        (outcome, used) => {
          break outcome.map_err(|e| e.redact(&[used.as_deref().unwrap_or_default()]))
        }
      }
    };
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

/// The same for work done before the call is handed to the runtime.
pub fn guard_sync<T>(work: impl FnOnce() -> ApiResult<T>) -> ApiResult<T> {
  std::panic::catch_unwind(AssertUnwindSafe(work))
    .unwrap_or_else(|panic| Err(ApiError::from_panic(panic)))
}
