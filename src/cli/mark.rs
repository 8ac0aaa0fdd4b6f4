//! `kkt mark`: marking codes and their permissive-mode check.
//!
//! * `kkt mark parse CODE` — the code's structure.
//! * `kkt mark check CODE... [--price P]` — the verdict per code (the ТС ПИОТ when one is
//!   configured, else ГИС МТ; the Local Module as fallback; the sold-codes store); `--json`
//!   prints one object per code; `--lang ru` (or a Russian locale) the cashier's texts.
//! * `kkt mark emergency on|off|status` — the emergency of seed 003 §7, by hand.
//! * `kkt mark token get|status|check` — the ГИС МТ token (`--sign-command`).
//! * `kkt mark tspiot-status` — the ТС ПИОТ's `/info`: API version, ids, check timeout, its
//!   Local Module, whether it is bound to the connected register.
//! * `kkt mark cdn [--refresh]` — CDN hosts with latency, rank and unavailable-until.
//! * `kkt mark lm-status` — the Local Module's status; `kkt mark lm-init --token-file F`
//!   initialises it.
//! * `kkt mark record sold|returned --receipt R CODE...`, `kkt mark history CODE`,
//!   `kkt mark checks --since DATE` — the store and its evidence trail.
//!
//! Every verdict comes from one checker built by [`checker`] from the same options, environment
//! and config file for `kkt mark check`, `kkt receipt` and `kkt serve`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args as ClapArgs, Subcommand, ValueEnum};

