//! Ways to bring a send call's params across from JS and make WeChat's JSON body of them,
//! camelCase keys turned snake_case on the way. Each `*_len` function does the whole job and
//! returns the body's length (so that returning the result costs the same for all); each
//! `*_body` function returns the body itself, for checking that all agree.
//!
//! 1. `value`:  napi's own `serde_json::Value` argument (napi walks the object), then a key pass.
//! 2. `json`:   JS calls `JSON.stringify`, Rust gets a `String` and parses it with serde_json.
//! 3. `object`: a `#[napi(object)]` struct per message shape (napi reads each declared field).
//! 4. `walk`:   the addon's approach (src/params.rs at the time of writing): type checks, then
//!    `get_all_property_names`, each key read into a Rust `String`, then `get_named_property`
//!    with that string, a dotted path string built per field, `camel_to_snake`.
//! 5. `lean`:   the same walk and semantics, with fewer crossings and allocations: the key's own
//!    `napi_value` is used for `napi_get_property` (no Rust string → C string → V8 string round
//!    trip), keys read into a stack buffer, no path strings unless an error needs one.

use std::borrow::Cow;

use napi::bindgen_prelude::*;
use napi::{sys, JsValue, ValueType};
use napi_derive::napi;
use serde::Serialize;
use serde_json::{Map, Number, Value};

const MAX_DEPTH: usize = 32;

fn camel_to_snake(key: &str) -> Cow<'_, str> {
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

fn keys_to_snake(value: Value) -> Value {
  match value {
    Value::Object(map) => Value::Object(
      map
        .into_iter()
        .map(|(k, v)| {
          let k = match camel_to_snake(&k) {
            Cow::Borrowed(_) => k,
            Cow::Owned(s) => s,
          };
          (k, keys_to_snake(v))
        })
        .collect(),
    ),
    Value::Array(items) => Value::Array(items.into_iter().map(keys_to_snake).collect()),
    other => other,
  }
}

fn json_number(n: f64) -> Option<Number> {
  if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
    Some(Number::from(n as i64))
  } else {
    Number::from_f64(n)
  }
}

fn to_body(value: &impl Serialize) -> Result<Vec<u8>> {
  serde_json::to_vec(value).map_err(|e| Error::from_reason(e.to_string()))
}

fn text(body: Vec<u8>) -> String {
  String::from_utf8(body).unwrap()
}

// ------------------------------------------------------------------------------ baseline

/// The cost of crossing into Rust with an object and back with a number, doing nothing.
#[napi]
pub fn noop(_params: Unknown<'_>) -> u32 {
  0
}

// ------------------------------------------------------------------------------ 1. Value

fn by_value(params: Value) -> Result<Vec<u8>> {
  to_body(&keys_to_snake(params))
}

#[napi]
pub fn value_len(params: Value) -> Result<u32> {
  Ok(by_value(params)?.len() as u32)
}

#[napi]
pub fn value_body(params: Value) -> Result<String> {
  by_value(params).map(text)
}

// ------------------------------------------------------------------------------ 2. JSON string

fn by_json(json: &str) -> Result<Vec<u8>> {
  let value: Value = serde_json::from_str(json).map_err(|e| Error::from_reason(e.to_string()))?;
  to_body(&keys_to_snake(value))
}

#[napi]
pub fn json_len(json: String) -> Result<u32> {
  Ok(by_json(&json)?.len() as u32)
}

#[napi]
pub fn json_body(json: String) -> Result<String> {
  by_json(&json).map(text)
}

// ------------------------------------------------------------------------------ 3. #[napi(object)]

#[napi(object)]
#[derive(Serialize)]
pub struct Text {
  pub content: String,
}

#[napi(object)]
#[derive(Serialize)]
pub struct MiniProgramPage {
  pub title: String,
  pub appid: String,
  pub pagepath: String,
  pub thumb_media_id: String,
}

#[napi(object)]
#[derive(Serialize)]
pub struct CustomService {
  pub kf_account: String,
}

