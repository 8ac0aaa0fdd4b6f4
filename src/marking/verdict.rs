//! What a check of marked goods comes to, shared by the driver (a sale: [`crate::driver::MarkChecker`])
//! and the online checker that produces it (`crate::checker`): the item to check, the
//! [`Verdict`] with its reasons, the [`Decision`] on 0x94/0x97, and the store's [`CodeState`].
//! Plain data: no I/O, no HTTP.

use serde::{Deserialize, Serialize};

use super::model::CodeInfo;
use super::tag1260;
use super::texts::{self, Text};
use super::MarkingCode;

/// One marked item to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckItem {
    /// The scanned code.
    pub code: MarkingCode,
    /// The selling price per unit after discounts, kopecks.
    pub price_kopecks: Option<u64>,
    /// Sold partly (draught beer, part of a package).
    pub partial_sale: bool,
}

impl CheckItem {
    /// An item with no price and not partial.
    pub fn new(code: MarkingCode) -> CheckItem {
        CheckItem { code, price_kopecks: None, partial_sale: false }
    }
}

/// What to do when a rule bans a sale: the store's «запрет при ошибках проверки» switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strictness {
    /// Refuse the item on any ban or check error.
    #[default]
    Deny,
    /// Return the reasons for the cashier to confirm or refuse.
    Ask,
}

/// Where the facts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// ГИС МТ `/codes/check`.
    Online,
    /// The Local Module (ЛМ ЧЗ), asked directly.
    Lm,
    /// No check answer.
    None,
    /// ГИС МТ through the store's ТС ПИОТ.
    Tspiot,
    /// The Local Module through the ТС ПИОТ (`isCheckedOffline`).
    TspiotLm,
}

/// Which rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// §4.1: not found in ГИС МТ.
    NotFound,
    /// §4.1: emitted but not applied.
    NotUtilised,
    /// §4.2: the structure is not valid.
    InvalidStructure,
    /// §4.2: the crypto check failed.
    NotVerified,
    /// §4.3: withdrawn from circulation.
    Sold,
    /// §4.4: blocked by an authority.
    Blocked,
    /// §4.5: not in circulation.
    NotRealizable,
    /// §4.6: expired.
    Expired,
    /// §4.7: the selling price differs from the MRP.
    PriceNotMrp,
    /// The MRP in the code differs from the service's.
    MrpMismatch,
    /// §6.3: the MRP is below the single minimum price.
    BelowMinimumPrice,
    /// §6.1: the code is already in this receipt.
    DuplicateInReceipt,
    /// §6.2: this store already sold the code.
    SoldByThisStore,
    /// The answer's `errorCode` (1–11, seed 003 §1.5) says what is wrong with the code.
    ErrorCode,
    /// The check failed: the store's switch decides.
    CheckFailed,
    /// No check answered and the store requires one (`--mark-check required`): refused whatever
    /// the strictness.
    CheckRequired,
    /// The register's FN found the crypto tail wrong (tag 2106 bit 1).
    DeviceCryptoNegative,
    /// The OISM said the planned status is wrong (tag 2106 bit 3).
    DeviceStatusIncorrect,
    /// The register refused the code outright (an error to 0x91 or 0x92): it cannot be sold,
    /// whatever the strictness.
    DeviceRefused,
}

impl Rule {
    /// The rule's stable code, as JSON spells it (`not_found`, `error_code`, …).
    pub fn code(&self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }
}

/// One reason against the sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The field that caused it (`found`, `sold`, `isBlocked`, `expireDate`, `price`, …).
    pub field: String,
    /// The rule: a stable code (`not_found`, `sold`, `error_code`, …).
    pub rule: Rule,
    /// In English.
    pub message: String,
    /// In Russian: what a POS shows the cashier.
    pub message_ru: String,
}

impl Reason {
    /// A reason with its texts ([`super::texts`]).
    pub fn new(field: impl Into<String>, rule: Rule, text: Text) -> Self {
        Reason { field: field.into(), rule, message: text.en, message_ru: text.ru }
    }

    /// The reason's key for a confirmation: the rule and the field (`sold:sold`).
    pub fn key(&self) -> String {
        format!("{}:{}", self.rule.code(), self.field)
    }

    /// The message in `lang`.
    pub fn text(&self, lang: texts::Lang) -> &str {
        match lang {
            texts::Lang::En => &self.message,
            texts::Lang::Ru => &self.message_ru,
        }
    }
}

/// What to do with the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Sell it.
    Sell,
    /// Refuse it.
    Refuse,
    /// Ask the cashier (the reasons say why).
    Ask,
}

