//! The commands that talk to a register: status, info, shift, receipts, reports, settings.

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::i18n::tr;
use super::{config::Config, exit, print_error, Cli};
use crate::views::ReceiptResult;
use kkt::commands::{info, network, registration, settings, Request};
use kkt::driver::Options;
use kkt::journaled::JournaledKkt;
use kkt::protocol::values::{OperatingModes, ReregistrationReasons, TaxationSystems, UsageConditions};
use kkt::receipt::{Cashier, Receipt};
use kkt::{Error, Kkt};

/// `kkt shift ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ShiftCmd {
    /// Open a shift (the register may update its marking-code keys: ~15 s or more).
    Open(CashierArgs),
    /// Close the shift.
    Close(CashierArgs),
    /// Shift number, receipts in it, open or closed.
    Status,
}

/// The cashier of a shift command.
#[derive(Debug, clap::Args)]
pub struct CashierArgs {
    /// Cashier's name (tag 1021); default from the config file.
    #[arg(long)]
    pub cashier: Option<String>,
    /// Cashier's INN, 12 digits (tag 1203).
    #[arg(long)]
    pub cashier_inn: Option<String>,
    /// Do not print the report.
    #[arg(long)]
    pub no_print: bool,
}

/// `kkt settings ...`.
#[derive(Debug, clap::Subcommand)]
pub enum SettingsCmd {
    /// The OISM host (0x83 / 0x82).
    Oism {
        /// get, or set.
        #[command(subcommand)]
        action: HostAction,
    },
    /// The marking-code key update host (0x85 / 0x84).
    KeysHost {
        /// get, or set.
        #[command(subcommand)]
        action: HostAction,
    },
    /// The OFD settings (0x77 / 0x76).
    Ofd {
        /// get, or set.
        #[command(subcommand)]
        action: HostAction,
    },
    /// The print settings: printer model, font, retract of shift reports, receipt text (0x79 / 0x78).
    Print {
        /// get, or set.
        #[command(subcommand)]
        action: super::service::PrintAction,
    },
    /// How the register is controlled: RS-232 or Ethernet and its TCP port (0x81 / 0x80).
    Control {
        /// get, or set.
        #[command(subcommand)]
        action: super::service::ControlAction,
    },
}

/// get or set a host.
#[derive(Debug, clap::Subcommand)]
pub enum HostAction {
    /// Read the setting.
    Get,
    /// Write the setting.
    Set {
        /// Host name or address.
        #[arg(long)]
        host: String,
        /// TCP port.
        #[arg(long)]
        port: u16,
        /// OISM answer timeout in seconds (30 recommended), or the OFD exchange timer.
        #[arg(long, value_name = "SECS")]
        host_timeout: Option<u16>,
    },
}

/// `kkt datetime ...`.
#[derive(Debug, clap::Subcommand)]
pub enum DateTimeCmd {
    /// The register's clock.
    Get,
    /// Set the register's clock: `now` (this computer's local time) or `YYYY-MM-DDTHH:MM`. A
    /// time before the FN's last document is refused (the register would refuse every receipt
    /// until then) unless --force.
    Set {
        /// The time.
        value: String,
        /// Set a time before the FN's last document anyway.
        #[arg(long)]
        force: bool,
    },
}

/// `kkt report ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ReportCmd {
    /// The settlement status report (0x27, 0x28). Journaled.
    Settlement,
    /// The shift's counters (0x20, 0xB0): the register has no X-report command; this is the
    /// nearest (shift number, receipts, cash and electronic totals), with nothing printed or formed.
    Shift,
}

/// `kkt fn ...`.
#[derive(Debug, clap::Subcommand)]
pub enum FnCmd {
    /// Close the fiscal storage (0x14, 0x17, 0x15): irreversible.
    Close {
        /// Required: the FN cannot be reopened.
        #[arg(long)]
        yes: bool,
        /// Cashier's name for the report.
        #[arg(long)]
        cashier: Option<String>,
    },
    /// The FN's buffer of its last errors (0x09), in hex.
    Errors,
}

