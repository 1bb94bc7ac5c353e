//! Reads a call's JS parameters into JSON on the JS thread, converting keys as it goes.
//!
//! The walk is ours rather than napi's serde support because the contract needs what serde cannot
//! give: `undefined` dropped, keys converted in the same pass, a bounded depth (cycles and deep
//! nesting end in a clear error, not a stack overflow), and every unsupported value named by its path.

use std::fmt::Write as _;

use napi::bindgen_prelude::*;
use napi::{JsValue, ValueType};
use serde_json::{Map, Number, Value};

use crate::case::{map_to_snake, snake_key};
use crate::error::{clip, ApiError, ApiResult};

/// Deeper than any WeChat body; a cyclic object reaches it quickly.
const MAX_DEPTH: usize = 32;
const MAX_KEYS: usize = 10_000;

/// A call's parameters: the JSON tree, and any binary values found in it (by dotted path),
/// which only calls that upload take.
#[derive(Debug, Default)]
pub struct Params {
  pub json: Map<String, Value>,
  pub binaries: Vec<(String, Vec<u8>)>,
}

impl Params {
  pub fn take_binary(&mut self, path: &str) -> Option<Vec<u8>> {
    let index = self.binaries.iter().position(|(p, _)| p == path)?;
    Some(self.binaries.swap_remove(index).1)
  }
}

pub fn read_params(env: &Env, value: Unknown<'_>, convert_case: bool) -> ApiResult<Params> {
  let mut reader = Reader {
    env,
    convert_case,
    binaries: Vec::new(),
    path: String::new(),
  };
  let json = match reader.read(value, 0) {
    Ok(Some(Value::Object(map))) => map,
    Ok(_) => {
      return Err(ApiError::invalid(format!(
        "params must be a plain object, got {}",
        describe(value)
      )))
    }
    Err(e) => return Err(e),
  };
  Ok(Params {
    json,
    binaries: reader.binaries,
  })
}

/// The params as the facade's JSON text (index.js `paramsJson`), where JSON.stringify writes exactly
/// what [`read_params`] would read: one string crosses instead of a few N-API calls per key and
/// value. `None` if the text is not a JSON object (a lone surrogate, which JSON.stringify escapes
/// and serde_json refuses): the caller then walks the object itself.
pub fn parse_params(text: &str, convert_case: bool) -> Option<Params> {
  let mut json: Map<String, Value> = serde_json::from_str(text).ok()?;
  if convert_case {
    map_to_snake(&mut json);
  }
  Some(Params {
    json,
    binaries: Vec::new(),
  })
}

struct Reader<'a> {
  env: &'a Env,
  convert_case: bool,
  binaries: Vec<(String, Vec<u8>)>,
  /// The path of the value being read (`text.content`, `items[2]`), grown and cut back as the
  /// walk goes, so that no path is allocated unless an error names it.
  path: String,
}

