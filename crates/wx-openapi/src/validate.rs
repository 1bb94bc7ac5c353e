//! The checks made before anything is sent: the customerServiceMessage calls' own rules (the
//! seed's), and the shape of every file param. Field names are WeChat's (snake_case);
//! `Naming` turns them back into the form the user wrote.

use serde_json::{Map, Value};

use crate::error::{cut, ApiError, ApiResult};
use crate::params::Params;

/// The seed's message types and the fields each one requires.
const MESSAGE_TYPES: &[(&str, &[&str])] = &[
  ("text", &["content"]),
  ("image", &["media_id"]),
  ("link", &["title", "description", "url", "thumb_url"]),
  ("miniprogrampage", &["title", "pagepath", "thumb_media_id"]),
];

const TYPING_COMMANDS: &[&str] = &["Typing", "CancelTyping"];
const UPLOAD_TYPES: &[&str] = &["image"];

/// How to name a field in an error: as the user wrote it (camelCase when keys are converted).
pub struct Naming {
  pub convert_case: bool,
}

impl Naming {
  pub fn field(&self, wire_path: &str) -> String {
    if self.convert_case {
      crate::case::snake_to_camel(wire_path).into_owned()
    } else {
      wire_path.to_string()
    }
  }
}

/// A call's own checks, by the canonical name of its row.
pub type Check = fn(&mut Params, &Naming) -> ApiResult<()>;

pub fn for_call(name: &str) -> Option<Check> {
  match name {
    "customerServiceMessage.send" => Some(send),
    "customerServiceMessage.setTyping" => Some(set_typing),
    "customerServiceMessage.getTempMedia" => Some(get_temp_media),
    "customerServiceMessage.uploadTempMedia" => Some(upload_temp_media),
    _ => None,
  }
}

/// A file param `{ contentType, value, fileName? }` (the value already taken out as bytes), checked.
#[derive(Debug)]
pub struct FileParam<'a> {
  pub content_type: &'a str,
  pub file_name: Option<&'a str>,
  pub bytes: &'a [u8],
}

/// Checks the file param at top-level key `key`, whose bytes are `bytes` (if any were given).
pub fn file_param<'a>(
  map: &'a Map<String, Value>,
  key: &str,
  bytes: Option<&'a [u8]>,
  max_bytes: Option<usize>,
  naming: &Naming,
) -> ApiResult<FileParam<'a>> {
  let field = |sub: &str| naming.field(&format!("{key}.{sub}"));
  let Some(Value::Object(file)) = map.get(key) else {
    return Err(ApiError::invalid(format!(
      "{} must be an object {{ contentType, value, fileName? }}",
      naming.field(key)
    )));
  };
  let content_type = either_string(file, "content_type").ok_or_else(|| {
    ApiError::invalid(format!(
      "{} is required (a string such as \"image/png\")",
      field("content_type")
    ))
  })?;
  // It goes into the multipart part's header as is: no line breaks or control characters.
  if content_type.chars().any(|c| c.is_control()) || !content_type.contains('/') {
    return Err(ApiError::invalid(format!(
      "{} {} is not a MIME type",
      field("content_type"),
      shown(content_type)
    )));
  }
  let file_name = match file.get("file_name").or_else(|| file.get("fileName")) {
    None | Some(Value::Null) => None,
    Some(Value::String(s)) if !s.is_empty() => Some(s.as_str()),
    Some(_) => {
      return Err(ApiError::invalid(format!(
        "{} must be a non-empty string",
        field("file_name")
      )))
    }
  };
  let Some(bytes) = bytes else {
    return Err(ApiError::invalid(format!(
      "{} is required: a Buffer or Uint8Array with the file's bytes",
      field("value")
    )));
  };
  if bytes.is_empty() {
    return Err(ApiError::invalid(format!("{} is empty", field("value"))));
  }
  if let Some(max) = max_bytes.filter(|max| bytes.len() > *max) {
    return Err(ApiError::invalid(format!(
      "{} is {} bytes; at most {max}{} can be uploaded",
      field("value"),
      bytes.len(),
      megabytes(max)
    )));
  }
  Ok(FileParam {
    content_type,
    file_name,
    bytes,
  })
}

/// " (10 MB)" for a whole number of megabytes, as WeChat's documents state their limits.
fn megabytes(bytes: usize) -> String {
  const MB: usize = 1024 * 1024;
  if bytes.is_multiple_of(MB) {
    format!(" ({} MB)", bytes / MB)
  } else {
    String::new()
  }
}

