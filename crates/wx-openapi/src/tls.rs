//! The TLS configuration: rustls with ring, verifying against the system's roots (and
//! `SSL_CERT_FILE`), read once per process on the first HTTPS use and never for plain HTTP. On
//! macOS, Mozilla's roots compiled in (webpki-roots) plus `SSL_CERT_FILE`: reading the keychain
//! would link Apple's Security framework, which cannot be linked where the binaries are built.

use std::sync::{Arc, Mutex};

use rustls::RootCertStore;

use crate::error::{code, ApiError, ApiResult};

/// The process's configuration, made on first use. A failure is not kept: the next HTTPS instance
/// tries again (it may have been a passing lack of file descriptors).
pub fn client_config() -> ApiResult<rustls::ClientConfig> {
  static CONFIG: Mutex<Option<Arc<RootCertStore>>> = Mutex::new(None);
  let mut cached = CONFIG.lock().unwrap_or_else(|e| e.into_inner());
  let roots = match &*cached {
    Some(roots) => Arc::clone(roots),
    None => {
      let roots = Arc::new(load_roots()?);
      *cached = Some(Arc::clone(&roots));
      roots
    }
  };
  let provider = Arc::new(rustls::crypto::ring::default_provider());
  let config = rustls::ClientConfig::builder_with_provider(provider)
    .with_safe_default_protocol_versions()
    .map_err(|e| ApiError::internal(format!("TLS could not be set up: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
  Ok(config)
}

#[cfg(not(target_os = "macos"))]
fn load_roots() -> ApiResult<RootCertStore> {
  let found = rustls_native_certs::load_native_certs();
  let mut roots = RootCertStore::empty();
  let (added, _ignored) = roots.add_parsable_certificates(found.certs);
  if added > 0 {
    return Ok(roots);
  }
  // Out of descriptors is not a certificate problem: say which it is.
  let out_of_files = found.errors.iter().any(|e| {
    std::error::Error::source(e)
      .and_then(|s| s.downcast_ref::<std::io::Error>())
      .is_some_and(crate::http::is_out_of_descriptors)
      || e.to_string().contains("Too many open files")
  });
  if out_of_files {
    return Err(ApiError::new(
      code::NETWORK,
      "network failure: too many open files (the process has used up its file descriptors) \
       while reading the system's TLS trust store",
    ));
  }
  let why = found
    .errors
    .first()
    .map(|e| format!(": {e}"))
    .unwrap_or_default();
  Err(ApiError::new(
    code::NETWORK,
    format!(
      "no CA certificates could be loaded from the system's store{why}; install the \
       ca-certificates package or set SSL_CERT_FILE to a PEM bundle"
    ),
  ))
}

#[cfg(target_os = "macos")]
fn load_roots() -> ApiResult<RootCertStore> {
  use rustls::pki_types::pem::PemObject;
  use rustls::pki_types::CertificateDer;

  let mut roots = RootCertStore {
    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
  };
  if let Some(path) = std::env::var_os("SSL_CERT_FILE") {
    let certs = CertificateDer::pem_file_iter(&path).map_err(|e| {
      ApiError::new(
        code::NETWORK,
        format!("SSL_CERT_FILE could not be read: {e}"),
      )
    })?;
    roots.add_parsable_certificates(certs.filter_map(Result::ok));
  }
  Ok(roots)
}