/// The register to use, from the options, the environment or the config file.
pub fn device_uri(cli: &Cli, cfg: &Config) -> Result<String, String> {
    cli.device_given().or_else(|| cfg.device.clone()).ok_or_else(|| tr!("error-no-device"))
}

/// Driver options from the command line and config.
pub fn options(cli: &Cli, cfg: &Config, print: bool) -> Options {
    let mut o = Options {
        print_reports: print,
        limits: kkt::receipt::Limits { max_items: cli.max_items, max_change: cli.max_change },
        ..Options::default()
    };
    if let Some(d) = &cfg.driver {
        o.retries = d.retries.unwrap_or(o.retries);
        o.retry_delay = d.retry_delay_ms.map_or(o.retry_delay, Duration::from_millis);
        o.reconcile_attempts = d.reconcile_attempts.unwrap_or(o.reconcile_attempts);
        o.reconcile_delay = d.reconcile_delay_ms.map_or(o.reconcile_delay, Duration::from_millis);
        o.resync_on_connect = d.resync_on_connect.unwrap_or(o.resync_on_connect);
    }
    if let Some(t) = cli.timeout.or(cfg.timeout) {
        let t = Duration::from_secs(t);
        for c in kkt::protocol::tables::commands() {
            // Keep the longer documented timeouts (shift open, FN close) unless asked for more.
            let d = Duration::from_millis(u64::from(c.timeout_ms));
            o.timeouts.insert(c.code, if d > Duration::from_secs(20) { d.max(t) } else { t });
        }
    }
    // `--timeout` is the whole wait for one command, its repetitions included (by default the
    // command table's timeout: 20 s, longer for shift open). A `retries` count given in the
    // config's [driver] table keeps the counted policy instead: that many repetitions, each
    // sending waiting its own timeout.
    let counted = cfg.driver.as_ref().is_some_and(|d| d.retries.is_some());
    if !counted {
        o.budget = Some(cli.timeout.or(cfg.timeout).map_or(Duration::from_secs(20), Duration::from_secs));
    }
    o
}

/// Connects; the driver's events go to the progress line (on a terminal only).
pub fn connect(cli: &Cli, cfg: &Config, print: bool, progress: &super::progress::Progress) -> Result<Kkt, Failure> {
    if cfg.timeout == Some(0) && cli.timeout.is_none() {
        return Err(Failure::usage(tr!("error-config-timeout-zero"), tr!("hint-fix-config")));
    }
    let uri = device_uri(cli, cfg).map_err(|m| Failure::usage(m, tr!("hint-device")))?;
    let mut kkt = Kkt::connect_with(&uri, options(cli, cfg, print)).map_err(Failure::from)?;
    if progress.enabled() {
        let p = progress.clone();
        kkt.on_event(move |e| p.event(e));
    }
    Ok(kkt)
}

/// An error as the command line reports it.
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub exit: u8,
    /// `input`, `device`, `link`, ...
    pub kind: &'static str,
    /// Device error code, if any.
    pub code: Option<u8>,
    /// What happened.
    pub message: String,
    /// What to do.
    pub hint: String,
    /// More fields of the JSON error (`mark_refused`: the item, its verdict, the commands sent).
    pub extra: Option<Box<serde_json::Value>>,
    /// Already told in full (the exit code alone says it).
    pub silent: bool,
}

