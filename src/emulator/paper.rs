//! What the virtual register prints for a fiscal document: the receipt and the shift reports
//! as text, 48 characters wide, in Russian as on a real register's paper (operations and
//! taxation by their names of the tag tables: «Приход», «ОСН»).

use super::state::{doc_type, DocumentRecord, ReceiptDraft, RegisterState};
use crate::protocol::values::{Operation, Taxation, Vat};

const WIDTH: usize = 48;

fn rub(k: u64) -> String {
    format!("{}.{:02}", k / 100, k % 100)
}

/// `label ........ value` across the width.
fn row(label: &str, value: &str) -> String {
    let used = label.chars().count() + value.chars().count();
    let dots = WIDTH.saturating_sub(used + 1).max(1);
    format!("{label} {}{value}\n", " ".repeat(dots))
}

fn centre(text: &str) -> String {
    format!("{text:^WIDTH$}").trim_end().to_string() + "\n"
}

fn header(s: &RegisterState, out: &mut String) {
    if let Some(reg) = &s.registration {
        out.push_str(&centre(&reg.user_name));
        out.push_str(&centre(&reg.address));
        if !reg.place.is_empty() && reg.place != reg.address {
            out.push_str(&centre(&reg.place));
        }
        out.push_str(&row("ИНН", reg.inn.trim()));
    }
}

fn footer(s: &RegisterState, d: &DocumentRecord, out: &mut String) {
    out.push_str(&row("Смена", &d.shift.to_string()));
    out.push_str(&row("Дата, время", &d.datetime.format("%d.%m.%Y %H:%M").to_string()));
    if let Some(reg) = &s.registration {
        out.push_str(&row("РН ККТ", reg.registration_number.trim()));
    }
    out.push_str(&row("ЗН ККТ", s.serial.trim()));
    out.push_str(&row("ФН", s.fn_number.trim()));
    out.push_str(&row("ФД", &d.number.to_string()));
    out.push_str(&row("ФП", &format!("{:010}", d.fiscal_sign)));
    out.push_str(&"=".repeat(WIDTH));
    out.push('\n');
}

/// A receipt (or a correction receipt) as printed.
pub fn receipt(s: &RegisterState, draft: &ReceiptDraft, d: &DocumentRecord, correction: bool) -> String {
    let mut out = String::new();
    out.push_str(&"=".repeat(WIDTH));
    out.push('\n');
    header(s, &mut out);
    out.push_str(&centre(if correction {
        "КАССОВЫЙ ЧЕК КОРРЕКЦИИ"
    } else {
        "КАССОВЫЙ ЧЕК"
    }));
    let op = Operation::from(d.operation);
    out.push_str(&centre(op.text_ru().unwrap_or("Признак расчета неизвестен")));
    out.push_str(&row("Чек", &d.receipt.to_string()));
    for (i, it) in draft.items.iter().enumerate() {
        let mark = if it.code.is_some() { " [М]" } else { "" };
        out.push_str(&format!("{}. {}{mark}\n", i + 1, it.name));
        let vat = Vat::from(it.vat).text_ru().unwrap_or("НДС ?");
        out.push_str(&row(&format!("   {vat}"), &format!("={}", rub(it.sum))));
    }
    out.push_str(&row("ИТОГ", &format!("={}", rub(d.total))));
    let pay = draft.payment.unwrap_or_default();
    if pay.cash > 0 {
        out.push_str(&row("НАЛИЧНЫМИ", &format!("={}", rub(pay.cash))));
    }
    if pay.non_cash > 0 {
        out.push_str(&row("БЕЗНАЛИЧНЫМИ", &format!("={}", rub(pay.non_cash))));
    }
    if let Some(t) = pay.taxation {
        out.push_str(&row("СНО", Taxation::from(t).text_ru().unwrap_or("?")));
    }
    footer(s, d, &mut out);
    out
}

/// A shift open or close report as printed.
pub fn shift_report(s: &RegisterState, d: &DocumentRecord) -> String {
    let mut out = String::new();
    out.push_str(&"=".repeat(WIDTH));
    out.push('\n');
    header(s, &mut out);
    let title = if d.doc_type == doc_type::SHIFT_OPEN {
        "ОТЧЕТ ОБ ОТКРЫТИИ СМЕНЫ"
    } else {
        "ОТЧЕТ О ЗАКРЫТИИ СМЕНЫ"
    };
    out.push_str(&centre(title));
    if d.doc_type == doc_type::SHIFT_CLOSE {
        out.push_str(&row("Чеков за смену", &s.receipts_in_shift.to_string()));
    }
    footer(s, d, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_fill_the_width() {
        let r = row("ИТОГ", "=180.90");
        assert_eq!(r.trim_end_matches('\n').chars().count(), WIDTH);
        assert_eq!(rub(4550), "45.50");
        assert_eq!(rub(5), "0.05");
    }
}
