//! The device side of a pseudo-terminal pair: what the virtual register and the fault proxy
//! answer on, while a host opens the other side like a serial port. Exercised through a real
//! pair by tests/it/driver/pty.rs, tests/it/emulator/pty.rs and tests/faults/proxy.rs.
//!
//! Pseudo-terminals are a Unix facility. On Windows [`RawPty::open`] fails with
//! [`std::io::ErrorKind::Unsupported`] and [`NOT_AVAILABLE`]: a TCP server, or a virtual COM
//! pair (com0com), does the same job there.

/// Whether this system has pseudo-terminals (`kkt emulator --pty`, `kkt-faultproxy --pty`).
pub const AVAILABLE: bool = cfg!(unix);

/// What a pseudo-terminal option answers where there is none (with exit code 2).
pub const NOT_AVAILABLE: &str = "not available on Windows: use --listen (TCP) or a virtual COM pair such as com0com";

/// The error [`RawPty::open`] gives where pseudo-terminals do not exist.
pub fn not_available() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::Unsupported, NOT_AVAILABLE)
}

#[cfg(unix)]
pub use unix::RawPty;

#[cfg(unix)]
mod unix {
    use nix::fcntl::OFlag;
    use nix::sys::termios;

    /// A pseudo-terminal pair in raw mode at 115200 baud: the master (the device's side) and the
    /// terminal's path for the host. The slave side stays open here so that reading the master does
    /// not fail with EIO while no host has the port open.
    pub struct RawPty {
        /// The device's side.
        pub master: nix::pty::PtyMaster,
        _slave: std::fs::File,
        path: String,
    }

    impl std::fmt::Debug for RawPty {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("RawPty").field("path", &self.path).finish()
        }
    }

    impl RawPty {
        /// Opens a new pair (nix's safe `posix_openpt`; no unsafe here).
        pub fn open() -> std::io::Result<RawPty> {
            let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY)?;
            nix::pty::grantpt(&master)?;
            nix::pty::unlockpt(&master)?;
            let path = nix::pty::ptsname_r(&master)?;
            let slave = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
            let mut t = termios::tcgetattr(&slave)?;
            termios::cfmakeraw(&mut t);
            termios::cfsetspeed(&mut t, termios::BaudRate::B115200)?;
            termios::tcsetattr(&slave, termios::SetArg::TCSANOW, &t)?;
            Ok(RawPty { master, _slave: slave, path })
        }

        /// The terminal's path for the host (e.g. /dev/pts/5).
        pub fn path(&self) -> &str {
            &self.path
        }
    }
}

/// No pseudo-terminal on this system: the type has no value, [`RawPty::open`] always fails
/// with [`NOT_AVAILABLE`].
#[cfg(not(unix))]
#[derive(Debug)]
pub enum RawPty {}

#[cfg(not(unix))]
impl RawPty {
    /// Fails: this system has no pseudo-terminals ([`NOT_AVAILABLE`]).
    pub fn open() -> std::io::Result<RawPty> {
        Err(not_available())
    }

    /// Never called (there is no value).
    pub fn path(&self) -> &str {
        match *self {}
    }
}

/// On Windows the pseudo-terminal options are refused with the text the CLI prints.
#[cfg(all(test, not(unix)))]
mod tests {
    use super::*;

    #[test]
    fn says_why_not() {
        let e = RawPty::open().unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::Unsupported);
        assert_eq!(e.to_string(), NOT_AVAILABLE);
    }
}