impl Failure {
    /// Bad input or usage.
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Failure {
            exit: exit::INPUT,
            kind: "input",
            code: None,
            message: message.into(),
            hint: hint.into(),
            extra: None,
            silent: false,
        }
    }

    /// Prints it and gives the exit code.
    pub fn report(&self, json: bool) -> u8 {
        match (&self.extra, json) {
            _ if self.silent => {}
            (Some(extra), true) => {
                let mut e = serde_json::json!({"kind": self.kind, "code": self.code, "message": self.message, "hint": self.hint});
                if let (Some(o), Some(x)) = (e.as_object_mut(), extra.as_object()) {
                    o.extend(x.clone());
                }
                println!("{}", serde_json::json!({ "error": e }));
            }
            _ => print_error(json, self.kind, self.code, &self.message, &self.hint),
        }
        self.exit
    }

    /// Names the command line's options instead of the fields of the driver's input
    /// (`--cashier-inn`, not `cashier.inn`).
    pub fn with_option_names(mut self, command: &super::Command) -> Self {
        if self.kind != "input" {
            return self;
        }
        for (field, option) in option_names(command) {
            let from = format!("{field}: ");
            if self.message.contains(&from) {
                self.message = self.message.replacen(&from, &format!("{option}: "), 1);
            }
            if self.hint.ends_with(field) {
                self.hint = tr!("hint-fix-option", option = *option);
            }
        }
        self
    }
}

/// The driver's input fields of a command and the options that give them.
fn option_names(c: &super::Command) -> &'static [(&'static str, &'static str)] {
    use super::Command as C;
    match c {
        C::Shift { .. } | C::Fn { .. } => &[
            ("cashier.cashier_inn", "--cashier-inn"),
            ("cashier.inn", "--cashier-inn"),
            ("cashier_inn", "--cashier-inn"),
            ("cashier.name", "--cashier"),
            ("cashier.cashier", "--cashier"),
            ("cashier", "--cashier"),
        ],
        C::Settings { .. } => &[
            ("address", "--host"),
            ("host", "--host"),
            ("port", "--port"),
            ("timeout_s", "--host-timeout"),
            ("timer_s", "--host-timeout"),
            ("tcp_port", "--port"),
            ("receipt_text", "--receipt-text"),
            ("printer_model", "--model"),
        ],
        C::Network { .. } => &[("ip", "--ip"), ("mask", "--mask"), ("gateway", "--gateway"), ("dhcp", "--dhcp")],
        C::Activate { .. } => &[("code", "CODE")],
        _ => &[],
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let exit = match &e {
            Error::Input(_) | Error::Uri(_) | Error::Sequence(_) => exit::INPUT,
            Error::Device { .. } | Error::RegisterBusy { .. } => exit::DEVICE,
            Error::Link { .. } | Error::Connect(_) | Error::Protocol { .. } | Error::NotFormed { .. } => exit::LINK,
            Error::UnknownOutcome(_) | Error::Pending { .. } => exit::UNKNOWN,
            Error::IdReused { .. } => exit::INPUT,
            Error::Journal(_) => exit::JOURNAL,
            Error::MarkRefused(_) => exit::REFUSED,
            Error::Interrupted { .. } => exit::INTERRUPTED,
            // A kind of failure this build does not know: do not say that nothing happened.
            _ => exit::UNKNOWN,
        };
        let extra = match &e {
            Error::MarkRefused(r) => Some(Box::new(json!({"item": r.item, "verdict": r.verdict, "sent": r.sent}))),
            _ => None,
        };
        let (message, hint) = super::i18n_error(&e);
        Failure { exit, kind: e.kind().as_str(), code: e.device_code(), message, hint, extra, silent: false }
    }
}

/// Prints `value` as JSON, or `human` for people.
pub fn output<T: Serialize>(json: bool, value: &T, human: impl FnOnce() -> String) {
    if json {
        println!("{}", serde_json::to_string(value).unwrap_or_default());
    } else {
        print!("{}", human());
    }
}

/// Reads a JSON file, or stdin for `-`.
pub fn read_input(path: &Path) -> Result<String, Failure> {
    let (bytes, name) = if path.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::stdin().read_to_end(&mut b).map_err(|e| Failure::usage(format!("stdin: {e}"), ""))?;
        (b, "stdin".to_string())
    } else {
        let b = std::fs::read(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display()), ""))?;
        (b, path.display().to_string())
    };
    text(&bytes).map_err(|m| Failure::usage(format!("{name}: {m}"), "save the file as UTF-8"))
}

