//! The HTTP side: one pooled client per instance, the concurrency limit, the per-attempt timeout,
//! and the retry rules of CONTRACT.md section 5.

use std::error::Error as StdError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, PROXY_AUTHORIZATION, USER_AGENT};
use http::{HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::connector::{ConnectTimeout, Connector};
use crate::error::{code, ApiError, ApiResult};
use crate::pool::{Connection, Pool, SendError};

/// A reply bigger than this is not WeChat's JSON; binary media replies get their own, larger cap.
pub const MAX_JSON_REPLY: usize = 1 << 20;
pub const MAX_MEDIA_REPLY: usize = 16 << 20;
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const USER_AGENT_VALUE: &str = concat!("wx-openapi-native/", env!("CARGO_PKG_VERSION"));

/// Whether a request may be sent again after it may have reached WeChat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
  /// Sending it twice has a visible effect (a message delivered twice): never repeat it once written.
  AtMostOnce,
  /// A read: repeating it is harmless.
  Repeatable,
}

pub enum Body {
  Empty,
  Json(Bytes),
  File {
    field: &'static str,
    file_name: String,
    content_type: String,
    bytes: Vec<u8>,
  },
}

impl Body {
  /// The content type and the bytes on the wire, made once per call and shared by its attempts.
  fn encode(&self) -> (Option<HeaderValue>, Bytes) {
    match self {
      Body::Empty => (None, Bytes::new()),
      Body::Json(bytes) => (
        Some(HeaderValue::from_static("application/json; charset=utf-8")),
        bytes.clone(),
      ),
      Body::File {
        field,
        file_name,
        content_type,
        bytes,
      } => {
        // content_type was checked to be a header value when the params were validated.
        let boundary = format!("{:016x}{:016x}", random_u64(), random_u64());
        // Quotes and line breaks in the file name are percent-escaped, as browsers do (WHATWG).
        let file_name = file_name
          .replace('"', "%22")
          .replace('\r', "%0D")
          .replace('\n', "%0A");
        let mut body = Vec::with_capacity(bytes.len() + 256);
        body.extend_from_slice(
          format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
             filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
          )
          .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let header = format!("multipart/form-data; boundary={boundary}");
        (
          Some(HeaderValue::from_str(&header).expect("hex boundary is a valid header")),
          Bytes::from(body),
        )
      }
    }
  }
}

pub struct HttpRequest {
  pub method: Method,
  pub path: &'static str,
  pub query: Vec<(&'static str, String)>,
  pub body: Body,
  pub delivery: Delivery,
  pub max_reply: usize,
}

#[derive(Debug)]
pub struct HttpReply {
  pub status: StatusCode,
  pub content_type: String,
  pub body: Vec<u8>,
}

/// Why an attempt failed, which decides whether another attempt is allowed.
#[derive(Debug)]
pub enum Failure {
  /// The request certainly never reached the server (connect, DNS, TLS handshake).
  NotSent(ApiError),
  /// The request may have been processed (timeout or reset after writing).
  MaybeSent(ApiError),
  /// WeChat answered "system busy": it did not act on the request.
  Busy(ApiError),
  /// Anything else: returned at once.
  Final(ApiError),
}

impl Failure {
  fn retryable(&self, delivery: Delivery) -> bool {
    match self {
      Failure::NotSent(_) | Failure::Busy(_) => true,
      Failure::MaybeSent(_) => delivery == Delivery::Repeatable,
      Failure::Final(_) => false,
    }
  }

