//! The TCP socket under every connection, plain or TLS: polled by libuv itself while the JS
//! thread drives the runtime (local.rs), by tokio otherwise.
//!
//! Why: with tokio's readiness, libuv watches tokio's epoll instance, which watches the socket.
//! Every reply then took two epoll waits (libuv's, then tokio's driver turn to learn which socket
//! was ready), and its readiness went through both epoll instances. Polled by libuv, the socket
//! is the event itself, and libuv's callback wakes the task that reads it (bench/ figures in
//! BENCHMARKS.md).
//!
//! libuv may be used only on its own thread, so the socket moves between the two pollers: to
//! libuv when a JS thread's drive first polls it, back to tokio when the runtime goes to the
//! helper thread (local.rs detaches every socket then). Each move wakes the socket's task, which
//! then polls it again, now on the other poller.

use std::ffi::c_int;
use std::io;
use std::net::TcpStream as StdTcp;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread::ThreadId;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::local;
use crate::uv;

pub struct LoopTcp {
  state: State,
}

enum State {
  Tokio(TcpStream),
  Loop {
    tcp: StdTcp,
    watch: Arc<Watch>,
  },
  /// A move between the pollers failed: the socket is closed.
  Lost,
}

impl LoopTcp {
  pub fn new(tcp: TcpStream) -> Self {
    Self {
      state: State::Tokio(tcp),
    }
  }

  /// Moves the socket to the poller of the thread polling it now, if it is not there already.
  fn follow_driver(&mut self, cx: &Context<'_>) -> io::Result<()> {
    let moves = match &self.state {
      State::Tokio(_) => local::drives_here(),
      State::Loop { watch, .. } => !watch.is_attached(),
      State::Lost => {
        return Err(io::Error::other(
          "the socket was lost moving between pollers",
        ))
      }
    };
    if !moves {
      return Ok(());
    }
    self.state = match std::mem::replace(&mut self.state, State::Lost) {
      State::Tokio(tcp) => {
        let tcp = tcp.into_std()?;
        match local::watch(tcp.as_raw_fd()) {
          Some(watch) => State::Loop { tcp, watch },
          None => State::Tokio(TcpStream::from_std(tcp)?),
        }
      }
      State::Loop { tcp, watch } => {
        drop(watch);
        State::Tokio(TcpStream::from_std(tcp)?)
      }
      State::Lost => State::Lost,
    };
    // The task may wait on the other direction with the poller it left: it polls both again.
    cx.waker().wake_by_ref();
    Ok(())
  }
}

impl Drop for LoopTcp {
  fn drop(&mut self) {
    if let State::Loop { tcp, watch } = std::mem::replace(&mut self.state, State::Lost) {
      if watch.is_attached() && !watch.owned_here() {
        // Not expected: an attached socket is only ever used on its JS thread (local.rs detaches
        // them all before another thread runs the tasks). Its descriptor stays open rather than
        // be reused while libuv still polls it.
        std::mem::forget(tcp);
        return;
      }
      // Detached already (the helper may drop it), or detached here, on its JS thread: libuv
      // stops polling before the descriptor closes.
      drop(watch.detach());
      drop(tcp);
    }
  }
}

impl AsyncRead for LoopTcp {
  fn poll_read(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
  ) -> Poll<io::Result<()>> {
    self.follow_driver(cx)?;
    match &mut self.state {
      State::Tokio(tcp) => Pin::new(tcp).poll_read(cx, buf),
      State::Loop { tcp, watch } => watch.poll_io(cx, Direction::Read, || {
        let unfilled = unsafe { buf.unfilled_mut() };
        let wanted = unfilled.len();
        let n = unsafe { libc::recv(tcp.as_raw_fd(), unfilled.as_mut_ptr().cast(), wanted, 0) };
        let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        // SAFETY: recv wrote the first n bytes.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        // A short read drained the socket (epoll says so, as tokio assumes too): the next read
        // waits for libuv instead of trying.
        Ok(((), n > 0 && n < wanted))
      }),
      State::Lost => unreachable!("follow_driver returned an error"),
    }
  }
}

