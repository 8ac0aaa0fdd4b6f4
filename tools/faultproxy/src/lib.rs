//! A fault-injecting proxy between a host and a register: corrupts, drops, duplicates and
//! delays bytes at configurable rates, in either or both directions. The host side is a TCP
//! listener or a new pseudo-terminal (which the host opens like a serial port); the register
//! side is `tcp://HOST:PORT` or a serial line. The pseudo-terminal is Unix only: on Windows
//! [`PtySide::open`] fails with [`kkt::transport::pty::NOT_AVAILABLE`]. `kkt-faultproxy` is the command; kkt's fault
//! tests use this library in process (a dev-dependency).
//!
//! [`Mangler`] is the sans-IO core: bytes in, pieces (bytes, pauses) out, from a seeded
//! generator, so a run can be repeated exactly. [`Stats`] counts what was injected.
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use kkt::transport::DeviceUri;

/// Fault rates, each a probability per byte (0 to 1).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Rates {
    /// A byte is replaced by another.
    pub corrupt: f64,
    /// A byte is left out.
    pub drop: f64,
    /// A byte is sent twice.
    pub duplicate: f64,
    /// The stream pauses before a byte.
    pub delay: f64,
    /// How long a pause lasts.
    pub delay_ms: u64,
}

impl Rates {
    /// Checks that each rate is a probability.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in
            [("corrupt", self.corrupt), ("drop", self.drop), ("duplicate", self.duplicate), ("delay", self.delay)]
        {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("--{name} {v}: a rate per byte between 0 and 1 (0.01 = 1%) expected"));
            }
        }
        Ok(())
    }
}

/// Which direction the faults apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Both.
    #[default]
    Both,
    /// Host to register (requests) only.
    ToDevice,
    /// Register to host (responses) only.
    ToHost,
}

/// What was injected.
#[derive(Debug, Default)]
pub struct Stats {
    bytes: AtomicU64,
    corrupted: AtomicU64,
    dropped: AtomicU64,
    duplicated: AtomicU64,
    delayed: AtomicU64,
    connections: AtomicU64,
}

/// A copy of [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StatsSnapshot {
    /// Bytes that went through the fault injector.
    pub bytes: u64,
    /// Bytes replaced.
    pub corrupted: u64,
    /// Bytes left out.
    pub dropped: u64,
    /// Bytes sent twice.
    pub duplicated: u64,
    /// Pauses.
    pub delayed: u64,
    /// Host connections served.
    pub connections: u64,
}

impl StatsSnapshot {
    /// Every fault injected.
    pub fn faults(&self) -> u64 {
        self.corrupted + self.dropped + self.duplicated + self.delayed
    }
}

impl std::fmt::Display for StatsSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bytes, {} faults: {} corrupted, {} dropped, {} duplicated, {} delayed; {} connections",
            self.bytes,
            self.faults(),
            self.corrupted,
            self.dropped,
            self.duplicated,
            self.delayed,
            self.connections
        )
    }
}

impl Stats {
    /// The counts now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            bytes: g(&self.bytes),
            corrupted: g(&self.corrupted),
            dropped: g(&self.dropped),
            duplicated: g(&self.duplicated),
            delayed: g(&self.delayed),
            connections: g(&self.connections),
        }
    }
}

/// A small deterministic generator (splitmix64).
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next_u64() >> 11) as f64) < p * (1u64 << 53) as f64
    }
}

/// A piece of the mangled stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes to send.
    Bytes(Vec<u8>),
    /// Wait before the rest.
    Pause(Duration),
}

/// The fault injector of one direction (sans-IO).
#[derive(Debug)]
pub struct Mangler {
    rates: Rates,
    rng: SplitMix,
    stats: Arc<Stats>,
}

impl Mangler {
    /// An injector with `rates`, generator `seed`, counting into `stats`.
    pub fn new(rates: Rates, seed: u64, stats: Arc<Stats>) -> Self {
        Self { rates, rng: SplitMix::new(seed), stats }
    }

