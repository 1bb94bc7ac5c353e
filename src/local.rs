//! Runs a JS thread's calls on that JS thread, with no other thread in the way.
//!
//! Each JS thread (the main thread, each worker) gets a current-thread tokio runtime. libuv
//! watches the runtime's epoll descriptor, and the runtime is driven from the event loop: when a
//! call starts, when one of its sockets is ready, and on a short tick while calls are pending (for
//! timeouts and backoff). A drive runs until nothing is left to do, then returns to the loop; it
//! never blocks. Completions are settled right after, on the same thread.
//!
//! This replaces two cross-thread hand-offs per call (the JS thread waking a runtime worker, the
//! worker waking the JS thread), which undici, on one thread, never pays: bench/ measured them as
//! the whole gap at concurrency 1 (BENCHMARKS.md).
//!
//! tokio does not expose its epoll descriptor or a "turn once" call, so two things are done here
//! by hand. The descriptor is found as the one epoll instance that already holds a socket the new
//! runtime registered. And a drive knows it is done when the runtime parks (its queue is empty)
//! and the driver poll that follows woke no task: every task is spawned through [`spawn`], whose
//! wrapper counts the wake-ups. Where any of this is unavailable (not Linux, libuv not exported,
//! the descriptor not found, `WX_OPENAPI_NATIVE_DRIVER=threads`), calls run on a runtime thread
//! as before (`settle.rs`).

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use napi::bindgen_prelude::*;
use napi::sys;

use crate::error::ApiResult;
use crate::instance::guard;
use crate::openapi::Reply;
use crate::settle::{new_promise, settle, Completion};
use crate::uv;

/// How often a drive runs while calls are pending, for the runtime's timers (timeouts, backoff):
/// they fire at most this late.
const TICK_MS: u64 = 10;

thread_local! {
  static DRIVER: RefCell<Option<Rc<Driver>>> = const { RefCell::new(None) };
  /// Setting up a driver failed on this thread: its calls go to the runtime thread.
  static UNAVAILABLE: Cell<bool> = const { Cell::new(false) };
  /// Wake-ups of tasks on this thread, counted by [`Tracked`].
  static WAKES: Cell<u64> = const { Cell::new(0) };
  /// [`WAKES`] when the runtime last parked, its queue empty.
  static PARKED_AT: Cell<Option<u64>> = const { Cell::new(None) };
  /// The waker of the running drive's [`UntilIdle`].
  static IDLE_WAKER: RefCell<Option<Waker>> = const { RefCell::new(None) };
  /// Calls finished by the runtime and not yet settled.
  static DONE: RefCell<Vec<Completion>> = const { RefCell::new(Vec::new()) };
  static DRIVING: Cell<bool> = const { Cell::new(false) };
}

pub struct Driver {
  env: sys::napi_env,
  runtime: RefCell<Option<tokio::runtime::Runtime>>,
  uv: &'static uv::Uv,
  poll: uv::Handle,
  tick: uv::Handle,
  async_context: sys::napi_async_context,
  /// Calls begun and not yet settled.
  pending: Cell<usize>,
}

impl Driver {
  /// This JS thread's driver, set up on first use; `None` where calls must run elsewhere.
  pub fn for_env(env: &Env) -> Option<Rc<Driver>> {
    if UNAVAILABLE.get() || !wanted() {
      return None;
    }
    if let Some(driver) = DRIVER.with_borrow(|d| d.clone()) {
      return (driver.env == env.raw()).then_some(driver);
    }
    match unsafe { Driver::new(env.raw()) } {
      Some(driver) => {
        let driver = Rc::new(driver);
        DRIVER.set(Some(Rc::clone(&driver)));
        Some(driver)
      }
      None => {
        UNAVAILABLE.set(true);
        None
      }
    }
  }

  #[cfg(not(target_os = "linux"))]
  unsafe fn new(_env: sys::napi_env) -> Option<Self> {
    None
  }

  #[cfg(target_os = "linux")]
  unsafe fn new(env: sys::napi_env) -> Option<Self> {
    let uv = uv::get()?;
    let mut uv_loop = std::ptr::null_mut();
    if unsafe { sys::napi_get_uv_event_loop(env, &mut uv_loop) } != sys::Status::napi_ok {
      return None;
    }
    let before = epoll::instances();
    let runtime = tokio::runtime::Builder::new_current_thread()
      .enable_all()
      .on_thread_park(parked)
      .build()
      .ok()?;
    let fd = epoll::reactor_of(&runtime, &before)?;
    let poll = unsafe { uv.poll_readable(uv_loop.cast(), fd, on_readable) }?;
    let Some(tick) = (unsafe { uv.timer(uv_loop.cast()) }) else {
      unsafe { uv.close(poll) };
      return None;
    };
    let async_context = unsafe { async_context(env) };
    unsafe { sys::napi_add_env_cleanup_hook(env, Some(on_env_cleanup), std::ptr::null_mut()) };
    Some(Self {
      env,
      runtime: RefCell::new(Some(runtime)),
      uv,
      poll,
      tick,
      async_context,
      pending: Cell::new(0),
    })
  }

