//! The ban rules of seed 003 §4 and §6 as a pure function: what the checker learned about a code
//! (an online answer, a Local Module answer, an emergency, no answer, or a failed check) plus the
//! store's local facts, in; a [`Verdict`] naming every reason and the field that caused it, out.

use serde::{Deserialize, Serialize};

use crate::marking::model::{group, CodeInfo};
use crate::marking::tag1260;
use crate::marking::texts;
use crate::marking::verdict::{Action, Reason, Rule, Source, Strictness, Verdict};
use crate::marking::MarkingCode;

/// Settings of the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Deny or ask.
    pub strictness: Strictness,
    /// Judge `expireDate` for every group the service returns it for, not only milk, beer and water.
    pub expiry_all_groups: bool,
    /// A sale without a check answer is refused (`--mark-check required`, `[marking]
    /// require_check = true`): no check source configured, or none answered. An emergency (§7)
    /// still sells: checks are off by law then.
    #[serde(default)]
    pub require_check: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { strictness: Strictness::Deny, expiry_all_groups: false, require_check: false }
    }
}

/// What the checker learned about one code.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Evidence {
    /// ГИС МТ answered.
    Online {
        /// The code's entry.
        info: CodeInfo,
        /// `reqId`.
        req_id: Option<String>,
        /// `reqTimestamp`, Unix ms.
        req_timestamp: Option<i64>,
        /// The CDN host that answered.
        host: Option<String>,
    },
    /// The Local Module answered (only `isBlocked` and `sold` are judged).
    Lm {
        /// The code's entry.
        info: CodeInfo,
        /// `reqId`.
        req_id: Option<String>,
        /// `reqTimestamp`, Unix ms.
        req_timestamp: Option<i64>,
        /// The module's instance id.
        inst: Option<String>,
        /// The module's version.
        version: Option<String>,
    },
    /// The ТС ПИОТ answered: ГИС МТ's facts, or, when `offline`, the Local Module's through it
    /// (then only `isBlocked` and `sold` are judged).
    TsPiot {
        /// The code's entry.
        info: CodeInfo,
        /// `reqId`.
        req_id: Option<String>,
        /// `reqTimestamp`, Unix ms.
        req_timestamp: Option<i64>,
        /// `isCheckedOffline`.
        offline: bool,
        /// The Local Module's instance id (offline answers).
        inst: Option<String>,
        /// The Local Module's version (offline answers).
        version: Option<String>,
    },
    /// The ТС ПИОТ answered 203: emergency mode, the sale goes on without a check and without
    /// tag 1260.
    TsPiotEmergency {
        /// What said so.
        note: String,
    },
    /// A check service refused the code itself (the ТС ПИОТ's HTTP 400, the Local Module's
    /// inner code 400 for a malformed code).
    Rejected {
        /// Who refused.
        source: Source,
        /// The field named in the reason.
        field: String,
        /// Why (quoting the service).
        message: String,
    },
    /// ГИС МТ answered 203: emergency, permissive checks off (seed 003 §7).
    Emergency {
        /// What said so.
        note: String,
    },
    /// No answer in time (or the cross-border service is down): the sale may go on without the
    /// online check (seed 003 §1.4.3, §5).
    NoAnswer {
        /// Why, for the cashier and the log.
        note: String,
    },
    /// The check itself failed (a 4xx, a bad token, an answer that cannot be read).
    Failed {
        /// What failed ("http", "token", "answer", …).
        field: String,
        /// Why.
        message: String,
    },
}

/// A previous sale of the code by this store (the sold-codes store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreHit {
    /// The receipt it was sold in.
    pub receipt: String,
    /// When, Unix ms.
    pub at_ms: i64,
}

/// The store's own facts about the item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Local {
    /// The selling price per unit after discounts, kopecks (for the tobacco MRP rule).
    pub price_kopecks: Option<u64>,
    /// The same code is already in this receipt.
    pub duplicate_in_receipt: bool,
    /// The item is sold partly (draught beer, part of a package): duplicates allowed for the
    /// partial-sale groups of seed 003 §6.
    pub partial_sale: bool,
    /// This store already sold the code and it was not returned.
    pub sold_here: Option<StoreHit>,
}

/// Parses `expireDate` ("yyyy-MM-dd'T'HH:mm:ss.SSS z", RFC 3339, or a bare date) into Unix ms.
pub fn parse_service_time(s: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    let bare = s.trim_end_matches(" UTC").trim_end_matches(" GMT").trim_end_matches(" Z").trim_end_matches('Z');
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(bare, f) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f %z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(bare, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_millis())
}

fn rub(k: u64) -> String {
    format!("{}.{:02}", k / 100, k % 100)
}

fn is_tobacco(code: &MarkingCode, info: Option<&CodeInfo>) -> bool {
    code.is_tobacco_code() || info.is_some_and(|i| i.in_group(group::TOBACCO))
}