  fn into_error(self) -> ApiError {
    match self {
      Failure::NotSent(e) | Failure::MaybeSent(e) | Failure::Busy(e) | Failure::Final(e) => e,
    }
  }
}

impl From<ApiError> for Failure {
  fn from(error: ApiError) -> Self {
    if error.code == code::SYSTEM_BUSY {
      Failure::Busy(error)
    } else {
      Failure::Final(error)
    }
  }
}

pub struct Transport {
  pool: Pool,
  base_url: String,
  /// Set when plain-HTTP requests go through a proxy that wants credentials.
  proxy_authorization: Option<HeaderValue>,
  timeout: Duration,
  retries: u32,
  /// Requests in flight.
  limiter: Semaphore,
  anchor: Arc<TimerAnchor>,
  /// The URI last built for each path that takes no query of its own, with the token it carries.
  uris: Mutex<Vec<CachedUri>>,
}

struct CachedUri {
  path: &'static str,
  token: Option<String>,
  uri: Uri,
}

impl Transport {
  pub fn new(config: &Config) -> ApiResult<Self> {
    let connector = Connector::new(config.max_concurrency, config.timeout)
      .map_err(|e| ApiError::internal(format!("the HTTP client could not be built: {e}")))?;
    let base: Uri = config
      .api_base_url
      .parse()
      .map_err(|e| ApiError::invalid(format!("apiBaseUrl gives no valid URL: {e}")))?;
    let proxy_authorization = connector.proxy_authorization(&base);
    let pool = Pool::new(connector, &base)
      .map_err(|e| ApiError::invalid(format!("apiBaseUrl gives no valid URL: {e}")))?;
    Ok(Self {
      pool,
      base_url: config.api_base_url.clone(),
      proxy_authorization,
      timeout: config.timeout,
      retries: config.retries,
      limiter: Semaphore::new(config.max_concurrency),
      anchor: Arc::new(TimerAnchor::new(config.timeout)),
      uris: Mutex::new(Vec::new()),
    })
  }

  /// Sends `request`, lets `interpret` judge the reply, and repeats where CONTRACT.md section 5
  /// allows: "system busy" and never-sent failures always, may-have-been-sent ones only for reads.
  pub async fn execute<T>(
    &self,
    request: &HttpRequest,
    token: Option<&str>,
    interpret: impl Fn(HttpReply) -> ApiResult<T>,
  ) -> ApiResult<T> {
    let uri = self.uri(request, token)?;
    let (content_type, payload) = request.body.encode();
    let mut attempt = 0;
    loop {
      let failure = match self
        .attempt(request, &uri, content_type.as_ref(), payload.clone())
        .await
      {
        Ok(reply) => match interpret(reply) {
          Ok(value) => return Ok(value),
          Err(error) => Failure::from(error),
        },
        Err(failure) => failure,
      };
      if attempt >= self.retries || !failure.retryable(request.delivery) {
        return Err(failure.into_error());
      }
      tokio::time::sleep(backoff(attempt)).await;
      attempt += 1;
    }
  }

  async fn attempt(
    &self,
    request: &HttpRequest,
    uri: &Uri,
    content_type: Option<&HeaderValue>,
    payload: Bytes,
  ) -> Result<HttpReply, Failure> {
    // Set in place: http's builder moves the whole request head at every step.
    let mut http_request = Request::new(Full::new(payload));
    *http_request.method_mut() = request.method.clone();
    *http_request.uri_mut() = uri.clone();
    let headers = http_request.headers_mut();
    headers.reserve(5);
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    if let Some(content_type) = content_type {
      headers.insert(CONTENT_TYPE, content_type.clone());
    }
    if let Some(auth) = &self.proxy_authorization {
      headers.insert(PROXY_AUTHORIZATION, auth.clone());
    }

    // Only the HTTP exchange holds a slot: waiting for a token or a backoff does not.
    let _slot = self
      .limiter
      .acquire()
      .await
      .map_err(|_| Failure::Final(ApiError::internal("the client was closed")))?;
    self.anchor.hold();
    let (reply, connection) = match tokio::time::timeout(
      self.timeout,
      self.exchange(http_request, request.max_reply),
    )
    .await
    {
      Ok(outcome) => outcome?,
      Err(_) => {
        return Err(Failure::MaybeSent(ApiError::new(
          code::TIMEOUT,
          format!(
            "timed out after {} ms (the timeout option) waiting for the reply",
            self.timeout.as_millis()
          ),
        )))
      }
    };
    // Outside the timeout: the reply is in, whatever becomes of the connection.
    self.pool.put(connection, self.timeout).await;
    Ok(reply)
  }

