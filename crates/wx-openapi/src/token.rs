//! Access tokens (CONTRACT.md section 6): the sources, the per-instance cache, single flight,
//! and what happens when WeChat rejects a token.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt, Shared};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::error::{code, ApiError, ApiResult};
use crate::http::{Body, HttpRequest, Transport, MAX_JSON_REPLY};
use crate::reply::{bad_reply, json_reply};
use crate::table::{Method, Retry};

/// A forced refresh spends WeChat's daily quota: at most one per this long per appid.
const FORCE_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// Refresh once fewer than min(this, expires_in / 2) seconds remain.
const REFRESH_MARGIN_SECS: f64 = 300.0;
/// WeChat's tokens live 7200 s; a longer lifetime from any source is taken as this.
pub const MAX_TOKEN_LIFETIME_SECS: f64 = 7200.0;

/// The user's own token source (`getAccessToken`), as the binding adapts it.
pub trait TokenSource: Send + Sync {
  /// What the source returned, as JSON text: a string, or `{ accessToken, expiresIn? }`. `Err`
  /// carries why it failed (it threw, or its promise rejected).
  fn fetch(&self, force_refresh: bool) -> BoxFuture<'static, Result<String, String>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEndpoint {
  /// `POST /cgi-bin/stable_token`: the same token for every caller until it expires, so
  /// processes that share an appid do not invalidate each other's tokens.
  Stable,
  /// `GET /cgi-bin/token`: each fetch issues a new token.
  Classic,
}

pub enum Credentials {
  Tokenless,
  Provider(Arc<dyn TokenSource>),
  Fixed(String),
  AppSecret {
    appid: String,
    secret: String,
    endpoint: TokenEndpoint,
  },
  /// Nothing usable was configured; the text says what to set.
  Missing(String),
}

/// A token as its source gave it: `lifetime` is None when it must not be cached.
#[derive(Debug, Clone)]
struct Fresh {
  token: Arc<str>,
  lifetime: Option<Duration>,
}

/// `expires_in` as seconds: a positive finite number, at most [`MAX_TOKEN_LIFETIME_SECS`].
fn lifetime(value: &Value) -> Option<Duration> {
  let secs = value.as_f64().filter(|s| s.is_finite() && *s > 0.0)?;
  Some(Duration::from_secs_f64(secs.min(MAX_TOKEN_LIFETIME_SECS)))
}

fn parse_provider_result(text: &str) -> ApiResult<Fresh> {
  let shape_error = || {
    ApiError::no_credentials(
      "getAccessToken must return a non-empty string or { accessToken: string, expiresIn?: number } (or a promise of one)",
    )
  };
  match serde_json::from_str::<Value>(text).map_err(|_| shape_error())? {
    Value::String(token) if !token.is_empty() => Ok(Fresh {
      token: token.into(),
      lifetime: None,
    }),
    Value::Object(map) => {
      let token = match map.get("accessToken") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        _ => return Err(shape_error()),
      };
      let lifetime = match map.get("expiresIn") {
        None | Some(Value::Null) => None,
        Some(value) => Some(lifetime(value).ok_or_else(|| {
          ApiError::no_credentials(format!(
            "getAccessToken returned expiresIn {value}: it must be a positive finite number of seconds"
          ))
        })?),
      };
      Ok(Fresh {
        token: token.into(),
        lifetime,
      })
    }
    _ => Err(shape_error()),
  }
}

struct Cached {
  token: Arc<str>,
  refresh_at: Instant,
}

type SharedFetch = Shared<BoxFuture<'static, ApiResult<Arc<str>>>>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
  Plain,
  /// `force_refresh: true` (the stable endpoint), `{ forceRefresh: true }` (a provider).
  Forced,
}

#[derive(Default)]
struct CacheState {
  current: Option<Cached>,
  /// The fetch in flight, shared by every caller that needs a token meanwhile.
  inflight: Option<SharedFetch>,
  last_forced: Option<Instant>,
}

