//! Access tokens (CONTRACT.md section 6): the sources, the per-instance cache, single flight,
//! and what happens when WeChat rejects a token.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt, Shared};
use http::Method;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::error::{code, ApiError, ApiResult};
use crate::transport::{Body, Delivery, HttpRequest, Transport, MAX_JSON_REPLY};
use crate::wechat::{bad_reply, json_reply};

/// A forced refresh spends WeChat's daily quota: at most one per this long per appid.
const FORCE_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// Refresh once fewer than min(this, expires_in / 2) seconds remain.
const REFRESH_MARGIN_SECS: u64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEndpoint {
  /// `POST /cgi-bin/stable_token`: the same token for every caller until it expires, so
  /// processes that share an appid do not invalidate each other's tokens.
  Stable,
  /// `GET /cgi-bin/token`: each fetch issues a new token.
  Classic,
}

/// The user's `getAccessToken`. The JS facade wraps it so that it always returns a promise of
/// the JSON text of what the user's function returned.
pub struct TokenProvider(ThreadsafeFunction<bool, Promise<String>, bool, Status, false, true>);

impl std::fmt::Debug for TokenProvider {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str("TokenProvider")
  }
}

impl TokenProvider {
  pub fn from_js(value: Unknown<'_>) -> ApiResult<Self> {
    let function: Function<bool, Promise<String>> = unsafe { value.cast() }
      .map_err(|e| ApiError::invalid(format!("options.getAccessToken: {}", e.reason)))?;
    let tsfn = function
      .build_threadsafe_function::<bool>()
      .callee_handled::<false>()
      // Weak: an idle instance must not keep the process alive; a call in flight already does.
      .weak::<true>()
      .build()
      .map_err(|e| ApiError::internal(format!("options.getAccessToken: {}", e.reason)))?;
    Ok(Self(tsfn))
  }

  async fn fetch(&self, force_refresh: bool) -> ApiResult<Fresh> {
    let failed = |reason: String| {
      ApiError::new(
        code::NO_CREDENTIALS,
        format!("getAccessToken failed: {reason}"),
      )
    };
    let promise = self
      .0
      .call_async(force_refresh)
      .await
      .map_err(|e| failed(e.reason))?;
    let text = promise.await.map_err(|e| failed(e.reason))?;
    parse_provider_result(&text)
  }
}

fn parse_provider_result(text: &str) -> ApiResult<Fresh> {
  let shape_error = || {
    ApiError::new(
      code::NO_CREDENTIALS,
      "getAccessToken must return a non-empty string or { accessToken: string, expiresIn?: number } (or a promise of one)",
    )
  };
  match serde_json::from_str::<Value>(text).map_err(|_| shape_error())? {
    Value::String(token) if !token.is_empty() => Ok(Fresh {
      token: token.into(),
      expires_in: None,
    }),
    Value::Object(map) => {
      let token = match map.get("accessToken") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        _ => return Err(shape_error()),
      };
      let expires_in = match map.get("expiresIn") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_f64().is_some_and(|s| s > 0.0) => {
          Some(n.as_f64().unwrap_or(0.0) as u64)
        }
        Some(_) => return Err(shape_error()),
      };
      Ok(Fresh {
        token: token.into(),
        expires_in,
      })
    }
    _ => Err(shape_error()),
  }
}

#[derive(Debug)]
pub enum Credentials {
  Tokenless,
  Provider(TokenProvider),
  Fixed(String),
  AppSecret {
    appid: String,
    secret: String,
    endpoint: TokenEndpoint,
  },
  /// Nothing usable was configured; the text says what to set.
  Missing(String),
}

/// A token as its source gave it: `expires_in` is None when it must not be cached.
#[derive(Debug, Clone)]
struct Fresh {
  token: Arc<str>,
  expires_in: Option<u64>,
}

struct Cached {
  token: Arc<str>,
  refresh_at: Instant,
}

type SharedFetch = Shared<BoxFuture<'static, ApiResult<Arc<str>>>>;

#[derive(Default)]
struct CacheState {
  current: Option<Cached>,
  /// The fetch in flight, shared by every caller that needs a token meanwhile.
  inflight: Option<SharedFetch>,
  last_forced: Option<Instant>,
}

/// How long a token that expires in `expires_in` seconds is used: until fewer than
/// min(300, expires_in / 2) seconds remain.
fn usable_for(expires_in: u64) -> Duration {
  Duration::from_secs(expires_in - REFRESH_MARGIN_SECS.min(expires_in / 2))
}

