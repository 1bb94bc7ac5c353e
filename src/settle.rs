//! Settling the promises of calls: on the JS thread itself ([`crate::local`]), or, where that
//! cannot be set up, from a runtime thread as below.
//!
//! napi's `spawn_future_with_callback` creates a threadsafe function (an async handle, a queue and
//! their teardown) for every call. Here one threadsafe function per instance carries every
//! completion to the JS thread, where Node drains its queue in batches: the per-call cost is a
//! queue push and a promise settlement. It keeps the event loop alive only while calls are pending.
//!
//! A completion made on a runtime worker waits on that worker until the worker runs out of work
//! (or [`MAX_BATCH`] are waiting), and then goes to the JS thread with the others of the same
//! turn: one wake-up of the JS thread per runtime turn, where sending each at once woke it about
//! once per call under load (strace: 1.12 `epoll_pwait` per message at concurrency 16).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, OnceLock};

use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{
  ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};

use crate::error::ApiResult;
use crate::instance::{guard, ok_message, resolved_value};
use crate::local::Driver;
use crate::openapi::{ApiName, Reply};

/// How a call's promise is settled. Only ever used on the JS thread of the env that made the
/// promise; it travels through the runtime untouched.
pub enum Deferred {
  /// A promise made through N-API.
  Napi(sys::napi_deferred),
  /// A promise index.js made, settled through its settler ([`set_settler`]) under this id.
  Js(u32),
}
unsafe impl Send for Deferred {}

pub struct Completion {
  pub deferred: Deferred,
  pub api: ApiName,
  pub outcome: ApiResult<Reply>,
}

/// What settles a call, and what the call returns: for a promise index.js made (`js_id`), its id
/// and `undefined`; else a new N-API promise and that promise.
pub fn promise_for<'env>(env: &'env Env, js_id: Option<u32>) -> Result<(Deferred, Unknown<'env>)> {
  if let Some(id) = js_id {
    if settler_of(env.raw()).is_none() {
      return Err(Error::from_reason(
        "no settler is set for this env (index.js sets it)",
      ));
    }
    let mut undefined = std::ptr::null_mut();
    check_status!(unsafe { sys::napi_get_undefined(env.raw(), &mut undefined) })?;
    return Ok((Deferred::Js(id), unsafe {
      Unknown::from_napi_value(env.raw(), undefined)
    }?));
  }
  let mut deferred = std::ptr::null_mut();
  let mut promise = std::ptr::null_mut();
  check_status!(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
  Ok((Deferred::Napi(deferred), unsafe {
    Unknown::from_napi_value(env.raw(), promise)
  }?))
}

/// Where an instance's calls run: on its JS thread where that can be set up
/// ([`crate::local`]), or on the runtime thread.
pub enum Settler {
  OnJsThread(Rc<Driver>),
  OnRuntimeThread(Threaded),
}

impl Settler {
  pub fn new(env: &Env) -> Result<Self> {
    match Driver::for_env(env) {
      Some(driver) => Ok(Settler::OnJsThread(driver)),
      None => Threaded::new(env).map(Settler::OnRuntimeThread),
    }
  }

  pub fn place(&self) -> &'static str {
    match self {
      Settler::OnJsThread(driver) => driver.place(),
      Settler::OnRuntimeThread(_) => "runtime-thread",
    }
  }

  /// Starts `work` and returns the promise it will settle, or settles index.js's promise `js_id`
  /// (and returns `undefined`). A panic inside settles it as an internal error.
  pub fn run<'env>(
    &self,
    env: &'env Env,
    api: ApiName,
    js_id: Option<u32>,
    work: impl Future<Output = ApiResult<Reply>> + Send + 'static,
  ) -> Result<Unknown<'env>> {
    match self {
      Settler::OnJsThread(driver) => driver.run(env, api, js_id, work),
      Settler::OnRuntimeThread(threaded) => threaded.run(env, api, js_id, work),
    }
  }
}

