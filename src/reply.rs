//! A successful call's value as JS sees it: the reply's own fields, then `errMsg` and
//! `errCode: 0`, as wx-server-sdk resolves; a binary reply as `{ contentType, buffer }`.

use napi::bindgen_prelude::*;
use wx_openapi::Reply;

pub fn to_js<'env>(env: &'env Env, reply: Reply, api: &str) -> Result<Object<'env>> {
  let mut object = Object::new(env)?;
  match reply {
    Reply::Json(fields) => {
      for (key, value) in fields {
        object.set(key, value)?;
      }
    }
    Reply::Binary {
      content_type,
      bytes,
    } => {
      object.set("contentType", content_type)?;
      object.set("buffer", Buffer::from(bytes))?;
    }
  }
  object.set("errMsg", format!("{api}:ok"))?;
  object.set("errCode", 0)?;
  Ok(object)
}