impl CacheState {
  fn may_force_refresh(&self, now: Instant) -> bool {
    self
      .last_forced
      .is_none_or(|at| now.duration_since(at) >= FORCE_REFRESH_INTERVAL)
  }

  fn valid(&self) -> Option<Arc<str>> {
    self
      .current
      .as_ref()
      .filter(|c| Instant::now() < c.refresh_at)
      .map(|c| c.token.clone())
  }

  /// Compare-and-expire: forget the cached token only if it is still the one that failed, so a
  /// token another call already refreshed is not thrown away.
  fn expire_if(&mut self, failed: &str) {
    if self.current.as_ref().is_some_and(|c| &*c.token == failed) {
      self.current = None;
    }
  }
}

pub struct Tokens {
  credentials: Credentials,
  transport: Arc<Transport>,
  state: Mutex<CacheState>,
}

impl Tokens {
  pub fn new(credentials: Credentials, transport: Arc<Transport>) -> Self {
    Self {
      credentials,
      transport,
      state: Mutex::new(CacheState::default()),
    }
  }

  /// The values no error text may ever contain, besides the tokens a call used.
  pub fn secret(&self) -> Option<&str> {
    match &self.credentials {
      Credentials::AppSecret { secret, .. } => Some(secret),
      Credentials::Fixed(token) => Some(token),
      _ => None,
    }
  }

  /// The token for the next request; `None` in tokenless mode, where the platform authenticates.
  pub async fn current(self: &Arc<Self>) -> ApiResult<Option<Arc<str>>> {
    match &self.credentials {
      Credentials::Tokenless => Ok(None),
      Credentials::Fixed(token) => Ok(Some(token.as_str().into())),
      Credentials::Missing(why) => Err(ApiError::no_credentials(why.clone())),
      Credentials::Provider(_) | Credentials::AppSecret { .. } => {
        self.shared_fetch(false).await.map(Some)
      }
    }
  }

  /// WeChat rejected `failed` (40001, 40014, 42001). Returns the token to retry the call with once,
  /// or `None` when nothing better can be had and the rejection should stand.
  pub async fn after_rejection(self: &Arc<Self>, failed: &str) -> ApiResult<Option<Arc<str>>> {
    let force_at_once = match &self.credentials {
      Credentials::Provider(_) => true,
      Credentials::AppSecret { .. } => false,
      _ => return Ok(None),
    };
    {
      let mut state = self.lock();
      state.expire_if(failed);
      if let Some(token) = state.valid() {
        return Ok(Some(token));
      }
    }
    if force_at_once {
      return self.shared_fetch(true).await.map(Some);
    }
    let fresh = self.shared_fetch(false).await?;
    if &*fresh != failed {
      return Ok(Some(fresh));
    }
    // WeChat handed back the very token it just rejected: only a forced refresh helps, and
    // those are rationed.
    {
      let mut state = self.lock();
      let now = Instant::now();
      if !state.may_force_refresh(now) {
        return Ok(None);
      }
      state.last_forced = Some(now);
      state.expire_if(failed);
    }
    self.shared_fetch(true).await.map(Some)
  }

  fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
    self
      .state
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  /// Single flight: the cached token if still good, else the fetch in flight, else a new one.
  async fn shared_fetch(self: &Arc<Self>, force: bool) -> ApiResult<Arc<str>> {
    let fetch = {
      let mut state = self.lock();
      if !force {
        if let Some(token) = state.valid() {
          return Ok(token);
        }
      }
      match &state.inflight {
        Some(fetch) => fetch.clone(),
        None => {
          let this = Arc::clone(self);
          let fetch = async move { this.fetch_and_store(force).await }
            .boxed()
            .shared();
          state.inflight = Some(fetch.clone());
          fetch
        }
      }
    };
    fetch.await
  }

  async fn fetch_and_store(&self, force: bool) -> ApiResult<Arc<str>> {
    let result = match &self.credentials {
      Credentials::Provider(provider) => provider.fetch(force).await,
      Credentials::AppSecret {
        appid,
        secret,
        endpoint,
      } => {
        self
          .fetch_from_wechat(appid, secret, *endpoint, force)
          .await
      }
      _ => Err(ApiError::internal("no token source to fetch from")),
    };
    let mut state = self.lock();
    state.inflight = None;
    // A failed fetch is never cached: the next call tries again.
    let fresh = result?;
    if let Some(expires_in) = fresh.expires_in {
      state.current = Some(Cached {
        token: fresh.token.clone(),
        refresh_at: Instant::now() + usable_for(expires_in),
      });
    }
    Ok(fresh.token)
  }

