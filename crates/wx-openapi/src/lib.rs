//! wx-openapi: WeChat's cloud-callable OpenAPI over HTTPS, as wx-server-sdk's `cloud.openapi`
//! behaves (CONTRACT.md): the call table, params and their checks, access tokens, retries and the
//! HTTP client. It knows nothing of JS; the napi binding at the repository's root adapts it.
#![forbid(unsafe_code)]

pub mod case;
pub mod client;
pub mod error;
pub mod http;
pub mod options;
pub mod params;
pub mod reply;
pub mod request;
pub mod table;
pub mod tls;
pub mod token;
pub mod validate;

pub use client::{guard, guard_sync, Client, Prepared};
pub use error::{code, ApiError, ApiResult};
pub use options::{Options, ProcessEnv};
pub use params::Params;
pub use reply::Reply;
pub use token::TokenSource;

/// The pure parts, for the fuzz targets in `fuzz/`; not a public API.
#[doc(hidden)]
pub mod fuzzing {
  pub use crate::case::{camel_to_snake, map_to_camel, snake_to_camel};
  pub use crate::error::ApiError;
  pub use crate::params::Params;

  /// Runs the checks and request building of each `customerServiceMessage` call on `params`, as a
  /// call would before sending. Returns the outcome per call (its short name).
  pub fn prepare_all(
    params: &Params,
    convert_case: bool,
  ) -> Vec<(&'static str, Result<(), ApiError>)> {
    ["send", "setTyping", "uploadTempMedia", "getTempMedia"]
      .into_iter()
      .map(|name| {
        let outcome = crate::table::find(
          &crate::table::Table::default(),
          &format!("customerServiceMessage.{name}"),
        )
        .and_then(|route| crate::request::build(route, params.clone(), convert_case))
        .map(|_| ());
        (name, outcome)
      })
      .collect()
  }
}
