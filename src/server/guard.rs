//! What keeps web pages out of the loopback service.
//!
//! A page open in the till's browser can send requests to `http://127.0.0.1:8567` without the
//! user knowing: a "simple" cross-origin POST (`text/plain`, no preflight) reaches the service,
//! and with DNS rebinding a page of `evil.example` that resolves to 127.0.0.1 can even read the
//! answers. Three checks stop both, before any handler runs:
//!
//! * **Origin**: browsers send `Origin` with every cross-origin request (and with every POST);
//!   POS programs do not. A request with an `Origin` not listed with `--allow-origin` is 403.
//! * **Host**: a rebinding page's requests carry its own name in `Host`. Only the address the
//!   service listens on (any IP literal when it listens on all addresses), `localhost`, and names
//!   given with `--allow-host` are served; anything else is 403.
//! * **Content-Type**: a body is read only when it is declared `application/json` (with
//!   parameters such as `; charset=utf-8`), which a page cannot send without a preflight; 415
//!   otherwise.
//!
//! CORS preflights (`OPTIONS` with `Access-Control-Request-Method`) are answered only for allowed
//! origins, and only those get `Access-Control-Allow-Origin` on their answers.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// Who may call the service, besides programs on this machine that send no `Origin`.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// The address listened on.
    pub listen: Option<SocketAddr>,
    /// Origins (`scheme://host[:port]`) allowed to call from a browser (`--allow-origin`).
    pub origins: Vec<String>,
    /// Host names served besides the listened address and `localhost` (`--allow-host`).
    pub hosts: Vec<String>,
}

impl Access {
    fn origin_allowed(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin.trim_end_matches('/')))
    }

    /// Whether the `Host` header names this service (`host[:port]`, IPv6 in brackets).
    fn host_allowed(&self, host: &str) -> bool {
        let name = match host.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or(""),
            None => host
                .rsplit_once(':')
                .map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host }),
        };
        if name.eq_ignore_ascii_case("localhost") || self.hosts.iter().any(|h| h.eq_ignore_ascii_case(name)) {
            return true;
        }
        match (name.parse::<IpAddr>(), self.listen) {
            // IP literals cannot be rebound; the listened address, or any when listening on all.
            (Ok(ip), Some(l)) => l.ip().is_unspecified() || ip == l.ip(),
            (Ok(_), None) => true,
            (Err(_), _) => false,
        }
    }
}

fn forbidden(message: String, hint: &str) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message, hint).into_response()
}

/// Whether `Content-Type` is `application/json`, parameters allowed.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// Whether the request carries a body (declared length above zero, or chunked).
fn has_body(headers: &HeaderMap) -> bool {
    let length =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || headers.contains_key(header::TRANSFER_ENCODING)
}

/// The middleware: Host, Origin and Content-Type checks and CORS.
pub async fn guard(State(access): State<Arc<Access>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    if let Some(host) = headers.get(header::HOST) {
        let host = host.to_str().unwrap_or("");
        if !access.host_allowed(host) {
            return forbidden(
                format!("the Host {host:?} is not this service's address"),
                "call the service by the address it listens on or localhost; start it with --allow-host NAME to serve another name",
            );
        }
    }
    let origin = headers.get(header::ORIGIN).map(|o| o.to_str().unwrap_or("").to_string());
    if let Some(o) = &origin {
        if !access.origin_allowed(o) {
            return forbidden(
                format!("requests from web pages (Origin {o:?}) are refused"),
                "a POS program sends no Origin; to let a web page call the service, start it with --allow-origin ORIGIN",
            );
        }
    }
    if req.method() == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        // Reached only for an allowed origin (or none).
        let mut r = StatusCode::NO_CONTENT.into_response();
        cors(&mut r, origin.as_deref());
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization, content-type"));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        return r;
    }
    if has_body(headers) && !is_json(headers) {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the request body must be declared `Content-Type: application/json`",
            "send the header Content-Type: application/json (a charset parameter is fine)",
        )
        .into_response();
    }
    let mut r = next.run(req).await;
    cors(&mut r, origin.as_deref());
    r
}

fn cors(r: &mut Response, origin: Option<&str>) {
    if let Some(v) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(listen: &str) -> Access {
        Access {
            listen: Some(listen.parse().unwrap()),
            origins: vec!["https://pos.example".into()],
            hosts: vec!["till-1".into()],
        }
    }

    #[test]
    fn hosts() {
        let a = access("127.0.0.1:8567");
        for ok in ["127.0.0.1:8567", "127.0.0.1", "localhost:8567", "LOCALHOST", "till-1:8567"] {
            assert!(a.host_allowed(ok), "{ok}");
        }
        for bad in ["evil.example:8567", "evil.example", "10.0.0.5:8567", "127.0.0.1.evil.example", "[::1]:8567", ""] {
            assert!(!a.host_allowed(bad), "{bad}");
        }
        let all = access("0.0.0.0:8567");
        assert!(all.host_allowed("192.168.1.20:8567") && all.host_allowed("[fe80::1]:8567"));
        assert!(!all.host_allowed("rebound.example:8567"));
        assert!(access("[::1]:8567").host_allowed("[::1]:8567"));
    }

    #[test]
    fn origins_and_content_types() {
        let a = access("127.0.0.1:8567");
        assert!(a.origin_allowed("https://pos.example") && a.origin_allowed("https://POS.example/"));
        assert!(!a.origin_allowed("https://evil.example") && !a.origin_allowed("null"));
        let mut h = HeaderMap::new();
        for (ct, ok) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
            ("multipart/form-data; boundary=x", false),
        ] {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            assert_eq!(is_json(&h), ok, "{ct}");
        }
        let mut h = HeaderMap::new();
        assert!(!has_body(&h));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        assert!(!has_body(&h));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("12"));
        assert!(has_body(&h));
    }
}
