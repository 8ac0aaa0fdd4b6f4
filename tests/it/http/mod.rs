//! The local HTTP/JSON service (`kkt serve`).

mod api;
mod concurrency;
mod hardening;
mod security;
mod trust;
