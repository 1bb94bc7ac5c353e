//! Opens the sockets the pool uses. Each socket holds one permit of a per-instance semaphore for
//! its whole life, so an instance never has more than `maxConcurrency` sockets open, closing ones
//! included (issue 8). Routes through
//! `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` as the environment says, and speaks TLS with rustls and
//! the platform's verifier (the system store and `SSL_CERT_FILE`).

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::uri::Scheme;
use http::Uri;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tower_service::Service;

use crate::loop_tcp::LoopTcp;

pub type BoxError = Box<dyn StdError + Send + Sync>;

/// How long a connect waits for a socket to close when all `maxConcurrency` are open.
const SOCKET_WAIT: Duration = Duration::from_secs(1);

/// Connecting (permit wait excluded) took longer than the `timeout` option.
#[derive(Debug)]
pub struct ConnectTimeout(pub Duration);

impl fmt::Display for ConnectTimeout {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "connecting timed out after {} ms", self.0.as_millis())
  }
}

impl StdError for ConnectTimeout {}

#[derive(Clone)]
pub struct Connector {
  tcp: HttpConnector,
  tls: tokio_rustls::TlsConnector,
  proxies: Arc<Matcher>,
  sockets: Arc<Semaphore>,
  connect_timeout: Duration,
}

impl Connector {
  pub fn new(max_sockets: usize, connect_timeout: Duration) -> Result<Self, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
      .map_err(|e| format!("the system's certificate verifier is unavailable: {e}"))?;
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
      .with_safe_default_protocol_versions()
      .map_err(|e| format!("TLS could not be configured: {e}"))?
      .dangerous() // only to plug in the platform verifier: verification stays on
      .with_custom_certificate_verifier(Arc::new(verifier))
      .with_no_client_auth();
    // HTTP/1.1 only. Measured in bench/ (BENCHMARKS.md), keep-alive HTTP/1.1 connections cost less
    // CPU per message than one multiplexed HTTP/2 connection at every concurrency, and the pool
    // never opens more than maxConcurrency of them, so handshakes stay bounded too.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];

    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    // Notices a peer that vanished while its connection sat idle in the pool.
    tcp.set_keepalive(Some(Duration::from_secs(15)));

    Ok(Self {
      tcp,
      tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
      proxies: Arc::new(Matcher::from_env()),
      sockets: Arc::new(Semaphore::new(max_sockets)),
      connect_timeout,
    })
  }

  /// The socket budget, for the tests (a connect waits inside the call that needs it, so nothing
  /// outlives the instance waiting for a permit).
  #[cfg(test)]
  pub fn sockets(&self) -> Arc<Semaphore> {
    self.sockets.clone()
  }

  /// The `Proxy-Authorization` a plain-HTTP request to `dst` must carry, if it goes via a proxy
  /// with credentials. (HTTPS requests authenticate in the CONNECT instead.)
  pub fn proxy_authorization(&self, dst: &Uri) -> Option<http::HeaderValue> {
    if dst.scheme() != Some(&Scheme::HTTP) {
      return None;
    }
    self
      .proxies
      .intercept(dst)
      .and_then(|proxy| proxy.basic_auth().cloned())
  }

  pub async fn connect(self, dst: Uri) -> Result<Socket, BoxError> {
    let permit = match self.sockets.clone().try_acquire_owned() {
      Ok(permit) => permit,
      Err(TryAcquireError::Closed) => return Err("the client was closed".into()),
      // All sockets are open. The request that asked for this one holds a request slot and found
      // no idle connection, so at least one socket serves no request and is closing (the server
      // closed it, or it idled too long): its permit is free within moments. Bounded all the
      // same, so that waiters cannot pile up.
      Err(TryAcquireError::NoPermits) => {
        tokio::time::timeout(SOCKET_WAIT, self.sockets.clone().acquire_owned())
          .await
          .map_err(|_| "every socket stayed busy")?
          .map_err(|_| "the client was closed")?
      }
    };
    let (stream, via_http_proxy) = tokio::time::timeout(self.connect_timeout, self.open(&dst))
      .await
      .map_err(|_| ConnectTimeout(self.connect_timeout))??;
    Ok(Socket {
      io: TokioIo::new(stream),
      via_http_proxy,
      _permit: permit,
    })
  }

  /// The stream, and whether it leads to an HTTP proxy (which then gets absolute-form requests).
  async fn open(&self, dst: &Uri) -> Result<(Box<dyn Stream>, bool), BoxError> {
    let https = dst.scheme() == Some(&Scheme::HTTPS);
    let (tcp, via_http_proxy) = match self.proxies.intercept(dst) {
      None => (self.tcp.clone().call(dst.clone()).await?, false),
      Some(proxy) if https => {
        let mut tunnel = Tunnel::new(proxy.uri().clone(), self.tcp.clone());
        if let Some(auth) = proxy.basic_auth() {
          tunnel = tunnel.with_auth(auth.clone());
        }
        (tunnel.call(dst.clone()).await?, false)
      }
      // A plain-HTTP request goes to the proxy itself, in absolute form.
      Some(proxy) => (self.tcp.clone().call(proxy.uri().clone()).await?, true),
    };
    let tcp = LoopTcp::new(tcp.into_inner());
    if !https {
      return Ok((Box::new(tcp), via_http_proxy));
    }
    let host = dst.host().ok_or("the URL has no host")?;
    let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
      .map_err(|e| format!("{host:?} is not a TLS server name: {e}"))?
      .to_owned();
    let tls = self.tls.connect(name, tcp).await?;
    Ok((Box::new(tls), false))
  }
}

