//! The technician's commands: `kkt raw`, `kkt network`, `kkt settings print|control`, `kkt fn
//! errors`. Their input is checked before connecting ([`prepare`]).

use serde_json::json;

use super::device::{output, Failure, SettingsCmd};
use super::i18n::{pick, tr};
use super::Command;
use kkt::commands::network::{ControlSettings, GetControlSettings, GetNetworkSettings, NetworkSettings};
use kkt::commands::printer::{GetPrintSettings, PrintSettings, SetPrintSettings};
use kkt::commands::{info, network, Request};
use kkt::describe::{describe, Direction};
use kkt::protocol::values::{AddressMode, ControlInterface, FontSize, PrinterModel};
use kkt::protocol::{command_info, CommandClass};
use kkt::Kkt;

/// Options of `kkt raw`.
#[derive(Debug, clap::Args)]
pub struct RawArgs {
    /// The command code: 0x01, 01h or 1.
    #[arg(value_parser = super::decode::parse_code)]
    pub code: u8,
    /// Its DATA in hex ("B6 29" style: spaces allowed, several words are joined); none for a
    /// command without data.
    pub data: Vec<String>,
    /// Send a command that forms a fiscal document or changes a setting (it is journaled, so
    /// that a lost answer is settled as for any fiscal command).
    #[arg(long)]
    pub yes: bool,
}

impl RawArgs {
    fn class(&self) -> CommandClass {
        command_info(self.code).map_or(CommandClass::Service, |i| i.class)
    }

    /// Whether the command forms a document or changes a setting (needs --yes).
    pub fn forms_document(&self) -> bool {
        matches!(self.class(), CommandClass::Fiscal | CommandClass::Setting | CommandClass::Service)
    }

    fn journaled(&self) -> bool {
        matches!(self.class(), CommandClass::Fiscal | CommandClass::Setting)
    }
}

/// `kkt network ...`.
#[derive(Debug, clap::Subcommand)]
pub enum NetworkCmd {
    /// The Ethernet settings (0x75) and the address in use (0x0E).
    Get,
    /// Write the Ethernet settings (0x74): --dhcp, or --ip, --mask and --gateway.
    Set(NetworkSet),
}

/// `kkt network set`.
#[derive(Debug, clap::Args)]
pub struct NetworkSet {
    /// Take the address from DHCP.
    #[arg(long, conflicts_with_all = ["ip", "mask", "gateway"])]
    pub dhcp: bool,
    /// A static IPv4 address.
    #[arg(long, required_unless_present = "dhcp")]
    pub ip: Option<String>,
    /// Its subnet mask (255.255.255.0).
    #[arg(long, required_unless_present = "dhcp")]
    pub mask: Option<String>,
    /// The default gateway.
    #[arg(long, required_unless_present = "dhcp")]
    pub gateway: Option<String>,
}

/// `kkt settings print ...`.
#[derive(Debug, clap::Subcommand)]
pub enum PrintAction {
    /// Read the print settings (0x79).
    Get,
    /// Change the print settings (0x79, then 0x78 with what is given changed).
    Set {
        /// Printer model (v01.05 Приложение 4): a code 0–10 or its name (auto, custom_vkp80, …).
        #[arg(long, value_parser = parse_model)]
        model: Option<u8>,
        /// Font size.
        #[arg(long, value_parser = ["normal", "small"])]
        font: Option<String>,
        /// Shift reports of a printer that can retract: `in` pulls them in, `out` pushes them out.
        #[arg(long, value_parser = ["in", "out"])]
        retract: Option<String>,
        /// Text printed after the receipt's QR code (at most 128 characters; "" for none).
        #[arg(long, value_name = "TEXT")]
        receipt_text: Option<String>,
    },
}

/// `kkt settings control ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ControlAction {
    /// Read how the register is controlled (0x81).
    Get,
    /// Set how the register is controlled (0x80); switching the interface cuts this link once
    /// the register applies it.
    Set {
        /// The interface.
        #[arg(long, value_parser = ["rs232", "ethernet"])]
        interface: String,
        /// The TCP port the register listens on (with ethernet; default: keep the current one).
        #[arg(long)]
        port: Option<u16>,
    },
}

fn parse_model(s: &str) -> Result<u8, String> {
    let v = match s.parse::<u8>() {
        Ok(n) => PrinterModel::from(n),
        Err(_) => s.parse::<PrinterModel>().map_err(|e| e.to_string())?,
    };
    if !v.is_known() {
        return Err(format!("{s} is not a printer model code (0 to 10)"));
    }
    Ok(v.code())
}

/// What the command line prepared before connecting.
#[derive(Debug)]
pub enum Prepared {
    /// Nothing to prepare.
    Nothing,
    /// `kkt raw`: the code and DATA, checked; whether it goes through the journal.
    Raw {
        /// The command.
        code: u8,
        /// Its DATA.
        data: Vec<u8>,
        /// Journaled (fiscal or setting).
        journaled: bool,
    },
    /// `kkt network set`: the settings, encodable.
    Network(NetworkSettings),
}

