//! The call table: every cloud-callable WeChat API is one row of `apis.json` (name, aliases, HTTP
//! method, path, where the params go, reply kind, whether a retry is safe), run by one engine
//! (`request.rs`). The user's own routes (`options.apis`) are rows of the same kind.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{clip, code, ApiError, ApiResult};

/// The table, one row per line; the emulator, the tests and API.md read the same file.
const TABLE_JSON: &str = include_str!("../apis.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Method {
  #[serde(rename = "GET")]
  Get,
  #[serde(rename = "POST")]
  Post,
}

/// Where a call's params go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Wire {
  /// The whole (converted) params as the JSON body.
  #[serde(rename = "json")]
  Json,
  /// Every param in the query string.
  #[serde(rename = "query")]
  Query,
  /// The params named in `query` in the query string, the rest as the JSON body.
  #[serde(rename = "json+query")]
  JsonQuery,
  /// File params as multipart parts, every other param in the query string.
  #[serde(rename = "multipart", alias = "multipart+query")]
  Multipart,
  /// A file param as a multipart part, or instead a URL param (`img_url`) in the query string.
  #[serde(rename = "multipart|query")]
  MultipartOrQuery,
}

/// What a successful reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ReplyKind {
  #[serde(rename = "json")]
  Json,
  /// The content itself (an image), or a JSON error.
  #[serde(rename = "binary")]
  Binary,
}

/// Whether a request may be sent again after it may have reached WeChat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Retry {
  /// The call only reads: repeating it is harmless.
  #[serde(rename = "read")]
  Read,
  /// Sending it twice has a visible effect (a message delivered twice): never repeat it once written.
  #[serde(rename = "write")]
  Write,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Route {
  pub name: String,
  #[serde(default)]
  pub aliases: Vec<String>,
  pub method: Method,
  pub path: String,
  pub params: Wire,
  /// Wire names of the params that go in the query string (for the mixed kinds).
  #[serde(default)]
  pub query: Vec<String>,
  pub reply: ReplyKind,
  pub retry: Retry,
  /// WeChat's documented limit for an uploaded file.
  #[serde(default)]
  pub max_file_bytes: Option<usize>,
  #[serde(default)]
  pub note: Option<String>,
}

/// The rows, and every name and alias pointing at its row.
#[derive(Default)]
pub struct Table {
  pub routes: Vec<Route>,
  by_name: HashMap<String, usize>,
}

impl Table {
  fn new(routes: Vec<Route>) -> Self {
    let by_name = routes
      .iter()
      .enumerate()
      .flat_map(|(i, route)| {
        std::iter::once(&route.name)
          .chain(&route.aliases)
          .map(move |name| (name.clone(), i))
      })
      .collect();
    Self { routes, by_name }
  }

  /// The built-in table, read once.
  pub fn builtin() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
      // apis.json is part of the source; a unit test keeps it readable.
      let routes = serde_json::from_str(TABLE_JSON).unwrap_or_default();
      Table::new(routes)
    })
  }

  pub fn get(&self, name: &str) -> Option<&Route> {
    self.by_name.get(name).map(|&i| &self.routes[i])
  }
}

/// The user's routes, `options.apis`: `{ 'ns.method': { method, path, params?, reply?, retry? } }`,
/// checked when the instance is made. `retry` defaults to `write`: at most once, the safe side.
pub fn user_routes(apis: &Map<String, Value>) -> ApiResult<Table> {
  let mut routes = Vec::with_capacity(apis.len());
  for (name, spec) in apis {
    let field = |what: &str| format!("options.apis[{:?}]{what}", clip(name));
    if name.is_empty()
      || !name
        .split('.')
        .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
      return Err(ApiError::invalid(format!(
        "{}: the name must be dot-separated identifiers such as 'wxa.foo.bar'",
        field("")
      )));
    }
    let Value::Object(spec) = spec else {
      return Err(ApiError::invalid(format!(
        "{} must be an object {{ method, path }}",
        field("")
      )));
    };
    let text = |key: &str| match spec.get(key) {
      None | Some(Value::Null) => Ok(None),
      Some(Value::String(s)) => Ok(Some(s.as_str())),
      Some(_) => Err(ApiError::invalid(format!(
        "{} must be a string",
        field(&format!(".{key}"))
      ))),
    };
    let method = match text("method")? {
      Some("GET") => Method::Get,
      Some("POST") => Method::Post,
      _ => {
        return Err(ApiError::invalid(format!(
          "{} must be 'GET' or 'POST'",
          field(".method")
        )))
      }
    };
    let path = match text("path")? {
      Some(path) if path.starts_with('/') && !path.contains(['?', '#', ' ', '\r', '\n']) => path,
      _ => {
        return Err(ApiError::invalid(format!(
          "{} must be a path such as '/wxa/foo' (no query string)",
          field(".path")
        )))
      }
    };
    let pick = |key: &str, default: &str| -> ApiResult<Value> {
      Ok(Value::String(text(key)?.unwrap_or(default).to_string()))
    };
    let row = serde_json::json!({
      "name": name,
      "method": if method == Method::Get { "GET" } else { "POST" },
      "path": path,
      "params": pick("params", if method == Method::Get { "query" } else { "json" })?,
      "reply": pick("reply", "json")?,
      "retry": pick("retry", "write")?,
    });
    let route: Route = serde_json::from_value(row).map_err(|e| {
      ApiError::invalid(format!(
        "{}: {e} (params: json, query, json+query, multipart, multipart|query; reply: json, binary; retry: read, write)",
        field("")
      ))
    })?;
    routes.push(route);
  }
  Ok(Table::new(routes))
}