/// A text file as Windows editors save it too: UTF-8, with or without a byte-order mark, or
/// UTF-16 with one (Notepad's "Unicode", PowerShell 5's `>`). Anything else is refused, never
/// guessed: a receipt's names must reach the register as the user wrote them.
pub fn text(bytes: &[u8]) -> Result<String, String> {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling_and_without_replacement(&bytes[bom..])
            .map(|s| s.into_owned())
            .ok_or_else(|| format!("not valid {} after its byte-order mark", enc.name()));
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|e| format!("not UTF-8 (byte {} is not; a windows-1251 or cp866 file?)", e.utf8_error().valid_up_to()))
}

/// The cashier from the options, else the config file.
pub fn cashier(args: &CashierArgs, cfg: &Config) -> Cashier {
    let c = cfg.cashier.clone().unwrap_or_default();
    let mut out = Cashier::new(args.cashier.clone().or(c.name).unwrap_or_else(|| "Кассир".into()));
    out.inn = args.cashier_inn.clone().or(c.inn);
    out
}

/// `kkt shift open|close`, journaled.
pub fn shift_journaled(jk: &mut JournaledKkt, cmd: &ShiftCmd, cfg: &Config, json: bool) -> Result<(), Failure> {
    match cmd {
        ShiftCmd::Open(a) => {
            let r = match jk.open_shift(&cashier(a, cfg)) {
                Ok(r) => r,
                Err(e) => return Err(not_registered(jk.kkt(), e)),
            };
            output(json, &r, || {
                format!("shift {} opened: FD {}, fiscal sign {}\n", r.shift_number, r.fd_number, r.fiscal_sign)
            });
        }
        ShiftCmd::Close(a) => {
            let r = jk.close_shift(Some(&cashier(a, cfg)))?;
            output(json, &r, || {
                format!("shift {} closed: FD {}, fiscal sign {}\n", r.shift_number, r.fd_number, r.fiscal_sign)
            });
        }
        ShiftCmd::Status => shift(jk.kkt(), cmd, cfg, json)?,
    }
    Ok(())
}

/// `kkt shift ...`.
pub fn shift(kkt: &mut Kkt, cmd: &ShiftCmd, cfg: &Config, json: bool) -> Result<(), Failure> {
    match cmd {
        ShiftCmd::Open(a) => {
            let r = kkt.open_shift(&cashier(a, cfg)).map_err(|e| not_registered(kkt, e))?;
            output(json, &r, || {
                format!("shift {} opened: FD {}, fiscal sign {}\n", r.shift_number, r.fd_number, r.fiscal_sign)
            });
        }
        ShiftCmd::Close(a) => {
            let r = kkt.close_shift_as(&cashier(a, cfg))?;
            output(json, &r, || {
                format!("shift {} closed: FD {}, fiscal sign {}\n", r.shift_number, r.fd_number, r.fiscal_sign)
            });
        }
        ShiftCmd::Status => {
            let p = kkt.shift_params()?;
            output(json, &p, || {
                format!(
                    "shift {} {}, {} receipts\n",
                    p.shift_number,
                    if p.open { "open" } else { "closed" },
                    p.receipt_number
                )
            });
        }
    }
    Ok(())
}

/// A refused shift open on a register that is not registered yet (a factory-fresh FN) says so
/// and what to run.
fn not_registered(kkt: &mut Kkt, e: Error) -> Failure {
    use kkt::protocol::values::LifePhase;
    if !matches!(e, Error::Device { .. } | Error::Sequence(_)) {
        return e.into();
    }
    match kkt.call(&info::GetFnStatus) {
        Ok(fs) if fs.phase == LifePhase::FACTORY || fs.phase == LifePhase::SETUP => Failure {
            exit: exit::DEVICE,
            kind: "device",
            code: e.device_code(),
            message: tr!(
                "error-not-registered",
                phase = super::i18n::pick(fs.phase.text_ru().unwrap_or("?"), fs.phase.text_en().unwrap_or("?"))
            ),
            hint: tr!("hint-register-first"),
            extra: None,
            silent: false,
        },
        _ => e.into(),
    }
}

