//! Instance options (CONTRACT.md section 2), read from the options object as JSON text, with the
//! environment variables as fallbacks, and checked once, when the instance is made.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::table::{user_routes, Table};
use crate::token::{Credentials, TokenEndpoint, TokenSource};

pub const DEFAULT_BASE_URL: &str = "https://api.weixin.qq.com";
pub const TOKENLESS_BASE_URL: &str = "http://api.weixin.qq.com";

/// Where the environment is read from; a trait so tests need not touch the process environment.
pub trait EnvSource {
  fn var(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
  fn var(&self, name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
  }
}

pub struct Options {
  pub credentials: Credentials,
  pub api_base_url: String,
  pub timeout: Duration,
  pub retries: u32,
  pub max_concurrency: usize,
  pub apis: Table,
}

impl Options {
  /// [`Options::resolve`] of the options object as JSON text.
  pub fn from_json(
    text: &str,
    provider: Option<Arc<dyn TokenSource>>,
    env: &dyn EnvSource,
  ) -> ApiResult<Self> {
    let options: Map<String, Value> = serde_json::from_str(text)
      .map_err(|e| ApiError::invalid(format!("options must be a plain object: {e}")))?;
    Self::resolve(&options, provider, env)
  }

  /// `options` is the options object's JSON (functions left out); `provider` is `getAccessToken`
  /// when it is a function. Unknown keys (wx-server-sdk's `env`, `traceUser`, …) are ignored.
  pub fn resolve(
    options: &Map<String, Value>,
    provider: Option<Arc<dyn TokenSource>>,
    env: &dyn EnvSource,
  ) -> ApiResult<Self> {
    let read = Reader(options);
    if read.present("getAccessToken") {
      return Err(ApiError::invalid(
        "options.getAccessToken must be a function",
      ));
    }
    let tokenless = match read.boolean("tokenless")? {
      Some(flag) => flag,
      None => env
        .var("WX_TOKENLESS")
        .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true")),
    };
    let token_endpoint = match read.string("tokenEndpoint")?.as_deref() {
      None | Some("stable") => TokenEndpoint::Stable,
      Some("classic") => TokenEndpoint::Classic,
      Some(other) => {
        return Err(ApiError::invalid(format!(
          "options.tokenEndpoint must be 'stable' or 'classic', got {other:?}"
        )))
      }
    };
    let credentials = credentials(
      provider,
      tokenless,
      token_endpoint,
      [
        (
          read.string("accessToken")?,
          read.string("appid")?,
          read.string("secret")?,
        ),
        (
          env.var("WX_ACCESS_TOKEN"),
          env.var("WX_APPID"),
          env.var("WX_APPSECRET"),
        ),
      ],
    );
    let api_base_url = match read
      .string("apiBaseUrl")?
      .or_else(|| env.var("WX_API_BASE_URL"))
    {
      Some(url) => check_base_url(&url)?,
      None if tokenless => TOKENLESS_BASE_URL.to_string(),
      None => DEFAULT_BASE_URL.to_string(),
    };
    let timeout_ms = read.bounded("timeout", 10_000.0, 1.0, 600_000.0, false)?;
    let retries = read.bounded("retries", 2.0, 0.0, 10.0, true)?;
    let max_concurrency = read.bounded("maxConcurrency", 64.0, 1.0, 100_000.0, true)?;
    let apis = match options.get("apis") {
      None | Some(Value::Null) => Table::default(),
      Some(Value::Object(apis)) => user_routes(apis)?,
      Some(_) => {
        return Err(ApiError::invalid(
          "options.apis must be an object { 'ns.method': { method, path } }",
        ))
      }
    };
    Ok(Self {
      credentials,
      api_base_url,
      timeout: Duration::from_secs_f64(timeout_ms / 1000.0),
      retries: retries as u32,
      max_concurrency: max_concurrency as usize,
      apis,
    })
  }
}

/// CONTRACT.md: `tokenless`, then `getAccessToken`, then `accessToken`, then `appid`+`secret`;
/// a source given in the options wins over one from the environment.
fn credentials(
  provider: Option<Arc<dyn TokenSource>>,
  tokenless: bool,
  endpoint: TokenEndpoint,
  layers: [(Option<String>, Option<String>, Option<String>); 2],
) -> Credentials {
  if tokenless {
    return Credentials::Tokenless;
  }
  if let Some(provider) = provider {
    return Credentials::Provider(provider);
  }
  let mut partial = None;
  for (access_token, appid, secret) in layers {
    match (access_token, appid, secret) {
      (Some(token), _, _) => return Credentials::Fixed(token),
      (None, Some(appid), Some(secret)) => {
        return Credentials::AppSecret {
          appid,
          secret,
          endpoint,
        }
      }
      (None, Some(_), None) => {
        partial = partial.or(Some(
          "the AppSecret is missing: set options.secret or WX_APPSECRET",
        ))
      }
      (None, None, Some(_)) => {
        partial = partial.or(Some("the appid is missing: set options.appid or WX_APPID"))
      }
      (None, None, None) => {}
    }
  }
  Credentials::Missing(
    partial
      .unwrap_or(
        "no credentials configured: pass appid and secret, accessToken or getAccessToken to init(), \
         or set WX_APPID and WX_APPSECRET (or WX_ACCESS_TOKEN), or tokenless: true on WeChat Cloud Run",
      )
      .to_string(),
  )
}

fn check_base_url(url: &str) -> ApiResult<String> {
  let parsed = reqwest::Url::parse(url)
    .map_err(|e| ApiError::invalid(format!("apiBaseUrl {url:?} is not a URL: {e}")))?;
  if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
    return Err(ApiError::invalid(format!(
      "apiBaseUrl {url:?} must be an http or https URL"
    )));
  }
  Ok(url.trim_end_matches('/').to_string())
}