/// The runtime of [`Threaded`]: one worker thread, built on first use. The work per call is small
/// and mostly waiting on I/O, and every extra worker adds wake-ups and cross-thread hand-offs.
fn runtime() -> &'static tokio::runtime::Runtime {
  static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
  RUNTIME.get_or_init(|| {
    let workers = std::env::var("WX_OPENAPI_NATIVE_THREADS")
      .ok()
      .and_then(|v| v.parse().ok())
      .unwrap_or(1usize);
    tokio::runtime::Builder::new_multi_thread()
      .worker_threads(workers.max(1))
      .on_thread_start(batch::worker_started)
      .on_thread_park(batch::flush)
      .on_thread_stop(batch::flush)
      .enable_all()
      .build()
      .expect("the runtime thread could not be started")
  })
}

type Channel = ThreadsafeFunction<Vec<Completion>, (), (), Status, false, true>;

/// Calls run on the runtime thread, their completions carried back by a threadsafe function.
pub struct Threaded {
  channel: Arc<Channel>,
  /// Calls begun and not yet settled; touched only on the JS thread.
  pending: Rc<Cell<usize>>,
}

impl Threaded {
  fn new(env: &Env) -> Result<Self> {
    let pending = Rc::new(Cell::new(0usize));
    let raw_channel = Arc::new(AtomicPtr::new(std::ptr::null_mut()));
    let noop = env.create_function_from_closure::<(), (), _>("settle", |_| Ok(()))?;
    let channel = {
      let pending = Rc::clone(&pending);
      let raw_channel = Arc::clone(&raw_channel);
      noop
        .build_threadsafe_function::<Vec<Completion>>()
        .callee_handled::<false>()
        // Created unreferenced: an idle instance must not keep the process alive.
        .weak::<true>()
        .build_callback(move |ctx: ThreadsafeCallContext<Vec<Completion>>| {
          let settled = ctx.value.len();
          for completion in ctx.value {
            settle(&ctx.env, completion);
          }
          let left = pending.get().saturating_sub(settled);
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

  fn run<'env>(
    &self,
    env: &'env Env,
    api: ApiName,
    js_id: Option<u32>,
    work: impl Future<Output = ApiResult<Reply>> + Send + 'static,
  ) -> Result<Unknown<'env>> {
    let (deferred, promise) = promise_for(env, js_id)?;
    if self.pending.get() == 0 {
      // A call in flight keeps the process alive, as any pending I/O in Node does.
      check_status!(unsafe { sys::napi_ref_threadsafe_function(env.raw(), self.channel.raw()) })?;
    }
    self.pending.set(self.pending.get() + 1);
    let channel = Arc::clone(&self.channel);
    let _context = runtime().enter();
    crate::executor::spawn(async move {
      let outcome = guard(work).await;
      batch::deliver(
        channel,
        Completion {
          deferred,
          api,
          outcome,
        },
      );
    });
    Ok(promise)
  }
}

pub fn settle(env: &Env, completion: Completion) {
  let Completion {
    deferred,
    api,
    outcome,
  } = completion;
  let api = api.as_ref();
  match deferred {
    Deferred::Napi(deferred) => settle_napi(env, deferred, api, outcome),
    Deferred::Js(id) => settle_js(env, id, api, outcome),
  }
}

fn settle_napi(env: &Env, deferred: sys::napi_deferred, api: &str, outcome: ApiResult<Reply>) {
  let raw_env = env.raw();
  let settled = match outcome {
    Ok(reply) => unsafe { ToNapiValue::to_napi_value(raw_env, resolved_value(reply, api)) }
      .map(|value| unsafe { sys::napi_resolve_deferred(raw_env, deferred, value) }),
    Err(error) => error
      .to_js_error(env, api)
      .map(|js_error| unsafe { sys::napi_reject_deferred(raw_env, deferred, js_error.raw()) }),
  };
  if let Err(e) = settled {
    // Building the value failed (out of memory, a terminating env): still settle, so that no
    // promise is left pending forever.
    if let Ok(js_error) = internal_error(env, api, &e) {
      unsafe { sys::napi_reject_deferred(raw_env, deferred, js_error) };
    }
  }
}

/// What index.js's settler does with its third argument.
#[repr(u32)]
enum Settlement {
  /// Resolve with `{ errMsg, errCode: 0 }`, errMsg that of the call at this index of the table.
  BareReply = 0,
  /// Resolve with this value.
  Value = 1,
  /// Reject with this error.
  Error = 2,
}

fn settle_js(env: &Env, id: u32, api: &str, outcome: ApiResult<Reply>) {
  let raw_env = env.raw();
  let Some(settler) = settler_of(raw_env) else {
    // The env is going: nobody waits on its promises any more.
    return;
  };
  let argument = match outcome {
    Ok(Reply::Json(fields)) if fields.is_empty() => match crate::openapi::call_index(api) {
      Some(index) => unsafe { u32::to_napi_value(raw_env, index as u32) }
        .map(|index| (Settlement::BareReply, index)),
      None => value_of(raw_env, Reply::Json(fields), api),
    },
    Ok(reply) => value_of(raw_env, reply, api),
    Err(error) => error
      .to_js_error(env, api)
      .map(|js_error| (Settlement::Error, js_error.raw())),
  };
  // Building the value failed (out of memory, a terminating env): still settle, so that no
  // promise is left pending forever.
  let argument = argument.or_else(|e| internal_error(env, api, &e).map(|v| (Settlement::Error, v)));
  let Ok((kind, value)) = argument else {
    return;
  };
  unsafe {
    let mut function = std::ptr::null_mut();
    let mut receiver = std::ptr::null_mut();
    let mut args = [std::ptr::null_mut(), std::ptr::null_mut(), value];
    let mut result = std::ptr::null_mut();
    let ready = sys::napi_get_reference_value(raw_env, settler, &mut function)
      == sys::Status::napi_ok
      && !function.is_null()
      && sys::napi_get_undefined(raw_env, &mut receiver) == sys::Status::napi_ok
      && sys::napi_create_uint32(raw_env, id, &mut args[0]) == sys::Status::napi_ok
      && sys::napi_create_uint32(raw_env, kind as u32, &mut args[1]) == sys::Status::napi_ok;
    if ready {
      sys::napi_call_function(raw_env, receiver, function, 3, args.as_ptr(), &mut result);
    }
  }
}

fn value_of(env: sys::napi_env, reply: Reply, api: &str) -> Result<(Settlement, sys::napi_value)> {
  unsafe { ToNapiValue::to_napi_value(env, resolved_value(reply, api)) }
    .map(|value| (Settlement::Value, value))
}

fn internal_error(env: &Env, api: &str, e: &Error) -> Result<sys::napi_value> {
  let message = format!("{api}:fail internal error: {}", e.reason);
  env
    .create_error(Error::from_reason(message))
    .map(|js_error| js_error.raw())
}

thread_local! {
  /// index.js's settler per env of this thread: `(id, kind, value)` settles the promise index.js
  /// made under `id` ([`Settlement`] says how).
  static SETTLERS: RefCell<Vec<(sys::napi_env, sys::napi_ref)>> = const { RefCell::new(Vec::new()) };
}

/// Keeps index.js's settler for `env`. index.js makes each call's promise itself and keeps its
/// resolvers under an id the call carries; one call of the settler then settles it, with the
/// resolved object made there (an object literal, its errMsg a string made once). Against a
/// promise made and settled through N-API (a persistent handle each) and a second call into JS
/// for the object, this took about 4 µs less per message on the JS thread at HTTP concurrency 1
/// (bench/timeline.js; BENCHMARKS.md). The env's teardown forgets it, so that an env made later at
/// the same address never uses a reference of the old one.
pub fn set_settler(env: &Env, settler: Unknown<'_>) -> Result<()> {
  let raw_env = env.raw();
  let mut reference = std::ptr::null_mut();
  check_status!(unsafe { sys::napi_create_reference(raw_env, settler.raw(), 1, &mut reference) })?;
  let old =
    SETTLERS.with_borrow_mut(
      |settlers| match settlers.iter_mut().find(|(e, _)| *e == raw_env) {
        Some((_, r)) => Some(std::mem::replace(r, reference)),
        None => {
          settlers.push((raw_env, reference));
          None
        }
      },
    );
  match old {
    Some(old) => unsafe {
      sys::napi_delete_reference(raw_env, old);
    },
    None => check_status!(unsafe {
      sys::napi_add_env_cleanup_hook(raw_env, Some(forget_settler), raw_env.cast())
    })?,
  }
  Ok(())
}

fn settler_of(env: sys::napi_env) -> Option<sys::napi_ref> {
  SETTLERS
    .try_with(|settlers| {
      settlers
        .borrow()
        .iter()
        .find(|(e, _)| *e == env)
        .map(|(_, r)| *r)
    })
    .ok()
    .flatten()
}

unsafe extern "C" fn forget_settler(env: *mut std::ffi::c_void) {
  let env: sys::napi_env = env.cast();
  // The env is going: its references go with it.
  let _ = SETTLERS.try_with(|settlers| settlers.borrow_mut().retain(|(e, _)| *e != env));
}

/// The `errMsg` of a successful call of each call of the table, in its order: what the settler
/// indexes for a reply with no fields of its own.
pub fn ok_messages() -> Vec<String> {
  crate::openapi::CALLS
    .iter()
    .map(|call| ok_message(call.api_name()))
    .collect()
}

/// The most completions a runtime thread holds back (here, and on the helper thread of
/// [`crate::local`]): one that never runs out of work still hands them over this often.
pub const MAX_BATCH: usize = 64;

/// The completions held on each runtime worker thread until it parks.
pub mod batch {
  use super::*;

  /// Per channel (one per instance and JS thread), in completion order.
  type Held = Vec<(Arc<Channel>, Vec<Completion>)>;

  thread_local! {
    /// Set on the runtime's worker threads, whose park hook flushes what they hold.
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
    static HELD: RefCell<Held> = const { RefCell::new(Vec::new()) };
  }

  /// The runtime's `on_thread_start`.
  pub fn worker_started() {
    ON_WORKER.with(|on| on.set(true));
  }

  /// The runtime's `on_thread_park` and `on_thread_stop`: hands over what this thread holds.
  pub fn flush() {
    let groups = HELD
      .try_with(|held| std::mem::take(&mut *held.borrow_mut()))
      .unwrap_or_default();
    for (channel, completions) in groups {
      // Fails only once the env is being torn down (a worker terminated): nobody is waiting.
      let _ = channel.call(completions, ThreadsafeFunctionCallMode::NonBlocking);
    }
  }

  pub(super) fn deliver(channel: Arc<Channel>, completion: Completion) {
    // Held only where a park hook will flush it: on a worker of our runtime, and not once its
    // thread-locals are being torn down (the thread exiting).
    let holding = ON_WORKER.try_with(Cell::get).unwrap_or(false) && HELD.try_with(|_| ()).is_ok();
    if !holding {
      let _ = channel.call(vec![completion], ThreadsafeFunctionCallMode::NonBlocking);
      return;
    }
    let full = HELD.with(|held| {
      let mut held = held.borrow_mut();
      match held
        .iter_mut()
        .find(|(held_channel, _)| Arc::ptr_eq(held_channel, &channel))
      {
        Some((_, completions)) => completions.push(completion),
        None => held.push((channel, vec![completion])),
      }
      held
        .iter()
        .map(|(_, completions)| completions.len())
        .sum::<usize>()
        >= MAX_BATCH
    });
    if full {
      flush();
    }
  }
}
