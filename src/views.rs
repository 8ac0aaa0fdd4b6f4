//! The JSON views that both the command line (`--json`) and the HTTP service answer with: the
//! register's status, a formed receipt, the register's own check of a marking code. One place, so
//! that `kkt --json status` and `GET /v1/status` cannot drift apart.

use kkt::commands::marking;
use kkt::{Error, Kkt};
use serde::Serialize;
use serde_json::json;

pub fn status_value(
    st: &kkt::driver::DeviceStatus,
    mark: Option<&marking::MarkingStatus>,
    notes: &Option<marking::NotificationState>,
    memory: &Option<marking::FnMemory>,
) -> serde_json::Value {
    json!({"register": st.status, "fn": st.fn_status, "shift": st.shift, "session": st.session,
           "marking": mark, "oism_notifications": notes, "fn_memory": memory})
}

/// What `kkt --json status` prints (and `GET /v1/status` answers): register, FN, shift, session
/// state, marking state (0x90), OISM queue (0x9E), FN resources (0x9D), the OFD exchange (0x50)
/// with its warnings.
pub fn status_json(kkt: &mut Kkt) -> Result<serde_json::Value, Error> {
    let st = kkt.status()?;
    let mark = kkt.call(&marking::GetMarkingStatus)?;
    let notes = kkt.call(&marking::GetNotificationState).ok();
    let memory = kkt.call(&marking::GetFnMemory).ok();
    let ofd = kkt.ofd_status().ok();
    let mut v = status_value(&st, Some(&mark), &notes, &memory);
    with_ofd(&mut v, ofd.as_ref());
    Ok(v)
}

/// Adds `ofd` (the exchange with the OFD and its warnings) to a status.
pub fn with_ofd(v: &mut serde_json::Value, ofd: Option<&kkt::driver::OfdStatus>) {
    if let Some(o) = v.as_object_mut() {
        o.insert("ofd".into(), serde_json::to_value(ofd).unwrap_or_default());
    }
}
/// The result of `kkt receipt` and `kkt correction`.
#[derive(Debug, Serialize)]
pub struct ReceiptResult {
    /// Receipt number in the shift.
    pub receipt_number: u16,
    /// Fiscal document number.
    pub fd_number: u32,
    /// Fiscal sign.
    pub fiscal_sign: u32,
    /// Shift number.
    pub shift_number: u16,
    /// When it was formed.
    pub datetime: String,
    /// Total, in roubles.
    pub total: String,
    /// Change from cash.
    pub change: String,
    /// The answer was lost and the document was confirmed from the FN archive.
    pub recovered: bool,
    /// The receipt's `id` was formed before: this is that document (nothing formed again).
    pub replayed: bool,
    /// The host journal's entry (absent when not journaled, as in the demo).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_seq: Option<i64>,
    /// Marked items: their index and tag 2106 flags.
    pub marks: Vec<serde_json::Value>,
    /// `receipt` or `correction` (a correction receipt, «ЧЕК КОРРЕКЦИИ»).
    pub document: &'static str,
    /// The settlement requisites (1009, 1187, 1036) the receipt left out and the driver took
    /// from the registration (a vending, delivery or one-to-many register).
    pub defaults: Vec<kkt::driver::RequisiteDefault>,
}

impl ReceiptResult {
    /// The answer for a formed receipt.
    pub fn new(doc: &kkt::driver::FiscalDocument) -> Self {
        ReceiptResult {
            receipt_number: doc.receipt_number,
            fd_number: doc.fd_number,
            fiscal_sign: doc.fiscal_sign,
            shift_number: doc.shift_number,
            datetime: doc.datetime.format("%Y-%m-%dT%H:%M:%S").to_string(),
            total: doc.total.to_string(),
            change: doc.change.to_string(),
            recovered: doc.recovered,
            replayed: false,
            journal_seq: None,
            marks: doc
                .marks
                .iter()
                .map(|m| {
                    json!({"item": m.item, "tag2106": m.result, "check": m.check, "source": m.source,
                           "tag1265": m.tag1265, "notes": m.notes, "check_id": m.check_id})
                })
                .collect(),
            document: if doc.correction { "correction" } else { "receipt" },
            defaults: doc.defaults.clone(),
        }
    }
}

/// The answer to cash in or out (`kkt --json cash in`, `POST /v1/cash/in`).
pub fn cash_json(d: &kkt::journaled::CashDone, id: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::to_value(d).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("id".into(), json!(id));
    }
    v
}

/// The money counters (`kkt --json cash totals`, `GET /v1/cash`): roubles as decimal strings.
pub fn money_json(t: &kkt::driver::MoneyTotals) -> serde_json::Value {
    json!({"cash": t.cash, "electronic": t.electronic})
}

/// The shift's counters (`kkt --json report shift`, `GET /v1/reports/shift`).
pub fn shift_counters_json(c: &kkt::driver::ShiftCounters) -> serde_json::Value {
    json!({"shift": c.shift, "money": money_json(&c.money), "datetime": c.datetime.format("%Y-%m-%dT%H:%M:%S").to_string()})
}

/// What was printed (`kkt --json print`, `POST /v1/print`).
pub fn printed_json(p: &kkt::driver::Printed) -> serde_json::Value {
    json!({"printed": true, "commands": p.commands, "lines": p.lines})
}

/// The OFD exchange as a person reads it.
pub fn ofd_text(st: &kkt::driver::OfdStatus) -> String {
    let mut s = String::new();
    match (st.first_unsent, st.first_unsent_at) {
        (Some(fd), Some(at)) => {
            s += &format!(
                "OFD queue    {} documents waiting, the first FD {fd} of {} ({} hours)
",
                st.queue,
                at.format("%Y-%m-%d %H:%M"),
                st.waiting_hours.unwrap_or(0)
            );
        }
        _ => {
            s += "OFD queue    empty: every document reached the OFD
"
        }
    }
    if let Some(n) = st.unconfirmed {
        s += &format!(
            "unconfirmed  {n} documents without the OFD's confirmation
"
        );
    }
    for w in &st.warnings {
        s += &format!(
            "WARNING      {w}
"
        );
    }
    s
}

