//! A call's params as the binding hands them over: JSON text, with each binary value (a Buffer or
//! Uint8Array) replaced by a marker `{"\u0000file": i}` and its bytes passed beside it. Keys are
//! converted to WeChat's snake_case here, once, for every call.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::case::map_to_snake;
use crate::error::{ApiError, ApiResult};

/// The key of the object that stands for the `i`-th binary value.
pub const FILE_MARKER: &str = "\u{0}file";

/// A call's params: the JSON tree (binary values as `null`), and the binary values by their dotted
/// wire path (`media.value`).
#[derive(Debug, Default, Clone)]
pub struct Params {
  pub json: Map<String, Value>,
  pub files: Vec<(String, Vec<u8>)>,
}

impl Params {
  /// Reads the params: `text` must be a JSON object; markers are swapped for `binaries`.
  pub fn from_json(text: &str, binaries: Vec<Vec<u8>>, convert_case: bool) -> ApiResult<Self> {
    let mut json: Map<String, Value> = serde_json::from_str(text)
      .map_err(|e| ApiError::invalid(format!("params could not be read as JSON: {e}")))?;
    if convert_case {
      map_to_snake(&mut json);
    }
    let mut binaries: Vec<Option<Vec<u8>>> = binaries.into_iter().map(Some).collect();
    let mut files = Vec::new();
    let mut path = String::new();
    for (key, value) in json.iter_mut() {
      path.clear();
      path.push_str(key);
      take_files(value, &mut path, &mut binaries, &mut files);
    }
    Ok(Self { json, files })
  }

  /// The bytes at `path`, if the params hold a binary value there.
  pub fn file(&self, path: &str) -> Option<&[u8]> {
    self
      .files
      .iter()
      .find(|(p, _)| p == path)
      .map(|(_, bytes)| bytes.as_slice())
  }

  pub fn take_file(&mut self, path: &str) -> Option<Vec<u8>> {
    let index = self.files.iter().position(|(p, _)| p == path)?;
    Some(self.files.swap_remove(index).1)
  }
}

fn take_files(
  value: &mut Value,
  path: &mut String,
  binaries: &mut [Option<Vec<u8>>],
  files: &mut Vec<(String, Vec<u8>)>,
) {
  let parent = path.len();
  match value {
    Value::Object(map) => {
      if let Some(index) = marker_index(map) {
        if let Some(bytes) = binaries.get_mut(index).and_then(Option::take) {
          files.push((path.clone(), bytes));
        }
        *value = Value::Null;
        return;
      }
      for (key, item) in map.iter_mut() {
        path.push('.');
        path.push_str(key);
        take_files(item, path, binaries, files);
        path.truncate(parent);
      }
    }
    Value::Array(items) => {
      for (i, item) in items.iter_mut().enumerate() {
        let _ = write!(path, "[{i}]");
        take_files(item, path, binaries, files);
        path.truncate(parent);
      }
    }
    _ => {}
  }
}

fn marker_index(map: &Map<String, Value>) -> Option<usize> {
  if map.len() != 1 {
    return None;
  }
  map
    .get(FILE_MARKER)
    .and_then(Value::as_u64)
    .map(|i| i as usize)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn markers_become_files_by_wire_path() {
    let text = r#"{"type":"image","media":{"contentType":"image/png","value":{"\u0000file":0}},"list":[{"\u0000file":1}]}"#;
    let params = Params::from_json(text, vec![vec![1, 2], vec![3]], true).unwrap();
    assert_eq!(params.file("media.value"), Some(&[1u8, 2][..]));
    assert_eq!(params.file("list[0]"), Some(&[3u8][..]));
    assert_eq!(params.json["media"]["content_type"], "image/png");
    assert_eq!(params.json["media"]["value"], Value::Null);
  }

  #[test]
  fn not_an_object_is_refused() {
    assert_eq!(
      Params::from_json("[1]", vec![], true).unwrap_err().code,
      -401001
    );
  }
}
