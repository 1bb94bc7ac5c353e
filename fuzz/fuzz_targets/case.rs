//! Fuzz target for the key converters in `crates/wx-openapi/src/case.rs`.
//!
//! The input is read three ways:
//! - as a string (lossy UTF-8): both converters are checked against an independent oracle (the JS
//!   regexes wx-server-sdk uses, run with the `regex` crate) and against properties that must
//!   hold whatever the oracle says;
//! - as the source of two identifiers (snake_case and camelCase) built from the bytes, which
//!   must round-trip through the two converters;
//! - as JSON: when it parses as an object, `map_to_camel` is checked against a reference
//!   conversion, including what happens when two keys convert to the same key.
#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use regex::Regex;
use serde_json::{Map, Value};
use wx_openapi::fuzzing::{camel_to_snake, map_to_camel, snake_to_camel};

/// JS: `key.replace(/_(\w)/g, (_, c) => c.toUpperCase())`, where `\w` (no `u` flag) is ASCII.
fn snake_to_camel_oracle(key: &str) -> String {
  static RE: OnceLock<Regex> = OnceLock::new();
  let re = RE.get_or_init(|| Regex::new("_([A-Za-z0-9_])").unwrap());
  re.replace_all(key, |caps: &regex::Captures<'_>| {
    caps[1].to_ascii_uppercase()
  })
  .into_owned()
}

/// JS: `key.replace(/[A-Z]/g, (c, i) => (i ? '_' : '') + c.toLowerCase())`. The index is a
/// UTF-16 index in JS and a byte index here: both are 0 only for the first character.
fn camel_to_snake_oracle(key: &str) -> String {
  static RE: OnceLock<Regex> = OnceLock::new();
  let re = RE.get_or_init(|| Regex::new("[A-Z]").unwrap());
  re.replace_all(key, |caps: &regex::Captures<'_>| {
    let m = caps.get(0).unwrap();
    let lower = m.as_str().to_ascii_lowercase();
    if m.start() == 0 {
      lower
    } else {
      format!("_{lower}")
    }
  })
  .into_owned()
}

fn non_ascii(s: &str) -> Vec<char> {
  s.chars().filter(|c| !c.is_ascii()).collect()
}