/// One struct for the shapes the bench sends; a real one would need every msgtype's fields.
#[napi(object)]
#[derive(Serialize)]
pub struct SendParams {
  pub touser: String,
  pub msgtype: String,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub text: Option<Text>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub miniprogrampage: Option<MiniProgramPage>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub customservice: Option<CustomService>,
}

#[napi]
pub fn object_len(params: SendParams) -> Result<u32> {
  Ok(to_body(&params)?.len() as u32)
}

#[napi]
pub fn object_body(params: SendParams) -> Result<String> {
  to_body(&params).map(text)
}

// ------------------------------------------------------------------------------ 4. the addon's walk

struct Walker;

impl Walker {
  fn read(&mut self, value: Unknown<'_>, path: &str, depth: usize) -> Result<Option<Value>> {
    let json = match value.get_type()? {
      ValueType::Undefined => return Ok(None),
      ValueType::Null => Value::Null,
      ValueType::Boolean => Value::Bool(unsafe { value.cast::<bool>() }?),
      ValueType::Number => {
        let n = unsafe { value.cast::<f64>() }?;
        Value::Number(json_number(n).ok_or_else(|| Error::from_reason(format!("{path}: not finite")))?)
      }
      ValueType::String => Value::String(unsafe { value.cast::<String>() }?),
      ValueType::Object => return self.read_object(value, path, depth).map(Some),
      _ => return Err(Error::from_reason(format!("{path}: not JSON"))),
    };
    Ok(Some(json))
  }

  fn read_object(&mut self, value: Unknown<'_>, path: &str, depth: usize) -> Result<Value> {
    if depth >= MAX_DEPTH {
      return Err(Error::from_reason("too deep"));
    }
    if value.is_typedarray()? || value.is_arraybuffer()? || value.is_dataview()? {
      return Err(Error::from_reason(format!("{path}: binary")));
    }
    if value.is_array()? {
      let array = unsafe { value.cast::<Array>() }?;
      let len = array.len() as usize;
      let mut items = Vec::with_capacity(len);
      for i in 0..len {
        let item_path = format!("{path}[{i}]");
        let item: Unknown = array.get_element(i as u32)?;
        items.push(self.read(item, &item_path, depth + 1)?.unwrap_or(Value::Null));
      }
      return Ok(Value::Array(items));
    }
    let object = unsafe { value.cast::<Object>() }?;
    let names = object.get_all_property_names(
      KeyCollectionMode::OwnOnly,
      KeyFilter::Enumerable,
      KeyConversion::NumbersToStrings,
    )?;
    let names = unsafe { names.to_unknown().cast::<Array>() }?;
    let mut keys = Vec::with_capacity(names.len() as usize);
    for i in 0..names.len() {
      let key: Unknown = names.get_element(i)?;
      if key.get_type()? == ValueType::String {
        keys.push(unsafe { key.cast::<String>() }?);
      }
    }
    let mut map = Map::with_capacity(keys.len());
    for key in keys {
      let field_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
      let field: Unknown = object.get_named_property(&key)?;
      if let Some(json) = self.read(field, &field_path, depth + 1)? {
        map.insert(camel_to_snake(&key).into_owned(), json);
      }
    }
    Ok(Value::Object(map))
  }
}

fn by_walk(params: Unknown<'_>) -> Result<Vec<u8>> {
  let value = Walker.read(params, "", 0)?.unwrap_or(Value::Null);
  to_body(&value)
}

#[napi]
pub fn walk_len(params: Unknown<'_>) -> Result<u32> {
  Ok(by_walk(params)?.len() as u32)
}

#[napi]
pub fn walk_body(params: Unknown<'_>) -> Result<String> {
  by_walk(params).map(text)
}

// ------------------------------------------------------------------------------ 5. a leaner walk

macro_rules! call {
  ($e:expr) => {
    if unsafe { $e } != sys::Status::napi_ok {
      return Err(Error::from_reason(concat!("N-API call failed: ", stringify!($e))));
    }
  };
}

