//! The endpoints: JSON in, JSON out.

use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body, HttpBody};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::worker::{Inflight, MarkQuery, Op, Queue};
use kkt::checker::{CheckItem, Checker};
use kkt::journal::Journal;
use kkt::marking::MarkingCode;
use kkt::protocol::Decimal;
use kkt::receipt::{Cashier, Fraction, Measure, Money, PlannedStatus, Receipt};

/// The largest request body.
pub const BODY_LIMIT: usize = 1 << 20;

/// The most codes in one `POST /v1/marks/check`.
pub const MAX_CODES: usize = 100;

/// How long one `POST /v1/marks/check` may keep checking codes with the register (a code begun
/// is finished; the codes after it are not begun).
pub const MARKS_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);

/// The most journal entries in one answer.
pub const MAX_ENTRIES: usize = 10_000;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The register's queue.
    pub queue: Queue,
    /// Receipt ids queued or being formed.
    pub inflight: Inflight,
    /// A read connection to the journal (the worker writes through its own).
    pub journal: Arc<Mutex<Journal>>,
    /// The cashier of shift commands that name none.
    pub cashier: Cashier,
    /// The marked-goods checker of `POST /v1/marks/check`.
    pub checker: Arc<Checker>,
    /// The longest a body may take to arrive.
    pub body_timeout: std::time::Duration,
}

/// Reads the body as UTF-8 text, at most [`BODY_LIMIT`] bytes, within the body deadline.
async fn text(s: &AppState, body: Body) -> Result<String, ApiError> {
    let too_large = |what: String| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body {what}: the limit is {BODY_LIMIT} bytes"),
            "send a smaller body",
        )
    };
    // A declared length over the limit is refused before anything is read.
    let declared = HttpBody::size_hint(&body).lower();
    if declared > BODY_LIMIT as u64 {
        return Err(too_large(format!("is {declared} bytes")));
    }
    let bytes = match tokio::time::timeout(s.body_timeout, to_bytes(body, BODY_LIMIT)).await {
        Ok(read) => read.map_err(|e| too_large(format!("could not be read ({e})")))?,
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!("the request body did not arrive within {} s", s.body_timeout.as_secs_f64()),
                "send the whole body at once; nothing was sent to the register",
            ))
        }
    };
    String::from_utf8(bytes.to_vec()).map_err(|e| ApiError::input("body", format!("not UTF-8: {e}")))
}

/// Parses a JSON body, naming the field of an error (`cashier.name`); `what` names the whole.
fn parse<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, ApiError> {
    if !text.trim_start().starts_with('{') {
        return Err(ApiError::input(what, "a JSON object is expected"));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let v = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if matches!(path.as_str(), "." | "?" | "") { what.to_string() } else { path };
        ApiError::input(&field, e.into_inner())
    })?;
    de.end().map_err(|e| ApiError::input(what, e))?;
    Ok(v)
}

/// Parses an optional body: empty means `{}`.
fn parse_optional<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, ApiError> {
    parse(if text.trim().is_empty() { "{}" } else { text }, what)
}

fn ok(v: Value) -> Response {
    (StatusCode::OK, Json(v)).into_response()
}

fn answer(r: Result<Value, ApiError>) -> Response {
    match r {
        Ok(v) => ok(v),
        Err(e) => e.into_response(),
    }
}

/// `GET /v1/status`: the register's status, and `mark_check`: the path of the marked-goods check
/// (`tspiot`, `gismt`, `lm`, `none`) with the ТС ПИОТ's `/info` (or why it gives none).
pub async fn status(State(s): State<AppState>) -> Response {
    let r = async {
        let mut v = s.queue.run(Op::Status, None).await?;
        let checker = s.checker.clone();
        let fn_number = v.pointer("/fn/fn_number").and_then(Value::as_str).map(str::to_string);
        let serial = v.pointer("/register/serial").and_then(Value::as_str).map(str::to_string);
        let marking = tokio::task::spawn_blocking(move || marking_status(&checker, fn_number, serial))
            .await
            .map_err(|e| ApiError::internal(format!("the marking status failed: {e}")))?;
        if let Some(o) = v.as_object_mut() {
            o.insert("mark_check".into(), marking);
        }
        Ok(v)
    };
    answer(r.await)
}

