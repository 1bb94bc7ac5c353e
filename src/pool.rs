//! The connections of one instance: HTTP/1.1 over the connector's sockets, all to the one origin of
//! `apiBaseUrl`, kept alive and reused.
//!
//! hyper-util's pool did this before. It keys its connections by (scheme, authority) in SipHash
//! maps, hashed byte by byte on every checkout and every return (about 4,500 instructions a
//! message), and hands each connection back through a task it spawns per request. An instance
//! talks to one origin only, so a stack of idle connections is the whole pool here, and a
//! connection goes back on the exchange's own task (bench/ figures in BENCHMARKS.md).
//!
//! What it keeps from hyper-util: a request that a reused connection closed before writing is
//! sent again on a fresh one (it never left, so CONTRACT.md section 5 allows it); requests go in
//! origin form, or in absolute form to a plain-HTTP proxy; `Host` names the origin.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::HOST;
use http::uri::{Authority, Scheme};
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1;

use crate::connector::{BoxError, Connector};
use crate::markers::{mark, Point};

/// An idle connection is not reused after this long (servers close theirs after a while, and a
/// request sent as the server closes is work lost).
const IDLE_TIMEOUT: Duration = Duration::from_secs(50);

type Sender = http1::SendRequest<Full<Bytes>>;

pub struct Pool {
  connector: Connector,
  /// Scheme and authority of `apiBaseUrl`: what the connector connects to.
  origin: Uri,
  /// The `Host` of every request: the origin's host, and its port unless the scheme's default.
  host: HeaderValue,
  /// Newest last; the front is the one idle longest.
  idle: Mutex<VecDeque<Idle>>,
}

struct Idle {
  connection: Connection,
  since: Instant,
}

/// A connection out of the pool for one exchange; [`Pool::put`] gives it back.
pub struct Connection {
  sender: Sender,
  /// It leads to a plain-HTTP proxy, which takes requests in absolute form.
  proxied: bool,
  /// It served a request before, so the server may have closed it meanwhile.
  reused: bool,
}

/// Why a request got no response.
pub enum SendError {
  /// No connection could be opened (DNS, connect, TLS, proxy): the request never left.
  Connect(BoxError),
  /// The connection closed before the request was written: it never left.
  Unsent(hyper::Error),
  /// The request may have been written, in part or whole.
  Sent(hyper::Error),
}

impl Pool {
  pub fn new(connector: Connector, base: &Uri) -> Result<Self, String> {
    let (Some(scheme), Some(authority)) = (base.scheme(), base.authority()) else {
      return Err("apiBaseUrl needs a scheme and a host".into());
    };
    let origin = Uri::builder()
      .scheme(scheme.clone())
      .authority(authority.clone())
      .path_and_query("/")
      .build()
      .map_err(|e| e.to_string())?;
    let host = HeaderValue::from_str(&host_header(scheme, authority)).map_err(|e| e.to_string())?;
    Ok(Self {
      connector,
      origin,
      host,
      idle: Mutex::new(VecDeque::new()),
    })
  }

  /// Sends `request` (its URI absolute, on the origin) and waits for the response head.
  pub async fn send(
    &self,
    mut request: Request<Full<Bytes>>,
  ) -> Result<(Response<Incoming>, Connection), SendError> {
    request.headers_mut().insert(HOST, self.host.clone());
    let mut connection = match self.take_idle() {
      Some(connection) => connection,
      None => self.connect_boxed().await?,
    };
    loop {
      if !connection.proxied {
        if let Some(path) = request.uri().path_and_query() {
          *request.uri_mut() = Uri::from(path.clone());
        }
      }
      mark(Point::RequestHandedOver);
      match connection.sender.try_send_request(request).await {
        Ok(response) => return Ok((response, connection)),
        Err(mut error) => match error.take_message() {
          // The server closed the idle connection as the request went out.
          Some(unsent) if connection.reused => {
            request = unsent;
            connection = self.connect_boxed().await?;
          }
          Some(_) => return Err(SendError::Unsent(error.into_error())),
          None => return Err(SendError::Sent(error.into_error())),
        },
      }
    }
  }

