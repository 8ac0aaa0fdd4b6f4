//! Writing to stdout and stderr without ever panicking: `print!`, `println!`, `eprint!` and
//! `eprintln!` of the binary are these (main.rs shadows the standard macros).
//!
//! A closed or full stdout (`kkt demo | head`, `kkt --json receipt sale.json | true`, a full
//! disk) makes the standard macros panic (exit 101), possibly after a receipt was formed, and a
//! POS that then retries a receipt without an id forms it twice. Here a failed write is
//! remembered and every later write to that stream is skipped: the command goes on (the fiscal
//! exchange in flight is finished, the journal settled) and exits with its documented code.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

/// Writes to stdout (with a newline after when `newline`); nothing once stdout failed.
pub fn stdout(args: std::fmt::Arguments<'_>, newline: bool) {
    write(&STDOUT_GONE, &mut std::io::stdout().lock(), args, newline);
}

/// Writes to stderr (with a newline after when `newline`); nothing once stderr failed.
pub fn stderr(args: std::fmt::Arguments<'_>, newline: bool) {
    write(&STDERR_GONE, &mut std::io::stderr().lock(), args, newline);
}

/// Whether stdout has failed (closed or full) during this run.
#[allow(dead_code)]
pub fn stdout_gone() -> bool {
    STDOUT_GONE.load(Ordering::Relaxed)
}

fn write(gone: &AtomicBool, w: &mut impl Write, args: std::fmt::Arguments<'_>, newline: bool) {
    if gone.load(Ordering::Relaxed) {
        return;
    }
    let r = w.write_fmt(args).and_then(|()| if newline { w.write_all(b"\n") } else { Ok(()) });
    if r.is_err() {
        gone.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails as a closed pipe does.
    struct Closed(usize);

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            self.0 += 1;
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_stream_is_written_once_then_left_alone() {
        let gone = AtomicBool::new(false);
        let mut w = Closed(0);
        write(&gone, &mut w, format_args!("receipt {}", 1), true);
        assert!(gone.load(Ordering::Relaxed));
        write(&gone, &mut w, format_args!("more"), true);
        assert_eq!(w.0, 1, "no write after the first failure");
        let mut ok = Vec::new();
        write(&AtomicBool::new(false), &mut ok, format_args!("a{}", 1), true);
        assert_eq!(ok, b"a1\n");
    }
}
