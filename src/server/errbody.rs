//! The JSON error body on the answers hyper writes itself.
//!
//! A request hyper cannot parse never reaches the service: hyper answers it on its own, with a
//! status and no body (414 for a URI over its limit, 431 for headers over its buffer, 400 for
//! a request that is not HTTP). Every error answer of `kkt serve` carries the JSON error body
//! (`{"error": {"kind", "code", "message", "hint"}}`), so the connection's writes are watched:
//! an answer head with a 4xx or 5xx status, `content-length: 0` and nothing after it is one of
//! those (the service's own error answers always have a body) and is written with the body.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection whose bodiless error answers get the JSON error body.
#[derive(Debug)]
pub struct ErrorBodies<S> {
    inner: S,
    pending: Vec<u8>,
    sent: usize,
}

impl<S> ErrorBodies<S> {
    /// Wraps a connection.
    pub fn new(inner: S) -> Self {
        ErrorBodies { inner, pending: Vec::new(), sent: 0 }
    }
}

impl<S: AsyncWrite + Unpin> ErrorBodies<S> {
    /// Writes what is left of a rewritten answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ErrorBodies<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ErrorBodies<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(answer) = with_body(buf) {
            this.pending = answer;
            if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    // Whole answers in one buffer (hyper then writes the head and body together), so that a
    // bodiless answer is seen whole.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// `buf` with the JSON error body when it is exactly a bodiless 4xx/5xx answer head.
fn with_body(buf: &[u8]) -> Option<Vec<u8>> {
    if !buf.starts_with(b"HTTP/1.") || !buf.ends_with(b"\r\n\r\n") || buf.len() > 4096 {
        return None;
    }
    let head = std::str::from_utf8(buf).ok()?;
    let mut lines = head[..head.len() - 4].split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line.split(' ').nth(1)?.parse().ok()?;
    if !(400..600).contains(&status) {
        return None;
    }
    let headers: Vec<&str> = lines.collect();
    let name = |h: &str| h.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
    let value = |h: &str| h.split_once(':').map_or("", |(_, v)| v.trim()).to_string();
    let empty = headers.iter().any(|h| name(h) == "content-length" && value(h) == "0");
    if !empty || headers.iter().any(|h| name(h) == "content-type" || name(h) == "transfer-encoding") {
        return None;
    }
    let (kind, message, hint) = match status {
        414 => ("too_large", "the request's URI is too long", "send the data in a JSON body, not in the URI"),
        431 => ("too_large", "the request's headers are too large", "send smaller headers"),
        413 => ("too_large", "the request is too large", "send a smaller body"),
        408 => ("timeout", "the request did not arrive in time", "send the whole request at once"),
        400..=499 => {
            ("input", "the request could not be read as HTTP/1.1", "send an HTTP/1.1 request with a JSON body")
        }
        _ => ("internal", "the service could not answer the request", "try again; see the service's log"),
    };
    let body = serde_json::json!({"error": {"kind": kind, "code": null, "message": message, "hint": hint}}).to_string();
    let mut out = String::with_capacity(buf.len() + body.len() + 64);
    out.push_str(status_line);
    out.push_str("\r\n");
    for h in headers.iter().filter(|h| name(h) != "content-length") {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str(&format!("content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len()));
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bodiless_error_head_gets_the_json_body() {
        let head = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(with_body(head).unwrap()).unwrap();
        let (h, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(h.starts_with("HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ndate: x\r\n"), "{h}");
        assert!(h.contains(&format!("content-length: {}", body.len())), "{h}");
        assert!(h.contains("content-type: application/json"), "{h}");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["kind"], "too_large");
        assert!(v["error"]["code"].is_null() && v["error"]["hint"].is_string());
    }

    #[test]
    fn other_answers_are_left_alone() {
        for a in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"{\"error\": 1}",
        ] {
            assert!(with_body(a).is_none(), "{}", String::from_utf8_lossy(a));
        }
    }
}
