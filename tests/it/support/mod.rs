//! What the integration tests share: mock servers (ГИС МТ, the ТС ПИОТ, the Local Module), the emulator as a process, the HTTP service,
//! receipts for the fault and journal tests.

pub mod emulator;
pub mod fault;
pub mod gismt;
pub mod http;
pub mod tspiot;

#[cfg(unix)]
use std::sync::{Mutex, MutexGuard};

/// Tests that use a pseudo-terminal pair run one at a time (they share the process's
/// controlling-terminal state and the kernel's pty numbering). Unix only, as the pty tests are.
#[cfg(unix)]
pub fn pty_lock() -> MutexGuard<'static, ()> {
    static PTY: Mutex<()> = Mutex::new(());
    PTY.lock().unwrap_or_else(|e| e.into_inner())
}
