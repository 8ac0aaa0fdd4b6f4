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

/// A state directory (`KKT_STATE_DIR`: where kkt remembers the journals it has used) of its
/// own for this run of the tests: tests whose HOME is the shared temp directory must not find
/// journal paths an earlier run remembered (a path in a removed directory would be refused as
/// a vanished journal).
pub fn state_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        std::env::temp_dir().join(format!("kkt-test-state-{}-{nanos}", std::process::id()))
    })
}
