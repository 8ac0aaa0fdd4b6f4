//! One answer per scanned code: the online check (one request for the receipt's codes), the Local
//! Module when the online check has no answer, the sold-codes store and the receipt's duplicates,
//! judged by [`super::rules`]; the emergency latch (§7), the legal entities of the till, the
//! evidence trail and the cashier's confirmations.
//!
//! [`ReceiptCheck::check_with`] is the one function every entry point gets its verdicts from:
//! `kkt mark check`, `POST /v1/marks/check` and a sale (`Kkt::sell`, `kkt receipt`,
//! `POST /v1/receipts`): the same configuration and the same answers give the same verdict.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::confirm::{ConfirmError, Confirmations};
use super::emergency::EmergencyFile;
use super::gismt::{self, GisMt, Online};
use super::lm::{Lm, LmCode};
use super::rules::{judge, Evidence, Local, Settings};
use super::store::{CheckRecord, SoldCodes, StoreError};
use super::tspiot::{Outcome, TsPiot, TsPiotInfo};
use crate::commands::marking::MarkCheckResult;
use crate::driver::MarkChecker;
use crate::marking::model::{CheckAnswer, CodeInfo};
use crate::marking::texts;
use crate::marking::verdict::{Action, CheckItem, CodeState, Decision, Reason, Rule, Source, Verdict};
use crate::marking::MarkingCode;

/// What the register found about a code before the checker's verdict is final
/// (`kkt mark check --device`, `POST /v1/marks/check`): its tag 2106, or its refusal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterFacts {
    /// Tag 2106 as the register's checks give it (0x92, else from 0x91).
    pub device_2106: Option<u8>,
    /// The register refused the code itself (0x91/0x92 answered an error about it).
    pub refused: Option<RegisterRefusal>,
}

/// A register's refusal of a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRefusal {
    /// Its error code.
    pub code: u8,
    /// In English.
    pub en: String,
    /// In Russian.
    pub ru: String,
}

/// A legal entity's check sources: its ГИС МТ token (and so its client) and optionally its own
/// ТС ПИОТ (`[[marking.entity]]`).
#[derive(Debug)]
pub struct Entity {
    /// Its INN.
    pub inn: String,
    gismt: Option<Arc<GisMt>>,
    tspiot: Option<TsPiot>,
}

impl Entity {
    /// An entity with its sources.
    pub fn new(inn: impl Into<String>, gismt: Option<Arc<GisMt>>, tspiot: Option<TsPiot>) -> Entity {
        Entity { inn: inn.into(), gismt, tspiot }
    }
}

/// Why a check cannot be made as asked (nothing was sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The INN names no legal entity of this till.
    #[error("INN {inn}: no [[marking.entity]] with this INN in the config (configured: {known})")]
    UnknownEntity {
        /// The INN given.
        inn: String,
        /// The INNs configured.
        known: String,
    },
}

/// The checker: the ТС ПИОТ (when the store has one, it is the path: ГИС МТ is not called
/// directly), ГИС МТ, the Local Module, the sold-codes store and the rules' settings; per legal
/// entity, its own token and ТС ПИОТ.
pub struct Checker {
    gismt: Option<Arc<GisMt>>,
    tspiot: Option<TsPiot>,
    /// The INN of the default sources (`[marking] inn`), when named.
    inn: Option<String>,
    entities: Vec<Entity>,
    lm: Option<Lm>,
    settings: Settings,
    store: Option<Mutex<Box<dyn SoldCodes>>>,
    emergency: Option<EmergencyFile>,
    confirmations: Option<Confirmations>,
    /// The connected register's registration INN (0x0A): the entity when none is named.
    register_inn: Mutex<Option<String>>,
    /// Work started for the checker (the store's pruning), joined by [`Checker::wait_background`].
    background: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("gismt", &self.gismt)
            .field("tspiot", &self.tspiot)
            .field("inn", &self.inn)
            .field("entities", &self.entities)
            .field("lm", &self.lm.as_ref().map(Lm::url))
            .field("settings", &self.settings)
            .field("store", &self.store.is_some())
            .finish()
    }
}

