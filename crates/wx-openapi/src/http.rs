//! The HTTP side: reqwest clients shared by the instances of a process, the TLS roots loaded once,
//! each instance's limit on requests in flight, the per-attempt timeout, and the retry rules of
//! CONTRACT.md section 5.

use std::error::Error as StdError;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Semaphore;

use crate::error::{code, ApiError, ApiResult};
use crate::table::{Method, Retry};

/// A reply bigger than this is not WeChat's JSON; binary replies get their own, larger cap.
pub const MAX_JSON_REPLY: usize = 1 << 20;
pub const MAX_BINARY_REPLY: usize = 16 << 20;
/// How long an idle kept-alive connection stays open (README, "Reliability").
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const USER_AGENT: &str = concat!("wx-openapi-native/", env!("CARGO_PKG_VERSION"));

pub enum Body {
  Empty,
  Json(Bytes),
  Files(Vec<FilePart>),
}

pub struct FilePart {
  pub field: String,
  pub file_name: String,
  pub content_type: String,
  pub bytes: Bytes,
}

pub struct HttpRequest {
  pub method: Method,
  pub path: String,
  pub query: Vec<(String, String)>,
  pub body: Body,
  pub retry: Retry,
  pub max_reply: usize,
}

#[derive(Debug)]
pub struct HttpReply {
  pub status: u16,
  pub content_type: String,
  pub body: Vec<u8>,
}

/// Why an attempt failed, which decides whether another attempt is allowed.
#[derive(Debug)]
enum Failure {
  /// The request certainly never reached the server (DNS, connect, TLS handshake).
  NotSent(ApiError),
  /// The request may have been processed (a timeout or a reset after writing).
  MaybeSent(ApiError),
  /// WeChat answered "system busy": it did not act on the request.
  Busy(ApiError),
  /// Anything else: returned at once.
  Final(ApiError),
}