/// The answer for one code: sell, refuse or ask, with every reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The code (GS as U+001D; JSON shows it as `\u001d`).
    pub code: String,
    /// The code without its crypto part.
    pub print_view: String,
    /// True when the item may be sold without asking.
    pub allowed: bool,
    /// Sell, refuse or ask.
    pub action: Action,
    /// Every reason against the sale, naming its field.
    pub reasons: Vec<Reason>,
    /// Facts for the cashier and the log that are not reasons (no answer, gray zone, …).
    pub notes: Vec<String>,
    /// Where the facts came from.
    pub source: Source,
    /// ГИС МТ declared an emergency (HTTP 203): checks are off.
    pub emergency: bool,
    /// `reqId` of the answer.
    pub req_id: Option<String>,
    /// `reqTimestamp` of the answer, Unix ms.
    pub req_timestamp: Option<i64>,
    /// The tag 1265 value for the item (absent when no check answered).
    pub tag1265: Option<String>,
    /// The CDN host that answered.
    pub host: Option<String>,
    /// The answer's entry for this code.
    pub info: Option<CodeInfo>,
    /// The legal entity (INN) the code was checked for, when known.
    #[serde(default)]
    pub inn: Option<String>,
    /// With `action: ask`, the token by which the cashier's acceptance of exactly these reasons
    /// for this code is given back (a receipt item's `mark_confirmation`), valid 10 minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<String>,
    /// This verdict's row in the store's `checks` table (the evidence trail), when kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_id: Option<i64>,
}

impl Verdict {
    /// The complete 1260 TLV for the item (None when no check answered).
    pub fn tag1260(&self) -> Option<Vec<u8>> {
        self.tag1265.as_deref().and_then(|v| tag1260::build(v).ok())
    }

    /// Re-computes `action`/`allowed` after reasons were added.
    pub fn settle(&mut self, strictness: Strictness) {
        self.action = if self.reasons.is_empty() {
            Action::Sell
        } else if self.reasons.iter().any(|r| matches!(r.rule, Rule::DeviceRefused | Rule::CheckRequired)) {
            Action::Refuse
        } else {
            match strictness {
                Strictness::Deny => Action::Refuse,
                Strictness::Ask => Action::Ask,
            }
        };
        self.allowed = self.action == Action::Sell;
    }
}

/// The 0x94 flag: save the current code's check result.
pub const SAVE: u8 = 1;
/// The 0x94 flag: delete it.
pub const DELETE: u8 = 0;

/// What the sale does with the item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// 0x94 with flag 1, then 0x97 carrying `tag1260` (absent when no check answered).
    Sell {
        /// The complete 1260 TLV.
        #[serde(serialize_with = "hex_opt")]
        tag1260: Option<Vec<u8>>,
        /// Notes worth logging (no answer, emergency, gray zone, …).
        notes: Vec<String>,
    },
    /// 0x94 with flag 0; the item is not added.
    Refuse {
        /// Why.
        reasons: Vec<Reason>,
    },
    /// Waiting for the cashier: [`Decision::confirm`] turns it into `Sell` or `Refuse`.
    Ask {
        /// What the cashier must accept.
        reasons: Vec<Reason>,
        /// The 1260 TLV used when the cashier accepts.
        #[serde(serialize_with = "hex_opt")]
        tag1260: Option<Vec<u8>>,
        /// Notes.
        notes: Vec<String>,
    },
}

fn hex_opt<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_some(&hex::encode_upper(b)),
        None => s.serialize_none(),
    }
}

impl Decision {
    /// The 0x94 flag to send now (None while the cashier is asked).
    pub fn flag_0x94(&self) -> Option<u8> {
        match self {
            Decision::Sell { .. } => Some(SAVE),
            Decision::Refuse { .. } => Some(DELETE),
            Decision::Ask { .. } => None,
        }
    }

    /// The cashier's answer to an `Ask`: accepted → `Sell`, declined → `Refuse`.
    /// A decision that is not `Ask` is returned unchanged.
    pub fn confirm(self, accepted: bool) -> Decision {
        match self {
            Decision::Ask { reasons, tag1260, mut notes } => {
                if accepted {
                    notes.extend(reasons.iter().map(|r| format!("accepted by the cashier: {}", r.message)));
                    Decision::Sell { tag1260, notes }
                } else {
                    Decision::Refuse { reasons }
                }
            }
            other => other,
        }
    }
}

/// Sold or returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CodeState {
    /// Sold (a re-sale is refused).
    Sold,
    /// Returned by a refund (may be sold again).
    Returned,
}

impl CodeState {
    /// As the store writes it: `sold`, `returned`.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeState::Sold => "sold",
            CodeState::Returned => "returned",
        }
    }
}
