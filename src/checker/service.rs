//! One answer per scanned code: the online check (one request for the receipt's codes), the Local
//! Module when the online check has no answer, the sold-codes store and the receipt's duplicates,
//! judged by [`super::rules`].

use std::sync::{Arc, Mutex};

use super::gismt::{self, GisMt, Online};
use super::lm::{Lm, LmCode};
use super::rules::{judge, Evidence, Local, Settings};
use super::store::{SoldCodes, StoreError};
use super::tspiot::{Outcome, TsPiot, TsPiotInfo};
use crate::commands::marking::MarkCheckResult;
use crate::driver::MarkChecker;
use crate::marking::model::{CheckAnswer, CodeInfo};
use crate::marking::verdict::{Action, CheckItem, CodeState, Decision, Source, Verdict};
use crate::marking::MarkingCode;

/// The checker: the ТС ПИОТ (when the store has one, it is the path: ГИС МТ is not called
/// directly), ГИС МТ, the Local Module, the sold-codes store and the rules' settings.
pub struct Checker {
    gismt: Option<Arc<GisMt>>,
    tspiot: Option<TsPiot>,
    lm: Option<Lm>,
    settings: Settings,
    store: Option<Mutex<Box<dyn SoldCodes>>>,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("gismt", &self.gismt)
            .field("tspiot", &self.tspiot)
            .field("lm", &self.lm.as_ref().map(Lm::url))
            .field("settings", &self.settings)
            .field("store", &self.store.is_some())
            .finish()
    }
}

impl Checker {
    /// A checker.
    pub fn new(gismt: Option<Arc<GisMt>>, lm: Option<Lm>, settings: Settings) -> Checker {
        Checker { gismt, tspiot: None, lm, settings, store: None }
    }

    /// With the store's ТС ПИОТ: every code is then checked through it (ГИС МТ is not called
    /// directly), the Local Module directly when the ТС ПИОТ gives no answer.
    pub fn with_tspiot(mut self, tspiot: TsPiot) -> Checker {
        self.tspiot = Some(tspiot);
        self
    }

    /// The ТС ПИОТ client.
    pub fn tspiot(&self) -> Option<&TsPiot> {
        self.tspiot.as_ref()
    }

    /// Where a code's verdict comes from: `tspiot`, `gismt`, `lm` (the Local Module alone) or
    /// `none` (the register's and the store's checks only).
    pub fn path(&self) -> &'static str {
        if self.tspiot.is_some() {
            "tspiot"
        } else if self.gismt.is_some() {
            "gismt"
        } else if self.lm.is_some() {
            "lm"
        } else {
            "none"
        }
    }

    /// The connected register's FN serial (16 digits): ГИС МТ's `fiscalDriveNumber`, the Local
    /// Module's `X-ClientId`, the ТС ПИОТ's binding check.
    pub fn set_fiscal_drive_number(&self, fn_serial: Option<String>) {
        self.set_register(fn_serial, None);
    }

    /// The connected register's FN serial and serial number.
    pub fn set_register(&self, fn_serial: Option<String>, kkt_serial: Option<String>) {
        let fn_serial = fn_serial.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let kkt_serial = kkt_serial.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if fn_serial.is_none() && kkt_serial.is_none() {
            return;
        }
        if let (Some(g), Some(_)) = (&self.gismt, &fn_serial) {
            g.set_fiscal_drive_number(fn_serial.clone());
        }
        if let (Some(l), Some(_)) = (&self.lm, &fn_serial) {
            l.set_client_id(fn_serial.clone());
        }
        if let Some(t) = &self.tspiot {
            t.set_register(fn_serial, kkt_serial);
        }
    }

    /// Waits for background work started by checks (ГИС МТ's list refresh).
    pub fn wait_background(&self) {
        if let Some(g) = &self.gismt {
            g.wait_background();
        }
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
        let session = if self.tspiot.is_some() { None } else { self.gismt.as_ref().map(GisMt::session) };
        ReceiptCheck { checker: self, session, in_receipt: Vec::new() }
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

    /// Evidence from the Local Module (or why there is none), with a note per code for the
    /// verdict. `tspiot` is the ТС ПИОТ's `/info` (the module's address and credentials).
    fn ask_lm(
        &self,
        codes: &[MarkingCode],
        why: &str,
        tspiot: Option<&TsPiotInfo>,
        deadline: Option<std::time::Instant>,
    ) -> Vec<(Evidence, Vec<String>)> {
        let from_info = match (&self.lm, &self.tspiot, tspiot) {
            (None, Some(ts), Some(info)) => ts.lm_from_info(info),
            _ => None,
        };
        let Some(lm) = self.lm.as_ref().or(from_info.as_deref()) else {
            let note = if self.tspiot.is_some() {
                format!("{why}; no Local Module configured: sale allowed without a check")
            } else {
                why.to_string()
            };
            return codes.iter().map(|_| (Evidence::NoAnswer { note: note.clone() }, Vec::new())).collect();
        };
        if let Some(ts) = &self.tspiot {
            if let Some(n) = ts.fn_serial() {
                lm.set_client_id(Some(n));
            }
        }
        let r = match deadline {
            Some(d) => lm.check_within(codes, tspiot.and_then(|i| i.lm.as_ref()), d),
            None => lm.check(codes),
        };
        let via = if self.tspiot.is_some() {
            vec![format!("{why}: checked through the Local Module directly")]
        } else {
            Vec::new()
        };
        match r {
            Ok(a) => {
                let version = a.status.version.clone();
                let inst = a.status.inst.clone();
                a.results
                    .into_iter()
                    .map(|r| match r {
                        LmCode::Entry { info, req_id, req_timestamp, inst: i, version: v } => (
                            Evidence::Lm {
                                info: *info,
                                req_id,
                                req_timestamp,
                                inst: i.or(inst.clone()),
                                version: v.or(version.clone()),
                            },
                            via.clone(),
                        ),
                        LmCode::Refused { description } => (
                            Evidence::Rejected {
                                source: Source::Lm,
                                field: "cis".into(),
                                message: format!("the Local Module cannot read the code: {description}"),
                            },
                            via.clone(),
                        ),
                        LmCode::Missing { why: w } => (
                            Evidence::NoAnswer { note: format!("{why}; {w}: sale allowed without a check") },
                            Vec::new(),
                        ),
                    })
                    .collect()
            }
            Err(e) => {
                if e.not_ready() {
                    tracing::warn!(target: "kkt::checker", "{e}");
                } else {
                    tracing::warn!(target: "kkt::checker", "Local Module check failed: {e}");
                }
                let note = if self.tspiot.is_some() {
                    format!("{why}; the Local Module failed too ({e}): sale allowed without a check")
                } else {
                    format!("{why}; {e}")
                };
                codes.iter().map(|_| (Evidence::NoAnswer { note: note.clone() }, Vec::new())).collect()
            }
        }
    }

    /// Evidence through the ТС ПИОТ, the Local Module directly when it gives no answer.
    fn via_tspiot(&self, ts: &TsPiot, codes: &[MarkingCode]) -> (Vec<(Evidence, Vec<String>)>, Vec<String>) {
        let r = ts.check(codes);
        let ev = match r.outcome {
            Outcome::Answer(entries) => {
                let missing: Vec<usize> =
                    entries.iter().enumerate().filter(|(_, e)| e.is_none()).map(|(i, _)| i).collect();
                let mut from_lm = if missing.is_empty() {
                    Vec::new()
                } else {
                    let subset: Vec<MarkingCode> = missing.iter().map(|&i| codes[i].clone()).collect();
                    self.ask_lm(
                        &subset,
                        "the ТС ПИОТ's answer has no entry for this code",
                        r.info.as_ref(),
                        Some(r.deadline),
                    )
                }
                .into_iter();
                entries
                    .into_iter()
                    .map(|e| match e {
                        Some(e) => (
                            Evidence::TsPiot {
                                info: e.info,
                                req_id: e.req_id,
                                req_timestamp: e.req_timestamp,
                                offline: e.offline,
                                inst: e.inst,
                                version: e.version,
                            },
                            Vec::new(),
                        ),
                        None => from_lm.next().expect("one per missing entry"),
                    })
                    .collect()
            }
            Outcome::Emergency { note } => {
                codes.iter().map(|_| (Evidence::TsPiotEmergency { note: note.clone() }, Vec::new())).collect()
            }
            Outcome::Refused { message } => codes
                .iter()
                .map(|_| {
                    (
                        Evidence::Rejected { source: Source::Tspiot, field: "tspiot".into(), message: message.clone() },
                        Vec::new(),
                    )
                })
                .collect(),
            Outcome::Fallback { note, .. } => self.ask_lm(codes, &note, r.info.as_ref(), Some(r.deadline)),
        };
        (ev, r.notes)
    }
}

