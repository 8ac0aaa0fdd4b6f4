//! `kkt mark`: marking codes and their permissive-mode check.
//!
//! * `kkt mark parse CODE` — the code's structure.
//! * `kkt mark check CODE... [--price P]` — the verdict per code (the ТС ПИОТ when one is
//!   configured, else ГИС МТ; the Local Module as fallback; the sold-codes store); `--json`
//!   prints one object per code.
//! * `kkt mark tspiot-status` — the ТС ПИОТ's `/info`: API version, ids, check timeout, its
//!   Local Module, whether it is bound to the connected register.
//! * `kkt mark cdn [--refresh]` — CDN hosts with latency, rank and unavailable-until.
//! * `kkt mark lm-status` — the Local Module's status; `kkt mark lm-init --token-file F`
//!   initialises it.
//! * `kkt mark token-check` — checks the ГИС МТ token at once (HTTP 401 = refused).
//! * `kkt mark record sold|returned --receipt R CODE...`, `kkt mark history CODE` — the store.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args as ClapArgs, Subcommand, ValueEnum};

use super::{exit, print_error};
use kkt::checker::gismt::{self, GisMt, GisMtConfig};
use kkt::checker::lm::{self as lm_mod, Lm, LmConfig};
use kkt::checker::store::{self, CodeState};
use kkt::checker::tspiot::{self, TsPiot, TsPiotConfig};
use kkt::checker::{Action, CheckItem, Checker, Secret, Settings, Strictness, Verdict};
use kkt::marking::MarkingCode;

