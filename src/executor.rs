//! The task queue of a runtime that a JS thread drives (local.rs): tokio keeps the sockets and the
//! timers, the addon's tasks wait here, and whoever drives the runtime runs them from inside
//! `block_on`.
//!
//! Why not tokio's own scheduler: a drive must return to the event loop as soon as nothing is left
//! to do, and tokio's `block_on` looks at its future again only after polling its driver (an
//! `epoll_wait`, timers, a lock). With tokio's scheduler every call paid three such turns: after
//! writing the request, to take in the reply, and once more to learn that nothing else was ready.
//! With the tasks here, the future of `block_on` runs them itself and knows when the queue is
//! empty: a call's first drive needs no turn, nor a reply's when libuv polls its socket
//! (loop_tcp.rs).
//!
//! Tasks are async-task's (smol's executor uses the same), each polled with tokio's cooperative
//! budget off: tokio gives a `block_on` future one budget, which the many tasks run inside it
//! would otherwise share, and a task out of budget is woken at once and would spin.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use async_task::Runnable;

thread_local! {
  /// The executor whose tasks this thread is running now: tasks spawned by a task go to it, and
  /// a task of it woken meanwhile is picked up by the same loop.
  static CURRENT: RefCell<Option<Arc<Executor>>> = const { RefCell::new(None) };
}

#[derive(Default)]
pub struct Executor {
  state: Mutex<State>,
}

#[derive(Default)]
struct State {
  queue: VecDeque<Runnable>,
  /// The waker of the runtime's `block_on` (the same for every `block_on` on it): wakes the
  /// thread that drives the runtime, through the runtime's own unpark (an eventfd, which libuv
  /// watches when the JS thread drives).
  runtime: Option<Waker>,
  /// The runtime is gone: tasks are dropped, not queued.
  closed: bool,
}

impl Executor {
  fn state(&self) -> MutexGuard<'_, State> {
    self.state.lock().unwrap_or_else(|e| e.into_inner())
  }

  /// Queues `future` as a task of its own, and wakes whoever drives the runtime. A panic inside
  /// it ends the task only.
  pub fn spawn<F>(self: &Arc<Self>, future: F)
  where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
  {
    self.task(future).schedule();
  }

  /// The same, for a caller about to run the queue itself: nobody is woken.
  pub fn spawn_unwoken<F>(self: &Arc<Self>, future: F)
  where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
  {
    let runnable = self.task(future);
    self.state().queue.push_back(runnable);
  }

  fn task<F>(self: &Arc<Self>, future: F) -> Runnable
  where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
  {
    let executor = Arc::clone(self);
    let (runnable, task) = async_task::Builder::new().propagate_panic(true).spawn(
      |_| tokio::task::coop::unconstrained(future),
      move |runnable| executor.schedule(runnable),
    );
    task.detach();
    runnable
  }

  fn schedule(&self, runnable: Runnable) {
    let mut state = self.state();
    if state.closed {
      drop(state);
      drop(runnable);
      return;
    }
    state.queue.push_back(runnable);
    if self.running_here() {
      return;
    }
    let waker = state.runtime.clone();
    drop(state);
    if let Some(waker) = waker {
      waker.wake();
    }
  }

  fn running_here(&self) -> bool {
    CURRENT.with_borrow(|current| current.as_deref().is_some_and(|e| std::ptr::eq(e, self)))
  }

  /// Runs queued tasks, at most `budget`; whether some are still queued.
  fn run_queued(self: &Arc<Self>, budget: usize) -> bool {
    let previous = CURRENT.replace(Some(Arc::clone(self)));
    let mut left = budget;
    let more = loop {
      let next = self.state().queue.pop_front();
      let Some(runnable) = next else {
        break false;
      };
      runnable.run();
      left -= 1;
      if left == 0 {
        break !self.state().queue.is_empty();
      }
    };
    CURRENT.set(previous);
    more
  }

  /// Wakes `wakers` as if from a task of this executor: their tasks are queued, nobody is woken
  /// (the caller runs the queue next).
  pub fn wake_here(self: &Arc<Self>, wakers: impl IntoIterator<Item = Waker>) {
    let previous = CURRENT.replace(Some(Arc::clone(self)));
    wakers.into_iter().for_each(Waker::wake);
    CURRENT.set(previous);
  }

  fn remember_runtime(&self, waker: &Waker) {
    let mut state = self.state();
    if !state.runtime.as_ref().is_some_and(|w| w.will_wake(waker)) {
      state.runtime = Some(waker.clone());
    }
  }

  /// After the runtime is shut down: drops every task still queued or woken from now on. (Tasks
  /// waiting on a socket or a timer were woken by the runtime's shutdown.)
  pub fn close(&self) {
    let queued = {
      let mut state = self.state();
      state.closed = true;
      state.runtime = None;
      std::mem::take(&mut state.queue)
    };
    // Dropped outside the lock: dropping a task may wake another.
    drop(queued);
  }

  /// Runs the tasks until none is ready; `turn` first polls the runtime's driver once (sockets
  /// ready, timers due).
  pub fn run_until_idle(
    self: &Arc<Self>,
    mut turn: bool,
  ) -> Run<'_, impl FnMut(&mut Context<'_>, bool) -> bool> {
    self.run_until(move |cx, more| {
      let turn_now = std::mem::take(&mut turn);
      if more {
        // Already woken: the driver is polled before the next round.
        return false;
      }
      if turn_now {
        // Woken at once: the runtime polls its driver without waiting, then this again.
        cx.waker().wake_by_ref();
        return false;
      }
      true
    })
  }

  /// Runs the tasks until `stop` says so, waiting on the driver in between. `stop` is asked after
  /// each round, with whether tasks are still queued (the round's budget ran out).
  pub fn run_until<S: FnMut(&mut Context<'_>, bool) -> bool>(
    self: &Arc<Self>,
    stop: S,
  ) -> Run<'_, S> {
    Run {
      executor: self,
      stop,
    }
  }
}