  /// Starts `work` and returns the promise it will settle. A panic inside settles it as an
  /// internal error.
  pub fn run<'env>(
    &self,
    env: &'env Env,
    api: String,
    work: impl Future<Output = ApiResult<Reply>> + Send + 'static,
  ) -> Result<Unknown<'env>> {
    let (deferred, promise) = new_promise(env)?;
    if self.pending.get() == 0 {
      // Pending calls keep the process alive, as pending I/O in Node does, and need the tick.
      unsafe { self.uv.timer_repeat(self.tick, on_tick, TICK_MS) };
    }
    self.pending.set(self.pending.get() + 1);
    self.drive(Some(async move {
      let outcome = guard(work).await;
      DONE.with_borrow_mut(|done| {
        done.push(Completion {
          deferred,
          api,
          outcome,
        })
      });
    }));
    self.settle_done(env);
    Ok(promise)
  }

  /// Runs the runtime until it has nothing left to do right now, starting `task` first.
  fn drive(&self, task: Option<impl Future<Output = ()> + Send + 'static>) {
    let runtime = self.runtime.borrow();
    let Some(runtime) = runtime.as_ref() else {
      return;
    };
    if DRIVING.replace(true) {
      // Not expected (a drive calls no JS), but a nested block_on would panic: queue the task,
      // which wakes the runtime's epoll and so the next drive.
      if let Some(task) = task {
        runtime.spawn(Tracked::new(task));
      }
      return;
    }
    PARKED_AT.set(None);
    runtime.block_on(async {
      if let Some(task) = task {
        tokio::spawn(Tracked::new(task));
      }
      UntilIdle(runtime.handle()).await
    });
    DRIVING.set(false);
  }

  /// Settles the calls the last drive finished.
  fn settle_done(&self, env: &Env) {
    let done = DONE.take();
    if done.is_empty() {
      return;
    }
    let settled = done.len();
    for completion in done {
      settle(env, completion);
    }
    let left = self.pending.get().saturating_sub(settled);
    self.pending.set(left);
    if left == 0 {
      unsafe { self.uv.timer_stop(self.tick) };
    }
  }

  /// A drive from the event loop: outside any JS call, so the settling gets its own scopes, and
  /// closing the callback scope runs the promise reactions, as for any I/O callback in Node.
  fn drive_from_loop(&self) {
    self.drive(None::<std::future::Ready<()>>);
    if DONE.with_borrow(Vec::is_empty) {
      return;
    }
    let env = self.env;
    unsafe {
      let mut handle_scope = std::ptr::null_mut();
      if sys::napi_open_handle_scope(env, &mut handle_scope) != sys::Status::napi_ok {
        return;
      }
      let mut resource = std::ptr::null_mut();
      let mut callback_scope = std::ptr::null_mut();
      let opened = sys::napi_create_object(env, &mut resource) == sys::Status::napi_ok
        && sys::napi_open_callback_scope(env, resource, self.async_context, &mut callback_scope)
          == sys::Status::napi_ok;
      self.settle_done(&Env::from_raw(env));
      if opened {
        sys::napi_close_callback_scope(env, callback_scope);
      }
      sys::napi_close_handle_scope(env, handle_scope);
    }
  }

  fn shut_down(&self) {
    unsafe {
      self.uv.close(self.poll);
      self.uv.close(self.tick);
      sys::napi_async_destroy(self.env, self.async_context);
    }
    if let Some(runtime) = self.runtime.borrow_mut().take() {
      // Drops the tasks; a blocking DNS lookup in flight is not waited for.
      runtime.shutdown_background();
    }
  }
}

fn wanted() -> bool {
  static WANTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
  *WANTED.get_or_init(|| {
    std::env::var("WX_OPENAPI_NATIVE_DRIVER").map_or(true, |v| v.trim() != "threads")
  })
}

unsafe fn async_context(env: sys::napi_env) -> sys::napi_async_context {
  let mut name = std::ptr::null_mut();
  let mut resource = std::ptr::null_mut();
  let mut context = std::ptr::null_mut();
  unsafe {
    sys::napi_create_string_utf8(env, c"wx-openapi-native".as_ptr(), -1, &mut name);
    sys::napi_create_object(env, &mut resource);
    sys::napi_async_init(env, resource, name, &mut context);
  }
  context
}

fn with_driver(f: impl FnOnce(&Driver)) {
  if let Some(driver) = DRIVER.try_with(|d| d.borrow().clone()).ok().flatten() {
    // A panic must not unwind into libuv.
    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| f(&driver)));
  }
}

unsafe extern "C" fn on_readable(_handle: uv::Handle, _status: c_int, _events: c_int) {
  with_driver(Driver::drive_from_loop);
}

