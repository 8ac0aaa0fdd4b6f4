//! The sold-codes store on a real PostgreSQL server (a chain of stores sharing one store).
//! Needs `KKT_TEST_POSTGRES` (a URL; `tools/ci/postgres.sh` starts a throwaway server and prints
//! it); skipped with a message when it is not set.

use kkt::checker::store::{self, CodeRecord, CodeState, PostgresStore, SoldCodes, SqliteStore};
use kkt::checker::{CheckItem, Checker, Settings, Source};
use kkt::marking::MarkingCode;

fn url() -> Option<String> {
    match std::env::var("KKT_TEST_POSTGRES") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            println!("skipped: KKT_TEST_POSTGRES is not set (tools/ci/postgres.sh starts a server)");
            None
        }
    }
}

fn unique(tag: &str) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("0104670540176099215{tag}{n}")
}

/// What every backend must do.
fn exercise(s: &mut dyn SoldCodes, pv: &str) {
    assert_eq!(s.lookup("", pv).unwrap(), None);
    s.record("", pv, &format!("{pv}\u{1d}93dGVz"), CodeState::Sold, "FD 1", 1000).unwrap();
    assert_eq!(
        s.lookup("", pv).unwrap(),
        Some(CodeRecord { state: CodeState::Sold, receipt: "FD 1".into(), at_ms: 1000, inn: String::new() })
    );
    s.record("", pv, pv, CodeState::Returned, "FD 2", 2000).unwrap();
    assert_eq!(s.lookup("", pv).unwrap().unwrap().as_hit(), None);
    s.record("", pv, pv, CodeState::Sold, "FD 3", 3000).unwrap();
    let h: Vec<_> = s.history(pv).unwrap().into_iter().map(|r| (r.state, r.receipt)).collect();
    assert_eq!(
        h,
        vec![
            (CodeState::Sold, "FD 1".to_string()),
            (CodeState::Returned, "FD 2".to_string()),
            (CodeState::Sold, "FD 3".to_string())
        ]
    );
}

#[test]
fn sqlite_backend() {
    let dir = crate::support::gismt::temp_dir("store-sqlite");
    let mut s = SqliteStore::open(&store::default_path(&dir)).unwrap();
    exercise(&mut s, &unique("sq"));
}

#[test]
fn postgres_backend_same_behaviour() {
    let Some(url) = url() else { return };
    let mut s = PostgresStore::connect(&url).unwrap();
    exercise(&mut s, &unique("pg"));
}

#[test]
fn a_chain_of_stores_shares_one_store() {
    let Some(url) = url() else { return };
    // Two tills (two connections) of a chain; schema creation is idempotent.
    let mut a = store::open(&url).unwrap();
    let mut b = store::open(&url).unwrap();
    let pv = unique("chain");
    a.record("", &pv, &pv, CodeState::Sold, "shop 1 FD 10", 10).unwrap();
    let hit = b.lookup("", &pv).unwrap().unwrap().as_hit().unwrap();
    assert_eq!(hit.receipt, "shop 1 FD 10");
    b.record("", &pv, &pv, CodeState::Returned, "shop 2 FD 4", 20).unwrap();
    assert_eq!(a.lookup("", &pv).unwrap().unwrap().state, CodeState::Returned);
}

#[test]
fn a_resale_in_another_shop_of_the_chain_is_refused_offline() {
    let Some(url) = url() else { return };
    let tail = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() % 100_000_000;
    let code = MarkingCode::parse(&format!("0104670540176099215R{tail:08}\u{1d}93dGVz")).unwrap();
    let shop1 = Checker::new(None, None, Settings::default()).with_store(store::open(&url).unwrap());
    let shop2 = Checker::new(None, None, Settings::default()).with_store(store::open(&url).unwrap());
    let v = shop2.receipt().check(&[CheckItem::new(code.clone())]).remove(0);
    assert!(v.allowed);
    assert_eq!(v.source, Source::None);
    shop1.record(std::slice::from_ref(&code), CodeState::Sold, "shop 1 FD 11").unwrap();
    let v = shop2.receipt().check(&[CheckItem::new(code)]).remove(0);
    assert!(!v.allowed);
    assert_eq!(v.reasons[0].field, "store");
    assert!(v.reasons[0].message.contains("shop 1 FD 11"));
}

#[test]
fn unreachable_postgres_is_a_clear_error() {
    let e = store::open("postgres://kkt@127.0.0.1:9/postgres").err().expect("no server on port 9");
    assert!(e.to_string().contains("PostgreSQL"), "{e}");
}