impl AsyncWrite for LoopTcp {
  fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
    self.poll_write_vectored(cx, &[io::IoSlice::new(buf)])
  }

  fn poll_write_vectored(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
    bufs: &[io::IoSlice<'_>],
  ) -> Poll<io::Result<usize>> {
    self.follow_driver(cx)?;
    match &mut self.state {
      State::Tokio(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
      State::Loop { tcp, watch } => watch.poll_io(cx, Direction::Write, || {
        let n = send(tcp.as_raw_fd(), bufs)?;
        let wanted: usize = bufs.iter().map(|b| b.len()).sum();
        Ok((n, n < wanted))
      }),
      State::Lost => unreachable!("follow_driver returned an error"),
    }
  }

  fn is_write_vectored(&self) -> bool {
    true
  }

  fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    Poll::Ready(Ok(()))
  }

  fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    match &mut self.state {
      State::Tokio(tcp) => Pin::new(tcp).poll_shutdown(cx),
      State::Loop { tcp, .. } => Poll::Ready(tcp.shutdown(std::net::Shutdown::Write)),
      State::Lost => Poll::Ready(Ok(())),
    }
  }
}

/// `sendmsg` of all of `bufs`, without SIGPIPE if the peer has gone.
fn send(fd: RawFd, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
  // SAFETY: msghdr is plain data; all-zero is a valid empty one.
  let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
  // IoSlice is ABI-compatible with iovec on Unix.
  message.msg_iov = bufs.as_ptr() as *mut libc::iovec;
  message.msg_iovlen = bufs.len() as _;
  let n = unsafe { libc::sendmsg(fd, &message, libc::MSG_NOSIGNAL) };
  usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// What libuv polls for while a read waits: data, or the peer's end of the stream (`EPOLLRDHUP`,
/// which libuv reports apart from data).
const READ: c_int = uv::READABLE | uv::DISCONNECT;

#[derive(Clone, Copy)]
enum Direction {
  Read,
  Write,
}

/// A socket as libuv polls it. Shared by the socket, its poll handle (as the handle's `data`) and
/// the driver, which detaches it when the runtime leaves the JS thread.
pub struct Watch {
  uv: &'static uv::Uv,
  /// The JS thread whose loop polls it.
  owner: ThreadId,
  state: Mutex<WatchState>,
}

struct WatchState {
  /// `None` once detached: the handle is closed.
  handle: Option<PollHandle>,
  /// What libuv polls for now.
  events: c_int,
  /// Not known to be drained (full): the next read (write) tries the socket.
  readable: bool,
  writable: bool,
  /// The peer has shut its side: reads never wait again (they find the end).
  read_closed: bool,
  reader: Option<Waker>,
  writer: Option<Waker>,
}

struct PollHandle(uv::Handle);
// SAFETY: the handle is only used on the owner thread (`Watch::owned_here`); elsewhere it is
// only carried along.
unsafe impl Send for PollHandle {}

impl Watch {
  /// Starts polling `handle` (a poll handle of the current JS thread's loop) for reads.
  pub fn start(uv: &'static uv::Uv, handle: uv::Handle) -> Option<Arc<Self>> {
    let watch = Arc::new(Self {
      uv,
      owner: std::thread::current().id(),
      state: Mutex::new(WatchState {
        handle: Some(PollHandle(handle)),
        events: READ,
        readable: true,
        writable: true,
        read_closed: false,
        reader: None,
        writer: None,
      }),
    });
    unsafe {
      // The handle's reference, given back by `on_closed`.
      uv::set_data(handle, Arc::into_raw(Arc::clone(&watch)).cast_mut().cast());
      if !uv.poll_events(handle, READ, on_ready) {
        watch.lock().handle = None;
        uv.close_with(handle, on_closed);
        return None;
      }
    }
    Some(watch)
  }

  fn lock(&self) -> MutexGuard<'_, WatchState> {
    self.state.lock().unwrap_or_else(|e| e.into_inner())
  }

  fn owned_here(&self) -> bool {
    std::thread::current().id() == self.owner
  }

  fn is_attached(&self) -> bool {
    self.lock().handle.is_some()
  }

  /// Stops polling and closes the handle; the wakers of the tasks that waited, to wake so that
  /// they go on with tokio. Only on the owner thread (or once detached, where it does nothing).
  pub fn detach(&self) -> [Option<Waker>; 2] {
    let mut state = self.lock();
    if let Some(PollHandle(handle)) = state.handle.take() {
      unsafe { self.uv.close_with(handle, on_closed) };
    }
    state.readable = true;
    state.writable = true;
    [state.reader.take(), state.writer.take()]
  }

  /// Tries `io` unless the socket is known not ready; on `WouldBlock` (or not ready) waits for
  /// libuv. `io` returns its value and whether it found the socket drained (full).
  fn poll_io<T>(
    &self,
    cx: &Context<'_>,
    direction: Direction,
    mut io: impl FnMut() -> io::Result<(T, bool)>,
  ) -> Poll<io::Result<T>> {
    loop {
      {
        let mut state = self.lock();
        let state = &mut *state;
        let (ready, waiter, event) = match direction {
          Direction::Read => (&mut state.readable, &mut state.reader, READ),
          Direction::Write => (&mut state.writable, &mut state.writer, uv::WRITABLE),
        };
        if !*ready {
          if !waiter.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waiter = Some(cx.waker().clone());
          }
          let events = state.events | event;
          if events != state.events && !self.set_events(state, events) {
            return Poll::Ready(Err(io::Error::other("libuv could not poll the socket")));
          }
          return Poll::Pending;
        }
      }
      match io() {
        Ok((value, drained)) => {
          if drained {
            self.set_ready(direction, false);
          }
          return Poll::Ready(Ok(value));
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.set_ready(direction, false),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
        Err(e) => return Poll::Ready(Err(e)),
      }
    }
  }

  fn set_ready(&self, direction: Direction, ready: bool) {
    let mut state = self.lock();
    match direction {
      Direction::Read => state.readable = ready || state.read_closed,
      Direction::Write => state.writable = ready,
    }
  }

  /// Has libuv poll for `events`; false if it cannot.
  fn set_events(&self, state: &mut WatchState, events: c_int) -> bool {
    let Some(PollHandle(handle)) = state.handle else {
      return false;
    };
    debug_assert!(self.owned_here());
    let set = unsafe { self.uv.poll_events(handle, events, on_ready) };
    if set {
      state.events = events;
    }
    set
  }

  /// libuv's event: the wakers to wake.
  fn ready(&self, status: c_int, events: c_int) -> [Option<Waker>; 2] {
    let mut state = self.lock();
    let state = &mut *state;
    let failed = status < 0;
    let mut wake = [None, None];
    let mut keep = state.events;
    if events & uv::DISCONNECT != 0 {
      // Sticky, as tokio's: the short read that took the last data must not hide the end, or
      // the connection would go back to the pool as if still open.
      state.read_closed = true;
    }
    if failed || events & READ != 0 {
      state.readable = true;
      wake[0] = state.reader.take();
      if wake[0].is_none() {
        // Readable with nobody reading (data or an end unasked for): level-triggered, libuv would
        // call again on every turn. The flag keeps it for the next read.
        keep &= !READ;
      }
    }
    if failed || events & uv::WRITABLE != 0 {
      state.writable = true;
      wake[1] = state.writer.take();
      // A socket is writable nearly always: polled for only while a write waits.
      keep &= !uv::WRITABLE;
    }
    if failed {
      keep = 0;
    }
    if keep != state.events && !self.set_events(state, keep) {
      // Not polled at all rather than called again on every turn (uv_poll_stop cannot fail); the
      // flags set above have the next read and write try the socket.
      self.set_events(state, 0);
    }
    wake
  }
}

unsafe extern "C" fn on_ready(handle: uv::Handle, status: c_int, events: c_int) {
  // SAFETY: `data` holds the handle's reference to its watch until `on_closed`.
  let watch = unsafe { &*uv::data(handle).cast::<Watch>() };
  // A panic must not unwind into libuv (local::socket_ready guards the drive itself).
  if let Ok(wakers) = std::panic::catch_unwind(|| watch.ready(status, events)) {
    local::socket_ready(wakers);
  }
}

unsafe extern "C" fn on_closed(handle: uv::Handle) {
  unsafe {
    let data = uv::data(handle).cast::<Watch>();
    if !data.is_null() {
      drop(Arc::from_raw(data));
    }
    uv::free(handle);
  }
}