  /// Puts `connection` back once it can take the next request (at once, normally: its task has
  /// read the whole response by the time the exchange has). Waits at most `within`, else closes it.
  /// The exchange holds its request slot meanwhile, so a connection on its way back is never
  /// counted as missing and replaced by a new socket (issue 8).
  pub async fn put(&self, mut connection: Connection, within: Duration) {
    if !connection.sender.is_ready() {
      let ready = poll_fn(|cx| connection.sender.poll_ready(cx));
      if !matches!(tokio::time::timeout(within, ready).await, Ok(Ok(()))) {
        return;
      }
    }
    let now = Instant::now();
    let mut idle = self.lock_idle();
    while idle
      .front()
      .is_some_and(|oldest| now.duration_since(oldest.since) >= IDLE_TIMEOUT)
    {
      idle.pop_front();
    }
    idle.push_back(Idle {
      connection,
      since: now,
    });
  }

  fn take_idle(&self) -> Option<Connection> {
    let mut idle = self.lock_idle();
    let mut now = None;
    while let Some(candidate) = idle.pop_back() {
      let now = *now.get_or_insert_with(Instant::now);
      // Not ready: the server closed it, or it is closing.
      if candidate.connection.sender.is_ready()
        && now.duration_since(candidate.since) < IDLE_TIMEOUT
      {
        return Some(Connection {
          reused: true,
          ..candidate.connection
        });
      }
    }
    None
  }

  /// Boxed: a connect's state (DNS, TCP, proxy, TLS) is kilobytes, needed only by the few sends
  /// that connect. (Unboxed in every call's future, 20,000 waiting calls peaked at 189 MB RSS
  /// against 133 MB.)
  fn connect_boxed(
    &self,
  ) -> Pin<Box<dyn Future<Output = Result<Connection, SendError>> + Send + '_>> {
    Box::pin(self.connect())
  }

  async fn connect(&self) -> Result<Connection, SendError> {
    let socket = self
      .connector
      .clone()
      .connect(self.origin.clone())
      .await
      .map_err(SendError::Connect)?;
    let proxied = socket.via_http_proxy();
    let (mut sender, connection) = http1::handshake(socket)
      .await
      .map_err(|e| SendError::Connect(e.into()))?;
    crate::executor::spawn(async move {
      // Its error, if any, reaches the request it was serving through the sender.
      let _ = connection.await;
    });
    poll_fn(|cx| sender.poll_ready(cx))
      .await
      .map_err(|e| SendError::Connect(e.into()))?;
    Ok(Connection {
      sender,
      proxied,
      reused: false,
    })
  }

  fn lock_idle(&self) -> std::sync::MutexGuard<'_, VecDeque<Idle>> {
    self.idle.lock().unwrap_or_else(|e| e.into_inner())
  }
}

/// The `Host` header for the origin: its port only where it is not the scheme's default.
fn host_header(scheme: &Scheme, authority: &Authority) -> String {
  let default_port = if *scheme == Scheme::HTTPS { 443 } else { 80 };
  match authority.port_u16() {
    Some(port) if port != default_port => format!("{}:{port}", authority.host()),
    _ => authority.host().to_string(),
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn host_names_the_port_only_when_not_the_default() {
    let host = |uri: &str| {
      let uri: Uri = uri.parse().unwrap();
      host_header(uri.scheme().unwrap(), uri.authority().unwrap())
    };
    assert_eq!(host("https://api.weixin.qq.com"), "api.weixin.qq.com");
    assert_eq!(host("https://api.weixin.qq.com:443"), "api.weixin.qq.com");
    assert_eq!(host("http://127.0.0.1:8080"), "127.0.0.1:8080");
    assert_eq!(host("http://[::1]:80/prefix"), "[::1]");
    assert_eq!(host("https://example.com:80"), "example.com:80");
  }
}