/// Reads a JS string into `buf` (one call when it fits the stack buffer, two otherwise).
unsafe fn read_string(env: sys::napi_env, value: sys::napi_value) -> Result<String> {
  let mut stack = [0u8; 128];
  let mut len = 0usize;
  call!(sys::napi_get_value_string_utf8(env, value, stack.as_mut_ptr().cast(), stack.len(), &mut len));
  if len < stack.len() - 1 {
    return Ok(unsafe { std::str::from_utf8_unchecked(&stack[..len]) }.to_owned());
  }
  call!(sys::napi_get_value_string_utf8(env, value, std::ptr::null_mut(), 0, &mut len));
  let mut heap = vec![0u8; len + 1];
  call!(sys::napi_get_value_string_utf8(env, value, heap.as_mut_ptr().cast(), heap.len(), &mut len));
  heap.truncate(len);
  Ok(unsafe { String::from_utf8_unchecked(heap) })
}

unsafe fn lean_read(env: sys::napi_env, value: sys::napi_value, depth: usize) -> Result<Option<Value>> {
  let mut kind = 0;
  call!(sys::napi_typeof(env, value, &mut kind));
  Ok(Some(match kind {
    sys::ValueType::napi_undefined => return Ok(None),
    sys::ValueType::napi_null => Value::Null,
    sys::ValueType::napi_boolean => {
      let mut b = false;
      call!(sys::napi_get_value_bool(env, value, &mut b));
      Value::Bool(b)
    }
    sys::ValueType::napi_number => {
      let mut n = 0.0;
      call!(sys::napi_get_value_double(env, value, &mut n));
      Value::Number(json_number(n).ok_or_else(|| Error::from_reason("not finite"))?)
    }
    sys::ValueType::napi_string => Value::String(unsafe { read_string(env, value) }?),
    sys::ValueType::napi_object => unsafe { lean_object(env, value, depth) }?,
    _ => return Err(Error::from_reason("not JSON")),
  }))
}

unsafe fn lean_object(env: sys::napi_env, value: sys::napi_value, depth: usize) -> Result<Value> {
  if depth >= MAX_DEPTH {
    return Err(Error::from_reason("too deep"));
  }
  let mut flag = false;
  call!(sys::napi_is_array(env, value, &mut flag));
  if flag {
    let mut len = 0u32;
    call!(sys::napi_get_array_length(env, value, &mut len));
    let mut items = Vec::with_capacity(len as usize);
    for i in 0..len {
      let mut item = std::ptr::null_mut();
      call!(sys::napi_get_element(env, value, i, &mut item));
      items.push(unsafe { lean_read(env, item, depth + 1) }?.unwrap_or(Value::Null));
    }
    return Ok(Value::Array(items));
  }
  call!(sys::napi_is_typedarray(env, value, &mut flag));
  if flag {
    return Err(Error::from_reason("binary"));
  }
  let mut names = std::ptr::null_mut();
  call!(sys::napi_get_all_property_names(
    env,
    value,
    sys::KeyCollectionMode::own_only,
    sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
    sys::KeyConversion::numbers_to_strings,
    &mut names
  ));
  let mut len = 0u32;
  call!(sys::napi_get_array_length(env, names, &mut len));
  let mut map = Map::with_capacity(len as usize);
  for i in 0..len {
    let mut key = std::ptr::null_mut();
    call!(sys::napi_get_element(env, names, i, &mut key));
    let mut field = std::ptr::null_mut();
    call!(sys::napi_get_property(env, value, key, &mut field));
    if let Some(json) = unsafe { lean_read(env, field, depth + 1) }? {
      let key = unsafe { read_string(env, key) }?;
      let key = match camel_to_snake(&key) {
        Cow::Borrowed(_) => key,
        Cow::Owned(s) => s,
      };
      map.insert(key, json);
    }
  }
  Ok(Value::Object(map))
}

fn by_lean(params: Unknown<'_>) -> Result<Vec<u8>> {
  let value = unsafe { lean_read(params.value().env, params.raw(), 0) }?.unwrap_or(Value::Null);
  to_body(&value)
}

#[napi]
pub fn lean_len(params: Unknown<'_>) -> Result<u32> {
  Ok(by_lean(params)?.len() as u32)
}

#[napi]
pub fn lean_body(params: Unknown<'_>) -> Result<String> {
  by_lean(params).map(text)
}