    /// The pieces to send for `input`.
    pub fn mangle(&mut self, input: &[u8]) -> Vec<Piece> {
        let mut out = Vec::new();
        let mut cur = Vec::with_capacity(input.len() + 4);
        let r = self.rates;
        for &b in input {
            self.stats.bytes.fetch_add(1, Ordering::Relaxed);
            if self.rng.chance(r.delay) {
                self.stats.delayed.fetch_add(1, Ordering::Relaxed);
                if !cur.is_empty() {
                    out.push(Piece::Bytes(std::mem::take(&mut cur)));
                }
                out.push(Piece::Pause(Duration::from_millis(r.delay_ms)));
            }
            if self.rng.chance(r.drop) {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let mut b = b;
            if self.rng.chance(r.corrupt) {
                self.stats.corrupted.fetch_add(1, Ordering::Relaxed);
                b ^= (self.rng.next_u64() % 255 + 1) as u8;
            }
            cur.push(b);
            if self.rng.chance(r.duplicate) {
                self.stats.duplicated.fetch_add(1, Ordering::Relaxed);
                cur.push(b);
            }
        }
        if !cur.is_empty() {
            out.push(Piece::Bytes(cur));
        }
        out
    }
}

/// The proxy's settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Config {
    /// The rates.
    pub rates: Rates,
    /// Which direction.
    pub direction: Direction,
    /// The generator seed (each connection and direction derives its own).
    pub seed: u64,
}

/// One side of the proxy.
enum Conn {
    Tcp(TcpStream),
    /// The pseudo-terminal's master (Unix only).
    #[cfg(unix)]
    File(std::fs::File),
    Serial(Box<dyn serialport::SerialPort>),
}

/// How long a read waits before the stop flags are looked at again.
const POLL: Duration = Duration::from_millis(50);

impl Conn {
    fn try_clone(&self) -> std::io::Result<Conn> {
        Ok(match self {
            Conn::Tcp(s) => Conn::Tcp(s.try_clone()?),
            #[cfg(unix)]
            Conn::File(f) => Conn::File(f.try_clone()?),
            Conn::Serial(p) => Conn::Serial(p.try_clone().map_err(std::io::Error::other)?),
        })
    }

    /// Reads what arrives within [`POLL`]: `None` if nothing, `Some(0)` at the end.
    fn read_some(&mut self, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
        use std::io::ErrorKind::{Interrupted, TimedOut, WouldBlock};
        let r = match self {
            Conn::Tcp(s) => {
                s.set_read_timeout(Some(POLL))?;
                s.read(buf)
            }
            #[cfg(unix)]
            Conn::File(f) => {
                use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
                use std::os::fd::AsFd;
                let ready = {
                    let mut fds = [PollFd::new(f.as_fd(), PollFlags::POLLIN)];
                    poll(&mut fds, PollTimeout::from(POLL.as_millis() as u16))?
                };
                if ready == 0 {
                    return Ok(None);
                }
                f.read(buf)
            }
            Conn::Serial(p) => p.read(buf),
        };
        match r {
            Ok(n) => Ok(Some(n)),
            Err(e) if matches!(e.kind(), TimedOut | WouldBlock | Interrupted) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Tcp(s) => s.write_all(b).and_then(|_| s.flush()),
            #[cfg(unix)]
            Conn::File(f) => f.write_all(b).and_then(|_| f.flush()),
            Conn::Serial(p) => p.write_all(b).and_then(|_| p.flush()),
        }
    }

    fn shutdown(&self) {
        if let Conn::Tcp(s) = self {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// Copies `from` to `to` through `mangler` until either ends, `alive` is cleared or `stop` set.
/// Delayed bytes whose connection ended meanwhile are not sent.
fn pump(mut from: Conn, mut to: Conn, mut mangler: Option<Mangler>, alive: &AtomicBool, stop: &AtomicBool) {
    let mut buf = [0u8; 4096];
    'outer: while alive.load(Ordering::SeqCst) && !stop.load(Ordering::Relaxed) {
        let n = match from.read_some(&mut buf) {
            Ok(None) => continue,
            Ok(Some(0)) | Err(_) => break,
            Ok(Some(n)) => n,
        };
        let pieces = match mangler.as_mut() {
            Some(m) => m.mangle(&buf[..n]),
            None => vec![Piece::Bytes(buf[..n].to_vec())],
        };
        for p in pieces {
            match p {
                Piece::Pause(d) => std::thread::sleep(d),
                Piece::Bytes(b) => {
                    if !alive.load(Ordering::SeqCst) || to.write_all(&b).is_err() {
                        break 'outer;
                    }
                }
            }
        }
    }
    alive.store(false, Ordering::SeqCst);
    from.shutdown();
    to.shutdown();
}

fn manglers(cfg: &Config, stats: &Arc<Stats>, n: u64) -> (Option<Mangler>, Option<Mangler>) {
    let seed = cfg.seed.wrapping_add(n.wrapping_mul(0x1000_0001));
    let to_device = (cfg.direction != Direction::ToHost).then(|| Mangler::new(cfg.rates, seed, stats.clone()));
    let to_host =
        (cfg.direction != Direction::ToDevice).then(|| Mangler::new(cfg.rates, seed ^ 0x5555_5555, stats.clone()));
    (to_device, to_host)
}

/// Connects to the register side.
fn connect_upstream(upstream: &DeviceUri) -> std::io::Result<Conn> {
    match upstream {
        DeviceUri::Tcp { host, port, .. } => {
            let s = TcpStream::connect((host.as_str(), *port))?;
            let _ = s.set_nodelay(true);
            Ok(Conn::Tcp(s))
        }
        DeviceUri::Serial { path, config } => {
            let p = config.builder(path).timeout(POLL).open().map_err(std::io::Error::other)?;
            Ok(Conn::Serial(p))
        }
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the upstream must be a register on TCP or a serial line (run `kkt emulator --listen` for the virtual one)",
        )),
    }
}

