//! Runs a JS thread's calls on that JS thread, with no other thread in the way.
//!
//! Each JS thread (the main thread, each worker) gets a current-thread tokio runtime, driven from
//! the event loop: when a call starts, when one of its sockets is ready, and on a short tick while
//! calls are pending (for timeouts and backoff). libuv polls the sockets itself (loop_tcp.rs), and
//! watches the runtime's epoll descriptor for the rest (connects, DNS, timers). A drive runs until
//! nothing is left to do, then returns to the loop; it never blocks. Completions are settled
//! right after, on the same thread.
//!
//! This replaces two cross-thread hand-offs per call (the JS thread waking a runtime worker, the
//! worker waking the JS thread), which undici, on one thread, never pays: bench/ measured them as
//! the whole gap at concurrency 1 (BENCHMARKS.md).
//!
//! Under load one thread is the limit (TLS especially), so from [`HAND_OVER_AT`] pending calls a
//! helper thread drives the same runtime instead (`block_on` takes the runtime's core wherever it
//! is called: the pool stays, and the sockets go back to tokio's polling), the JS thread only
//! converting parameters and settling promises; the JS thread takes the runtime back once the
//! load is gone (see [`Mode`]).
//!
//! tokio does not expose its epoll descriptor, so it is found by hand: the one epoll instance that
//! already holds a socket the new runtime registered. The tasks wait in the addon's own queue
//! (executor.rs), which tells when nothing is left to do. Where any of this is unavailable (not
//! Linux, libuv not exported, the descriptor not found, `WX_OPENAPI_NATIVE_DRIVER=threads`),
//! calls run on a runtime thread as before (`settle.rs`).

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::task::Waker;

use napi::bindgen_prelude::*;
use napi::sys;
use tokio::runtime::Runtime;

use crate::error::ApiResult;
use crate::executor::Executor;
use crate::instance::guard;
use crate::loop_tcp::Watch;
use crate::markers::{mark, Point};
use crate::openapi::{ApiName, Reply};
use crate::settle::{promise_for, settle, Completion, MAX_BATCH};
use crate::uv;

/// How often the loop drives the runtime while calls are pending, for its timers (timeouts,
/// backoff): they fire at most this late. Also how often a helper's load is looked at.
const TICK_MS: u64 = 10;
/// Calls pending at which the runtime goes to the helper thread.
const HAND_OVER_AT: usize = 4;
/// The most calls pending during a tick for the runtime to come back to the JS thread.
const TAKE_BACK_AT: usize = 1;

thread_local! {
  static DRIVER: RefCell<Option<Rc<Driver>>> = const { RefCell::new(None) };
  /// Setting up a driver failed on this thread: its calls go to the runtime thread.
  static UNAVAILABLE: Cell<bool> = const { Cell::new(false) };
  /// Set while the JS thread drives a runtime.
  static DRIVING: Cell<bool> = const { Cell::new(false) };
}

/// What a loop callback does with the runtime before settling.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Drive {
  No,
  /// Runs the tasks woken (by a socket libuv polls).
  Tasks,
  /// Polls tokio's driver first (its sockets and timers), then runs the tasks.
  Turn,
}

/// Who runs the runtime.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
  /// The JS thread, from its event loop.
  JsThread,
  /// The helper thread, blocked in the runtime: many calls are pending, and two threads (one
  /// converting and settling, one doing HTTP and TLS) then send more than one.
  Helper,
  /// The helper was asked to give the runtime back and has not yet said it did.
  Returning,
}

/// What the JS thread and the helper thread share.
struct Shared {
  /// Completions not yet settled; the tasks push them from whichever thread runs them.
  done: Mutex<Done>,
  control: Mutex<Control>,
  wake_helper: Condvar,
}

struct Done {
  completions: Vec<Completion>,
  /// The async handle that wakes the JS thread (as an address: the handle is the loop's).
  notify: usize,
  /// Set when the env goes: the handle is closed and nobody is left to settle.
  closed: bool,
}

#[derive(Default)]
struct Control {
  /// The JS thread asks the helper to run the runtime.
  take: bool,
  /// The JS thread asks the helper to give it back.
  give_back: bool,
  /// The helper gave it back; the JS thread may drive again.
  given_back: bool,
  shutdown: bool,
  /// Wakes the helper's drive, to give the runtime back.
  waker: Option<Waker>,
}