/// Spawns `future` on the executor whose task is running on this thread, else on the current
/// tokio runtime (calls run on a runtime thread where the JS thread cannot drive one).
pub fn spawn<F>(future: F)
where
  F: Future + Send + 'static,
  F::Output: Send + 'static,
{
  match CURRENT.with_borrow(Clone::clone) {
    Some(executor) => executor.spawn(future),
    None => {
      tokio::spawn(future);
    }
  }
}

/// Tasks run between two looks at the driver: tokio's own interval.
const BUDGET: usize = 61;

pub struct Run<'a, S> {
  executor: &'a Arc<Executor>,
  stop: S,
}

impl<S: FnMut(&mut Context<'_>, bool) -> bool + Unpin> Future for Run<'_, S> {
  type Output = ();

  fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
    self.executor.remember_runtime(cx.waker());
    let more = self.executor.run_queued(BUDGET);
    if more {
      // The rest after the runtime has polled its driver, without waiting.
      cx.waker().wake_by_ref();
    }
    if (self.stop)(cx, more) {
      return Poll::Ready(());
    }
    Poll::Pending
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::atomic::{AtomicUsize, Ordering};

  fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
      .enable_all()
      .build()
      .unwrap()
  }

  #[test]
  fn a_drive_runs_tasks_and_the_tasks_they_spawn_until_none_is_ready() {
    let runtime = runtime();
    let executor = Arc::new(Executor::default());
    let count = Arc::new(AtomicUsize::new(0));
    let inner = Arc::clone(&count);
    executor.spawn_unwoken(async move {
      inner.fetch_add(1, Ordering::SeqCst);
      let again = Arc::clone(&inner);
      spawn(async move {
        again.fetch_add(1, Ordering::SeqCst);
      });
    });
    runtime.block_on(executor.run_until_idle(false));
    assert_eq!(count.load(Ordering::SeqCst), 2);
  }

  #[test]
  fn a_task_woken_from_another_thread_runs_on_the_next_drive() {
    let runtime = runtime();
    let executor = Arc::new(Executor::default());
    let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
    let got = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&got);
    executor.spawn_unwoken(async move {
      seen.store(rx.await.unwrap() as usize, Ordering::SeqCst);
    });
    runtime.block_on(executor.run_until_idle(false));
    assert_eq!(got.load(Ordering::SeqCst), 0, "waiting for the value");
    std::thread::spawn(move || tx.send(7).unwrap())
      .join()
      .unwrap();
    runtime.block_on(executor.run_until_idle(true));
    assert_eq!(got.load(Ordering::SeqCst), 7);
  }

  #[test]
  fn a_timer_fires_on_a_drive_that_turns_the_driver() {
    let runtime = runtime();
    let executor = Arc::new(Executor::default());
    let done = Arc::new(AtomicUsize::new(0));
    let flag = Arc::clone(&done);
    executor.spawn_unwoken(async move {
      tokio::time::sleep(std::time::Duration::from_millis(1)).await;
      flag.store(1, Ordering::SeqCst);
    });
    runtime.block_on(executor.run_until_idle(false));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while done.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
      runtime.block_on(executor.run_until_idle(true));
    }
    assert_eq!(done.load(Ordering::SeqCst), 1);
  }

  #[test]
  fn a_panic_ends_its_own_task_only() {
    let runtime = runtime();
    let executor = Arc::new(Executor::default());
    let count = Arc::new(AtomicUsize::new(0));
    executor.spawn_unwoken(async { panic!("deliberate") });
    let inner = Arc::clone(&count);
    executor.spawn_unwoken(async move {
      inner.fetch_add(1, Ordering::SeqCst);
    });
    runtime.block_on(executor.run_until_idle(false));
    assert_eq!(count.load(Ordering::SeqCst), 1);
  }

  #[test]
  fn closing_drops_the_tasks_queued_and_those_woken_later() {
    struct Dropped(Arc<AtomicUsize>);
    impl Drop for Dropped {
      fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
      }
    }
    let runtime = runtime();
    let executor = Arc::new(Executor::default());
    let dropped = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let guard = Dropped(Arc::clone(&dropped));
    executor.spawn_unwoken(async move {
      let _guard = guard;
      let _ = rx.await;
    });
    runtime.block_on(executor.run_until_idle(false));
    let queued = Dropped(Arc::clone(&dropped));
    executor.spawn_unwoken(async move {
      let _guard = queued;
    });
    executor.close();
    assert_eq!(dropped.load(Ordering::SeqCst), 1, "the queued task");
    drop(tx);
    assert_eq!(dropped.load(Ordering::SeqCst), 2, "the task woken after");
  }
}
