//! Fuzz target for the calls' validation and request building (`crates/wx-openapi/src/validate.rs`,
//! `request::build`), through `fuzzing::prepare_all`.
//!
//! Input, two forms:
//! - starting with `{`: a JSON object, the params in wire form (snake_case keys). An optional
//!   top-level `"$binaries": {"<path>": <size or string>, ...}` is taken out of the object and
//!   becomes the binary values (a size gives that many bytes, capped at 8 KiB); this is how
//!   hand-written seeds carry an upload's `media.value`.
//! - anything else: bytes that `arbitrary` turns into params likely to reach every rule:
//!   templates of valid params for each call (a message of one of the four types, a typing
//!   command, an upload with its `media.value`, a media id), each field of which may be left out
//!   or replaced by a near miss or any value, then random edits with the fields the calls read
//!   (in both spellings) holding string, number, bool, null, array or object values, and at times
//!   binaries at `media.value` or elsewhere, of up to 4 KiB each.
//!
//! The same params go to every call, with `convert_case` false and true, and also converted by
//! `camel_to_snake` as the params reader does when `convertCase` is on. Checked:
//! - every error has code -401001 and a non-empty detail;
//! - each call accepts exactly the params that its rules (written out again here, independently)
//!   accept; in particular `send` succeeds only if touser is a non-empty string, msgtype one of
//!   the four types, and the message object has each required field as a non-empty string;
//! - `convert_case` changes only the wording of errors, never which calls fail;
//! - an error detail is at most 1,000 bytes plus what it echoes of the params (at most 6 bytes
//!   per byte of the longest string in them, the worst case of `{:?}` escaping). With the
//!   environment variable `FUZZ_STRICT_DETAIL=1` the bound is a flat 1,000 bytes: that finds
//!   details that quote a long user value whole (see fuzz/README.md).
//!
//! `FUZZ_STATS=1` prints now and then how often each call accepted the params.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Number, Value};
use wx_openapi::fuzzing::{camel_to_snake, prepare_all, ApiError, Params};

const INVALID_ARGUMENT: i64 = -401001;
const CALL_NAMES: [&str; 4] = ["send", "setTyping", "uploadTempMedia", "getTempMedia"];
const MAX_DETAIL: usize = 1_000;
const MAX_BINARY: usize = 8 * 1024;

const MESSAGE_TYPES: [(&str, &[&str]); 4] = [
  ("text", &["content"]),
  ("image", &["media_id"]),
  ("link", &["title", "description", "url", "thumb_url"]),
  ("miniprogrampage", &["title", "pagepath", "thumb_media_id"]),
];

/// Keys worth trying, at any level: each call's fields, in both spellings, and near misses.
const KEYS: &[&str] = &[
  "touser",
  "msgtype",
  "text",
  "image",
  "link",
  "miniprogrampage",
  "command",
  "media_id",
  "mediaId",
  "type",
  "media",
  "content",
  "title",
  "description",
  "url",
  "thumb_url",
  "thumbUrl",
  "pagepath",
  "thumb_media_id",
  "thumbMediaId",
  "content_type",
  "contentType",
  "file_name",
  "fileName",
  "value",
  "voice",
  "Touser",
  "msgType",
  "",
];

/// String values worth trying.
const STRINGS: &[&str] = &[
  "",
  "IMAGE/PNG",
  "Image",
  "image/jpeg; charset=binary",
  "OPENID",
  "text",
  "image",
  "link",
  "miniprogrampage",
  "voice",
  "Text",
  "Typing",
  "CancelTyping",
  "typing",
  "image/png",
  "image/",
  "image/jpeg",
  "image/svg+xml",
  "image/x-icon",
  "text/plain",
  "MEDIA_ID",
  "a.png",
  "\u{0}",
  "\"quoted\"",
  "媒体",
];

const BINARY_PATHS: &[&str] = &[
  "media.value",
  "media.value",
  "media.value",
  "media",
  "value",
  "Media.value",
  "media.value ",
  "media.Value",
  "text.content",
  "",
];

fn strict_detail_bound() -> bool {
  static STRICT: OnceLock<bool> = OnceLock::new();
  *STRICT.get_or_init(|| std::env::var_os("FUZZ_STRICT_DETAIL").is_some_and(|v| v == "1"))
}