use super::{exit, print_error};
use kkt::checker::gismt::{self, GisMt, GisMtConfig};
use kkt::checker::lm::{self as lm_mod, Lm, LmConfig};
use kkt::checker::store::{self, CodeState};
use kkt::checker::token::{self, Signer, SignerConfig};
use kkt::checker::tspiot::{self, TsPiot, TsPiotConfig};
use kkt::checker::{Action, CheckItem, Checker, Entity, Secret, Settings, Strictness, Verdict};
use kkt::marking::texts::{self, Lang};
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
    Check(Box<CheckArgs>),
    /// The emergency of seed 003 §7 (checks off during it and 3 days after), set by a 203 from
    /// ГИС МТ or by hand when ЦРПТ announces it.
    Emergency {
        /// on, off or status.
        #[command(subcommand)]
        cmd: EmergencyCmd,
    },
    /// The ГИС МТ token: obtain one by signing (`get`), show its time left (`status`), check it
    /// now (`check`).
    Token {
        /// get, status or check.
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// List the ГИС МТ CDN hosts with latency, rank and unavailable-until.
    Cdn {
        /// Rediscover now (`/cdn/info` and every host's health check).
        #[arg(long)]
        refresh: bool,
        /// Where to check.
        #[command(flatten)]
        online: OnlineArgs,
        /// How the token is obtained.
        #[command(flatten)]
        sign: SignArgs,
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
    /// Check the ГИС МТ token now (a 401 means it is refused); as `kkt mark token check`.
    #[command(hide = true)]
    TokenCheck {
        /// Where to check.
        #[command(flatten)]
        online: OnlineArgs,
        /// How the token is obtained.
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Record codes in the sold-codes store as sold or returned.
    Record {
        /// sold or returned.
        state: RecordState,
        /// The receipt (e.g. "FN 7380440700089917 FD 123").
        #[arg(long)]
        receipt: String,
        /// The legal entity (INN) that sold them.
        #[arg(long, value_name = "INN")]
        inn: Option<String>,
        /// The codes.
        #[arg(required = true)]
        codes: Vec<String>,
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Show a code's checks (the evidence trail) and its sales and returns in the store.
    History {
        /// The code.
        code: String,
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the verdicts kept in the store's evidence trail since a date.
    Checks {
        /// From this date (YYYY-MM-DD, local) or time (YYYY-MM-DDTHH:MM).
        #[arg(long, value_name = "DATE")]
        since: String,
        /// At most this many.
        #[arg(long, default_value_t = 10_000, value_name = "N")]
        limit: usize,
        /// The store.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `kkt mark emergency …`.
#[derive(Debug, Subcommand)]
pub enum EmergencyCmd {
    /// ЦРПТ announced an emergency: checks off until `off` (and 3 days after).
    On {
        /// The cache directory (shared by the till's processes).
        #[arg(long, env = "KKT_CACHE_DIR", value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// ЦРПТ announced its end: checks stay off 3 more days (§7), or come back now with --now.
    Off {
        /// Checks come back at once (a mistaken `on`, a test contour's 203).
        #[arg(long)]
        now: bool,
        /// The cache directory.
        #[arg(long, env = "KKT_CACHE_DIR", value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Whether checks are off, since and until when, and why (`203` or `manual`).
    Status {
        /// The cache directory.
        #[arg(long, env = "KKT_CACHE_DIR", value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}

/// `kkt mark token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Obtain a token now: the sign command signs random data, ГИС МТ's
    /// /auth/permissive-access gives the token, kept (0600) in the cache directory.
    Get {
        /// The legal entity (its `[[marking.entity]]` sign command and token file).
        #[arg(long, value_name = "INN")]
        inn: Option<String>,
        /// How the token is obtained.
        #[command(flatten)]
        sign: SignArgs,
        /// The cache directory.
        #[arg(long, env = "KKT_CACHE_DIR", value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// The token in use: where it comes from and its time left.
    Status {
        /// The legal entity.
        #[arg(long, value_name = "INN")]
        inn: Option<String>,
        /// How the token is obtained.
        #[command(flatten)]
        sign: SignArgs,
        /// Where to check.
        #[command(flatten)]
        online: OnlineArgs,
    },
    /// Check the token now with ГИС МТ (a 401 means it is refused).
    Check {
        /// Where to check.
        #[command(flatten)]
        online: OnlineArgs,
        /// How the token is obtained.
        #[command(flatten)]
        sign: SignArgs,
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

/// Whether a sale needs a check answer.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum MarkCheckArg {
    /// A marked item no check answered is refused (an emergency still sells: checks are off then).
    Required,
    /// Sold without a check when no source is configured or none answers (the note says so).
    Optional,
}

/// The language of the texts for people: the global `--lang`, else $KKT_LANG, else the locale
/// (one choice for every text kkt prints).
pub fn lang() -> Lang {
    if super::i18n::ru() {
        Lang::Ru
    } else {
        Lang::En
    }
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
    /// The cache directory (CDN hosts and marks, the emergency latch, the token, the sold-codes
    /// store); default ~/.cache/kkt (Linux),
    /// %LOCALAPPDATA%\kkt\cache (Windows): see `kkt --help`.
    #[arg(long, env = "KKT_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Extra trusted root certificates (PEM) for ГИС МТ hosts, e.g. the Russian Trusted Root CA.
    #[arg(long, env = "KKT_GISMT_CA_FILE", value_name = "PATH")]
    pub gismt_ca_file: Option<PathBuf>,
    /// The FN serial sent as fiscalDriveNumber (16 digits) when no register is read.
    #[arg(long, env = "KKT_FN_SERIAL", value_name = "DIGITS")]
    pub fn_serial: Option<String>,
}

/// How the ГИС МТ token is obtained by signing (seed 003 §1.1).
#[derive(Debug, Clone, ClapArgs)]
pub struct SignArgs {
    /// A command that signs its stdin with the participant's УКЭП (attached CMS) and prints the
    /// Base64 signature (e.g. CryptoPro's csptest; see README); also `[marking] sign_command`.
    #[arg(long, env = "KKT_SIGN_COMMAND", value_name = "CMD")]
    pub sign_command: Option<String>,
    /// The host of /api/v3/true-api/auth/permissive-access (default https://markirovka.crpt.ru;
    /// the test contour: https://markirovka.sandbox.crptech.ru).
    #[arg(long, env = "KKT_GISMT_AUTH_URL", value_name = "URL")]
    pub gismt_auth_url: Option<String>,
    /// How long the sign command may take (it may ask for a PIN), decimal seconds.
    #[arg(long, default_value = "60", value_name = "SECS", value_parser = parse_secs)]
    pub sign_timeout: std::time::Duration,
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
    /// The cache directory (the ТС ПИОТ's API version is remembered there); default: see
    /// `kkt --help`.
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
    /// directory's sold-codes.sqlite; also `[marking] store`).
    #[arg(long, env = "KKT_STORE", value_name = "LOCATION")]
    pub store: Option<String>,
    /// The cache directory; default: see `kkt --help`.
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
    /// The legal entity (INN) selling the codes: its token and its sold codes (default: the
    /// register's registration INN, with --device, else the first entity).
    #[arg(long, value_name = "INN")]
    pub inn: Option<String>,
    /// Do not ask ГИС МТ or the ТС ПИОТ (the Local Module and the store only).
    #[arg(long)]
    pub no_online: bool,
    /// The checker.
    #[command(flatten)]
    pub checker: CheckerArgs,
}

/// The marked goods check of `kkt receipt` and `kkt serve`.
#[derive(Debug, Clone, ClapArgs)]
pub struct SaleArgs {
    /// Do not check marked items (the register's own checks only; nothing is kept in the store).
    #[arg(long)]
    pub no_mark_check: bool,
    /// `kkt receipt`: accept every verdict that asks (`--mark-strict ask`) without asking; on a
    /// terminal the cashier is asked (y/N), in a pipe or with --json an `ask` is refused (exit 6).
    #[arg(long)]
    pub accept_asked: bool,
    /// The checker.
    #[command(flatten)]
    pub checker: CheckerArgs,
}

/// The checker's options, the same for `kkt mark check`, `kkt receipt` and `kkt serve`.
#[derive(Debug, Clone, ClapArgs)]
pub struct CheckerArgs {
    /// Whether a sale needs a check answer: `required` refuses a marked item no check answered
    /// (no source configured, or none answered); `optional` (the default) sells it with a note.
    /// Also $KKT_MARK_CHECK and `[marking] require_check = true`.
    #[arg(long = "mark-check", value_enum, env = "KKT_MARK_CHECK", value_name = "WHEN")]
    pub mark_check: Option<MarkCheckArg>,
    /// A ban refuses the item (deny), or goes to the cashier (ask).
    #[arg(long = "mark-strict", visible_alias = "strict", value_enum, env = "KKT_MARK_STRICT", default_value = "deny")]
    pub strict: StrictArg,
    /// Judge expireDate for every product group, not only milk, beer and water.
    #[arg(long)]
    pub expiry_all_groups: bool,
    /// Do not consult or fill the sold-codes store (nor its evidence trail).
    #[arg(long)]
    pub no_store: bool,
    /// The sold-codes store: a SQLite path, sqlite:PATH, or postgres://… (default: the cache
    /// directory's sold-codes.sqlite; also `[marking] store`).
    #[arg(long, env = "KKT_STORE", value_name = "LOCATION")]
    pub store: Option<String>,
    /// How long the evidence trail and the sales events are kept, in days (default 1095, three
    /// years; also `[marking] retention_days`); older rows are pruned in the background.
    #[arg(long, env = "KKT_STORE_RETENTION_DAYS", value_name = "DAYS")]
    pub retention_days: Option<u32>,
    /// How long the cashier's confirmation of a verdict that asks holds (the `confirmation` a
    /// receipt item gives back as `mark_confirmation`), decimal seconds.
    #[arg(long, default_value = "600", value_name = "SECS", value_parser = parse_secs)]
    pub mark_confirmation_ttl: std::time::Duration,
    /// Where to check.
    #[command(flatten)]
    pub online: OnlineArgs,
    /// How the token is obtained.
    #[command(flatten)]
    pub sign: SignArgs,
    /// The Local Module.
    #[command(flatten)]
    pub lm: LmArgs,
    /// The store's ТС ПИОТ.
    #[command(flatten)]
    pub tspiot: TsPiotArgs,
}

/// The cache directory: the option (or $KKT_CACHE_DIR), else the user's cache directory.
pub fn cache_dir(explicit: Option<&PathBuf>) -> PathBuf {
    explicit.cloned().or_else(super::paths::cache).unwrap_or_else(|| std::env::temp_dir().join("kkt-cache"))
}

fn marking_cfg(cfg: &super::config::Config) -> super::config::Marking {
    cfg.marking.clone().unwrap_or_default()
}

/// An INN: 10 or 12 digits.
pub fn check_inn(what: &str, inn: &str) -> Result<(), String> {
    if matches!(inn.len(), 10 | 12) && inn.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("{what} {inn:?}: an INN is 10 digits (a company) or 12 (an individual entrepreneur)"))
    }
}

/// The signer of a legal entity: `command` (the option, the entity's, the config's).
fn signer(
    command: &str,
    sign: &SignArgs,
    online: &OnlineArgs,
    cfg: &super::config::Config,
    inn: Option<&str>,
) -> Result<Arc<Signer>, String> {
    let m = marking_cfg(cfg);
    let mut sc = SignerConfig::new(command, cache_dir(online.cache_dir.as_ref()));
    if let Some(u) = sign.gismt_auth_url.clone().or(m.auth_url) {
        sc.auth_url = u;
    }
    sc.inn = inn.map(str::to_string);
    sc.sign_timeout = sign.sign_timeout;
    sc.ca_file.clone_from(&online.gismt_ca_file);
    Signer::new(sc).map(Arc::new).map_err(|e| e.to_string())
}

/// A ГИС МТ client for a legal entity, when it has a token source: a sign command, a token
/// file, or (for the default entity) $KKT_GISMT_TOKEN.
fn gismt_for(
    online: &OnlineArgs,
    sign: &SignArgs,
    cfg: &super::config::Config,
    entity: Option<&super::config::Entity>,
) -> Result<Option<Arc<GisMt>>, String> {
    let m = marking_cfg(cfg);
    let (command, file, inn, env) = match entity {
        Some(e) => (e.sign_command.clone(), e.token_file.clone(), Some(e.inn.as_str()), false),
        None => (
            sign.sign_command.clone().or(m.sign_command.clone()),
            online.gismt_token_file.clone().or(m.token_file.clone()),
            m.inn.as_deref(),
            true,
        ),
    };
    let signer = command.filter(|c| !c.trim().is_empty()).map(|c| signer(&c, sign, online, cfg, inn)).transpose()?;
    let token = if signer.is_some() {
        None
    } else if env {
        Secret::from_env_or_file("KKT_GISMT_TOKEN", file.as_deref(), "KKT_GISMT_TOKEN_FILE")
            .map_err(|e| e.to_string())?
    } else {
        file.as_deref().map(Secret::from_file).transpose().map_err(|e| e.to_string())?.flatten()
    };
    if signer.is_none() && token.is_none() {
        return Ok(None);
    }
    let mut c = GisMtConfig::new(online.gismt_url.clone(), token, cache_dir(online.cache_dir.as_ref()));
    c.signer = signer;
    c.ca_file.clone_from(&online.gismt_ca_file);
    let g = GisMt::new(c).map_err(|e| e.to_string())?;
    g.set_fiscal_drive_number(online.fn_serial.clone());
    Ok(Some(Arc::new(g)))
}

/// What the checker is built for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Purpose {
    /// No ГИС МТ, no ТС ПИОТ (`kkt mark check --no-online`).
    pub no_online: bool,
}

/// The settings of the rules from the options and the config file.
pub fn settings(a: &CheckerArgs, cfg: &super::config::Config) -> Settings {
    let require_check = match a.mark_check {
        Some(m) => m == MarkCheckArg::Required,
        None => marking_cfg(cfg).require_check.unwrap_or(false),
    };
    Settings {
        strictness: match a.strict {
            StrictArg::Deny => Strictness::Deny,
            StrictArg::Ask => Strictness::Ask,
        },
        expiry_all_groups: a.expiry_all_groups,
        require_check,
    }
}

/// The one checker of `kkt mark check`, `kkt receipt` and `kkt serve`: the ТС ПИОТ when one is
/// configured (ГИС МТ is then not called directly), else ГИС МТ when a token can be had, the
/// Local Module, the legal entities of `[[marking.entity]]`, the emergency latch and the
/// sold-codes store with its evidence trail (on unless --no-store), from the same options,
/// environment and config file.
pub fn checker(a: &CheckerArgs, cfg: &super::config::Config, purpose: Purpose) -> Result<Arc<Checker>, String> {
    let m = marking_cfg(cfg);
    let cache = cache_dir(a.online.cache_dir.as_ref());
    if let Some(inn) = &m.inn {
        check_inn("[marking] inn", inn)?;
    }
    let tspiot = if purpose.no_online { None } else { tspiot_client(&a.tspiot, &a.lm, cfg)? };
    let gismt = if purpose.no_online || tspiot.is_some() { None } else { gismt_for(&a.online, &a.sign, cfg, None)? };
    let mut checker = Checker::new(gismt, lm_client(&a.lm)?, settings(a, cfg)).with_cache_dir(&cache);
    let ttl_ms = i64::try_from(a.mark_confirmation_ttl.as_millis()).unwrap_or(i64::MAX);
    match kkt::checker::confirm::Confirmations::in_dir(&cache, ttl_ms) {
        Ok(c) => checker = checker.with_confirmations(c),
        Err(e) => tracing::warn!(target: "kkt::mark", "no confirmations of ask verdicts: {e}"),
    }
    if let Some(t) = tspiot {
        checker = checker.with_tspiot(t);
    }
    if let Some(inn) = &m.inn {
        checker = checker.with_inn(inn.clone());
    }
    for e in &m.entity {
        check_inn("[[marking.entity]] inn", &e.inn)?;
        let ts = match (&e.tspiot_url, purpose.no_online) {
            (Some(u), false) => tspiot_client(
                &TsPiotArgs { tspiot_url: Some(u.clone()), tspiot: false, ..a.tspiot.clone() },
                &a.lm,
                cfg,
            )?,
            _ => None,
        };
        let g = if purpose.no_online || ts.is_some() { None } else { gismt_for(&a.online, &a.sign, cfg, Some(e))? };
        checker = checker.with_entity(Entity::new(e.inn.clone(), g, ts));
    }
    if !a.no_store {
        let location =
            a.store.clone().or(m.store.clone()).unwrap_or_else(|| store::default_path(&cache).display().to_string());
        match store::open(&location) {
            Ok(s) => {
                checker = checker.with_store(s);
                let days = a.retention_days.or(m.retention_days).unwrap_or(store::DEFAULT_RETENTION_DAYS);
                store::prune_in_background(location, cache.clone(), days);
            }
            Err(e) => tracing::warn!(target: "kkt::mark", "{e}: checking without the sold-codes store"),
        }
    }
    Ok(Arc::new(checker))
}

/// The cashier's answer to a verdict that asks, on the terminal (stderr and stdin): the reasons
/// in `lang`, then y/N. Anything but y/yes/д/да is no.
pub fn ask_on_terminal(v: &Verdict, lang: Lang) -> bool {
    use std::io::Write as _;
    let code = v.code.replace('\u{1d}', "<GS>");
    let mut err = std::io::stderr().lock();
    let (head, question) = match lang {
        Lang::Ru => ("кассиру: код маркировки требует решения", "Продать товар? [y/N] "),
        Lang::En => ("kkt: the marked item needs the cashier's decision", "Sell it anyway? [y/N] "),
    };
    let _ = writeln!(err, "{head}: {code}");
    for r in &v.reasons {
        let _ = writeln!(err, "  [{}] {}", r.field, r.text(lang));
    }
    let _ = write!(err, "{question}");
    let _ = err.flush();
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_lowercase().as_str(), "y" | "yes" | "д" | "да")
}

/// The checker `kkt receipt` and `kkt serve` give the driver (None with --no-mark-check).
pub fn sale_checker(a: &SaleArgs, cfg: &super::config::Config) -> Result<Option<Arc<Checker>>, String> {
    if a.no_mark_check {
        return Ok(None);
    }
    checker(&a.checker, cfg, Purpose::default()).map(Some)
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
                print_error(
                    json,
                    "input",
                    None,
                    &format!("code {c:?}: {e}"),
                    "scan the code again, or type it with <GS> between its elements",
                );
                exit::INPUT
            })
        })
        .collect()
}

fn input_error(json: bool, e: &str) -> u8 {
    print_error(json, "input", None, e, "");
    exit::INPUT
}

/// Runs `kkt mark`.
pub fn run(a: &Args, json: bool, device: Option<&str>, config: Option<&std::path::Path>) -> u8 {
    let cfg = match super::config::load(config) {
        Ok(c) => c,
        Err(e) => {
            print_error(json, "input", None, &e, "fix or remove the config file");
            return exit::INPUT;
        }
    };
    match &a.cmd {
        Cmd::Parse { code } => parse(code, json),
        Cmd::Check(c) => check(c, json, device, &cfg),
        Cmd::Emergency { cmd } => emergency(cmd, json),
        Cmd::Token { cmd } => match cmd {
            TokenCmd::Get { inn, sign, cache_dir } => token_get(inn.as_deref(), sign, cache_dir.as_ref(), json, &cfg),
            TokenCmd::Status { inn, sign, online } => token_status(inn.as_deref(), sign, online, json, &cfg),
            TokenCmd::Check { online, sign } => token_check(online, sign, json, &cfg),
        },
        Cmd::Cdn { refresh, online, sign } => cdn(online, sign, *refresh, json, &cfg),
        Cmd::TspiotStatus { tspiot } => tspiot_status(tspiot, json, device, &cfg),
        Cmd::LmStatus { lm, tspiot } => lm_status(lm, tspiot, json, &cfg),
        Cmd::LmInit { token_file, wait, lm } => lm_init(lm, token_file, *wait, json),
        Cmd::TokenCheck { online, sign } => token_check(online, sign, json, &cfg),
        Cmd::Record { state, receipt, inn, codes, store } => {
            record(*state, receipt, inn.as_deref(), codes, store, json, &cfg)
        }
        Cmd::History { code, store } => history(code, store, json, &cfg),
        Cmd::Checks { since, limit, store } => checks(since, *limit, store, json, &cfg),
    }
}

/// Prints a verdict for people, in `lang`.
pub fn print_verdict(v: &Verdict, lang: Lang) {
    let code = v.code.replace('\u{1d}', "<GS>");
    let t = |k: &str| lang.pick(&texts::label(k)).to_string();
    println!("{code}: {}", lang.pick(&texts::action(v.action)));
    for r in &v.reasons {
        println!("  {} [{}]: {}", t("reason"), r.field, r.text(lang));
    }
    for n in &v.notes {
        println!("  {}: {n}", t("note"));
    }
    let source = match (v.source, lang) {
        (kkt::checker::Source::Online, Lang::En) => {
            format!("ГИС МТ online{}", v.host.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())
        }
        (kkt::checker::Source::Online, Lang::Ru) => {
            format!("ГИС МТ онлайн{}", v.host.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())
        }
        (kkt::checker::Source::Lm, Lang::En) => "Local Module".to_string(),
        (kkt::checker::Source::Lm, Lang::Ru) => "локальный модуль".to_string(),
        (kkt::checker::Source::Tspiot, Lang::En) => "ГИС МТ through the ТС ПИОТ".to_string(),
        (kkt::checker::Source::Tspiot, Lang::Ru) => "ГИС МТ через ТС ПИОТ".to_string(),
        (kkt::checker::Source::TspiotLm, Lang::En) => "Local Module through the ТС ПИОТ".to_string(),
        (kkt::checker::Source::TspiotLm, Lang::Ru) => "локальный модуль через ТС ПИОТ".to_string(),
        (kkt::checker::Source::None, Lang::En) => "no check answer".to_string(),
        (kkt::checker::Source::None, Lang::Ru) => "проверка не выполнялась".to_string(),
        (other, _) => format!("{other:?}"),
    };
    println!(
        "  {}: {source}{}",
        t("source"),
        if v.emergency { format!(", {}", t("emergency")) } else { String::new() }
    );
    if let Some(t) = &v.tag1265 {
        println!("  tag 1265: {t}");
    }
    if let Some(c) = &v.confirmation {
        println!("  {}: {c}", t("confirmation"));
    }
}

fn check(a: &CheckArgs, json: bool, device: Option<&str>, cfg: &super::config::Config) -> u8 {
    let codes = match parse_codes(&a.codes, json) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let price = match a.price.as_deref().map(parse_rub).transpose() {
        Ok(p) => p,
        Err(e) => return input_error(json, &e),
    };
    if let Some(inn) = &a.inn {
        if let Err(e) = check_inn("--inn", inn) {
            return input_error(json, &e);
        }
    }
    let checker = match checker(&a.checker, cfg, Purpose { no_online: a.no_online }) {
        Ok(c) => c,
        Err(e) => return input_error(json, &e),
    };
    // With a register: its own check of each code (0x91, 0x92; the result is then deleted with
    // 0x94, nothing is sold), its FN serial (fiscalDriveNumber) and its registration INN.
    let register = match device {
        Some(d) => {
            let queries: Vec<crate::views::MarkQuery> = codes
                .iter()
                .map(|c| crate::views::MarkQuery {
                    code: c.as_str().to_string(),
                    planned_status: a.status,
                    quantity: kkt::protocol::Decimal::integer(1),
                    measure: kkt::receipt::Measure::PIECE,
                    fraction: None,
                })
                .collect();
            match kkt::Kkt::connect(d).and_then(|mut k| crate::views::register_checks(&mut k, &queries)) {
                Ok(r) => Some(r),
                Err(e) => return super::device::Failure::from(e).report(json),
            }
        }
        None => None,
    };
    if let Some(r) = &register {
        checker.set_register(r.fn_number.clone(), r.serial.clone());
        checker.set_register_inn(r.inn.clone());
    }
    let items: Vec<CheckItem> =
        codes.into_iter().map(|code| CheckItem { code, price_kopecks: price, partial_sale: a.partial }).collect();
    let facts = register.as_ref().map(|r| r.facts()).unwrap_or_default();
    let verdicts = match checker.receipt_for(a.inn.as_deref()) {
        Ok(mut rc) => rc.check_with(&items, &facts),
        Err(e) => return input_error(json, &e.to_string()),
    };
    checker.wait_background();
    let lang = lang();
    for (i, v) in verdicts.iter().enumerate() {
        let reg = register.as_ref().and_then(|r| r.checks.get(i));
        if json {
            println!("{}", crate::views::verdict_json(v, reg));
        } else {
            print_verdict(v, lang);
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

fn print_register_check(c: &serde_json::Value) {
    let e = &c["register_error"];
    if e.is_object() {
        println!(
            "  register: REFUSED the code: error 0x{:02X} {} ({})",
            e["code"].as_u64().unwrap_or(0),
            e["en"].as_str().unwrap_or(""),
            e["ru"].as_str().unwrap_or("")
        );
        return;
    }
    let r = &c["register"];
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
    kkt::checker::rules::fmt_time(ms)
}

/// The default entity's ГИС МТ client, or one without a token (discovery then says so).
fn gismt_client(o: &OnlineArgs, sign: &SignArgs, cfg: &super::config::Config) -> Result<Arc<GisMt>, String> {
    if let Some(g) = gismt_for(o, sign, cfg, None)? {
        return Ok(g);
    }
    let mut c = GisMtConfig::new(o.gismt_url.clone(), None, cache_dir(o.cache_dir.as_ref()));
    c.ca_file.clone_from(&o.gismt_ca_file);
    GisMt::new(c).map(Arc::new).map_err(|e| e.to_string())
}

fn emergency(cmd: &EmergencyCmd, json: bool) -> u8 {
    let dir = match cmd {
        EmergencyCmd::On { cache_dir } | EmergencyCmd::Off { cache_dir, .. } | EmergencyCmd::Status { cache_dir } => {
            self::cache_dir(cache_dir.as_ref())
        }
    };
    let file = kkt::checker::emergency::EmergencyFile::in_dir(&dir);
    let now = gismt::now_ms();
    let r = match cmd {
        EmergencyCmd::On { .. } => file.update(|l| l.declare(now)),
        EmergencyCmd::Off { now: at_once, .. } => file.update(|l| l.end(now, *at_once)),
        EmergencyCmd::Status { .. } => Ok(file.load()),
    };
    let latch = match r {
        Ok(l) => l,
        Err(e) => return input_error(json, &format!("the emergency latch {}: {e}", file.path().display())),
    };
    let st = latch.status(now);
    if matches!(cmd, EmergencyCmd::On { .. } | EmergencyCmd::Off { .. }) {
        tracing::warn!(target: "kkt::mark", emergency = st.emergency, "emergency set by hand");
    }
    if json {
        println!("{}", serde_json::to_string(&st).expect("serializable"));
    } else if st.emergency {
        let cause = match st.cause {
            Some(kkt::checker::emergency::Cause::Manual) => "declared by hand (kkt mark emergency on)".to_string(),
            _ => format!(
                "ГИС МТ answered 203 ({}, {})",
                st.last_203.as_deref().unwrap_or("-"),
                st.last_203_from.as_deref().unwrap_or("-")
            ),
        };
        println!("emergency: checks are OFF since {}", st.since.as_deref().unwrap_or("-"));
        println!("  until:  {}", st.until.as_deref().unwrap_or("`kkt mark emergency off`, then 3 days"));
        println!("  cause:  {cause}");
        println!("  rules that need no ГИС МТ still apply: the MRP in the code, repeats in the receipt, the store");
    } else {
        println!("no emergency: checks are on");
    }
    exit::OK
}

/// The sign command and token file of the entity `inn` (None: the default one).
fn entity_cfg<'a>(
    cfg: &'a super::config::Config,
    inn: Option<&str>,
) -> Result<Option<&'a super::config::Entity>, String> {
    let Some(inn) = inn else { return Ok(None) };
    check_inn("--inn", inn)?;
    let m = cfg.marking.as_ref();
    if m.and_then(|m| m.inn.as_deref()) == Some(inn) {
        return Ok(None);
    }
    m.and_then(|m| m.entity.iter().find(|e| e.inn == inn))
        .map(Some)
        .ok_or_else(|| format!("--inn {inn}: no [[marking.entity]] with this INN in the config"))
}

fn token_get(
    inn: Option<&str>,
    sign: &SignArgs,
    cache: Option<&PathBuf>,
    json: bool,
    cfg: &super::config::Config,
) -> u8 {
    let entity = match entity_cfg(cfg, inn) {
        Ok(e) => e,
        Err(e) => return input_error(json, &e),
    };
    let command = match entity {
        Some(e) => e.sign_command.clone(),
        None => sign.sign_command.clone().or(marking_cfg(cfg).sign_command),
    };
    let Some(command) = command.filter(|c| !c.trim().is_empty()) else {
        return input_error(
            json,
            "no sign command: give --sign-command 'CMD' ($KKT_SIGN_COMMAND, `[marking] sign_command`), a command that \
             signs its stdin with the УКЭП and prints the Base64 signature",
        );
    };
    let online = OnlineArgs {
        gismt_url: gismt::DEFAULT_URL.into(),
        gismt_token_file: None,
        cache_dir: cache.cloned(),
        gismt_ca_file: std::env::var_os("KKT_GISMT_CA_FILE").map(PathBuf::from),
        fn_serial: None,
    };
    let inn = inn.map(str::to_string).or_else(|| entity.is_none().then(|| marking_cfg(cfg).inn).flatten());
    let s = match signer(&command, sign, &online, cfg, inn.as_deref()) {
        Ok(s) => s,
        Err(e) => return input_error(json, &e),
    };
    match s.obtain() {
        Ok(t) => {
            let left = (t.expires_at_ms - gismt::now_ms()) / 1000;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"token": "obtained", "expires_at_ms": t.expires_at_ms, "seconds_left": left,
                                       "auth_url": t.auth_url, "inn": t.inn, "file": s.path()})
                );
            } else {
                println!(
                    "ГИС МТ token obtained from {} (valid {} s, until {})",
                    t.auth_url,
                    left,
                    fmt_ms(t.expires_at_ms)
                );
                println!("kept in {} (mode 0600); the checker renews it before it expires", s.path().display());
            }
            exit::OK
        }
        Err(e) => {
            let (kind, code) = match e {
                token::TokenError::Http { .. } => ("link", exit::LINK),
                _ => ("input", exit::INPUT),
            };
            print_error(json, kind, None, &e.to_string(), "check the sign command alone: echo test | CMD");
            code
        }
    }
}

