//! `kkt demo`: a day's work on the built-in virtual register, with no device and no network.

use serde_json::json;

use super::device::{output, print_document, Failure, ReceiptResult};
use crate::driver::Options;
use crate::receipt::{Cashier, Receipt};
use crate::Kkt;

/// The demo's sale: bread (unmarked), milk and a tobacco-free marked item with codes the
/// virtual register's OISM model accepts.
pub const DEMO_RECEIPT: &str = r#"{
  "operation": "sell",
  "taxation": "osn",
  "cashier": {"name": "Иванова А.А.", "inn": "500100732259"},
  "items": [
    {"name": "Хлеб Бородинский", "price": "45.50", "quantity": "2", "vat": "vat10",
     "payment_method": "full_payment", "payment_object": "commodity"},
    {"name": "Молоко 3,2% 1 л", "price": "89.90", "quantity": "1", "vat": "vat10",
     "payment_method": "full_payment", "payment_object": "marked_commodity",
     "marking_code": "0104607028393034215'Wt4q\u001d93dGVz", "planned_status": "piece_sold"},
    {"name": "Вода питьевая 0,5 л", "price": "39.00", "quantity": "1", "vat": "vat20",
     "payment_method": "full_payment", "payment_object": "marked_commodity",
     "marking_code": "010464007801637221gDDJ2VMOqvdNG\u001d91FFD0\u001d92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=",
     "planned_status": "piece_sold"}
  ],
  "payments": {"cash": "250.00", "electronic": "0"},
  "print": true
}"#;

/// Runs the demo; `uri` is the register (the in-process emulator by default).
pub fn run(uri: &str, json: bool) -> Result<(), Failure> {
    let say = |s: String| {
        if !json {
            println!("{s}");
        }
    };
    say(format!("kkt demo: the virtual register ({uri}), no device and no network needed\n"));
    let mut kkt = Kkt::connect_with(uri, Options::default())?;
    let st = kkt.status()?;
    say(format!(
        "register {} · FN {} · last FD {}",
        st.status.serial, st.fn_status.fn_number, st.fn_status.last_fd_number
    ));
    if st.shift.open {
        say(format!("a shift ({}) is already open: closing it first", st.shift.shift_number));
        kkt.close_shift()?;
    }
    let cashier = Cashier { inn: Some("500100732259".into()), ..Cashier::new("Иванова А.А.") };
    let opened = kkt.open_shift(&cashier)?;
    say(format!("shift {} opened (FD {}, fiscal sign {})", opened.shift_number, opened.fd_number, opened.fiscal_sign));

    let receipt = Receipt::from_json(DEMO_RECEIPT).map_err(crate::Error::from)?;
    say("selling 3 items, 2 of them marked: each code is checked by the FN (0x91) and the OISM (0x92) first…".into());
    let doc = kkt.sell(&receipt)?;
    let result = ReceiptResult::new(&doc, &receipt);
    if !json {
        print!("{}", print_document(&receipt, &result));
    }
    let closed = kkt.close_shift()?;
    say(format!("shift {} closed (FD {}, fiscal sign {})", closed.shift_number, closed.fd_number, closed.fiscal_sign));
    output(json, &json!({"shift_open": opened, "receipt": result, "shift_close": closed}), String::new);
    Ok(())
}