/// The `register` object of a verdict: the register's own check of a code (0x91 the FN, 0x92
/// the OISM) with its tag 2106 explained.
pub fn register_check_json(c: &kkt::driver::MarkCheck) -> serde_json::Value {
    let flags = c.flags();
    serde_json::json!({
        "fn_check": c.local,
        "oism": c.online,
        "tag2106": flags,
        "explained": flags.map(|f| f.explain()),
    })
}

/// One code for the register's own check (`kkt mark check --device`, `POST /v1/marks/check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkQuery {
    /// The code, parsed (GS as U+001D).
    pub code: String,
    /// The planned status (2003).
    pub planned_status: kkt::receipt::PlannedStatus,
    /// The quantity.
    pub quantity: kkt::protocol::Decimal,
    /// The measure (2108).
    pub measure: kkt::receipt::Measure,
    /// A fraction of a piece.
    pub fraction: Option<(u32, u32)>,
}

/// The register's ids and its own checks of codes.
#[derive(Debug, Clone, Default)]
pub struct RegisterChecks {
    /// The FN serial.
    pub fn_number: Option<String>,
    /// The register's serial number.
    pub serial: Option<String>,
    /// The registration INN (0x0A).
    pub inn: Option<String>,
    /// Per code: `{"register": …, "device_2106": …}` or `{"register_error": …}`.
    pub checks: Vec<serde_json::Value>,
}

impl RegisterChecks {
    /// As the worker answers it.
    pub fn to_json(&self) -> serde_json::Value {
        json!({"fn_number": self.fn_number, "serial": self.serial, "inn": self.inn, "checks": self.checks})
    }

    /// From the worker's answer.
    pub fn from_json(v: &serde_json::Value) -> RegisterChecks {
        let s = |k: &str| v[k].as_str().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
        RegisterChecks {
            fn_number: s("fn_number"),
            serial: s("serial"),
            inn: s("inn"),
            checks: v["checks"].as_array().cloned().unwrap_or_default(),
        }
    }

    /// What the checker takes from each code's check: its 2106, its refusal.
    pub fn facts(&self) -> Vec<kkt::checker::RegisterFacts> {
        self.checks
            .iter()
            .map(|c| {
                let e = &c["register_error"];
                kkt::checker::RegisterFacts {
                    device_2106: c["device_2106"].as_u64().and_then(|r| u8::try_from(r).ok()),
                    refused: e.is_object().then(|| kkt::checker::RegisterRefusal {
                        code: e["code"].as_u64().and_then(|c| u8::try_from(c).ok()).unwrap_or(0),
                        en: e["en"].as_str().unwrap_or("").to_string(),
                        ru: e["ru"].as_str().unwrap_or("").to_string(),
                    }),
                }
            })
            .collect()
    }
}

/// The register's check of each code: 0x91, 0x92, then 0x94 with 0 so that no result stays in
/// the FN. A code the register refuses itself (0x91/0x92 answered an error about the code: the
/// driver has already dropped a half-checked code) gets its `register_error`; an error about the
/// register's state (marking not allowed, check table full …), a link or a protocol failure is
/// the answer.
pub fn register_checks(kkt: &mut Kkt, codes: &[MarkQuery]) -> Result<RegisterChecks, Error> {
    let st = kkt.status()?;
    let inn = kkt.call(&kkt::commands::info::GetRegistration).ok().map(|r| r.inn.trim().to_string());
    let mut out = RegisterChecks {
        fn_number: Some(st.fn_status.fn_number.trim().to_string()).filter(|s| !s.is_empty()),
        serial: Some(st.status.serial.trim().to_string()).filter(|s| !s.is_empty()),
        inn: inn.filter(|s| !s.is_empty()),
        checks: Vec::with_capacity(codes.len()),
    };
    for q in codes {
        let c = if q.measure == kkt::receipt::Measure::PIECE && q.fraction.is_none() {
            kkt.check_mark(&q.code, q.planned_status, q.quantity)
        } else {
            kkt.check_mark_measured(&q.code, q.planned_status, q.quantity, q.measure, q.fraction)
        };
        let c = match c {
            Ok(c) => c,
            Err(Error::Device { command, error }) if kkt::commands::marking::CODE_REFUSALS.contains(&error.code) => {
                out.checks.push(json!({
                    "register_error": {
                        "command": command,
                        "code": error.code,
                        "ru": error.text_ru(),
                        "en": error.text_en(),
                        "hint": error.hint_en(),
                    },
                }));
                continue;
            }
            Err(e) => return Err(e),
        };
        kkt.decline_mark()?;
        out.checks.push(json!({
            "register": register_check_json(&c),
            "device_2106": c.device_result().map(|r| r.0),
        }));
    }
    Ok(out)
}

/// A verdict as `kkt --json mark check` prints it and `POST /v1/marks/check` answers it: the
/// checker's verdict, with the register's own check under `register` (and `register_error`
/// when the register refused the code).
pub fn verdict_json(v: &kkt::checker::Verdict, register: Option<&serde_json::Value>) -> serde_json::Value {
    let mut o = serde_json::to_value(v).unwrap_or_default();
    if let (Some(r), Some(m)) = (register, o.as_object_mut()) {
        m.insert("register".into(), r["register"].clone());
        if r["register_error"].is_object() {
            m.insert("register_error".into(), r["register_error"].clone());
        }
    }
    o
}
