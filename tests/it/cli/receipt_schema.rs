//! protocol/receipt.schema.json and the receipt parser agree: every fixture is valid under the
//! schema and parses; each kind of invalid receipt the schema can express is refused by both.

use kkt::receipt::Receipt;
use serde_json::{json, Value};

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/protocol/receipt.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn fixtures() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/receipts");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.display().to_string(), serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn fixtures_are_valid_under_the_schema_and_parse() {
    let s = schema();
    let all = fixtures();
    assert!(all.len() >= 3);
    for (name, v) in &all {
        let errors: Vec<String> = s.iter_errors(v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        Receipt::from_json(&v.to_string()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // The demo's receipt too (`kkt demo` sells fixtures/receipts/demo.json).
    let demo: Value = serde_json::from_str(include_str!("../../../fixtures/receipts/demo.json")).unwrap();
    assert!(s.is_valid(&demo));
}

#[test]
fn both_refuse_the_same_bad_receipts() {
    let s = schema();
    let base = fixtures().into_iter().find(|(n, _)| n.ends_with("sale.json")).unwrap().1;
    let cases: Vec<(&str, Value)> = vec![
        ("unknown field", {
            let mut v = base.clone();
            v["colour"] = json!("red");
            v
        }),
        ("unknown item field", {
            let mut v = base.clone();
            v["items"][0]["weight"] = json!(1);
            v
        }),
        ("bad operation", {
            let mut v = base.clone();
            v["operation"] = json!("steal");
            v
        }),
        ("bad vat", {
            let mut v = base.clone();
            v["items"][0]["vat"] = json!("vat18");
            v
        }),
        ("negative price", {
            let mut v = base.clone();
            v["items"][0]["price"] = json!("-1");
            v
        }),
        ("three decimals", {
            let mut v = base.clone();
            v["items"][0]["price"] = json!("1.005");
            v
        }),
        ("long name", {
            let mut v = base.clone();
            v["items"][0]["name"] = json!("я".repeat(129));
            v
        }),
        ("short cashier INN", {
            let mut v = base.clone();
            v["cashier"]["inn"] = json!("12345");
            v
        }),
        ("no items", {
            let mut v = base.clone();
            v["items"] = json!([]);
            v
        }),
        ("missing payments", {
            let mut v = base.clone();
            v.as_object_mut().unwrap().remove("payments");
            v
        }),
    ];
    for (what, v) in cases {
        assert!(!s.is_valid(&v), "schema accepts {what}");
        let parsed = Receipt::from_json(&v.to_string()).and_then(|r| r.validate().map(|_| r));
        assert!(parsed.is_err(), "parser accepts {what}");
    }
}

#[test]
fn both_refuse_the_same_bad_requisites() {
    let s = schema();
    let base = fixtures().into_iter().find(|(n, _)| n.ends_with("requisites.json")).unwrap().1;
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        v
    };
    let cases: Vec<(&str, Value)> = vec![
        ("an unknown agent type", edit(&|v| v["items"][0]["agent"]["type"] = json!("bank_agent"))),
        ("an agent without its type", edit(&|v| v["items"][2]["agent"] = json!({}))),
        ("a supplier INN of 11 digits", edit(&|v| v["items"][2]["supplier"]["inn"] = json!("77400000761"))),
        ("a supplier without an INN", edit(&|v| v["items"][2]["supplier"] = json!({"name": "ИП Петров"}))),
        ("a 4-digit country code", edit(&|v| v["items"][2]["country_code"] = json!("6430"))),
        ("an additional receipt requisite of 17", edit(&|v| v["additional_requisite"] = json!("x".repeat(17)))),
        ("a user requisite without its value", edit(&|v| v["user_requisite"] = json!({"name": "Карта"}))),
        ("a ФОИВ id of 73", edit(&|v| v["industry_requisites"][0]["foiv_id"] = json!(73))),
        ("a basis date in ISO form", edit(&|v| v["industry_requisites"][0]["document_date"] = json!("2022-03-26"))),
        ("a machine number of 22", edit(&|v| v["automat_number"] = json!("1".repeat(22)))),
        ("the old field name `country`", edit(&|v| v["items"][2]["country"] = json!("250"))),
        (
            "a transfer operator phone of 21",
            edit(&|v| v["items"][0]["agent"]["transfer_operator_phones"] = json!(["1".repeat(21)])),
        ),
    ];
    for (what, v) in cases {
        assert!(!s.is_valid(&v), "schema accepts {what}");
        let parsed = Receipt::from_json(&v.to_string()).and_then(|r| r.validate().map(|_| r));
        assert!(parsed.is_err(), "parser accepts {what}");
    }
}

#[test]
fn every_field_of_the_schema_names_its_tag() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/protocol/receipt.schema.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    fn walk(path: &str, props: &Value, out: &mut Vec<String>) {
        for (k, p) in props.as_object().into_iter().flatten() {
            let d = p["description"].as_str().unwrap_or("").to_lowercase();
            if !(d.contains("tag ") || d.contains("tags ") || d.contains("stlv ") || d.starts_with("no tag:")) {
                out.push(format!("{path}.{k}"));
            }
            if p["properties"].is_object() {
                walk(&format!("{path}.{k}"), &p["properties"], out);
            }
        }
    }
    let mut missing = Vec::new();
    walk("receipt", &v["properties"], &mut missing);
    for (name, d) in v["$defs"].as_object().unwrap() {
        walk(name, &d["properties"], &mut missing);
    }
    assert!(missing.is_empty(), "fields whose description names no tag: {missing:?}");
}