/// Forms a receipt (or correction) from JSON text, through the journal (its `id` is honoured).
pub fn receipt(
    kkt: &mut JournaledKkt,
    text: &str,
    correction: bool,
    json: bool,
    progress: &super::progress::Progress,
) -> Result<(), Failure> {
    let r = Receipt::from_json(text).map_err(Error::from)?;
    let limits = kkt.kkt().options().limits;
    r.validate_with(&limits).map_err(Error::from)?;
    let f = if correction { kkt.correction(&r)? } else { kkt.receipt(&r)? };
    progress.finish();
    let out =
        ReceiptResult { replayed: f.replayed, journal_seq: Some(f.journal_seq), ..ReceiptResult::new(&f.document) };
    output(json, &out, || print_document(&r, &out));
    Ok(())
}

/// The fiscal document as a person reads it.
pub fn print_document(r: &Receipt, d: &ReceiptResult) -> String {
    let mut s = String::new();
    let title = if d.document == "correction" { " ЧЕК КОРРЕКЦИИ " } else { " КАССОВЫЙ ЧЕК " };
    s += &format!("{:=^48}\n", title);
    s += &format!(
        "{} / {}\n",
        r.operation.text_ru().unwrap_or("признак расчета неизвестен"),
        r.taxation.text_ru().unwrap_or("СНО неизвестна")
    );
    for (i, it) in r.items.iter().enumerate() {
        s += &format!(
            "{:>2}. {}\n    {} x {} = {}\n",
            i + 1,
            it.name,
            it.quantity,
            it.price,
            it.amount().map(|m| m.to_string()).unwrap_or_default()
        );
        if let Some(m) = d.marks.iter().find(|m| m["item"] == i) {
            let f = &m["tag2106"];
            s += &format!(
                "    [М] code checked: {}, crypto tail ok: {}, OISM status ok: {} (2106 = {})\n",
                f["checked"], f["crypto_ok"], f["status_correct"], f["raw"]
            );
        }
    }
    for u in &d.defaults {
        s += &format!("    {} (tag {}) from the registration: {}\n", u.field, u.tag, u.value);
    }
    if let Some(c) = &r.correction {
        s += &format!("корректируемый расчет от {}\n", c.date.format("%d.%m.%Y"));
    }
    s += &format!("ИТОГ {:>43}\n", d.total);
    if d.change != "0.00" {
        s += &format!("СДАЧА {:>42}\n", d.change);
    }
    s += &format!("смена {} чек {}  {}\n", d.shift_number, d.receipt_number, d.datetime);
    s += &format!(
        "ФД {}  ФП {}{}\n",
        d.fd_number,
        d.fiscal_sign,
        if d.recovered { " (confirmed from the FN archive after a lost answer)" } else { "" }
    );
    if d.replayed {
        s += &format!(
            "(formed earlier for id {:?}: this is that document; nothing was formed or printed again)\n",
            r.id.as_deref().unwrap_or("")
        );
    }
    s += &format!("{:=^48}\n", "");
    s
}

/// `kkt report settlement`, journaled.
pub fn report(kkt: &mut JournaledKkt, json: bool) -> Result<(), Failure> {
    let r = kkt.settlement_report()?;
    output(json, &r, || {
        format!(
            "settlement report: FD {}, fiscal sign {}, {} documents not confirmed by the OFD\n",
            r.fd_number, r.fiscal_sign, r.unconfirmed
        )
    });
    Ok(())
}