/// The `mark_check` object of `GET /v1/status`.
fn marking_status(checker: &Checker, fn_number: Option<String>, serial: Option<String>) -> Value {
    checker.set_register(fn_number, serial);
    let tspiot = checker.tspiot().map(|t| match t.status() {
        Ok(st) => serde_json::to_value(st).unwrap_or_default(),
        Err(e) => json!({"url": t.url(), "error": e.to_string()}),
    });
    let p = checker.path_status();
    json!({"path": p.path, "tspiot": tspiot, "store": p.store, "require_check": p.require_check,
           "emergency": p.emergency, "entities": p.entities})
}

/// The body of the shift commands.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShiftBody {
    #[serde(default)]
    cashier: Option<Cashier>,
}

/// `POST /v1/shift/open`.
pub async fn shift_open(State(s): State<AppState>, body: Body) -> Response {
    let r = async {
        let b: ShiftBody = parse_optional(&text(&s, body).await?, "body")?;
        s.queue.run(Op::OpenShift(b.cashier.unwrap_or_else(|| s.cashier.clone())), None).await
    };
    answer(r.await)
}

/// `POST /v1/shift/close`.
pub async fn shift_close(State(s): State<AppState>, body: Body) -> Response {
    let r = async {
        let b: ShiftBody = parse_optional(&text(&s, body).await?, "body")?;
        s.queue.run(Op::CloseShift(b.cashier), None).await
    };
    answer(r.await)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// `POST /v1/reports/settlement`.
pub async fn settlement(State(s): State<AppState>, body: Body) -> Response {
    let r = async {
        let _: Empty = parse_optional(&text(&s, body).await?, "body")?;
        s.queue.run(Op::Settlement, None).await
    };
    answer(r.await)
}

/// Reads and checks a receipt body (the CLI's checks: the field is named).
fn receipt_body(text: &str, correction: bool) -> Result<Receipt, ApiError> {
    let r = Receipt::from_json(text).map_err(kkt::Error::from)?;
    match (correction, r.correction.is_some()) {
        (false, true) => {
            return Err(ApiError::input("correction", "a correction receipt goes to POST /v1/corrections"));
        }
        (true, false) => {
            return Err(ApiError::input("correction", "a correction receipt needs the corrected settlement's date"));
        }
        _ => {}
    }
    r.validate().map_err(kkt::Error::from)?;
    if !correction {
        r.settle().map_err(kkt::Error::from)?;
    }
    Ok(r)
}

async fn fiscal_receipt(s: &AppState, body: Body, correction: bool) -> Result<Value, ApiError> {
    let r = receipt_body(&text(s, body).await?, correction)?;
    let guard = match &r.id {
        Some(id) => Some(s.inflight.claim(id).ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "in_progress",
                format!("a receipt with id {id:?} is being formed now"),
                format!("wait for that request, or GET /v1/receipts/{id} for its outcome"),
            )
        })?),
        None => None,
    };
    s.queue.run(Op::Receipt(Box::new(r)), guard).await
}

/// `POST /v1/receipts`.
pub async fn receipts(State(s): State<AppState>, body: Body) -> Response {
    answer(fiscal_receipt(&s, body, false).await)
}

/// `POST /v1/corrections`.
pub async fn corrections(State(s): State<AppState>, body: Body) -> Response {
    answer(fiscal_receipt(&s, body, true).await)
}

/// The body of `POST /v1/cash/in` and `/v1/cash/out`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CashBody {
    amount: Money,
    #[serde(default)]
    id: Option<String>,
}

async fn cash(s: &AppState, body: Body, out: bool) -> Result<Value, ApiError> {
    let b: CashBody = parse(&text(s, body).await?, "body")?;
    if b.amount.kopecks() == 0 {
        return Err(ApiError::input("amount", "0.00: the amount is at least 0.01"));
    }
    if let Some(id) = &b.id {
        if id.is_empty() || id.len() > 128 {
            return Err(ApiError::input("id", "an idempotency key of 1 to 128 characters"));
        }
    }
    let guard = match &b.id {
        Some(id) => Some(s.inflight.claim(id).ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "in_progress",
                format!("a request with id {id:?} is being done now"),
                "wait for that request",
            )
        })?),
        None => None,
    };
    s.queue.run(Op::Cash { out, amount: b.amount, id: b.id }, guard).await
}