/// The sources one check uses.
#[derive(Clone, Copy)]
struct Sources<'a> {
    gismt: Option<&'a Arc<GisMt>>,
    tspiot: Option<&'a TsPiot>,
}

/// The emergency as `kkt mark emergency status` and `GET /v1/status` show it.
pub type EmergencyStatus = super::emergency::Status;

impl Checker {
    /// A checker.
    pub fn new(gismt: Option<Arc<GisMt>>, lm: Option<Lm>, settings: Settings) -> Checker {
        Checker {
            gismt,
            tspiot: None,
            inn: None,
            entities: Vec::new(),
            lm,
            settings,
            store: None,
            emergency: None,
            confirmations: None,
            register_inn: Mutex::new(None),
            background: Mutex::new(Vec::new()),
        }
    }

    /// With the store's ТС ПИОТ: every code is then checked through it (ГИС МТ is not called
    /// directly), the Local Module directly when the ТС ПИОТ gives no answer.
    pub fn with_tspiot(mut self, tspiot: TsPiot) -> Checker {
        self.tspiot = Some(tspiot);
        self
    }

    /// The INN of the default sources (the first legal entity).
    pub fn with_inn(mut self, inn: impl Into<String>) -> Checker {
        self.inn = Some(inn.into()).filter(|i| !i.is_empty());
        self
    }

    /// Another legal entity of the till, with its own sources; a check names it by INN.
    pub fn with_entity(mut self, entity: Entity) -> Checker {
        self.entities.push(entity);
        self
    }

    /// With the till's cache directory: the emergency latch (§7, which `kkt mark emergency`
    /// sets by hand and a 203 sets for 3 days) and the key of the cashier's confirmations.
    pub fn with_cache_dir(mut self, dir: &std::path::Path) -> Checker {
        self.emergency = Some(EmergencyFile::in_dir(dir));
        match Confirmations::in_dir(dir, super::confirm::DEFAULT_TTL_MS) {
            Ok(c) => self.confirmations = Some(c),
            Err(e) => tracing::warn!(target: "kkt::checker", "no confirmations of ask verdicts: {e}"),
        }
        self
    }

    /// With the confirmations given (their key and how long they hold).
    pub fn with_confirmations(mut self, c: Confirmations) -> Checker {
        self.confirmations = Some(c);
        self
    }

    /// The ТС ПИОТ client.
    pub fn tspiot(&self) -> Option<&TsPiot> {
        self.tspiot.as_ref()
    }