impl Reader<'_> {
  /// `Ok(None)` is `undefined` (or a function): dropped from objects, as JSON.stringify does.
  fn read(&mut self, value: Unknown<'_>, depth: usize) -> ApiResult<Option<Value>> {
    let kind = value.get_type().map_err(|e| self.failure(e))?;
    let json = match kind {
      ValueType::Undefined => return Ok(None),
      ValueType::Null => Value::Null,
      ValueType::Boolean => {
        Value::Bool(unsafe { value.cast::<bool>() }.map_err(|e| self.failure(e))?)
      }
      ValueType::Number => {
        let n = unsafe { value.cast::<f64>() }.map_err(|e| self.failure(e))?;
        Value::Number(json_number(n).ok_or_else(|| {
          ApiError::invalid(format!(
            "{} must be a finite number, got {n}",
            name(&self.path)
          ))
        })?)
      }
      ValueType::String => Value::String(read_string(value).map_err(|e| self.failure(e))?),
      ValueType::Object => return self.read_object(value, depth).map(Some),
      other => {
        return Err(ApiError::invalid(format!(
          "{} is a {}, which JSON cannot carry",
          name(&self.path),
          type_name(other)
        )))
      }
    };
    Ok(Some(json))
  }

  fn read_object(&mut self, value: Unknown<'_>, depth: usize) -> ApiResult<Value> {
    if depth >= MAX_DEPTH {
      let shown: String = self.path.chars().take(60).collect();
      return Err(ApiError::invalid(format!(
        "params are nested more than {MAX_DEPTH} levels deep (a cyclic object?) at {shown}…"
      )));
    }
    if value.is_array().map_err(|e| self.failure(e))? {
      let array = unsafe { value.cast::<Array>() }.map_err(|e| self.failure(e))?;
      let len = array.len() as usize;
      if len > MAX_KEYS {
        return Err(ApiError::invalid(format!(
          "{} has {len} items, more than {MAX_KEYS}",
          name(&self.path)
        )));
      }
      let mut items = Vec::with_capacity(len);
      let parent = self.path.len();
      for i in 0..len {
        let _ = write!(self.path, "[{i}]");
        let item: Unknown = array.get_element(i as u32).map_err(|e| self.failure(e))?;
        // JSON.stringify writes `undefined` in an array as null.
        items.push(self.read(item, depth + 1)?.unwrap_or(Value::Null));
        self.path.truncate(parent);
      }
      return Ok(Value::Array(items));
    }
    if value.is_typedarray().map_err(|e| self.failure(e))?
      || value.is_arraybuffer().map_err(|e| self.failure(e))?
      || value.is_dataview().map_err(|e| self.failure(e))?
    {
      let bytes = read_bytes(value).ok_or_else(|| {
        ApiError::invalid(format!(
          "{} must be a Buffer or Uint8Array",
          name(&self.path)
        ))
      })?;
      self.binaries.push((self.path.clone(), bytes));
      return Ok(Value::Null);
    }
    let object = unsafe { value.cast::<Object>() }.map_err(|e| self.failure(e))?;
    let keys = own_enumerable_keys(&object).map_err(|e| self.failure(e))?;
    if keys.len() > MAX_KEYS {
      return Err(ApiError::invalid(format!(
        "{} has more than {MAX_KEYS} keys",
        name(&self.path)
      )));
    }
    let mut map = Map::with_capacity(keys.len());
    let parent = self.path.len();
    for (key_value, key) in keys {
      if parent > 0 {
        self.path.push('.');
      }
      self.path.push_str(&key);
      // By the key's own JS string: no round trip through a C string.
      let field = property(self.env, &object, key_value).map_err(|e| self.failure(e))?;
      if let Some(json) = self.read(field, depth + 1)? {
        let key = if self.convert_case {
          snake_key(key)
        } else {
          key
        };
        map.insert(key, json);
      }
      self.path.truncate(parent);
    }
    Ok(Value::Object(map))
  }

  /// A getter, a Proxy trap or a key listing threw while we read the params. Its exception is
  /// taken off the env: left pending, it would throw out of the call instead of rejecting it.
  fn failure(&self, error: Error) -> ApiError {
    let cause = take_pending_exception(self.env).unwrap_or(error.reason);
    ApiError::invalid(format!("{} could not be read: {cause}", name(&self.path)))
  }
}

fn name(path: &str) -> std::borrow::Cow<'_, str> {
  if path.is_empty() {
    "params".into()
  } else {
    clip(path)
  }
}

/// `object[key]`, running getters and Proxy traps as JS would.
fn property<'env>(env: &Env, object: &Object<'env>, key: Unknown<'env>) -> Result<Unknown<'env>> {
  let mut field = std::ptr::null_mut();
  check_status!(unsafe {
    napi::sys::napi_get_property(env.raw(), object.raw(), key.raw(), &mut field)
  })?;
  unsafe { Unknown::from_napi_value(env.raw(), field) }
}

/// The own enumerable string keys, each as its JS value and as text.
fn own_enumerable_keys<'env>(object: &Object<'env>) -> Result<Vec<(Unknown<'env>, String)>> {
  let names = object.get_all_property_names(
    KeyCollectionMode::OwnOnly,
    KeyFilter::Enumerable,
    KeyConversion::NumbersToStrings,
  )?;
  let names = unsafe { names.to_unknown().cast::<Array>() }?;
  let mut keys = Vec::with_capacity(names.len() as usize);
  for i in 0..names.len() {
    let key: Unknown = names.get_element(i)?;
    // Symbol keys are skipped, as JSON.stringify skips them.
    if key.get_type()? == ValueType::String {
      let text = read_string(key)?;
      keys.push((key, text));
    }
  }
  Ok(keys)
}

