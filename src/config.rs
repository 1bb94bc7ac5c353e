//! Instance options (CONTRACT.md section 2): read from the JS options object, with the
//! environment variables as fallbacks, and checked once, at `init`.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::ValueType;

use crate::error::{ApiError, ApiResult};
use crate::token::{Credentials, TokenEndpoint, TokenProvider};

pub const DEFAULT_BASE_URL: &str = "https://api.weixin.qq.com";
pub const TOKENLESS_BASE_URL: &str = "http://api.weixin.qq.com";

#[derive(Debug)]
pub struct Config {
  pub credentials: Credentials,
  pub api_base_url: String,
  pub timeout: Duration,
  pub retries: u32,
  pub max_concurrency: usize,
}

/// What the options object says, before the environment fills the gaps.
#[derive(Default)]
pub struct RawOptions {
  pub appid: Option<String>,
  pub secret: Option<String>,
  pub access_token: Option<String>,
  pub get_access_token: Option<TokenProvider>,
  pub token_endpoint: Option<String>,
  pub tokenless: Option<bool>,
  pub api_base_url: Option<String>,
  pub timeout_ms: Option<f64>,
  pub retries: Option<f64>,
  pub max_concurrency: Option<f64>,
}

impl RawOptions {
  /// Reads the options object. Unknown keys (wx-server-sdk's `env`, `traceUser`, …) are ignored.
  pub fn from_js(options: Option<Object<'_>>) -> ApiResult<Self> {
    let Some(options) = options else {
      return Ok(Self::default());
    };
    Ok(Self {
      appid: string_option(&options, "appid")?,
      secret: string_option(&options, "secret")?,
      access_token: string_option(&options, "accessToken")?,
      get_access_token: function_option(&options, "getAccessToken")?,
      token_endpoint: string_option(&options, "tokenEndpoint")?,
      tokenless: bool_option(&options, "tokenless")?,
      api_base_url: string_option(&options, "apiBaseUrl")?,
      timeout_ms: number_option(&options, "timeout")?,
      retries: number_option(&options, "retries")?,
      max_concurrency: number_option(&options, "maxConcurrency")?,
    })
  }
}

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

impl Config {
  pub fn resolve(options: RawOptions, env: &dyn EnvSource) -> ApiResult<Self> {
    let tokenless = match options.tokenless {
      Some(flag) => flag,
      None => env
        .var("WX_TOKENLESS")
        .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true")),
    };
    let token_endpoint = match options.token_endpoint.as_deref() {
      None | Some("stable") => TokenEndpoint::Stable,
      Some("classic") => TokenEndpoint::Classic,
      Some(other) => {
        return Err(ApiError::invalid(format!(
          "options.tokenEndpoint must be 'stable' or 'classic', got {other:?}"
        )))
      }
    };
    let credentials = credentials(
      options.get_access_token,
      tokenless,
      token_endpoint,
      [
        (options.access_token, options.appid, options.secret),
        (
          env.var("WX_ACCESS_TOKEN"),
          env.var("WX_APPID"),
          env.var("WX_APPSECRET"),
        ),
      ],
    );

    let api_base_url = match options.api_base_url.or_else(|| env.var("WX_API_BASE_URL")) {
      Some(url) => check_base_url(&url)?,
      None if tokenless => TOKENLESS_BASE_URL.to_string(),
      None => DEFAULT_BASE_URL.to_string(),
    };
    let timeout_ms = bounded(
      "timeout",
      options.timeout_ms,
      10_000.0,
      1.0,
      600_000.0,
      false,
    )?;
    let retries = bounded("retries", options.retries, 2.0, 0.0, 10.0, true)?;
    let max_concurrency = bounded(
      "maxConcurrency",
      options.max_concurrency,
      64.0,
      1.0,
      100_000.0,
      true,
    )?;
    Ok(Self {
      credentials,
      api_base_url,
      timeout: Duration::from_secs_f64(timeout_ms / 1000.0),
      retries: retries as u32,
      max_concurrency: max_concurrency as usize,
    })
  }
}

/// CONTRACT.md: `tokenless`, then `getAccessToken`, then `accessToken`, then `appid`+`secret`;
/// a source given in the options wins over one from the environment.
fn credentials(
  provider: Option<TokenProvider>,
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
  let parsed = url
    .parse::<http::Uri>()
    .map_err(|e| ApiError::invalid(format!("apiBaseUrl {url:?} is not a URL: {e}")))?;
  if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() {
    return Err(ApiError::invalid(format!(
      "apiBaseUrl {url:?} must be an http or https URL"
    )));
  }
  Ok(url.trim_end_matches('/').to_string())
}

fn bounded(
  name: &str,
  value: Option<f64>,
  default: f64,
  min: f64,
  max: f64,
  integer: bool,
) -> ApiResult<f64> {
  let value = value.unwrap_or(default);
  if !value.is_finite() || value < min || value > max || (integer && value.fract() != 0.0) {
    let kind = if integer { "an integer" } else { "a number" };
    return Err(ApiError::invalid(format!(
      "options.{name} must be {kind} from {min} to {max}, got {value}"
    )));
  }
  Ok(value)
}

fn present<'env>(options: &Object<'env>, name: &str) -> ApiResult<Option<Unknown<'env>>> {
  let value: Unknown = options
    .get_named_property(name)
    .map_err(|e| ApiError::invalid(format!("options.{name} could not be read: {}", e.reason)))?;
  match value.get_type() {
    Ok(ValueType::Undefined | ValueType::Null) => Ok(None),
    Ok(_) => Ok(Some(value)),
    Err(e) => Err(ApiError::invalid(format!(
      "options.{name} could not be read: {}",
      e.reason
    ))),
  }
}

