//! The call table: every `customerServiceMessage` call is one row here, run by one engine.

mod validate;

use std::sync::{Arc, OnceLock};

use http::Method;
use serde_json::{Map, Value};

use crate::case::map_to_camel;
use crate::error::{clip, ApiError, ApiResult};
use crate::params::Params;
use crate::token::Tokens;
use crate::transport::{
  Body, Delivery, HttpReply, HttpRequest, Transport, MAX_JSON_REPLY, MAX_MEDIA_REPLY,
};
use crate::wechat::json_reply;

pub const NAMESPACE: &str = "openapi.customerServiceMessage";

/// A call's name in errMsg: the table's own, or one made for a name not in the table.
pub type ApiName = std::borrow::Cow<'static, str>;

/// How a call's parameters travel.
#[derive(Clone, Copy)]
pub enum Wire {
  /// The whole (converted) params as the JSON body.
  JsonBody,
  /// A multipart upload; `type` goes in the query.
  Upload,
  /// Named params in the query string, no body.
  Query(&'static [(&'static str, &'static str)]),
}

/// What a successful reply is.
#[derive(Clone, Copy)]
pub enum ReplyKind {
  Json,
  /// Binary content, or a JSON error.
  Media,
}

pub struct ApiCall {
  pub name: &'static str,
  pub method: Method,
  pub path: &'static str,
  pub wire: Wire,
  pub reply: ReplyKind,
  pub delivery: Delivery,
  /// The params that may hold a Buffer or Uint8Array.
  pub binary_fields: &'static [&'static str],
  /// Checks (and, for uploads, extracts) the params before anything is sent.
  pub validate: fn(&mut Params, &Naming) -> ApiResult<()>,
}

pub static CALLS: &[ApiCall] = &[
  ApiCall {
    name: "send",
    method: Method::POST,
    path: "/cgi-bin/message/custom/send",
    wire: Wire::JsonBody,
    reply: ReplyKind::Json,
    delivery: Delivery::AtMostOnce,
    binary_fields: &[],
    validate: validate::send,
  },
  ApiCall {
    name: "setTyping",
    method: Method::POST,
    path: "/cgi-bin/message/custom/typing",
    wire: Wire::JsonBody,
    reply: ReplyKind::Json,
    delivery: Delivery::AtMostOnce,
    binary_fields: &[],
    validate: validate::set_typing,
  },
  ApiCall {
    name: "uploadTempMedia",
    method: Method::POST,
    path: "/cgi-bin/media/upload",
    wire: Wire::Upload,
    reply: ReplyKind::Json,
    // An upload that may have landed only leaves an unused temporary media id behind.
    delivery: Delivery::Repeatable,
    binary_fields: &["media.value"],
    validate: validate::upload_temp_media,
  },
  ApiCall {
    name: "getTempMedia",
    method: Method::GET,
    path: "/cgi-bin/media/get",
    wire: Wire::Query(&[("media_id", "media_id")]),
    reply: ReplyKind::Media,
    delivery: Delivery::Repeatable,
    binary_fields: &[],
    validate: validate::get_temp_media,
  },
];

/// The `api_name` of each call of [`CALLS`], in its order.
fn api_names() -> &'static [String] {
  static NAMES: OnceLock<Vec<String>> = OnceLock::new();
  NAMES.get_or_init(|| {
    CALLS
      .iter()
      .map(|call| format!("{NAMESPACE}.{}", call.name))
      .collect()
  })
}

/// The index in [`CALLS`] of the call whose `api_name` is `api`, by address: the name a call
/// carries is that very string.
pub fn call_index(api: &str) -> Option<usize> {
  api_names()
    .iter()
    .position(|name| std::ptr::eq(name.as_str(), api))
}

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

/// A successful call's value, before it becomes a JS object.
#[derive(Debug)]
pub enum Reply {
  Json(Map<String, Value>),
  Media {
    content_type: String,
    bytes: Vec<u8>,
  },
}

impl ApiCall {
  /// `openapi.customerServiceMessage.<name>`, made once per call of the table.
  pub fn api_name(&self) -> &'static str {
    let index = CALLS.iter().position(|call| std::ptr::eq(call, self));
    index.map_or(NAMESPACE, |i| &api_names()[i])
  }

  /// Checks the params and builds the request, before anything is sent.
  pub fn prepare(&self, mut params: Params, convert_case: bool) -> ApiResult<HttpRequest> {
    let naming = Naming { convert_case };
    let unexpected = params
      .binaries
      .iter()
      .find(|(path, _)| !self.binary_fields.contains(&path.as_str()));
    if let Some((path, _)) = unexpected {
      return Err(ApiError::invalid(format!(
        "{} is binary data, which {} does not take",
        clip(&naming.field(path)),
        self.name
      )));
    }
    (self.validate)(&mut params, &naming)?;
    self.request(params)
  }

  /// Sends a prepared request with the instance's token, and retries once with a fresh token if
  /// WeChat rejects the token.
  pub async fn run(
    &self,
    tokens: &Arc<Tokens>,
    transport: &Transport,
    request: &HttpRequest,
    convert_case: bool,
  ) -> ApiResult<Reply> {
    let mut token = tokens.current().await?;
    let mut rejected_once = false;
    loop {
      let outcome = transport
        .execute(request, token.as_deref(), |reply| {
          self.interpret(reply, convert_case)
        })
        .await;
      match (outcome, &token) {
        (Err(e), Some(used)) if e.is_token_rejected() && !rejected_once => {
          rejected_once = true;
          match tokens.after_rejection(used).await? {
            Some(fresh) => token = Some(fresh),
            None => return Err(e.redact(&[used])),
          }
        }
        (outcome, used) => {
          return outcome.map_err(|e| e.redact(&[used.as_deref().unwrap_or_default()]))
        }
      }
    }
  }

  fn request(&self, mut params: Params) -> ApiResult<HttpRequest> {
    let (query, body) = match self.wire {
      Wire::JsonBody => {
        let body = serde_json::to_vec(&params.json)
          .map_err(|e| ApiError::invalid(format!("params could not be written as JSON: {e}")))?;
        (Vec::new(), Body::Json(body.into()))
      }
      Wire::Query(names) => {
        let query = names
          .iter()
          .filter_map(|(query_name, param)| match params.json.get(*param) {
            Some(Value::String(s)) => Some((*query_name, s.clone())),
            _ => None,
          })
          .collect();
        (query, Body::Empty)
      }
      Wire::Upload => validate::upload_request(&mut params)?,
    };
    Ok(HttpRequest {
      method: self.method.clone(),
      path: self.path,
      query,
      body,
      delivery: self.delivery,
      max_reply: match self.reply {
        ReplyKind::Json => MAX_JSON_REPLY,
        ReplyKind::Media => MAX_MEDIA_REPLY,
      },
    })
  }

  fn interpret(&self, reply: HttpReply, convert_case: bool) -> ApiResult<Reply> {
    let is_json =
      reply.content_type.contains("json") || reply.content_type.starts_with("text/plain");
    if matches!(self.reply, ReplyKind::Media) && reply.status.is_success() && !is_json {
      return Ok(Reply::Media {
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
}