fn token_status(
    inn: Option<&str>,
    sign: &SignArgs,
    online: &OnlineArgs,
    json: bool,
    cfg: &super::config::Config,
) -> u8 {
    let entity = match entity_cfg(cfg, inn) {
        Ok(e) => e,
        Err(e) => return input_error(json, &e),
    };
    let m = marking_cfg(cfg);
    let command = match entity {
        Some(e) => e.sign_command.clone(),
        None => sign.sign_command.clone().or(m.sign_command.clone()),
    };
    let file_inn = inn.map(str::to_string).or_else(|| entity.is_none().then(|| m.inn.clone()).flatten());
    let now = gismt::now_ms();
    let path = token::token_file(&cache_dir(online.cache_dir.as_ref()), file_inn.as_deref());
    let stored = token::load(&path);
    let (source, expires) = match (&command, &stored) {
        (Some(_), Some(t)) => ("sign_command", Some(t.expires_at_ms)),
        (Some(_), None) => ("sign_command", None),
        (None, _) => {
            let file = match entity {
                Some(e) => e.token_file.clone(),
                None => online.gismt_token_file.clone().or(m.token_file.clone()),
            };
            if entity.is_none() && std::env::var("KKT_GISMT_TOKEN").is_ok_and(|t| !t.trim().is_empty()) {
                ("env", None)
            } else if file.is_some() {
                ("file", None)
            } else {
                ("none", None)
            }
        }
    };
    let left = expires.map(|e| (e - now) / 1000);
    if json {
        println!(
            "{}",
            serde_json::json!({"source": source, "expires_at_ms": expires, "seconds_left": left,
                               "valid": left.map(|l| l > 0), "file": (source == "sign_command").then_some(&path),
                               "inn": file_inn})
        );
    } else {
        match (source, left) {
            ("sign_command", Some(l)) if l > 0 => {
                println!("ГИС МТ token from the sign command: {l} s left (until {})", fmt_ms(expires.unwrap_or(0)))
            }
            ("sign_command", Some(_)) => {
                println!("ГИС МТ token from the sign command: EXPIRED (the next check renews it)")
            }
            ("sign_command", None) => {
                println!("no token obtained yet: `kkt mark token get` (or the next check) signs for one")
            }
            ("env", _) => {
                println!("ГИС МТ token from $KKT_GISMT_TOKEN: its expiry is not known (kkt mark token check)")
            }
            ("file", _) => println!("ГИС МТ token from a file: its expiry is not known (kkt mark token check)"),
            _ => println!("no ГИС МТ token configured: give --sign-command (README: the ГИС МТ token)"),
        }
    }
    if source == "none" {
        exit::INPUT
    } else {
        exit::OK
    }
}

