//! The HTTP side: one pooled client per instance, the concurrency limit, the per-attempt timeout,
//! and the retry rules of CONTRACT.md section 5.

use std::error::Error as StdError;
use std::sync::Once;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::error::{code, ApiError, ApiResult};

/// A reply bigger than this is not WeChat's JSON; binary media replies get their own, larger cap.
pub const MAX_JSON_REPLY: usize = 1 << 20;
pub const MAX_MEDIA_REPLY: usize = 16 << 20;
const BACKOFF_BASE: Duration = Duration::from_millis(100);

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
  Json(Vec<u8>),
  File {
    field: &'static str,
    file_name: String,
    content_type: String,
    bytes: Vec<u8>,
  },
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
  http: reqwest::Client,
  base_url: String,
  timeout: Duration,
  retries: u32,
  limiter: Semaphore,
}

impl Transport {
  pub fn new(config: &Config) -> ApiResult<Self> {
    install_crypto_provider();
    let http = reqwest::Client::builder()
      .user_agent(concat!("wx-openapi-native/", env!("CARGO_PKG_VERSION")))
      // A redirect would carry access_token in its query to wherever it points.
      .redirect(reqwest::redirect::Policy::none())
      .connect_timeout(config.timeout)
      .pool_idle_timeout(Duration::from_secs(50))
      // More idle sockets than requests allowed in flight would never be used.
      .pool_max_idle_per_host(config.max_concurrency)
      .tcp_nodelay(true)
      .build()
      .map_err(|e| {
        ApiError::internal(format!(
          "the HTTP client could not be built: {}",
          describe(&e)
        ))
      })?;
    Ok(Self {
      http,
      base_url: config.api_base_url.clone(),
      timeout: config.timeout,
      retries: config.retries,
      limiter: Semaphore::new(config.max_concurrency),
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
    let mut attempt = 0;
    loop {
      let failure = match self.attempt(request, token).await {
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
    token: Option<&str>,
  ) -> Result<HttpReply, Failure> {
    let url = self.url(request, token)?;
    let mut builder = self
      .http
      .request(request.method.clone(), url)
      .timeout(self.timeout);
    builder = match &request.body {
      Body::Empty => builder,
      Body::Json(bytes) => builder
        .header(
          reqwest::header::CONTENT_TYPE,
          "application/json; charset=utf-8",
        )
        .body(bytes.clone()),
      Body::File {
        field,
        file_name,
        content_type,
        bytes,
      } => {
        let part = reqwest::multipart::Part::bytes(bytes.clone())
          .file_name(file_name.clone())
          .mime_str(content_type)
          .map_err(|_| {
            Failure::Final(ApiError::invalid(format!(
              "media.contentType {content_type:?} is not a MIME type"
            )))
          })?;
        builder.multipart(reqwest::multipart::Form::new().part(*field, part))
      }
    };

    // Only the HTTP exchange holds a slot: waiting for a token or a backoff does not.
    let _slot = self
      .limiter
      .acquire()
      .await
      .map_err(|_| Failure::Final(ApiError::internal("the client was closed")))?;
    let mut response = builder.send().await.map_err(|e| self.classify(&e))?;
    let status = response.status();
    let content_type = response
      .headers()
      .get(reqwest::header::CONTENT_TYPE)
      .and_then(|v| v.to_str().ok())
      .unwrap_or_default()
      .to_string();
    if let Some(length) = response.content_length() {
      if length as usize > request.max_reply {
        return Err(Failure::Final(too_large(status, request.max_reply)));
      }
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(&e))? {
      if body.len() + chunk.len() > request.max_reply {
        return Err(Failure::Final(too_large(status, request.max_reply)));
      }
      body.extend_from_slice(&chunk);
    }
    Ok(HttpReply {
      status,
      content_type,
      body,
    })
  }

  fn url(&self, request: &HttpRequest, token: Option<&str>) -> Result<Url, Failure> {
    let mut url = Url::parse(&format!("{}{}", self.base_url, request.path)).map_err(|e| {
      Failure::Final(ApiError::invalid(format!(
        "apiBaseUrl gives no valid URL: {e}"
      )))
    })?;
    {
      let mut query = url.query_pairs_mut();
      if let Some(token) = token {
        query.append_pair("access_token", token);
      }
      for (name, value) in &request.query {
        query.append_pair(name, value);
      }
    }
    if url.query() == Some("") {
      url.set_query(None);
    }
    Ok(url)
  }

  fn classify(&self, error: &reqwest::Error) -> Failure {
    let detail = describe(error);
    if error.is_connect() {
      // Connecting (DNS, TCP, TLS handshake) failed: nothing was written.
      if error.is_timeout() {
        return Failure::NotSent(ApiError::new(
          code::TIMEOUT,
          format!("connecting timed out after {} ms", self.timeout.as_millis()),
        ));
      }
      return Failure::NotSent(ApiError::new(
        code::NETWORK,
        format!("network failure: {detail}"),
      ));
    }
    if error.is_timeout() {
      return Failure::MaybeSent(ApiError::new(
        code::TIMEOUT,
        format!(
          "timed out after {} ms (the timeout option) waiting for the reply",
          self.timeout.as_millis()
        ),
      ));
    }
    Failure::MaybeSent(ApiError::new(
      code::NETWORK,
      format!("network failure: {detail}"),
    ))
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

/// The error and its causes, without the URL: reqwest puts the URL, and so access_token, in its
/// own message.
fn describe(error: &reqwest::Error) -> String {
  let mut parts = Vec::new();
  let mut source = error.source();
  while let Some(cause) = source {
    let text = cause.to_string();
    if parts.last() != Some(&text) {
      parts.push(text);
    }
    source = cause.source();
  }
  if parts.is_empty() {
    parts.push(error.without_url_ref().to_string());
  }
  parts.join(": ")
}

trait WithoutUrlRef {
  fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
  fn without_url_ref(&self) -> String {
    let kind = if self.is_connect() {
      "connect error"
    } else if self.is_timeout() {
      "timeout"
    } else if self.is_body() || self.is_decode() {
      "error reading the reply"
    } else {
      "error sending the request"
    };
    kind.to_string()
  }
}

/// Exponential backoff with jitter: 100 ms, 200 ms, 400 ms, … each scaled by a random 50–100 %.
fn backoff(attempt: u32) -> Duration {
  let full = BACKOFF_BASE * 2u32.saturating_pow(attempt.min(6));
  full.mul_f64(0.5 + 0.5 * jitter())
}

fn jitter() -> f64 {
  use std::hash::{BuildHasher, Hasher};
  let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
  hasher.write_u128(
    std::time::SystemTime::now()
      .duration_since(std::time::UNIX_EPOCH)
      .unwrap_or_default()
      .as_nanos(),
  );
  (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

fn install_crypto_provider() {
  static INSTALL: Once = Once::new();
  INSTALL.call_once(|| {
    // Fails only if a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
  });
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