/// How long a token that lives `lifetime` is used: until fewer than min(300 s, lifetime / 2) remain.
fn usable_for(lifetime: Duration) -> Duration {
  let secs = lifetime.as_secs_f64();
  Duration::from_secs_f64(secs - REFRESH_MARGIN_SECS.min(secs / 2.0))
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

/// A call's token: at hand, or the fetch in flight to wait for.
pub enum TokenWait {
  Ready(ApiResult<Option<Arc<str>>>),
  Fetch(SharedFetch),
}

impl TokenWait {
  pub async fn get(self) -> ApiResult<Option<Arc<str>>> {
    match self {
      TokenWait::Ready(token) => token,
      TokenWait::Fetch(fetch) => fetch.await.map(Some),
    }
  }
}

pub struct Tokens {
  credentials: Credentials,
  transport: Arc<Transport>,
  /// How long `getAccessToken` may take.
  timeout: Duration,
  state: Mutex<CacheState>,
}

impl Tokens {
  pub fn new(credentials: Credentials, transport: Arc<Transport>, timeout: Duration) -> Self {
    Self {
      credentials,
      transport,
      timeout,
      state: Mutex::new(CacheState::default()),
    }
  }

  /// The configured secret that no error text may ever contain (besides the tokens a call used).
  pub fn secret(&self) -> Option<&str> {
    match &self.credentials {
      Credentials::AppSecret { secret, .. } => Some(secret),
      Credentials::Fixed(token) => Some(token),
      _ => None,
    }
  }

  /// The token for a call being made now: `None` in tokenless mode, where the platform
  /// authenticates. Taken when the call is made, so that calls made together share one fetch and
  /// its outcome, whichever of them the runtime happens to run first.
  pub fn current(self: &Arc<Self>) -> TokenWait {
    match &self.credentials {
      Credentials::Tokenless => TokenWait::Ready(Ok(None)),
      Credentials::Fixed(token) => TokenWait::Ready(Ok(Some(token.as_str().into()))),
      Credentials::Missing(why) => TokenWait::Ready(Err(ApiError::no_credentials(why.clone()))),
      Credentials::Provider(_) | Credentials::AppSecret { .. } => {
        let mut state = self.lock();
        if let Some(token) = state.valid() {
          return TokenWait::Ready(Ok(Some(token)));
        }
        TokenWait::Fetch(match &state.inflight {
          Some(fetch) => fetch.clone(),
          None => self.start(&mut state, Want::Plain),
        })
      }
    }
  }

  /// WeChat rejected `failed` (40001, 40014, 42001). Returns the token to retry the call with once,
  /// or `None` when nothing better can be had and the rejection should stand.
  pub async fn after_rejection(self: &Arc<Self>, failed: &str) -> ApiResult<Option<Arc<str>>> {
    match &self.credentials {
      // A provider is asked once with forceRefresh: true (shared by the calls rejected meanwhile).
      Credentials::Provider(_) => self.replacement(failed, Want::Forced).await,
      Credentials::AppSecret { .. } => match self.replacement(failed, Want::Plain).await? {
        Some(token) => Ok(Some(token)),
        // WeChat handed back the very token it rejected: only a forced refresh helps, and those
        // are rationed.
        None => self.replacement(failed, Want::Forced).await,
      },
      _ => Ok(None),
    }
  }

  /// A token other than `failed`: the cached one, the outcome of the fetch in flight (a call
  /// rejected while a refresh runs waits for it), or of a new fetch of kind `want`. `None` when a
  /// plain fetch gave `failed` back (only a forced refresh helps then), or a forced refresh gave it
  /// back or is not allowed yet.
  async fn replacement(self: &Arc<Self>, failed: &str, want: Want) -> ApiResult<Option<Arc<str>>> {
    // A forced refresh waits out the plain fetches other calls have in flight, which give
    // `failed` back, then joins or starts the forced one. Bounded: each round waits for a fetch.
    for _ in 0..8 {
      let (fetch, own) = {
        let mut state = self.lock();
        state.expire_if(failed);
        if let Some(token) = state.valid() {
          return Ok(Some(token));
        }
        match &state.inflight {
          Some(fetch) => (fetch.clone(), false),
          None => {
            if want == Want::Forced && matches!(self.credentials, Credentials::AppSecret { .. }) {
              let now = Instant::now();
              if !state.may_force_refresh(now) {
                return Ok(None);
              }
              state.last_forced = Some(now);
            }
            (self.start(&mut state, want), true)
          }
        }
      };
      let token = fetch.await?;
      if &*token != failed {
        return Ok(Some(token));
      }
      if own || want == Want::Plain {
        return Ok(None);
      }
    }
    Ok(None)
  }

  fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
    self
      .state
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  /// Starts a fetch and records it as the one in flight.
  fn start(self: &Arc<Self>, state: &mut CacheState, want: Want) -> SharedFetch {
    let this = Arc::clone(self);
    let fetch = async move { this.fetch_and_store(want).await }
      .boxed()
      .shared();
    state.inflight = Some(fetch.clone());
    fetch
  }

  async fn fetch_and_store(&self, want: Want) -> ApiResult<Arc<str>> {
    let force = want == Want::Forced;
    let result = match &self.credentials {
      Credentials::Provider(provider) => self.ask_provider(provider.as_ref(), force).await,
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
    if let Some(lifetime) = fresh.lifetime {
      state.current = Some(Cached {
        token: fresh.token.clone(),
        refresh_at: Instant::now() + usable_for(lifetime),
      });
    }
    Ok(fresh.token)
  }

  /// The provider's answer within `timeout`: one that never settles is abandoned, so that the next
  /// call asks again.
  async fn ask_provider(&self, provider: &dyn TokenSource, force: bool) -> ApiResult<Fresh> {
    match tokio::time::timeout(self.timeout, provider.fetch(force)).await {
      Err(_) => Err(ApiError::new(
        code::TIMEOUT,
        format!(
          "getAccessToken did not settle within {} ms (the timeout option)",
          self.timeout.as_millis()
        ),
      )),
      Ok(Err(reason)) => Err(ApiError::no_credentials(format!(
        "getAccessToken failed: {reason}"
      ))),
      Ok(Ok(text)) => parse_provider_result(&text),
    }
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
        method: Method::Post,
        path: "/cgi-bin/stable_token".into(),
        query: Vec::new(),
        body: Body::Json(
          json!({
            "grant_type": "client_credential",
            "appid": appid,
            "secret": secret,
            "force_refresh": force,
          })
          .to_string()
          .into(),
        ),
        // A repeated forced refresh would spend quota twice; a plain one is a read.
        retry: if force { Retry::Write } else { Retry::Read },
        max_reply: MAX_JSON_REPLY,
      },
      TokenEndpoint::Classic => HttpRequest {
        method: Method::Get,
        path: "/cgi-bin/token".into(),
        query: vec![
          ("grant_type".into(), "client_credential".into()),
          ("appid".into(), appid.into()),
          ("secret".into(), secret.into()),
        ],
        body: Body::Empty,
        retry: Retry::Read,
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
        let expires_in = map.get("expires_in").unwrap_or(&Value::Null);
        let lifetime = lifetime(expires_in).ok_or_else(|| {
          ApiError::new(
            code::BAD_REPLY,
            format!(
              "the token reply's expires_in is {expires_in}: it must be a positive number of seconds"
            ),
          )
        })?;
        Ok(Fresh {
          token: token.into(),
          lifetime: Some(lifetime),
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
    assert_eq!(fresh.lifetime, None);
    let fresh = parse_provider_result(r#"{"accessToken":"tok","expiresIn":7200}"#).unwrap();
    assert_eq!(fresh.lifetime, Some(Duration::from_secs(7200)));
    for bad in [r#""""#, "null", "42", r#"{"token":"x"}"#] {
      let e = parse_provider_result(bad).unwrap_err();
      assert_eq!(e.code, code::NO_CREDENTIALS, "{bad}");
      assert!(e.detail.contains("getAccessToken"));
    }
    for bad in ["\"7200\"", "-1", "0", "\"Infinity\""] {
      let text = format!(r#"{{"accessToken":"t","expiresIn":{bad}}}"#);
      let e = parse_provider_result(&text).unwrap_err();
      assert_eq!(e.code, code::NO_CREDENTIALS, "{bad}");
      assert!(e.detail.contains("expiresIn"), "{}", e.detail);
    }
  }

  #[test]
  fn huge_lifetimes_are_clamped_without_overflow() {
    for huge in [
      "1e19",
      "1e300",
      "9223372036854775807",
      "18446744073709551615",
    ] {
      let text = format!(r#"{{"accessToken":"t","expiresIn":{huge}}}"#);
      let fresh = parse_provider_result(&text).unwrap();
      assert_eq!(fresh.lifetime, Some(Duration::from_secs(7200)), "{huge}");
      let _ = Instant::now() + usable_for(fresh.lifetime.unwrap());
    }
  }

  #[test]
  fn tokens_are_refreshed_when_min_300_or_half_the_lifetime_remains() {
    assert_eq!(
      usable_for(Duration::from_secs(7200)),
      Duration::from_secs(6900)
    );
    assert_eq!(
      usable_for(Duration::from_secs(400)),
      Duration::from_secs(200)
    );
    assert_eq!(
      usable_for(Duration::from_secs(1)),
      Duration::from_millis(500)
    );
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
