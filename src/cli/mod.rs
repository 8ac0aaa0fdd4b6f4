//! The `kkt` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod config;
pub mod decode;
pub mod demo;
pub mod device;
pub mod emulator;
pub mod i18n;
pub mod interrupt;
pub mod journal;
pub mod mark;
pub mod paths;
pub mod progress;
pub mod serve;
pub mod service;
pub mod show;
pub mod till;

use i18n::tr;

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
    /// Stopped by Ctrl-C (or SIGTERM) before the work was done (128 + SIGINT, as shells count).
    pub const INTERRUPTED: u8 = 130;
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
    /// The register: tcp://HOST:PORT, serial:///dev/ttyUSB0?baud=115200 (or a bare path, COM3),
    /// emulator[?state=FILE]; else $KKT_DEVICE, else `device` in the config file (`kkt demo` takes
    /// only this option, and only a virtual register).
    #[arg(long, global = true, value_name = "URI")]
    pub device: Option<String>,
    /// The whole wait for one command, in seconds, at least 1, its repetitions included
    /// (default: the command table's, 20 s; 60 s for shift open).
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<u64>,
    /// Language of messages and hints: en or ru (default: $KKT_LANG, else the system's locale).
    #[arg(long, global = true, value_name = "LANG", value_parser = ["en", "ru"])]
    pub lang: Option<String>,
    /// Config file (TOML: device, timeout, [cashier] name/inn); default: `kkt/config.toml` in
    /// the user's config folder (see Files below).
    #[arg(long, global = true, env = "KKT_CONFIG", value_name = "PATH")]
    pub config: Option<std::path::PathBuf>,
    /// The host's journal of fiscal documents (SQLite; default: `kkt/journal.sqlite` in the
    /// user's local data folder, see Files below). A path never used before gets a new journal
    /// (with a notice); a journal missing where one was used is refused.
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
    /// The main job on a virtual register: open a shift, sell unmarked and marked goods, close
    /// the shift. The built-in register by default; --device only for `emulator…` or a `kkt
    /// emulator` (never a real register: $KKT_DEVICE and the config file are not used).
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
    /// Form a correction receipt («ЧЕК КОРРЕКЦИИ», 0x25 … 0x26) from JSON: the receipt format with a
    /// `correction` object (the corrected settlement's date, the tax authority's order number).
    /// Journaled.
    Correction {
        /// The receipt JSON.
        file: std::path::PathBuf,
    },
    /// Cash in and out of the drawer, the money counters.
    Cash {
        /// What to do.
        #[command(subcommand)]
        cmd: till::CashCmd,
    },
    /// Documents from the FN archive: `kkt fd N`, `kkt fd last`, `kkt fd print N`, `kkt fd ofd-receipt N`.
    Fd(till::FdArgs),
    /// The exchange with the OFD.
    Ofd {
        /// What to show.
        #[command(subcommand)]
        cmd: till::OfdCmd,
    },
    /// Print text, a QR code or a barcode on the register's printer (no fiscal document).
    Print {
        /// What to print.
        #[command(subcommand)]
        cmd: till::PrintCmd,
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
    /// Register (or re-register) the register from a JSON file (see README: kkt register).
    #[command(after_long_help = REGISTER_EXAMPLE, after_help = REGISTER_EXAMPLE)]
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
    /// Send any command (CODE, then its DATA in hex) and decode the answer as `kkt decode`
    /// does. A command that forms a fiscal document or changes a setting needs --yes and goes
    /// through the journal.
    Raw(service::RawArgs),
    /// The register's Ethernet settings: DHCP, address, mask, gateway (0x75 / 0x74).
    Network {
        /// get or set.
        #[command(subcommand)]
        cmd: service::NetworkCmd,
    },
    /// The config file: `kkt config init` writes a commented example.
    Config {
        /// What to do.
        #[command(subcommand)]
        cmd: config::ConfigCmd,
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

/// The example `kkt register --help` shows.
pub const REGISTER_EXAMPLE: &str = r#"Example (re-registration with FN replacement after the ФФД version changed):

  {
    "report_type": 1,
    "reasons": ["fn_replacement", "ffd_version_change"],
    "user_name": "ООО "Ромашка"", "inn": "7806197274",
    "registration_number": "0000000000038045",
    "address": "г. Москва, ул. Тверская, д. 1", "place": "Магазин "Ромашка"",
    "cashier": "Иванов Иван Иванович", "cashier_inn": "500100732259",
    "ofd_inn": "7704211201", "ofd_name": "ООО "Такском"", "sender_email": "receipts@example.ru",
    "usage": ["marking"], "modes": ["encryption"], "taxation": ["osn", "usn_income"]
  }

report_type: 0 first registration, 1 re-registration with FN replacement, 2 without.
reasons (tag 1205, re-registrations only): fn_replacement, ofd_change, user_name_change,
  address_change, to_online, to_autonomous, model_version_change, taxation_change,
  automat_number_change, to_non_automatic, to_automatic, to_bso, from_bso, from_internet,
  to_internet, from_gambling, to_gambling, from_lottery, to_lottery, ffd_version_change, other.
usage (tag 9998): excise, gambling, lottery, printer_in_automat, marking, pawnshop, insurance.
modes (tag 9999): encryption, autonomous, services, bso, internet.
taxation: osn, usn_income, usn_income_outcome, esn, patent.
With marking in data transfer mode, save the OISM and key update hosts first:
  kkt settings oism set --host HOST --port PORT; kkt settings keys-host set --host HOST --port PORT"#;

/// `--timeout`: whole seconds, at least 1.
fn parse_timeout(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("0 would give the register no time to answer: give at least 1 second".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number of seconds")),
    }
}

/// A usage error of clap: with `--json` on the command line, as `{"error": …}` on stdout (exit
/// 2); help and version as clap prints them.
fn usage_error(e: clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) || !json
    {
        e.exit()
    }
    let text = e.render().to_string();
    let message =
        text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim_start_matches("error: ").trim().to_string();
    let hint = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("tip:") || l.starts_with("For more information"))
        .map(|l| l.trim_start_matches("tip: ").to_string())
        .unwrap_or_else(|| tr!("hint-see-help"));
    print_error(true, "input", None, &message, &hint);
    ExitCode::from(exit::INPUT)
}

