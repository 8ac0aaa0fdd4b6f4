//! The `kkt` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod config;
pub mod decode;
pub mod demo;
pub mod device;
pub mod emulator;
pub mod journal;
pub mod mark;
pub mod serve;

/// Exit codes, as README documents them.
pub mod exit {
    /// Done.
    pub const OK: u8 = 0;
    /// Bad input or usage.
    pub const INPUT: u8 = 2;
    /// The device refused (error code shown).
    pub const DEVICE: u8 = 3;
    /// Link failure or timeout.
    pub const LINK: u8 = 4;
    /// Outcome of a fiscal command unknown (or an earlier attempt with the same id unresolved).
    pub const UNKNOWN: u8 = 5;
    /// A marked item may not be sold (`kkt mark check`).
    pub const REFUSED: u8 = 6;
    /// A marked item needs the cashier's confirmation (`kkt mark check --strict ask`).
    pub const ASK: u8 = 7;
    /// The host's journal failed (nothing was sent).
    pub const JOURNAL: u8 = 8;
}

/// kkt: a driver for Терминал-ФА / КИТ Онлайн-Ф fiscal registers (B6 29 protocol, ФФД 1.2).
#[derive(Debug, Parser)]
#[command(name = "kkt", version, about, long_about = None)]
pub struct Cli {
    /// Machine-readable JSON on stdout (errors too).
    #[arg(long, global = true)]
    pub json: bool,
    /// More logging on stderr: -v info, -vv debug, -vvv every frame in hex.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Write the log to this file instead of stderr.
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<std::path::PathBuf>,
    /// The register: tcp://HOST:PORT, serial:///dev/ttyUSB0?baud=115200 (or a bare path, COM3), emulator[?state=FILE].
    #[arg(long, global = true, env = "KKT_DEVICE", value_name = "URI")]
    pub device: Option<String>,
    /// The whole wait for one command, in seconds, its repetitions included (default: the
    /// command table's, 20 s; 60 s for shift open).
    #[arg(long, global = true, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Config file (TOML: device, timeout, [cashier] name/inn); default ~/.config/kkt/config.toml.
    #[arg(long, global = true, env = "KKT_CONFIG", value_name = "PATH")]
    pub config: Option<std::path::PathBuf>,
    /// The host's journal of fiscal documents (SQLite; default: the user's data directory,
    /// ~/.local/share/kkt/journal.sqlite on Linux). A path never used before gets a new
    /// journal (with a notice); a journal missing where one was used is refused.
    #[arg(long, global = true, env = "KKT_JOURNAL", value_name = "PATH")]
    pub journal: Option<std::path::PathBuf>,
    /// Start a new journal where one was used before and is now missing: the ids formed
    /// through the old one cannot be recognised any more (they would be formed again).
    #[arg(long, global = true)]
    pub new_journal: bool,
    /// The most items a receipt may have (refused before anything is sent; the virtual
    /// register's limit is 100).
    #[arg(long, global = true, value_name = "N", default_value_t = kkt::receipt::Limits::DEFAULT.max_items)]
    pub max_items: usize,
    /// The most change a receipt may give from the cash tendered, in rubles (a typo in the
    /// cash is refused before anything is sent).
    #[arg(long, global = true, value_name = "RUBLES", default_value = "100000.00")]
    pub max_change: kkt::receipt::Money,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode frames given in hex (spaces allowed; several frames or a log line; `-` or none reads stdin).
    Decode(decode::Args),
    /// Marked goods: parse a code, check it in ГИС МТ (Local Module fallback), CDN hosts, the store.
    Mark(Box<mark::Args>),
    /// Run the virtual register (device and fiscal storage) on TCP or a pseudo-terminal.
    Emulator(emulator::Args),
    /// The main job on the built-in virtual register: open a shift, sell unmarked and marked goods, close the shift.
    Demo,
    /// Register, FN, shift, marking state (0x90), OISM queue (0x9E), FN resources (0x9D).
    Status,
    /// Model, serial numbers, versions, FN format, service parameters, registration.
    Info,
    /// Open, close or show the shift.
    Shift {
        /// What to do.
        #[command(subcommand)]
        cmd: device::ShiftCmd,
    },
    /// Form a receipt from JSON (FILE, or - for stdin); see README for the format. Journaled:
    /// a receipt with an `id` formed before is not formed again, its document is printed.
    Receipt {
        /// The receipt JSON.
        file: std::path::PathBuf,
        /// The marked goods check of a sale (ГИС МТ, Local Module, sold-codes store).
        #[command(flatten)]
        marks: Box<mark::SaleArgs>,
    },
    /// Form a correction receipt from JSON (the receipt format with a `correction` object).
    Correction {
        /// The receipt JSON.
        file: std::path::PathBuf,
    },
    /// The host's journal of fiscal documents: outcome of each (formed with FD and fiscal
    /// sign, not formed, pending); `kkt journal backup PATH` copies it.
    Journal(journal::Args),
    /// Reconcile every pending journal entry with the register: formed or not formed.
    Recover(journal::RecoverArgs),
    /// Reports.
    Report {
        /// Which.
        #[command(subcommand)]
        cmd: device::ReportCmd,
    },
    /// Register (or re-register) the register from a JSON file.
    Register {
        /// The registration JSON.
        file: std::path::PathBuf,
    },
    /// The fiscal storage.
    Fn {
        /// What to do.
        #[command(subcommand)]
        cmd: device::FnCmd,
    },
    /// Cancel the document open on the register, if this kkt's journal opened it (a receipt
    /// left open by a failed or interrupted attempt); a document another program opened is
    /// left to it unless --force.
    Cancel {
        /// Cancel whatever document is open, whoever opened it (a person's decision: that
        /// program's receipt is then not formed).
        #[arg(long)]
        force: bool,
    },
    /// OISM host, key update host, OFD settings.
    Settings {
        /// Which.
        #[command(subcommand)]
        cmd: device::SettingsCmd,
    },
    /// The register's clock.
    Datetime {
        /// get or set.
        #[command(subcommand)]
        cmd: device::DateTimeCmd,
    },
    /// Enter the activation code of the ФФД 1.2 commands (0xDD).
    Activate {
        /// 16 characters.
        code: String,
    },
    /// Serial ports with USB vendor/product ids and serial numbers.
    Ports,
    /// The local HTTP/JSON service for POS systems (one process owns the register); see README.
    Serve(serve::Args),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Runs the command line; returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = init_tracing(cli.verbose, cli.log_file.as_deref()) {
        print_error(cli.json, "input", None, &e, "");
        return ExitCode::from(exit::INPUT);
    }
    let code = match &cli.command {
        Command::Decode(a) => decode::run(a, cli.json),
        Command::Mark(a) => mark::run(a, cli.json, cli.device.as_deref(), cli.config.as_deref()),
        Command::Emulator(a) => emulator::run(a, cli.json),
        Command::Demo => {
            let uri = cli.device.clone().unwrap_or_else(|| "emulator".to_string());
            done(demo::run(&uri, cli.json), cli.json)
        }
        Command::Ports => done(device::ports(cli.json), cli.json),
        Command::Journal(a) => done(journal::run(&cli, a), cli.json),
        Command::Serve(a) => done(serve::run(&cli, a), cli.json),
        Command::Status
        | Command::Info
        | Command::Shift { .. }
        | Command::Receipt { .. }
        | Command::Correction { .. }
        | Command::Recover(_)
        | Command::Report { .. }
        | Command::Register { .. }
        | Command::Fn { .. }
        | Command::Cancel { .. }
        | Command::Settings { .. }
        | Command::Datetime { .. }
        | Command::Activate { .. } => done(on_device(&cli), cli.json),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "kkt", &mut out);
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &out);
            exit::OK
        }
    };
    ExitCode::from(code)
}