pub fn send(params: &mut Params, naming: &Naming) -> ApiResult<()> {
  let json = &params.json;
  required_string(json, "touser", "", naming)?;
  let msgtype = required_string(json, "msgtype", "", naming)?;
  let Some((_, fields)) = MESSAGE_TYPES.iter().find(|(name, _)| *name == msgtype) else {
    return Err(ApiError::invalid(format!(
      "msgtype must be one of {}, got {}",
      quoted(MESSAGE_TYPES.iter().map(|(name, _)| *name)),
      shown(msgtype)
    )));
  };
  let when = || format!(" when msgtype is {msgtype:?}");
  let body = match json.get(msgtype) {
    Some(Value::Object(body)) => body,
    Some(_) => return Err(ApiError::invalid(format!("{msgtype} must be an object"))),
    None => {
      return Err(ApiError::invalid(format!(
        "{msgtype} is required{}",
        when()
      )))
    }
  };
  let prefix = format!("{msgtype}.");
  for field in *fields {
    required_string(body, field, &prefix, naming).map_err(|e| with_context(e, &when()))?;
  }
  Ok(())
}

pub fn set_typing(params: &mut Params, naming: &Naming) -> ApiResult<()> {
  required_string(&params.json, "touser", "", naming)?;
  let command = required_string(&params.json, "command", "", naming)?;
  if !TYPING_COMMANDS.contains(&command) {
    return Err(ApiError::invalid(format!(
      "command must be {}, got {}",
      quoted(TYPING_COMMANDS.iter().copied()).replace(", ", " or "),
      shown(command)
    )));
  }
  Ok(())
}

pub fn get_temp_media(params: &mut Params, naming: &Naming) -> ApiResult<()> {
  required_string(&params.json, "media_id", "", naming).map(|_| ())
}

pub fn upload_temp_media(params: &mut Params, naming: &Naming) -> ApiResult<()> {
  let kind = required_string(&params.json, "type", "", naming)?;
  if !UPLOAD_TYPES.contains(&kind) {
    return Err(ApiError::invalid(format!(
      "type must be \"image\", got {}",
      shown(kind)
    )));
  }
  let media = match params.json.get("media") {
    Some(Value::Object(media)) => media,
    Some(_) => {
      return Err(ApiError::invalid(
        "media must be an object { contentType, value, fileName? }",
      ))
    }
    None => {
      return Err(ApiError::invalid(
        "media is required: { contentType, value, fileName? }",
      ))
    }
  };
  let content_type = either_string(media, "content_type").ok_or_else(|| {
    ApiError::invalid(format!(
      "{} is required (a string such as \"image/png\")",
      naming.field("media.content_type")
    ))
  })?;
  if !content_type.starts_with("image/") || content_type.len() <= "image/".len() {
    return Err(ApiError::invalid(format!(
      "{} must be an image type such as \"image/png\", got {}",
      naming.field("media.content_type"),
      shown(content_type)
    )));
  }
  // The rest of `media` (a MIME type, the bytes, their size) is every file param's check: file_param.
  Ok(())
}

/// `media.png` for `image/png`, as wx-server-sdk names an upload without a file name.
pub fn default_file_name(content_type: &str) -> String {
  let subtype = content_type
    .split(['/', ';', '+'])
    .nth(1)
    .unwrap_or("bin")
    .trim();
  let extension = match subtype {
    "jpeg" | "pjpeg" | "jpg" => "jpg",
    "svg" => "svg",
    "x-icon" | "vnd.microsoft.icon" => "ico",
    other => other.trim_start_matches("x-"),
  };
  format!("media.{extension}")
}

/// Both spellings, since with `convertCase: false` the user's keys arrive as written.
fn either_string<'a>(map: &'a Map<String, Value>, snake: &str) -> Option<&'a str> {
  let camel = crate::case::snake_to_camel(snake);
  map
    .get(snake)
    .or_else(|| map.get(camel.as_ref()))
    .and_then(Value::as_str)
    .filter(|s| !s.is_empty())
}

fn required_string<'a>(
  map: &'a Map<String, Value>,
  field: &str,
  prefix: &str,
  naming: &Naming,
) -> ApiResult<&'a str> {
  // Named only when it fails: this runs for every field of every call.
  let name = || naming.field(&format!("{prefix}{field}"));
  match map.get(field) {
    Some(Value::String(s)) if !s.is_empty() => Ok(s),
    Some(Value::String(_)) => Err(ApiError::invalid(format!("{} must not be empty", name()))),
    None | Some(Value::Null) => Err(ApiError::invalid(format!("{} is required", name()))),
    Some(other) => Err(ApiError::invalid(format!(
      "{} must be a string, got {}",
      name(),
      json_type(other)
    ))),
  }
}

fn with_context(mut error: ApiError, context: &str) -> ApiError {
  error.detail.push_str(context);
  error
}

fn json_type(value: &Value) -> &'static str {
  match value {
    Value::Null => "null",
    Value::Bool(_) => "a boolean",
    Value::Number(_) => "a number",
    Value::String(_) => "a string",
    Value::Array(_) => "an array",
    Value::Object(_) => "an object",
  }
}

/// A user's value quoted in an error, clipped.
fn shown(value: &str) -> String {
  match cut(value) {
    None => format!("{value:?}"),
    Some((head, length)) => format!("{head:?}… ({length} characters)"),
  }
}

fn quoted<'a>(names: impl Iterator<Item = &'a str>) -> String {
  names
    .map(|n| format!("{n:?}"))
    .collect::<Vec<_>>()
    .join(", ")
}