fn token_check(o: &OnlineArgs, sign: &SignArgs, json: bool, cfg: &super::config::Config) -> u8 {
    let g = match gismt_client(o, sign, cfg) {
        Ok(g) => g,
        Err(e) => return input_error(json, &e),
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
            print_error(json, "input", None, &e.to_string(), "get the token for this contour (kkt mark token get)");
            exit::INPUT
        }
    }
}

fn store_of(s: &StoreArgs, cfg: &super::config::Config) -> Result<Box<dyn store::SoldCodes>, String> {
    let loc = s.store.clone().or(marking_cfg(cfg).store);
    open_store(loc.as_deref(), &cache_dir(s.cache_dir.as_ref()))
}

fn record(
    state: RecordState,
    receipt: &str,
    inn: Option<&str>,
    codes: &[String],
    s: &StoreArgs,
    json: bool,
    cfg: &super::config::Config,
) -> u8 {
    let codes = match parse_codes(codes, json) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if let Some(i) = inn {
        if let Err(e) = check_inn("--inn", i) {
            return input_error(json, &e);
        }
    }
    let inn = inn.map(str::to_string).or(marking_cfg(cfg).inn).unwrap_or_default();
    let mut st = match store_of(s, cfg) {
        Ok(st) => st,
        Err(e) => return input_error(json, &e),
    };
    let state = match state {
        RecordState::Sold => CodeState::Sold,
        RecordState::Returned => CodeState::Returned,
    };
    let at = gismt::now_ms();
    for c in &codes {
        if let Err(e) = st.record(&inn, &c.print_view(), c.as_str(), state, receipt, at) {
            return input_error(json, &e.to_string());
        }
    }
    if json {
        println!("{}", serde_json::json!({"recorded": codes.len(), "state": state, "receipt": receipt, "inn": inn}));
    } else {
        println!("{} code(s) recorded as {state:?} in receipt {receipt}", codes.len());
    }
    exit::OK
}