/// With `FUZZ_STATS=1`, every 10,000 inputs: how often each call accepted the params, to see
/// that the success paths are reached, not only the errors.
fn count(accepted: [bool; 4]) {
  static ENABLED: OnceLock<bool> = OnceLock::new();
  static COUNTS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];
  if !*ENABLED.get_or_init(|| std::env::var_os("FUZZ_STATS").is_some_and(|v| v == "1")) {
    return;
  }
  for (i, ok) in accepted.into_iter().enumerate() {
    COUNTS[i + 1].fetch_add(u64::from(ok), Ordering::Relaxed);
  }
  let n = COUNTS[0].fetch_add(1, Ordering::Relaxed) + 1;
  if n % 10_000 == 0 {
    let ok: Vec<String> = CALL_NAMES
      .iter()
      .zip(&COUNTS[1..])
      .map(|(name, c)| format!("{name} {}", c.load(Ordering::Relaxed)))
      .collect();
    eprintln!("FUZZ_STATS: {n} params sets; accepted: {}", ok.join(", "));
  }
}

fn gen_string(u: &mut Unstructured<'_>) -> ArbResult<String> {
  Ok(match u.int_in_range(0u8..=9)? {
    0..=5 => (*u.choose(STRINGS)?).to_string(),
    6 => {
      // A long one, as a user might pass by mistake.
      let len = u.int_in_range(0usize..=2_000)?;
      let ch = char::from(u.int_in_range(b' '..=b'~')?);
      std::iter::repeat_n(ch, len).collect()
    }
    _ => u.arbitrary::<String>()?,
  })
}

fn gen_key(u: &mut Unstructured<'_>) -> ArbResult<String> {
  Ok(if u.ratio(7u8, 8)? {
    (*u.choose(KEYS)?).to_string()
  } else {
    u.arbitrary::<String>()?
  })
}

fn gen_value(u: &mut Unstructured<'_>, depth: u8) -> ArbResult<Value> {
  let top = if depth == 0 { 4 } else { 6 };
  Ok(match u.int_in_range(0u8..=top)? {
    0 => Value::Null,
    1 => Value::Bool(u.arbitrary()?),
    2 => {
      if u.arbitrary()? {
        Value::Number(u.arbitrary::<i64>()?.into())
      } else {
        Number::from_f64(u.arbitrary::<f64>()?).map_or(Value::Null, Value::Number)
      }
    }
    3 | 4 => Value::String(gen_string(u)?),
    5 => {
      let len = u.int_in_range(0usize..=3)?;
      let mut items = Vec::with_capacity(len);
      for _ in 0..len {
        items.push(gen_value(u, depth - 1)?);
      }
      Value::Array(items)
    }
    _ => Value::Object(gen_object(u, depth - 1)?),
  })
}

fn gen_object(u: &mut Unstructured<'_>, depth: u8) -> ArbResult<Map<String, Value>> {
  let len = u.int_in_range(0usize..=6)?;
  let mut map = Map::new();
  for _ in 0..len {
    let key = gen_key(u)?;
    let value = gen_value(u, depth)?;
    map.insert(key, value);
  }
  Ok(map)
}

/// A template field: mostly its valid value, else absent, a near miss or anything.
fn field(u: &mut Unstructured<'_>, valid: Value) -> ArbResult<Option<Value>> {
  Ok(match u.int_in_range(0u8..=11)? {
    0..=8 => Some(valid),
    9 => None,
    10 => Some(Value::String((*u.choose(STRINGS)?).to_string())),
    _ => Some(if u.arbitrary()? {
      Value::String(gen_string(u)?)
    } else {
      gen_value(u, 1)?
    }),
  })
}

fn set(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
  if let Some(value) = value {
    map.insert(key.to_string(), value);
  }
}

fn string(s: &str) -> Value {
  Value::String(s.to_string())
}

