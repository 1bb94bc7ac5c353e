//! The few libuv functions the JS-thread driver needs ([`crate::local`]).
//!
//! Node exports libuv's symbols from its own binary, so they are looked up in the running process
//! rather than linked: the addon then has no undefined symbols, and `cargo test` binaries, which
//! run without Node, still link. Where they are missing (a host that hides them), the driver is
//! not used and calls run on the runtime thread instead.

use std::ffi::{c_int, c_void, CStr};
use std::sync::OnceLock;

pub type Handle = *mut c_void;
pub type Loop = *mut c_void;
pub type PollCallback = unsafe extern "C" fn(Handle, c_int, c_int);
pub type TimerCallback = unsafe extern "C" fn(Handle);
pub type CloseCallback = unsafe extern "C" fn(Handle);
pub type AsyncCallback = unsafe extern "C" fn(Handle);

/// `UV_READABLE`, `UV_WRITABLE` and `UV_DISCONNECT` of `uv_poll_event`.
pub const READABLE: c_int = 1;
pub const WRITABLE: c_int = 2;
pub const DISCONNECT: c_int = 4;
// `uv_handle_type` values (uv.h: UV_HANDLE_TYPE_MAP order, from 1).
const ASYNC: c_int = 1;
const POLL: c_int = 8;
const TIMER: c_int = 13;

pub struct Uv {
  handle_size: unsafe extern "C" fn(c_int) -> usize,
  poll_init: unsafe extern "C" fn(Loop, Handle, c_int) -> c_int,
  poll_start: unsafe extern "C" fn(Handle, c_int, PollCallback) -> c_int,
  poll_stop: unsafe extern "C" fn(Handle) -> c_int,
  async_init: unsafe extern "C" fn(Loop, Handle, AsyncCallback) -> c_int,
  async_send: unsafe extern "C" fn(Handle) -> c_int,
  timer_init: unsafe extern "C" fn(Loop, Handle) -> c_int,
  timer_start: unsafe extern "C" fn(Handle, TimerCallback, u64, u64) -> c_int,
  timer_stop: unsafe extern "C" fn(Handle) -> c_int,
  close: unsafe extern "C" fn(Handle, CloseCallback),
  ref_: unsafe extern "C" fn(Handle),
  unref: unsafe extern "C" fn(Handle),
}

/// libuv, if this process exports it.
pub fn get() -> Option<&'static Uv> {
  static UV: OnceLock<Option<Uv>> = OnceLock::new();
  UV.get_or_init(|| unsafe { lookup() }).as_ref()
}

unsafe fn symbol<T: Copy>(name: &CStr) -> Option<T> {
  let address = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
  // SAFETY: T is the function pointer type libuv's uv.h declares for `name`.
  (!address.is_null()).then(|| unsafe { std::mem::transmute_copy(&address) })
}

unsafe fn lookup() -> Option<Uv> {
  unsafe {
    Some(Uv {
      handle_size: symbol(c"uv_handle_size")?,
      poll_init: symbol(c"uv_poll_init")?,
      poll_start: symbol(c"uv_poll_start")?,
      poll_stop: symbol(c"uv_poll_stop")?,
      async_init: symbol(c"uv_async_init")?,
      async_send: symbol(c"uv_async_send")?,
      timer_init: symbol(c"uv_timer_init")?,
      timer_start: symbol(c"uv_timer_start")?,
      timer_stop: symbol(c"uv_timer_stop")?,
      close: symbol(c"uv_close")?,
      ref_: symbol(c"uv_ref")?,
      unref: symbol(c"uv_unref")?,
    })
  }
}

impl Uv {
  /// A new handle of `kind`, set up by `init` (libuv's `uv_*_init`); freed by [`Uv::close`].
  fn new_handle(&self, kind: c_int, init: impl FnOnce(Handle) -> c_int) -> Option<Handle> {
    let handle = unsafe { libc::calloc(1, (self.handle_size)(kind)) };
    if handle.is_null() {
      return None;
    }
    if init(handle) != 0 {
      unsafe { libc::free(handle) };
      return None;
    }
    Some(handle)
  }

