//! The one bridge from synchronous Rhai calls to async domain code: every call runs on the
//! session's tokio runtime under the call's time limit (capped by the run's deadline) and
//! stops within 50 ms of Ctrl-C.

use crate::error::{Error, Result};
use crate::kafka::conn::human;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Cancellation shared by the signal handler, the engine's progress callback and the bridge.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
    deadline: Arc<Mutex<Option<Instant>>>,
}

impl Interrupt {
    /// The flag a SIGINT handler sets.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    /// Whether Ctrl-C was pressed since the last [`Interrupt::reset`].
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Requests a stop (as Ctrl-C does).
    pub fn set(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Clears the flag before the next evaluation.
    pub fn reset(&self) {
        self.flag.store(false, Ordering::SeqCst);
    }

    /// Sets the deadline of the whole run.
    pub fn set_deadline(&self, deadline: Option<Instant>) {
        if let Ok(mut d) = self.deadline.lock() {
            *d = deadline;
        }
    }

    /// The deadline of the whole run, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.lock().ok().and_then(|d| *d)
    }

    /// Whether the run's deadline has passed.
    pub fn past_deadline(&self) -> bool {
        self.deadline().is_some_and(|d| Instant::now() >= d)
    }
}

/// Runs async work for synchronous callers.
pub struct Bridge {
    runtime: tokio::runtime::Runtime,
    interrupt: Interrupt,
}

impl Bridge {
    /// A bridge with its own small multi-threaded runtime (ZooKeeper sessions keep pinging
    /// between calls, so the runtime must run in the background).
    pub fn new(interrupt: Interrupt) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kafsh-io")
            .enable_all()
            .build()?;
        Ok(Bridge { runtime, interrupt })
    }

    /// The interrupt this bridge obeys.
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// The runtime's handle (for background tasks such as completion look-ups).
    pub fn handle(&self) -> tokio::runtime::Handle {
        self.runtime.handle().clone()
    }

    /// Runs `work` to completion, or fails after `limit` (capped by the run's deadline), or
    /// when interrupted. `what` names the work in the timeout message.
    pub fn call<T>(
        &self,
        what: &str,
        limit: Duration,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        self.call_explained(what, limit, work, || None)
    }

    /// Like [`Bridge::call`]; when the limit expires, `waiting_for` is asked (before the work
    /// is dropped) what the work was still waiting for, and the timeout message says it.
    pub fn call_explained<T>(
        &self,
        what: &str,
        limit: Duration,
        work: impl Future<Output = Result<T>>,
        waiting_for: impl Fn() -> Option<String>,
    ) -> Result<T> {
        if self.interrupt.is_set() {
            return Err(Error::Refused("interrupted".into()));
        }
        let (limit, by_run) = match self.interrupt.deadline() {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left < limit {
                    (left, true)
                } else {
                    (limit, false)
                }
            }
            None => (limit, false),
        };
        let interrupt = self.interrupt.clone();
        self.runtime.block_on(async move {
            let watch = async {
                loop {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if interrupt.is_set() {
                        return;
                    }
                }
            };
            let mut work = std::pin::pin!(work);
            tokio::select! {
                result = &mut work => result,
                _ = tokio::time::sleep(limit) => {
                    let detail = waiting_for()
                        .map(|w| format!(": still waiting for {w}"))
                        .unwrap_or_default();
                    Err(if by_run {
                        Error::Timeout(format!("{what}: the run's --timeout expired{detail}"))
                    } else {
                        Error::Timeout(format!("{what} timed out after {}{detail}", human(limit)))
                    })
                },
                _ = watch => Err(Error::Refused("interrupted".into())),
            }
        })
    }
}