/// The driver's sale asks the checker through this: the codes of a sale in one request, the
/// decision with the register's 2106 by [`super::decide()`], the formed receipt's codes into the
/// store.
impl MarkChecker for Checker {
    fn check_sale(&self, items: &[CheckItem], fn_number: Option<&str>) -> Vec<Verdict> {
        self.set_fiscal_drive_number(fn_number.map(str::to_string));
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

impl std::fmt::Debug for ReceiptCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptCheck").field("codes_in_receipt", &self.in_receipt.len()).finish_non_exhaustive()
    }
}

impl ReceiptCheck<'_> {
    /// Checks items (their codes go to ГИС МТ in one request) and returns one verdict per item.
    /// Items whose verdict is `sell` join the receipt (for the duplicate rule).
    pub fn check(&mut self, items: &[CheckItem]) -> Vec<Verdict> {
        let ch = self.checker;
        let codes: Vec<MarkingCode> = items.iter().map(|i| i.code.clone()).collect();
        let (evidence, common): (Vec<(Evidence, Vec<String>)>, Vec<String>) = match (&ch.tspiot, &self.session) {
            (Some(ts), _) => ch.via_tspiot(ts, &codes),
            (None, None) => (ch.ask_lm(&codes, "no online check configured", None, None), Vec::new()),
            (None, Some(s)) => (
                match s.check(&codes) {
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
                        .map(|e| (e, Vec::new()))
                        .collect(),
                    Online::Emergency { host } => codes
                        .iter()
                        .map(|_| (Evidence::Emergency { note: format!("HTTP 203 from {host}") }, Vec::new()))
                        .collect(),
                    // No answer in the budget, every host down, code 5000, ТС ПИОТ 514–520:
                    // the Local Module decides if there is one, else the sale goes on unchecked.
                    Online::NoAnswer { note, .. } => ch.ask_lm(&codes, &note, None, None),
                    Online::Failed { field, message } => codes
                        .iter()
                        .map(|_| (Evidence::Failed { field: field.clone(), message: message.clone() }, Vec::new()))
                        .collect(),
                },
                Vec::new(),
            ),
        };
        let now = gismt::now_ms();
        let mut seen_in_batch: Vec<String> = Vec::new();
        items
            .iter()
            .zip(evidence)
            .map(|(item, (ev, mut pre_notes))| {
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
                pre_notes.extend(common.iter().cloned());
                v.notes.splice(0..0, pre_notes);
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
