//! `kkt status` and `kkt info` for people: every byte the register answers, named (the FN's
//! phase, warnings, the marking state and its allowed FN commands, the queues, the resources,
//! registration modes and taxation, the FN format), one labelled row each. The rows are a list
//! ([`Rows`]), so that a section can be added without touching the others.

use serde_json::json;

use super::device::{output, Failure};
use super::i18n::{pick, ru, tr};
use kkt::commands::{info, marking, network, printer, settings};
use kkt::protocol::values::{
    FfdVersion, FnWarnings, MarkCheckState, MarkCommandsAllowed, NotificationState, NotificationStorage, OismExchange,
    PrinterStatus, WireEnum,
};
use kkt::Kkt;

/// Labelled rows, printed aligned.
#[derive(Debug, Default)]
pub struct Rows(Vec<(String, String)>);

impl Rows {
    /// Adds a row.
    pub fn add(&mut self, label: impl Into<String>, value: impl Into<String>) {
        self.0.push((label.into(), value.into()));
    }

    /// The rows as text, one a line; a value with several lines continues under the first.
    pub fn render(&self) -> String {
        // At least 13 columns: the layout scripts and people know (`shift        open`).
        let width = (self.0.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0) + 1).max(13);
        let mut s = String::new();
        for (l, v) in &self.0 {
            let pad = width - l.chars().count();
            let mut lines = v.lines();
            s += &format!("{l}{}{}\n", " ".repeat(pad), lines.next().unwrap_or(""));
            for more in lines {
                s += &format!("{}{more}\n", " ".repeat(width));
            }
        }
        s
    }
}

/// A known value's text in the language in use, or its number with a note.
fn named<T: WireEnum>(v: T, ru_text: Option<&'static str>, en_text: Option<&'static str>) -> String {
    match (ru_text, en_text) {
        (Some(r), Some(e)) => pick(r, e).to_string(),
        _ => format!("{v} ({})", tr!("word-undocumented")),
    }
}

macro_rules! name_of {
    ($v:expr) => {{
        let v = $v;
        named(v, v.text_ru(), v.text_en())
    }};
}

/// The set bits of a mask as text ("none" when empty).
fn bits(ru_texts: Vec<&'static str>, en_texts: Vec<&'static str>, undefined: u32) -> String {
    let mut t: Vec<String> = if ru() { ru_texts } else { en_texts }.into_iter().map(str::to_string).collect();
    if undefined != 0 {
        t.push(format!("{undefined:#04x} ({})", tr!("word-undocumented")));
    }
    if t.is_empty() {
        tr!("word-none")
    } else {
        t.join(", ")
    }
}

macro_rules! bits_of {
    ($v:expr) => {{
        let v = $v;
        bits(v.texts_ru(), v.texts_en(), u32::from(v.undefined()))
    }};
}

fn phase_text(p: kkt::protocol::values::LifePhase) -> String {
    format!("{} ({:#04x})", name_of!(p), p.code())
}

/// The FN's warning flags, one a line (Таблица 1).
pub fn warnings_text(w: u8) -> String {
    let f = FnWarnings::from(w);
    if f.is_empty() {
        return tr!("word-none");
    }
    let mut lines: Vec<String> =
        FnWarnings::BITS.iter().filter(|b| f.contains(b.0)).map(|b| format!("⚠ {}", pick(b.2, b.3))).collect();
    if f.undefined() != 0 {
        lines.push(format!("⚠ {:#04x} ({})", f.undefined(), tr!("word-undocumented")));
    }
    lines.join("\n")
}