unsafe extern "C" fn on_tick(_handle: uv::Handle) {
  with_driver(Driver::drive_from_loop);
}

unsafe extern "C" fn on_env_cleanup(_arg: *mut c_void) {
  if let Some(driver) = DRIVER.try_with(|d| d.borrow_mut().take()).ok().flatten() {
    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| driver.shut_down()));
  }
}

/// The runtime's `on_thread_park`: called with its queue empty, before it polls its driver. The
/// drive is woken so that the runtime never blocks the JS thread; it then polls its driver
/// without waiting.
fn parked() {
  PARKED_AT.set(Some(WAKES.get()));
  if let Some(waker) = IDLE_WAKER.take() {
    waker.wake();
  }
}

/// The future a drive blocks on: ready once the runtime parked and the driver poll after it woke
/// nothing, so that no task is left queued.
struct UntilIdle<'a>(&'a tokio::runtime::Handle);

impl Future for UntilIdle<'_> {
  type Output = ();

  fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
    let quiet = PARKED_AT.take() == Some(WAKES.get());
    // Tasks woken from other threads (a DNS lookup done) wait in the injection queue.
    if quiet && self.0.metrics().global_queue_depth() == 0 {
      return Poll::Ready(());
    }
    IDLE_WAKER.set(Some(cx.waker().clone()));
    Poll::Pending
  }
}

/// Spawns `future` on the current runtime, wake-ups counted (see [`UntilIdle`]). Every task of
/// the addon is spawned here.
pub fn spawn<F>(future: F)
where
  F: Future + Send + 'static,
  F::Output: Send + 'static,
{
  tokio::spawn(Tracked::new(future));
}

/// The executor of hyper's connection tasks.
#[derive(Clone, Copy)]
pub struct Executor;

impl<F> hyper::rt::Executor<F> for Executor
where
  F: Future + Send + 'static,
  F::Output: Send + 'static,
{
  fn execute(&self, future: F) {
    spawn(future);
  }
}

/// A task whose wake-ups are counted in [`WAKES`] of the thread that wakes it.
struct Tracked<F> {
  future: F,
  waker: Option<Arc<CountingWaker>>,
}

impl<F> Tracked<F> {
  fn new(future: F) -> Self {
    Self {
      future,
      waker: None,
    }
  }
}

impl<F: Future> Future for Tracked<F> {
  type Output = F::Output;

  fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
    // SAFETY: `future` is structurally pinned: never moved out of `self`; `waker` is not pinned.
    let this = unsafe { self.get_unchecked_mut() };
    let waker = match &this.waker {
      Some(waker) if waker.0.will_wake(cx.waker()) => waker,
      _ => this
        .waker
        .insert(Arc::new(CountingWaker(cx.waker().clone()))),
    };
    let waker = Waker::from(Arc::clone(waker));
    let future = unsafe { Pin::new_unchecked(&mut this.future) };
    future.poll(&mut Context::from_waker(&waker))
  }
}

struct CountingWaker(Waker);

impl Wake for CountingWaker {
  fn wake(self: Arc<Self>) {
    self.wake_by_ref();
  }

  fn wake_by_ref(self: &Arc<Self>) {
    let _ = WAKES.try_with(|wakes| wakes.set(wakes.get() + 1));
    self.0.wake_by_ref();
  }
}

#[cfg(target_os = "linux")]
mod epoll {
  use std::os::fd::{AsRawFd, RawFd};

  /// The epoll instances open in this process.
  pub fn instances() -> Vec<RawFd> {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
      return Vec::new();
    };
    entries
      .flatten()
      .filter(|entry| {
        std::fs::read_link(entry.path())
          .is_ok_and(|target| target.as_os_str() == "anon_inode:[eventpoll]")
      })
      .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
      .collect()
  }

  /// The epoll instance of `runtime`'s reactor: among those opened since `before`, one that
  /// already holds a socket just registered with the runtime. (mio keeps two descriptors of it.)
  pub fn reactor_of(runtime: &tokio::runtime::Runtime, before: &[RawFd]) -> Option<RawFd> {
    let _context = runtime.enter();
    let (probe, _peer) = tokio::net::UnixStream::pair().ok()?;
    let probe = probe.as_raw_fd();
    instances()
      .into_iter()
      .filter(|fd| !before.contains(fd))
      .find(|&fd| holds(fd, probe))
  }

  /// Whether the epoll instance `epoll` watches `fd` (leaving it as it was).
  fn holds(epoll: RawFd, fd: RawFd) -> bool {
    let mut event = libc::epoll_event {
      events: libc::EPOLLIN as u32,
      u64: 0,
    };
    if unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut event) } == 0 {
      unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_DEL, fd, &mut event) };
      return false;
    }
    std::io::Error::last_os_error().raw_os_error() == Some(libc::EEXIST)
  }
}