fn expect_type(name: &str, value: &Unknown<'_>, expected: ValueType, what: &str) -> ApiResult<()> {
  match value.get_type() {
    Ok(t) if t == expected => Ok(()),
    _ => Err(ApiError::invalid(format!("options.{name} must be {what}"))),
  }
}

fn string_option(options: &Object<'_>, name: &str) -> ApiResult<Option<String>> {
  let Some(value) = present(options, name)? else {
    return Ok(None);
  };
  expect_type(name, &value, ValueType::String, "a string")?;
  let s: String = unsafe { value.cast() }.map_err(|e| ApiError::invalid(e.reason))?;
  Ok(Some(s).filter(|s| !s.is_empty()))
}

fn bool_option(options: &Object<'_>, name: &str) -> ApiResult<Option<bool>> {
  let Some(value) = present(options, name)? else {
    return Ok(None);
  };
  expect_type(name, &value, ValueType::Boolean, "a boolean")?;
  unsafe { value.cast() }
    .map(Some)
    .map_err(|e| ApiError::invalid(e.reason))
}

fn number_option(options: &Object<'_>, name: &str) -> ApiResult<Option<f64>> {
  let Some(value) = present(options, name)? else {
    return Ok(None);
  };
  expect_type(name, &value, ValueType::Number, "a number")?;
  unsafe { value.cast() }
    .map(Some)
    .map_err(|e| ApiError::invalid(e.reason))
}

fn function_option(options: &Object<'_>, name: &str) -> ApiResult<Option<TokenProvider>> {
  let Some(value) = present(options, name)? else {
    return Ok(None);
  };
  expect_type(name, &value, ValueType::Function, "a function")?;
  TokenProvider::from_js(value).map(Some)
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

  #[test]
  fn defaults() {
    let c = Config::resolve(RawOptions::default(), &env(&[])).unwrap();
    assert_eq!(c.api_base_url, DEFAULT_BASE_URL);
    assert_eq!(c.timeout, Duration::from_secs(10));
    assert_eq!(c.retries, 2);
    assert_eq!(c.max_concurrency, 64);
    assert!(matches!(c.credentials, Credentials::Missing(_)));
  }

  #[test]
  fn options_win_over_environment() {
    let options = RawOptions {
      appid: Some("wxopt".into()),
      secret: Some("s".into()),
      ..Default::default()
    };
    let c = Config::resolve(options, &env(&[("WX_ACCESS_TOKEN", "envtoken")])).unwrap();
    assert!(matches!(c.credentials, Credentials::AppSecret { ref appid, .. } if appid == "wxopt"));
  }

  #[test]
  fn environment_fallbacks() {
    let c = Config::resolve(
      RawOptions::default(),
      &env(&[
        ("WX_APPID", "wxenv"),
        ("WX_APPSECRET", "sec"),
        ("WX_API_BASE_URL", "http://127.0.0.1:9/"),
      ]),
    )
    .unwrap();
    assert!(matches!(c.credentials, Credentials::AppSecret { ref appid, .. } if appid == "wxenv"));
    assert_eq!(c.api_base_url, "http://127.0.0.1:9");
  }

  #[test]
  fn tokenless_changes_default_base_url() {
    let c = Config::resolve(
      RawOptions::default(),
      &env(&[("WX_TOKENLESS", "1"), ("WX_ACCESS_TOKEN", "t")]),
    )
    .unwrap();
    assert!(matches!(c.credentials, Credentials::Tokenless));
    assert_eq!(c.api_base_url, TOKENLESS_BASE_URL);
  }

  #[test]
  fn fixed_token_before_appid_and_secret() {
    let options = RawOptions {
      access_token: Some("t".into()),
      appid: Some("a".into()),
      secret: Some("s".into()),
      ..Default::default()
    };
    assert!(matches!(
      Config::resolve(options, &env(&[])).unwrap().credentials,
      Credentials::Fixed(_)
    ));
  }

  #[test]
  fn half_configured_credentials_say_what_is_missing() {
    let options = RawOptions {
      appid: Some("a".into()),
      ..Default::default()
    };
    match Config::resolve(options, &env(&[])).unwrap().credentials {
      Credentials::Missing(why) => assert!(why.contains("WX_APPSECRET"), "{why}"),
      _ => panic!("expected missing credentials"),
    }
  }

  #[test]
  fn bad_numbers_name_the_option() {
    for (options, name) in [
      (
        RawOptions {
          timeout_ms: Some(0.0),
          ..Default::default()
        },
        "options.timeout",
      ),
      (
        RawOptions {
          retries: Some(1.5),
          ..Default::default()
        },
        "options.retries",
      ),
      (
        RawOptions {
          max_concurrency: Some(f64::NAN),
          ..Default::default()
        },
        "options.maxConcurrency",
      ),
      (
        RawOptions {
          api_base_url: Some("ftp://x".into()),
          ..Default::default()
        },
        "apiBaseUrl",
      ),
      (
        RawOptions {
          token_endpoint: Some("new".into()),
          ..Default::default()
        },
        "options.tokenEndpoint",
      ),
    ] {
      let err = Config::resolve(options, &env(&[])).unwrap_err();
      assert_eq!(err.code, -401001);
      assert!(err.detail.contains(name), "{}", err.detail);
    }
  }
}