/// Judges one code. `now_ms` is the check time (Unix ms) for the expiry rule.
pub fn judge(code: &MarkingCode, evidence: &Evidence, local: &Local, settings: &Settings, now_ms: i64) -> Verdict {
    let mut v = Verdict {
        code: code.as_str().to_string(),
        print_view: code.print_view(),
        allowed: true,
        action: Action::Sell,
        reasons: Vec::new(),
        notes: Vec::new(),
        source: Source::None,
        emergency: false,
        req_id: None,
        req_timestamp: None,
        tag1265: None,
        host: None,
        info: None,
        inn: None,
        confirmation: None,
        check_id: None,
    };
    let mut info_ref: Option<&CodeInfo> = None;
    match evidence {
        Evidence::Online { info, req_id, req_timestamp, host } => {
            v.source = Source::Online;
            v.req_id.clone_from(req_id);
            v.req_timestamp = *req_timestamp;
            v.host.clone_from(host);
            if let (Some(id), Some(ts)) = (req_id, req_timestamp) {
                v.tag1265 = Some(tag1260::value_online(id, *ts));
            }
            online_rules(code, info, local, settings, now_ms, &mut v);
            v.info = Some(info.clone());
            info_ref = Some(info);
        }
        Evidence::Lm { info, req_id, req_timestamp, inst, version } => {
            v.source = Source::Lm;
            v.req_id.clone_from(req_id);
            v.req_timestamp = *req_timestamp;
            if let (Some(id), Some(ts)) = (req_id, req_timestamp) {
                v.tag1265 = Some(lm_1265(id, *ts, inst.as_deref(), version.as_deref()));
            }
            v.notes.push("checked offline by the Local Module: only isBlocked and sold are judged".into());
            lm_rules(info, &mut v);
            v.info = Some(info.clone());
            info_ref = Some(info);
        }
        Evidence::TsPiot { info, req_id, req_timestamp, offline, inst, version } => {
            v.req_id.clone_from(req_id);
            v.req_timestamp = *req_timestamp;
            if *offline {
                v.source = Source::TspiotLm;
                if let (Some(id), Some(ts)) = (req_id, req_timestamp) {
                    v.tag1265 = Some(lm_1265(id, *ts, inst.as_deref(), version.as_deref()));
                }
                v.notes.push(
                    "checked offline by the Local Module through the ТС ПИОТ: only isBlocked and sold are judged"
                        .into(),
                );
                lm_rules(info, &mut v);
            } else {
                v.source = Source::Tspiot;
                if let (Some(id), Some(ts)) = (req_id, req_timestamp) {
                    v.tag1265 = Some(tag1260::value_online(id, *ts));
                }
                online_rules(code, info, local, settings, now_ms, &mut v);
            }
            v.info = Some(info.clone());
            info_ref = Some(info);
        }
        Evidence::TsPiotEmergency { note } => {
            v.source = Source::Tspiot;
            v.emergency = true;
            v.notes.push(format!("ТС ПИОТ emergency mode: sale allowed without a check ({note})"));
        }
        Evidence::Rejected { source, field, message } => {
            v.source = *source;
            v.reasons.push(Reason::new(field.clone(), Rule::CheckFailed, texts::check_failed(message)));
        }
        Evidence::Emergency { note } => {
            v.emergency = true;
            v.notes.push(format!("ГИС МТ emergency mode: permissive checks are off ({note})"));
        }
        Evidence::NoAnswer { note } => {
            v.notes.push(note.clone());
            if settings.require_check {
                v.reasons.push(Reason::new("check", Rule::CheckRequired, texts::check_required(note)));
            }
        }
        Evidence::Failed { field, message } => {
            v.reasons.push(Reason::new(field.clone(), Rule::CheckFailed, texts::check_failed(message)));
        }
    }
    // Rules on the code itself and the store's own facts hold whatever the service said.
    if let (Some(mrp), Some(price)) = (code.mrp_kopecks(), local.price_kopecks) {
        if is_tobacco(code, info_ref) && mrp != price {
            let pack = code.format() == crate::marking::code::Format::TobaccoPack;
            v.reasons.push(Reason::new(
                "price",
                Rule::PriceNotMrp,
                texts::price_not_mrp_in_code(&rub(price), &rub(mrp), pack),
            ));
        }
    }
    if local.duplicate_in_receipt {
        let partial_group =
            info_ref.is_none_or(|i| i.group_ids.is_none() || i.in_group(group::BEER) || i.in_group(group::OTR));
        if local.partial_sale && partial_group {
            v.notes.push("the code repeats in this receipt: allowed for a partial sale".into());
        } else {
            v.reasons.push(Reason::new("code", Rule::DuplicateInReceipt, texts::duplicate_in_receipt()));
        }
    }
    if let Some(hit) = &local.sold_here {
        v.reasons.push(Reason::new(
            "store",
            Rule::SoldByThisStore,
            texts::sold_by_this_store(&hit.receipt, &fmt_time(hit.at_ms)),
        ));
    }
    v.settle(settings.strictness);
    v
}

