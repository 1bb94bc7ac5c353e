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

/// A promise's resolver. Only ever used on the JS thread of the env that created it; it travels
/// through the runtime untouched.
pub struct Deferred(sys::napi_deferred);
unsafe impl Send for Deferred {}

pub struct Completion {
  pub deferred: Deferred,
  pub api: ApiName,
  pub outcome: ApiResult<Reply>,
}

/// A new promise and its resolver.
pub fn new_promise<'env>(env: &'env Env) -> Result<(Deferred, Unknown<'env>)> {
  let mut deferred = std::ptr::null_mut();
  let mut promise = std::ptr::null_mut();
  check_status!(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
  Ok((Deferred(deferred), unsafe {
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

  /// Starts `work` and returns the promise it will settle. A panic inside settles it as an
  /// internal error.
  pub fn run<'env>(
    &self,
    env: &'env Env,
    api: ApiName,
    work: impl Future<Output = ApiResult<Reply>> + Send + 'static,
  ) -> Result<Unknown<'env>> {
    match self {
      Settler::OnJsThread(driver) => driver.run(env, api, work),
      Settler::OnRuntimeThread(threaded) => threaded.run(env, api, work),
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
    work: impl Future<Output = ApiResult<Reply>> + Send + 'static,
  ) -> Result<Unknown<'env>> {
    let (deferred, promise) = new_promise(env)?;
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

thread_local! {
  /// index.js's `(index) => ({ errMsg: OK_MESSAGES[index], errCode: 0 })`, with the env it
  /// belongs to.
  static RESULT_FACTORY: Cell<Option<(sys::napi_env, sys::napi_ref)>> = const { Cell::new(None) };
  /// The envs of this thread whose teardown forgets their factory (a hook each, registered once).
  static FACTORY_ENVS: RefCell<Vec<sys::napi_env>> = const { RefCell::new(Vec::new()) };
}

/// Keeps `factory` to make the resolved value of replies with no fields of their own (nearly
/// every call): a JS object literal is built from V8's boilerplate, where setting `errMsg` and
/// `errCode` through N-API goes through V8's generic property path, key names looked up each
/// time (callgrind, HTTP concurrency 1: about 3,000 fewer instructions per message). It takes the
/// call's index in the table ([`ok_messages`]), so that `errMsg` is a string JS made once, not one
/// decoded from UTF-8 for every call.
///
/// One factory per thread, that of the env that set it last; calls of another env on the same
/// thread (a second context) set their properties through N-API. The env's teardown forgets its
/// factory, so that an env made later at the same address never uses a reference of the old one.
pub fn set_result_factory(env: &Env, factory: Unknown<'_>) -> Result<()> {
  let raw_env = env.raw();
  let mut reference = std::ptr::null_mut();
  check_status!(unsafe { sys::napi_create_reference(raw_env, factory.raw(), 1, &mut reference) })?;
  let hooked = FACTORY_ENVS.with_borrow(|envs| envs.contains(&raw_env));
  if !hooked {
    check_status!(unsafe {
      sys::napi_add_env_cleanup_hook(raw_env, Some(forget_result_factory), raw_env.cast())
    })?;
    FACTORY_ENVS.with_borrow_mut(|envs| envs.push(raw_env));
  }
  if let Some((owner, old)) = RESULT_FACTORY.replace(Some((raw_env, reference))) {
    if owner == raw_env {
      unsafe { sys::napi_delete_reference(raw_env, old) };
    }
  }
  Ok(())
}

/// The `errMsg` of a successful call of each call of the table, in its order: what the factory
/// indexes.
pub fn ok_messages() -> Vec<String> {
  crate::openapi::CALLS
    .iter()
    .map(|call| ok_message(call.api_name()))
    .collect()
}

unsafe extern "C" fn forget_result_factory(env: *mut std::ffi::c_void) {
  let env: sys::napi_env = env.cast();
  let _ = FACTORY_ENVS.try_with(|envs| envs.borrow_mut().retain(|&e| e != env));
  let _ = RESULT_FACTORY.try_with(|factory| {
    if matches!(factory.get(), Some((owner, _)) if owner == env) {
      factory.set(None);
    }
  });
}

/// `{ errMsg, errCode: 0 }` for a call of `api` from the factory, or `None` where there is none
/// for `env` (or `api` is not a call of the table).
pub unsafe fn result_from_factory(env: sys::napi_env, api: &str) -> Option<sys::napi_value> {
  let index = crate::openapi::call_index(api)?;
  let (owner, reference) = RESULT_FACTORY.try_with(Cell::get).ok().flatten()?;
  if owner != env {
    return None;
  }
  let mut factory = std::ptr::null_mut();
  let mut receiver = std::ptr::null_mut();
  let mut argument = std::ptr::null_mut();
  let mut result = std::ptr::null_mut();
  let made = unsafe {
    sys::napi_get_reference_value(env, reference, &mut factory) == sys::Status::napi_ok
      && !factory.is_null()
      && sys::napi_get_undefined(env, &mut receiver) == sys::Status::napi_ok
      && sys::napi_create_uint32(env, index as u32, &mut argument) == sys::Status::napi_ok
      && sys::napi_call_function(env, receiver, factory, 1, &argument, &mut result)
        == sys::Status::napi_ok
  };
  made.then_some(result)
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