#[cfg(test)]
mod tests {
  use super::*;
  use serde_json::json;

  fn params(value: Value) -> Params {
    Params {
      json: value.as_object().unwrap().clone(),
      files: Vec::new(),
    }
  }
  const CAMEL: Naming = Naming { convert_case: true };
  const WIRE: Naming = Naming {
    convert_case: false,
  };

  fn send_error(value: Value, naming: &Naming) -> String {
    let e = send(&mut params(value), naming).unwrap_err();
    assert_eq!(e.code, -401001);
    e.detail
  }

  #[test]
  fn seed_examples_pass() {
    for body in [
      json!({"touser":"OPENID","msgtype":"text","text":{"content":"Hello World"}}),
      json!({"touser":"OPENID","msgtype":"image","image":{"media_id":"MEDIA_ID"}}),
      json!({"touser":"OPENID","msgtype":"link","link":{"title":"Happy Day","description":"Is Really A Happy Day","url":"URL","thumb_url":"THUMB_URL"}}),
      json!({"touser":"OPENID","msgtype":"miniprogrampage","miniprogrampage":{"title":"title","pagepath":"pagepath","thumb_media_id":"thumb_media_id"}}),
    ] {
      send(&mut params(body), &CAMEL).unwrap();
    }
  }

  #[test]
  fn each_rule_names_its_field() {
    assert_eq!(
      send_error(json!({"msgtype":"text"}), &CAMEL),
      "touser is required"
    );
    assert_eq!(
      send_error(json!({"touser":"","msgtype":"text"}), &CAMEL),
      "touser must not be empty"
    );
    assert_eq!(
      send_error(json!({"touser":5,"msgtype":"text"}), &CAMEL),
      "touser must be a string, got a number"
    );
    assert_eq!(
      send_error(json!({"touser":"o","msgtype":"voice"}), &CAMEL),
      r#"msgtype must be one of "text", "image", "link", "miniprogrampage", got "voice""#
    );
    assert_eq!(
      send_error(json!({"touser":"o","msgtype":"text"}), &CAMEL),
      r#"text is required when msgtype is "text""#
    );
    assert_eq!(
      send_error(json!({"touser":"o","msgtype":"text","text":{}}), &CAMEL),
      r#"text.content is required when msgtype is "text""#
    );
    assert_eq!(
      send_error(
        json!({"touser":"o","msgtype":"image","image":{"media_id":""}}),
        &CAMEL
      ),
      r#"image.mediaId must not be empty when msgtype is "image""#
    );
    assert_eq!(
      send_error(
        json!({"touser":"o","msgtype":"miniprogrampage","miniprogrampage":{"title":"t","pagepath":"p"}}),
        &WIRE
      ),
      r#"miniprogrampage.thumb_media_id is required when msgtype is "miniprogrampage""#
    );
    assert_eq!(
      send_error(json!({"touser":"o","msgtype":"link","link":"x"}), &CAMEL),
      "link must be an object"
    );
  }

  #[test]
  fn quoted_values_are_cut() {
    let long = "x".repeat(10_000);
    let e = send(&mut params(json!({"touser":"o","msgtype": long})), &CAMEL).unwrap_err();
    assert!(e.detail.len() < 300, "{}", e.detail.len());
    assert!(e.detail.ends_with("… (10000 characters)"), "{}", e.detail);
  }

  #[test]
  fn typing_commands() {
    set_typing(
      &mut params(json!({"touser":"o","command":"Typing"})),
      &CAMEL,
    )
    .unwrap();
    let e = set_typing(
      &mut params(json!({"touser":"o","command":"typing"})),
      &CAMEL,
    )
    .unwrap_err();
    assert_eq!(
      e.detail,
      r#"command must be "Typing" or "CancelTyping", got "typing""#
    );
  }

  #[test]
  fn upload_checks_and_file_names() {
    let mut p = params(json!({"type":"image","media":{"content_type":"image/png","value":null}}));
    upload_temp_media(&mut p, &CAMEL).unwrap();
    let bytes = [1u8, 2, 3];
    let file = file_param(&p.json, "media", Some(&bytes), Some(2), &CAMEL).unwrap_err();
    assert_eq!(
      file.detail,
      "media.value is 3 bytes; at most 2 can be uploaded"
    );
    let file = file_param(&p.json, "media", Some(&bytes), Some(10 << 20), &CAMEL).unwrap();
    assert_eq!((file.content_type, file.file_name), ("image/png", None));
    let e = file_param(&p.json, "media", None, None, &CAMEL).unwrap_err();
    assert!(
      e.detail.starts_with("media.value is required"),
      "{}",
      e.detail
    );

    let mut text = params(json!({"type":"image","media":{"content_type":"text/plain"}}));
    assert!(upload_temp_media(&mut text, &CAMEL)
      .unwrap_err()
      .detail
      .starts_with("media.contentType must be an image type"));
    assert_eq!(default_file_name("image/jpeg"), "media.jpg");
    assert_eq!(default_file_name("image/gif"), "media.gif");
  }
}
