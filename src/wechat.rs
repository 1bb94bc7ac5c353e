//! Reading WeChat's JSON replies: the one place that decides what counts as a WeChat answer.

use serde_json::{Map, Value};

use crate::error::{code, ApiError, ApiResult};
use crate::transport::HttpReply;

const EXCERPT_BYTES: usize = 200;

/// The reply's JSON object when WeChat answered `errcode` 0 (or none); WeChat's own error when it
/// answered another `errcode`; `-601001` when the reply is not a WeChat reply at all.
pub fn json_reply(reply: &HttpReply) -> ApiResult<Map<String, Value>> {
  if reply.status.is_success() && is_bare_success(&reply.body) {
    return Ok(Map::new());
  }
  let parsed = serde_json::from_slice::<Value>(&reply.body);
  if !reply.status.is_success() {
    return Err(bad_reply(reply, "unexpected HTTP status"));
  }
  let Ok(Value::Object(map)) = parsed else {
    return Err(bad_reply(reply, "the reply is not a JSON object"));
  };
  match map.get("errcode") {
    None => Ok(map),
    Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(map),
    Some(Value::Number(n)) => {
      let errmsg = match map.get("errmsg") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
      };
      Err(ApiError::new(n.as_i64().unwrap_or(code::BAD_REPLY), errmsg))
    }
    Some(_) => Err(bad_reply(reply, "errcode is not a number")),
  }
}

/// WeChat's usual success, `{"errcode":0,"errmsg":"ok"}` and nothing else: read without building
/// a map (hashing each key) that the caller would empty again. Anything else takes the general path.
fn is_bare_success(body: &[u8]) -> bool {
  #[derive(serde::Deserialize)]
  #[serde(deny_unknown_fields)]
  struct Bare {
    errcode: Option<i64>,
    #[allow(dead_code)]
    errmsg: Option<serde::de::IgnoredAny>,
  }
  matches!(
    serde_json::from_slice::<Bare>(body),
    Ok(Bare {
      errcode: None | Some(0),
      ..
    })
  )
}

pub fn bad_reply(reply: &HttpReply, what: &str) -> ApiError {
  ApiError::new(
    code::BAD_REPLY,
    format!(
      "{what} (HTTP {}): {}",
      reply.status.as_u16(),
      excerpt(&reply.body)
    ),
  )
}

/// At most 200 bytes of the body, cut on a character boundary.
fn excerpt(body: &[u8]) -> String {
  let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_BYTES + 3)]);
  let mut end = text.len().min(EXCERPT_BYTES);
  while !text.is_char_boundary(end) {
    end -= 1;
  }
  let mut out = text[..end].to_string();
  if body.len() > end {
    out.push('…');
  }
  out
}

#[cfg(test)]
mod tests {
  use super::*;
  use http::StatusCode;

  fn reply(status: u16, body: &str) -> HttpReply {
    HttpReply {
      status: StatusCode::from_u16(status).unwrap(),
      content_type: "application/json".into(),
      body: body.as_bytes().to_vec(),
    }
  }

  #[test]
  fn wechat_error_is_verbatim() {
    let e = json_reply(&reply(
      200,
      r#"{"errcode":45015,"errmsg":"response out of time limit rid: 1"}"#,
    ))
    .unwrap_err();
    assert_eq!(e, ApiError::new(45015, "response out of time limit rid: 1"));
  }

  #[test]
  fn a_bare_success_has_no_fields_and_anything_else_is_read_in_full() {
    assert!(json_reply(&reply(200, r#"{"errcode":0,"errmsg":"ok"}"#))
      .unwrap()
      .is_empty());
    assert!(json_reply(&reply(200, r#"{}"#)).unwrap().is_empty());
    let e = json_reply(&reply(200, r#"{"errcode":"0","errmsg":"ok"}"#)).unwrap_err();
    assert_eq!(e.code, -601001);
    let e = json_reply(&reply(503, r#"{"errcode":0,"errmsg":"ok"}"#)).unwrap_err();
    assert_eq!(e.code, -601001);
    let e = json_reply(&reply(200, r#"{"errcode":0,"errmsg":"ok"} trailing"#)).unwrap_err();
    assert_eq!(e.code, -601001);
  }

  #[test]
  fn success_keeps_fields() {
    let map = json_reply(&reply(200, r#"{"errcode":0,"errmsg":"ok","media_id":"m"}"#)).unwrap();
    assert_eq!(map["media_id"], "m");
  }

  #[test]
  fn html_502_is_a_bad_reply_with_status_and_excerpt() {
    let e = json_reply(&reply(502, "<html>Bad Gateway</html>")).unwrap_err();
    assert_eq!(e.code, -601001);
    assert!(
      e.detail.contains("HTTP 502") && e.detail.contains("Bad Gateway"),
      "{}",
      e.detail
    );
  }

  #[test]
  fn excerpt_is_at_most_200_bytes() {
    let body = "é".repeat(500);
    let e = json_reply(&reply(200, &body)).unwrap_err();
    let shown = e.detail.split(": ").nth(1).unwrap().trim_end_matches('…');
    assert!(shown.len() <= 200, "{}", shown.len());
  }
}
