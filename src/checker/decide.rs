//! The last step of a marked item (seed 004 Appendix 2): the checker's [`Verdict`] and the
//! register's own result (tag 2106 from 0x92, or from 0x94) decide whether 0x94 saves the check
//! result and 0x97 adds the item with its 1260, or 0x94 deletes it and the item is refused.
//! Pure: no I/O.

use crate::commands::marking::MarkCheckResult;
use crate::marking::verdict::{Action, Decision, Reason, Rule, Strictness, Verdict};

/// The reasons the register's 2106 adds: a negative FN crypto check (bit 0 set, bit 1 clear) and
/// an OISM answer that the planned status is wrong (bit 2 set, bit 3 clear).
pub fn device_reasons(r: MarkCheckResult) -> Vec<Reason> {
    let mut out = Vec::new();
    if r.checked() && !r.crypto_ok() {
        out.push(Reason::new("2106", Rule::DeviceCryptoNegative, super::texts::device_crypto_negative(r.0)));
    }
    if r.status_checked() && !r.status_correct() {
        out.push(Reason::new("2106", Rule::DeviceStatusIncorrect, super::texts::device_status_incorrect(r.0)));
    }
    out
}

/// Decides 0x94/0x97 for one item from the checker's verdict and the register's 2106 (None when
/// the register did not check, e.g. without a device).
pub fn decide(verdict: &Verdict, device_result_2106: Option<MarkCheckResult>, strictness: Strictness) -> Decision {
    let mut reasons = verdict.reasons.clone();
    if let Some(r) = device_result_2106 {
        reasons.extend(device_reasons(r));
    }
    let tag1260 = verdict.tag1260();
    let notes = verdict.notes.clone();
    let action = if reasons.is_empty() {
        Action::Sell
    } else if verdict.action == Action::Refuse || strictness == Strictness::Deny {
        Action::Refuse
    } else {
        Action::Ask
    };
    match action {
        Action::Sell => Decision::Sell { tag1260, notes },
        Action::Refuse => Decision::Refuse { reasons },
        Action::Ask => Decision::Ask { reasons, tag1260, notes },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::rules::{judge, Evidence, Local, Settings};
    use crate::marking::model::CodeInfo;
    use crate::marking::verdict::{DELETE, SAVE};
    use crate::marking::MarkingCode;

    fn verdict(info: CodeInfo, strictness: Strictness) -> Verdict {
        let code = MarkingCode::parse("0104670540176099215'W9Um\u{1d}93dGVz").unwrap();
        let ev = Evidence::Online { info, req_id: Some("u-1".into()), req_timestamp: Some(17), host: None };
        judge(&code, &ev, &Local::default(), &Settings { strictness, ..Settings::default() }, 0)
    }

    fn good() -> CodeInfo {
        CodeInfo { found: Some(true), sold: Some(false), ..CodeInfo::default() }
    }

    #[test]
    fn clean_item_is_saved_with_1260() {
        let d = decide(&verdict(good(), Strictness::Deny), Some(MarkCheckResult(0x0F)), Strictness::Deny);
        assert_eq!(d.flag_0x94(), Some(SAVE));
        let Decision::Sell { tag1260: Some(t), .. } = &d else { panic!("{d:?}") };
        assert_eq!(&t[..2], &[0xEC, 0x04]);
        assert!(String::from_utf8_lossy(t).contains("UUID=u-1&Time=17"));
    }

    #[test]
    fn a_ban_deletes_the_result() {
        let mut i = good();
        i.sold = Some(true);
        let d = decide(&verdict(i, Strictness::Deny), Some(MarkCheckResult(0x0F)), Strictness::Deny);
        assert_eq!(d.flag_0x94(), Some(DELETE));
        let Decision::Refuse { reasons } = d else { panic!() };
        assert_eq!(reasons[0].field, "sold");
    }

    #[test]
    fn device_2106_adds_reasons() {
        // Checked, crypto negative; status checked and wrong.
        let d = decide(&verdict(good(), Strictness::Deny), Some(MarkCheckResult(0b0101)), Strictness::Deny);
        let Decision::Refuse { reasons } = d else { panic!() };
        let rules: Vec<_> = reasons.iter().map(|r| r.rule).collect();
        assert_eq!(rules, vec![Rule::DeviceCryptoNegative, Rule::DeviceStatusIncorrect]);
        // Not checked at all (autonomous, no OISM): nothing to add.
        assert_eq!(
            decide(&verdict(good(), Strictness::Deny), Some(MarkCheckResult(0)), Strictness::Deny).flag_0x94(),
            Some(SAVE)
        );
        assert_eq!(decide(&verdict(good(), Strictness::Deny), None, Strictness::Deny).flag_0x94(), Some(SAVE));
    }

    #[test]
    fn ask_waits_for_the_cashier() {
        let mut i = good();
        i.sold = Some(true);
        let v = verdict(i, Strictness::Ask);
        let d = decide(&v, Some(MarkCheckResult(0x0F)), Strictness::Ask);
        assert_eq!(d.flag_0x94(), None);
        let yes = d.clone().confirm(true);
        assert_eq!(yes.flag_0x94(), Some(SAVE));
        let Decision::Sell { tag1260, notes } = &yes else { panic!() };
        assert!(tag1260.is_some());
        assert!(notes.iter().any(|n| n.contains("accepted by the cashier")));
        assert_eq!(d.confirm(false).flag_0x94(), Some(DELETE));
        // A device reason in ask mode asks too.
        let d = decide(&verdict(good(), Strictness::Ask), Some(MarkCheckResult(0b0101)), Strictness::Ask);
        assert!(matches!(d, Decision::Ask { .. }));
    }

    #[test]
    fn serializes_for_logs() {
        let d = decide(&verdict(good(), Strictness::Deny), None, Strictness::Deny);
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["decision"], "sell");
        assert!(v["tag1260"].as_str().unwrap().starts_with("EC04"));
    }
}
