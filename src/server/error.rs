//! The service's error body, `{"error": {"kind", "code", "message", "hint"}}`, and its HTTP status.
//!
//! | kind | status | what happened |
//! |---|---|---|
//! | `input` | 400 | bad JSON, an unknown field, a wrong type or value: the field is named; nothing was sent |
//! | `unauthorized` | 401 | no or wrong `Authorization: Bearer` token |
//! | `not_found` | 404 | no such path, or no receipt with that id |
//! | `method_not_allowed` | 405 | the path exists with another method |
//! | `too_large` | 413 | the body is over the limit |
//! | `sequence` | 409 | out of order for the register (a shift already open, none open …): nothing was sent |
//! | `in_progress` | 409 | a receipt with this id is being formed by another request now |
//! | `pending` | 409 | an earlier attempt with this id has an outcome the register cannot tell now |
//! | `id_reused` | 409 | the id was used before for different content |
//! | `register_busy` | 409 | another program has a document open on the register: nothing was sent, nothing cancelled |
//! | `device` | 502 | the register refused: `code` is its error code, the message has its Russian and English texts |
//! | `protocol` | 502 | a corrupted or unexpected answer from the register |
//! | `busy` | 503 | the register queue is full, or the request waited longer than the queue timeout: nothing was sent |
//! | `link` | 503/504 | the register cannot be reached (503) or did not answer in time (504) |
//! | `not_formed` | 504 | a fiscal command's answer was lost; the register formed nothing: safe to repeat |
//! | `unknown_outcome` | 504 | a fiscal command's answer was lost and the outcome is unknown: check before repeating |
//! | `mark_refused` | 422 | the marked-goods check refused an item of the receipt (with `item`, `verdict`, `sent`): the receipt was cancelled, nothing formed |
//! | `journal`, `internal` | 500 | the journal's disk, or a fault of the service (never bad input) |

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use kkt::journal::JournalError;
use kkt::transport::LinkError;
use kkt::Error;

/// An error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The kind (see the module's table).
    pub kind: &'static str,
    /// The register's error code, for `device`.
    pub code: Option<u8>,
    /// What happened.
    pub message: String,
    /// What to do.
    pub hint: String,
    /// More fields of the error object (`mark_refused`: the item, its verdict, the commands sent).
    pub extra: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    kind: &'a str,
    code: Option<u8>,
    message: &'a str,
    hint: &'a str,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    extra: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    /// An error of `kind` with `status`.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self { status, kind, code: None, message: message.into(), hint: hint.into(), extra: None }
    }

    /// Bad input naming `field`.
    pub fn input(field: &str, problem: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "input",
            format!("invalid input: {field}: {problem}"),
            format!("fix {field}"),
        )
    }

    /// The register is busy.
    pub fn busy(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            message,
            "nothing was sent to the register: repeat the request later (with the same id for a receipt)",
        )
    }

    /// A fault of the service itself.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message, "see the service's log")
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(Body {
            error: Inner {
                kind: self.kind,
                code: self.code,
                message: &self.message,
                hint: &self.hint,
                extra: self.extra.as_deref(),
            },
        })
        .unwrap_or_default()
    }
}

impl From<&Error> for ApiError {
    fn from(e: &Error) -> Self {
        let status = match e {
            Error::Input(_) | Error::Uri(_) => StatusCode::BAD_REQUEST,
            Error::Sequence(_) | Error::IdReused { .. } | Error::Pending { .. } | Error::RegisterBusy { .. } => {
                StatusCode::CONFLICT
            }
            Error::Device { .. } | Error::Protocol { .. } => StatusCode::BAD_GATEWAY,
            Error::Link { error: LinkError::Timeout { .. } | LinkError::Closed { .. }, .. } => {
                StatusCode::GATEWAY_TIMEOUT
            }
            Error::Link { .. } | Error::Connect(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::NotFormed { .. } | Error::UnknownOutcome(_) => StatusCode::GATEWAY_TIMEOUT,
            Error::Journal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::MarkRefused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            // A kind of failure this build does not know.
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let hint = match e {
            Error::Pending { id, .. } => {
                format!("POST /v1/recover settles it with the register; then GET /v1/receipts/{id}, or repeat with the same id")
            }
            _ => e.hint(),
        };
        let extra = match e {
            Error::MarkRefused(r) => serde_json::json!({"item": r.item, "verdict": r.verdict, "sent": r.sent})
                .as_object()
                .cloned()
                .map(Box::new),
            _ => None,
        };
        Self { status, kind: e.kind().as_str(), code: e.device_code(), message: e.to_string(), hint, extra }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::from(&e)
    }
}

impl From<JournalError> for ApiError {
    fn from(e: JournalError) -> Self {
        Error::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body())).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kkt::commands::InputError;
    use kkt::protocol::DeviceError;

    #[test]
    fn statuses_by_kind() {
        let input: Error = InputError::new("items[0].price", "too precise").into();
        let a = ApiError::from(input);
        assert_eq!((a.status, a.kind), (StatusCode::BAD_REQUEST, "input"));
        assert!(a.message.contains("items[0].price"), "{}", a.message);

        let dev = Error::Device { command: 0x24, error: DeviceError::new(0x02) };
        let a = ApiError::from(dev);
        assert_eq!((a.status, a.kind, a.code), (StatusCode::BAD_GATEWAY, "device", Some(0x02)));
        assert_eq!(a.body()["error"]["code"], 2);

        let t = Error::Link {
            command: 0x24,
            error: LinkError::Timeout {
                peer: "tcp://x:1".into(),
                waited: std::time::Duration::from_secs(1),
                attempts: 1,
                received: 0,
            },
        };
        assert_eq!(ApiError::from(t).status, StatusCode::GATEWAY_TIMEOUT);
        let c = Error::Connect(LinkError::Connect {
            peer: "tcp://x:1".into(),
            source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        });
        assert_eq!(ApiError::from(c).status, StatusCode::SERVICE_UNAVAILABLE);

        let k = ApiError::from(JournalError::KeyReused { id: "a".into(), operation: "sell".into() });
        assert_eq!((k.status, k.kind), (StatusCode::CONFLICT, "id_reused"));
        let p = ApiError::from(Error::Pending { id: "a".into(), seq: 3, detail: "no answer".into() });
        assert_eq!((p.status, p.kind), (StatusCode::CONFLICT, "pending"));
        assert!(p.hint.contains("/v1/recover"), "{}", p.hint);
        let body = ApiError::busy("queue full").body();
        assert_eq!(body["error"]["kind"], "busy");
        assert!(body["error"]["code"].is_null());
    }
}