impl Shared {
  fn done(&self) -> MutexGuard<'_, Done> {
    self.done.lock().unwrap_or_else(|e| e.into_inner())
  }

  fn control(&self) -> MutexGuard<'_, Control> {
    self.control.lock().unwrap_or_else(|e| e.into_inner())
  }

  fn complete(&self, completion: Completion) {
    let mut done = self.done();
    done.completions.push(completion);
    if !DRIVING.get() && done.completions.len() >= MAX_BATCH {
      Self::notify(&done);
    }
  }

  /// On the helper: has the JS thread settle what is done.
  fn flush(&self) {
    let done = self.done();
    if !done.completions.is_empty() {
      Self::notify(&done);
    }
  }

  fn notify(done: &Done) {
    if let (false, Some(uv)) = (done.closed, uv::get()) {
      // The handle stays open while `closed` is false, which is only changed under this lock.
      unsafe { uv.async_send(done.notify as uv::Handle) };
    }
  }
}

pub struct Driver {
  env: sys::napi_env,
  runtime: RefCell<Option<Arc<Runtime>>>,
  executor: Arc<Executor>,
  shared: Arc<Shared>,
  helper: RefCell<Option<std::thread::JoinHandle<()>>>,
  mode: Cell<Mode>,
  uv: &'static uv::Uv,
  uv_loop: uv::Loop,
  /// The sockets libuv polls (loop_tcp.rs), to detach when the runtime goes to the helper.
  sockets: RefCell<Vec<Weak<Watch>>>,
  poll: uv::Handle,
  tick: uv::Handle,
  notify: uv::Handle,
  async_context: sys::napi_async_context,
  /// The resource of `async_context`, for the callback scopes of its loop callbacks.
  resource: sys::napi_ref,
  /// Calls begun and not yet settled.
  pending: Cell<usize>,
  /// The most calls pending since the last tick.
  peak: Cell<usize>,
  /// Whether the tick runs.
  ticking: Cell<bool>,
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
    let uv_loop: uv::Loop = uv_loop.cast();
    let shared = Arc::new(Shared {
      done: Mutex::new(Done {
        completions: Vec::new(),
        notify: 0,
        closed: false,
      }),
      control: Mutex::new(Control::default()),
      wake_helper: Condvar::new(),
    });
    let before = epoll::instances();
    let runtime = {
      let shared = Arc::clone(&shared);
      tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_park(move || {
          if !DRIVING.get() {
            shared.flush()
          }
        })
        .build()
        .ok()?
    };
    let fd = epoll::reactor_of(&runtime, &before)?;
    let handles = unsafe {
      [
        uv.poll(uv_loop, fd),
        uv.timer(uv_loop),
        uv.async_handle(uv_loop, on_notify),
      ]
    };
    let polling = match handles {
      [Some(poll), Some(_), Some(_)] => unsafe { uv.poll_start(poll, on_readable) },
      _ => false,
    };
    let (true, [Some(poll), Some(tick), Some(notify)]) = (polling, handles) else {
      for handle in handles.into_iter().flatten() {
        unsafe { uv.close(handle) };
      }
      return None;
    };
    shared.done().notify = notify as usize;
    let (async_context, resource) = unsafe { async_context(env) };
    unsafe { sys::napi_add_env_cleanup_hook(env, Some(on_env_cleanup), std::ptr::null_mut()) };
    Some(Self {
      env,
      runtime: RefCell::new(Some(Arc::new(runtime))),
      executor: Arc::default(),
      shared,
      helper: RefCell::new(None),
      mode: Cell::new(Mode::JsThread),
      uv,
      uv_loop,
      sockets: RefCell::default(),
      poll,
      tick,
      notify,
      async_context,
      resource,
      pending: Cell::new(0),
      peak: Cell::new(0),
      ticking: Cell::new(false),
    })
  }

  /// Who runs the runtime now, for the tests.
  pub fn place(&self) -> &'static str {
    match self.mode.get() {
      Mode::JsThread => "js-thread",
      Mode::Helper | Mode::Returning => "helper-thread",
    }
  }

  /// Starts `work` and returns the promise it will settle. A panic inside settles it as an
  /// internal error.
  pub fn run<'env>(
    &self,
    env: &'env Env,
    api: ApiName,
    js_id: Option<u32>,
    work: impl Future<Output = ApiResult<Reply>> + Send + 'static,
  ) -> Result<Unknown<'env>> {
    let (deferred, promise) = promise_for(env, js_id)?;
    let pending = self.pending.get() + 1;
    self.pending.set(pending);
    self.peak.set(self.peak.get().max(pending));
    if pending == 1 {
      // Pending calls keep the process alive, as pending I/O in Node does, and need the tick.
      self.tick_while_pending(true);
    }
    let shared = Arc::clone(&self.shared);
    let task = async move {
      let outcome = guard(work).await;
      shared.complete(Completion {
        deferred,
        api,
        outcome,
      });
    };
    if self.mode.get() == Mode::JsThread && pending >= HAND_OVER_AT {
      self.hand_over();
    }
    if self.mode.get() == Mode::JsThread {
      mark(Point::TaskStarting);
      self.drive(Some(task), false);
      mark(Point::CallDriven);
      self.settle_done(env);
    } else {
      self.executor.spawn(task);
    }
    Ok(promise)
  }

  fn tick_while_pending(&self, pending: bool) {
    unsafe {
      if pending {
        // Started only if stopped: restarted on every call, the tick would never come while the
        // calls come faster than it, and a helper that is no longer needed would keep the runtime.
        if !self.ticking.replace(true) {
          self.uv.timer_repeat(self.tick, on_tick, TICK_MS);
        }
        self.uv.keep_alive(self.tick, true);
      } else {
        // Still ticking, but an idle process may exit. On the JS thread the next tick stops it
        // if no call has begun meanwhile: one call after another (concurrency 1) then leaves the
        // timer running instead of stopping and starting it for each; a helper's tick is still
        // needed, to take the runtime back.
        self.uv.keep_alive(self.tick, false);
      }
    }
  }

  fn stop_tick(&self) {
    if self.ticking.replace(false) {
      unsafe { self.uv.timer_stop(self.tick) };
    }
  }

  /// Runs the runtime on this thread until it has nothing left to do right now, starting `task`
  /// first. Only while the runtime is the JS thread's. With `turn`, it polls tokio's driver once
  /// first (its epoll instance ready, the tick).
  fn drive(&self, task: Option<impl Future<Output = ()> + Send + 'static>, turn: bool) {
    let runtime = self.runtime.borrow();
    let Some(runtime) = runtime.as_ref() else {
      return;
    };
    if DRIVING.replace(true) {
      // Not expected (a drive calls no JS), but a nested block_on would panic: queue the task,
      // which the drive in progress runs.
      if let Some(task) = task {
        self.executor.spawn(task);
      }
      return;
    }
    if let Some(task) = task {
      self.executor.spawn_unwoken(task);
    }
    runtime.block_on(self.executor.run_until_idle(turn));
    DRIVING.set(false);
  }

  /// Settles the calls finished so far.
  fn settle_done(&self, env: &Env) {
    self.settle_all(env, self.take_done());
  }

  fn take_done(&self) -> Vec<Completion> {
    std::mem::take(&mut self.shared.done().completions)
  }

  fn settle_all(&self, env: &Env, done: Vec<Completion>) {
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
      self.tick_while_pending(false);
    }
  }

  /// Work from the event loop: outside any JS call, so the settling gets its own scopes, and
  /// closing the callback scope runs the promise reactions, as for any I/O callback in Node.
  fn loop_callback(&self, drive: Drive) {
    mark(Point::LoopCallback);
    if drive != Drive::No && self.mode.get() == Mode::JsThread {
      self.drive(None::<std::future::Ready<()>>, drive == Drive::Turn);
    }
    let done = self.take_done();
    mark(Point::ReplyDriven);
    if done.is_empty() {
      return;
    }
    let env = self.env;
    unsafe {
      let mut handle_scope = std::ptr::null_mut();
      if sys::napi_open_handle_scope(env, &mut handle_scope) != sys::Status::napi_ok {
        // Still settled where they can be: on the next drive.
        self.shared.done().completions.splice(0..0, done);
        return;
      }
      let mut resource = std::ptr::null_mut();
      let mut callback_scope = std::ptr::null_mut();
      let opened = sys::napi_get_reference_value(env, self.resource, &mut resource)
        == sys::Status::napi_ok
        && !resource.is_null()
        && sys::napi_open_callback_scope(env, resource, self.async_context, &mut callback_scope)
          == sys::Status::napi_ok;
      self.settle_all(&Env::from_raw(env), done);
      mark(Point::Settled);
      if opened {
        sys::napi_close_callback_scope(env, callback_scope);
      }
      mark(Point::ReactionsRan);
      sys::napi_close_handle_scope(env, handle_scope);
    }
  }

  fn on_tick(&self) {
    match self.mode.get() {
      Mode::JsThread if self.pending.get() == 0 => self.stop_tick(),
      Mode::JsThread => self.loop_callback(Drive::Turn),
      Mode::Helper if self.peak.get() <= TAKE_BACK_AT => self.take_back(),
      _ => {}
    }
    self.peak.set(self.pending.get());
  }

  fn watch(&self, fd: c_int) -> Option<Arc<Watch>> {
    if self.mode.get() != Mode::JsThread {
      return None;
    }
    let handle = unsafe { self.uv.poll(self.uv_loop, fd) }?;
    let watch = Watch::start(self.uv, handle)?;
    let mut sockets = self.sockets.borrow_mut();
    sockets.retain(|w| w.strong_count() > 0);
    sockets.push(Arc::downgrade(&watch));
    Some(watch)
  }

  /// Gives the runtime to the helper thread (started the first time).
  fn hand_over(&self) {
    let Some(runtime) = self.runtime.borrow().as_ref().map(Arc::clone) else {
      return;
    };
    if self.helper.borrow().is_none() {
      let shared = Arc::clone(&self.shared);
      let executor = Arc::clone(&self.executor);
      let spawned = std::thread::Builder::new()
        .name("wx-openapi-native".into())
        .spawn(move || helper(&runtime, &executor, &shared));
      match spawned {
        Ok(thread) => *self.helper.borrow_mut() = Some(thread),
        Err(_) => return,
      }
    }
    unsafe { self.uv.poll_stop(self.poll) };
    self.mode.set(Mode::Helper);
    // The helper cannot use libuv: the sockets go back to tokio, at their tasks' next poll (on
    // the helper).
    self.detach_sockets();
    self.shared.control().take = true;
    self.shared.wake_helper.notify_one();
  }

  /// Asks the helper to give the runtime back; [`Driver::on_notify`] takes it.
  fn take_back(&self) {
    self.mode.set(Mode::Returning);
    let waker = {
      let mut control = self.shared.control();
      control.give_back = true;
      control.waker.take()
    };
    if let Some(waker) = waker {
      waker.wake();
    }
  }

  fn on_notify(&self) {
    if self.mode.get() == Mode::Returning && std::mem::take(&mut self.shared.control().given_back) {
      self.mode.set(Mode::JsThread);
      unsafe { self.uv.poll_start(self.poll, on_readable) };
      if self.pending.get() == 0 {
        self.stop_tick();
      }
      // Calls begun meanwhile were queued for whoever runs the runtime next.
      self.loop_callback(Drive::Turn);
    } else {
      self.loop_callback(Drive::No);
    }
  }

  fn shut_down(&self) {
    {
      let mut done = self.shared.done();
      done.closed = true;
    }
    let waker = {
      let mut control = self.shared.control();
      control.shutdown = true;
      control.give_back = true;
      control.waker.take()
    };
    if let Some(waker) = waker {
      waker.wake();
    }
    self.shared.wake_helper.notify_one();
    if let Some(helper) = self.helper.borrow_mut().take() {
      let _ = helper.join();
    }
    unsafe {
      self.uv.close(self.poll);
      self.uv.close(self.tick);
      self.uv.close(self.notify);
      sys::napi_async_destroy(self.env, self.async_context);
      sys::napi_delete_reference(self.env, self.resource);
    }
    if let Some(runtime) = self.runtime.borrow_mut().take() {
      if let Ok(runtime) = Arc::try_unwrap(runtime) {
        // Wakes the tasks waiting on its sockets and timers; a blocking DNS lookup in flight is
        // not waited for.
        runtime.shutdown_background();
      }
    }
    // Drops the tasks, those just woken included.
    self.executor.close();
    // And those waiting on a socket libuv polls, which nothing else would wake: their sockets
    // close with them.
    self.detach_sockets();
  }

  /// Stops libuv polling the sockets, and wakes the tasks that waited on it.
  fn detach_sockets(&self) {
    for watch in self.sockets.take() {
      if let Some(watch) = watch.upgrade() {
        watch.detach().into_iter().flatten().for_each(Waker::wake);
      }
    }
  }
}

