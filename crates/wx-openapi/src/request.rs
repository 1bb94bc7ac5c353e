//! The one engine that turns any row of the table and a call's params into an HTTP request:
//! the params go to the JSON body, the query string or multipart parts, as the row says.

use serde_json::{Map, Value};

use crate::error::{clip, ApiError, ApiResult};
use crate::http::{Body, FilePart, HttpRequest, MAX_BINARY_REPLY, MAX_JSON_REPLY};
use crate::params::Params;
use crate::table::{ReplyKind, Route, Wire};
use crate::validate::{self, default_file_name, file_param, Naming};

/// The most the params in a query string may take: servers refuse longer request heads (nginx's
/// default buffer is 8 KiB, with the path and headers in it too).
const MAX_QUERY_BYTES: usize = 6 * 1024;

/// Checks the params and builds the request of a call of `route`, before anything is sent.
pub fn build(route: &Route, mut params: Params, convert_case: bool) -> ApiResult<HttpRequest> {
  let naming = Naming { convert_case };
  if !matches!(route.params, Wire::Multipart | Wire::MultipartOrQuery) {
    refuse_files(&params, route, &naming)?;
  }
  if let Some(check) = validate::for_call(&route.name) {
    check(&mut params, &naming)?;
  }
  let (query, body) = match route.params {
    Wire::Json => (Vec::new(), json_body(&params.json)?),
    Wire::Query => (query_pairs(params.json.iter()), Body::Empty),
    Wire::JsonQuery => {
      let (in_query, in_body): (Map<String, Value>, Map<String, Value>) = params
        .json
        .into_iter()
        .partition(|(key, _)| route.query.contains(key));
      (query_pairs(in_query.iter()), json_body(&in_body)?)
    }
    Wire::Multipart | Wire::MultipartOrQuery => multipart(route, &mut params, &naming)?,
  };
  let query_bytes: usize = query.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
  if query_bytes > MAX_QUERY_BYTES {
    return Err(ApiError::invalid(format!(
      "the params that {} puts in the URL come to {query_bytes} bytes; at most {MAX_QUERY_BYTES} fit in a URL",
      short_name(&route.name)
    )));
  }
  Ok(HttpRequest {
    method: route.method,
    path: route.path.clone(),
    query,
    body,
    retry: route.retry,
    max_reply: match route.reply {
      ReplyKind::Json => MAX_JSON_REPLY,
      ReplyKind::Binary => MAX_BINARY_REPLY,
    },
  })
}

fn json_body(json: &Map<String, Value>) -> ApiResult<Body> {
  // serde_json writes non-ASCII characters as they are, never as \u escapes (CONTRACT.md 4).
  serde_json::to_vec(json)
    .map(|bytes| Body::Json(bytes.into()))
    .map_err(|e| ApiError::invalid(format!("params could not be written as JSON: {e}")))
}

/// Query values as WeChat's GET APIs take them: strings as they are, numbers and booleans as their
/// JSON text, arrays joined with commas (`ids=1,2`), objects as JSON text; `null` left out.
fn query_pairs<'a>(params: impl Iterator<Item = (&'a String, &'a Value)>) -> Vec<(String, String)> {
  params
    .filter_map(|(key, value)| Some((key.clone(), query_value(value)?)))
    .collect()
}

fn query_value(value: &Value) -> Option<String> {
  match value {
    Value::Null => None,
    Value::String(s) => Some(s.clone()),
    Value::Array(items) => Some(
      items
        .iter()
        .filter_map(query_value)
        .collect::<Vec<_>>()
        .join(","),
    ),
    other => Some(other.to_string()),
  }
}

/// The params of a call that takes no file must hold no binary value.
fn refuse_files(params: &Params, route: &Route, naming: &Naming) -> ApiResult<()> {
  match params.files.first() {
    None => Ok(()),
    Some((path, _)) => Err(ApiError::invalid(format!(
      "{} is binary data, which {} does not take",
      clip(&naming.field(path)),
      short_name(&route.name)
    ))),
  }
}

