//! The commands that talk to a register: status, info, shift, receipts, reports, settings.

use std::io::{IsTerminal as _, Read as _};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{config::Config, exit, print_error, Cli};
use crate::views::ReceiptResult;
use kkt::commands::{info, marking, network, registration, settings, Request};
use kkt::driver::{Event, Options};
use kkt::journaled::JournaledKkt;
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
    /// Set the register's clock: `now` (this computer's local time) or `YYYY-MM-DDTHH:MM`.
    Set {
        /// The time.
        value: String,
    },
}

/// `kkt report ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ReportCmd {
    /// The settlement status report (0x27, 0x28).
    Settlement,
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
}

/// The register to use, from the options, the environment or the config file.
pub fn device_uri(cli: &Cli, cfg: &Config) -> Result<String, String> {
    cli.device.clone().or_else(|| cfg.device.clone()).ok_or_else(|| {
        "no register given: use --device URI (tcp://HOST:PORT, serial:///dev/ttyUSB0, emulator?state=FILE), \
         KKT_DEVICE, or `device` in the config file"
            .to_string()
    })
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

/// Connects, with a progress line on a terminal for the key update at shift open.
pub fn connect(cli: &Cli, cfg: &Config, print: bool) -> Result<Kkt, Failure> {
    let uri = device_uri(cli, cfg).map_err(|m| Failure::usage(m, ""))?;
    let mut kkt = Kkt::connect_with(&uri, options(cli, cfg, print)).map_err(Failure::from)?;
    let tty = std::io::stderr().is_terminal() && !cli.json;
    kkt.on_event(move |e| {
        if !tty {
            return;
        }
        match e {
            Event::KeyUpdate { finished: None } => {
                eprint!("kkt: opening the shift (the register may update marking-code keys, ~15 s)…")
            }
            Event::KeyUpdate { finished: Some(d) } => eprintln!(" done in {:.1} s", d.as_secs_f64()),
            Event::Retrying { command, attempt, reason } => {
                eprintln!("kkt: {command:#04X} attempt {attempt} failed ({reason}); retrying")
            }
            Event::Reconciling { command, cause } => {
                eprintln!("kkt: the answer to {command:#04X} was lost ({cause}); asking the register what happened…")
            }
            Event::OismUnreachable => {
                eprintln!("kkt: the OISM did not answer (0xCC): going on with the FN's check of the code")
            }
            _ => {}
        }
    });
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
}

impl Failure {
    /// Bad input or usage.
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Failure { exit: exit::INPUT, kind: "input", code: None, message: message.into(), hint: hint.into() }
    }

    /// Prints it and gives the exit code.
    pub fn report(&self, json: bool) -> u8 {
        print_error(json, self.kind, self.code, &self.message, &self.hint);
        self.exit
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
            // A kind of failure this build does not know: do not say that nothing happened.
            _ => exit::UNKNOWN,
        };
        Failure { exit, kind: e.kind().as_str(), code: e.device_code(), message: e.to_string(), hint: e.hint() }
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
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| Failure::usage(format!("stdin: {e}"), ""))?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display()), ""))
    }
}

/// The cashier from the options, else the config file.
pub fn cashier(args: &CashierArgs, cfg: &Config) -> Cashier {
    let c = cfg.cashier.clone().unwrap_or_default();
    let mut out = Cashier::new(args.cashier.clone().or(c.name).unwrap_or_else(|| "Кассир".into()));
    out.inn = args.cashier_inn.clone().or(c.inn);
    out
}

/// `kkt status`.
pub fn status(kkt: &mut Kkt, json: bool) -> Result<(), Failure> {
    let st = kkt.status()?;
    let mark = kkt.call(&marking::GetMarkingStatus)?;
    let notes = kkt.call(&marking::GetNotificationState).ok();
    let memory = kkt.call(&marking::GetFnMemory).ok();
    let v = crate::views::status_value(&st, &mark, &notes, &memory);
    output(json, &v, || {
        let mut s = String::new();
        let f = &st.fn_status;
        s += &format!("register     {} (clock {})\n", st.status.serial, st.status.datetime);
        s += &format!("printer      {}\n", printer_status(st.status.printer_status));
        s += &format!(
            "FN           {} phase {:#04x} ({}), last FD {}\n",
            f.fn_number,
            f.phase,
            f.phase.text_en().unwrap_or("unknown phase"),
            f.last_fd_number
        );
        s += &format!("FN warnings  {:#04x}{}\n", f.warnings, if f.warnings == 0 { " (none)" } else { "" });
        s += &format!(
            "shift        {} number {}, receipts {}\n",
            if st.shift.open { "open" } else { "closed" },
            st.shift.shift_number,
            st.shift.receipt_number
        );
        s += &format!("document     {}\n", f.current_document.text_en().unwrap_or("unknown document"));
        s += &format!("marking      {}\n", serde_json::to_string(&mark).unwrap_or_default());
        if let Some(n) = &notes {
            s += &format!("OISM queue   {}\n", serde_json::to_string(n).unwrap_or_default());
        }
        if let Some(m) = &memory {
            s += &format!("FN memory    {}\n", serde_json::to_string(m).unwrap_or_default());
        }
        s
    });
    Ok(())
}

fn printer_status(b: u8) -> &'static str {
    match b {
        0 => "ok, paper present",
        b => kkt::commands::printer::printer_status_name(b).unwrap_or("unknown status"),
    }
}