/// Whether the prepared command goes through the journal.
pub fn journaled(p: &Prepared) -> bool {
    matches!(p, Prepared::Raw { journaled: true, .. })
}

/// Checks a command's input before connecting.
pub fn prepare(c: &Command) -> Result<Prepared, Failure> {
    match c {
        Command::Raw(a) => {
            let text = a.data.join(" ");
            let segs = super::decode::segments(&text, Direction::Request)
                .map_err(|m| Failure::usage(format!("DATA: {m}"), tr!("hint-raw")))?;
            let data: Vec<u8> = segs.into_iter().flat_map(|s| s.bytes).collect();
            if data.len() > kkt::protocol::frame::MAX_DATA {
                return Err(Failure::usage(
                    tr!("raw-too-long", len = data.len(), max = kkt::protocol::frame::MAX_DATA),
                    tr!("hint-raw"),
                ));
            }
            if a.forms_document() && !a.yes {
                let name = command_info(a.code).map_or_else(
                    || format!("{:#04X}", a.code),
                    |i| format!("{:#04X} «{}»", a.code, pick(i.name_ru, i.name_en)),
                );
                return Err(Failure::usage(tr!("raw-needs-yes", command = name), tr!("hint-raw-yes")));
            }
            Ok(Prepared::Raw { code: a.code, data, journaled: a.journaled() })
        }
        Command::Network { cmd: NetworkCmd::Set(s) } => {
            let n = if s.dhcp {
                NetworkSettings::dhcp()
            } else {
                NetworkSettings::fixed(
                    s.ip.as_deref().unwrap_or(""),
                    s.mask.as_deref().unwrap_or(""),
                    s.gateway.as_deref().unwrap_or(""),
                )
            };
            network::SetNetworkSettings(n.clone()).encode(&mut Vec::new()).map_err(kkt::Error::from)?;
            Ok(Prepared::Network(n))
        }
        _ => Ok(Prepared::Nothing),
    }
}

/// The answer to a raw command, explained as `kkt decode` explains a response.
fn print_answer(code: u8, answer: Result<Vec<u8>, kkt::Error>, json: bool) -> Result<(), Failure> {
    let (result, data) = match &answer {
        Ok(d) => (0u8, d.clone()),
        Err(kkt::Error::Device { error, .. }) => (1u8, vec![error.code]),
        Err(_) => return answer.map(|_| ()).map_err(Failure::from),
    };
    let mut frame = Vec::new();
    kkt::protocol::frame::encode(result, &data, &mut frame)
        .map_err(|e| Failure::usage(e.to_string(), tr!("hint-raw")))?;
    let kkt::protocol::frame::Parsed::Frame { frame: f, .. } = kkt::protocol::frame::parse(&frame) else {
        return Err(Failure::usage("the answer does not make a frame", tr!("hint-raw")));
    };
    let d = describe(f, Direction::Response, Some(code), 0);
    if json {
        println!("{}", serde_json::to_string(&d).unwrap_or_default());
    } else {
        print!("{d}");
    }
    match answer {
        Ok(_) => Ok(()),
        Err(e) => {
            let mut f = Failure::from(e);
            // The refusal was printed in full above; the exit code says it.
            f.silent = true;
            Err(f)
        }
    }
}

/// `kkt raw` (a query, or a document step).
pub fn raw(kkt: &mut Kkt, p: &Prepared, json: bool) -> Result<(), Failure> {
    let Prepared::Raw { code, data, .. } = p else {
        return Ok(());
    };
    print_answer(*code, kkt.call_raw(*code, data), json)
}

/// `kkt raw --yes` of a fiscal or settings command, through the journal.
pub fn raw_journaled(kkt: &mut kkt::journaled::JournaledKkt, p: &Prepared, json: bool) -> Result<(), Failure> {
    let Prepared::Raw { code, data, .. } = p else {
        return Ok(());
    };
    print_answer(*code, kkt.raw(*code, data), json)
}

fn network_text(n: &NetworkSettings, tcp: Option<&info::TcpIp>) -> String {
    let mut r = super::show::Rows::default();
    let mode = AddressMode::from(n.dhcp);
    r.add(tr!("net-mode"), pick(mode.text_ru().unwrap_or("?"), mode.text_en().unwrap_or("?")));
    let or_dash = |v: &Option<String>| v.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into());
    r.add(tr!("net-ip"), or_dash(&n.ip));
    r.add(tr!("net-mask"), or_dash(&n.mask));
    r.add(tr!("net-gateway"), or_dash(&n.gateway));
    r.add(tr!("net-dns"), if n.dhcp == 1 { tr!("net-dns-dhcp") } else { tr!("net-dns-static") });
    if let Some(t) = tcp {
        r.add(tr!("net-in-use"), format!("{} / {} · {} {}", t.ip, t.mask, tr!("word-gateway"), t.gateway));
    }
    r.render()
}