/// The registration file of `kkt register FILE` (README: kkt register; `kkt register --help`
/// shows an example).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationFile {
    /// 0xE1's report type: 0 first registration, 1 re-registration with FN replacement, 2
    /// re-registration without (seed 004).
    #[serde(default)]
    pub report_type: u8,
    /// Re-registration reasons (tag 1205) by name: `fn_replacement`, `ofd_change`, …
    #[serde(default, with = "kkt::protocol::values::by_names::option")]
    pub reasons: Option<ReregistrationReasons>,
    /// User (organisation) name, tag 1048.
    pub user_name: String,
    /// User's INN (10 or 12 digits).
    pub inn: String,
    /// Registration number (РН ККТ).
    pub registration_number: String,
    /// Settlement address, tag 1009.
    pub address: String,
    /// Settlement place, tag 1187.
    pub place: String,
    /// Authorised person, tag 1021.
    pub cashier: String,
    /// Authorised person's INN.
    pub cashier_inn: Option<String>,
    /// OFD INN.
    pub ofd_inn: Option<String>,
    /// OFD name.
    pub ofd_name: Option<String>,
    /// Receipt sender email.
    pub sender_email: Option<String>,
    /// Vending machine number (tag 1036): a register in an automat.
    pub automat_number: Option<String>,
    /// Usage conditions (tag 9998) by name: `marking`, `excise`, …
    #[serde(default, with = "kkt::protocol::values::by_names")]
    pub usage: UsageConditions,
    /// Operating modes (tag 9999) by name: `encryption`, `autonomous`, `services`, `bso`, `internet`.
    #[serde(default, with = "kkt::protocol::values::by_names")]
    pub modes: OperatingModes,
    /// Taxation systems by name: `osn`, `usn_income`, `usn_income_outcome`, `esn`, `patent`.
    #[serde(with = "kkt::protocol::values::by_names")]
    pub taxation: TaxationSystems,
}

/// Reads a registration file, naming the field of an error.
pub fn registration_file(text: &str) -> Result<RegistrationFile, Failure> {
    let mut de = serde_json::Deserializer::from_str(text);
    let f: RegistrationFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Failure::usage(
            format!("registration file: {}: {}", if path == "." { "file".into() } else { path }, e.into_inner()),
            "see `kkt register --help` and README: kkt register",
        )
    })?;
    Ok(f)
}

/// `kkt register FILE`.
pub fn register(kkt: &mut Kkt, text: &str, json: bool) -> Result<(), Failure> {
    let f = registration_file(text)?;
    let data = registration::RegistrationData {
        user_name: f.user_name,
        address: f.address,
        place: f.place,
        cashier: f.cashier,
        cashier_inn: f.cashier_inn,
        ofd_inn: f.ofd_inn,
        ofd_name: f.ofd_name,
        sender_email: f.sender_email,
        automat_number: f.automat_number,
        usage: f.usage,
        modes: f.modes,
        ..Default::default()
    };
    let form = registration::FormRegistration {
        inn: f.inn,
        registration_number: f.registration_number,
        taxation: f.taxation,
        reasons: f.reasons,
    };
    let r = if f.report_type == 0 { kkt.register(&data, &form)? } else { kkt.reregister(f.report_type, &data, &form)? };
    let what = match f.report_type {
        0 => "registration report",
        _ => "re-registration report",
    };
    output(json, &r, || format!("{what} formed: FD {}, fiscal sign {}\n", r.fd_number, r.fiscal_sign));
    Ok(())
}

/// `kkt fn close`.
pub fn fn_close(kkt: &mut Kkt, yes_given: bool, cashier: Option<&str>, json: bool) -> Result<(), Failure> {
    if !yes_given {
        return Err(Failure::usage("closing the FN is irreversible", "add --yes to close it"));
    }
    let data =
        cashier.map(|c| kkt::commands::report::ReportData { cashier: Some(c.to_string()), ..Default::default() });
    let r = kkt.close_fn(data.as_ref())?;
    output(json, &r, || format!("FN closed: FD {}, fiscal sign {}\n", r.fd_number, r.fiscal_sign));
    Ok(())
}

