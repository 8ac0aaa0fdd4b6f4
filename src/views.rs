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
/// state, marking state (0x90), OISM queue (0x9E), FN resources (0x9D).
pub fn status_json(kkt: &mut Kkt) -> Result<serde_json::Value, Error> {
    let st = kkt.status()?;
    let mark = kkt.call(&marking::GetMarkingStatus)?;
    let notes = kkt.call(&marking::GetNotificationState).ok();
    let memory = kkt.call(&marking::GetFnMemory).ok();
    Ok(status_value(&st, Some(&mark), &notes, &memory))
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
        }
    }
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