/// A JS string as UTF-8. Short strings, nearly all of a message's keys and values, take one N-API
/// call through a stack buffer; napi's `String` asks V8 for the length first, which scans the
/// string, then copies it in a second call.
pub fn read_string(value: Unknown<'_>) -> Result<String> {
  const STACK: usize = 256;
  let env = value.value().env;
  let mut buffer = [0u8; STACK];
  let mut copied = 0usize;
  check_status!(unsafe {
    napi::sys::napi_get_value_string_utf8(
      env,
      value.raw(),
      buffer.as_mut_ptr().cast(),
      STACK,
      &mut copied,
    )
  })?;
  // V8 writes whole characters (at most 4 bytes each) into the STACK - 1 bytes it is given: with
  // 4 or more left over, nothing was cut.
  if copied + 4 < STACK {
    return std::str::from_utf8(&buffer[..copied])
      .map(str::to_owned)
      .map_err(|e| Error::from_reason(format!("a string is not UTF-8: {e}")));
  }
  unsafe { String::from_napi_value(env, value.raw()) }
}

fn read_bytes(value: Unknown<'_>) -> Option<Vec<u8>> {
  let slice = unsafe { Uint8ArraySlice::from_napi_value(value.value().env, value.raw()) }.ok()?;
  Some(slice.to_vec())
}

fn json_number(n: f64) -> Option<Number> {
  // Integers stay integers on the wire (`1`, not `1.0`), as JSON.stringify writes them.
  if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
    Some(Number::from(n as i64))
  } else {
    Number::from_f64(n)
  }
}

/// Clears the pending JS exception, if any, and returns its message (only if that is a plain
/// string property: reading anything else could run more user code).
fn take_pending_exception(env: &Env) -> Option<String> {
  let mut pending = false;
  let mut exception = std::ptr::null_mut();
  unsafe {
    if napi::sys::napi_is_exception_pending(env.raw(), &mut pending) != napi::sys::Status::napi_ok
      || !pending
    {
      return None;
    }
    if napi::sys::napi_get_and_clear_last_exception(env.raw(), &mut exception)
      != napi::sys::Status::napi_ok
    {
      return None;
    }
  }
  let exception = unsafe { Unknown::from_napi_value(env.raw(), exception) }.ok()?;
  let message = match exception.get_type().ok()? {
    ValueType::String => unsafe { exception.cast::<String>() }.ok()?,
    ValueType::Object => {
      let object = unsafe { exception.cast::<Object>() }.ok()?;
      let descriptor_is_data = object.has_own_property("message").unwrap_or(false);
      if !descriptor_is_data {
        return Some("it threw".to_string());
      }
      let message: Unknown = object.get_named_property("message").ok()?;
      if message.get_type().ok()? != ValueType::String {
        return Some("it threw".to_string());
      }
      unsafe { message.cast::<String>() }.ok()?
    }
    _ => "it threw".to_string(),
  };
  Some(format!(
    "it threw: {}",
    message.chars().take(200).collect::<String>()
  ))
}

fn describe(value: Unknown<'_>) -> &'static str {
  match value.get_type() {
    Ok(ValueType::Object) if value.is_array().unwrap_or(false) => "an array",
    Ok(ValueType::Object) => "a non-plain object",
    Ok(other) => type_name(other),
    Err(_) => "an unreadable value",
  }
}

fn type_name(kind: ValueType) -> &'static str {
  match kind {
    ValueType::Undefined => "undefined",
    ValueType::Null => "null",
    ValueType::Boolean => "boolean",
    ValueType::Number => "number",
    ValueType::String => "string",
    ValueType::Symbol => "symbol",
    ValueType::Object => "object",
    ValueType::Function => "function",
    ValueType::External => "external",
    ValueType::BigInt => "bigint",
    _ => "unknown value",
  }
}