/// The first schema of the store (before legal entities), as a till of the previous release has it.
const V1: &[&str] = &[
    "CREATE TABLE kkt_marked_codes (
        print_view TEXT PRIMARY KEY,
        code TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('sold', 'returned')),
        receipt TEXT NOT NULL,
        at_ms BIGINT NOT NULL
    )",
    "CREATE TABLE kkt_marked_events (
        print_view TEXT NOT NULL,
        code TEXT NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('sold', 'returned')),
        receipt TEXT NOT NULL,
        at_ms BIGINT NOT NULL
    )",
    "CREATE INDEX kkt_marked_events_pv ON kkt_marked_events (print_view)",
    "INSERT INTO kkt_marked_codes VALUES ('0104670540176099215OLD001', '0104670540176099215OLD001', 'sold', 'FN 1 FD 7', 1000)",
    "INSERT INTO kkt_marked_codes VALUES ('0104670540176099215OLD002', '0104670540176099215OLD002', 'returned', 'FN 1 FD 9', 3000)",
    "INSERT INTO kkt_marked_events VALUES ('0104670540176099215OLD001', '0104670540176099215OLD001', 'sold', 'FN 1 FD 7', 1000)",
    "INSERT INTO kkt_marked_events VALUES ('0104670540176099215OLD002', '0104670540176099215OLD002', 'sold', 'FN 1 FD 8', 2000)",
    "INSERT INTO kkt_marked_events VALUES ('0104670540176099215OLD002', '0104670540176099215OLD002', 'returned', 'FN 1 FD 9', 3000)",
];

/// After the migration: every row kept; a sale of an unknown entity (before entities) counts
/// for every entity; the new columns and the checks table work.
fn migrated(s: &mut dyn SoldCodes) {
    let hit = s.lookup("7701234567", "0104670540176099215OLD001").unwrap().unwrap();
    assert_eq!(
        (hit.state, hit.receipt.as_str(), hit.at_ms, hit.inn.as_str()),
        (CodeState::Sold, "FN 1 FD 7", 1000, "")
    );
    assert!(s.lookup("500100732259", "0104670540176099215OLD001").unwrap().unwrap().as_hit().is_some());
    assert_eq!(s.lookup("", "0104670540176099215OLD002").unwrap().unwrap().state, CodeState::Returned);
    let h: Vec<(CodeState, String)> =
        s.history("0104670540176099215OLD002").unwrap().into_iter().map(|r| (r.state, r.receipt)).collect();
    assert_eq!(h, vec![(CodeState::Sold, "FN 1 FD 8".into()), (CodeState::Returned, "FN 1 FD 9".into())]);
    // A new sale by an entity, of a code returned before: its own row beside the old one.
    s.record(
        "7701234567",
        "0104670540176099215OLD002",
        "0104670540176099215OLD002",
        CodeState::Sold,
        "FN 1 FD 10",
        4000,
    )
    .unwrap();
    assert_eq!(s.lookup("7701234567", "0104670540176099215OLD002").unwrap().unwrap().receipt, "FN 1 FD 10");
    assert_eq!(s.lookup("500100732259", "0104670540176099215OLD002").unwrap().unwrap().state, CodeState::Returned);
    assert_eq!(s.history("0104670540176099215OLD002").unwrap().len(), 3);
    assert_eq!(s.checks(0, None, 10).unwrap(), vec![]);
}

#[test]
fn an_sqlite_store_of_the_first_schema_is_migrated_in_place() {
    let dir = crate::support::gismt::temp_dir("store-v1");
    let path = store::default_path(&dir);
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        for s in V1 {
            c.execute(s, []).unwrap();
        }
    }
    migrated(&mut SqliteStore::open(&path).unwrap());
    // Opening again is a no-op: nothing lost, nothing doubled.
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.history("0104670540176099215OLD002").unwrap().len(), 3);
    assert_eq!(s.lookup("7701234567", "0104670540176099215OLD002").unwrap().unwrap().receipt, "FN 1 FD 10");
}

#[test]
fn a_postgres_store_of_the_first_schema_is_migrated_in_place() {
    let Some(url) = url() else { return };
    // A schema of its own, so that the shared database's tables are not touched.
    let schema = format!(
        "kkt_v1_{}_{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() % 1_000_000_000
    );
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    {
        let mut c = postgres::Client::connect(&scoped, postgres::NoTls).unwrap();
        for s in V1 {
            c.batch_execute(s).unwrap();
        }
    }
    migrated(&mut PostgresStore::connect(&scoped).unwrap());
    let mut s = PostgresStore::connect(&scoped).unwrap();
    assert_eq!(s.history("0104670540176099215OLD002").unwrap().len(), 3);
    drop(s);
    admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
}