/// `kkt network get|set`.
pub fn network(kkt: &mut Kkt, p: &Prepared, json: bool) -> Result<(), Failure> {
    if let Prepared::Network(n) = p {
        kkt.call(&network::SetNetworkSettings(n.clone()))?;
    }
    let n = kkt.call(&GetNetworkSettings)?;
    let tcp = kkt.call(&info::GetTcpIp).ok();
    let v = json!({"set": matches!(p, Prepared::Network(_)), "network": n, "in_use": tcp,
                   "dns": if n.dhcp == 1 { "dhcp" } else { "register" }});
    output(json, &v, || {
        let head = if matches!(p, Prepared::Network(_)) { format!("{}\n", tr!("net-set-done")) } else { String::new() };
        head + &network_text(&n, tcp.as_ref())
    });
    Ok(())
}

/// The print settings as text.
pub fn print_settings_text(p: &PrintSettings) -> String {
    let model = p.printer_model.map(PrinterModel::from);
    let model = model.map_or_else(
        || tr!("print-model-unknown"),
        |m| pick(m.text_ru().unwrap_or("?"), m.text_en().unwrap_or("?")).to_string(),
    );
    let font = FontSize::from(p.font_size);
    let retract = if p.retract == 1 { tr!("print-retract-in") } else { tr!("print-retract-out") };
    let mut s = format!("{model} · {} · {retract}", pick(font.text_ru().unwrap_or("?"), font.text_en().unwrap_or("?")));
    if !p.receipt_text.is_empty() {
        s += &format!(" · {}: {:?}", tr!("print-receipt-text"), p.receipt_text);
    }
    s
}

fn control_text(c: &ControlSettings) -> String {
    let i = ControlInterface::from(c.interface);
    format!("{} · TCP {}", pick(i.text_ru().unwrap_or("?"), i.text_en().unwrap_or("?")), c.tcp_port)
}

/// `kkt settings ...`: OISM, key update host and OFD (in `device`), print and control here.
pub fn settings(kkt: &mut Kkt, cmd: &SettingsCmd, _p: &Prepared, json: bool) -> Result<(), Failure> {
    match cmd {
        SettingsCmd::Print { action: PrintAction::Get } => {
            let p = kkt.call(&GetPrintSettings)?;
            output(json, &p, || format!("{}\n", print_settings_text(&p)));
        }
        SettingsCmd::Print { action: PrintAction::Set { model, font, retract, receipt_text } } => {
            let mut p = kkt.call(&GetPrintSettings)?;
            // The model goes only when given (the register keeps its own otherwise).
            p.printer_model = *model;
            if let Some(f) = font {
                p.font_size = u8::from(f == "small");
            }
            if let Some(r) = retract {
                p.retract = u8::from(r == "in");
            }
            if let Some(t) = receipt_text {
                p.receipt_text = t.clone();
            }
            p.order = Default::default();
            kkt.call(&SetPrintSettings(p))?;
            let now = kkt.call(&GetPrintSettings)?;
            output(json, &json!({"set": true, "print_settings": now}), || {
                format!("{}\n{}\n", tr!("print-set-done"), print_settings_text(&now))
            });
        }
        SettingsCmd::Control { action: ControlAction::Get } => {
            let c = kkt.call(&GetControlSettings)?;
            output(json, &c, || format!("{}\n", control_text(&c)));
        }
        SettingsCmd::Control { action: ControlAction::Set { interface, port } } => {
            let mut c = kkt.call(&GetControlSettings)?;
            c.interface = u8::from(interface == "ethernet");
            if let Some(p) = port {
                c.tcp_port = *p;
            }
            c.order = Default::default();
            kkt.call(&network::SetControlSettings(c.clone()))?;
            output(json, &json!({"set": true, "control": c}), || {
                format!("{}\n{}\n", tr!("control-set-done"), control_text(&c))
            });
        }
        other => return super::device::settings(kkt, other, json),
    }
    Ok(())
}

/// `kkt fn errors` (0x09): the FN's buffer of its last errors, in hex (v01.05 does not describe
/// its layout).
pub fn fn_errors(kkt: &mut Kkt, json: bool) -> Result<(), Failure> {
    let e = kkt.call(&info::GetFnErrors)?;
    output(json, &json!({"bytes": e.data.len(), "data": hex::encode_upper(&e.data)}), || {
        if e.data.is_empty() {
            return format!("{}\n", tr!("fn-errors-empty"));
        }
        let mut s = format!("{}\n", tr!("fn-errors-head", bytes = e.data.len()));
        for (i, chunk) in e.data.chunks(16).enumerate() {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02X}")).collect();
            s += &format!("  {:04X}  {}\n", i * 16, hex.join(" "));
        }
        s
    });
    Ok(())
}