fn online_rules(code: &MarkingCode, info: &CodeInfo, local: &Local, settings: &Settings, now_ms: i64, v: &mut Verdict) {
    let r = &mut v.reasons;
    if info.found == Some(false) {
        r.push(Reason::new("found", Rule::NotFound, texts::not_found()));
    }
    if info.utilised == Some(false) {
        r.push(Reason::new("utilised", Rule::NotUtilised, texts::not_utilised()));
    }
    if info.valid == Some(false) {
        r.push(Reason::new("valid", Rule::InvalidStructure, texts::invalid_structure()));
    }
    if info.verified == Some(false) {
        r.push(Reason::new("verified", Rule::NotVerified, texts::not_verified()));
    }
    if info.sold == Some(true) {
        r.push(Reason::new("sold", Rule::Sold, texts::sold(info.elimination_state, false)));
    }
    if info.is_blocked == Some(true) {
        r.push(Reason::new(
            "isBlocked",
            Rule::Blocked,
            texts::blocked(info.ogvs.as_deref().unwrap_or_default(), false),
        ));
    }
    if info.realizable == Some(false) && info.sold != Some(true) {
        if is_tobacco(code, Some(info)) && info.gray_zone == Some(true) {
            v.notes.push("grayZone: tobacco temporarily untraceable, realizable = false does not ban the sale".into());
        } else {
            r.push(Reason::new("realizable", Rule::NotRealizable, texts::not_realizable()));
        }
    }
    // errorCode 1–11: what is wrong with the code, unless a flag above already said the same.
    if let Some(e) = info.error_code.filter(|&e| e != 0) {
        let said = match e {
            1 => info.valid == Some(false),
            5..=7 => info.verified == Some(false),
            10 => info.found == Some(false),
            _ => false,
        };
        if !said {
            r.push(Reason::new("errorCode", Rule::ErrorCode, texts::error_code(e)));
        }
    }
    let expiry_group = settings.expiry_all_groups
        || info.group_ids.is_none()
        || [group::MILK, group::BEER, group::WATER].iter().any(|g| info.in_group(*g));
    if expiry_group {
        expiry_rules(info, now_ms, v);
    }
    let r = &mut v.reasons;
    if is_tobacco(code, Some(info)) {
        let code_mrp = code.mrp_kopecks();
        if let (Some(c), Some(s)) = (code_mrp, info.service_mrp()) {
            if c != s {
                r.push(Reason::new("mrp", Rule::MrpMismatch, texts::mrp_mismatch(&rub(c), &rub(s))));
            }
        }
        if let (None, Some(s), Some(p)) = (code_mrp, info.service_mrp(), local.price_kopecks) {
            if s != p {
                r.push(Reason::new("mrp", Rule::PriceNotMrp, texts::price_not_service_mrp(&rub(p), &rub(s))));
            }
        }
        if let (Some(m), Some(smp)) = (code_mrp.or(info.service_mrp()), info.smp) {
            if m < smp {
                r.push(Reason::new("smp", Rule::BelowMinimumPrice, texts::below_minimum_price(&rub(m), &rub(smp))));
            }
        }
    }
    if let Some(m) = info.message.as_deref().filter(|m| !m.is_empty()) {
        v.notes.push(format!("ГИС МТ: {m}"));
    }
}

/// The variable expiry dates of dairy (`variableExpirations`: `{"1": date, "2": date}`, or a
/// list of dates or of objects holding one), each with its key, as Unix ms; unreadable ones are
/// returned apart.
pub fn variable_expirations(v: &serde_json::Value) -> (Vec<(String, String, i64)>, Vec<String>) {
    let mut dates = Vec::new();
    let mut bad = Vec::new();
    let mut one = |key: String, x: &serde_json::Value| {
        let text = match x {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Object(o) => o.values().find_map(|y| y.as_str().map(str::to_string)),
            _ => None,
        };
        match text.as_deref().and_then(parse_service_time) {
            Some(t) => dates.push((key, text.unwrap_or_default(), t)),
            None => bad.push(format!("{key}: {x}")),
        }
    };
    match v {
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| one(k.clone(), x)),
        serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| one((i + 1).to_string(), x)),
        serde_json::Value::Null => {}
        other => one("1".into(), other),
    }
    (dates, bad)
}

/// §4.6: `expireDate`, and for dairy its `variableExpirations` judged the same way. With
/// variable dates the item is expired when the check time is at or after the latest of them
/// (and of `expireDate`): which date applies depends on how the item was stored, which the till
/// cannot know; a passed earlier date is a note.
fn expiry_rules(info: &CodeInfo, now_ms: i64, v: &mut Verdict) {
    let fixed = info.expire_date.as_deref().map(|e| (e, parse_service_time(e)));
    if let Some((e, None)) = fixed {
        v.notes.push(format!("expireDate {e:?} could not be read"));
    }
    let (vars, bad) = info.variable_expirations.as_ref().map(variable_expirations).unwrap_or_default();
    for b in bad {
        v.notes.push(format!("variableExpirations {b} could not be read"));
    }
    if vars.is_empty() {
        if let Some((e, Some(t))) = fixed {
            if now_ms >= t {
                v.reasons.push(Reason::new("expireDate", Rule::Expired, texts::expired(e)));
            }
        }
        return;
    }
    let mut all: Vec<(&str, i64)> = vars.iter().map(|(_, text, t)| (text.as_str(), *t)).collect();
    if let Some((e, Some(t))) = fixed {
        all.push((e, t));
    }
    let (latest_text, latest) = all.iter().copied().max_by_key(|(_, t)| *t).expect("not empty");
    if now_ms >= latest {
        v.reasons.push(Reason::new("variableExpirations", Rule::Expired, texts::expired_variable(latest_text)));
    } else if let Some((text, _)) = all.iter().filter(|(_, t)| now_ms >= *t).max_by_key(|(_, t)| *t) {
        v.notes.push(format!(
            "a variable expiry date has passed ({text}) but not the latest ({latest_text}): sold if stored as that date needs"
        ));
    }
}