/// `kkt mark` arguments.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// `kkt mark` subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Print a marking code's structure (GTIN, serial, crypto tail, tag 2100 type, MRP, bytes).
    Parse {
        /// The code as scanned (GS as the byte, `\u001d`, `<GS>`; `]d2` prefix allowed).
        code: String,
    },
    /// Check codes for sale: sell, refuse or ask, with every reason.
    Check(CheckArgs),
    /// List the ГИС МТ CDN hosts with latency, rank and unavailable-until.
    Cdn {
        /// Rediscover now (`/cdn/info` and every host's health check).
        #[arg(long)]
        refresh: bool,
        /// Where to check.
        #[command(flatten)]
        online: OnlineArgs,
    },
    /// Show the ТС ПИОТ's /info: API version, ids, check timeout, its Local Module, and whether
    /// it is bound to the connected register (with --device).
    TspiotStatus {
        /// The ТС ПИОТ.
        #[command(flatten)]
        tspiot: TsPiotArgs,
    },
    /// Show the Local Module's status (ready, initialization, not_configured, sync_error, failure).
    LmStatus {
        /// The Local Module.
        #[command(flatten)]
        lm: LmArgs,
        /// The ТС ПИОТ (its /info names the Local Module when --lm-url is not given).
        #[command(flatten)]
        tspiot: TsPiotArgs,
    },
    /// Initialise a not_configured Local Module with the organisation's token, then wait until
    /// it is ready (or says why not).
    LmInit {
        /// A file holding the organisation's token (from the Честный знак account).
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
        /// How long to wait for `ready`, decimal seconds.
        #[arg(long, default_value = "300", value_name = "SECS", value_parser = parse_secs)]
        wait: std::time::Duration,
        /// The Local Module.
        #[command(flatten)]
        lm: LmArgs,
    },
    /// Check the ГИС МТ token now (a 401 means it is refused).
    TokenCheck {
        /// Where to check.
        #[command(flatten)]
        online: OnlineArgs,
    },
    /// Record codes in the sold-codes store as sold or returned.
    Record {
        /// sold or returned.
        state: RecordState,
        /// The receipt (e.g. "FN 7380440700089917 FD 123").
        #[arg(long)]
        receipt: String,
        /// The codes.
        #[arg(required = true)]
        codes: Vec<String>,
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Show a code's sales and returns in the sold-codes store.
    History {
        /// The code.
        code: String,
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Sold or returned.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RecordState {
    /// Sold.
    Sold,
    /// Returned by a refund.
    Returned,
}

/// Deny or ask.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum StrictArg {
    /// Refuse on any ban or check error.
    Deny,
    /// Return the reasons for the cashier to confirm.
    Ask,
}

/// Where ГИС МТ is and where its host list is cached.
#[derive(Debug, Clone, ClapArgs)]
pub struct OnlineArgs {
    /// ГИС МТ discovery URL (`/api/v4/true-api/cdn/info` is asked there).
    #[arg(long, env = "KKT_GISMT_URL", default_value = gismt::DEFAULT_URL, value_name = "URL")]
    pub gismt_url: String,
    /// A file holding the X-API-KEY token (the token itself may be in $KKT_GISMT_TOKEN).
    #[arg(long, env = "KKT_GISMT_TOKEN_FILE", value_name = "PATH")]
    pub gismt_token_file: Option<PathBuf>,
    /// The cache directory (CDN hosts and marks, the sold-codes store); default ~/.cache/kkt.
    #[arg(long, env = "KKT_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Extra trusted root certificates (PEM) for ГИС МТ hosts, e.g. the Russian Trusted Root CA.
    #[arg(long, env = "KKT_GISMT_CA_FILE", value_name = "PATH")]
    pub gismt_ca_file: Option<PathBuf>,
    /// The FN serial sent as fiscalDriveNumber (16 digits) when no register is read.
    #[arg(long, env = "KKT_FN_SERIAL", value_name = "DIGITS")]
    pub fn_serial: Option<String>,
}

/// The Local Module.
#[derive(Debug, Clone, ClapArgs)]
pub struct LmArgs {
    /// Local Module URL (e.g. http://127.0.0.1:5995); without it, the one the ТС ПИОТ names.
    #[arg(long, env = "KKT_LM_URL", value_name = "URL")]
    pub lm_url: Option<String>,
    /// Local Module user (basic auth).
    #[arg(long, env = "KKT_LM_USER", value_name = "NAME")]
    pub lm_user: Option<String>,
    /// Local Module password (better given as $KKT_LM_PASSWORD).
    #[arg(long, env = "KKT_LM_PASSWORD", hide_env_values = true, value_name = "PASSWORD")]
    pub lm_password: Option<String>,
    /// Local Module token (`Authorization: Token …`; better given as $KKT_LM_TOKEN).
    #[arg(long, env = "KKT_LM_TOKEN", hide_env_values = true, value_name = "UUID")]
    pub lm_token: Option<String>,
    /// The shop's time-zone number sent to the Local Module (`tz`).
    #[arg(long, env = "KKT_LM_TZ", value_name = "N", value_parser = clap::value_parser!(u8).range(1..=11))]
    pub lm_tz: Option<u8>,
}

/// The store's ТС ПИОТ.
#[derive(Debug, Clone, ClapArgs)]
pub struct TsPiotArgs {
    /// Check through the store's ТС ПИОТ at this URL (ГИС МТ is then not called directly); also
    /// $KKT_TSPIOT_URL or `[marking] tspiot_url` in the config file.
    #[arg(long, env = "KKT_TSPIOT_URL", value_name = "URL")]
    pub tspiot_url: Option<String>,
    /// Check through the ТС ПИОТ at https://127.0.0.1:51401 (ЕСМ's address).
    #[arg(long)]
    pub tspiot: bool,
    /// Extra trusted roots (PEM) for a ТС ПИОТ that is not on loopback.
    #[arg(long, env = "KKT_TSPIOT_CA_FILE", value_name = "PATH")]
    pub tspiot_ca_file: Option<PathBuf>,
    /// The cash software's id in the ГИС МТ registry (client_info.id).
    #[arg(long, env = "KKT_TSPIOT_CLIENT_ID", value_name = "ID")]
    pub tspiot_client_id: Option<String>,
    /// The cash software's token (client_info.token; better given as $KKT_TSPIOT_CLIENT_TOKEN).
    #[arg(long, env = "KKT_TSPIOT_CLIENT_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub tspiot_client_token: Option<String>,
    /// The whole verdict (the ТС ПИОТ and the Local Module together), decimal seconds.
    #[arg(long, env = "KKT_TSPIOT_BUDGET", default_value = "4", value_name = "SECS", value_parser = parse_secs)]
    pub tspiot_budget: std::time::Duration,
    /// The cache directory (the ТС ПИОТ's API version is remembered there); default ~/.cache/kkt.
    #[arg(long = "tspiot-cache-dir", env = "KKT_CACHE_DIR", value_name = "DIR", hide = true)]
    pub tspiot_cache_dir: Option<PathBuf>,
}

/// Decimal seconds (`4`, `2.5`) as a duration, exactly; more than zero and at most an hour.
pub fn parse_secs(text: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("{text:?} is not a number of seconds (e.g. 4 or 2.5)");
    let t = text.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if (whole.is_empty() && frac.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 3
    {
        return Err(bad());
    }
    let secs: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    let ms: u64 = if frac.is_empty() { 0 } else { format!("{frac:0<3}").parse().map_err(|_| bad())? };
    let d = std::time::Duration::from_secs(secs) + std::time::Duration::from_millis(ms);
    if d.is_zero() || d > std::time::Duration::from_secs(3600) {
        return Err(format!("{text:?}: give more than 0 and at most 3600 seconds"));
    }
    Ok(d)
}

/// The ТС ПИОТ's URL: --tspiot-url ($KKT_TSPIOT_URL), else --tspiot (ЕСМ's address), else the
/// config file's `[marking] tspiot_url`.
pub fn tspiot_url(a: &TsPiotArgs, cfg: &super::config::Config) -> Option<String> {
    a.tspiot_url
        .clone()
        .filter(|u| !u.trim().is_empty())
        .or_else(|| a.tspiot.then(|| tspiot::DEFAULT_URL.to_string()))
        .or_else(|| cfg.marking.as_ref().and_then(|m| m.tspiot_url.clone()))
}

/// The ТС ПИОТ client when one is configured.
pub fn tspiot_client(a: &TsPiotArgs, lm: &LmArgs, cfg: &super::config::Config) -> Result<Option<TsPiot>, String> {
    let Some(url) = tspiot_url(a, cfg) else { return Ok(None) };
    let mut c = TsPiotConfig::new(url);
    c.ca_file.clone_from(&a.tspiot_ca_file);
    c.client.id = a.tspiot_client_id.clone().filter(|s| !s.is_empty());
    c.client.token = a.tspiot_client_token.as_ref().map(|t| Secret::new(t.clone())).filter(|t| !t.expose().is_empty());
    c.cache_dir = Some(cache_dir(a.tspiot_cache_dir.as_ref()));
    c.budget = a.tspiot_budget;
    c.lm_defaults = Some(lm_config(lm, ""));
    TsPiot::new(c).map(Some).map_err(|e| e.to_string())
}

/// The sold-codes store.
#[derive(Debug, Clone, ClapArgs)]
pub struct StoreArgs {
    /// The sold-codes store: a SQLite path, sqlite:PATH, or postgres://… (default: the cache
    /// directory's sold-codes.sqlite).
    #[arg(long, env = "KKT_STORE", value_name = "LOCATION")]
    pub store: Option<String>,
    /// The cache directory; default ~/.cache/kkt.
    #[arg(long = "store-cache-dir", env = "KKT_CACHE_DIR", value_name = "DIR", hide = true)]
    pub cache_dir: Option<PathBuf>,
}

/// `kkt mark check` arguments.
#[derive(Debug, ClapArgs)]
pub struct CheckArgs {
    /// The codes (one receipt: checked in one request).
    #[arg(required = true)]
    pub codes: Vec<String>,
    /// Selling price per unit after discounts, in roubles (146.30): the tobacco MRP rule.
    #[arg(long, value_name = "RUB")]
    pub price: Option<String>,
    /// The items are sold partly (draught beer, part of a package): repeats allowed for those groups.
    #[arg(long)]
    pub partial: bool,
    /// The planned status for the register's own check (tag 2003), with --device.
    #[arg(long, default_value = "piece_sold", value_name = "STATUS")]
    pub status: kkt::receipt::PlannedStatus,
    /// Refuse on any ban (deny) or return the reasons for the cashier (ask).
    #[arg(long, value_enum, env = "KKT_MARK_STRICT", default_value = "deny")]
    pub strict: StrictArg,
    /// Judge expireDate for every product group, not only milk, beer and water.
    #[arg(long)]
    pub expiry_all_groups: bool,
    /// Do not ask ГИС МТ (the Local Module and the store only).
    #[arg(long)]
    pub no_online: bool,
    /// Do not consult the sold-codes store.
    #[arg(long)]
    pub no_store: bool,
    /// The sold-codes store location (see `kkt mark record --help`).
    #[arg(long, env = "KKT_STORE", value_name = "LOCATION")]
    pub store: Option<String>,
    /// Where to check.
    #[command(flatten)]
    pub online: OnlineArgs,
    /// The Local Module.
    #[command(flatten)]
    pub lm: LmArgs,
    /// The store's ТС ПИОТ.
    #[command(flatten)]
    pub tspiot: TsPiotArgs,
}

/// The marked goods check of `kkt receipt`.
#[derive(Debug, Clone, ClapArgs)]
pub struct SaleArgs {
    /// Check marked items (the ТС ПИОТ, else ГИС МТ; the Local Module) before selling them: on by
    /// default when a ТС ПИОТ, a ГИС МТ token ($KKT_GISMT_TOKEN or a token file) or a Local Module
    /// URL is set.
    #[arg(long)]
    pub mark_check: bool,
    /// Do not check marked items (the register's own checks only).
    #[arg(long, conflicts_with = "mark_check")]
    pub no_mark_check: bool,
    /// A ban refuses the item (deny), or asks the cashier (ask: refused too, as nobody is asked here).
    #[arg(long = "mark-strict", value_enum, env = "KKT_MARK_STRICT", default_value = "deny")]
    pub strict: StrictArg,
    /// Judge expireDate for every product group, not only milk, beer and water.
    #[arg(long)]
    pub expiry_all_groups: bool,
    /// The sold-codes store location (default: the cache directory's sold-codes.sqlite).
    #[arg(long, env = "KKT_STORE", value_name = "LOCATION")]
    pub store: Option<String>,
    /// Where to check.
    #[command(flatten)]
    pub online: OnlineArgs,
    /// The Local Module.
    #[command(flatten)]
    pub lm: LmArgs,
    /// The store's ТС ПИОТ.
    #[command(flatten)]
    pub tspiot: TsPiotArgs,
}

/// The checker `kkt receipt` and `kkt serve` give the driver (None when the check is off). With
/// a ТС ПИОТ, ГИС МТ is not called directly.
pub fn sale_checker(a: &SaleArgs, cfg: &super::config::Config) -> Result<Option<Arc<Checker>>, String> {
    if a.no_mark_check {
        return Ok(None);
    }
    let tspiot = tspiot_client(&a.tspiot, &a.lm, cfg)?;
    let token =
        Secret::from_env_or_file("KKT_GISMT_TOKEN", a.online.gismt_token_file.as_deref(), "KKT_GISMT_TOKEN_FILE")
            .map_err(|e| e.to_string())?;
    if !a.mark_check && tspiot.is_none() && token.is_none() && a.lm.lm_url.is_none() {
        return Ok(None);
    }
    let gismt =
        if tspiot.is_none() && (token.is_some() || a.mark_check) { Some(gismt_client(&a.online)?) } else { None };
    let settings = Settings {
        strictness: match a.strict {
            StrictArg::Deny => Strictness::Deny,
            StrictArg::Ask => Strictness::Ask,
        },
        expiry_all_groups: a.expiry_all_groups,
    };
    let mut checker = Checker::new(gismt, lm_client(&a.lm)?, settings);
    if let Some(t) = tspiot {
        checker = checker.with_tspiot(t);
    }
    match open_store(a.store.as_deref(), &cache_dir(a.online.cache_dir.as_ref())) {
        Ok(s) => checker = checker.with_store(s),
        Err(e) => tracing::warn!(target: "kkt::mark", "{e}: selling without the sold-codes store"),
    }
    Ok(Some(Arc::new(checker)))
}

/// Parses roubles ("146.30", "146,3", "146") into kopecks, without floats.
pub fn parse_rub(s: &str) -> Result<u64, String> {
    let t = s.trim().replace(',', ".");
    let (r, k) = t.split_once('.').unwrap_or((&t, ""));
    let bad = || format!("price {s:?}: give roubles with at most two decimals, e.g. 146.30");
    if r.is_empty() || !r.bytes().all(|b| b.is_ascii_digit()) || k.len() > 2 || !k.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let rub: u64 = r.parse().map_err(|_| bad())?;
    let kop: u64 = if k.is_empty() { 0 } else { format!("{k:0<2}").parse().map_err(|_| bad())? };
    rub.checked_mul(100).and_then(|v| v.checked_add(kop)).ok_or_else(bad)
}

fn rub(k: u64) -> String {
    format!("{}.{:02}", k / 100, k % 100)
}

fn cache_dir(explicit: Option<&PathBuf>) -> PathBuf {
    explicit
        .cloned()
        .or_else(|| dirs::cache_dir().map(|d| d.join("kkt")))
        .unwrap_or_else(|| std::env::temp_dir().join("kkt-cache"))
}

fn gismt_client(o: &OnlineArgs) -> Result<Arc<GisMt>, String> {
    let token = Secret::from_env_or_file("KKT_GISMT_TOKEN", o.gismt_token_file.as_deref(), "KKT_GISMT_TOKEN_FILE")
        .map_err(|e| e.to_string())?;
    let mut cfg = GisMtConfig::new(o.gismt_url.clone(), token, cache_dir(o.cache_dir.as_ref()));
    cfg.ca_file.clone_from(&o.gismt_ca_file);
    let g = GisMt::new(cfg).map_err(|e| e.to_string())?;
    g.set_fiscal_drive_number(o.fn_serial.clone());
    Ok(Arc::new(g))
}

fn lm_config(a: &LmArgs, url: &str) -> LmConfig {
    let mut cfg = LmConfig::new(url);
    cfg.user = a.lm_user.clone().filter(|u| !u.is_empty());
    cfg.password = a.lm_password.as_ref().map(|p| Secret::new(p.clone()));
    cfg.token = a.lm_token.as_ref().map(|t| Secret::new(t.clone())).filter(|t| !t.expose().is_empty());
    cfg.tz = a.lm_tz;
    cfg
}

fn lm_client(a: &LmArgs) -> Result<Option<Lm>, String> {
    let Some(url) = &a.lm_url else { return Ok(None) };
    Lm::new(lm_config(a, url)).map(Some).map_err(|e| e.to_string())
}

fn open_store(location: Option<&str>, cache: &std::path::Path) -> Result<Box<dyn store::SoldCodes>, String> {
    let loc = location.map(str::to_string).unwrap_or_else(|| store::default_path(cache).display().to_string());
    store::open(&loc).map_err(|e| e.to_string())
}

fn parse_codes(codes: &[String], json: bool) -> Result<Vec<MarkingCode>, u8> {
    codes
        .iter()
        .map(|c| {
            MarkingCode::parse(c).map_err(|e| {
                print_error(json, "input", None, &format!("code {c:?}: {e}"), "");
                exit::INPUT
            })
        })
        .collect()
}

/// Runs `kkt mark`.
pub fn run(a: &Args, json: bool, device: Option<&str>, config: Option<&std::path::Path>) -> u8 {
    let needs_config = matches!(a.cmd, Cmd::Check(_) | Cmd::TspiotStatus { .. } | Cmd::LmStatus { .. });
    let cfg = if needs_config {
        match super::config::load(config) {
            Ok(c) => c,
            Err(e) => {
                print_error(json, "input", None, &e, "fix or remove the config file");
                return exit::INPUT;
            }
        }
    } else {
        super::config::Config::default()
    };
    match &a.cmd {
        Cmd::Parse { code } => parse(code, json),
        Cmd::Check(c) => check(c, json, device, &cfg),
        Cmd::Cdn { refresh, online } => cdn(online, *refresh, json),
        Cmd::TspiotStatus { tspiot } => tspiot_status(tspiot, json, device, &cfg),
        Cmd::LmStatus { lm, tspiot } => lm_status(lm, tspiot, json, &cfg),
        Cmd::LmInit { token_file, wait, lm } => lm_init(lm, token_file, *wait, json),
        Cmd::TokenCheck { online } => token_check(online, json),
        Cmd::Record { state, receipt, codes, store } => record(*state, receipt, codes, store, json),
        Cmd::History { code, store } => history(code, store, json),
    }
}

fn parse(code: &str, json: bool) -> u8 {
    let c = match MarkingCode::parse(code) {
        Ok(c) => c,
        Err(e) => {
            print_error(json, "input", None, &e.to_string(), "");
            return exit::INPUT;
        }
    };
    if json {
        println!("{}", serde_json::to_string(&c).expect("serializable"));
        return exit::OK;
    }
    let fmt = match c.format() {
        kkt::marking::code::Format::Gs1 => "GS1 DataMatrix",
        kkt::marking::code::Format::TobaccoPack => "tobacco pack (29 characters, no AIs)",
    };
    println!("format:       {fmt}");
    println!("code:         {}", c.display_gs());
    println!("GTIN:         {}", c.gtin());
    println!("serial:       {}", c.serial());
    println!("key id (91):  {}", c.key_id().unwrap_or("-"));
    println!("crypto tail:  {}", c.crypto_tail().unwrap_or("-"));
    println!("print view:   {}", c.print_view());
    println!("tag 2100:     {} ({})", c.code_type_2100(), c.code_type_text());
    match c.mrp_kopecks() {
        Some(m) => println!("MRP:          {} ({m} kopecks)", rub(m)),
        None => println!("MRP:          -"),
    }
    let wire = c.to_wire_bytes();
    println!("bytes ({}):   {}", wire.len(), wire.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" "));
    println!("elements:");
    for e in c.elements() {
        println!("  {:<5} {:<48} {}", e.ai, e.name, e.value);
    }
    for w in c.warnings() {
        println!("warning:      {w}");
    }
    exit::OK
}

fn print_verdict(v: &Verdict) {
    let code = v.code.replace('\u{1d}', "<GS>");
    let what = match v.action {
        Action::Sell => "SELL",
        Action::Refuse => "REFUSE",
        Action::Ask => "ASK THE CASHIER",
    };
    println!("{code}: {what}");
    for r in &v.reasons {
        println!("  reason [{}]: {}", r.field, r.message);
    }
    for n in &v.notes {
        println!("  note: {n}");
    }
    let source = match v.source {
        kkt::checker::Source::Online => {
            format!("ГИС МТ online{}", v.host.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())
        }
        kkt::checker::Source::Lm => "Local Module".to_string(),
        kkt::checker::Source::Tspiot => "ГИС МТ through the ТС ПИОТ".to_string(),
        kkt::checker::Source::TspiotLm => "Local Module through the ТС ПИОТ".to_string(),
        kkt::checker::Source::None => "no check answer".to_string(),
        other => format!("{other:?}"),
    };
    println!("  source: {source}{}", if v.emergency { ", EMERGENCY: sold without a check" } else { "" });
    if let Some(t) = &v.tag1265 {
        println!("  tag 1265: {t}");
    }
}

fn check(a: &CheckArgs, json: bool, device: Option<&str>, cfg: &super::config::Config) -> u8 {
    let codes = match parse_codes(&a.codes, json) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let price = match a.price.as_deref().map(parse_rub).transpose() {
        Ok(p) => p,
        Err(e) => {
            print_error(json, "input", None, &e, "");
            return exit::INPUT;
        }
    };
    // With a register: its own check of each code (0x91, 0x92; the result is then deleted with
    // 0x94, nothing is sold), and its FN serial is the request's fiscalDriveNumber.
    let ((fn_serial, kkt_serial), device_checks) = match device {
        Some(d) => match register_checks(d, &a.codes, a.status) {
            Ok(r) => r,
            Err(e) => return super::device::Failure::from(e).report(json),
        },
        None => ((None, None), Vec::new()),
    };
    let tspiot = if a.no_online {
        None
    } else {
        match tspiot_client(&a.tspiot, &a.lm, cfg) {
            Ok(t) => t,
            Err(e) => {
                print_error(json, "input", None, &e, "");
                return exit::INPUT;
            }
        }
    };
    let gismt = if a.no_online || tspiot.is_some() {
        None
    } else {
        match gismt_client(&a.online) {
            Ok(g) => {
                if fn_serial.is_some() {
                    g.set_fiscal_drive_number(fn_serial.clone());
                }
                Some(g)
            }
            Err(e) => {
                print_error(json, "input", None, &e, "");
                return exit::INPUT;
            }
        }
    };
    let lm = match lm_client(&a.lm) {
        Ok(l) => l,
        Err(e) => {
            print_error(json, "input", None, &e, "");
            return exit::INPUT;
        }
    };
    let settings = Settings {
        strictness: match a.strict {
            StrictArg::Deny => Strictness::Deny,
            StrictArg::Ask => Strictness::Ask,
        },
        expiry_all_groups: a.expiry_all_groups,
    };
    let mut checker = Checker::new(gismt.clone(), lm, settings);
    if let Some(t) = tspiot {
        checker = checker.with_tspiot(t);
    }
    checker.set_register(fn_serial.clone(), kkt_serial);
    if !a.no_store {
        match open_store(a.store.as_deref(), &cache_dir(a.online.cache_dir.as_ref())) {
            Ok(s) => checker = checker.with_store(s),
            Err(e) => tracing::warn!(target: "kkt::mark", "{e}: checking without the sold-codes store"),
        }
    }
    let items: Vec<CheckItem> =
        codes.into_iter().map(|code| CheckItem { code, price_kopecks: price, partial_sale: a.partial }).collect();
    let verdicts = checker.receipt().check(&items);
    checker.wait_background();
    for (i, v) in verdicts.iter().enumerate() {
        let reg = device_checks.get(i);
        if json {
            let mut o = serde_json::to_value(v).expect("serializable");
            if let (Some(r), Some(m)) = (reg, o.as_object_mut()) {
                m.insert("register".into(), r.clone());
            }
            println!("{o}");
        } else {
            print_verdict(v);
            if let Some(r) = reg {
                print_register_check(r);
            }
        }
    }
    if verdicts.iter().any(|v| v.action == Action::Refuse) {
        exit::REFUSED
    } else if verdicts.iter().any(|v| v.action == Action::Ask) {
        exit::ASK
    } else {
        exit::OK
    }
}

/// The register's FN serial and serial number.
type RegisterIds = (Option<String>, Option<String>);

/// The register's own check of each code: 0x91 and 0x92, then 0x94 delete (a check outside a
/// receipt must not stay in the FN's table).
fn register_checks(
    uri: &str,
    codes: &[String],
    status: kkt::receipt::PlannedStatus,
) -> Result<(RegisterIds, Vec<serde_json::Value>), kkt::Error> {
    let mut k = kkt::Kkt::connect(uri)?;
    let st = k.status()?;
    let serial = (
        Some(st.fn_status.fn_number.trim().to_string()).filter(|s| !s.is_empty()),
        Some(st.status.serial.trim().to_string()).filter(|s| !s.is_empty()),
    );
    let mut out = Vec::new();
    for code in codes {
        let c = k.check_mark(code, status, kkt::protocol::types::Decimal::integer(1))?;
        k.decline_mark()?;
        out.push(crate::views::register_check_json(&c));
    }
    Ok((serial, out))
}

fn print_register_check(r: &serde_json::Value) {
    let local = &r["fn_check"];
    let result = match local["result"].as_u64() {
        Some(3) => "positive",
        Some(1) => "NEGATIVE",
        _ => "not checked",
    };
    println!("  register: FN check {result} (reason {}), 2106 = {}", local["reason"], r["tag2106"]["raw"]);
    for line in r["explained"].as_array().into_iter().flatten() {
        println!("    - {}", line.as_str().unwrap_or(""));
    }
}

fn fmt_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn cdn(o: &OnlineArgs, refresh: bool, json: bool) -> u8 {
    let g = match gismt_client(o) {
        Ok(g) => g,
        Err(e) => {
            print_error(json, "input", None, &e, "");
            return exit::INPUT;
        }
    };
    let state = match (refresh, g.cached()) {
        (false, Some(st)) => st,
        (_, cached) => match g.discover(false) {
            Ok(d) => d.state,
            Err(e) => match cached {
                Some(st) => {
                    eprintln!("kkt: {e}; showing the cached list");
                    st
                }
                None => {
                    let code = if matches!(e, gismt::GisMtError::Auth(_) | gismt::GisMtError::NoToken) {
                        exit::INPUT
                    } else {
                        exit::LINK
                    };
                    print_error(json, "link", None, &e.to_string(), "");
                    return code;
                }
            },
        },
    };
    let now = gismt::now_ms();
    if json {
        let hosts: Vec<_> = state
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                serde_json::json!({
                    "rank": i + 1,
                    "host": h.host,
                    "latency_ms": h.latency_ms,
                    "unavailable_until_ms": h.unavailable_until_ms.filter(|&t| t > now),
                })
            })
            .collect();
        let v = serde_json::json!({
            "base_url": state.base_url,
            "refreshed_at_ms": state.refreshed_at_ms,
            "emergency_at_ms": state.emergency_at_ms,
            "checks_off_at_ms": state.checks_off_at_ms,
            "cache": g.cache_file().path(),
            "hosts": hosts,
        });
        println!("{v}");
        return exit::OK;
    }
    println!("CDN hosts of {} (discovered {})", state.base_url, fmt_ms(state.refreshed_at_ms));
    println!("{:<5} {:<48} {:>10}  unavailable until", "rank", "host", "latency");
    for (i, h) in state.hosts.iter().enumerate() {
        let lat = h.latency_ms.map_or("failed".to_string(), |l| format!("{l} ms"));
        let until = h.unavailable_until_ms.filter(|&t| t > now).map_or("-".to_string(), fmt_ms);
        println!("{:<5} {:<48} {:>10}  {until}", i + 1, h.host, lat);
    }
    if let Some(t) = state.emergency_at_ms {
        println!("emergency (HTTP 203) last seen {}", fmt_ms(t));
    }
    if let Some(t) = state.checks_off_at_ms {
        println!("checks are off: discovery met HTTP 203 at {} (until a discovery without it)", fmt_ms(t));
    }
    exit::OK
}

