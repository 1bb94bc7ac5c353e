//! The one error type of the core, `ApiError`: WeChat's `errcode`/`errmsg`, or a local code with
//! a detail (CONTRACT.md section 5). The binding maps it to the JS error shape in one place.

/// Codes of failures that happen on this side of the wire.
pub mod code {
  pub const INVALID_ARGUMENT: i64 = -401001;
  pub const NO_CREDENTIALS: i64 = -401002;
  pub const BAD_REPLY: i64 = -601001;
  pub const INTERNAL: i64 = -601002;
  pub const NETWORK: i64 = -601003;
  /// wx-server-sdk's code for an API name it does not know.
  pub const API_NOT_FOUND: i64 = -604100;
  pub const TIMEOUT: i64 = -604102;
  /// WeChat's "system busy", the one WeChat error worth retrying.
  pub const SYSTEM_BUSY: i64 = -1;
}

/// A failed call: WeChat's `errcode`/`errmsg`, or one of the local codes above with a detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
  pub code: i64,
  pub detail: String,
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

/// A user's text (a key path, a value) as an error shows it: at most 64 characters, so that a huge
/// input cannot make a huge error.
pub fn clip(text: &str) -> std::borrow::Cow<'_, str> {
  match cut(text) {
    None => std::borrow::Cow::Borrowed(text),
    Some((head, length)) => std::borrow::Cow::Owned(format!("{head}… ({length} characters)")),
  }
}

/// For text longer than 64 characters: its first 64, and its length in characters.
pub fn cut(text: &str) -> Option<(&str, usize)> {
  const MAX: usize = 64;
  let (end, _) = text.char_indices().nth(MAX)?;
  Some((&text[..end], text.chars().count()))
}

impl ApiError {
  pub fn new(code: i64, detail: impl Into<String>) -> Self {
    Self {
      code,
      detail: detail.into(),
    }
  }

  pub fn invalid(detail: impl Into<String>) -> Self {
    Self::new(code::INVALID_ARGUMENT, detail)
  }

  pub fn no_credentials(detail: impl Into<String>) -> Self {
    Self::new(code::NO_CREDENTIALS, detail)
  }

  pub fn internal(detail: impl Into<String>) -> Self {
    Self::new(code::INTERNAL, detail)
  }

  /// A panic caught on its way out, as an error like any other.
  pub fn from_panic(panic: Box<dyn std::any::Any + Send>) -> Self {
    let text = if let Some(s) = panic.downcast_ref::<&str>() {
      s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
      s.clone()
    } else {
      "panic".to_string()
    };
    Self::internal(format!(
      "internal error (a bug in wx-openapi-native, please report it): {text}"
    ))
  }

  /// Whether WeChat said the access token is invalid, expired or not the latest.
  pub fn is_token_rejected(&self) -> bool {
    matches!(self.code, 40001 | 40014 | 42001)
  }

  /// Replaces every occurrence of each secret with `[redacted]`. Applied to every error of a call,
  /// so that no path (a proxy echoing the URL, a provider's message) can leak one.
  pub fn redact(mut self, secrets: &[&str]) -> Self {
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
      if self.detail.contains(*secret) {
        self.detail = self.detail.replace(*secret, "[redacted]");
      }
    }
    self
  }

  /// `openapi.<name>:fail <detail>`, as wx-server-sdk words it.
  pub fn err_msg(&self, api: &str) -> String {
    format!("{api}:fail {}", self.detail)
  }

  /// The JS error's `message`: both fields, as wx-server-sdk shows them.
  pub fn message(&self, api: &str) -> String {
    format!("errCode: {} | errMsg: {}", self.code, self.err_msg(api))
  }
}

impl std::fmt::Display for ApiError {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(f, "{} ({})", self.detail, self.code)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn redact_replaces_every_occurrence() {
    let e =
      ApiError::new(-601001, "body: tok123456 and tok123456 again").redact(&["tok123456", ""]);
    assert_eq!(e.detail, "body: [redacted] and [redacted] again");
  }

  #[test]
  fn clip_cuts_at_64_characters() {
    assert_eq!(clip("short"), "short");
    let long = "é".repeat(100);
    assert_eq!(clip(&long), format!("{}… (100 characters)", "é".repeat(64)));
  }

  #[test]
  fn err_msg_has_wx_server_sdk_shape() {
    let e = ApiError::new(45015, "response out of time limit");
    assert_eq!(
      e.err_msg("openapi.customerServiceMessage.send"),
      "openapi.customerServiceMessage.send:fail response out of time limit"
    );
    assert_eq!(
      e.message("openapi.x.y"),
      "errCode: 45015 | errMsg: openapi.x.y:fail response out of time limit"
    );
  }
}
