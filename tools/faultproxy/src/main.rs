//! `kkt-faultproxy`: a fault-injecting proxy between a host (a POS, `kkt`) and a register,
//! over TCP or a pseudo-terminal. See tools/faultproxy/README.md.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use kkt::transport::DeviceUri;
use kkt_faultproxy::{serve_tcp, Config, Direction, PtySide, Rates, Stats};

/// Corrupts, drops, duplicates and delays bytes between a host and a register.
#[derive(Debug, Parser)]
#[command(name = "kkt-faultproxy", version)]
struct Args {
    /// Listen for hosts on TCP at this address (port 0 picks one); the first line on stdout is the address.
    #[arg(long, value_name = "ADDR", conflicts_with = "pty")]
    listen: Option<String>,
    /// Offer a new pseudo-terminal to the host instead; the first line on stdout is its path
    /// (Unix only).
    #[arg(long)]
    pty: bool,
    /// The register: tcp://HOST:PORT or serial:///dev/ttyUSB0?baud=115200.
    #[arg(long, value_name = "URI")]
    upstream: String,
    /// Probability per byte that it is replaced (0.01 = 1%).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    corrupt: f64,
    /// Probability per byte that it is left out.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    drop: f64,
    /// Probability per byte that it is sent twice.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    duplicate: f64,
    /// Probability per byte that the stream pauses before it.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    delay: f64,
    /// Length of a pause, milliseconds.
    #[arg(long, default_value_t = 100, value_name = "MS")]
    delay_ms: u64,
    /// Which direction the faults apply to.
    #[arg(long, value_enum, default_value_t = Direction::Both)]
    direction: Direction,
    /// Seed of the fault generator (the same seed repeats the same faults for the same bytes).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the counts of injected faults on stderr every this many seconds (0: never).
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    stats_every: u64,
    /// More logging on stderr.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

fn main() -> ExitCode {
    let a = Args::parse();
    let level = ["warn", "info", "debug", "trace"][usize::from(a.verbose.min(3))];
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!("kkt={level}")))
        .with_writer(std::io::stderr)
        .try_init();
    let fail = |m: String| {
        eprintln!("kkt-faultproxy: {m}");
        ExitCode::from(2)
    };
    let rates =
        Rates { corrupt: a.corrupt, drop: a.drop, duplicate: a.duplicate, delay: a.delay, delay_ms: a.delay_ms };
    if let Err(m) = rates.validate() {
        return fail(m);
    }
    let upstream: DeviceUri = match a.upstream.parse() {
        Ok(u) => u,
        Err(e) => return fail(format!("--upstream: {e}")),
    };
    if matches!(upstream, DeviceUri::Emulator { .. }) {
        return fail(
            "--upstream: a register on tcp:// or serial://; start `kkt emulator --listen` for the virtual one".into(),
        );
    }
    let cfg = Config { rates, direction: a.direction, seed: a.seed };
    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    if a.stats_every > 0 {
        let (s, every) = (stats.clone(), a.stats_every);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(every));
            eprintln!("kkt-faultproxy: {}", s.snapshot());
        });
    }
    let announce = |w: &str| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{w}");
        let _ = out.flush();
    };
    let r = if let Some(addr) = &a.listen {
        let l = match TcpListener::bind(addr) {
            Ok(l) => l,
            Err(e) => return fail(format!("cannot listen on {addr}: {e}")),
        };
        announce(&l.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| addr.clone()));
        serve_tcp(l, upstream, cfg, stats.clone(), stop.clone())
    } else if a.pty {
        if !kkt::transport::pty::AVAILABLE {
            return fail(format!("--pty: {}", kkt::transport::pty::NOT_AVAILABLE));
        }
        let p = match PtySide::open() {
            Ok(p) => p,
            Err(e) => return fail(format!("cannot open a pseudo-terminal: {e}")),
        };
        announce(p.path());
        p.serve(upstream, cfg, stats.clone(), stop.clone())
    } else {
        return fail("give --listen ADDR or --pty".into());
    };
    stop.store(true, Ordering::Relaxed);
    eprintln!("kkt-faultproxy: {}", stats.snapshot());
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("stopped: {e}")),
    }
}