fn register_ids(uri: &str) -> Result<RegisterIds, kkt::Error> {
    let mut k = kkt::Kkt::connect(uri)?;
    let st = k.status()?;
    Ok((
        Some(st.fn_status.fn_number.trim().to_string()).filter(|s| !s.is_empty()),
        Some(st.status.serial.trim().to_string()).filter(|s| !s.is_empty()),
    ))
}

fn tspiot_status(a: &TsPiotArgs, json: bool, device: Option<&str>, cfg: &super::config::Config) -> u8 {
    let no_lm = LmArgs { lm_url: None, lm_user: None, lm_password: None, lm_token: None, lm_tz: None };
    let ts = match tspiot_client(a, &no_lm, cfg) {
        Ok(Some(t)) => t,
        Ok(None) => match tspiot_client(&TsPiotArgs { tspiot: true, ..a.clone() }, &no_lm, cfg) {
            Ok(Some(t)) => t,
            Ok(None) => unreachable!("--tspiot gives a URL"),
            Err(e) => {
                print_error(json, "input", None, &e, "");
                return exit::INPUT;
            }
        },
        Err(e) => {
            print_error(json, "input", None, &e, "");
            return exit::INPUT;
        }
    };
    if let Some(d) = device {
        match register_ids(d) {
            Ok((f, k)) => ts.set_register(f, k),
            Err(e) => return super::device::Failure::from(e).report(json),
        }
    }
    match ts.status() {
        Ok(st) => {
            if json {
                println!("{}", serde_json::to_string(&st).expect("serializable"));
            } else {
                println!("ТС ПИОТ {} (API v{})", st.url, st.api_version.map_or("?".into(), |v| v.to_string()));
                println!("  id:             {}", st.tspiot_id.as_deref().unwrap_or("-"));
                println!(
                    "  register:       serial {}, FN {}",
                    st.kkt_serial.as_deref().unwrap_or("-"),
                    st.fn_serial.as_deref().unwrap_or("-")
                );
                println!("  INN:            {}", st.kkt_inn.as_deref().unwrap_or("-"));
                println!(
                    "  check timeout:  {}",
                    st.check_timeout_ms
                        .map_or(format!("- (kkt waits {} ms)", tspiot::DEFAULT_CHECK_TIMEOUT_MS), |t| format!(
                            "{t} ms"
                        ))
                );
                match &st.lm {
                    Some(l) => {
                        println!(
                            "  Local Module:   {} at {}, version {}, last sync {}",
                            l.status.as_deref().unwrap_or("?"),
                            l.address.as_deref().unwrap_or("-"),
                            l.version.as_deref().unwrap_or("-"),
                            l.last_sync.filter(|&t| t > 0).map_or("-".to_string(), fmt_ms)
                        );
                        if let Some(e) = &l.token_expires {
                            println!("  its token until {e}");
                        }
                    }
                    None => println!("  Local Module:   -"),
                }
                match st.matches_register {
                    Some(true) => println!("  bound to the connected register"),
                    Some(false) => println!("  NOT bound to the connected register: it checks for another FN"),
                    None => println!("  (give --device to compare with the register)"),
                }
            }
            exit::OK
        }
        Err(e) => {
            print_error(
                json,
                "link",
                None,
                &e.to_string(),
                "is the ТС ПИОТ (ЕСМ) running? see kkt mark tspiot-status --help",
            );
            exit::LINK
        }
    }
}