  async fn exchange(
    &self,
    http_request: Request<Full<Bytes>>,
    max_reply: usize,
  ) -> Result<(HttpReply, Connection), Failure> {
    // Boxed: its state (the request, hyper's send) would otherwise be carried by every call's
    // future, waiting or not (peak RSS of 20,000 waiting calls: 150 MB against 133 MB).
    let sending = Box::pin(self.pool.send(http_request));
    let (response, connection) = sending.await.map_err(|e| match e {
      SendError::Connect(e) => classify(&*e, true),
      SendError::Unsent(e) => classify(&e, true),
      SendError::Sent(e) => classify(&e, false),
    })?;
    let status = response.status();
    let content_type = response
      .headers()
      .get(CONTENT_TYPE)
      .and_then(|v| v.to_str().ok())
      .unwrap_or_default()
      .to_string();
    let mut body = response.into_body();
    if let Some(length) = hyper::body::Body::size_hint(&body).exact() {
      if length as usize > max_reply {
        return Err(Failure::Final(too_large(status, max_reply)));
      }
    }
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
      let frame = frame.map_err(|e| classify(&e, false))?;
      if let Ok(chunk) = frame.into_data() {
        if bytes.len() + chunk.len() > max_reply {
          return Err(Failure::Final(too_large(status, max_reply)));
        }
        bytes.extend_from_slice(&chunk);
      }
    }
    let reply = HttpReply {
      status,
      content_type,
      body: bytes,
    };
    Ok((reply, connection))
  }

  /// The request's URI. Building it (the token URL-encoded, the whole parsed) took about 2,700
  /// instructions a call; the same path with the same token gives the same URI, kept until the
  /// token changes.
  fn uri(&self, request: &HttpRequest, token: Option<&str>) -> Result<Uri, ApiError> {
    if !request.query.is_empty() {
      return self.build_uri(request, token);
    }
    let mut uris = self.uris.lock().unwrap_or_else(|e| e.into_inner());
    let cached = uris.iter_mut().find(|c| c.path == request.path);
    if let Some(cached) = &cached {
      if cached.token.as_deref() == token {
        return Ok(cached.uri.clone());
      }
    }
    let uri = self.build_uri(request, token)?;
    let fresh = CachedUri {
      path: request.path,
      token: token.map(str::to_owned),
      uri: uri.clone(),
    };
    match cached {
      Some(cached) => *cached = fresh,
      None => uris.push(fresh),
    }
    Ok(uri)
  }

  fn build_uri(&self, request: &HttpRequest, token: Option<&str>) -> Result<Uri, ApiError> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(token) = token {
      query.append_pair("access_token", token);
    }
    for (name, value) in &request.query {
      query.append_pair(name, value);
    }
    let query = query.finish();
    let mut uri = String::with_capacity(self.base_url.len() + request.path.len() + 1 + query.len());
    uri.push_str(&self.base_url);
    uri.push_str(request.path);
    if !query.is_empty() {
      uri.push('?');
      uri.push_str(&query);
    }
    Uri::try_from(uri).map_err(|e| ApiError::invalid(format!("apiBaseUrl gives no valid URL: {e}")))
  }
}

/// Keeps one timer armed at most `timeout` ahead while the transport is in use.
///
/// tokio pulls its driver out of its park (an eventfd write, then a spurious epoll wake-up)
/// whenever a new timer is due before every timer already armed. Each attempt arms its timeout; at
/// concurrency 1 no other attempt's timer is armed, so every call paid that wake-up. With this
/// timer due sooner than any attempt's, it never happens: bench/ at HTTP concurrency 1 measured
/// 2,826 msg/s and 2.55 CPU s per 10k messages with the wake-up, 3,961 and 1.98 without
/// (BENCHMARKS.md). The timer lapses after one period without calls, so an idle process sleeps.
struct TimerAnchor {
  period: Duration,
  running: AtomicBool,
  used: AtomicBool,
}

impl TimerAnchor {
  fn new(period: Duration) -> Self {
    Self {
      period,
      running: AtomicBool::new(false),
      used: AtomicBool::new(false),
    }
  }

  fn hold(self: &Arc<Self>) {
    self.used.store(true, Ordering::Relaxed);
    if self.running.swap(true, Ordering::AcqRel) {
      return;
    }
    let anchor = Arc::clone(self);
    crate::executor::spawn(async move {
      loop {
        tokio::time::sleep(anchor.period).await;
        if !anchor.used.swap(false, Ordering::AcqRel) {
          // A call racing this store only re-arms the anchor on its next call.
          anchor.running.store(false, Ordering::Release);
          return;
        }
      }
    });
  }
}