    /// The legal entities besides the default sources.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// Where a code's verdict comes from: `tspiot`, `gismt`, `lm` (the Local Module alone) or
    /// `none` (the register's and the store's checks only).
    pub fn path(&self) -> &'static str {
        Self::path_of(self.sources(None), self.lm.is_some())
    }

    fn path_of(s: Sources<'_>, lm: bool) -> &'static str {
        if s.tspiot.is_some() {
            "tspiot"
        } else if s.gismt.is_some() {
            "gismt"
        } else if lm {
            "lm"
        } else {
            "none"
        }
    }

    fn sources<'a>(&'a self, entity: Option<&'a Entity>) -> Sources<'a> {
        match entity {
            Some(e) => Sources { gismt: e.gismt.as_ref(), tspiot: e.tspiot.as_ref() },
            None => Sources { gismt: self.gismt.as_ref(), tspiot: self.tspiot.as_ref() },
        }
    }

    /// Every ГИС МТ client and ТС ПИОТ (every entity's).
    fn all_sources(&self) -> impl Iterator<Item = Sources<'_>> {
        std::iter::once(self.sources(None)).chain(self.entities.iter().map(|e| self.sources(Some(e))))
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
        for s in self.all_sources() {
            if let (Some(g), Some(_)) = (s.gismt, &fn_serial) {
                g.set_fiscal_drive_number(fn_serial.clone());
            }
            if let Some(t) = s.tspiot {
                t.set_register(fn_serial.clone(), kkt_serial.clone());
            }
        }
        if let (Some(l), Some(_)) = (&self.lm, &fn_serial) {
            l.set_client_id(fn_serial.clone());
        }
    }

    /// The connected register's registration INN (0x0A): the legal entity of a check that names
    /// none.
    pub fn set_register_inn(&self, inn: Option<String>) {
        let inn = inn.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if inn.is_some() {
            *self.register_inn.lock().expect("not poisoned") = inn;
        }
    }

    /// Waits for background work started by checks (ГИС МТ's list refresh, a token renewal,
    /// the store's pruning).
    pub fn wait_background(&self) {
        for s in self.all_sources() {
            if let Some(g) = s.gismt {
                g.wait_background();
            }
        }
        let hs: Vec<_> = std::mem::take(&mut *self.background.lock().unwrap_or_else(|p| p.into_inner()));
        for h in hs {
            let _ = h.join();
        }
    }

    /// Work of the checker's running on its own thread (the store's pruning): joined by
    /// [`Self::wait_background`].
    pub fn adopt_background(&self, h: std::thread::JoinHandle<()>) {
        self.background.lock().unwrap_or_else(|p| p.into_inner()).push(h);
    }

    /// With a sold-codes store.
    pub fn with_store(mut self, store: Box<dyn SoldCodes>) -> Checker {
        self.store = Some(Mutex::new(store));
        self
    }

    /// True with a sold-codes store.
    pub fn has_store(&self) -> bool {
        self.store.is_some()
    }

    /// Runs `f` on the store (None without one).
    pub fn with_store_do<T>(&self, f: impl FnOnce(&mut dyn SoldCodes) -> T) -> Option<T> {
        let store = self.store.as_ref()?;
        let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
        Some(f(s.as_mut()))
    }

    /// The rules' settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The online client (the default entity's).
    pub fn gismt(&self) -> Option<&Arc<GisMt>> {
        self.gismt.as_ref()
    }

    /// The Local Module client.
    pub fn lm(&self) -> Option<&Lm> {
        self.lm.as_ref()
    }

    /// The emergency latch, when the checker has a cache directory.
    pub fn emergency(&self) -> Option<&EmergencyFile> {
        self.emergency.as_ref()
    }

    /// The emergency now.
    pub fn emergency_status(&self) -> Option<EmergencyStatus> {
        self.emergency.as_ref().map(|e| e.load().status(gismt::now_ms()))
    }

    /// The legal entity a check is for: `inn` given (it must be one of the till's when entities
    /// are configured), else the register's registration INN, else the default sources' INN.
    /// The entity's sources (None: the default ones) and its INN (empty when unknown).
    fn resolve(&self, inn: Option<&str>) -> Result<(Option<&Entity>, String), CheckError> {
        let given = inn.map(str::trim).filter(|i| !i.is_empty());
        let register = self.register_inn.lock().expect("not poisoned").clone();
        let inn = given.map(str::to_string).or(register).or_else(|| self.inn.clone()).unwrap_or_default();
        if let Some(e) = self.entities.iter().find(|e| e.inn == inn) {
            return Ok((Some(e), inn));
        }
        let named_default = self.inn.as_deref().is_some_and(|d| d == inn);
        if given.is_some() && !self.entities.is_empty() && !named_default && self.inn.is_some() {
            let known: Vec<&str> =
                self.inn.iter().map(String::as_str).chain(self.entities.iter().map(|e| e.inn.as_str())).collect();
            return Err(CheckError::UnknownEntity { inn, known: known.join(", ") });
        }
        Ok((None, inn))
    }

    /// Starts a receipt for the default entity (the register's INN, else the default sources'):
    /// one keep-alive connection for its checks, and its codes for the duplicate rule.
    pub fn receipt(&self) -> ReceiptCheck<'_> {
        self.receipt_for(None).unwrap_or_else(|_| self.receipt_with(None, String::new()))
    }

    /// Starts a receipt for the legal entity `inn` (see [`Self::receipt`]).
    pub fn receipt_for(&self, inn: Option<&str>) -> Result<ReceiptCheck<'_>, CheckError> {
        let (entity, inn) = self.resolve(inn)?;
        Ok(self.receipt_with(entity, inn))
    }

    fn receipt_with<'a>(&'a self, entity: Option<&'a Entity>, inn: String) -> ReceiptCheck<'a> {
        let sources = self.sources(entity);
        let session = if sources.tspiot.is_some() { None } else { sources.gismt.map(GisMt::session) };
        ReceiptCheck { checker: self, sources, inn, session, in_receipt: Vec::new() }
    }

    /// Records codes as sold (after the receipt is formed) or returned (after a refund), for the
    /// default entity.
    pub fn record(&self, codes: &[MarkingCode], state: CodeState, receipt: &str) -> Result<(), StoreError> {
        let inn = self.resolve(None).map(|(_, i)| i).unwrap_or_default();
        self.record_for(&inn, codes, state, receipt)
    }

    /// Records codes as sold or returned by the legal entity `inn`.
    pub fn record_for(
        &self,
        inn: &str,
        codes: &[MarkingCode],
        state: CodeState,
        receipt: &str,
    ) -> Result<(), StoreError> {
        let Some(store) = &self.store else { return Ok(()) };
        let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
        let at = gismt::now_ms();
        for c in codes {
            s.record(inn, &c.print_view(), c.as_str(), state, receipt, at)?;
        }
        Ok(())
    }

    /// After a receipt is formed: its codes recorded as sold or returned, and the verdicts that
    /// let them be sold (`check_ids`) get the receipt's FD number in the evidence trail.
    pub fn record_sale(&self, sale: &SaleRecord<'_>) -> Result<(), StoreError> {
        let inn = match sale.inn {
            Some(i) => i.to_string(),
            None => self.resolve(None).map(|(_, i)| i).unwrap_or_default(),
        };
        self.record_for(&inn, sale.codes, sale.state, sale.receipt)?;
        if sale.check_ids.is_empty() {
            return Ok(());
        }
        let Some(store) = &self.store else { return Ok(()) };
        store.lock().unwrap_or_else(|p| p.into_inner()).set_receipt(sale.check_ids, sale.fd_number, sale.receipt)
    }

    /// Gives an `ask` verdict its confirmation token (nothing for other verdicts, or without a
    /// key).
    pub fn issue_confirmation(&self, v: &mut Verdict) {
        if v.action != Action::Ask {
            v.confirmation = None;
            return;
        }
        if let Some(c) = &self.confirmations {
            v.confirmation = Some(c.issue(v, gismt::now_ms()));
        }
    }

    /// Whether the cashier's confirmation `token` lets `v` (with every reason it now has, the
    /// register's included) pass.
    pub fn confirm(&self, v: &Verdict, token: &str) -> Result<(), ConfirmError> {
        match &self.confirmations {
            Some(c) => c.verify(token, v, gismt::now_ms()),
            None => Err(ConfirmError::Invalid),
        }
    }

    fn lookup(&self, inn: &str, code: &MarkingCode, notes: &mut Vec<String>) -> Option<super::rules::StoreHit> {
        let store = self.store.as_ref()?;
        match store.lock().unwrap_or_else(|p| p.into_inner()).lookup(inn, &code.print_view()) {
            Ok(r) => r.and_then(|r| r.as_hit()),
            Err(e) => {
                tracing::warn!(target: "kkt::checker", "{e}");
                notes.push(format!("the sold-codes store could not be read: {e}"));
                None
            }
        }
    }

    /// Keeps a verdict in the evidence trail; its row.
    fn keep(&self, v: &Verdict, now_ms: i64) -> Option<i64> {
        let store = self.store.as_ref()?;
        let rec = CheckRecord {
            id: 0,
            at_ms: now_ms,
            inn: v.inn.clone().unwrap_or_default(),
            print_view: v.print_view.clone(),
            source: serde_json::to_value(v.source)
                .ok()
                .and_then(|s| s.as_str().map(str::to_string))
                .unwrap_or_default(),
            req_id: v.req_id.clone(),
            req_timestamp: v.req_timestamp,
            action: serde_json::to_value(v.action)
                .ok()
                .and_then(|s| s.as_str().map(str::to_string))
                .unwrap_or_default(),
            emergency: v.emergency,
            reasons: serde_json::Value::Array(
                v.reasons
                    .iter()
                    .map(|r| serde_json::json!({"rule": r.rule, "field": r.field, "message": r.message}))
                    .collect(),
            ),
            decided: decided_fields(v.info.as_ref()),
            notes: v.notes.clone(),
            fd_number: None,
            receipt: None,
        };
        match store.lock().unwrap_or_else(|p| p.into_inner()).add_check(&rec) {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::warn!(target: "kkt::checker", "the verdict could not be kept in the evidence trail: {e}");
                None
            }
        }
    }

    /// Evidence from the Local Module (or why there is none), with a note per code for the
    /// verdict. `tspiot` is the ТС ПИОТ's `/info` (the module's address and credentials).
    fn ask_lm(
        &self,
        src: Sources<'_>,
        codes: &[MarkingCode],
        why: &str,
        tspiot: Option<&TsPiotInfo>,
        deadline: Option<std::time::Instant>,
    ) -> Vec<(Evidence, Vec<String>)> {
        let from_info = match (&self.lm, src.tspiot, tspiot) {
            (None, Some(ts), Some(info)) => ts.lm_from_info(info),
            _ => None,
        };
        let Some(lm) = self.lm.as_ref().or(from_info.as_deref()) else {
            let note = if src.tspiot.is_some() {
                format!("{why}; no Local Module configured: sale allowed without a check")
            } else {
                why.to_string()
            };
            return codes.iter().map(|_| (Evidence::NoAnswer { note: note.clone() }, Vec::new())).collect();
        };
        if let Some(ts) = src.tspiot {
            if let Some(n) = ts.fn_serial() {
                lm.set_client_id(Some(n));
            }
        }
        let r = match deadline {
            Some(d) => lm.check_within(codes, tspiot.and_then(|i| i.lm.as_ref()), d),
            None => lm.check(codes),
        };
        let via = if src.tspiot.is_some() {
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
                let note = if src.tspiot.is_some() {
                    format!("{why}; the Local Module failed too ({e}): sale allowed without a check")
                } else {
                    format!("{why}; {e}")
                };
                codes.iter().map(|_| (Evidence::NoAnswer { note: note.clone() }, Vec::new())).collect()
            }
        }
    }

    /// Evidence through the ТС ПИОТ, the Local Module directly when it gives no answer.
    fn via_tspiot(
        &self,
        src: Sources<'_>,
        ts: &TsPiot,
        codes: &[MarkingCode],
    ) -> (Vec<(Evidence, Vec<String>)>, Vec<String>) {
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
                        src,
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
            Outcome::Fallback { note, .. } => self.ask_lm(src, codes, &note, r.info.as_ref(), Some(r.deadline)),
        };
        (ev, r.notes)
    }
}