fn date(t: &chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// `kkt status`.
pub fn status(kkt: &mut Kkt, json: bool) -> Result<(), Failure> {
    let st = kkt.status()?;
    let mark = kkt.call(&marking::GetMarkingStatus).ok();
    let notes = kkt.call(&marking::GetNotificationState).ok();
    let memory = kkt.call(&marking::GetFnMemory).ok();
    // The OFD exchange (0x50) with what it means: the oldest unsent document's age, warnings.
    let ofd_status = kkt.ofd_status().ok();
    let ofd = ofd_status.as_ref().map(|o| &o.exchange);
    let mut v = crate::views::status_value(&st, mark.as_ref(), &notes, &memory);
    v["ofd_exchange"] = json!(ofd);
    crate::views::with_ofd(&mut v, ofd_status.as_ref());
    for w in ofd_status.iter().flat_map(|o| &o.warnings) {
        tracing::warn!("{w}");
    }
    output(json, &v, || {
        let f = &st.fn_status;
        let mut r = Rows::default();
        r.add(
            tr!("status-register"),
            format!("{} ({} {})", st.status.serial, tr!("word-clock"), date(&st.status.datetime)),
        );
        r.add(tr!("status-printer"), name_of!(PrinterStatus::from(st.status.printer_status)));
        r.add(
            tr!("status-fn"),
            format!(
                "{} · {} · {} {} ({})",
                f.fn_number,
                phase_text(f.phase),
                tr!("status-last-fd"),
                f.last_fd_number,
                date(&f.last_document_datetime)
            ),
        );
        r.add(tr!("status-warnings"), warnings_text(f.warnings));
        let shift = if st.shift.open {
            tr!("status-shift-open", number = st.shift.shift_number, receipts = st.shift.receipt_number)
        } else {
            tr!("status-shift-closed", number = st.shift.shift_number)
        };
        r.add(tr!("status-shift"), shift);
        r.add(tr!("status-document"), name_of!(f.current_document));
        if let Some(m) = &mark {
            let mut t = format!(
                "{} · {}",
                name_of!(MarkCheckState::from(m.check_state)),
                name_of!(NotificationState::from(m.notification_state))
            );
            t += &format!("\n{}: {}", tr!("status-kept-results"), m.kept_results);
            t += &format!("\n{}: {}", tr!("status-notification-codes"), m.notification_codes);
            t += &format!(
                "\n{}: {}",
                tr!("status-notification-storage"),
                name_of!(NotificationStorage::from(m.storage_warning))
            );
            t += &format!("\n{}: {}", tr!("status-notification-queue"), m.notification_queue);
            t += &format!(
                "\n{} ({:#04x}): {}",
                tr!("status-allowed-commands"),
                m.allowed_commands,
                bits_of!(MarkCommandsAllowed::from(m.allowed_commands))
            );
            r.add(tr!("status-marking"), t);
        } else {
            r.add(tr!("status-marking"), tr!("status-marking-none"));
        }
        if let Some(n) = &notes {
            let mut t = format!("{} · {}: {}", name_of!(OismExchange::from(n.state)), tr!("word-queue"), n.queue);
            if n.queue > 0 {
                t += &format!(
                    " · {} {} ({})",
                    tr!("status-current-notification"),
                    n.current,
                    n.current_datetime.as_ref().map(date).unwrap_or_default()
                );
            }
            t += &format!(" · {} {} %", tr!("status-storage-used"), n.storage_percent);
            r.add(tr!("status-oism-queue"), t);
        }
        if let Some(o) = &ofd {
            let t = if o.queue_len == 0 {
                tr!("status-ofd-empty")
            } else {
                tr!(
                    "status-ofd-queue",
                    count = o.queue_len,
                    first = o.first_document,
                    since = date(&o.first_document_datetime)
                )
            };
            let t = ofd_status
                .iter()
                .flat_map(|o| &o.warnings)
                .fold(t, |t, w| format!("{t}\n{}: {w}", super::i18n::pick("ВНИМАНИЕ", "WARNING")));
            r.add(tr!("status-ofd"), t);
        }
        if let Some(m) = &memory {
            let mut t = tr!("status-resources", documents = m.documents_5y, kilobytes = m.kilobytes_30d);
            if let Some(p) = m.notifications_percent {
                t += &format!(" · {}", tr!("status-resources-notifications", percent = p));
            }
            r.add(tr!("status-fn-resources"), t);
        }
        r.render()
    });
    Ok(())
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
    let width = kkt.call(&info::GetLineWidth).ok();
    let tcp = kkt.call(&info::GetTcpIp).ok();
    let print = kkt.call(&printer::GetPrintSettings).ok();
    let control = kkt.call(&network::GetControlSettings).ok();
    let v = json!({"model": model.text, "serial": serial, "firmware": fw.text, "fn_serial": fn_serial.text,
                   "fn_firmware": fn_fw.as_ref().map(|t| &t.text), "fn_validity": validity,
                   "config_version": config.as_ref().map(|t| &t.text), "fn_format": format,
                   "service_params": service.as_ref().map(|t| &t.text), "registration": reg,
                   "line_width": width.map(|w| w.chars), "tcp_ip": tcp, "print_settings": print,
                   "control": control});
    output(json, &v, || {
        let mut r = Rows::default();
        r.add(tr!("info-model"), model.text.clone());
        r.add(tr!("info-serial"), serial.serial.clone());
        r.add(tr!("info-firmware"), fw.text.clone());
        if let Some(c) = &config {
            r.add(tr!("info-config"), c.text.clone());
        }
        r.add(tr!("info-fn"), fn_serial.text.clone());
        if let Some(t) = &fn_fw {
            r.add(tr!("info-fn-firmware"), t.text.clone());
        }
        if let Some(f) = &format {
            r.add(
                tr!("info-fn-format"),
                tr!(
                    "info-fn-format-value",
                    used = name_of!(FfdVersion::from(f.ffd)),
                    supported = name_of!(FfdVersion::from(f.ffd_supported))
                ),
            );
        }
        if let Some(val) = &validity {
            r.add(
                tr!("info-fn-validity"),
                tr!(
                    "info-fn-validity-value",
                    until = val.valid_until.format("%Y-%m-%d").to_string(),
                    done = val.registrations_done,
                    left = val.registrations_left
                ),
            );
        }
        match &reg {
            Some(g) => {
                r.add(tr!("info-registration-number"), g.registration_number.clone());
                r.add(tr!("info-inn"), g.inn.clone());
                r.add(tr!("info-modes"), bits_of!(g.modes));
                r.add(tr!("info-taxation"), bits_of!(g.taxation));
                r.add(tr!("info-agents"), bits_of!(g.agent));
            }
            None => r.add(tr!("info-registration-number"), tr!("info-not-registered")),
        }
        if let Some(w) = width {
            r.add(tr!("info-line-width"), tr!("info-line-width-value", chars = w.chars));
        }
        if let Some(t) = &tcp {
            r.add(tr!("info-tcp-ip"), format!("{} / {} · {} {}", t.ip, t.mask, tr!("word-gateway"), t.gateway));
        }
        if let Some(c) = &control {
            let i = kkt::protocol::values::ControlInterface::from(c.interface);
            r.add(tr!("info-control"), format!("{} · TCP {}", name_of!(i), c.tcp_port));
        }
        if let Some(p) = &print {
            r.add(tr!("info-printer"), super::service::print_settings_text(p));
        }
        if let Some(s) = &service {
            r.add(tr!("info-service"), s.text.clone());
        }
        r.render()
    });
    Ok(())
}