/// Runs both directions between `host` and `device` until one ends or `stop` is set.
fn bridge(host: Conn, device: Conn, cfg: &Config, stats: &Arc<Stats>, n: u64, stop: &Arc<AtomicBool>) {
    let (to_device, to_host) = manglers(cfg, stats, n);
    let alive = Arc::new(AtomicBool::new(true));
    let (h2, d2) = match (host.try_clone(), device.try_clone()) {
        (Ok(h), Ok(d)) => (h, d),
        _ => return,
    };
    let (a, s) = (alive.clone(), stop.clone());
    let t = std::thread::spawn(move || pump(d2, h2, to_host, &a, &s));
    pump(host, device, to_device, &alive, stop);
    let _ = t.join();
}

/// Serves TCP hosts: each connection gets its own connection to the register.
pub fn serve_tcp(
    listener: TcpListener,
    upstream: DeviceUri,
    cfg: Config,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    // A serial register is one line: hosts take turns.
    let serial_line = Arc::new(Mutex::new(()));
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, peer)) => {
                stream.set_nonblocking(false)?;
                let _ = stream.set_nodelay(true);
                n += 1;
                stats.connections.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("faultproxy: connection {n} from {peer}");
                let (up, cfg, stats, stop, line) =
                    (upstream.clone(), cfg, stats.clone(), stop.clone(), serial_line.clone());
                std::thread::spawn(move || {
                    let _guard = matches!(up, DeviceUri::Serial { .. })
                        .then(|| line.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
                    match connect_upstream(&up) {
                        Ok(device) => bridge(Conn::Tcp(stream), device, &cfg, &stats, n, &stop),
                        Err(e) => {
                            tracing::warn!("faultproxy: cannot reach the register: {e}");
                            let _ = stream.shutdown(Shutdown::Both);
                        }
                    }
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A pseudo-terminal the host opens like a serial port (Unix only).
pub struct PtySide {
    pty: kkt::transport::pty::RawPty,
}

impl std::fmt::Debug for PtySide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PtySide").field("path", &self.pty.path()).finish()
    }
}

impl PtySide {
    /// Opens a new pseudo-terminal pair in raw mode.
    pub fn open() -> std::io::Result<PtySide> {
        Ok(PtySide { pty: kkt::transport::pty::RawPty::open()? })
    }

    /// The terminal's path for the host (e.g. /dev/pts/5).
    pub fn path(&self) -> &str {
        self.pty.path()
    }

    /// Serves until `stop` is set (never called: there is no pseudo-terminal here).
    #[cfg(not(unix))]
    pub fn serve(self, _: DeviceUri, _: Config, _: Arc<Stats>, _: Arc<AtomicBool>) -> std::io::Result<()> {
        match self.pty {}
    }

    /// Serves until `stop` is set. The register connection is made when the host first
    /// writes and made again after the register closes it.
    #[cfg(unix)]
    pub fn serve(
        self,
        upstream: DeviceUri,
        cfg: Config,
        stats: Arc<Stats>,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<()> {
        let file = std::fs::File::from(nix::unistd::dup(&self.pty.master)?);
        let mut n = 0u64;
        let mut host = Conn::File(file);
        while !stop.load(Ordering::Relaxed) {
            // Wait for the host to say something, then connect.
            let mut first = [0u8; 4096];
            let got = match host.read_some(&mut first)? {
                None => continue,
                Some(0) => return Ok(()),
                Some(k) => k,
            };
            let device = match connect_upstream(&upstream) {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!("faultproxy: cannot reach the register: {e}");
                    std::thread::sleep(POLL);
                    continue;
                }
            };
            n += 1;
            stats.connections.fetch_add(1, Ordering::Relaxed);
            let (mut to_device, to_host) = manglers(&cfg, &stats, n);
            let mut dev = device.try_clone()?;
            let pieces = match to_device.as_mut() {
                Some(m) => m.mangle(&first[..got]),
                None => vec![Piece::Bytes(first[..got].to_vec())],
            };
            for p in pieces {
                match p {
                    Piece::Pause(d) => std::thread::sleep(d),
                    Piece::Bytes(b) => dev.write_all(&b)?,
                }
            }
            let alive = Arc::new(AtomicBool::new(true));
            let (h2, d2) = (host.try_clone()?, device.try_clone()?);
            let (a, s) = (alive.clone(), stop.clone());
            let t = std::thread::spawn(move || pump(d2, h2, to_host, &a, &s));
            // The host's side of the pty never ends; the register's may.
            pump(host.try_clone()?, device, to_device, &alive, &stop);
            let _ = t.join();
            host = Conn::File(std::fs::File::from(nix::unistd::dup(&self.pty.master)?));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_rates_no_change() {
        let stats = Arc::new(Stats::default());
        let mut m = Mangler::new(Rates::default(), 1, stats.clone());
        assert_eq!(m.mangle(b"abc"), vec![Piece::Bytes(b"abc".to_vec())]);
        assert_eq!(stats.snapshot().bytes, 3);
        assert_eq!(stats.snapshot().faults(), 0);
    }

    #[test]
    fn rates_are_honoured_and_repeatable() {
        let rates = Rates { corrupt: 0.01, drop: 0.002, duplicate: 0.002, delay: 0.001, delay_ms: 1 };
        let run = |seed| {
            let stats = Arc::new(Stats::default());
            let mut m = Mangler::new(rates, seed, stats.clone());
            let input: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
            (m.mangle(&input), stats.snapshot())
        };
        let (a, sa) = run(7);
        let (b, sb) = run(7);
        assert_eq!(a, b, "the same seed gives the same faults");
        assert_eq!(sa, sb);
        // 200 000 bytes at 1 %: 2000 expected; far outside ±25 % would mean a wrong rate.
        assert!((1500..2500).contains(&sa.corrupted), "{sa}");
        assert!((300..500).contains(&sa.dropped), "{sa}");
        assert!((300..500).contains(&sa.duplicated), "{sa}");
        assert!((120..280).contains(&sa.delayed), "{sa}");
        let out: usize = a
            .iter()
            .map(|p| match p {
                Piece::Bytes(b) => b.len(),
                Piece::Pause(_) => 0,
            })
            .sum();
        assert_eq!(out as u64, 200_000 - sa.dropped + sa.duplicated);
        let (c, _) = run(8);
        assert_ne!(a, c);
    }

    #[test]
    fn corruption_always_changes_the_byte() {
        let stats = Arc::new(Stats::default());
        let mut m = Mangler::new(Rates { corrupt: 1.0, ..Rates::default() }, 3, stats);
        let input = [0u8; 1000];
        let Piece::Bytes(out) = &m.mangle(&input)[0] else { panic!() };
        assert!(out.iter().all(|b| *b != 0));
    }

    #[test]
    fn rates_must_be_probabilities() {
        assert!(Rates { corrupt: 1.5, ..Rates::default() }.validate().is_err());
        assert!(Rates { delay: -0.1, ..Rates::default() }.validate().is_err());
        assert!(Rates { corrupt: 0.01, ..Rates::default() }.validate().is_ok());
    }

    #[test]
    fn proxies_tcp_both_ways() {
        let echo = TcpListener::bind("127.0.0.1:0").unwrap();
        let echo_port = echo.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = echo.accept().unwrap();
            let mut b = [0u8; 64];
            let n = s.read(&mut b).unwrap();
            s.write_all(&b[..n]).unwrap();
        });
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Stats::default());
        let up: DeviceUri = format!("tcp://127.0.0.1:{echo_port}").parse().unwrap();
        let (s2, st2) = (stop.clone(), stats.clone());
        let t = std::thread::spawn(move || serve_tcp(l, up, Config::default(), st2, s2));
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.write_all(b"hello").unwrap();
        let mut b = [0u8; 5];
        c.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"hello");
        stop.store(true, Ordering::Relaxed);
        t.join().unwrap().unwrap();
        assert_eq!(stats.snapshot().bytes, 10);
    }
}
