//! Settling the promises of calls from the runtime threads.
//!
//! napi's `spawn_future_with_callback` creates a threadsafe function (an async handle, a queue and
//! their teardown) for every call. Here one threadsafe function per instance carries every
//! completion to the JS thread, where Node drains its queue in batches: the per-call cost is a
//! queue push and a promise settlement. It keeps the event loop alive only while calls are pending.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{
  ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};

use crate::error::ApiResult;
use crate::instance::{guard, resolved_value};
use crate::openapi::Reply;

/// A promise's resolver. Only ever used on the JS thread of the env that created it; it travels
/// through the runtime untouched.
struct Deferred(sys::napi_deferred);
unsafe impl Send for Deferred {}

struct Completion {
  deferred: Deferred,
  api: String,
  outcome: ApiResult<Reply>,
}

type Channel = ThreadsafeFunction<Completion, (), (), Status, false, true>;

pub struct Settler {
  channel: Arc<Channel>,
  /// Calls begun and not yet settled; touched only on the JS thread.
  pending: Rc<Cell<usize>>,
}

impl Settler {
  pub fn new(env: &Env) -> Result<Self> {
    let pending = Rc::new(Cell::new(0usize));
    let raw_channel = Arc::new(AtomicPtr::new(std::ptr::null_mut()));
    let noop = env.create_function_from_closure::<(), (), _>("settle", |_| Ok(()))?;
    let channel = {
      let pending = Rc::clone(&pending);
      let raw_channel = Arc::clone(&raw_channel);
      noop
        .build_threadsafe_function::<Completion>()
        .callee_handled::<false>()
        // Created unreferenced: an idle instance must not keep the process alive.
        .weak::<true>()
        .build_callback(move |ctx: ThreadsafeCallContext<Completion>| {
          let Completion {
            deferred,
            api,
            outcome,
          } = ctx.value;
          settle(&ctx.env, deferred, &api, outcome);
          let left = pending.get().saturating_sub(1);
          pending.set(left);
          if left == 0 {
            unsafe {
              sys::napi_unref_threadsafe_function(
                ctx.env.raw(),
                raw_channel.load(Ordering::Relaxed),
              )
            };
          }
          Ok(())
        })?
    };
    raw_channel.store(channel.raw(), Ordering::Relaxed);
    Ok(Self {
      channel: Arc::new(channel),
      pending,
    })
  }

  /// Starts `work` on the runtime and returns the promise it will settle. A panic inside settles
  /// it as an internal error.
  pub fn run<'env>(
    &self,
    env: &'env Env,
    api: String,
    work: impl Future<Output = ApiResult<Reply>> + Send + 'static,
  ) -> Result<Unknown<'env>> {
    let mut deferred = std::ptr::null_mut();
    let mut promise = std::ptr::null_mut();
    check_status!(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
    if self.pending.get() == 0 {
      // A call in flight keeps the process alive, as any pending I/O in Node does.
      check_status!(unsafe { sys::napi_ref_threadsafe_function(env.raw(), self.channel.raw()) })?;
    }
    self.pending.set(self.pending.get() + 1);
    let deferred = Deferred(deferred);
    let channel = Arc::clone(&self.channel);
    napi::bindgen_prelude::spawn(async move {
      let outcome = guard(work).await;
      // Fails only once the env is being torn down (a worker terminated): nobody is waiting.
      let _ = channel.call(
        Completion {
          deferred,
          api,
          outcome,
        },
        ThreadsafeFunctionCallMode::NonBlocking,
      );
    });
    unsafe { Unknown::from_napi_value(env.raw(), promise) }
  }
}

fn settle(env: &Env, deferred: Deferred, api: &str, outcome: ApiResult<Reply>) {
  let raw_env = env.raw();
  let settled = match outcome {
    Ok(reply) => unsafe { ToNapiValue::to_napi_value(raw_env, resolved_value(reply, api)) }
      .map(|value| unsafe { sys::napi_resolve_deferred(raw_env, deferred.0, value) }),
    Err(error) => error
      .to_js_error(env, api)
      .map(|js_error| unsafe { sys::napi_reject_deferred(raw_env, deferred.0, js_error.raw()) }),
  };
  if let Err(e) = settled {
    // Building the value failed (out of memory, a terminating env): still settle, so that no
    // promise is left pending forever.
    let message = format!("{api}:fail internal error: {}", e.reason);
    if let Ok(js_error) = env.create_error(Error::from_reason(message)) {
      unsafe { sys::napi_reject_deferred(raw_env, deferred.0, js_error.raw()) };
    }
  }
}