/// A plain TCP or a TLS stream; the pool reads and writes either the same way.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// A connection as the pool sees it; dropping it closes the socket and frees its permit.
pub struct Socket {
  io: TokioIo<Box<dyn Stream>>,
  via_http_proxy: bool,
  _permit: OwnedSemaphorePermit,
}

impl Socket {
  /// Whether it leads to a plain-HTTP proxy, which takes requests in absolute form.
  pub fn via_http_proxy(&self) -> bool {
    self.via_http_proxy
  }
}

impl hyper::rt::Read for Socket {
  fn poll_read(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
    buf: hyper::rt::ReadBufCursor<'_>,
  ) -> Poll<io::Result<()>> {
    Pin::new(&mut self.io).poll_read(cx, buf)
  }
}

impl hyper::rt::Write for Socket {
  fn poll_write(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
    buf: &[u8],
  ) -> Poll<io::Result<usize>> {
    Pin::new(&mut self.io).poll_write(cx, buf)
  }

  fn poll_write_vectored(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
    bufs: &[io::IoSlice<'_>],
  ) -> Poll<io::Result<usize>> {
    Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
  }

  fn is_write_vectored(&self) -> bool {
    self.io.is_write_vectored()
  }

  fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    Pin::new(&mut self.io).poll_flush(cx)
  }

  fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    Pin::new(&mut self.io).poll_shutdown(cx)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[tokio::test(start_paused = true)]
  async fn a_connect_waits_for_a_free_socket_only_so_long() {
    let connector = Connector::new(1, Duration::from_secs(10)).unwrap();
    let only_socket = connector.sockets().acquire_owned().await.unwrap();
    let started = tokio::time::Instant::now();
    let error = match connector
      .clone()
      .connect("http://127.0.0.1:9/".parse().unwrap())
      .await
    {
      Ok(_) => panic!("connected without a free socket"),
      Err(e) => e,
    };
    assert_eq!(error.to_string(), "every socket stayed busy");
    assert_eq!(started.elapsed(), SOCKET_WAIT);
    drop(only_socket);
    connector.sockets().close();
    let closed = connector
      .clone()
      .connect("http://127.0.0.1:9/".parse().unwrap())
      .await;
    assert_eq!(
      closed.err().map(|e| e.to_string()).as_deref(),
      Some("the client was closed")
    );
  }
}
