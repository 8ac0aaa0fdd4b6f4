//! The ban rules of seed 003 §4 and §6 as a pure function: what the checker learned about a code
//! (an online answer, a Local Module answer, an emergency, no answer, or a failed check) plus the
//! store's local facts, in; a [`Verdict`] naming every reason and the field that caused it, out.

use serde::{Deserialize, Serialize};

use crate::marking::model::{group, CodeInfo};
use crate::marking::tag1260;
use crate::marking::verdict::{Action, Reason, Rule, Source, Strictness, Verdict};
use crate::marking::MarkingCode;

/// Settings of the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Deny or ask.
    pub strictness: Strictness,
    /// Judge `expireDate` for every group the service returns it for, not only milk, beer and water.
    pub expiry_all_groups: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { strictness: Strictness::Deny, expiry_all_groups: false }
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
            v.reasons.push(Reason::new(field.clone(), Rule::CheckFailed, message.clone()));
        }
        Evidence::Emergency { note } => {
            v.emergency = true;
            v.notes.push(format!("ГИС МТ emergency mode: permissive checks are off ({note})"));
        }
        Evidence::NoAnswer { note } => {
            v.notes.push(note.clone());
        }
        Evidence::Failed { field, message } => {
            v.reasons.push(Reason::new(field.clone(), Rule::CheckFailed, message.clone()));
        }
    }
    // Rules on the code itself and the store's own facts hold whatever the service said.
    if let (Some(mrp), Some(price)) = (code.mrp_kopecks(), local.price_kopecks) {
        if is_tobacco(code, info_ref) && mrp != price {
            let whence = if code.format() == crate::marking::code::Format::TobaccoPack {
                "characters 22–25 of the pack code"
            } else {
                "AI 8005 of the block code"
            };
            v.reasons.push(Reason::new(
                "price",
                Rule::PriceNotMrp,
                format!("selling price {} differs from the MRP {} in the code ({whence})", rub(price), rub(mrp)),
            ));
        }
    }
    if local.duplicate_in_receipt {
        let partial_group =
            info_ref.is_none_or(|i| i.group_ids.is_none() || i.in_group(group::BEER) || i.in_group(group::OTR));
        if local.partial_sale && partial_group {
            v.notes.push("the code repeats in this receipt: allowed for a partial sale".into());
        } else {
            v.reasons.push(Reason::new("code", Rule::DuplicateInReceipt, "the same code is already in this receipt"));
        }
    }
    if let Some(hit) = &local.sold_here {
        v.reasons.push(Reason::new(
            "store",
            Rule::SoldByThisStore,
            format!("this store already sold the code (receipt {}, at {} ms)", hit.receipt, hit.at_ms),
        ));
    }
    v.settle(settings.strictness);
    v
}

fn online_rules(code: &MarkingCode, info: &CodeInfo, local: &Local, settings: &Settings, now_ms: i64, v: &mut Verdict) {
    let r = &mut v.reasons;
    if info.found == Some(false) {
        r.push(Reason::new("found", Rule::NotFound, "the code is not found in ГИС МТ"));
    }
    if info.utilised == Some(false) {
        r.push(Reason::new("utilised", Rule::NotUtilised, "the code was emitted but not applied to a package"));
    }
    if info.valid == Some(false) {
        r.push(Reason::new("valid", Rule::InvalidStructure, "the code's structure is not valid"));
    }
    if info.verified == Some(false) {
        r.push(Reason::new("verified", Rule::NotVerified, "the crypto check of the code failed"));
    }
    if info.sold == Some(true) {
        let why = match info.elimination_state {
            Some(1) => " (samples or distance sale)",
            Some(2) => " (own or production needs)",
            _ => "",
        };
        r.push(Reason::new("sold", Rule::Sold, format!("the item is withdrawn from circulation{why}")));
    }
    if info.is_blocked == Some(true) {
        let by = info.ogvs.as_ref().filter(|o| !o.is_empty()).map(|o| format!(" by {}", o.join(", ")));
        r.push(Reason::new("isBlocked", Rule::Blocked, format!("the sale is blocked{}", by.unwrap_or_default())));
    }
    if info.realizable == Some(false) && info.sold != Some(true) {
        if is_tobacco(code, Some(info)) && info.gray_zone == Some(true) {
            v.notes.push("grayZone: tobacco temporarily untraceable, realizable = false does not ban the sale".into());
        } else {
            r.push(Reason::new("realizable", Rule::NotRealizable, "the code is not in circulation"));
        }
    }
    let expiry_group = settings.expiry_all_groups
        || info.group_ids.is_none()
        || [group::MILK, group::BEER, group::WATER].iter().any(|g| info.in_group(*g));
    if let (true, Some(exp)) = (expiry_group, info.expire_date.as_deref()) {
        match parse_service_time(exp) {
            Some(t) if now_ms >= t => {
                r.push(Reason::new("expireDate", Rule::Expired, format!("the item expired at {exp}")))
            }
            Some(_) => {}
            None => v.notes.push(format!("expireDate {exp:?} could not be read")),
        }
    }
    if is_tobacco(code, Some(info)) {
        let code_mrp = code.mrp_kopecks();
        if let (Some(c), Some(s)) = (code_mrp, info.service_mrp()) {
            if c != s {
                r.push(Reason::new(
                    "mrp",
                    Rule::MrpMismatch,
                    format!("the MRP in the code {} differs from ГИС МТ's {}", rub(c), rub(s)),
                ));
            }
        }
        if let (None, Some(s), Some(p)) = (code_mrp, info.service_mrp(), local.price_kopecks) {
            if s != p {
                r.push(Reason::new(
                    "mrp",
                    Rule::PriceNotMrp,
                    format!("selling price {} differs from ГИС МТ's MRP {}", rub(p), rub(s)),
                ));
            }
        }
        if let (Some(m), Some(smp)) = (code_mrp.or(info.service_mrp()), info.smp) {
            if m < smp {
                r.push(Reason::new(
                    "smp",
                    Rule::BelowMinimumPrice,
                    format!("the MRP {} is below the single minimum price {}", rub(m), rub(smp)),
                ));
            }
        }
    }
    if let Some(m) = info.message.as_deref().filter(|m| !m.is_empty()) {
        v.notes.push(format!("ГИС МТ: {m}"));
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
        let by = info.ogvs.as_ref().filter(|o| !o.is_empty()).map(|o| format!(" by {}", o.join(", ")));
        v.reasons.push(Reason::new(
            "isBlocked",
            Rule::Blocked,
            format!("the sale is blocked{} (Local Module)", by.unwrap_or_default()),
        ));
    }
    if info.sold == Some(true) {
        v.reasons.push(Reason::new("sold", Rule::Sold, "the item is withdrawn from circulation (Local Module)"));
    }
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
