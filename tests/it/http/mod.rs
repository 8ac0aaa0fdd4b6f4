//! The local HTTP/JSON service (`kkt serve`).

mod api;
mod concurrency;
mod confirm;
mod day;
mod hardening;
mod security;
mod trust;