/// The helper thread: runs the runtime whenever the JS thread hands it over, until asked for it
/// back; it then says so through the async handle.
fn helper(runtime: &Runtime, executor: &Arc<Executor>, shared: &Shared) {
  loop {
    {
      let mut control = shared.control();
      while !control.take && !control.shutdown {
        control = shared
          .wake_helper
          .wait(control)
          .unwrap_or_else(|e| e.into_inner());
      }
      if control.shutdown {
        return;
      }
      control.take = false;
    }
    runtime.block_on(executor.run_until(|cx, _| {
      let mut control = shared.control();
      if std::mem::take(&mut control.give_back) {
        return true;
      }
      control.waker = Some(cx.waker().clone());
      false
    }));
    shared.control().given_back = true;
    Shared::notify(&shared.done());
  }
}

/// Whether this thread is the JS thread, driving its runtime now: a socket polled here may be
/// polled by libuv (loop_tcp.rs).
pub fn drives_here() -> bool {
  DRIVING.get()
}

/// Has this JS thread's loop poll `fd` for the socket using it; `None` if it cannot now.
pub fn watch(fd: c_int) -> Option<Arc<Watch>> {
  DRIVER.with_borrow(|driver| driver.as_ref()?.watch(fd))
}

/// From libuv's callback for a socket it polls: runs the tasks of `wakers` and settles what
/// they finish.
pub fn socket_ready(wakers: [Option<Waker>; 2]) {
  with_driver(|driver| {
    if driver.mode.get() != Mode::JsThread {
      // Not expected (the sockets are detached before the helper runs): woken all the same.
      wakers.into_iter().flatten().for_each(Waker::wake);
      return;
    }
    // Queued without waking the runtime: the drive below runs them.
    driver.executor.wake_here(wakers.into_iter().flatten());
    driver.loop_callback(Drive::Tasks);
  });
}