/// `POST /v1/cash/in`.
pub async fn cash_in(State(s): State<AppState>, body: Body) -> Response {
    answer(cash(&s, body, false).await)
}

/// `POST /v1/cash/out`.
pub async fn cash_out(State(s): State<AppState>, body: Body) -> Response {
    answer(cash(&s, body, true).await)
}

/// `GET /v1/cash`: the money counters.
pub async fn cash_totals(State(s): State<AppState>) -> Response {
    answer(s.queue.run(Op::CashTotals, None).await)
}

/// `GET /v1/documents/{fd}` (`last` for the last one).
pub async fn document(
    State(s): State<AppState>,
    fd: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    let r = async {
        let Path(fd) = fd.map_err(|e| ApiError::input("fd", e.body_text()))?;
        let n =
            if fd == "last" {
                None
            } else {
                Some(fd.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    ApiError::input("fd", format!("{fd:?} is not a document number (from 1) or `last`"))
                })?)
            };
        s.queue.run(Op::Document(n), None).await
    };
    answer(r.await)
}

/// `GET /v1/ofd`: the exchange with the OFD and its warnings.
pub async fn ofd(State(s): State<AppState>) -> Response {
    answer(s.queue.run(Op::Ofd, None).await)
}

/// `GET /v1/reports/shift`: the shift's counters (the register has no X-report).
pub async fn shift_counters(State(s): State<AppState>) -> Response {
    answer(s.queue.run(Op::ShiftCounters, None).await)
}

/// The body of `POST /v1/print`: exactly one of `text`, `qr`, `barcode`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrintBody {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    buffered: bool,
    #[serde(default)]
    cut: bool,
    #[serde(default)]
    qr: Option<String>,
    #[serde(default)]
    barcode: Option<String>,
    #[serde(default)]
    barcode_type: Option<String>,
}

fn print_job(text: &str) -> Result<kkt::driver::PrintJob, ApiError> {
    let b: PrintBody = parse(text, "body")?;
    let given = [b.text.is_some(), b.qr.is_some(), b.barcode.is_some()].iter().filter(|x| **x).count();
    if given != 1 {
        return Err(ApiError::input("body", "give exactly one of text, qr, barcode"));
    }
    if let Some(t) = b.text {
        return Ok(kkt::driver::PrintJob::Text {
            lines: t.lines().map(str::to_string).collect(),
            buffered: b.buffered,
            cut: b.cut,
        });
    }
    if let Some(q) = b.qr {
        return Ok(kkt::driver::PrintJob::Qr { data: q });
    }
    let barcode_type = match b.barcode_type.as_deref().unwrap_or("ean13") {
        "ean13" => 0,
        "code128" => 1,
        other => return Err(ApiError::input("barcode_type", format!("{other:?} is not ean13 or code128"))),
    };
    Ok(kkt::driver::PrintJob::Barcode { barcode_type, data: b.barcode.unwrap_or_default() })
}

/// `POST /v1/print`: text, a QR code or a barcode on the register's printer.
pub async fn print(State(s): State<AppState>, body: Body) -> Response {
    let r = async {
        let job = print_job(&text(&s, body).await?)?;
        s.queue.run(Op::Print(job), None).await
    };
    answer(r.await)
}

/// Runs a journal read off the async threads.
async fn read_journal<T: Send + 'static>(
    s: &AppState,
    f: impl FnOnce(&Journal) -> Result<T, kkt::journal::JournalError> + Send + 'static,
) -> Result<T, ApiError> {
    let j = s.journal.clone();
    tokio::task::spawn_blocking(move || {
        let j = j.lock().map_err(|_| ApiError::internal("the journal reader failed earlier"))?;
        f(&j).map_err(ApiError::from)
    })
    .await
    .map_err(|e| ApiError::internal(format!("journal read: {e}")))?
}