fn print_check_row(c: &store::CheckRecord) {
    let reasons: Vec<String> = c
        .reasons
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| format!("[{}]", r["field"].as_str().unwrap_or("")))
        .collect();
    println!(
        "{}  {:<7} {:<9} {}{}{}{}",
        fmt_ms(c.at_ms),
        c.action,
        c.source,
        c.print_view,
        if c.inn.is_empty() { String::new() } else { format!("  INN {}", c.inn) },
        if reasons.is_empty() { String::new() } else { format!("  {}", reasons.join(" ")) },
        match (&c.receipt, &c.req_id) {
            (Some(r), _) => format!("  sold in {r}"),
            (None, Some(id)) => format!("  reqId {id}"),
            _ => String::new(),
        }
    );
}

fn history(code: &str, s: &StoreArgs, json: bool, cfg: &super::config::Config) -> u8 {
    let c = match MarkingCode::parse(code) {
        Ok(c) => c,
        Err(e) => return input_error(json, &e.to_string()),
    };
    let r = store_of(s, cfg).and_then(|mut st| {
        let events = st.history(&c.print_view()).map_err(|e| e.to_string())?;
        let checks = st.checks(0, Some(&c.print_view()), 10_000).map_err(|e| e.to_string())?;
        Ok((events, checks))
    });
    match r {
        Ok((events, checks)) => {
            if json {
                println!("{}", serde_json::json!({"print_view": c.print_view(), "events": events, "checks": checks}));
            } else {
                if events.is_empty() {
                    println!("{}: never sold here", c.print_view());
                } else {
                    println!("{}: sales and returns", c.print_view());
                    for r in events {
                        let inn = if r.inn.is_empty() { String::new() } else { format!("  INN {}", r.inn) };
                        println!("  {}  {:?}  {}{inn}", fmt_ms(r.at_ms), r.state, r.receipt);
                    }
                }
                if !checks.is_empty() {
                    println!("checks:");
                    for ch in &checks {
                        print!("  ");
                        print_check_row(ch);
                    }
                }
            }
            exit::OK
        }
        Err(e) => input_error(json, &e),
    }
}