fn wanted() -> bool {
  static WANTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
  *WANTED.get_or_init(|| {
    std::env::var("WX_OPENAPI_NATIVE_DRIVER").map_or(true, |v| v.trim() != "threads")
  })
}

/// The async context of the loop callbacks, and its resource object (made once: every callback
/// scope of the driver is for the same context).
unsafe fn async_context(env: sys::napi_env) -> (sys::napi_async_context, sys::napi_ref) {
  let mut name = std::ptr::null_mut();
  let mut resource = std::ptr::null_mut();
  let mut context = std::ptr::null_mut();
  let mut reference = std::ptr::null_mut();
  unsafe {
    sys::napi_create_string_utf8(env, c"wx-openapi-native".as_ptr(), -1, &mut name);
    sys::napi_create_object(env, &mut resource);
    sys::napi_async_init(env, resource, name, &mut context);
    sys::napi_create_reference(env, resource, 1, &mut reference);
  }
  (context, reference)
}

fn with_driver(f: impl FnOnce(&Driver)) {
  if let Some(driver) = DRIVER.try_with(|d| d.borrow().clone()).ok().flatten() {
    // A panic must not unwind into libuv.
    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| f(&driver)));
  }
}

unsafe extern "C" fn on_readable(_handle: uv::Handle, _status: c_int, _events: c_int) {
  with_driver(|driver| driver.loop_callback(Drive::Turn));
}

unsafe extern "C" fn on_tick(_handle: uv::Handle) {
  with_driver(Driver::on_tick);
}

unsafe extern "C" fn on_notify(_handle: uv::Handle) {
  with_driver(Driver::on_notify);
}

unsafe extern "C" fn on_env_cleanup(_arg: *mut c_void) {
  if let Some(driver) = DRIVER.try_with(|d| d.borrow_mut().take()).ok().flatten() {
    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| driver.shut_down()));
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