/// The driver's sale asks the checker through this: the codes of a sale in one request, the
/// decision with the register's 2106 by [`super::decide()`], the formed receipt's codes into the
/// store.
impl MarkChecker for Checker {
    fn check_entity(&self, inn: Option<&str>) -> Result<(), String> {
        self.resolve(inn).map(|_| ()).map_err(|e| e.to_string())
    }

    fn check_sale(&self, items: &[CheckItem], sale: &crate::driver::SaleContext<'_>) -> Vec<Verdict> {
        self.set_fiscal_drive_number(sale.fn_number.map(str::to_string));
        match self.receipt_for(sale.inn) {
            Ok(mut r) => r.check(items),
            // Refused before the sale started (check_entity): no verdict, the item is refused.
            Err(_) => Vec::new(),
        }
    }

    fn decide(&self, verdict: &Verdict, device_2106: Option<MarkCheckResult>) -> Decision {
        super::decide::decide(verdict, device_2106, self.settings.strictness)
    }

    fn confirm(&self, verdict: &Verdict, token: &str) -> Result<(), String> {
        Checker::confirm(self, verdict, token).map_err(|e| e.to_string())
    }

    fn record_receipt(
        &self,
        r: &crate::driver::ReceiptRecord<'_>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.record_sale(&SaleRecord {
            inn: r.inn,
            codes: r.codes,
            state: r.state,
            receipt: r.receipt,
            fd_number: r.fd_number,
            check_ids: r.check_ids,
        })?)
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