fn lm_status(a: &LmArgs, t: &TsPiotArgs, json: bool, cfg: &super::config::Config) -> u8 {
    // --lm-url, else the one the ТС ПИОТ names, else the usual address.
    let mut from_tspiot = None;
    if a.lm_url.is_none() {
        if let Ok(Some(ts)) = tspiot_client(t, a, cfg) {
            let (_, info, _) = ts.info(std::time::Instant::now() + std::time::Duration::from_secs(3));
            from_tspiot = info.and_then(|i| i.lm);
        }
    }
    let url = a
        .lm_url
        .clone()
        .or_else(|| from_tspiot.as_ref().and_then(|l| l.address()))
        .unwrap_or_else(|| lm_mod::DEFAULT_URL.to_string());
    let lm = match Lm::new(lm_config(a, &url)) {
        Ok(l) => l,
        Err(e) => {
            print_error(json, "input", None, &e.to_string(), "");
            return exit::INPUT;
        }
    };
    let auth = lm_mod::choose_auth(lm.config(), from_tspiot.as_ref(), gismt::now_ms());
    match lm.status_with(&auth, std::time::Instant::now() + std::time::Duration::from_secs(5)) {
        Ok((st, api)) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"url": lm.url(), "api": api, "status": st.status, "ready": st.ready(),
                                       "version": st.version, "inst": st.inst, "db_version": st.db_version,
                                       "last_sync_ms": st.last_sync, "operation_mode": st.operation_mode, "raw": st.raw})
                );
            } else {
                println!("Local Module {} (API {api:?}): {}", lm.url(), st.status);
                println!("  version:   {}", st.version.as_deref().unwrap_or("-"));
                println!("  instance:  {}", st.inst.as_deref().unwrap_or("-"));
                println!("  database:  {}", st.db_version.as_deref().unwrap_or("-"));
                println!("  mode:      {}", st.operation_mode.as_deref().unwrap_or("-"));
                println!("  last sync: {}", st.last_sync.filter(|&t| t > 0).map_or("-".to_string(), fmt_ms));
                if !st.ready() {
                    println!("  not ready: its answers are not trusted");
                    if st.status == "not_configured" {
                        println!("  hint: kkt mark lm-init --token-file FILE");
                    }
                }
            }
            exit::OK
        }
        Err(e) => {
            print_error(json, "link", None, &e.to_string(), "");
            exit::LINK
        }
    }
}