/// Params shaped like the calls' own: templates of valid params for each call, each field of
/// which may be left out or replaced, then random edits. So every rule is met often and broken
/// often, one field at a time.
fn gen_params(u: &mut Unstructured<'_>) -> ArbResult<Params> {
  let mut json = Map::new();
  let mut binaries = Vec::new();
  if u.ratio(1u8, 2)? {
    let (msgtype, fields) = *u.choose(&MESSAGE_TYPES)?;
    let touser = field(u, string("OPENID"))?;
    set(&mut json, "touser", touser);
    let msgtype_value = field(u, string(msgtype))?;
    set(&mut json, "msgtype", msgtype_value);
    let mut body = Map::new();
    for name in fields {
      let value = field(u, Value::String(format!("{name}-value")))?;
      set(&mut body, name, value);
    }
    let body = field(u, Value::Object(body))?;
    set(&mut json, msgtype, body);
  }
  if u.ratio(1u8, 3)? {
    let kind = field(u, string("image"))?;
    set(&mut json, "type", kind);
    let mut media = Map::new();
    let content_type_key = *u.choose(&["content_type", "contentType"])?;
    let content_type = field(u, string("image/png"))?;
    set(&mut media, content_type_key, content_type);
    if u.ratio(1u8, 3)? {
      let file_name_key = *u.choose(&["file_name", "fileName"])?;
      let file_name = field(u, string("a.png"))?;
      set(&mut media, file_name_key, file_name);
    }
    media.insert("value".into(), Value::Null);
    let media = field(u, Value::Object(media))?;
    set(&mut json, "media", media);
    if u.ratio(7u8, 8)? {
      let len = u.int_in_range(0usize..=16)?;
      binaries.push(("media.value".to_string(), vec![0x89; len]));
    }
  }
  if u.ratio(1u8, 4)? {
    let touser = field(u, string("OPENID"))?;
    set(&mut json, "touser", touser);
    let valid = *u.choose(&["Typing", "CancelTyping"])?;
    let command = field(u, string(valid))?;
    set(&mut json, "command", command);
  }
  if u.ratio(1u8, 4)? {
    let media_id = field(u, string("MEDIA_ID"))?;
    set(&mut json, "media_id", media_id);
  }
  // Then changes: set, replace or remove fields, at the top level or one level down.
  let edits = u.int_in_range(0usize..=8)?;
  for _ in 0..edits {
    match u.int_in_range(0u8..=3)? {
      0 => {
        let key = gen_key(u)?;
        json.shift_remove(&key);
      }
      1 => {
        let parent = gen_key(u)?;
        let key = gen_key(u)?;
        let value = gen_value(u, 1)?;
        match json.get_mut(&parent) {
          Some(Value::Object(inner)) => {
            inner.insert(key, value);
          }
          _ => {
            let mut inner = Map::new();
            inner.insert(key, value);
            json.insert(parent, Value::Object(inner));
          }
        }
      }
      _ => {
        let key = gen_key(u)?;
        let value = gen_value(u, 2)?;
        json.insert(key, value);
      }
    }
  }
  let extra = if u.ratio(1u8, 4)? {
    u.int_in_range(1usize..=3)?
  } else {
    0
  };
  for _ in 0..extra {
    let path = if u.ratio(7u8, 8)? {
      (*u.choose(BINARY_PATHS)?).to_string()
    } else {
      // A path is the user's key, which an error may quote: long ones too.
      gen_string(u)?
    };
    let len = u.int_in_range(0usize..=4096)?;
    binaries.push((path, vec![0x5a; len]));
  }
  Ok(Params { json, files: binaries })
}

/// The JSON form, for hand-written seeds and for JSON the fuzzer mutates.
fn json_params(data: &[u8]) -> Option<Params> {
  let Ok(Value::Object(mut json)) = serde_json::from_slice::<Value>(data) else {
    return None;
  };
  let mut binaries = Vec::new();
  if let Some(Value::Object(spec)) = json.shift_remove("$binaries") {
    for (path, how) in spec {
      let bytes = match how {
        Value::Number(n) => vec![0x5a; n.as_u64().unwrap_or(0).min(MAX_BINARY as u64) as usize],
        Value::String(s) => s.into_bytes().into_iter().take(MAX_BINARY).collect(),
        _ => Vec::new(),
      };
      binaries.push((path, bytes));
    }
  }
  Some(Params { json, files: binaries })
}

/// What the params reader gives with `convertCase` on: every key through `camel_to_snake`
/// (a later key that converts to the same one replaces the earlier's value).
fn keys_to_snake(map: &Map<String, Value>) -> Map<String, Value> {
  map
    .iter()
    .map(|(k, v)| (camel_to_snake(k).into_owned(), value_to_snake(v)))
    .collect()
}

fn value_to_snake(value: &Value) -> Value {
  match value {
    Value::Object(map) => Value::Object(keys_to_snake(map)),
    Value::Array(items) => Value::Array(items.iter().map(value_to_snake).collect()),
    other => other.clone(),
  }
}

// The rules, written out again from the seed's contract.

fn non_empty_string<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
  match map.get(key) {
    Some(Value::String(s)) if !s.is_empty() => Some(s),
    _ => None,
  }
}

fn send_ok(p: &Params) -> bool {
  let json = &p.json;
  if !p.files.is_empty() || non_empty_string(json, "touser").is_none() {
    return false;
  }
  let Some(msgtype) = non_empty_string(json, "msgtype") else {
    return false;
  };
  let Some((_, fields)) = MESSAGE_TYPES.iter().find(|(t, _)| *t == msgtype) else {
    return false;
  };
  let Some(Value::Object(body)) = json.get(msgtype) else {
    return false;
  };
  fields.iter().all(|f| non_empty_string(body, f).is_some())
}