/// What a sale records once its receipt is formed ([`Checker::record_sale`]).
#[derive(Debug, Clone)]
pub struct SaleRecord<'a> {
    /// The legal entity (None: the register's, else the default).
    pub inn: Option<&'a str>,
    /// The receipt's codes.
    pub codes: &'a [MarkingCode],
    /// Sold or returned.
    pub state: CodeState,
    /// The receipt ("FN … FD …").
    pub receipt: &'a str,
    /// Its FD number.
    pub fd_number: u32,
    /// The verdicts (rows of the evidence trail) its items were sold on.
    pub check_ids: &'a [i64],
}

/// The answer's fields the rules look at, as the service gave them: what decided.
pub fn decided_fields(info: Option<&CodeInfo>) -> serde_json::Value {
    const KEYS: &[&str] = &[
        "found",
        "valid",
        "verified",
        "realizable",
        "utilised",
        "sold",
        "isBlocked",
        "ogvs",
        "expireDate",
        "variableExpirations",
        "errorCode",
        "grayZone",
        "groupIds",
        "mrp",
        "mpr",
        "smp",
        "eliminationState",
        "message",
    ];
    let Some(info) = info else { return serde_json::json!({}) };
    let all = serde_json::to_value(info).unwrap_or_default();
    let mut out = serde_json::Map::new();
    for k in KEYS {
        if let Some(v) = all.get(*k).filter(|v| !v.is_null()) {
            out.insert((*k).to_string(), v.clone());
        }
    }
    serde_json::Value::Object(out)
}

