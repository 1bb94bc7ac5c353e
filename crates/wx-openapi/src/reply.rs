//! Reading WeChat's replies: the one place that decides what counts as a WeChat answer, and what a
//! successful call resolves to.

use serde_json::{Map, Number, Value};

use crate::case::map_to_camel;
use crate::error::{code, ApiError, ApiResult};
use crate::http::HttpReply;
use crate::table::ReplyKind;

const EXCERPT_BYTES: usize = 200;
/// 2^53: the integers a JS number holds exactly.
const SAFE_INTEGER: i64 = 1 << 53;

/// A successful call's value, before it becomes a JS object.
#[derive(Debug, PartialEq)]
pub enum Reply {
  /// The reply's own fields (without `errcode`/`errmsg`), keys converted where asked.
  Json(Map<String, Value>),
  /// A binary reply (an image).
  Binary {
    content_type: String,
    bytes: Vec<u8>,
  },
}

/// The reply to a call of `kind`: its content when WeChat succeeded, WeChat's error otherwise.
pub fn interpret(reply: HttpReply, kind: ReplyKind, convert_case: bool) -> ApiResult<Reply> {
  let is_json = reply.content_type.contains("json") || reply.content_type.starts_with("text/plain");
  if kind == ReplyKind::Binary && (200..300).contains(&reply.status) && !is_json {
    return Ok(Reply::Binary {
      content_type: reply.content_type,
      bytes: reply.body,
    });
  }
  let mut map = json_reply(&reply)?;
  map.remove("errcode");
  map.remove("errmsg");
  if convert_case {
    map = map_to_camel(map);
  }
  Ok(Reply::Json(map))
}

/// The reply's JSON object when WeChat answered `errcode` 0 (or none); WeChat's own error when it
/// answered another `errcode`; `-601001` when the reply is not a WeChat reply at all.
pub fn json_reply(reply: &HttpReply) -> ApiResult<Map<String, Value>> {
  if !(200..300).contains(&reply.status) {
    return Err(bad_reply(reply, "unexpected HTTP status"));
  }
  let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&reply.body) else {
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
      Err(wechat_error(n, errmsg))
    }
    Some(_) => Err(bad_reply(reply, "errcode is not a number")),
  }
}

/// WeChat's error as is, when its code is an integer a JS number holds exactly. Any other code
/// (beyond ±2^53, or a fraction) cannot be errCode without changing it: errCode is then -601001,
/// and errMsg keeps WeChat's code digit for digit.
fn wechat_error(errcode: &Number, errmsg: String) -> ApiError {
  match errcode.as_i64() {
    Some(n) if (-SAFE_INTEGER..=SAFE_INTEGER).contains(&n) => ApiError::new(n, errmsg),
    _ => ApiError::new(
      code::BAD_REPLY,
      format!("WeChat answered errcode {errcode}, which is not an integer a JS number holds exactly: {errmsg}"),
    ),
  }
}

pub fn bad_reply(reply: &HttpReply, what: &str) -> ApiError {
  ApiError::new(
    code::BAD_REPLY,
    format!("{what} (HTTP {}): {}", reply.status, excerpt(&reply.body)),
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

  fn reply(status: u16, body: &str) -> HttpReply {
    HttpReply {
      status,
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
  fn codes_a_js_number_cannot_hold_keep_their_digits() {
    for body in [
      r#"{"errcode":9223372036854775807,"errmsg":"x"}"#,
      r#"{"errcode":18446744073709551615,"errmsg":"x"}"#,
      r#"{"errcode":9007199254740993,"errmsg":"x"}"#,
    ] {
      let e = json_reply(&reply(200, body)).unwrap_err();
      assert_eq!(e.code, code::BAD_REPLY, "{body}");
      let digits = &body[11..body.find(',').unwrap()];
      assert!(e.detail.contains(digits), "{}", e.detail);
    }
    let e = json_reply(&reply(200, r#"{"errcode":-9007199254740992,"errmsg":"x"}"#)).unwrap_err();
    assert_eq!(e.code, -9007199254740992);
  }

  #[test]
  fn success_keeps_fields_and_converts_keys() {
    let r = interpret(
      reply(200, r#"{"errcode":0,"errmsg":"ok","media_id":"m"}"#),
      ReplyKind::Json,
      true,
    )
    .unwrap();
    let Reply::Json(map) = r else { panic!() };
    assert_eq!(map.len(), 1);
    assert_eq!(map["mediaId"], "m");
  }

  #[test]
  fn not_wechat_replies() {
    for (status, body) in [
      (200, r#"{"errcode":"0","errmsg":"ok"}"#),
      (503, r#"{"errcode":0,"errmsg":"ok"}"#),
      (200, r#"{"errcode":0,"errmsg":"ok"} trailing"#),
      (502, "<html>Bad Gateway</html>"),
    ] {
      let e = json_reply(&reply(status, body)).unwrap_err();
      assert_eq!(e.code, -601001, "{body}");
    }
    let e = json_reply(&reply(502, "<html>Bad Gateway</html>")).unwrap_err();
    assert!(e.detail.contains("HTTP 502") && e.detail.contains("Bad Gateway"));
    let e = json_reply(&reply(200, &"é".repeat(500))).unwrap_err();
    let shown = e.detail.split(": ").nth(1).unwrap().trim_end_matches('…');
    assert!(shown.len() <= 200, "{}", shown.len());
  }

  #[test]
  fn binary_replies_and_their_json_errors() {
    let png = HttpReply {
      status: 200,
      content_type: "image/png".into(),
      body: vec![137, 80],
    };
    assert!(matches!(
      interpret(png, ReplyKind::Binary, true),
      Ok(Reply::Binary { .. })
    ));
    let e = interpret(
      reply(200, r#"{"errcode":41030,"errmsg":"invalid page"}"#),
      ReplyKind::Binary,
      true,
    )
    .unwrap_err();
    assert_eq!(e.code, 41030);
  }
}