/// `kkt cancel`: the document this kkt's journal left open (a failed or interrupted attempt);
/// one another program opened is refused (exit 3, `register_busy`); with none open it says so
/// (exit 0).
pub fn cancel_own(kkt: &mut JournaledKkt, json: bool) -> Result<(), Failure> {
    let before = kkt.kkt().call(&info::GetFnStatus)?;
    if !kkt.cancel_own()? {
        output(json, &json!({"cancelled": false, "open_document": null}), || format!("{}\n", tr!("cancel-nothing")));
        return Ok(());
    }
    let what = super::i18n::pick(
        before.current_document.text_ru().unwrap_or("?"),
        before.current_document.text_en().unwrap_or("?"),
    )
    .to_string();
    output(json, &json!({"cancelled": true, "open_document": before.current_document.name()}), || {
        format!("{}\n", tr!("cancel-done", document = what.as_str()))
    });
    Ok(())
}

/// `kkt cancel --force`: cancels whatever document is open on the register, on a person's
/// decision (another program's receipt is then not formed); with none open it says so (exit 0).
pub fn cancel_forced(kkt: &mut Kkt, json: bool) -> Result<(), Failure> {
    use kkt::protocol::values::CurrentDocument;
    let before = kkt.call(&info::GetFnStatus)?;
    if before.current_document == CurrentDocument::NONE {
        output(json, &json!({"cancelled": false, "open_document": null}), || format!("{}\n", tr!("cancel-nothing")));
        return Ok(());
    }
    let what = super::i18n::pick(
        before.current_document.text_ru().unwrap_or("?"),
        before.current_document.text_en().unwrap_or("?"),
    )
    .to_string();
    kkt.cancel_document()?;
    output(json, &json!({"cancelled": true, "open_document": before.current_document.name()}), || {
        format!("{}\n", tr!("cancel-done", document = what.as_str()))
    });
    Ok(())
}

fn call_set<R: Request>(kkt: &mut Kkt, req: R) -> Result<(), Failure> {
    kkt.call(&req).map(|_| ()).map_err(Failure::from)
}

/// `kkt settings ...`.
pub fn settings(kkt: &mut Kkt, cmd: &SettingsCmd, json: bool) -> Result<(), Failure> {
    match cmd {
        SettingsCmd::Oism { action: HostAction::Get } => {
            let h = kkt.call(&settings::GetOismHost)?;
            output(json, &h, || format!("OISM host {}:{} (timeout {} s)\n", h.address, h.port, h.timeout_s));
        }
        SettingsCmd::Oism { action: HostAction::Set { host, port, host_timeout: timeout } } => {
            let h = settings::OismHost {
                address: host.clone(),
                port: *port,
                timeout_s: timeout.unwrap_or(30),
                ..Default::default()
            };
            call_set(kkt, settings::SetOismHost(h))?;
            output(json, &json!({"set": true}), || "OISM host set\n".into());
        }
        SettingsCmd::KeysHost { action: HostAction::Get } => {
            let h = kkt.call(&settings::GetKeyUpdateHost)?;
            output(json, &h, || format!("key update host {}:{}\n", h.address, h.port));
        }
        SettingsCmd::KeysHost { action: HostAction::Set { host, port, .. } } => {
            let h = settings::KeyUpdateHost { address: host.clone(), port: *port, ..Default::default() };
            call_set(kkt, settings::SetKeyUpdateHost(h))?;
            output(json, &json!({"set": true}), || "key update host set\n".into());
        }
        SettingsCmd::Ofd { action: HostAction::Get } => {
            let h = kkt.call(&network::GetOfdSettings)?;
            output(json, &h, || format!("OFD {}:{} (timer {} s)\n", h.host, h.port, h.timer_s));
        }
        SettingsCmd::Ofd { action: HostAction::Set { host, port, host_timeout: timeout } } => {
            let mut h = kkt.call(&network::GetOfdSettings)?;
            h.host = host.clone();
            h.port = *port;
            if let Some(t) = timeout {
                h.timer_s = *t;
            }
            call_set(kkt, network::SetOfdSettings(h))?;
            output(json, &json!({"set": true}), || "OFD settings set\n".into());
        }
        SettingsCmd::Print { .. } | SettingsCmd::Control { .. } => {
            return super::service::settings(kkt, cmd, &super::service::Prepared::Nothing, json)
        }
    }
    Ok(())
}

