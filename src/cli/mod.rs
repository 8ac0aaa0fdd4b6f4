//! The `kkt` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod decode;

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
    /// Outcome of a fiscal command unknown.
    pub const UNKNOWN: u8 = 5;
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
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode frames given in hex (spaces allowed; several frames or a log line; `-` or none reads stdin).
    Decode(decode::Args),
}

/// Runs the command line; returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let code = match cli.command {
        Command::Decode(a) => decode::run(&a, cli.json),
    };
    ExitCode::from(code)
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KKT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
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