fn set_typing_ok(p: &Params) -> bool {
  p.files.is_empty()
    && non_empty_string(&p.json, "touser").is_some()
    && matches!(
      non_empty_string(&p.json, "command"),
      Some("Typing" | "CancelTyping")
    )
}

fn get_temp_media_ok(p: &Params) -> bool {
  p.files.is_empty() && non_empty_string(&p.json, "media_id").is_some()
}

fn upload_temp_media_ok(p: &Params) -> bool {
  if p.files.iter().any(|(path, _)| path != "media.value") {
    return false;
  }
  if non_empty_string(&p.json, "type") != Some("image") {
    return false;
  }
  let Some(Value::Object(media)) = p.json.get("media") else {
    return false;
  };
  // The wire spelling is read first; the camelCase one only when it is absent.
  let content_type = match media
    .get("content_type")
    .or_else(|| media.get("contentType"))
  {
    Some(Value::String(s)) if !s.is_empty() => s,
    _ => return false,
  };
  match content_type.strip_prefix("image/") {
    Some(subtype) if !subtype.is_empty() => {}
    _ => return false,
  }
  if let Some(file_name) = media.get("file_name").or_else(|| media.get("fileName")) {
    if !matches!(file_name, Value::String(s) if !s.is_empty()) {
      return false;
    }
  }
  // The first binary at media.value is the upload: it must not be empty (nor over 10 MB, which
  // this target never builds).
  matches!(p.files.first(), Some((_, bytes)) if !bytes.is_empty())
}

fn expected(p: &Params) -> [bool; 4] {
  [
    send_ok(p),
    set_typing_ok(p),
    upload_temp_media_ok(p),
    get_temp_media_ok(p),
  ]
}

/// The longest string in the params (keys, values, binary paths), which a detail may quote.
fn longest_string(p: &Params) -> usize {
  fn walk(value: &Value) -> usize {
    match value {
      Value::String(s) => s.len(),
      Value::Array(items) => items.iter().map(walk).max().unwrap_or(0),
      Value::Object(map) => map
        .iter()
        .map(|(k, v)| k.len().max(walk(v)))
        .max()
        .unwrap_or(0),
      _ => 0,
    }
  }
  let json = p
    .json
    .iter()
    .map(|(k, v)| k.len().max(walk(v)))
    .max()
    .unwrap_or(0);
  let paths = p
    .files
    .iter()
    .map(|(path, _)| path.len())
    .max()
    .unwrap_or(0);
  json.max(paths)
}

fn check_error(call: &str, e: &ApiError, p: &Params, convert_case: bool) {
  assert_eq!(e.code, INVALID_ARGUMENT, "{call}: {e:?} for {p:?}");
  assert!(
    !e.detail.trim().is_empty(),
    "{call}: empty detail for {p:?}"
  );
  let bound = if strict_detail_bound() {
    MAX_DETAIL
  } else {
    MAX_DETAIL + 6 * longest_string(p)
  };
  assert!(
    e.detail.len() <= bound,
    "{call} (convert_case {convert_case}): a detail of {} bytes (bound {bound}): {:?}…",
    e.detail.len(),
    e.detail.chars().take(200).collect::<String>()
  );
}

fn check(p: &Params) -> [bool; 4] {
  let want = expected(p);
  let mut outcomes = [[false; 4]; 2];
  for (round, convert_case) in [false, true].into_iter().enumerate() {
    let results = prepare_all(p, convert_case);
    let names: Vec<&str> = results.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, CALL_NAMES);
    for (i, (name, result)) in results.iter().enumerate() {
      if let Err(e) = result {
        check_error(name, e, p, convert_case);
      }
      outcomes[round][i] = result.is_ok();
      assert_eq!(
        result.is_ok(),
        want[i],
        "{name} (convert_case {convert_case}) gave {result:?}; the rules say {}: {p:?}",
        if want[i] { "valid" } else { "invalid" }
      );
    }
  }
  assert_eq!(outcomes[0], outcomes[1], "convert_case changed an outcome");
  want
}

fuzz_target!(|data: &[u8]| {
  let params = if data.first() == Some(&b'{') {
    match json_params(data) {
      Some(p) => p,
      None => return,
    }
  } else {
    match gen_params(&mut Unstructured::new(data)) {
      Ok(p) => p,
      Err(_) => return,
    }
  };
  count(check(&params));
  // As the params reader hands them over with convertCase on.
  let converted = Params {
    json: keys_to_snake(&params.json),
    files: params.files.clone(),
  };
  check(&converted);
});