/// `GET /v1/receipts/{id}`: the journal entry of the receipt with this id.
pub async fn receipt_outcome(
    State(s): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    let r = async {
        let Path(id) = id.map_err(|e| ApiError::input("id", e.body_text()))?;
        // A request with this id queued or running: its outcome is coming, it is not safe to
        // send it again.
        if s.inflight.contains(&id) {
            return Ok(Err(id));
        }
        let key = id.clone();
        match read_journal(&s, move |j| j.by_id(&key)).await? {
            Some(e) => Ok(Ok(serde_json::to_value(e).unwrap_or_default())),
            None => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no receipt with id {id:?} in the journal"),
                "nothing was formed under this id: it is safe to POST the receipt",
            )),
        }
    };
    match r.await {
        Ok(Ok(v)) => ok(v),
        Ok(Err(id)) => (
            StatusCode::ACCEPTED,
            Json(json!({
                "state": "in_progress",
                "id": id,
                "message": "a request with this id is queued or being formed now: ask again for its outcome; do not send it again",
            })),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /v1/journal?pending=true&limit=N`.
pub async fn journal(State(s): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let r = async {
        let (mut pending, mut limit) = (false, 100usize);
        for pair in q.as_deref().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "pending" => {
                    pending = match v {
                        "true" | "1" | "" => true,
                        "false" | "0" => false,
                        _ => return Err(ApiError::input("pending", format!("{v:?} is not true or false"))),
                    }
                }
                "limit" => {
                    limit = v.parse().ok().filter(|n| (1..=MAX_ENTRIES).contains(n)).ok_or_else(|| {
                        ApiError::input("limit", format!("{v:?} is not a number from 1 to {MAX_ENTRIES}"))
                    })?
                }
                other => {
                    return Err(ApiError::input(other, "unknown query parameter (pending, limit are known)"));
                }
            }
        }
        let entries = read_journal(&s, move |j| j.list(pending, limit)).await?;
        Ok(json!({"entries": entries}))
    };
    answer(r.await)
}

/// `POST /v1/recover`.
pub async fn recover(State(s): State<AppState>, body: Body) -> Response {
    let r = async {
        let _: Empty = parse_optional(&text(&s, body).await?, "body")?;
        s.queue.run(Op::Recover, None).await
    };
    answer(r.await)
}

/// One code to check: the code alone, or with its planned status and quantity.
#[derive(Debug)]
struct CodeArg(MarkItem);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkItem {
    code: String,
    #[serde(default, with = "kkt::protocol::values::by_name::option")]
    planned_status: Option<PlannedStatus>,
    #[serde(default, deserialize_with = "opt_decimal")]
    quantity: Option<Decimal>,
    #[serde(default, with = "kkt::protocol::values::by_name")]
    measure: Measure,
    #[serde(default)]
    fraction: Option<Fraction>,
    #[serde(default)]
    price: Option<Money>,
    #[serde(default)]
    partial_sale: bool,
}

fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    kkt::receipt::decimal_exact(d).map(Some)
}

impl<'de> Deserialize<'de> for CodeArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = CodeArg;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a marking code string, or an object with `code`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CodeArg, E> {
                Ok(CodeArg(MarkItem {
                    code: v.to_string(),
                    planned_status: None,
                    quantity: None,
                    measure: Measure::PIECE,
                    fraction: None,
                    price: None,
                    partial_sale: false,
                }))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<CodeArg, A::Error> {
                MarkItem::deserialize(serde::de::value::MapAccessDeserializer::new(m)).map(CodeArg)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkCheckBody {
    codes: Vec<CodeArg>,
    /// The legal entity (INN) selling the codes (default: the register's registration INN).
    #[serde(default)]
    seller_inn: Option<String>,
}

/// What `POST /v1/marks/check` asks: the register's queries, the checker's items, the legal
/// entity.
type MarkQueries = (Vec<MarkQuery>, Vec<CheckItem>, Option<String>);

/// Reads `POST /v1/marks/check`'s body.
fn mark_queries(text: &str) -> Result<MarkQueries, ApiError> {
    let b: MarkCheckBody = parse(text, "body")?;
    if let Some(inn) = &b.seller_inn {
        if !(matches!(inn.len(), 10 | 12) && inn.bytes().all(|c| c.is_ascii_digit())) {
            return Err(ApiError::input(
                "seller_inn",
                "an INN of 10 digits (a company) or 12 (an individual entrepreneur)",
            ));
        }
    }
    if b.codes.is_empty() || b.codes.len() > MAX_CODES {
        return Err(ApiError::input("codes", format!("give 1 to {MAX_CODES} codes ({} given)", b.codes.len())));
    }
    let mut queries = Vec::with_capacity(b.codes.len());
    let mut items = Vec::with_capacity(b.codes.len());
    for (i, CodeArg(m)) in b.codes.into_iter().enumerate() {
        let code = MarkingCode::parse(&m.code).map_err(|e| ApiError::input(&format!("codes[{i}].code"), e))?;
        let piece = m.measure == Measure::PIECE;
        queries.push(MarkQuery {
            planned_status: m.planned_status.unwrap_or(if piece {
                PlannedStatus::PIECE_SOLD
            } else {
                PlannedStatus::MEASURED_SOLD
            }),
            quantity: m.quantity.unwrap_or(Decimal::integer(1)),
            measure: m.measure,
            fraction: m.fraction.map(|f| (f.numerator, f.denominator)),
            // The code's real bytes (GS as 0x1D) reach the register, whatever the rendering.
            code: code.as_str().to_string(),
        });
        items.push(CheckItem { code, price_kopecks: m.price.map(Money::kopecks), partial_sale: m.partial_sale });
    }
    Ok((queries, items, b.seller_inn))
}

/// `POST /v1/marks/check`: the register's own check of every code (through the queue), then the
/// checker's verdict (the one function every entry point uses: the ТС ПИОТ or ГИС МТ, the Local
/// Module, the store; off the queue), with the register's tag 2106 and refusals among its
/// reasons, as a sale would decide. An `ask` verdict carries its `confirmation`.
pub async fn marks_check(State(s): State<AppState>, body: Body) -> Response {
    let r = async {
        let (queries, items, seller_inn) = mark_queries(&text(&s, body).await?)?;
        // One job per code, so that receipts queued meanwhile run between them, and a time
        // budget for the whole request: the register is never held for minutes.
        let started = std::time::Instant::now();
        let n = queries.len();
        let mut all: Option<Value> = None;
        for (i, q) in queries.into_iter().enumerate() {
            if i > 0 && started.elapsed() >= MARKS_BUDGET {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    format!(
                        "the register checked {i} of the {n} codes within this request's time budget of {} s; nothing was kept in the FN",
                        MARKS_BUDGET.as_secs()
                    ),
                    "send fewer codes per request, or repeat later",
                ));
            }
            let one = s.queue.run(Op::CheckMarks(vec![q]), None).await?;
            match all.as_mut().and_then(|a| a["checks"].as_array_mut()) {
                Some(checks) => checks.extend(one["checks"].as_array().cloned().unwrap_or_default()),
                None => all = Some(one),
            }
        }
        let reg = crate::views::RegisterChecks::from_json(&all.unwrap_or_default());
        let checker = s.checker.clone();
        let facts = reg.facts();
        let (fn_number, serial, inn) = (reg.fn_number.clone(), reg.serial.clone(), reg.inn.clone());
        let verdicts = tokio::task::spawn_blocking(move || {
            checker.set_register(fn_number, serial);
            checker.set_register_inn(inn);
            checker.receipt_for(seller_inn.as_deref()).map(|mut rc| rc.check_with(&items, &facts))
        })
        .await
        .map_err(|e| ApiError::internal(format!("the marking check failed: {e}")))?
        .map_err(|e| ApiError::input("seller_inn", e))?;
        let out: Vec<Value> =
            verdicts.iter().zip(&reg.checks).map(|(v, c)| crate::views::verdict_json(v, Some(c))).collect();
        Ok(json!({"verdicts": out}))
    };
    answer(r.await)
}

/// The OpenAPI 3.1 description (the committed protocol/openapi.json).
pub const OPENAPI: &str = include_str!("../../protocol/openapi.json");

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Any other path.
pub async fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint", "GET /openapi.json lists the endpoints")
        .into_response()
}

/// A known path with another method.
pub async fn method_not_allowed() -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take this method",
        "GET /openapi.json lists the methods",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str =
        "010464007801637221gDDJ2VMOqvdNG\\u001d91FFD0\\u001d92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=";

    #[test]
    fn mark_bodies_name_the_field() {
        let body = format!(
            r#"{{"codes": ["{CODE}", {{"code": "{CODE}", "planned_status": "measured_sold", "quantity": "0.5",
               "measure": "kilogram", "price": "146.30", "partial_sale": true}}]}}"#
        );
        let (q, items, _) = mark_queries(&body).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].planned_status, PlannedStatus::PIECE_SOLD);
        assert_eq!(q[1].quantity, "0.5".parse().unwrap());
        assert_eq!(q[1].measure, Measure::KILOGRAM);
        assert_eq!((items[1].price_kopecks, items[1].partial_sale), (Some(14630), true));
        let e = mark_queries(&format!(r#"{{"codes": [{{"code": "{CODE}", "quantity": 1.5e3}}]}}"#)).unwrap_err();
        assert!(e.message.contains("codes[0].quantity"), "{}", e.message);
        let e = mark_queries(r#"{"codes": [{"code": "x", "colour": 1}]}"#).unwrap_err();
        assert!(e.message.contains("codes[0]") && e.message.contains("colour"), "{}", e.message);
        let e = mark_queries(&format!(r#"{{"codes": ["{CODE}", "not a code"]}}"#)).unwrap_err();
        assert!(e.message.contains("codes[1].code"), "{}", e.message);
        let e = mark_queries(r#"{"codes": []}"#).unwrap_err();
        assert!(e.message.contains("codes"), "{}", e.message);
        let e = mark_queries(r#"{"codes": [7]}"#).unwrap_err();
        assert!(e.message.contains("codes[0]"), "{}", e.message);
        assert_eq!(mark_queries("{").unwrap_err().status, StatusCode::BAD_REQUEST);
    }

    const SALE: &str = r#"{"id": "a-1", "operation": "sell", "taxation": "osn", "cashier": {"name": "Иванова"},
        "customer": {"contact": "+79990000000"}, "items": [{"name": "Хлеб", "price": "45.50", "quantity": 2,
        "vat": "vat10", "payment_method": "full_payment", "payment_object": "commodity"}],
        "payments": {"cash": "100", "electronic": "0"}, "correction": {"date": "2026-01-15"}}"#;

    /// Whatever the body, bad input is 400 (never 500).
    fn only_400(r: Result<impl Sized, ApiError>) {
        if let Err(e) = r {
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{e:?}");
            assert_eq!(e.kind, "input");
            assert!(!e.hint.is_empty());
        }
    }

    proptest::proptest! {
        #[test]
        fn any_body_is_taken_or_400(body in "\\PC{0,200}") {
            only_400(receipt_body(&body, false));
            only_400(receipt_body(&body, true));
            only_400(mark_queries(&body));
            only_400(parse::<ShiftBody>(&body, "body"));
            only_400(parse_optional::<Empty>(&body, "body"));
        }

        #[test]
        fn a_damaged_receipt_is_taken_or_400(at in 0usize..400, cut in 0usize..6, insert in "[\\[\\]{}\",:0-9a-z.\\-e ]{0,6}") {
            let mut b: Vec<char> = SALE.chars().collect();
            let at = at.min(b.len());
            let end = (at + cut).min(b.len());
            b.splice(at..end, insert.chars());
            let body: String = b.into_iter().collect();
            only_400(receipt_body(&body, false));
            only_400(receipt_body(&body, true));
        }
    }

    #[test]
    fn receipt_bodies_go_to_their_endpoint() {
        let sale = r#"{"operation": "sell", "taxation": "osn", "items": [{"name": "Хлеб", "price": "45.50",
            "quantity": 2, "vat": "vat10", "payment_method": "full_payment", "payment_object": "commodity"}],
            "payments": {"cash": "100"}}"#;
        assert!(receipt_body(sale, false).is_ok());
        assert_eq!(receipt_body(sale, true).unwrap_err().kind, "input");
        let e = receipt_body(&sale.replace("\"45.50\"", "\"45.505\""), false).unwrap_err();
        assert!(e.message.contains("items[0].price"), "{}", e.message);
        let e = receipt_body(&sale.replace("\"100\"", "\"10\""), false).unwrap_err();
        assert!(e.message.contains("payments"), "{}", e.message);
    }
}