/// 1265 for a Local Module answer: `&Inst=…&Ver=…` only when the answer has either.
fn lm_1265(req_id: &str, ts: i64, inst: Option<&str>, version: Option<&str>) -> String {
    if inst.is_none() && version.is_none() {
        tag1260::value_online(req_id, ts)
    } else {
        tag1260::value_lm(req_id, ts, inst.unwrap_or(""), version.unwrap_or(""))
    }
}

fn lm_rules(info: &CodeInfo, v: &mut Verdict) {
    if info.is_blocked == Some(true) {
        v.reasons.push(Reason::new(
            "isBlocked",
            Rule::Blocked,
            texts::blocked(info.ogvs.as_deref().unwrap_or_default(), true),
        ));
    }
    if info.sold == Some(true) {
        v.reasons.push(Reason::new("sold", Rule::Sold, texts::sold(None, true)));
    }
}

/// A time for people: local date and time.
pub fn fmt_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| format!("{ms} ms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn code(s: &str) -> MarkingCode {
        MarkingCode::parse(s).unwrap()
    }

    fn ok_info() -> CodeInfo {
        CodeInfo {
            found: Some(true),
            valid: Some(true),
            verified: Some(true),
            realizable: Some(true),
            utilised: Some(true),
            sold: Some(false),
            is_blocked: Some(false),
            group_ids: Some(vec![8]),
            ..CodeInfo::default()
        }
    }

    fn online(info: CodeInfo) -> Evidence {
        Evidence::Online {
            info,
            req_id: Some("2ce10bdb-6510-4d37-be04-dd473b98c728".into()),
            req_timestamp: Some(1692691702065),
            host: None,
        }
    }

    fn fields(v: &Verdict) -> Vec<&str> {
        v.reasons.iter().map(|r| r.field.as_str()).collect()
    }

    const DAIRY: &str = "0104670540176099215'W9Um\u{1d}93dGVz";
    const BLOCK: &str = "010461013628057121/798DM%\u{1d}8005106000\u{1d}93dGVz";
    const PACK: &str = "04601653035829H;dV)bFACVUdGVz";

    #[test]
    fn clean_answer_sells_with_1265() {
        let v = judge(&code(DAIRY), &online(ok_info()), &Local::default(), &Settings::default(), NOW);
        assert!(v.allowed);
        assert_eq!(v.action, Action::Sell);
        assert_eq!(v.source, Source::Online);
        assert_eq!(v.tag1265.as_deref(), Some("UUID=2ce10bdb-6510-4d37-be04-dd473b98c728&Time=1692691702065"));
        assert!(v.tag1260().is_some());
    }

    #[test]
    fn each_ban_names_its_field() {
        type Edit = fn(&mut CodeInfo);
        let cases: Vec<(Edit, &str)> = vec![
            (|i| i.found = Some(false), "found"),
            (|i| i.utilised = Some(false), "utilised"),
            (|i| i.verified = Some(false), "verified"),
            (|i| i.valid = Some(false), "valid"),
            (|i| i.sold = Some(true), "sold"),
            (|i| i.is_blocked = Some(true), "isBlocked"),
            (|i| i.realizable = Some(false), "realizable"),
            (|i| i.expire_date = Some("2022-12-22T12:16:00.000Z".into()), "expireDate"),
        ];
        for (f, field) in cases {
            let mut i = ok_info();
            f(&mut i);
            let v = judge(&code(DAIRY), &online(i), &Local::default(), &Settings::default(), NOW);
            assert_eq!(fields(&v), vec![field]);
            assert_eq!(v.action, Action::Refuse);
            assert!(!v.allowed);
            let v = judge(
                &code(DAIRY),
                &online({
                    let mut i = ok_info();
                    f(&mut i);
                    i
                }),
                &Local::default(),
                &Settings { strictness: Strictness::Ask, ..Settings::default() },
                NOW,
            );
            assert_eq!(v.action, Action::Ask, "{field}");
            assert!(!v.allowed);
        }
    }

    #[test]
    fn every_reason_is_listed() {
        let mut i = ok_info();
        i.found = Some(false);
        i.utilised = Some(false);
        i.realizable = Some(false);
        let v = judge(&code(DAIRY), &online(i), &Local::default(), &Settings::default(), NOW);
        assert_eq!(fields(&v), vec!["found", "utilised", "realizable"]);
    }

    #[test]
    fn realizable_false_with_sold_true_is_one_reason() {
        let mut i = ok_info();
        i.sold = Some(true);
        i.realizable = Some(false);
        let v = judge(&code(DAIRY), &online(i), &Local::default(), &Settings::default(), NOW);
        assert_eq!(fields(&v), vec!["sold"]);
    }

    #[test]
    fn blocked_names_the_authority() {
        let mut i = ok_info();
        i.is_blocked = Some(true);
        i.ogvs = Some(vec!["RPN".into(), "FNS".into()]);
        let v = judge(&code(DAIRY), &online(i), &Local::default(), &Settings::default(), NOW);
        assert!(v.reasons[0].message.contains("RPN, FNS"), "{:?}", v.reasons);
    }

    #[test]
    fn gray_zone_exempts_tobacco_only() {
        let mut i = ok_info();
        i.realizable = Some(false);
        i.gray_zone = Some(true);
        i.group_ids = Some(vec![3]);
        let block = code("010462930887704421DzkcYt2\u{1d}8005177000\u{1d}93dGVz");
        let v = judge(&block, &online(i.clone()), &Local::default(), &Settings::default(), NOW);
        assert!(v.allowed, "{:?}", v.reasons);
        assert!(v.notes.iter().any(|n| n.contains("grayZone")));
        // Tobacco known from the code alone (no groupIds).
        i.group_ids = None;
        assert!(judge(&block, &online(i.clone()), &Local::default(), &Settings::default(), NOW).allowed);
        // Not tobacco: gray zone does not help.
        i.group_ids = Some(vec![8]);
        let v = judge(&code(DAIRY), &online(i), &Local::default(), &Settings::default(), NOW);
        assert_eq!(fields(&v), vec!["realizable"]);
    }

    #[test]
    fn expiry_groups_and_boundary() {
        let exp = "2023-11-14T22:13:20.000Z"; // = NOW
        let mut i = ok_info();
        i.expire_date = Some(exp.into());
        // Equal to the check time: expired (≥).
        assert_eq!(
            fields(&judge(&code(DAIRY), &online(i.clone()), &Local::default(), &Settings::default(), NOW)),
            vec!["expireDate"]
        );
        assert!(judge(&code(DAIRY), &online(i.clone()), &Local::default(), &Settings::default(), NOW - 1).allowed);
        // Shoes (group 2): only when the store enables all groups.
        i.group_ids = Some(vec![2]);
        assert!(judge(&code(DAIRY), &online(i.clone()), &Local::default(), &Settings::default(), NOW).allowed);
        let all = Settings { expiry_all_groups: true, ..Settings::default() };
        assert!(!judge(&code(DAIRY), &online(i.clone()), &Local::default(), &all, NOW).allowed);
        // Beer and water.
        for g in [13, 15] {
            i.group_ids = Some(vec![g]);
            assert!(!judge(&code(DAIRY), &online(i.clone()), &Local::default(), &Settings::default(), NOW).allowed);
        }
    }

    #[test]
    fn service_time_formats() {
        assert_eq!(parse_service_time("2023-11-14T22:13:20.000Z"), Some(NOW));
        assert_eq!(parse_service_time("2023-11-14T22:13:20.000 UTC"), Some(NOW));
        assert_eq!(parse_service_time("2023-11-15T01:13:20.000+03:00"), Some(NOW));
        assert_eq!(parse_service_time("2023-11-15T01:13:20.000+0300"), Some(NOW));
        assert_eq!(parse_service_time("2023-11-14"), Some(NOW - (22 * 3600 + 13 * 60 + 20) * 1000));
        assert_eq!(parse_service_time("soon"), None);
    }

    #[test]
    fn tobacco_mrp_rules() {
        let mut i = ok_info();
        i.group_ids = Some(vec![3]);
        let block = code(BLOCK);
        let at = |p: u64| Local { price_kopecks: Some(p), ..Local::default() };
        assert!(judge(&block, &online(i.clone()), &at(106000), &Settings::default(), NOW).allowed);
        let v = judge(&block, &online(i.clone()), &at(100000), &Settings::default(), NOW);
        assert_eq!(fields(&v), vec!["price"]);
        assert!(v.reasons[0].message.contains("1060.00"), "{}", v.reasons[0].message);
        // Pack (scenario 8): MRP 145.00 in characters 22–25.
        let pack = code(PACK);
        assert!(judge(&pack, &online(i.clone()), &at(14500), &Settings::default(), NOW).allowed);
        assert_eq!(fields(&judge(&pack, &online(i.clone()), &at(15000), &Settings::default(), NOW)), vec!["price"]);
        // The service's MRP (either spelling) must match the code's.
        let mut j = i.clone();
        j.mpr = Some(106000);
        assert!(judge(&block, &online(j.clone()), &at(106000), &Settings::default(), NOW).allowed);
        j.mpr = None;
        j.mrp = Some(107000);
        assert_eq!(fields(&judge(&block, &online(j), &at(106000), &Settings::default(), NOW)), vec!["mrp"]);
        // MRP below the single minimum price.
        let mut k = i.clone();
        k.smp = Some(110000);
        assert_eq!(fields(&judge(&block, &online(k.clone()), &at(106000), &Settings::default(), NOW)), vec!["smp"]);
        k.smp = Some(106000);
        assert!(judge(&block, &online(k), &at(106000), &Settings::default(), NOW).allowed);
        // No price given: nothing to compare.
        assert!(judge(&block, &online(i), &Local::default(), &Settings::default(), NOW).allowed);
    }

    #[test]
    fn duplicates_and_partial_sales() {
        let dup = Local { duplicate_in_receipt: true, ..Local::default() };
        let v = judge(&code(DAIRY), &online(ok_info()), &dup, &Settings::default(), NOW);
        assert_eq!(fields(&v), vec!["code"]);
        let partial = Local { duplicate_in_receipt: true, partial_sale: true, ..Local::default() };
        // Milk sold partly still may not repeat; beer on draught and OTR may.
        assert!(!judge(&code(DAIRY), &online(ok_info()), &partial, &Settings::default(), NOW).allowed);
        let mut beer = ok_info();
        beer.group_ids = Some(vec![15]);
        assert!(judge(&code(DAIRY), &online(beer), &partial, &Settings::default(), NOW).allowed);
        let mut otr = ok_info();
        otr.group_ids = Some(vec![12]);
        assert!(judge(&code(DAIRY), &online(otr), &partial, &Settings::default(), NOW).allowed);
    }

    #[test]
    fn sold_by_this_store() {
        let l = Local { sold_here: Some(StoreHit { receipt: "FD 12".into(), at_ms: 5 }), ..Local::default() };
        let v = judge(&code(DAIRY), &online(ok_info()), &l, &Settings::default(), NOW);
        assert_eq!(fields(&v), vec!["store"]);
        assert!(v.reasons[0].message.contains("FD 12"));
        // Caught without a network too.
        let v = judge(&code(DAIRY), &Evidence::NoAnswer { note: "no answer".into() }, &l, &Settings::default(), NOW);
        assert_eq!(fields(&v), vec!["store"]);
    }

    #[test]
    fn local_module_judges_only_blocked_and_sold() {
        let info = CodeInfo {
            found: Some(false),
            verified: Some(false),
            realizable: Some(false),
            is_blocked: Some(false),
            ..CodeInfo::default()
        };
        let lm = |info| Evidence::Lm {
            info,
            req_id: Some("bfa41a5f".into()),
            req_timestamp: Some(1738932218989),
            inst: Some("ebf70f9d".into()),
            version: Some("1.5.1".into()),
        };
        let v = judge(&code(DAIRY), &lm(info.clone()), &Local::default(), &Settings::default(), NOW);
        assert!(v.allowed);
        assert_eq!(v.source, Source::Lm);
        assert_eq!(v.tag1265.as_deref(), Some("UUID=bfa41a5f&Time=1738932218989&Inst=ebf70f9d&Ver=1.5.1"));
        let mut b = info.clone();
        b.is_blocked = Some(true);
        assert_eq!(
            fields(&judge(&code(DAIRY), &lm(b), &Local::default(), &Settings::default(), NOW)),
            vec!["isBlocked"]
        );
        let mut s = info;
        s.sold = Some(true);
        assert_eq!(fields(&judge(&code(DAIRY), &lm(s), &Local::default(), &Settings::default(), NOW)), vec!["sold"]);
    }

    #[test]
    fn error_codes_refuse_with_their_meaning() {
        for (e, words) in [
            (1, "validation"),
            (2, "GTIN"),
            (4, "characters"),
            (8, "issuing country"),
            (9, "AIs"),
            (11, "cross-border"),
        ] {
            let mut i = ok_info();
            i.error_code = Some(e);
            let v = judge(&code(DAIRY), &online(i), &Local::default(), &Settings::default(), NOW);
            assert_eq!(fields(&v), vec!["errorCode"], "{e}");
            assert_eq!(v.reasons[0].rule, Rule::ErrorCode);
            assert!(
                v.reasons[0].message.contains(words) && v.reasons[0].message.contains(&format!("errorCode {e}")),
                "{e}: {}",
                v.reasons[0].message
            );
            assert!(!v.reasons[0].message_ru.is_empty());
            assert_eq!(v.action, Action::Refuse);
        }
        // Not said twice: errorCode 10 with found = false, 6 with verified = false.
        let mut i = ok_info();
        i.found = Some(false);
        i.error_code = Some(10);
        assert_eq!(
            fields(&judge(&code(DAIRY), &online(i), &Local::default(), &Settings::default(), NOW)),
            vec!["found"]
        );
        let mut i = ok_info();
        i.verified = Some(false);
        i.error_code = Some(6);
        assert_eq!(
            fields(&judge(&code(DAIRY), &online(i), &Local::default(), &Settings::default(), NOW)),
            vec!["verified"]
        );
        // 0 is no error; an unknown code still refuses, by number.
        let mut i = ok_info();
        i.error_code = Some(0);
        assert!(judge(&code(DAIRY), &online(i.clone()), &Local::default(), &Settings::default(), NOW).allowed);
        i.error_code = Some(77);
        let v = judge(&code(DAIRY), &online(i), &Local::default(), &Settings::default(), NOW);
        assert_eq!(v.reasons[0].message, "ГИС МТ error code 77");
    }

    #[test]
    fn variable_expirations_are_judged_like_expire_date() {
        let day = 86_400_000;
        let at =
            |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let mut i = ok_info();
        // Seed 003's format: an object of dates. Every one passed: expired.
        i.variable_expirations = Some(serde_json::json!({"1": at(NOW - 2 * day), "2": at(NOW - day)}));
        let v = judge(&code(DAIRY), &online(i.clone()), &Local::default(), &Settings::default(), NOW);
        assert_eq!(fields(&v), vec!["variableExpirations"]);
        assert_eq!(v.reasons[0].rule, Rule::Expired);
        assert!(v.reasons[0].message.contains(&at(NOW - day)), "the latest date named: {}", v.reasons[0].message);
        // The latest not yet: sold, with a note (which date applies depends on the storage).
        i.variable_expirations = Some(serde_json::json!({"1": at(NOW - day), "2": at(NOW + day)}));
        let v = judge(&code(DAIRY), &online(i.clone()), &Local::default(), &Settings::default(), NOW);
        assert!(v.allowed, "{:?}", v.reasons);
        assert!(v.notes.iter().any(|n| n.contains("variable expiry date has passed")), "{:?}", v.notes);
        // At the boundary: expired (≥), as expireDate.
        i.variable_expirations = Some(serde_json::json!({"1": at(NOW)}));
        assert!(!judge(&code(DAIRY), &online(i.clone()), &Local::default(), &Settings::default(), NOW).allowed);
        // With expireDate too: the latest of them all.
        i.variable_expirations = Some(serde_json::json!({"1": at(NOW - day)}));
        i.expire_date = Some(at(NOW + day));
        assert!(judge(&code(DAIRY), &online(i.clone()), &Local::default(), &Settings::default(), NOW).allowed);
        // A list, objects holding a date, an unreadable one.
        i.expire_date = None;
        i.variable_expirations = Some(serde_json::json!([{"expirationDate": at(NOW - day)}, "soon"]));
        let v = judge(&code(DAIRY), &online(i.clone()), &Local::default(), &Settings::default(), NOW);
        assert_eq!(fields(&v), vec!["variableExpirations"]);
        assert!(v.notes.iter().any(|n| n.contains("could not be read")), "{:?}", v.notes);
        // Not a group whose expiry is judged (shoes): nothing.
        i.group_ids = Some(vec![2]);
        assert!(judge(&code(DAIRY), &online(i), &Local::default(), &Settings::default(), NOW).allowed);
    }

    #[test]
    fn a_required_check_refuses_without_an_answer_whatever_the_strictness() {
        let req = Settings { require_check: true, strictness: Strictness::Ask, ..Settings::default() };
        let none = Evidence::NoAnswer { note: "no answer within 1.5 s".into() };
        let v = judge(&code(DAIRY), &none, &Local::default(), &req, NOW);
        assert_eq!(v.action, Action::Refuse, "refused, not asked");
        assert_eq!(v.reasons[0].rule, Rule::CheckRequired);
        assert!(v.reasons[0].message.contains("no answer within 1.5 s"));
        assert!(v.reasons[0].message_ru.contains("обязательна"));
        // An emergency sells: checks are off by law then.
        let v = judge(&code(DAIRY), &Evidence::Emergency { note: "203".into() }, &Local::default(), &req, NOW);
        assert!(v.allowed && v.emergency);
        // An answer: the usual rules.
        assert!(judge(&code(DAIRY), &online(ok_info()), &Local::default(), &req, NOW).allowed);
        // Optional (the default): sold, the note says why unchecked.
        let v = judge(&code(DAIRY), &none, &Local::default(), &Settings::default(), NOW);
        assert!(v.allowed && v.reasons.is_empty());
    }

    #[test]
    fn every_reason_has_its_russian_text() {
        let mut i = ok_info();
        i.found = Some(false);
        i.utilised = Some(false);
        i.valid = Some(false);
        i.verified = Some(false);
        i.sold = Some(true);
        i.is_blocked = Some(true);
        i.ogvs = Some(vec!["RPN".into()]);
        i.expire_date = Some("2022-12-22T12:16:00.000Z".into());
        let dup = Local {
            duplicate_in_receipt: true,
            sold_here: Some(StoreHit { receipt: "FD 1".into(), at_ms: NOW }),
            price_kopecks: Some(1),
            ..Local::default()
        };
        let v = judge(&code(BLOCK), &online(i), &dup, &Settings::default(), NOW);
        assert!(v.reasons.len() >= 9, "{:?}", v.reasons);
        for r in &v.reasons {
            assert!(r.message_ru.chars().any(|c| ('а'..='я').contains(&c)), "{:?}: {}", r.rule, r.message_ru);
            assert_ne!(r.message, r.message_ru);
            assert!(!r.rule.code().is_empty());
        }
        let json = serde_json::to_value(&v.reasons[0]).unwrap();
        assert_eq!(json["rule"], "not_found");
        assert_eq!(json["message_ru"], "код маркировки не найден в ГИС МТ");
    }

    #[test]
    fn emergency_no_answer_and_failures() {
        let v = judge(
            &code(DAIRY),
            &Evidence::Emergency { note: "HTTP 203".into() },
            &Local::default(),
            &Settings::default(),
            NOW,
        );
        assert!(v.allowed && v.emergency && v.tag1265.is_none());
        let v = judge(
            &code(DAIRY),
            &Evidence::NoAnswer { note: "no answer within 1.5 s".into() },
            &Local::default(),
            &Settings::default(),
            NOW,
        );
        assert!(v.allowed && !v.emergency);
        assert_eq!(v.source, Source::None);
        assert_eq!(v.notes, vec!["no answer within 1.5 s"]);
        let f = Evidence::Failed { field: "token".into(), message: "HTTP 401".into() };
        let v = judge(&code(DAIRY), &f, &Local::default(), &Settings::default(), NOW);
        assert_eq!(v.action, Action::Refuse);
        assert_eq!(v.reasons[0].rule, Rule::CheckFailed);
        let v = judge(
            &code(DAIRY),
            &f,
            &Local::default(),
            &Settings { strictness: Strictness::Ask, ..Settings::default() },
            NOW,
        );
        assert_eq!(v.action, Action::Ask);
        // The tobacco price rule stands on the code alone, even in an emergency.
        let v = judge(
            &code(BLOCK),
            &Evidence::Emergency { note: "HTTP 203".into() },
            &Local { price_kopecks: Some(1), ..Local::default() },
            &Settings::default(),
            NOW,
        );
        assert_eq!(fields(&v), vec!["price"]);
    }

    #[test]
    fn through_the_tspiot() {
        let ts = |info, offline, inst: Option<&str>, version: Option<&str>| Evidence::TsPiot {
            info,
            req_id: Some("r-1".into()),
            req_timestamp: Some(1757681987579),
            offline,
            inst: inst.map(str::to_string),
            version: version.map(str::to_string),
        };
        // Online through the ТС ПИОТ: every rule, 1265 without Inst/Ver.
        let mut sold = ok_info();
        sold.sold = Some(true);
        let v = judge(&code(DAIRY), &ts(sold, false, None, None), &Local::default(), &Settings::default(), NOW);
        assert_eq!(v.source, Source::Tspiot);
        assert_eq!(fields(&v), vec!["sold"]);
        assert_eq!(v.tag1265.as_deref(), Some("UUID=r-1&Time=1757681987579"));
        // Offline (the Local Module through it): its false flags do not refuse; only isBlocked, sold.
        let falsy = CodeInfo {
            found: Some(false),
            valid: Some(false),
            verified: Some(false),
            realizable: Some(false),
            utilised: Some(false),
            is_blocked: Some(false),
            ..CodeInfo::default()
        };
        let v = judge(
            &code(DAIRY),
            &ts(falsy.clone(), true, Some("i-9"), Some("6e7f")),
            &Local::default(),
            &Settings::default(),
            NOW,
        );
        assert!(v.allowed, "{:?}", v.reasons);
        assert_eq!(v.source, Source::TspiotLm);
        assert_eq!(v.tag1265.as_deref(), Some("UUID=r-1&Time=1757681987579&Inst=i-9&Ver=6e7f"));
        let v = judge(&code(DAIRY), &ts(falsy.clone(), true, None, None), &Local::default(), &Settings::default(), NOW);
        assert_eq!(v.tag1265.as_deref(), Some("UUID=r-1&Time=1757681987579"));
        let mut blocked = falsy;
        blocked.is_blocked = Some(true);
        let v = judge(&code(DAIRY), &ts(blocked, true, None, None), &Local::default(), &Settings::default(), NOW);
        assert_eq!(fields(&v), vec!["isBlocked"]);
        // Emergency: sold, no 1260, source tspiot.
        let v = judge(
            &code(DAIRY),
            &Evidence::TsPiotEmergency { note: "HTTP 203".into() },
            &Local::default(),
            &Settings::default(),
            NOW,
        );
        assert!(v.allowed && v.emergency && v.tag1265.is_none());
        assert_eq!(v.source, Source::Tspiot);
        // Rejected: refused with the service's words.
        let r = Evidence::Rejected { source: Source::Tspiot, field: "tspiot".into(), message: "HTTP 400: bad".into() };
        let v = judge(&code(DAIRY), &r, &Local::default(), &Settings::default(), NOW);
        assert_eq!((v.action, v.source), (Action::Refuse, Source::Tspiot));
        assert_eq!(v.reasons[0].message, "HTTP 400: bad");
        // The Local Module directly without inst and version: 1265 without them.
        let lm = Evidence::Lm {
            info: ok_info(),
            req_id: Some("a".into()),
            req_timestamp: Some(1),
            inst: None,
            version: None,
        };
        assert_eq!(
            judge(&code(DAIRY), &lm, &Local::default(), &Settings::default(), NOW).tag1265.as_deref(),
            Some("UUID=a&Time=1")
        );
    }
}
