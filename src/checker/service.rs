//! One answer per scanned code: the online check (one request for the receipt's codes), the Local
//! Module when the online check has no answer, the sold-codes store and the receipt's duplicates,
//! judged by [`super::rules`].

use std::sync::{Arc, Mutex};

use super::gismt::{self, GisMt, Online};
use super::lm::{Lm, LmError};
use super::rules::{judge, Evidence, Local, Settings};
use super::store::{SoldCodes, StoreError};
use crate::commands::marking::MarkCheckResult;
use crate::driver::MarkChecker;
use crate::marking::model::{CheckAnswer, CodeInfo};
use crate::marking::verdict::{Action, CheckItem, CodeState, Decision, Verdict};
use crate::marking::MarkingCode;

/// The checker: ГИС МТ, the Local Module, the sold-codes store and the rules' settings.
pub struct Checker {
    gismt: Option<Arc<GisMt>>,
    lm: Option<Lm>,
    settings: Settings,
    store: Option<Mutex<Box<dyn SoldCodes>>>,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("gismt", &self.gismt)
            .field("lm", &self.lm.as_ref().map(Lm::url))
            .field("settings", &self.settings)
            .field("store", &self.store.is_some())
            .finish()
    }
}

impl Checker {
    /// A checker.
    pub fn new(gismt: Option<Arc<GisMt>>, lm: Option<Lm>, settings: Settings) -> Checker {
        Checker { gismt, lm, settings, store: None }
    }

    /// With a sold-codes store.
    pub fn with_store(mut self, store: Box<dyn SoldCodes>) -> Checker {
        self.store = Some(Mutex::new(store));
        self
    }

    /// The rules' settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The online client.
    pub fn gismt(&self) -> Option<&Arc<GisMt>> {
        self.gismt.as_ref()
    }

    /// The Local Module client.
    pub fn lm(&self) -> Option<&Lm> {
        self.lm.as_ref()
    }

    /// Starts a receipt: one keep-alive connection for its checks, and its codes for the
    /// duplicate rule.
    pub fn receipt(&self) -> ReceiptCheck<'_> {
        ReceiptCheck { checker: self, session: self.gismt.as_ref().map(GisMt::session), in_receipt: Vec::new() }
    }

    /// Records codes as sold (after the receipt is formed) or returned (after a refund).
    pub fn record(&self, codes: &[MarkingCode], state: CodeState, receipt: &str) -> Result<(), StoreError> {
        let Some(store) = &self.store else { return Ok(()) };
        let mut s = store.lock().expect("not poisoned");
        let at = gismt::now_ms();
        for c in codes {
            s.record(&c.print_view(), c.as_str(), state, receipt, at)?;
        }
        Ok(())
    }

    fn lookup(&self, code: &MarkingCode, notes: &mut Vec<String>) -> Option<super::rules::StoreHit> {
        let store = self.store.as_ref()?;
        match store.lock().expect("not poisoned").lookup(&code.print_view()) {
            Ok(r) => r.and_then(|r| r.as_hit()),
            Err(e) => {
                tracing::warn!(target: "kkt::checker", "{e}");
                notes.push(format!("the sold-codes store could not be read: {e}"));
                None
            }
        }
    }

    /// Evidence from the Local Module (or why there is none).
    fn ask_lm(&self, codes: &[MarkingCode], why: &str) -> Vec<Evidence> {
        let Some(lm) = &self.lm else {
            return codes.iter().map(|_| Evidence::NoAnswer { note: why.to_string() }).collect();
        };
        match lm.check(codes) {
            Ok(a) => {
                let version = a.status.version.clone();
                let inst = a.answer.inst.clone().or(a.status.inst.clone());
                codes
                    .iter()
                    .enumerate()
                    .map(|(i, c)| match find_info(&a.answer, c, i, codes.len()) {
                        Some(info) => Evidence::Lm {
                            info: info.clone(),
                            req_id: a.answer.req_id.clone(),
                            req_timestamp: a.answer.req_timestamp,
                            inst: inst.clone(),
                            version: version.clone(),
                        },
                        None => {
                            Evidence::NoAnswer { note: format!("{why}; the Local Module has no entry for this code") }
                        }
                    })
                    .collect()
            }
            Err(e) => {
                if matches!(e, LmError::NotReady(_)) {
                    tracing::warn!(target: "kkt::checker", "{e}");
                } else {
                    tracing::warn!(target: "kkt::checker", "Local Module check failed: {e}");
                }
                codes.iter().map(|_| Evidence::NoAnswer { note: format!("{why}; {e}") }).collect()
            }
        }
    }
}

/// The driver's sale asks the checker through this: the codes of a sale in one request, the
/// decision with the register's 2106 by [`super::decide`], the formed receipt's codes into the
/// store.
impl MarkChecker for Checker {
    fn check_sale(&self, items: &[CheckItem], fn_number: Option<&str>) -> Vec<Verdict> {
        if let Some(g) = &self.gismt {
            g.set_fiscal_drive_number(fn_number.map(str::to_string));
        }
        self.receipt().check(items)
    }

    fn decide(&self, verdict: &Verdict, device_2106: Option<MarkCheckResult>) -> Decision {
        super::decide::decide(verdict, device_2106, self.settings.strictness)
    }