/// `kkt info`.
pub fn info(kkt: &mut Kkt, json: bool) -> Result<(), Failure> {
    let model = kkt.call(&info::GetModel)?;
    let serial = kkt.call(&info::GetSerial)?;
    let fw = kkt.call(&info::GetFirmwareVersion)?;
    let fn_serial = kkt.call(&info::GetFnSerial)?;
    let fn_fw = kkt.call(&info::GetFnFirmwareVersion).ok();
    let validity = kkt.call(&info::GetFnValidity).ok();
    let config = kkt.call(&info::GetConfigVersion).ok();
    let format = kkt.call(&settings::GetFnFormat).ok();
    let service = kkt.call(&settings::GetServiceParams).ok();
    let reg = kkt.call(&info::GetRegistration).ok();
    let v = json!({"model": model.text, "serial": serial, "firmware": fw.text, "fn_serial": fn_serial.text,
                   "fn_firmware": fn_fw.map(|t| t.text), "fn_validity": validity, "config_version": config.map(|t| t.text),
                   "fn_format": format, "service_params": service.map(|t| t.text), "registration": reg});
    output(json, &v, || {
        let mut s = String::new();
        for (k, val) in v.as_object().into_iter().flatten() {
            s += &format!(
                "{k:<16} {}\n",
                match val {
                    serde_json::Value::String(t) => t.clone(),
                    other => other.to_string(),
                }
            );
        }
        s
    });
    Ok(())
}

/// `kkt shift ...`.
pub fn shift(kkt: &mut Kkt, cmd: &ShiftCmd, cfg: &Config, json: bool) -> Result<(), Failure> {
    match cmd {
        ShiftCmd::Open(a) => {
            let r = kkt.open_shift(&cashier(a, cfg))?;
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

/// Forms a receipt (or correction) from JSON text, through the journal (its `id` is honoured).
pub fn receipt(kkt: &mut JournaledKkt, text: &str, correction: bool, json: bool) -> Result<(), Failure> {
    let r = Receipt::from_json(text).map_err(Error::from)?;
    let limits = kkt.kkt().options().limits;
    r.validate_with(&limits).map_err(Error::from)?;
    let f = if correction { kkt.correction(&r)? } else { kkt.receipt(&r)? };
    let out =
        ReceiptResult { replayed: f.replayed, journal_seq: Some(f.journal_seq), ..ReceiptResult::new(&f.document) };
    output(json, &out, || print_document(&r, &out));
    Ok(())
}

/// The fiscal document as a person reads it.
pub fn print_document(r: &Receipt, d: &ReceiptResult) -> String {
    let mut s = String::new();
    s += &format!("{:=^48}\n", " КАССОВЫЙ ЧЕК ");
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

/// `kkt report settlement`.
pub fn report(kkt: &mut Kkt, json: bool) -> Result<(), Failure> {
    let r = kkt.settlement_report()?;
    output(json, &r, || {
        format!(
            "settlement report: FD {}, fiscal sign {}, {} documents not confirmed by the OFD\n",
            r.fd_number, r.fiscal_sign, r.unconfirmed
        )
    });
    Ok(())
}

/// The registration file of `kkt register FILE`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationFile {
    /// 1 registration; re-registration types per seed 004 (0xE1).
    #[serde(default = "one")]
    pub report_type: u8,
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
    /// Vending machine number.
    pub automat_number: Option<String>,
    /// Usage condition bits (tag 9998).
    #[serde(default)]
    pub usage: u8,
    /// Operating mode bits (tag 9999).
    #[serde(default)]
    pub modes: u8,
    /// Taxation system bits.
    pub taxation: u8,
    /// Re-registration reason bits.
    pub reasons: Option<u8>,
}

fn one() -> u8 {
    1
}

/// `kkt register FILE`.
pub fn register(kkt: &mut Kkt, text: &str, json: bool) -> Result<(), Failure> {
    let f: RegistrationFile = serde_json::from_str(text)
        .map_err(|e| Failure::usage(format!("registration file: {e}"), "see README: kkt register"))?;
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
        usage: f.usage.into(),
        modes: f.modes.into(),
        ..Default::default()
    };
    let form = registration::FormRegistration {
        inn: f.inn,
        registration_number: f.registration_number,
        taxation: f.taxation.into(),
        reasons: f.reasons.map(Into::into),
    };
    let r = if f.report_type == 1 { kkt.register(&data, &form)? } else { kkt.reregister(f.report_type, &data, &form)? };
    output(json, &r, || format!("registration report formed: FD {}, fiscal sign {}\n", r.fd_number, r.fiscal_sign));
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
/// one another program opened is refused (exit 3, `register_busy`).
pub fn cancel_own(kkt: &mut JournaledKkt, json: bool) -> Result<(), Failure> {
    let cancelled = kkt.cancel_own()?;
    output(json, &json!({"cancelled": cancelled}), || {
        if cancelled {
            "the document this journal's attempt left open was cancelled\n".into()
        } else {
            "no document is open on the register: nothing to cancel\n".into()
        }
    });
    Ok(())
}

/// `kkt cancel --force`: whatever document is open, on a person's decision.
pub fn cancel_forced(kkt: &mut Kkt, json: bool) -> Result<(), Failure> {
    let fs = kkt.call(&info::GetFnStatus)?;
    let open = fs.current_document != kkt::protocol::values::CurrentDocument::NONE;
    if open {
        kkt.cancel_document()?;
    }
    output(json, &json!({"cancelled": open}), || {
        if open {
            format!(
                "the open document ({}) was cancelled: the receipt it was is not formed\n",
                fs.current_document.text_en().unwrap_or("a document")
            )
        } else {
            "no document is open on the register: nothing to cancel\n".into()
        }
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
        DateTimeCmd::Set { value } => {
            let t = if value == "now" {
                chrono::Local::now().naive_local()
            } else {
                chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M").map_err(|_| {
                    Failure::usage(format!("datetime {value:?}: expected `now` or YYYY-MM-DDTHH:MM"), "")
                })?
            };
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
        hint: String::new(),
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