/// `kkt datetime ...`.
pub fn datetime(kkt: &mut Kkt, cmd: &DateTimeCmd, json: bool) -> Result<(), Failure> {
    match cmd {
        DateTimeCmd::Get => {
            let d = kkt.call(&info::GetDateTime)?;
            output(json, &d, || format!("{}\n", d.datetime.format("%Y-%m-%d %H:%M")));
        }
        DateTimeCmd::Set { value, force } => {
            let t = if value == "now" {
                chrono::Local::now().naive_local()
            } else {
                chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M").map_err(|_| {
                    Failure::usage(tr!("error-datetime-format", value = value.as_str()), tr!("hint-datetime-format"))
                })?
            };
            let fs = kkt.call(&info::GetFnStatus)?;
            let last = fs.last_document_datetime;
            if fs.last_fd_number > 0 && t < last && !force {
                return Err(Failure::usage(
                    tr!(
                        "error-datetime-before-last",
                        value = t.format("%Y-%m-%d %H:%M").to_string(),
                        last = last.format("%Y-%m-%d %H:%M").to_string(),
                        fd = fs.last_fd_number
                    ),
                    tr!("hint-datetime-force"),
                ));
            }
            call_set(kkt, info::SetDateTime(info::DateTime { datetime: t }))?;
            output(json, &json!({"set": t.format("%Y-%m-%dT%H:%M").to_string()}), || {
                format!("clock set to {}\n", t.format("%Y-%m-%d %H:%M"))
            });
        }
    }
    Ok(())
}

/// `kkt activate CODE`.
pub fn activate(kkt: &mut Kkt, code: &str, json: bool) -> Result<(), Failure> {
    let b: [u8; 16] = code.as_bytes().try_into().map_err(|_| {
        Failure::usage(format!("activation code: {} characters given, 16 expected", code.chars().count()), "")
    })?;
    call_set(kkt, settings::EnterActivationCode { code: b })?;
    output(json, &json!({"activated": true}), || "activation code accepted\n".into());
    Ok(())
}

/// `kkt ports`: serial ports with their USB ids.
pub fn ports(json: bool) -> Result<(), Failure> {
    let list = serialport::available_ports().map_err(|e| Failure {
        exit: exit::LINK,
        kind: "link",
        code: None,
        message: format!("cannot list serial ports: {e}"),
        hint: tr!("hint-ports"),
        extra: None,
        silent: false,
    })?;
    let v: Vec<_> = list
        .iter()
        .map(|p| match &p.port_type {
            serialport::SerialPortType::UsbPort(u) => json!({"port": p.port_name, "type": "usb", "vid": format!("{:04x}", u.vid),
                "pid": format!("{:04x}", u.pid), "serial_number": u.serial_number, "manufacturer": u.manufacturer, "product": u.product}),
            serialport::SerialPortType::PciPort => json!({"port": p.port_name, "type": "pci"}),
            serialport::SerialPortType::BluetoothPort => json!({"port": p.port_name, "type": "bluetooth"}),
            serialport::SerialPortType::Unknown => json!({"port": p.port_name, "type": "unknown"}),
        })
        .collect();
    output(json, &v, || {
        if v.is_empty() {
            return "no serial ports found\n".into();
        }
        v.iter()
            .map(|p| {
                let usb = if p["type"] == "usb" {
                    format!(
                        " USB {}:{} serial {} {}",
                        p["vid"].as_str().unwrap_or(""),
                        p["pid"].as_str().unwrap_or(""),
                        p["serial_number"],
                        p["product"]
                    )
                } else {
                    String::new()
                };
                format!("{} ({}){usb}\n", p["port"].as_str().unwrap_or(""), p["type"].as_str().unwrap_or(""))
            })
            .collect()
    });
    Ok(())
}