impl Failure {
  fn retryable(&self, retry: Retry) -> bool {
    match self {
      Failure::NotSent(_) | Failure::Busy(_) => true,
      Failure::MaybeSent(_) => retry == Retry::Read,
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

/// One instance's way to WeChat: a shared client, its own base URL, timeout, retries and limit.
pub struct Transport {
  /// Made on the first request, not with the instance: making it may read the TLS roots, and an
  /// `init` should neither do I/O nor fail for want of file descriptors.
  client: Mutex<Option<reqwest::Client>>,
  https: bool,
  max_concurrency: usize,
  base_url: String,
  timeout: Duration,
  retries: u32,
  /// Requests in flight; tokio's semaphore is fair, so waiting calls go in FIFO order.
  limiter: Semaphore,
}

impl Transport {
  pub fn new(
    base_url: &str,
    timeout: Duration,
    retries: u32,
    max_concurrency: usize,
  ) -> ApiResult<Self> {
    Ok(Self {
      client: Mutex::new(None),
      https: base_url.starts_with("https:"),
      max_concurrency,
      base_url: base_url.to_string(),
      timeout,
      retries,
      limiter: Semaphore::new(max_concurrency),
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
    let url = self.url(request, token)?;
    let mut attempt = 0;
    loop {
      // Waiting calls hold only their place in the queue; each attempt's request and reqwest's
      // state are made, boxed, once the slot is theirs (20,000 waiting calls: README, Reliability).
      let slot = self
        .limiter
        .acquire()
        .await
        .map_err(|_| ApiError::internal("the client was closed"))?;
      let outcome = Box::pin(self.attempt(request, url.clone())).await;
      drop(slot);
      let failure = match outcome {
        Ok(reply) => match interpret(reply) {
          Ok(value) => return Ok(value),
          Err(error) => Failure::from(error),
        },
        Err(failure) => failure,
      };
      if attempt >= self.retries || !failure.retryable(request.retry) {
        return Err(failure.into_error());
      }
      tokio::time::sleep(backoff(attempt)).await;
      attempt += 1;
    }
  }

  async fn attempt(&self, request: &HttpRequest, url: reqwest::Url) -> Result<HttpReply, Failure> {
    let method = match request.method {
      Method::Get => reqwest::Method::GET,
      Method::Post => reqwest::Method::POST,
    };
    let mut builder = self
      .client()
      .map_err(Failure::NotSent)?
      .request(method, url)
      .header(reqwest::header::USER_AGENT, USER_AGENT)
      .timeout(self.timeout);
    builder = match &request.body {
      Body::Empty => builder,
      Body::Json(bytes) => builder
        .header(
          reqwest::header::CONTENT_TYPE,
          "application/json; charset=utf-8",
        )
        .body(bytes.clone()),
      Body::Files(files) => builder.multipart(form(files)?),
    };
    let response = builder.send().await.map_err(|e| self.classify(&e))?;
    let status = response.status().as_u16();
    let content_type = response
      .headers()
      .get(reqwest::header::CONTENT_TYPE)
      .and_then(|v| v.to_str().ok())
      .unwrap_or_default()
      .to_string();
    if response
      .content_length()
      .is_some_and(|length| length as usize > request.max_reply)
    {
      return Err(Failure::Final(too_large(status, request.max_reply)));
    }
    let mut response = response;
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

  /// The shared client for this instance's kind; a failure to make it is not kept.
  fn client(&self) -> ApiResult<reqwest::Client> {
    let mut client = self.client.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(client) = &*client {
      return Ok(client.clone());
    }
    let made = shared_client(self.https, self.max_concurrency)?;
    *client = Some(made.clone());
    Ok(made)
  }

  fn url(&self, request: &HttpRequest, token: Option<&str>) -> ApiResult<reqwest::Url> {
    let mut url = reqwest::Url::parse(&format!("{}{}", self.base_url, request.path))
      .map_err(|e| ApiError::invalid(format!("apiBaseUrl gives no valid URL: {e}")))?;
    if token.is_some() || !request.query.is_empty() {
      let mut pairs = url.query_pairs_mut();
      if let Some(token) = token {
        pairs.append_pair("access_token", token);
      }
      for (name, value) in &request.query {
        pairs.append_pair(name, value);
      }
    }
    Ok(url)
  }

  fn classify(&self, error: &reqwest::Error) -> Failure {
    if error.is_timeout() {
      return Failure::MaybeSent(ApiError::new(
        code::TIMEOUT,
        format!(
          "timed out after {} ms (the timeout option) waiting for the reply",
          self.timeout.as_millis()
        ),
      ));
    }
    let failure = ApiError::new(
      code::NETWORK,
      format!("network failure: {}", describe(error)),
    );
    if error.is_connect() {
      Failure::NotSent(failure)
    } else {
      Failure::MaybeSent(failure)
    }
  }
}

fn form(files: &[FilePart]) -> Result<reqwest::multipart::Form, Failure> {
  let mut form = reqwest::multipart::Form::new();
  for file in files {
    let part = reqwest::multipart::Part::stream(reqwest::Body::from(file.bytes.clone()))
      .file_name(file.file_name.clone())
      .mime_str(&file.content_type)
      .map_err(|e| {
        Failure::Final(ApiError::invalid(format!(
          "{}.contentType is not a MIME type: {e}",
          file.field
        )))
      })?;
    form = form.part(file.field.clone(), part);
  }
  Ok(form)
}

/// The clients of this process, one per kind (HTTP or HTTPS, the idle cap, the proxy variables
/// when it was made). Instances share them, so that an instance dropped without its JS object being
/// collected holds no socket, and the TLS roots are read once per process, not per instance.
fn shared_client(https: bool, max_idle: usize) -> ApiResult<reqwest::Client> {
  type Key = (bool, usize, Vec<Option<String>>);
  static CLIENTS: Mutex<Vec<(Key, reqwest::Client)>> = Mutex::new(Vec::new());
  let proxies = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
  ]
  .iter()
  .map(|name| std::env::var(name).ok())
  .collect();
  let key: Key = (https, max_idle, proxies);
  let mut clients = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
  if let Some((_, client)) = clients.iter().find(|(k, _)| *k == key) {
    return Ok(client.clone());
  }
  let _ = rustls::crypto::ring::default_provider().install_default();
  let mut builder = reqwest::Client::builder()
    .http1_only()
    .pool_max_idle_per_host(max_idle)
    .pool_idle_timeout(IDLE_TIMEOUT)
    .tcp_nodelay(true);
  if https {
    builder = builder.use_preconfigured_tls(crate::tls::client_config()?);
  }
  let client = builder.build().map_err(|e| {
    ApiError::internal(format!(
      "the HTTP client could not be built: {}",
      describe(&e)
    ))
  })?;
  clients.push((key, client.clone()));
  Ok(client)
}

fn too_large(status: u16, limit: usize) -> ApiError {
  ApiError::new(
    code::BAD_REPLY,
    format!("HTTP {status}: the reply is larger than {limit} bytes"),
  )
}

/// The error and its causes, each once, without the URL (which carries the token). A socket that
/// could not be opened for want of descriptors says so.
fn describe(error: &(dyn StdError + 'static)) -> String {
  let mut parts: Vec<String> = Vec::new();
  let mut source = Some(error);
  while let Some(cause) = source {
    if let Some(io) = cause.downcast_ref::<std::io::Error>() {
      if is_out_of_descriptors(io) {
        return "too many open files (the process has used up its file descriptors)".to_string();
      }
    }
    let text = match cause.downcast_ref::<reqwest::Error>() {
      Some(e) => reqwest_kind(e).to_string(),
      None => cause.to_string(),
    };
    if !parts.iter().any(|p| p.contains(&text)) {
      parts.push(text);
    }
    source = cause.source();
  }
  parts.join(": ")
}

/// EMFILE or ENFILE (24 and 23 on Linux and macOS; Windows reports neither).
pub fn is_out_of_descriptors(error: &std::io::Error) -> bool {
  matches!(error.raw_os_error(), Some(23 | 24))
}

/// What a reqwest error is, in words: its own text names the URL, which carries the token.
fn reqwest_kind(error: &reqwest::Error) -> &'static str {
  if error.is_connect() {
    "error connecting"
  } else if error.is_body() || error.is_decode() {
    "error reading the reply"
  } else if error.is_request() {
    "error sending the request"
  } else {
    "HTTP error"
  }
}

/// Exponential backoff with jitter: 100 ms, 200 ms, 400 ms, … each scaled by a random 50–100 %.
fn backoff(attempt: u32) -> Duration {
  let full = BACKOFF_BASE * 2u32.saturating_pow(attempt.min(6));
  full.mul_f64(0.5 + 0.5 * jitter())
}

/// Not for secrets: std's randomly keyed hasher over the clock is enough for jitter.
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
    assert!(!maybe.retryable(Retry::Write));
    assert!(maybe.retryable(Retry::Read));
    assert!(Failure::NotSent(ApiError::new(code::NETWORK, "n")).retryable(Retry::Write));
    assert!(Failure::from(ApiError::new(-1, "busy")).retryable(Retry::Write));
    assert!(!Failure::from(ApiError::new(45047, "limit")).retryable(Retry::Read));
  }

  #[test]
  fn out_of_descriptors_is_named() {
    let e = std::io::Error::from_raw_os_error(24);
    assert!(is_out_of_descriptors(&e));
    assert!(describe(&e).contains("too many open files"));
  }
}