  /// A poll handle for `fd`, stopped, not keeping the loop alive.
  pub unsafe fn poll(&self, uv_loop: Loop, fd: c_int) -> Option<Handle> {
    let handle = self.new_handle(POLL, |h| unsafe { (self.poll_init)(uv_loop, h, fd) })?;
    unsafe { (self.unref)(handle) };
    Some(handle)
  }

  /// Calls `on_ready` whenever the polled descriptor is readable.
  pub unsafe fn poll_start(&self, poll: Handle, on_ready: PollCallback) -> bool {
    unsafe { self.poll_events(poll, READABLE, on_ready) }
  }

  /// Calls `on_ready` whenever the polled descriptor is ready for any of `events` (`READABLE`,
  /// `WRITABLE`), or stops polling it if `events` is 0.
  pub unsafe fn poll_events(&self, poll: Handle, events: c_int, on_ready: PollCallback) -> bool {
    unsafe {
      if events == 0 {
        (self.poll_stop)(poll) == 0
      } else {
        (self.poll_start)(poll, events, on_ready) == 0
      }
    }
  }

  pub unsafe fn poll_stop(&self, poll: Handle) {
    unsafe { (self.poll_stop)(poll) };
  }

  /// An async handle (which any thread may signal), not keeping the loop alive.
  pub unsafe fn async_handle(&self, uv_loop: Loop, callback: AsyncCallback) -> Option<Handle> {
    let handle = self.new_handle(ASYNC, |h| unsafe {
      (self.async_init)(uv_loop, h, callback)
    })?;
    unsafe { (self.unref)(handle) };
    Some(handle)
  }

  /// Has the async handle's callback run on its loop soon; from any thread.
  pub unsafe fn async_send(&self, handle: Handle) {
    unsafe { (self.async_send)(handle) };
  }

  /// Whether an active `handle` keeps the loop alive.
  pub unsafe fn keep_alive(&self, handle: Handle, keep: bool) {
    unsafe {
      if keep {
        (self.ref_)(handle)
      } else {
        (self.unref)(handle)
      }
    };
  }

  /// A stopped timer.
  pub unsafe fn timer(&self, uv_loop: Loop) -> Option<Handle> {
    self.new_handle(TIMER, |h| unsafe { (self.timer_init)(uv_loop, h) })
  }

  /// Fires `callback` every `period_ms`, keeping the loop alive while it runs.
  pub unsafe fn timer_repeat(&self, timer: Handle, callback: TimerCallback, period_ms: u64) {
    unsafe { (self.timer_start)(timer, callback, period_ms, period_ms) };
  }

  pub unsafe fn timer_stop(&self, timer: Handle) {
    unsafe { (self.timer_stop)(timer) };
  }

  /// Closes the handle (which stops it) and frees it once libuv is done with it.
  pub unsafe fn close(&self, handle: Handle) {
    unsafe { self.close_with(handle, free) };
  }

  /// The same, calling `on_closed` (which must free the handle with [`free`]) instead.
  pub unsafe fn close_with(&self, handle: Handle, on_closed: CloseCallback) {
    unsafe { (self.close)(handle, on_closed) };
  }
}

/// Frees a closed handle (made by [`Uv`]'s constructors).
pub unsafe extern "C" fn free(handle: Handle) {
  unsafe { libc::free(handle) };
}

/// The handle's `data` field, the first of every libuv handle (`UV_HANDLE_FIELDS`).
pub unsafe fn data(handle: Handle) -> *mut c_void {
  unsafe { *handle.cast::<*mut c_void>() }
}

pub unsafe fn set_data(handle: Handle, data: *mut c_void) {
  unsafe { *handle.cast::<*mut c_void>() = data };
}