    fn record_receipt(
        &self,
        codes: &[MarkingCode],
        state: CodeState,
        receipt: &str,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.record(codes, state, receipt)?)
    }
}

/// Finds a code's entry in an answer: by `cis` (GS ignored), then `printView`, then position.
pub fn find_info<'a>(answer: &'a CheckAnswer, code: &MarkingCode, idx: usize, n: usize) -> Option<&'a CodeInfo> {
    let plain = code.as_str().replace('\u{1d}', "");
    let pv = code.print_view();
    answer
        .codes
        .iter()
        .find(|c| c.cis.as_deref().map(|s| s.replace('\u{1d}', "")).as_deref() == Some(plain.as_str()))
        .or_else(|| answer.codes.iter().find(|c| c.print_view.as_deref() == Some(pv.as_str())))
        .or_else(|| (answer.codes.len() == n).then(|| &answer.codes[idx]))
}

/// The checks of one receipt.
pub struct ReceiptCheck<'a> {
    checker: &'a Checker,
    session: Option<gismt::Session>,
    in_receipt: Vec<String>,
}

impl ReceiptCheck<'_> {
    /// Checks items (their codes go to ГИС МТ in one request) and returns one verdict per item.
    /// Items whose verdict is `sell` join the receipt (for the duplicate rule).
    pub fn check(&mut self, items: &[CheckItem]) -> Vec<Verdict> {
        let ch = self.checker;
        let codes: Vec<MarkingCode> = items.iter().map(|i| i.code.clone()).collect();
        let evidence: Vec<Evidence> = match &self.session {
            None => ch.ask_lm(&codes, "no online check configured"),
            Some(s) => match s.check(&codes) {
                Online::Answer { answer, host } => codes
                    .iter()
                    .enumerate()
                    .map(|(i, c)| match find_info(&answer, c, i, codes.len()) {
                        Some(info) => Evidence::Online {
                            info: info.clone(),
                            req_id: answer.req_id.clone(),
                            req_timestamp: answer.req_timestamp,
                            host: Some(host.clone()),
                        },
                        None => Evidence::Failed {
                            field: "codes".into(),
                            message: format!("the answer of {host} has no entry for this code"),
                        },
                    })
                    .collect(),
                Online::Emergency { host } => {
                    codes.iter().map(|_| Evidence::Emergency { note: format!("HTTP 203 from {host}") }).collect()
                }
                // No answer in the budget, every host down, code 5000, ТС ПИОТ 514–520:
                // the Local Module decides if there is one, else the sale goes on unchecked.
                Online::NoAnswer { note, .. } => ch.ask_lm(&codes, &note),
                Online::Failed { field, message } => {
                    codes.iter().map(|_| Evidence::Failed { field: field.clone(), message: message.clone() }).collect()
                }
            },
        };
        let now = gismt::now_ms();
        let mut seen_in_batch: Vec<String> = Vec::new();
        items
            .iter()
            .zip(evidence)
            .map(|(item, ev)| {
                let pv = item.code.print_view();
                let mut store_notes = Vec::new();
                let local = Local {
                    price_kopecks: item.price_kopecks,
                    duplicate_in_receipt: self.in_receipt.contains(&pv) || seen_in_batch.contains(&pv),
                    partial_sale: item.partial_sale,
                    sold_here: ch.lookup(&item.code, &mut store_notes),
                };
                seen_in_batch.push(pv.clone());
                let mut v = judge(&item.code, &ev, &local, &ch.settings, now);
                v.notes.extend(store_notes);
                if v.action == Action::Sell {
                    self.in_receipt.push(pv);
                }
                v
            })
            .collect()
    }

    /// The cashier accepted an item that was asked about: it joins the receipt.
    pub fn accept(&mut self, code: &MarkingCode) {
        self.in_receipt.push(code.print_view());
    }

    /// An item left the receipt.
    pub fn remove(&mut self, code: &MarkingCode) {
        let pv = code.print_view();
        if let Some(i) = self.in_receipt.iter().position(|p| *p == pv) {
            self.in_receipt.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_entries() {
        let a = MarkingCode::parse("0104670540176099215'W9Um\u{1d}93dGVz").unwrap();
        let b = MarkingCode::parse("00000046185372KY4mjNZAB=U/FkO").unwrap();
        let answer = CheckAnswer {
            codes: vec![
                CodeInfo { cis: Some("00000046185372KY4mjNZAB=U/FkO".into()), sold: Some(true), ..Default::default() },
                CodeInfo {
                    cis: Some("0104670540176099215'W9Um93dGVz".into()),
                    sold: Some(false),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        assert_eq!(find_info(&answer, &a, 0, 2).unwrap().sold, Some(false));
        assert_eq!(find_info(&answer, &b, 1, 2).unwrap().sold, Some(true));
        let by_pv = CheckAnswer {
            codes: vec![CodeInfo { print_view: Some("0104670540176099215'W9Um".into()), ..Default::default() }],
            ..Default::default()
        };
        assert!(find_info(&by_pv, &a, 0, 2).is_some());
        let by_pos = CheckAnswer { codes: vec![CodeInfo::default()], ..Default::default() };
        assert!(find_info(&by_pos, &a, 0, 1).is_some());
        assert!(find_info(&by_pos, &a, 0, 2).is_none());
    }
}