  async fn fetch_from_wechat(
    &self,
    appid: &str,
    secret: &str,
    endpoint: TokenEndpoint,
    force: bool,
  ) -> ApiResult<Fresh> {
    let request = match endpoint {
      TokenEndpoint::Stable => HttpRequest {
        method: Method::POST,
        path: "/cgi-bin/stable_token",
        query: Vec::new(),
        body: Body::Json(
          serde_json::to_vec(&json!({
            "grant_type": "client_credential",
            "appid": appid,
            "secret": secret,
            "force_refresh": force,
          }))
          .unwrap_or_default()
          .into(),
        ),
        // A repeated forced refresh would spend quota twice; a plain one is a read.
        delivery: if force {
          Delivery::AtMostOnce
        } else {
          Delivery::Repeatable
        },
        max_reply: MAX_JSON_REPLY,
      },
      TokenEndpoint::Classic => HttpRequest {
        method: Method::GET,
        path: "/cgi-bin/token",
        query: vec![
          ("grant_type", "client_credential".to_string()),
          ("appid", appid.to_string()),
          ("secret", secret.to_string()),
        ],
        body: Body::Empty,
        delivery: Delivery::Repeatable,
        max_reply: MAX_JSON_REPLY,
      },
    };
    self
      .transport
      .execute(&request, None, |reply| {
        let map = json_reply(&reply)?;
        let token = match map.get("access_token") {
          Some(Value::String(t)) if !t.is_empty() => t.as_str(),
          _ => return Err(bad_reply(&reply, "the token reply has no access_token")),
        };
        let expires_in = map
          .get("expires_in")
          .and_then(Value::as_u64)
          .unwrap_or(7200);
        Ok(Fresh {
          token: token.into(),
          expires_in: Some(expires_in),
        })
      })
      .await
      .map_err(|e| e.redact(&[secret]))
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn provider_results() {
    let fresh = parse_provider_result(r#""tok""#).unwrap();
    assert_eq!(&*fresh.token, "tok");
    assert_eq!(fresh.expires_in, None);
    let fresh = parse_provider_result(r#"{"accessToken":"tok","expiresIn":7200}"#).unwrap();
    assert_eq!(fresh.expires_in, Some(7200));
    for bad in [
      r#""""#,
      "null",
      "42",
      r#"{"token":"x"}"#,
      r#"{"accessToken":"t","expiresIn":"7200"}"#,
    ] {
      let e = parse_provider_result(bad).unwrap_err();
      assert_eq!(e.code, code::NO_CREDENTIALS, "{bad}");
      assert!(e.detail.contains("getAccessToken"));
    }
  }

  #[test]
  fn tokens_are_refreshed_when_min_300_or_half_the_lifetime_remains() {
    assert_eq!(usable_for(7200), Duration::from_secs(6900));
    assert_eq!(usable_for(400), Duration::from_secs(200));
    assert_eq!(usable_for(1), Duration::from_secs(1));
    assert_eq!(usable_for(0), Duration::ZERO);
  }

  #[tokio::test(start_paused = true)]
  async fn a_cached_token_expires_on_schedule() {
    let state = CacheState {
      current: Some(Cached {
        token: "t".into(),
        refresh_at: Instant::now() + usable_for(7200),
      }),
      ..CacheState::default()
    };
    tokio::time::advance(Duration::from_secs(6899)).await;
    assert_eq!(state.valid().as_deref(), Some("t"));
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(state.valid().is_none());
  }

  #[tokio::test(start_paused = true)]
  async fn forced_refreshes_are_at_most_one_per_30_seconds() {
    let mut state = CacheState::default();
    assert!(state.may_force_refresh(Instant::now()));
    state.last_forced = Some(Instant::now());
    tokio::time::advance(Duration::from_secs(29)).await;
    assert!(!state.may_force_refresh(Instant::now()));
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(state.may_force_refresh(Instant::now()));
  }

  #[test]
  fn compare_and_expire_keeps_a_newer_token() {
    let mut state = CacheState {
      current: Some(Cached {
        token: "new".into(),
        refresh_at: Instant::now() + Duration::from_secs(60),
      }),
      ..Default::default()
    };
    state.expire_if("old");
    assert_eq!(state.valid().as_deref(), Some("new"));
    state.expire_if("new");
    assert!(state.valid().is_none());
  }
}