/// The note of a verdict when the till has no check source at all.
pub const NO_SOURCE: &str = "no check source configured (no ТС ПИОТ, no ГИС МТ token or sign command, no Local \
     Module): sale allowed without a check";

/// The checks of one receipt.
pub struct ReceiptCheck<'a> {
    checker: &'a Checker,
    sources: Sources<'a>,
    inn: String,
    session: Option<gismt::Session>,
    in_receipt: Vec<String>,
}

impl std::fmt::Debug for ReceiptCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptCheck").field("codes_in_receipt", &self.in_receipt.len()).finish_non_exhaustive()
    }
}

impl ReceiptCheck<'_> {
    /// The legal entity (INN; empty when unknown).
    pub fn inn(&self) -> &str {
        &self.inn
    }

    /// Checks items (their codes go to the check in one request) and returns one verdict per
    /// item, kept in the evidence trail. Items whose verdict is `sell` join the receipt (for the
    /// duplicate rule).
    pub fn check(&mut self, items: &[CheckItem]) -> Vec<Verdict> {
        self.check_with(items, &[])
    }

    /// [`Self::check`] with what the register found about each code (its 2106, its refusal;
    /// `register[i]` for `items[i]`, missing entries meaning nothing found): the register's
    /// reasons join the checker's, the action is settled on them all, an `ask` verdict gets its
    /// confirmation token, and the verdict is kept in the evidence trail.
    pub fn check_with(&mut self, items: &[CheckItem], register: &[RegisterFacts]) -> Vec<Verdict> {
        let ch = self.checker;
        let codes: Vec<MarkingCode> = items.iter().map(|i| i.code.clone()).collect();
        let evidence = self.evidence(&codes);
        let now = gismt::now_ms();
        let mut seen_in_batch: Vec<String> = Vec::new();
        items
            .iter()
            .zip(evidence)
            .enumerate()
            .map(|(i, (item, (ev, pre_notes)))| {
                let pv = item.code.print_view();
                let mut store_notes = Vec::new();
                let local = Local {
                    price_kopecks: item.price_kopecks,
                    duplicate_in_receipt: self.in_receipt.contains(&pv) || seen_in_batch.contains(&pv),
                    partial_sale: item.partial_sale,
                    sold_here: ch.lookup(&self.inn, &item.code, &mut store_notes),
                };
                seen_in_batch.push(pv.clone());
                let mut v = judge(&item.code, &ev, &local, &ch.settings, now);
                v.notes.splice(0..0, pre_notes);
                v.notes.extend(store_notes);
                v.inn = Some(self.inn.clone()).filter(|i| !i.is_empty());
                if let Some(f) = register.get(i) {
                    if let Some(raw) = f.device_2106 {
                        v.reasons.extend(super::decide::device_reasons(crate::commands::marking::MarkCheckResult(raw)));
                    }
                    if let Some(r) = &f.refused {
                        v.reasons.push(Reason::new(
                            "register",
                            Rule::DeviceRefused,
                            texts::device_refused(r.code, &r.en, &r.ru),
                        ));
                    }
                    v.settle(ch.settings.strictness);
                }
                ch.issue_confirmation(&mut v);
                v.check_id = ch.keep(&v, now);
                if v.action == Action::Sell {
                    self.in_receipt.push(pv);
                }
                v
            })
            .collect()
    }

    /// What the sources say about each code (with notes for the verdict).
    fn evidence(&self, codes: &[MarkingCode]) -> Vec<(Evidence, Vec<String>)> {
        let ch = self.checker;
        let src = self.sources;
        // The emergency latch (§7): declared by the store or set by a 203 in the last 3 days.
        // Checks are off on every path: nothing is sent.
        if let Some(e) = &ch.emergency {
            let latch = e.load();
            let now = gismt::now_ms();
            if latch.active(now) {
                let note = latch.note(now);
                return codes.iter().map(|_| (Evidence::Emergency { note: note.clone() }, Vec::new())).collect();
            }
        }
        match (src.tspiot, &self.session) {
            (Some(ts), _) => {
                let (ev, common) = ch.via_tspiot(src, ts, codes);
                ev.into_iter()
                    .map(|(e, mut n)| {
                        n.extend(common.iter().cloned());
                        (e, n)
                    })
                    .collect()
            }
            (None, None) if ch.lm.is_none() => {
                codes.iter().map(|_| (Evidence::NoAnswer { note: NO_SOURCE.into() }, Vec::new())).collect()
            }
            (None, None) => ch.ask_lm(src, codes, "no online check configured", None, None),
            (None, Some(s)) => match s.check(codes) {
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
                Online::Emergency { note } => {
                    codes.iter().map(|_| (Evidence::Emergency { note: note.clone() }, Vec::new())).collect()
                }
                // No answer in the budget, every host down, code 5000: the Local Module decides
                // if there is one, else the sale goes on unchecked.
                Online::NoAnswer { note, .. } => ch.ask_lm(src, codes, &note, None, None),
                Online::Failed { field, message } => codes
                    .iter()
                    .map(|_| (Evidence::Failed { field: field.clone(), message: message.clone() }, Vec::new()))
                    .collect(),
            },
        }
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

/// A check path for `GET /v1/status` and `kkt mark` commands: the path and the emergency.
#[derive(Debug, Clone, Serialize)]
pub struct PathStatus {
    /// `tspiot`, `gismt`, `lm`, `none`.
    pub path: &'static str,
    /// The store is on.
    pub store: bool,
    /// A check is required.
    pub require_check: bool,
    /// The emergency (§7).
    pub emergency: Option<EmergencyStatus>,
    /// The legal entities' INNs besides the default sources.
    pub entities: Vec<String>,
}

impl Checker {
    /// What `GET /v1/status` says about the checker.
    pub fn path_status(&self) -> PathStatus {
        PathStatus {
            path: self.path(),
            store: self.store.is_some(),
            require_check: self.settings.require_check,
            emergency: self.emergency_status(),
            entities: self.entities.iter().map(|e| e.inn.clone()).collect(),
        }
    }

    /// The store's location when given (for background pruning): None for a store given as a
    /// value.
    pub fn cache_dir_of(store_location: &str) -> Option<PathBuf> {
        std::path::Path::new(store_location.strip_prefix("sqlite:").unwrap_or(store_location))
            .parent()
            .map(PathBuf::from)
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
