//! `kkt emulator`: the virtual register on TCP or a pseudo-terminal.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use kkt::emulator::server::{serve_tcp, Faults, Pty};
use kkt::emulator::state::SettlementModes;
use kkt::emulator::{Clock, EmulatorOptions, Scenario, VirtualRegister};

use super::{exit, print_error};

/// Options of `kkt emulator`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Serve TCP on this address (e.g. 127.0.0.1:7778; port 0 picks a free one). The first
    /// line on stdout is the address.
    #[arg(long, value_name = "ADDR", conflicts_with = "pty")]
    pub listen: Option<String>,
    /// Serve on a new pseudo-terminal instead; the first line on stdout is its path (Unix only:
    /// on Windows use --listen, or a virtual COM pair such as com0com).
    #[arg(long)]
    pub pty: bool,
    /// Keep the whole state in this JSON file (loaded if it exists, rewritten atomically after
    /// every change).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// OISM model, timing and faults (TOML, or JSON if the name ends in .json).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Start with a factory-fresh FN (for registration tests) instead of a registered one.
    #[arg(long)]
    pub factory_fresh: bool,
    /// Register in autonomous mode (no OISM: 0x92 answers 0xC8).
    #[arg(long)]
    pub autonomous: bool,
    /// Register without marked goods (0x91–0x97 answer 0xA2).
    #[arg(long)]
    pub no_marking: bool,
    /// Require this activation code (16 characters, command 0xDD) before the ФФД 1.2 commands.
    #[arg(long, value_name = "CODE")]
    pub activation_code: Option<String>,
    /// Keep marked-goods sale notifications queued (0x9E) instead of acknowledging them.
    #[arg(long)]
    pub hold_notifications: bool,
    /// Realistic timing (serial line at 115200 baud, command latencies, 15 s key update at
    /// shift open, OISM latency) unless the scenario sets its own.
    #[arg(long)]
    pub realistic: bool,
    /// Size of the FN's table of saved marking-code check results (0xA5 when full).
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub check_table_size: usize,
    /// Register for vending, delivery or one-to-many settlements (comma-separated:
    /// automat, delivery, one_to_many): every receipt then carries the settlement address,
    /// place and vending machine number (tags 1009, 1187, 1036), error 0xC9 without them.
    /// automat registers with all three, delivery without the place, one_to_many without any.
    #[arg(long, value_name = "MODES")]
    pub modes: Option<String>,
    /// Send nothing to the OFD (as without a network): documents wait in the queue (0x50, 0x32).
    #[arg(long)]
    pub hold_ofd: bool,
    /// Register serial number.
    #[arg(long, default_value = "0000000001")]
    pub serial: String,
    /// FN number.
    #[arg(long, default_value = "9999078900000001")]
    pub fn_number: String,
    /// Write what the register prints (receipts, shift reports, free lines) to this file
    /// instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub print_log: Option<PathBuf>,
    /// Print nothing (neither on stdout nor into a file).
    #[arg(long, conflicts_with = "print_log")]
    pub no_paper: bool,
}

/// Sends the register's paper to stdout (after the first line, the address) or a file, from a
/// thread of its own: a reader that does not read never stops the register (what does not fit
/// the queue is dropped, and said so).
fn paper_sink(reg: &VirtualRegister, to: Option<&std::path::Path>) -> Result<(), String> {
    let mut out: Box<dyn std::io::Write + Send> = match to {
        Some(p) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| format!("--print-log {}: {e}", p.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<String>(256);
    std::thread::Builder::new()
        .name("kkt-emulator-paper".into())
        .spawn(move || {
            for text in rx {
                if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| e.to_string())?;
    reg.on_print(move |text| {
        if tx.try_send(text.to_string()).is_err() {
            tracing::warn!("the printed text could not be shown (the reader is behind)");
        }
    });
    Ok(())
}

/// Runs the emulator until the process is stopped.
pub fn run(a: &Args, json: bool) -> u8 {
    let fail = |code: u8, msg: String| {
        print_error(json, "input", None, &msg, &super::i18n::tr!("hint-emulator-help"));
        code
    };
    if a.pty && !kkt::transport::pty::AVAILABLE {
        return fail(exit::INPUT, format!("--pty: {}", kkt::transport::pty::NOT_AVAILABLE));
    }
    let mut scenario = match &a.scenario {
        Some(p) => match Scenario::load(p) {
            Ok(s) => s,
            Err(e) => return fail(exit::INPUT, e.to_string()),
        },
        None => Scenario::default(),
    };
    if a.realistic && scenario.timing.is_none() {
        scenario.timing = Some(Default::default());
    }
    if let Some(c) = &a.activation_code {
        if c.len() != 16 || !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return fail(exit::INPUT, "--activation-code: 16 letters or digits expected".into());
        }
    }
    if a.listen.is_none() && !a.pty {
        return fail(exit::INPUT, "give --listen ADDR or --pty".into());
    }
    let settlement_modes = match a.modes.as_deref().map(SettlementModes::parse).transpose() {
        Ok(m) => m.unwrap_or_default(),
        Err(e) => return fail(exit::INPUT, format!("--modes: {e}")),
    };
    let faults = Arc::new(Faults::new(&scenario.faults));
    let options = EmulatorOptions {
        factory_fresh: a.factory_fresh,
        autonomous: a.autonomous,
        marking: !a.no_marking,
        serial: a.serial.clone(),
        fn_number: a.fn_number.clone(),
        activation_code: a.activation_code.clone(),
        hold_notifications: a.hold_notifications,
        check_table_size: a.check_table_size,
        settlement_modes,
        hold_ofd: a.hold_ofd,
        scenario,
        ..EmulatorOptions::default()
    };
    let reg = match &a.state {
        Some(p) => match VirtualRegister::open(options, p, Clock::System) {
            Ok(r) => r,
            Err(e) => return fail(exit::INPUT, e.to_string()),
        },
        None => VirtualRegister::new(options),
    };
    if !a.no_paper {
        if let Err(m) = paper_sink(&reg, a.print_log.as_deref()) {
            return fail(exit::INPUT, m);
        }
    }
    let reg = Arc::new(reg);
    let stop = Arc::new(AtomicBool::new(false));
    let result = if let Some(addr) = &a.listen {
        let listener = match TcpListener::bind(addr) {
            Ok(l) => l,
            Err(e) => return fail(exit::LINK, format!("cannot listen on {addr}: {e}")),
        };
        let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| addr.clone());
        announce(&local);
        tracing::info!("emulator listening on {local}");
        serve_tcp(listener, reg, faults, stop)
    } else {
        let pty = match Pty::open() {
            Ok(p) => p,
            Err(e) => return fail(exit::LINK, format!("cannot open a pseudo-terminal: {e}")),
        };
        announce(pty.path());
        tracing::info!("emulator on {}", pty.path());
        pty.serve(reg, faults, stop)
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => fail(exit::LINK, format!("emulator stopped: {e}")),
    }
}

fn announce(where_: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{where_}");
    let _ = out.flush();
}
