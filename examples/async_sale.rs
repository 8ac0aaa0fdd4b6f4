//! The same sale with the async client on tokio.
//!
//! ```text
//! cargo run --example async_sale                     # the in-process virtual register
//! cargo run --example async_sale -- tcp://192.168.1.50:7778
//! ```

use kkt::receipt::{Cashier, Receipt};
use kkt::session::ShiftState;

const RECEIPT: &str = r#"{"operation": "sell", "taxation": "osn", "cashier": {"name": "Иванова А.А.", "inn": "500100732259"},
 "items": [
   {"name": "Хлеб", "price": "45.50", "quantity": "2", "vat": "vat10", "payment_method": "full_payment", "payment_object": "commodity"},
   {"name": "Молоко 3,2%", "price": "89.90", "quantity": "1", "vat": "vat10", "payment_method": "full_payment", "payment_object": "marked_commodity",
    "marking_code": "0104607028393037215'Wt4q\u001d93dGVz", "planned_status": "piece_sold"}],
 "payments": {"cash": "200.00", "electronic": "0"}, "print": true}"#;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), kkt::Error> {
    let uri = std::env::args().nth(1).unwrap_or_else(|| "emulator".into());
    let mut kkt = kkt::AsyncKkt::connect(&uri).await?;
    if kkt.session().shift() != ShiftState::Open {
        kkt.open_shift(&Cashier::new("Иванова А.А.")).await?;
    }
    let receipt = Receipt::from_json(RECEIPT)?;
    let doc = kkt.sell(&receipt).await?;
    println!("{}", serde_json::to_string_pretty(&doc).expect("a document serializes"));
    Ok(())
}