/// `connecting` is true when the request never left: no connection, or it closed before the
/// request was written.
fn classify(error: &(dyn StdError + 'static), connecting: bool) -> Failure {
  let mut source: Option<&(dyn StdError + 'static)> = Some(error);
  while let Some(cause) = source {
    if let Some(timeout) = cause.downcast_ref::<ConnectTimeout>() {
      return Failure::NotSent(ApiError::new(code::TIMEOUT, timeout.to_string()));
    }
    source = cause.source();
  }
  let failure = ApiError::new(
    code::NETWORK,
    format!("network failure: {}", describe(error)),
  );
  if connecting {
    Failure::NotSent(failure)
  } else {
    Failure::MaybeSent(failure)
  }
}

fn too_large(status: StatusCode, limit: usize) -> ApiError {
  ApiError::new(
    code::BAD_REPLY,
    format!(
      "HTTP {}: the reply is larger than {limit} bytes",
      status.as_u16()
    ),
  )
}

/// The error and its causes, each once. (hyper's errors never carry the URL, so never the token.)
fn describe(error: &(dyn StdError + 'static)) -> String {
  let mut parts: Vec<String> = Vec::new();
  let mut source = Some(error);
  while let Some(cause) = source {
    let text = cause.to_string();
    if !parts.iter().any(|p| p.contains(&text)) {
      parts.push(text);
    }
    source = cause.source();
  }
  parts.join(": ")
}

/// Exponential backoff with jitter: 100 ms, 200 ms, 400 ms, … each scaled by a random 50–100 %.
fn backoff(attempt: u32) -> Duration {
  let full = BACKOFF_BASE * 2u32.saturating_pow(attempt.min(6));
  full.mul_f64(0.5 + 0.5 * jitter())
}

fn jitter() -> f64 {
  (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Not for secrets: std's randomly keyed hasher over the clock is enough for jitter and boundaries.
fn random_u64() -> u64 {
  use std::hash::{BuildHasher, Hasher};
  let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
  hasher.write_u128(
    std::time::SystemTime::now()
      .duration_since(std::time::UNIX_EPOCH)
      .unwrap_or_default()
      .as_nanos(),
  );
  hasher.finish()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn backoff_doubles_and_stays_within_jitter() {
    for attempt in 0..4 {
      let full = BACKOFF_BASE * 2u32.pow(attempt);
      let d = backoff(attempt);
      assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
    }
  }

  #[tokio::test(start_paused = true)]
  async fn the_timer_anchor_runs_while_used_and_lapses_when_idle() {
    let anchor = Arc::new(TimerAnchor::new(Duration::from_secs(10)));
    anchor.hold();
    assert!(anchor.running.load(Ordering::Acquire));
    for _ in 0..3 {
      tokio::time::sleep(Duration::from_secs(6)).await;
      anchor.hold();
    }
    assert!(
      anchor.running.load(Ordering::Acquire),
      "used within every period"
    );
    tokio::time::sleep(Duration::from_secs(21)).await;
    assert!(
      !anchor.running.load(Ordering::Acquire),
      "lapsed after an idle period"
    );
    anchor.hold();
    assert!(
      anchor.running.load(Ordering::Acquire),
      "re-armed by the next call"
    );
  }

  #[test]
  fn only_reads_repeat_after_a_possible_delivery() {
    let maybe = Failure::MaybeSent(ApiError::new(code::TIMEOUT, "t"));
    assert!(!maybe.retryable(Delivery::AtMostOnce));
    assert!(maybe.retryable(Delivery::Repeatable));
    assert!(Failure::NotSent(ApiError::new(code::NETWORK, "n")).retryable(Delivery::AtMostOnce));
    assert!(Failure::from(ApiError::new(-1, "busy")).retryable(Delivery::AtMostOnce));
    assert!(!Failure::from(ApiError::new(45047, "limit")).retryable(Delivery::Repeatable));
  }
}