/// A date (local midnight) or a local date and time, as Unix ms.
pub fn parse_since(s: &str) -> Result<i64, String> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone};
    let t = s.trim();
    let naive = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).expect("midnight")))
        .map_err(|_| format!("--since {s:?}: give a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM"))?;
    chrono::Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|d| d.timestamp_millis())
        .ok_or_else(|| format!("--since {s:?}: no such local time"))
}

fn checks(since: &str, limit: usize, s: &StoreArgs, json: bool, cfg: &super::config::Config) -> u8 {
    let since_ms = match parse_since(since) {
        Ok(t) => t,
        Err(e) => return input_error(json, &e),
    };
    let r = store_of(s, cfg).and_then(|mut st| st.checks(since_ms, None, limit.max(1)).map_err(|e| e.to_string()));
    match r {
        Ok(rows) => {
            if json {
                println!("{}", serde_json::json!({"since_ms": since_ms, "checks": rows}));
            } else if rows.is_empty() {
                println!("no checks since {}", fmt_ms(since_ms));
            } else {
                for c in &rows {
                    print_check_row(c);
                }
            }
            exit::OK
        }
        Err(e) => input_error(json, &e),
    }
}

fn cdn(o: &OnlineArgs, sign: &SignArgs, refresh: bool, json: bool, cfg: &super::config::Config) -> u8 {
    let g = match gismt_client(o, sign, cfg) {
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
            "emergency": g.emergency().load().status(now),
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
    let latch = g.emergency().load();
    if latch.active(now) {
        println!("checks are off: {} (kkt mark emergency status)", latch.note(now));
    }
    exit::OK
}

/// The register's FN serial and serial number.
type RegisterIds = (Option<String>, Option<String>);

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