/// Typed reads of the options object; each error names the option.
struct Reader<'a>(&'a Map<String, Value>);

impl Reader<'_> {
  fn present(&self, name: &str) -> bool {
    !matches!(self.0.get(name), None | Some(Value::Null))
  }

  fn string(&self, name: &str) -> ApiResult<Option<String>> {
    match self.0.get(name) {
      None | Some(Value::Null) => Ok(None),
      Some(Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.is_empty())),
      Some(_) => Err(ApiError::invalid(format!(
        "options.{name} must be a string"
      ))),
    }
  }

  fn boolean(&self, name: &str) -> ApiResult<Option<bool>> {
    match self.0.get(name) {
      None | Some(Value::Null) => Ok(None),
      Some(Value::Bool(b)) => Ok(Some(*b)),
      Some(_) => Err(ApiError::invalid(format!(
        "options.{name} must be a boolean"
      ))),
    }
  }

  fn bounded(&self, name: &str, default: f64, min: f64, max: f64, integer: bool) -> ApiResult<f64> {
    let kind = if integer { "an integer" } else { "a number" };
    let value = match self.0.get(name) {
      None | Some(Value::Null) => default,
      Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
      Some(other) => {
        return Err(ApiError::invalid(format!(
          "options.{name} must be {kind} from {min} to {max}, got {other}"
        )))
      }
    };
    if !value.is_finite() || value < min || value > max || (integer && value.fract() != 0.0) {
      return Err(ApiError::invalid(format!(
        "options.{name} must be {kind} from {min} to {max}, got {value}"
      )));
    }
    Ok(value)
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::collections::HashMap;

  struct FakeEnv(HashMap<&'static str, &'static str>);
  impl EnvSource for FakeEnv {
    fn var(&self, name: &str) -> Option<String> {
      self.0.get(name).map(|v| v.to_string())
    }
  }
  fn env(pairs: &[(&'static str, &'static str)]) -> FakeEnv {
    FakeEnv(pairs.iter().copied().collect())
  }
  fn resolve(options: Value, vars: &[(&'static str, &'static str)]) -> ApiResult<Options> {
    Options::resolve(options.as_object().unwrap(), None, &env(vars))
  }

  #[test]
  fn defaults() {
    let c = resolve(serde_json::json!({}), &[]).ok().unwrap();
    assert_eq!(c.api_base_url, DEFAULT_BASE_URL);
    assert_eq!(c.timeout, Duration::from_secs(10));
    assert_eq!(c.retries, 2);
    assert_eq!(c.max_concurrency, 64);
    assert!(matches!(c.credentials, Credentials::Missing(_)));
  }

  #[test]
  fn options_win_over_environment() {
    let c = resolve(
      serde_json::json!({ "appid": "wxopt", "secret": "s" }),
      &[("WX_ACCESS_TOKEN", "envtoken")],
    )
    .ok()
    .unwrap();
    assert!(matches!(c.credentials, Credentials::AppSecret { ref appid, .. } if appid == "wxopt"));
  }

  #[test]
  fn environment_fallbacks() {
    let c = resolve(
      serde_json::json!({}),
      &[
        ("WX_APPID", "wxenv"),
        ("WX_APPSECRET", "sec"),
        ("WX_API_BASE_URL", "http://127.0.0.1:9/"),
      ],
    )
    .ok()
    .unwrap();
    assert!(matches!(c.credentials, Credentials::AppSecret { ref appid, .. } if appid == "wxenv"));
    assert_eq!(c.api_base_url, "http://127.0.0.1:9");
  }

  #[test]
  fn tokenless_changes_default_base_url() {
    let c = resolve(
      serde_json::json!({}),
      &[("WX_TOKENLESS", "1"), ("WX_ACCESS_TOKEN", "t")],
    )
    .ok()
    .unwrap();
    assert!(matches!(c.credentials, Credentials::Tokenless));
    assert_eq!(c.api_base_url, TOKENLESS_BASE_URL);
  }

  #[test]
  fn half_configured_credentials_say_what_is_missing() {
    match resolve(serde_json::json!({ "appid": "a" }), &[])
      .ok()
      .unwrap()
      .credentials
    {
      Credentials::Missing(why) => assert!(why.contains("WX_APPSECRET"), "{why}"),
      _ => panic!("expected missing credentials"),
    }
  }

  #[test]
  fn bad_options_name_the_option() {
    for (options, name) in [
      (serde_json::json!({ "timeout": 0 }), "options.timeout"),
      (serde_json::json!({ "timeout": "5" }), "options.timeout"),
      (serde_json::json!({ "retries": 1.5 }), "options.retries"),
      (
        serde_json::json!({ "maxConcurrency": null, "appid": 5 }),
        "options.appid",
      ),
      (serde_json::json!({ "apiBaseUrl": "ftp://x" }), "apiBaseUrl"),
      (
        serde_json::json!({ "tokenEndpoint": "new" }),
        "options.tokenEndpoint",
      ),
      (
        serde_json::json!({ "tokenless": "yes" }),
        "options.tokenless",
      ),
      (
        serde_json::json!({ "getAccessToken": "tok" }),
        "options.getAccessToken",
      ),
      (serde_json::json!({ "apis": [] }), "options.apis"),
    ] {
      let err = resolve(options, &[]).err().unwrap();
      assert_eq!(err.code, -401001);
      assert!(err.detail.contains(name), "{}", err.detail);
    }
  }
}
