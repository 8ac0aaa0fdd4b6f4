//! Shared by the fault tests: receipts with marked goods, the register's documents, counting.

use std::path::PathBuf;

use kkt::emulator::state::DocumentRecord;
use kkt::emulator::RegisterState;
use kkt::protocol::Decimal;
use kkt::receipt::{Cashier, Customer, Item, Money, Receipt, Taxation, Vat};

/// Marking codes the virtual register accepts (seed 004; GS = 0x1D).
pub const CODE: &str =
    "010464007801637221gDDJ2VMOqvdNG\u{1d}91FFD0\u{1d}92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=";
pub const CODE2: &str = "0104600439931256215Bd;cj,\u{1d}93dGVz";

pub fn cashier() -> Cashier {
    Cashier { name: "Иванова А.А.".into(), inn: Some("500100732259".into()) }
}

/// CODE and CODE2 with serials of their own for `n` (the same `n`, the same codes): a till's
/// sold-codes store refuses a code sold before, and these receipts are all sales.
pub fn codes(n: u64) -> [String; 2] {
    let a = CODE.replacen("gDDJ2VMOqvdNG", &format!("gDDJ2VMOq{:04}", n % 10_000), 1);
    let b = CODE2.replacen("5Bd;cj,", &format!("5B{:05}", n % 100_000), 1);
    [a, b]
}

/// A sale: bread, and `marked` marked items (their codes from `n`); `n` varies the price so that
/// receipts differ.
pub fn sale(id: Option<&str>, n: u64, marked: usize) -> Receipt {
    let mut r = Receipt::sell(Taxation::OSN);
    r.id = id.map(str::to_string);
    r.cashier = Some(cashier());
    r.items.push(Item::new("Хлеб", Money::from_kopecks(4550 + n % 1000), Decimal::integer(2), Vat::VAT10));
    for (i, code) in codes(n).iter().take(marked).enumerate() {
        r.items.push(Item::marked(format!("Молоко {i}"), Money::from_kopecks(8990), Vat::VAT10, code.as_str()));
    }
    if marked > 0 {
        r.customer = Some(Customer { contact: Some("+79990000000".into()), ..Customer::default() });
    }
    r.payments.cash = r.total();
    r
}

/// The receipts in the register's archive.
pub fn receipts(state: &RegisterState) -> Vec<&DocumentRecord> {
    state.documents.iter().filter(|d| matches!(d.doc_type, 3 | 31)).collect()
}

/// A fresh temporary directory.
pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kkt-{name}-{}-{}", std::process::id(), nanos()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}