fn init_tracing(verbose: u8, log_file: Option<&std::path::Path>) -> Result<(), String> {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KKT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("kkt={level}")));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match log_file {
        Some(p) => {
            let f = open_private_append(p).map_err(|e| format!("log file {}: {e}", p.display()))?;
            let _ = builder.with_ansi(false).with_writer(std::sync::Mutex::new(f)).try_init();
        }
        None => {
            let _ = builder.with_writer(std::io::stderr).try_init();
        }
    }
    Ok(())
}

pub use kkt::fsutil::open_private_append;

fn done(r: Result<(), device::Failure>, json: bool) -> u8 {
    match r {
        Ok(()) => exit::OK,
        Err(f) => f.report(json),
    }
}

/// Runs a command that talks to the register. Input files are read and checked before connecting.
fn on_device(cli: &Cli) -> Result<(), device::Failure> {
    let cfg =
        config::load(cli.config.as_deref()).map_err(|m| device::Failure::usage(m, "fix or remove the config file"))?;
    let input = match &cli.command {
        Command::Receipt { file, .. } | Command::Correction { file } | Command::Register { file } => {
            Some(device::read_input(file)?)
        }
        _ => None,
    };
    if let (Command::Receipt { .. } | Command::Correction { .. }, Some(text)) = (&cli.command, &input) {
        // Refuse bad input before connecting, so that nothing reaches the register.
        let r = kkt::receipt::Receipt::from_json(text).map_err(kkt::Error::from)?;
        let limits = kkt::receipt::Limits { max_items: cli.max_items, max_change: cli.max_change };
        r.validate_with(&limits).map_err(kkt::Error::from)?;
    }
    let print = match &cli.command {
        Command::Shift { cmd: device::ShiftCmd::Open(a) | device::ShiftCmd::Close(a) } => !a.no_print,
        _ => true,
    };
    // The journal first: a journal that is missing or damaged is refused before anything is
    // sent to the register.
    let journaled = matches!(
        cli.command,
        Command::Receipt { .. } | Command::Correction { .. } | Command::Recover(_) | Command::Cancel { force: false }
    );
    let opened = if journaled { Some(journal::open(cli)?) } else { None };
    let mut kkt = device::connect(cli, &cfg, print)?;
    let mut checker = None;
    if let Command::Receipt { marks, .. } = &cli.command {
        checker = mark::sale_checker(marks, &cfg).map_err(|m| device::Failure::usage(m, "see kkt receipt --help"))?;
        kkt.set_mark_checker(checker.clone().map(|c| c as std::sync::Arc<dyn kkt::driver::MarkChecker>));
    }
    let json = cli.json;
    if let Some(journal::Opened { journal: j, path, created }) = opened {
        journal::remember_fn(&path, kkt.fn_number(), created);
        let mut jk = match &cli.command {
            Command::Recover(_) | Command::Cancel { .. } => kkt::journaled::JournaledKkt::without_recovery(kkt, j),
            _ => kkt::journaled::JournaledKkt::with_kkt(kkt, j)?,
        };
        let text = input.as_deref().unwrap_or("");
        return match &cli.command {
            Command::Receipt { .. } => {
                let r = device::receipt(&mut jk, text, false, json);
                if let Some(c) = &checker {
                    c.wait_background();
                }
                r
            }
            Command::Correction { .. } => device::receipt(&mut jk, text, true, json),
            Command::Cancel { .. } => device::cancel_own(&mut jk, json),
            Command::Recover(a) => journal::recover(&mut jk, a, json),
            _ => Ok(()),
        };
    }
    match &cli.command {
        Command::Status => device::status(&mut kkt, json),
        Command::Info => device::info(&mut kkt, json),
        Command::Shift { cmd } => device::shift(&mut kkt, cmd, &cfg, json),
        Command::Report { cmd: device::ReportCmd::Settlement } => device::report(&mut kkt, json),
        Command::Register { .. } => device::register(&mut kkt, input.as_deref().unwrap_or(""), json),
        Command::Fn { cmd: device::FnCmd::Close { yes, cashier } } => {
            device::fn_close(&mut kkt, *yes, cashier.as_deref(), json)
        }
        Command::Cancel { force: true } => device::cancel_forced(&mut kkt, json),
        Command::Settings { cmd } => device::settings(&mut kkt, cmd, json),
        Command::Datetime { cmd } => device::datetime(&mut kkt, cmd, json),
        Command::Activate { code } => device::activate(&mut kkt, code, json),
        _ => Ok(()),
    }
}

/// Prints an error the way every command does: JSON `{"error": {...}}` with `--json`, text otherwise.
pub fn print_error(json: bool, kind: &str, code: Option<u8>, message: &str, hint: &str) {
    if json {
        let v = serde_json::json!({"error": {"kind": kind, "code": code, "message": message, "hint": hint}});
        println!("{v}");
    } else {
        eprintln!("kkt: {message}");
        if !hint.is_empty() {
            eprintln!("hint: {hint}");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        // Catches clashing option names (e.g. a subcommand's --timeout against the global one).
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