/// The row for `name`: the user's routes first (so a user can correct a row without a release),
/// then the built-in table; `-604100` for a name in neither.
pub fn find<'a>(user: &'a Table, name: &str) -> ApiResult<&'a Route> {
  user
    .get(name)
    .or_else(|| Table::builtin().get(name))
    .ok_or_else(|| {
      ApiError::new(
        code::API_NOT_FOUND,
        format!(
          "API not found: {:?} is not a cloud-callable WeChat API this package knows (see API.md); \
           add it with init({{ apis: {{ '<name>': {{ method, path }} }} }})",
          clip(name)
        ),
      )
    })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_builtin_table_reads_and_has_no_name_twice() {
    let routes: Vec<Route> = serde_json::from_str(TABLE_JSON).expect("apis.json is a valid table");
    assert!(routes.len() >= 4);
    let names: usize = routes.iter().map(|r| 1 + r.aliases.len()).sum();
    assert_eq!(
      Table::builtin().by_name.len(),
      names,
      "a name or alias appears twice"
    );
    for route in &routes {
      assert!(route.path.starts_with('/'), "{}", route.name);
      if route.max_file_bytes.is_some() {
        assert!(
          matches!(route.params, Wire::Multipart | Wire::MultipartOrQuery),
          "{}",
          route.name
        );
      }
    }
    let send = Table::builtin().get("customerServiceMessage.send").unwrap();
    assert_eq!(send.retry, Retry::Write);
  }

  #[test]
  fn user_routes_are_checked_and_default_to_at_most_once() {
    let apis = serde_json::json!({ "foo.bar": { "method": "POST", "path": "/wxa/foo" } });
    let table = user_routes(apis.as_object().unwrap()).unwrap();
    let route = find(&table, "foo.bar").unwrap();
    assert_eq!((route.params, route.retry), (Wire::Json, Retry::Write));
    let get = serde_json::json!({ "a.b": { "method": "GET", "path": "/x" } });
    assert_eq!(
      user_routes(get.as_object().unwrap()).unwrap().routes[0].params,
      Wire::Query
    );
    for (bad, field) in [
      (
        serde_json::json!({ "foo.bar": { "method": "PUT", "path": "/x" } }),
        ".method",
      ),
      (
        serde_json::json!({ "foo.bar": { "method": "GET", "path": "x" } }),
        ".path",
      ),
      (
        serde_json::json!({ "foo..bar": { "method": "GET", "path": "/x" } }),
        "the name",
      ),
      (serde_json::json!({ "foo.bar": "/x" }), "must be an object"),
      (
        serde_json::json!({ "foo.bar": { "method": "GET", "path": "/x", "reply": "xml" } }),
        "reply",
      ),
    ] {
      let e = user_routes(bad.as_object().unwrap()).err().unwrap();
      assert_eq!(e.code, code::INVALID_ARGUMENT);
      assert!(e.detail.contains(field), "{}", e.detail);
    }
  }

  #[test]
  fn an_unknown_name_is_api_not_found() {
    let e = find(&Table::new(Vec::new()), "nope.nothing").err().unwrap();
    assert_eq!(e.code, code::API_NOT_FOUND);
    assert!(e.detail.contains("nope.nothing"));
  }
}
