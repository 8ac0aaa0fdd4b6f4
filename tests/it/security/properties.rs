//! Property tests of the parsers that take outside input and have no round trip beside their
//! code: the receipt JSON, the ГИС МТ / Local Module check answer, and the marking code on
//! arbitrary bytes. (The frame, TLV, data types and marking-code round trips have their
//! property tests beside the code; every parser also has a fuzz target in tools/fuzz.)

use kkt::marking::code::{local_check, MarkingCode};
use kkt::marking::model::CheckAnswer;
use kkt::protocol::Decimal;
use kkt::receipt::{Customer, Item, Money, Operation, PaymentMethod, PaymentObject, Receipt, Taxation, Vat};
use proptest::prelude::*;
use serde_json::{json, Value};

fn pick<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    (0..all.len()).prop_map(move |i| all[i])
}

fn item() -> impl Strategy<Value = Item> {
    (
        "[А-Яа-яA-Za-z0-9 ,.%-]{1,40}",
        1u64..10_000_000,
        (1u64..100_000, 0u8..=3),
        pick(Vat::ALL),
        pick(PaymentMethod::ALL),
        pick(PaymentObject::ALL),
        proptest::option::of("[0-9]{3}"),
    )
        .prop_map(|(name, price, (m, scale), vat, pm, po, country)| {
            let mut it = Item::new(name, Money::from_kopecks(price), Decimal::new(m, scale), vat);
            it.payment_method = pm;
            it.payment_object = po;
            it.country_code = country;
            it
        })
}

fn receipt() -> impl Strategy<Value = Receipt> {
    (
        proptest::option::of("[a-z0-9/-]{1,40}"),
        pick(Operation::ALL),
        pick(Taxation::ALL),
        proptest::collection::vec(item(), 1..5),
        (0u64..100_000_000, 0u64..100_000_000),
        proptest::option::of("\\+7[0-9]{10}"),
        any::<bool>(),
    )
        .prop_map(|(id, op, tax, items, (cash, card), contact, print)| {
            let mut r = Receipt::sell(tax);
            r.id = id;
            r.operation = op;
            r.items = items;
            r.payments.cash = Money::from_kopecks(cash);
            r.payments.electronic = Money::from_kopecks(card);
            r.customer = contact.map(|c| Customer { contact: Some(c), ..Customer::default() });
            r.print = print;
            r
        })
}

/// JSON values of every kind, for the fields of a check answer.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|v| json!(v)),
        any::<u64>().prop_map(|v| json!(v)),
        (-1.0e16f64..1.0e16).prop_map(|v| json!(v)),
        "[0-9 .a-z-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),]
    })
}

/// A number as ГИС МТ may send it: a JSON number, a number in a string, or null.
fn lenient_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(|v| json!(v)),
        any::<u32>().prop_map(|v| json!(v.to_string())),
        (0u32..1_000_000).prop_map(|v| json!(f64::from(v))),
        "[a-z ]{0,5}".prop_map(Value::String),
    ]
}

fn maybe<T: Strategy<Value = Value>>(s: T) -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Null), s]
}

fn code_info() -> impl Strategy<Value = Value> {
    let text = || maybe("[0-9A-Za-z\\-:.]{0,20}".prop_map(Value::String));
    let flag = || maybe(any::<bool>().prop_map(Value::Bool));
    (
        (text(), text(), text(), maybe(proptest::collection::vec(lenient_number(), 0..3).prop_map(Value::Array))),
        (flag(), flag(), flag(), flag(), flag(), flag()),
        (lenient_number(), lenient_number(), lenient_number(), lenient_number(), lenient_number()),
        (
            maybe(any_json()),
            maybe(prop_oneof![text(), proptest::collection::vec(any_json(), 0..3).prop_map(Value::Array)]),
        ),
    )
        .prop_map(
            |(
                (cis, pv, gtin, groups),
                (valid, verified, found, realizable, utilised, sold),
                (err, mrp, mpr, smp, units),
                (var, ogvs),
            )| {
                json!({"cis": cis, "printView": pv, "gtin": gtin, "groupIds": groups, "valid": valid,
                   "verified": verified, "found": found, "realizable": realizable, "utilised": utilised,
                   "sold": sold, "errorCode": err, "mrp": mrp, "mpr": mpr, "smp": smp,
                   "soldUnitCount": units, "variableExpirations": var, "ogvs": ogvs})
            },
        )
}

fn answer() -> impl Strategy<Value = Value> {
    (lenient_number(), maybe("[a-z ]{0,10}".prop_map(Value::String)), maybe(proptest::collection::vec(code_info(), 0..3).prop_map(Value::Array)), lenient_number())
        .prop_map(|(c, d, codes, ts)| json!({"code": c, "description": d, "codes": codes, "reqTimestamp": ts, "reqId": "2ce10bdb"}))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn receipt_json_round_trip(r in receipt()) {
        let back = Receipt::from_json(&r.to_json()).unwrap();
        prop_assert_eq!(&back, &r);
        // The content hash ignores the id and nothing else.
        let mut other = r.clone();
        other.id = Some("another".into());
        prop_assert_eq!(kkt::journaled::receipt_hash(&other), kkt::journaled::receipt_hash(&r));
        other.print = !other.print;
        prop_assert_ne!(kkt::journaled::receipt_hash(&other), kkt::journaled::receipt_hash(&r));
        let _ = (r.validate(), r.settle(), r.total());
    }

    #[test]
    fn receipt_json_never_panics(s in "\\PC{0,200}") {
        let _ = Receipt::from_json(&s);
    }

    #[test]
    fn receipt_json_mutated_never_panics(r in receipt(), at in any::<usize>(), byte in any::<u8>()) {
        let mut b = r.to_json().into_bytes();
        let i = at % b.len();
        b[i] = byte;
        if let Ok(s) = std::str::from_utf8(&b) {
            if let Ok(r2) = Receipt::from_json(s) {
                prop_assert_eq!(Receipt::from_json(&r2.to_json()).unwrap(), r2);
            }
        }
    }

    #[test]
    fn check_answer_reads_leniently_and_round_trips(v in answer()) {
        let text = v.to_string();
        let a: CheckAnswer = serde_json::from_str(&text).expect("numbers as numbers, strings or null are read");
        prop_assert!(a.codes.len() <= 3);
        for c in &a.codes {
            let _ = (c.service_mrp(), c.in_group(3));
        }
        let back: CheckAnswer = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        prop_assert_eq!(back, a);
    }

    #[test]
    fn check_answer_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = serde_json::from_slice::<CheckAnswer>(&b);
    }

    #[test]
    fn marking_code_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(c) = MarkingCode::parse_bytes(&b) {
            prop_assert_eq!(c.as_str().as_bytes(), &c.to_wire_bytes()[..]);
            prop_assert_eq!(c.gtin().len(), 14);
            let _ = (c.print_view(), c.code_type_2100(), c.product_id(), c.display_gs(), c.mrp_kopecks());
        }
        let _ = local_check(&b, |_| true, true);
    }

    #[test]
    fn marking_code_like_input_never_panics(s in "(01[0-9]{14}21[!-~]{1,20}(\u{1d}|<GS>|\\\\x1d)?(91[A-Z0-9]{4})?(\u{1d}92[A-Za-z0-9+/=]{4,44})?)|[0-9A-Za-z!-/]{25,40}") {
        if let Ok(c) = MarkingCode::parse(&s) {
            prop_assert!(c.to_wire_bytes().is_ascii());
        }
        let _ = local_check(s.as_bytes(), |_| false, false);
    }
}