/// Runs the command line; returns the process exit code.
pub fn run() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json_asked = args.iter().skip(1).take_while(|a| *a != "--").any(|a| a == "--json");
    let lang_flag = args.windows(2).find(|w| w[0] == "--lang").and_then(|w| w[1].to_str().map(str::to_string));
    i18n::init(lang_flag.as_deref());
    // The default files are this system's: `kkt --help` prints them (paths::help).
    let cmd = <Cli as clap::CommandFactory>::command().after_help(paths::help());
    let parsed = cmd.try_get_matches_from(&args).and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => return usage_error(e, json_asked),
    };
    i18n::init(cli.lang.as_deref());
    if let Err(e) = init_tracing(cli.verbose, cli.log_file.as_deref()) {
        print_error(cli.json, "input", None, &e, &tr!("hint-log-file"));
        return ExitCode::from(exit::INPUT);
    }
    let code = match &cli.command {
        Command::Decode(a) => decode::run(a, cli.json),
        Command::Mark(a) => mark::run(a, cli.json, cli.device_given().as_deref(), cli.config.as_deref()),
        Command::Emulator(a) => emulator::run(a, cli.json),
        Command::Demo => done(demo::run(cli.device.as_deref(), &cli), cli.json),
        Command::Ports => done(device::ports(cli.json), cli.json),
        Command::Journal(a) => done(journal::run(&cli, a), cli.json),
        Command::Serve(a) => done(serve::run(&cli, a), cli.json),
        Command::Config { cmd } => done(config::run(cmd, &cli), cli.json),
        Command::Status
        | Command::Info
        | Command::Shift { .. }
        | Command::Receipt { .. }
        | Command::Correction { .. }
        | Command::Cash { .. }
        | Command::Fd(_)
        | Command::Ofd { .. }
        | Command::Print { .. }
        | Command::Recover(_)
        | Command::Report { .. }
        | Command::Register { .. }
        | Command::Fn { .. }
        | Command::Cancel { .. }
        | Command::Settings { .. }
        | Command::Datetime { .. }
        | Command::Activate { .. }
        | Command::Raw(_)
        | Command::Network { .. } => done(on_device(&cli), cli.json),
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

impl Cli {
    /// The register named by `--device` or `$KKT_DEVICE` (not the config file).
    pub fn device_given(&self) -> Option<String> {
        self.device.clone().or_else(|| std::env::var("KKT_DEVICE").ok().filter(|s| !s.trim().is_empty()))
    }
}

fn init_tracing(verbose: u8, log_file: Option<&std::path::Path>) -> Result<(), String> {
    use std::io::IsTerminal as _;
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
            // Colour only for a person at a terminal, never into a file or a pipe.
            let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            // Windows' classic console prints escape codes as text unless told to take them.
            #[cfg(windows)]
            let ansi = ansi && anstyle_query::windows::enable_ansi_colors().unwrap_or(false);
            let _ = builder.with_ansi(ansi).with_writer(std::io::stderr).try_init();
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

/// Runs a command that talks to the register; its errors name the command line's options.
fn on_device(cli: &Cli) -> Result<(), device::Failure> {
    on_device_inner(cli).map_err(|f| f.with_option_names(&cli.command))
}

/// Input files are read and checked before connecting.
fn on_device_inner(cli: &Cli) -> Result<(), device::Failure> {
    let cfg = config::load(cli.config.as_deref()).map_err(|m| device::Failure::usage(m, tr!("hint-fix-config")))?;
    let input = match &cli.command {
        Command::Receipt { file, .. } | Command::Correction { file } | Command::Register { file } => {
            Some(device::read_input(file)?)
        }
        _ => None,
    };
    if let (Command::Receipt { .. } | Command::Correction { .. }, Some(text)) = (&cli.command, &input) {
        // Refuse bad input before connecting, so that nothing reaches the register.
        let r = kkt::receipt::Receipt::from_json(text).map_err(kkt::Error::from)?;
        match (&cli.command, r.correction.is_some()) {
            (Command::Receipt { .. }, true) => {
                return Err(device::Failure::usage(
                    "correction: a receipt with a `correction` object is a correction receipt; nothing was sent",
                    "form it with `kkt correction FILE` (it prints «ЧЕК КОРРЕКЦИИ»)",
                ))
            }
            (Command::Correction { .. }, false) => {
                return Err(device::Failure::usage(
                    "correction: a correction receipt needs the `correction` object (the corrected settlement's date)",
                    "add \"correction\": {\"date\": \"YYYY-MM-DD\"}, or form a receipt with `kkt receipt FILE`",
                ))
            }
            _ => {}
        }
        let limits = kkt::receipt::Limits { max_items: cli.max_items, max_change: cli.max_change };
        r.validate_with(&limits).map_err(kkt::Error::from)?;
    }
    if let Command::Cash { cmd: till::CashCmd::In(a) | till::CashCmd::Out(a) } = &cli.command {
        till::amount(&a.amount, "amount")?;
    }
    // Settings and raw commands are checked before connecting too.
    let prepared = service::prepare(&cli.command)?;
    let print = match &cli.command {
        Command::Shift { cmd: device::ShiftCmd::Open(a) | device::ShiftCmd::Close(a) } => !a.no_print,
        _ => true,
    };
    // Every command that forms a fiscal document or moves cash goes through the journal, and
    // the journal comes first: one that is missing or damaged is refused before anything is
    // sent to the register.
    let journaled = matches!(
        &cli.command,
        Command::Receipt { .. }
            | Command::Correction { .. }
            | Command::Recover(_)
            | Command::Cancel { force: false }
            | Command::Shift { cmd: device::ShiftCmd::Open(_) | device::ShiftCmd::Close(_) }
            | Command::Report { cmd: device::ReportCmd::Settlement }
            | Command::Cash { cmd: till::CashCmd::In(_) | till::CashCmd::Out(_) }
    ) || service::journaled(&prepared);
    let opened = if journaled { Some(journal::open(cli)?) } else { None };
    let progress = progress::Progress::new(cli.json);
    let mut kkt = device::connect(cli, &cfg, print, &progress)?;
    // Ctrl-C during a command that forms a document: the exchange in flight finishes, then the
    // work stops and the register's state is told (a second Ctrl-C aborts at once).
    let stop = interrupt::Guard::install(forms_document(&cli.command));
    if let Some(flag) = stop.flag() {
        kkt.set_interrupt(flag);
    }
    let mut checker = None;
    if let Command::Receipt { marks, file } = &cli.command {
        checker = mark::sale_checker(marks, &cfg).map_err(|m| device::Failure::usage(m, tr!("hint-receipt-help")))?;
        kkt.set_mark_checker(checker.clone().map(|c| c as std::sync::Arc<dyn kkt::driver::MarkChecker>));
        // A verdict that asks: --accept-asked accepts it; on a terminal the cashier answers;
        // in a pipe or with --json nobody can, and it is refused (exit 6 with the verdict).
        use std::io::IsTerminal as _;
        let terminal =
            !cli.json && file.as_os_str() != "-" && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        if marks.accept_asked {
            kkt.on_mark_ask(|_| true);
        } else if terminal {
            let lang = mark::lang();
            kkt.on_mark_ask(move |v| mark::ask_on_terminal(v, lang));
        }
    }
    let json = cli.json;
    let result = if let Some(journal::Opened { journal: j, path, created }) = opened {
        journal::remember_fn(&path, kkt.fn_number(), created);
        let mut jk = match &cli.command {
            Command::Recover(_) | Command::Cancel { .. } => kkt::journaled::JournaledKkt::without_recovery(kkt, j),
            _ => kkt::journaled::JournaledKkt::with_kkt(kkt, j)?,
        };
        let text = input.as_deref().unwrap_or("");
        let r = match &cli.command {
            Command::Receipt { .. } => {
                let r = device::receipt(&mut jk, text, false, json, &progress);
                if let Some(c) = &checker {
                    c.wait_background();
                }
                r
            }
            Command::Correction { .. } => device::receipt(&mut jk, text, true, json, &progress),
            Command::Shift { cmd } => device::shift_journaled(&mut jk, cmd, &cfg, json),
            Command::Report { .. } => device::report(&mut jk, json),
            Command::Cash { cmd } => till::cash_move(&mut jk, cmd, json),
            Command::Raw(_) => service::raw_journaled(&mut jk, &prepared, json),
            Command::Cancel { .. } => device::cancel_own(&mut jk, json),
            Command::Recover(a) => journal::recover(&mut jk, a, json),
            _ => Ok(()),
        };
        progress.finish();
        interrupt::after(&stop, r, json, |f| f(jk.kkt()))
    } else {
        let r = match &cli.command {
            Command::Status => show::status(&mut kkt, json),
            Command::Info => show::info(&mut kkt, json),
            Command::Shift { cmd } => device::shift(&mut kkt, cmd, &cfg, json),
            Command::Report { cmd: device::ReportCmd::Shift } => till::report_shift(&mut kkt, json),
            Command::Cash { .. } => till::cash_totals(&mut kkt, json),
            Command::Fd(a) => till::fd(&mut kkt, a, json),
            Command::Ofd { cmd: till::OfdCmd::Status } => till::ofd_status(&mut kkt, json),
            Command::Print { cmd } => till::print(&mut kkt, cmd, json),
            Command::Register { .. } => device::register(&mut kkt, input.as_deref().unwrap_or(""), json),
            Command::Fn { cmd: device::FnCmd::Close { yes, cashier } } => {
                device::fn_close(&mut kkt, *yes, cashier.as_deref(), json)
            }
            Command::Fn { cmd: device::FnCmd::Errors } => service::fn_errors(&mut kkt, json),
            Command::Cancel { .. } => device::cancel_forced(&mut kkt, json),
            Command::Settings { cmd } => service::settings(&mut kkt, cmd, &prepared, json),
            Command::Datetime { cmd } => device::datetime(&mut kkt, cmd, json),
            Command::Activate { code } => device::activate(&mut kkt, code, json),
            Command::Network { .. } => service::network(&mut kkt, &prepared, json),
            Command::Raw(_) => service::raw(&mut kkt, &prepared, json),
            _ => Ok(()),
        };
        progress.finish();
        interrupt::after(&stop, r, json, |f| f(&mut kkt))
    };
    result
}

/// Whether the command forms (or may form) a fiscal document: Ctrl-C is then deferred.
fn forms_document(c: &Command) -> bool {
    match c {
        Command::Shift { cmd } => !matches!(cmd, device::ShiftCmd::Status),
        Command::Receipt { .. }
        | Command::Correction { .. }
        | Command::Report { .. }
        | Command::Register { .. }
        | Command::Recover(_)
        | Command::Cancel { .. } => true,
        Command::Cash { cmd } => !matches!(cmd, till::CashCmd::Totals),
        Command::Fn { cmd } => matches!(cmd, device::FnCmd::Close { .. }),
        Command::Raw(a) => a.forms_document(),
        _ => false,
    }
}

/// The message and hint of a driver error in the language in use. In English they are the
/// library's; in Russian the frame of each message and every hint come from the catalogue
/// (device errors from the error table's Russian columns; the details the driver gives, such
/// as an input limit or an I/O error, stay as it words them).
pub fn i18n_error(e: &kkt::Error) -> (String, String) {
    use kkt::Error as E;
    if !i18n::ru() {
        return (e.to_string(), e.hint());
    }
    let cmd = |c: u8| match kkt::protocol::command_info(c) {
        Some(i) => format!("команда {c:#04X} «{}»", i.name_ru),
        None => format!("команда {c:#04X}"),
    };
    match e {
        E::Device { command, error } => (
            tr!("ru-device", command = cmd(*command), code = format!("{:#04X}", error.code), text = error.text_ru()),
            error.hint_ru().to_string(),
        ),
        E::Input(i) => (
            tr!("ru-input", field = i.field.to_string(), detail = i.message.as_str()),
            tr!("hint-fix-option", option = i.field.to_string()),
        ),
        E::Sequence(v) => (
            tr!("ru-sequence", command = cmd(v.command), code = format!("{:#04X}", v.code)),
            i18n::lib(v.hint_key(), v.hint),
        ),
        E::Link { command, error } => {
            (tr!("ru-link", command = cmd(*command), detail = error.to_string()), ru_link_hint(error))
        }
        E::Connect(error) => (tr!("ru-connect", detail = error.to_string()), ru_link_hint(error)),
        E::Protocol { command, error } => {
            (tr!("ru-protocol", command = cmd(*command), detail = error.to_string()), tr!("ru-hint-protocol"))
        }
        E::NotFormed { command, last_fd, .. } => {
            (tr!("ru-not-formed", command = cmd(*command), fd = *last_fd), tr!("ru-hint-not-formed"))
        }
        E::Uri(u) => (
            tr!("ru-uri", uri = u.uri.as_str(), detail = u.message.as_str()),
            u.suggestion.as_ref().map_or_else(|| tr!("hint-device"), |s| format!("--device {s}")),
        ),
        E::Interrupted { command } => (tr!("ru-interrupted", command = cmd(*command)), tr!("ru-hint-interrupted")),
        other => (other.to_string(), i18n::lib(other.kind().as_str(), &other.hint())),
    }
}

fn ru_link_hint(e: &kkt::transport::LinkError) -> String {
    match e {
        kkt::transport::LinkError::NotARegister { .. } => tr!("ru-hint-not-a-register"),
        _ => tr!("ru-hint-link"),
    }
}

/// Prints an error the way every command does: JSON `{"error": {...}}` with `--json`, text otherwise.
/// An error without its own hint gets the general one (every error has a hint).
pub fn print_error(json: bool, kind: &str, code: Option<u8>, message: &str, hint: &str) {
    let hint = if hint.trim().is_empty() { tr!("hint-see-help") } else { hint.to_string() };
    if json {
        let v = serde_json::json!({"error": {"kind": kind, "code": code, "message": message, "hint": hint}});
        println!("{v}");
    } else {
        eprintln!("kkt: {message}");
        eprintln!("{}: {hint}", tr!("label-hint"));
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
