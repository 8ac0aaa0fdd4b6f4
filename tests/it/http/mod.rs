//! The local HTTP/JSON service (`kkt serve`).

mod api;
mod concurrency;
mod day;
mod hardening;
mod security;