/// Each top-level param `{ contentType, value: <bytes>, fileName? }` becomes a part named by its
/// key; every other param goes to the query string.
fn multipart(
  route: &Route,
  params: &mut Params,
  naming: &Naming,
) -> ApiResult<(Vec<(String, String)>, Body)> {
  let mut parts = Vec::new();
  let mut query = Vec::new();
  for (key, value) in &params.json {
    let is_file = match value {
      Value::Object(object) => {
        object.contains_key("value")
          || object.contains_key("content_type")
          || object.contains_key("contentType")
      }
      _ => false,
    };
    if !is_file {
      query.extend(query_pairs(std::iter::once((key, value))));
      continue;
    }
    let path = format!("{key}.value");
    let file = file_param(
      &params.json,
      key,
      params.file(&path),
      route.max_file_bytes,
      naming,
    )?;
    parts.push(FilePart {
      field: key.clone(),
      file_name: file
        .file_name
        .map_or_else(|| default_file_name(file.content_type), str::to_string),
      content_type: file.content_type.to_string(),
      bytes: file.bytes.to_vec().into(),
    });
  }
  if let Some((path, _)) = params
    .files
    .iter()
    .find(|(path, _)| !parts.iter().any(|p| *path == format!("{}.value", p.field)))
  {
    return Err(ApiError::invalid(format!(
      "{} is binary data; a file must be a top-level param {{ contentType, value, fileName? }}",
      clip(&naming.field(path))
    )));
  }
  if parts.is_empty() {
    let alternative = route
      .query
      .iter()
      .find(|name| query.iter().any(|(key, _)| key == *name));
    if route.params == Wire::Multipart || alternative.is_none() {
      let or_url = match route.params {
        Wire::MultipartOrQuery => route
          .query
          .first()
          .map(|name| format!(" or {}", naming.field(name)))
          .unwrap_or_default(),
        _ => String::new(),
      };
      return Err(ApiError::invalid(format!(
        "{} needs a file: a param {{ contentType, value: Buffer, fileName? }} such as {{ img: {{ contentType: 'image/png', value }} }}{or_url}",
        short_name(&route.name)
      )));
    }
    return Ok((query, Body::Empty));
  }
  Ok((query, Body::Files(parts)))
}

/// `send` for `customerServiceMessage.send`: how the existing errors name a call.
fn short_name(name: &str) -> &str {
  name.rsplit('.').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::table::Table;

  fn route(name: &str) -> &'static Route {
    Table::builtin().get(name).unwrap()
  }

  #[test]
  fn query_values_follow_wechat() {
    assert_eq!(query_value(&serde_json::json!("a b")), Some("a b".into()));
    assert_eq!(query_value(&serde_json::json!(3)), Some("3".into()));
    assert_eq!(
      query_value(&serde_json::json!([1, "x"])),
      Some("1,x".into())
    );
    assert_eq!(
      query_value(&serde_json::json!({"a":1})),
      Some(r#"{"a":1}"#.into())
    );
    assert_eq!(query_value(&Value::Null), None);
  }

  #[test]
  fn get_temp_media_goes_in_the_query() {
    let params = Params::from_json(r#"{"mediaId":"m1"}"#, vec![], true).unwrap();
    let request = build(route("customerServiceMessage.getTempMedia"), params, true).unwrap();
    assert_eq!(
      request.query,
      vec![("media_id".to_string(), "m1".to_string())]
    );
    assert!(matches!(request.body, Body::Empty));
  }

  #[test]
  fn an_upload_is_a_part_named_by_its_key_and_type_goes_in_the_query() {
    let text = r#"{"type":"image","media":{"contentType":"image/png","value":{"\u0000file":0}}}"#;
    let params = Params::from_json(text, vec![vec![1, 2, 3]], true).unwrap();
    let request = build(
      route("customerServiceMessage.uploadTempMedia"),
      params,
      true,
    )
    .unwrap();
    assert_eq!(
      request.query,
      vec![("type".to_string(), "image".to_string())]
    );
    let Body::Files(parts) = request.body else {
      panic!()
    };
    assert_eq!(
      (parts[0].field.as_str(), parts[0].file_name.as_str()),
      ("media", "media.png")
    );
  }

  #[test]
  fn binary_data_where_no_file_is_taken_is_refused() {
    let text = r#"{"touser":"o","msgtype":"text","text":{"content":{"\u0000file":0}}}"#;
    let params = Params::from_json(text, vec![vec![1]], true).unwrap();
    let e = build(route("customerServiceMessage.send"), params, true)
      .err()
      .unwrap();
    assert!(
      e.detail
        .starts_with("text.content is binary data, which send does not take"),
      "{}",
      e.detail
    );
  }
}