/// `^[a-z][a-z0-9]*(_[a-z][a-z0-9]*)*$`
fn is_snake_identifier(s: &str) -> bool {
  !s.is_empty()
    && s.split('_').all(|part| {
      let mut bytes = part.bytes();
      matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// `^[a-z][a-zA-Z0-9]*$`
fn is_camel_identifier(s: &str) -> bool {
  let mut bytes = s.bytes();
  matches!(bytes.next(), Some(b'a'..=b'z')) && bytes.all(|b| b.is_ascii_alphanumeric())
}

/// A snake_case identifier made from the bytes: every input gives one, so the round trip is
/// exercised on each run, not only when the fuzzer happens to produce an identifier.
fn snake_identifier_from(data: &[u8]) -> String {
  const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
  const TAIL: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
  let mut out = String::from("a");
  let mut segment_start = false;
  for &b in data.iter().take(64) {
    if segment_start {
      out.push(LOWER[b as usize % LOWER.len()] as char);
      segment_start = false;
    } else if b % 5 == 0 {
      out.push('_');
      segment_start = true;
    } else {
      out.push(TAIL[b as usize % TAIL.len()] as char);
    }
  }
  if segment_start {
    out.push('z');
  }
  out
}

/// A camelCase identifier made from the bytes.
fn camel_identifier_from(data: &[u8]) -> String {
  const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  let mut out = String::from("a");
  out.extend(
    data
      .iter()
      .rev()
      .take(64)
      .map(|&b| CHARS[b as usize % CHARS.len()] as char),
  );
  out
}

fn check_camel_to_snake(s: &str) {
  let out = camel_to_snake(s);
  assert_eq!(out, camel_to_snake_oracle(s), "camel_to_snake({s:?})");
  assert!(
    !out.bytes().any(|b| b.is_ascii_uppercase()),
    "camel_to_snake({s:?}) = {out:?} keeps a capital"
  );
  let capitals = s.bytes().filter(u8::is_ascii_uppercase).count();
  if capitals == 0 {
    assert_eq!(out, s, "camel_to_snake changed {s:?}, which has no capital");
  }
  let leading = usize::from(s.bytes().next().is_some_and(|b| b.is_ascii_uppercase()));
  assert_eq!(
    out.len(),
    s.len() + capitals - leading,
    "camel_to_snake({s:?})"
  );
  assert!(
    !out.starts_with('_') || s.starts_with('_'),
    "camel_to_snake({s:?}) = {out:?}"
  );
  assert_eq!(
    non_ascii(&out),
    non_ascii(s),
    "camel_to_snake({s:?}) = {out:?}"
  );
  // Its output has no capital, so converting again changes nothing.
  assert_eq!(camel_to_snake(&out), out);
}

fn check_snake_to_camel(s: &str) {
  let out = snake_to_camel(s);
  assert_eq!(out, snake_to_camel_oracle(s), "snake_to_camel({s:?})");
  assert_eq!(
    non_ascii(&out),
    non_ascii(s),
    "snake_to_camel({s:?}) = {out:?}"
  );
  if !s.contains('_') {
    assert_eq!(
      out, s,
      "snake_to_camel changed {s:?}, which has no underscore"
    );
  }
  // `__x` becomes `_x` (the second `_` is a \w character), as in JS; without a double underscore
  // in the input, no `_` followed by a letter or digit survives.
  if !s.contains("__") {
    let bytes = out.as_bytes();
    assert!(
      !bytes
        .windows(2)
        .any(|w| w[0] == b'_' && w[1].is_ascii_alphanumeric()),
      "snake_to_camel({s:?}) = {out:?} keeps an underscore before a word character"
    );
  }
  // Each replacement removes exactly one byte (`_`), and the rest keeps its length.
  let removed = s.len() - out.len();
  assert!(removed <= s.bytes().filter(|&b| b == b'_').count());
}

fn check_round_trips(s: &str) {
  if is_snake_identifier(s) {
    let camel = snake_to_camel(s);
    assert!(
      is_camel_identifier(&camel),
      "snake_to_camel({s:?}) = {camel:?}"
    );
    assert_eq!(
      camel_to_snake(&camel),
      s,
      "round trip of {s:?} via {camel:?}"
    );
  }
  if is_camel_identifier(s) {
    let snake = camel_to_snake(s);
    assert!(
      is_snake_identifier(&snake),
      "camel_to_snake({s:?}) = {snake:?}"
    );
    assert_eq!(
      snake_to_camel(&snake),
      s,
      "round trip of {s:?} via {snake:?}"
    );
  }
}

/// What `map_to_camel` should give: every key converted at every depth; when two keys of one
/// object convert to the same key, it stays where the first was and holds the last one's value.
fn reference_to_camel(value: &Value) -> Value {
  match value {
    Value::Object(map) => {
      let mut keys: Vec<String> = Vec::new();
      let mut values: Vec<Value> = Vec::new();
      for (k, v) in map {
        let key = snake_to_camel_oracle(k);
        let v = reference_to_camel(v);
        match keys.iter().position(|existing| *existing == key) {
          Some(i) => values[i] = v,
          None => {
            keys.push(key);
            values.push(v);
          }
        }
      }
      Value::Object(keys.into_iter().zip(values).collect())
    }
    Value::Array(items) => Value::Array(items.iter().map(reference_to_camel).collect()),
    other => other.clone(),
  }
}

/// Checks key order too, which `Value`'s `==` ignores.
fn assert_same_order(a: &Value, b: &Value) {
  match (a, b) {
    (Value::Object(x), Value::Object(y)) => {
      assert!(x.keys().eq(y.keys()), "key order differs: {x:?} vs {y:?}");
      for (va, vb) in x.values().zip(y.values()) {
        assert_same_order(va, vb);
      }
    }
    (Value::Array(x), Value::Array(y)) => {
      for (va, vb) in x.iter().zip(y) {
        assert_same_order(va, vb);
      }
    }
    _ => {}
  }
}

fn check_map_to_camel(map: Map<String, Value>) {
  // serde_json refuses nesting deeper than 128, which bounds the recursion here.
  let distinct: HashSet<String> = map.keys().map(|k| snake_to_camel(k).into_owned()).collect();
  let input_len = map.len();
  let expected = reference_to_camel(&Value::Object(map.clone()));
  let out = map_to_camel(map);
  assert_eq!(out.len(), distinct.len());
  if distinct.len() == input_len {
    assert_eq!(out.len(), input_len, "no collision, yet keys were lost");
  }
  let out = Value::Object(out);
  assert_eq!(out, expected);
  assert_same_order(&out, &expected);
}

fuzz_target!(|data: &[u8]| {
  let s = String::from_utf8_lossy(data);
  check_camel_to_snake(&s);
  check_snake_to_camel(&s);
  check_round_trips(&s);

  let snake = snake_identifier_from(data);
  assert!(is_snake_identifier(&snake), "{snake:?}");
  check_round_trips(&snake);
  let camel = camel_identifier_from(data);
  assert!(is_camel_identifier(&camel), "{camel:?}");
  check_round_trips(&camel);

  if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(data) {
    check_map_to_camel(map);
  }
});
