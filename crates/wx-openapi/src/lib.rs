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
