//! The JSON views that both the command line (`--json`) and the HTTP service answer with: the
//! register's status, a formed receipt, the register's own check of a marking code. One place, so
//! that `kkt --json status` and `GET /v1/status` cannot drift apart.

use kkt::commands::marking;
use kkt::{Error, Kkt};
use serde::Serialize;
use serde_json::json;

pub fn status_value(
    st: &kkt::driver::DeviceStatus,
    mark: &marking::MarkingStatus,
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
    let mut v = status_value(&st, &mark, &notes, &memory);
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
                           "tag1265": m.tag1265, "notes": m.notes})
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
