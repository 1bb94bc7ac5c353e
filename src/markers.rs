//! Points on a call's path on the JS thread, for `bench/timeline.js`: built with the
//! `bench-markers` feature, each point makes a system call of its own that does nothing (`getuid`
//! and the like), so that a trace of system calls shows when the thread passed it, between the
//! calls that do the work. Without the feature, `mark` is empty.

/// The points, each named by the system call that marks it (x86-64 Linux numbers, which the
/// script names back).
#[derive(Clone, Copy)]
pub enum Point {
  /// `Client::call` entered, its arguments converted.
  CallEntered,
  /// The params read and checked, the request built.
  RequestBuilt,
  /// The promise made; the call's task about to run.
  TaskStarting,
  /// The request handed to the connection.
  RequestHandedOver,
  /// The call's drive ended (the request written).
  CallDriven,
  /// A loop callback entered (a socket ready, the tick).
  LoopCallback,
  /// The loop callback's drive ended, the finished calls taken.
  ReplyDriven,
  /// The finished calls settled; their promise reactions run next.
  Settled,
  /// The callback scope closed: the reactions (and the next calls they made) ran.
  ReactionsRan,
}

#[inline(always)]
pub fn mark(point: Point) {
  #[cfg(all(feature = "bench-markers", target_os = "linux"))]
  {
    let number = match point {
      Point::CallEntered => libc::SYS_getuid,
      Point::RequestBuilt => libc::SYS_getgid,
      Point::TaskStarting => libc::SYS_geteuid,
      Point::RequestHandedOver => libc::SYS_getegid,
      Point::CallDriven => libc::SYS_getppid,
      Point::LoopCallback => libc::SYS_getpgrp,
      Point::ReplyDriven => libc::SYS_getsid,
      Point::Settled => libc::SYS_sched_getscheduler,
      Point::ReactionsRan => libc::SYS_sched_get_priority_max,
    };
    unsafe { libc::syscall(number, 0) };
  }
  #[cfg(not(all(feature = "bench-markers", target_os = "linux")))]
  let _ = point;
}
