//! Key conversion between the cloud-call form (camelCase) and WeChat's wire form (snake_case),
//! by wx-server-sdk's own rules (CONTRACT.md section 4).

use std::borrow::Cow;

use serde_json::{Map, Value};

/// `thumbMediaId` → `thumb_media_id`: each ASCII capital becomes `_` + its lower case,
/// except at position 0 where it is only lowered. `thumbURL` → `thumb_u_r_l`, as wx-server-sdk does.
pub fn camel_to_snake(key: &str) -> Cow<'_, str> {
  if !key.bytes().any(|b| b.is_ascii_uppercase()) {
    return Cow::Borrowed(key);
  }
  let mut out = String::with_capacity(key.len() + 4);
  for (i, ch) in key.char_indices() {
    if ch.is_ascii_uppercase() {
      if i > 0 {
        out.push('_');
      }
      out.push(ch.to_ascii_lowercase());
    } else {
      out.push(ch);
    }
  }
  Cow::Owned(out)
}

/// [`camel_to_snake`] of an owned key: the same `String` back where nothing changes.
pub fn snake_key(key: String) -> String {
  match camel_to_snake(&key) {
    Cow::Borrowed(_) => key,
    Cow::Owned(converted) => converted,
  }
}

/// Converts every key of params, recursively, to snake_case; a map is rebuilt only where a key
/// changes.
pub fn map_to_snake(map: &mut Map<String, Value>) {
  if map
    .keys()
    .any(|key| matches!(camel_to_snake(key), Cow::Owned(_)))
  {
    *map = std::mem::take(map)
      .into_iter()
      .map(|(key, value)| (snake_key(key), value))
      .collect();
  }
  for value in map.values_mut() {
    value_to_snake(value);
  }
}

fn value_to_snake(value: &mut Value) {
  match value {
    Value::Object(map) => map_to_snake(map),
    Value::Array(items) => items.iter_mut().for_each(value_to_snake),
    _ => {}
  }
}

/// `thumb_media_id` → `thumbMediaId`: like JS `key.replace(/_(\w)/g, (_, c) => c.toUpperCase())`.
pub fn snake_to_camel(key: &str) -> Cow<'_, str> {
  if !key.contains('_') {
    return Cow::Borrowed(key);
  }
  let mut out = String::with_capacity(key.len());
  let mut chars = key.chars().peekable();
  while let Some(ch) = chars.next() {
    match (ch, chars.peek()) {
      ('_', Some(&next)) if next.is_ascii_alphanumeric() || next == '_' => {
        out.push(next.to_ascii_uppercase());
        chars.next();
      }
      _ => out.push(ch),
    }
  }
  Cow::Owned(out)
}

/// Converts every key of a WeChat reply, recursively, to camelCase.
pub fn map_to_camel(map: Map<String, Value>) -> Map<String, Value> {
  map
    .into_iter()
    .map(|(k, v)| (snake_to_camel(&k).into_owned(), value_to_camel(v)))
    .collect()
}

fn value_to_camel(value: Value) -> Value {
  match value {
    Value::Object(map) => Value::Object(map_to_camel(map)),
    Value::Array(items) => Value::Array(items.into_iter().map(value_to_camel).collect()),
    other => other,
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use serde_json::json;

  #[test]
  fn map_to_snake_converts_every_depth_and_keeps_order() {
    let mut map = match serde_json::json!({
      "touser": "o", "thumbMediaId": "m", "list": [{ "innerKey": 1 }, [{ "deepKey": 2 }]],
      "nested": { "aB": { "cD": "eF" } }
    }) {
      Value::Object(map) => map,
      _ => unreachable!(),
    };
    map_to_snake(&mut map);
    assert_eq!(
      serde_json::to_string(&map).unwrap(),
      r#"{"touser":"o","thumb_media_id":"m","list":[{"inner_key":1},[{"deep_key":2}]],"nested":{"a_b":{"c_d":"eF"}}}"#
    );
    assert_eq!(snake_key("fooBar".to_string()), "foo_bar");
  }

  #[test]
  fn camel_to_snake_follows_wx_server_sdk() {
    assert_eq!(camel_to_snake("thumbMediaId"), "thumb_media_id");
    assert_eq!(camel_to_snake("media_id"), "media_id");
    assert_eq!(camel_to_snake("thumbURL"), "thumb_u_r_l");
    assert_eq!(camel_to_snake("Touser"), "touser");
    assert_eq!(camel_to_snake("msgtype"), "msgtype");
    assert_eq!(camel_to_snake("内容Key"), "内容_key");
    assert_eq!(camel_to_snake(""), "");
  }

  #[test]
  fn snake_to_camel_follows_wx_server_sdk() {
    assert_eq!(snake_to_camel("media_id"), "mediaId");
    assert_eq!(snake_to_camel("created_at"), "createdAt");
    assert_eq!(snake_to_camel("a_1"), "a1");
    assert_eq!(snake_to_camel("a__b"), "a_b");
    assert_eq!(snake_to_camel("trailing_"), "trailing_");
    assert_eq!(snake_to_camel("_x"), "X");
    assert_eq!(snake_to_camel("a_é"), "a_é");
  }

  #[test]
  fn reply_keys_convert_recursively_and_values_stay() {
    let reply =
      json!({ "media_id": "m_id", "item_list": [{ "created_at": 1 }], "x": { "deep_key": "v_v" } });
    let Value::Object(reply) = reply else {
      unreachable!()
    };
    assert_eq!(
      Value::Object(map_to_camel(reply)),
      json!({ "mediaId": "m_id", "itemList": [{ "createdAt": 1 }], "x": { "deepKey": "v_v" } })
    );
  }
}