fn lm_init(a: &LmArgs, token_file: &std::path::Path, wait: std::time::Duration, json: bool) -> u8 {
    let token = match std::fs::read_to_string(token_file) {
        Ok(t) if !t.trim().is_empty() => Secret::new(t),
        Ok(_) => {
            print_error(json, "input", None, &format!("the token file {} is empty", token_file.display()), "");
            return exit::INPUT;
        }
        Err(e) => {
            print_error(json, "input", None, &format!("cannot read the token file {}: {e}", token_file.display()), "");
            return exit::INPUT;
        }
    };
    let url = a.lm_url.clone().unwrap_or_else(|| lm_mod::DEFAULT_URL.to_string());
    let lm = match Lm::new(lm_config(a, &url)) {
        Ok(l) => l,
        Err(e) => {
            print_error(json, "input", None, &e.to_string(), "");
            return exit::INPUT;
        }
    };
    let fail = |e: &lm_mod::LmError| {
        let kind = if matches!(e, lm_mod::LmError::Unreachable { .. }) { "link" } else { "device" };
        print_error(json, kind, None, &token.scrub(&e.to_string()), "");
        if kind == "link" {
            exit::LINK
        } else {
            exit::DEVICE
        }
    };
    match lm.status() {
        Ok(st) if st.ready() => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"url": lm.url(), "status": st.status, "initialized": false, "ready": true})
                );
            } else {
                println!("Local Module {} is already ready: nothing to initialise", lm.url());
            }
            return exit::OK;
        }
        Ok(_) => {}
        Err(e) => return fail(&e),
    }
    let api = match lm.init(&token) {
        Ok(api) => api,
        Err(e) => return fail(&e),
    };
    tracing::info!(target: "kkt::lm", url = %lm.url(), "Local Module initialisation started ({api:?})");
    let started = std::time::Instant::now();
    let mut last = String::new();
    loop {
        match lm.status() {
            Ok(st) if st.ready() => {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"url": lm.url(), "api": api, "status": st.status, "initialized": true, "ready": true})
                    );
                } else {
                    println!("Local Module {} is ready", lm.url());
                }
                return exit::OK;
            }
            Ok(st) if st.status.eq_ignore_ascii_case("failure") => {
                let code = st.raw.get("errorCode").map(|v| v.to_string()).unwrap_or_default();
                let reason = st.raw.get("reason").and_then(|v| v.as_str()).unwrap_or("");
                print_error(
                    json,
                    "device",
                    None,
                    &format!("the Local Module's initialisation failed: status failure {code} {reason}"),
                    "",
                );
                return exit::DEVICE;
            }
            Ok(st) => {
                if st.status != last && !json {
                    eprintln!("kkt: Local Module status: {}", st.status);
                }
                last = st.status;
            }
            Err(e) if e.not_ready() => last = e.to_string(),
            Err(e) => return fail(&e),
        }
        if started.elapsed() >= wait {
            print_error(
                json,
                "link",
                None,
                &format!("the Local Module is not ready after {} s (last: {last})", wait.as_secs()),
                "see kkt mark lm-status",
            );
            return exit::LINK;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

fn token_check(o: &OnlineArgs, json: bool) -> u8 {
    let g = match gismt_client(o) {
        Ok(g) => g,
        Err(e) => {
            print_error(json, "input", None, &e, "");
            return exit::INPUT;
        }
    };
    let r = g.check_token();
    g.wait_background();
    match r {
        Ok(()) => {
            if json {
                println!("{}", serde_json::json!({"token": "accepted", "base_url": g.base_url()}));
            } else {
                println!("the ГИС МТ token is accepted by {}", g.base_url());
            }
            exit::OK
        }
        Err(e) => {
            print_error(json, "input", None, &e.to_string(), "get the token for this contour in the ГИС МТ account");
            exit::INPUT
        }
    }
}

fn record(state: RecordState, receipt: &str, codes: &[String], s: &StoreArgs, json: bool) -> u8 {
    let codes = match parse_codes(codes, json) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let mut st = match open_store(s.store.as_deref(), &cache_dir(s.cache_dir.as_ref())) {
        Ok(st) => st,
        Err(e) => {
            print_error(json, "input", None, &e, "");
            return exit::INPUT;
        }
    };
    let state = match state {
        RecordState::Sold => CodeState::Sold,
        RecordState::Returned => CodeState::Returned,
    };
    let at = gismt::now_ms();
    for c in &codes {
        if let Err(e) = st.record(&c.print_view(), c.as_str(), state, receipt, at) {
            print_error(json, "input", None, &e.to_string(), "");
            return exit::INPUT;
        }
    }
    if json {
        println!("{}", serde_json::json!({"recorded": codes.len(), "state": state, "receipt": receipt}));
    } else {
        println!("{} code(s) recorded as {state:?} in receipt {receipt}", codes.len());
    }
    exit::OK
}

fn history(code: &str, s: &StoreArgs, json: bool) -> u8 {
    let c = match MarkingCode::parse(code) {
        Ok(c) => c,
        Err(e) => {
            print_error(json, "input", None, &e.to_string(), "");
            return exit::INPUT;
        }
    };
    let h = open_store(s.store.as_deref(), &cache_dir(s.cache_dir.as_ref()))
        .and_then(|mut st| st.history(&c.print_view()).map_err(|e| e.to_string()));
    match h {
        Ok(h) => {
            if json {
                println!("{}", serde_json::json!({"print_view": c.print_view(), "events": h}));
            } else if h.is_empty() {
                println!("{}: never sold here", c.print_view());
            } else {
                for r in h {
                    println!("{}  {:?}  {}", fmt_ms(r.at_ms), r.state, r.receipt);
                }
            }
            exit::OK
        }
        Err(e) => {
            print_error(json, "input", None, &e, "");
            exit::INPUT
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roubles() {
        assert_eq!(parse_rub("146.30"), Ok(14630));
        assert_eq!(parse_rub("146,3"), Ok(14630));
        assert_eq!(parse_rub("1060"), Ok(106000));
        assert_eq!(parse_rub("0.05"), Ok(5));
        assert!(parse_rub("1.234").is_err());
        assert!(parse_rub("-1").is_err());
        assert!(parse_rub("abc").is_err());
        assert!(parse_rub(".5").is_err());
    }
}
