//! What the register's registration says a receipt must carry: a register registered for
//! vending, delivery or one-to-many settlements answers 0xC9 «не переданы значения
//! (адрес-место-автомат)» to a receipt without the settlement address (1009), place (1187) and
//! vending machine number (1036) (seed 004, 0x98 and Приложение 3). The driver reads the
//! registration once ([`Profile`]: 0x0A's operating modes, the last registration report's
//! TLVs by 0x3B) and fills each of the three a receipt leaves out from the registered value
//! ([`fill`]), saying which it used ([`RequisiteDefault`]); one that neither gives is refused
//! before anything is sent, naming the JSON field.
//!
//! Such a register is told by 0x0A's automatic mode (bit 2: a vending machine, or one register
//! for several automats), or by a registration report without the settlement address or place
//! (delivery trade, one-to-many).

use serde::Serialize;

use crate::commands::InputError;
use crate::commands::TlvList;
use crate::protocol::tag;
use crate::protocol::types::decode_cp866;
use crate::protocol::values::OperatingModes;
use crate::receipt::Receipt;

/// The three settlement requisites: (JSON field, tag).
pub const SETTLEMENT_REQUISITES: [(&str, u16); 3] = [
    ("settlement_address", tag::SETTLEMENT_ADDRESS),
    ("settlement_place", tag::SETTLEMENT_PLACE),
    ("automat_number", tag::VENDING_MACHINE_NUMBER),
];

/// A receipt requisite the driver took from the registration because the receipt left it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequisiteDefault {
    /// The receipt JSON's field (`settlement_address`, `settlement_place`, `automat_number`).
    pub field: &'static str,
    /// Its tag.
    pub tag: u16,
    /// The value sent.
    pub value: String,
    /// Where it came from: `registration` (the register's last registration report).
    pub source: &'static str,
}

/// The register's registration as far as receipts care.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    /// 0x0A's automatic mode (bit 2).
    pub automatic: bool,
    /// The last registration report's TLVs (None when the register does not give them, 0x3B).
    pub report: Option<TlvList>,
}

impl Profile {
    fn registered(&self, t: u16) -> Option<String> {
        let raw = self.report.as_ref()?.raw(t)?;
        let v = decode_cp866(raw).into_owned();
        (!v.trim().is_empty()).then_some(v)
    }

    /// Whether every receipt must carry 1009, 1187 and 1036: the register is in automatic mode,
    /// or its registration has no settlement address or place.
    pub fn needs_settlement_requisites(&self) -> bool {
        self.automatic
            || (self.report.is_some()
                && (self.registered(tag::SETTLEMENT_ADDRESS).is_none()
                    || self.registered(tag::SETTLEMENT_PLACE).is_none()))
    }

    /// Why the register needs them, for messages.
    fn why(&self) -> &'static str {
        if self.automatic {
            "the register works in automatic mode (vending or one-to-many settlements, 0x0A)"
        } else {
            "the register is registered without a settlement address or place (delivery or one-to-many settlements)"
        }
    }
}

/// Whether the operating modes of 0x0A say automatic mode.
pub fn automatic(modes: OperatingModes) -> bool {
    modes.contains(OperatingModes::AUTOMATIC)
}

/// `receipt` with the settlement requisites a register of `profile` needs: each one the
/// receipt gives is kept, each one it leaves out is the registered value (listed in the
/// answer); one neither gives is refused, naming the field.
pub fn fill(receipt: &Receipt, profile: &Profile) -> Result<(Receipt, Vec<RequisiteDefault>), InputError> {
    if !profile.needs_settlement_requisites() {
        return Ok((receipt.clone(), Vec::new()));
    }
    let mut r = receipt.clone();
    let mut used = Vec::new();
    for (field, t) in SETTLEMENT_REQUISITES {
        let slot = match t {
            tag::SETTLEMENT_ADDRESS => &mut r.settlement_address,
            tag::SETTLEMENT_PLACE => &mut r.settlement_place,
            _ => &mut r.automat_number,
        };
        if slot.is_some() {
            continue;
        }
        match profile.registered(t) {
            Some(v) => {
                *slot = Some(v.clone());
                used.push(RequisiteDefault { field, tag: t, value: v, source: "registration" });
            }
            None => {
                return Err(InputError::new(
                    field,
                    format!(
                        "{}: every receipt carries tag {t}, and the registration has none to use; give `{field}` \
                         (the register answers error 0xC9 without it)",
                        profile.why()
                    ),
                ))
            }
        }
    }
    Ok((r, used))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::TlvWriter;
    use crate::receipt::{Item, Money, Taxation, Vat};

    fn report(address: &str, place: &str, automat: Option<&str>) -> TlvList {
        let mut w = TlvWriter::new();
        w.string(tag::SETTLEMENT_ADDRESS, address).unwrap().string(tag::SETTLEMENT_PLACE, place).unwrap();
        if let Some(a) = automat {
            w.string(tag::VENDING_MACHINE_NUMBER, a).unwrap();
        }
        TlvList::parse(w.as_bytes()).unwrap()
    }

    fn sale() -> Receipt {
        let mut r = Receipt::sell(Taxation::OSN);
        r.items.push(Item::new("Вода", Money::from_kopecks(5000), 1u32.into(), Vat::VAT20));
        r.payments.cash = Money::from_kopecks(5000);
        r
    }

    #[test]
    fn a_shop_register_needs_nothing() {
        let p = Profile { automatic: false, report: Some(report("Москва", "Зал", None)) };
        assert!(!p.needs_settlement_requisites());
        let (r, used) = fill(&sale(), &p).unwrap();
        assert_eq!((r, used), (sale(), vec![]));
        // Unknown registration data (0x3B refused) and no automatic mode: nothing to require.
        assert!(!Profile::default().needs_settlement_requisites());
    }

    #[test]
    fn a_vending_register_takes_the_registered_values() {
        let p = Profile { automatic: true, report: Some(report("Москва", "Вокзал", Some("00000042"))) };
        let mut given = sale();
        given.settlement_place = Some("Перрон 2".into());
        let (r, used) = fill(&given, &p).unwrap();
        assert_eq!(r.settlement_address.as_deref(), Some("Москва"));
        assert_eq!(r.settlement_place.as_deref(), Some("Перрон 2"), "the receipt's own value is kept");
        assert_eq!(r.automat_number.as_deref(), Some("00000042"));
        assert_eq!(
            used.iter().map(|u| (u.field, u.tag)).collect::<Vec<_>>(),
            [("settlement_address", 1009), ("automat_number", 1036)]
        );
    }

    #[test]
    fn what_neither_gives_is_refused_naming_the_field() {
        // Delivery: registered without the place.
        let p = Profile { automatic: false, report: Some(report("Москва", "", None)) };
        assert!(p.needs_settlement_requisites());
        let e = fill(&sale(), &p).unwrap_err();
        assert_eq!(e.field, "settlement_place");
        assert!(e.message.contains("0xC9") && e.message.contains("1187"), "{e}");
        let mut r = sale();
        r.settlement_place = Some("ул. Ленина, 5".into());
        let e = fill(&r, &p).unwrap_err();
        assert_eq!(e.field, "automat_number");
        r.automat_number = Some("А123ВС77".into());
        let (done, used) = fill(&r, &p).unwrap();
        assert_eq!(done.settlement_address.as_deref(), Some("Москва"));
        assert_eq!(used.len(), 1);
    }
}
