//! The named values of the protocol's enumerations and bit masks, each declared once.
//!
//! `wire_enum!` declares a newtype over the integer the register sends, the way rustls's
//! `enum_builder!` and h2's `Reason` do: a named constant per documented value, and room for
//! any other value, which is kept as it came (decoding never fails on an unknown byte) and
//! prints in hex (`0x63`). Each known value carries, written once beside its code, its JSON name
//! (the receipt JSON, the HTTP service, `kkt` options), a Russian and an English text (the
//! CLI, `kkt decode`). `wire_flags!` does the same for bit masks.
//!
//! On the wire and in the JSON of the typed commands (`kkt decode --json`, `kkt --json
//! status`) a value is its number; the people's JSON (a [`crate::receipt::Receipt`], the HTTP
//! service) names it through [`by_name`].
//!
//! ```
//! use kkt::protocol::values::Vat;
//! assert_eq!(Vat::VAT10.code(), 2);
//! assert_eq!(Vat::from(2), Vat::VAT10);
//! assert_eq!((Vat::VAT10.name(), Vat::VAT10.text_ru()), (Some("vat10"), Some("НДС 10%")));
//! let odd = Vat::from(0x63);
//! assert!(!odd.is_known());
//! assert_eq!((odd.to_string(), format!("{odd:?}")), ("0x63".to_string(), "Vat(0x63)".to_string()));
//! ```

use std::fmt;

/// What `wire_enum!` gives every enumeration: what [`by_name`] and the checks need.
pub trait WireEnum: Copy + Eq + fmt::Display + 'static {
    /// The known values, in the order of the declaration.
    const ALL: &'static [Self];
    /// The JSON names of [`Self::ALL`], in the same order.
    const NAMES: &'static [&'static str];
    /// The value on the wire, widened.
    fn wire(self) -> u32;
    /// The JSON name of a known value.
    fn json_name(self) -> Option<&'static str>;
    /// The value with this JSON name.
    fn from_json_name(name: &str) -> Option<Self>;
    /// Whether the declaration names this value.
    fn known(self) -> bool {
        Self::ALL.contains(&self)
    }
}

/// A name that is not one of an enumeration's JSON names (`"kilo"` for a [`Measure`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not one of {allowed}")]
pub struct UnknownName {
    /// The name given.
    pub value: String,
    /// The names allowed, comma-separated.
    pub allowed: String,
}

/// What `wire_flags!` gives every bit mask: its bits by JSON name (for [`by_names`]).
pub trait WireFlags: Copy + Sized + 'static {
    /// The JSON names of the documented bits set, in the order of the declaration.
    fn names(self) -> Vec<&'static str>;
    /// The mask with the bits of these names; a name that is not one of them is an error.
    fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, UnknownName>;
    /// The set bits that the declaration does not name.
    fn undefined_bits(self) -> u64;
    /// Every bit's JSON name, in the order of the declaration.
    fn all_names() -> Vec<&'static str>;
}

/// Serde by JSON names for a bit mask (`#[serde(with = "by_names")]`): a list of the set bits'
/// names, `["osn", "patent"]`; a name that is not one of the declaration's is an error listing
/// them. A mask with undefined bits cannot be written by name (an error).
pub mod by_names {
    use serde::{de::Error as _, ser::Error as _, Deserialize, Deserializer, Serializer};

    use super::WireFlags;

    /// Writes the names of the set bits.
    pub fn serialize<T: WireFlags, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        if v.undefined_bits() != 0 {
            return Err(S::Error::custom(format!("bits {:#x} have no name", v.undefined_bits())));
        }
        s.collect_seq(v.names())
    }

    /// Reads a list of names.
    pub fn deserialize<'de, T: WireFlags, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        T::from_names(&names)
            .map_err(|e| D::Error::custom(format!("unknown name {}, expected one of {}", e.value, e.allowed)))
    }

    /// The same for an `Option` (`#[serde(default, with = "by_names::option")]`).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        use super::super::WireFlags;

        /// Writes the names, or `null`.
        pub fn serialize<T: WireFlags, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        /// Reads a list of names or `null`.
        pub fn deserialize<'de, T: WireFlags, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
            #[derive(Deserialize)]
            #[serde(bound = "T: WireFlags")]
            struct Named<T: WireFlags>(#[serde(with = "super")] T);
            Ok(Option::<Named<T>>::deserialize(d)?.map(|n| n.0))
        }
    }
}

/// Declares an enumeration of the protocol once: a newtype over the wire integer with a named
/// constant for each known value, its JSON name and its Russian and English texts.
///
/// ```ignore
/// wire_enum! {
///     /// Tag 1054 «признак расчета».
///     pub struct Operation(u8);
///     /// Приход.
///     SELL = 1 => "sell", "Приход", "sale";
/// }
/// ```
///
/// The type is `Copy`, compares with its integer, converts both ways with `From`, serializes as
/// its number; `Display` prints the JSON name of a known value and the hex of another, `Debug`
/// `Operation::SELL` or `Operation(0x09)`, `FromStr` reads a JSON name.
macro_rules! wire_enum {
    (
        $(#[$m:meta])*
        $vis:vis struct $name:ident($repr:ty);
        $(
            $(#[$vm:meta])*
            $konst:ident = $code:literal => $json:literal, $ru:literal, $en:literal;
        )+
    ) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        #[repr(transparent)]
        $vis struct $name($repr);

        #[allow(missing_docs)]
        impl $name {
            $(
                $(#[$vm])*
                #[doc = concat!("\n\n`", stringify!($code), "`, JSON `\"", $json, "\"`: «", $ru, "», ", $en, ".")]
                pub const $konst: Self = Self($code);
            )+

            /// Every known value, in the order of the declaration.
            pub const ALL: &'static [Self] = &[$(Self::$konst),+];

            /// The JSON names of [`Self::ALL`], in the same order.
            pub const NAMES: &'static [&'static str] = &[$($json),+];

            /// The value with this code, known or not.
            pub const fn new(code: $repr) -> Self {
                Self(code)
            }

            /// The value on the wire.
            pub const fn code(self) -> $repr {
                self.0
            }

            /// Whether the declaration names this value.
            pub const fn is_known(self) -> bool {
                self.name().is_some()
            }

            /// The value with this code, if it is a known one.
            pub const fn known(code: $repr) -> Option<Self> {
                if Self(code).is_known() {
                    Some(Self(code))
                } else {
                    None
                }
            }

            /// The JSON name of a known value.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some($json),)+
                    _ => None,
                }
            }

            /// The Russian text of a known value.
            pub const fn text_ru(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some($ru),)+
                    _ => None,
                }
            }

            /// The English text of a known value.
            pub const fn text_en(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some($en),)+
                    _ => None,
                }
            }

            /// The known value with this JSON name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($json => Some(Self::$konst),)+
                    _ => None,
                }
            }

            const fn ident(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some(stringify!($konst)),)+
                    _ => None,
                }
            }
        }

        impl $crate::protocol::values::WireEnum for $name {
            const ALL: &'static [Self] = $name::ALL;
            const NAMES: &'static [&'static str] = $name::NAMES;
            fn wire(self) -> u32 {
                u32::from(self.0)
            }
            fn json_name(self) -> Option<&'static str> {
                self.name()
            }
            fn from_json_name(name: &str) -> Option<Self> {
                Self::from_name(name)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.ident() {
                    Some(i) => write!(f, "{}::{}", stringify!($name), i),
                    None => write!(f, "{}({:#0w$x})", stringify!($name), self.0, w = 2 + 2 * ::std::mem::size_of::<$repr>()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{:#0w$x}", self.0, w = 2 + 2 * ::std::mem::size_of::<$repr>()),
                }
            }
        }

        impl ::std::fmt::LowerHex for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::LowerHex::fmt(&self.0, f)
            }
        }

        impl ::std::fmt::UpperHex for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::UpperHex::fmt(&self.0, f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::protocol::values::UnknownName;
            /// A JSON name.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_name(s).ok_or_else(|| $crate::protocol::values::UnknownName {
                    value: s.to_string(),
                    allowed: Self::NAMES.join(", "),
                })
            }
        }

        impl From<$repr> for $name {
            fn from(code: $repr) -> Self {
                Self(code)
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> Self {
                v.0
            }
        }

        impl PartialEq<$repr> for $name {
            fn eq(&self, other: &$repr) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<$name> for $repr {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                ::serde::Serialize::serialize(&self.0, s)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$repr as ::serde::Deserialize>::deserialize(d).map(Self)
            }
        }
    };
}

/// Declares a bit mask of the protocol once: a newtype over the wire integer with a named
/// constant for each documented bit (by its number), its JSON name and its texts.
///
/// Undefined bits are kept as they came; [`Self::undefined`](TaxationSystems::undefined) names
/// them. `Display` joins the set bits' JSON names with `+` (hex for undefined ones), `Debug`
/// prints `TaxationSystems(GENERAL | PATENT)`.
macro_rules! wire_flags {
    (
        $(#[$m:meta])*
        $vis:vis struct $name:ident($repr:ty);
        $(
            $(#[$vm:meta])*
            $konst:ident = $bit:literal => $json:literal, $ru:literal, $en:literal;
        )+
    ) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        #[repr(transparent)]
        $vis struct $name($repr);

        #[allow(missing_docs)]
        impl $name {
            $(
                $(#[$vm])*
                #[doc = concat!("\n\nBit ", stringify!($bit), ", JSON `\"", $json, "\"`: «", $ru, "», ", $en, ".")]
                pub const $konst: Self = Self(1 << $bit);
            )+

            /// No bit set.
            pub const EMPTY: Self = Self(0);

            /// Every documented bit.
            pub const DEFINED: Self = Self(0 $(| (1 << $bit))+);

            /// The documented bits, one constant each, in the order of the declaration.
            pub const BITS: &'static [(Self, &'static str, &'static str, &'static str)] =
                &[$((Self::$konst, $json, $ru, $en)),+];

            /// The mask with these bits, defined or not.
            pub const fn new(bits: $repr) -> Self {
                Self(bits)
            }

            /// The mask on the wire.
            pub const fn bits(self) -> $repr {
                self.0
            }

            /// Whether no bit is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Whether every bit of `other` is set.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether a bit of `other` is set.
            pub const fn intersects(self, other: Self) -> bool {
                self.0 & other.0 != 0
            }

            /// The set bits that the declaration does not name.
            pub const fn undefined(self) -> $repr {
                self.0 & !Self::DEFINED.0
            }

            /// The set bits that `allowed` does not have (zero when the mask fits).
            pub const fn outside(self, allowed: Self) -> $repr {
                self.0 & !allowed.0
            }

            /// The English texts of the set documented bits.
            pub fn texts_en(self) -> Vec<&'static str> {
                Self::BITS.iter().filter(|b| self.contains(b.0)).map(|b| b.3).collect()
            }

            /// The Russian texts of the set documented bits.
            pub fn texts_ru(self) -> Vec<&'static str> {
                Self::BITS.iter().filter(|b| self.contains(b.0)).map(|b| b.2).collect()
            }
        }

        impl $crate::protocol::values::WireFlags for $name {
            fn names(self) -> Vec<&'static str> {
                $name::BITS.iter().filter(|b| self.contains(b.0)).map(|b| b.1).collect()
            }
            fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, $crate::protocol::values::UnknownName> {
                let mut v = Self::EMPTY;
                for n in names {
                    let n = n.as_ref();
                    match $name::BITS.iter().find(|b| b.1 == n) {
                        Some(b) => v |= b.0,
                        None => {
                            return Err($crate::protocol::values::UnknownName {
                                value: n.to_string(),
                                allowed: $name::BITS.iter().map(|b| b.1).collect::<Vec<_>>().join(", "),
                            })
                        }
                    }
                }
                Ok(v)
            }
            fn undefined_bits(self) -> u64 {
                u64::from(self.undefined())
            }
            fn all_names() -> Vec<&'static str> {
                $name::BITS.iter().map(|b| b.1).collect()
            }
        }

        impl ::std::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, o: Self) -> Self {
                Self(self.0 | o.0)
            }
        }

        impl ::std::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, o: Self) {
                self.0 |= o.0;
            }
        }

        impl ::std::ops::BitAnd for $name {
            type Output = Self;
            fn bitand(self, o: Self) -> Self {
                Self(self.0 & o.0)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let mut parts: Vec<String> = $name::BITS
                    .iter()
                    .zip([$(stringify!($konst)),+])
                    .filter(|(b, _)| self.contains(b.0))
                    .map(|(_, i)| i.to_string())
                    .collect();
                if self.undefined() != 0 {
                    parts.push(format!("{:#x}", self.undefined()));
                }
                write!(f, "{}({})", stringify!($name), parts.join(" | "))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let mut parts: Vec<String> =
                    $name::BITS.iter().filter(|b| self.contains(b.0)).map(|b| b.1.to_string()).collect();
                if self.undefined() != 0 {
                    parts.push(format!("{:#x}", self.undefined()));
                }
                if parts.is_empty() {
                    f.write_str("none")
                } else {
                    f.write_str(&parts.join("+"))
                }
            }
        }

        impl ::std::fmt::LowerHex for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::LowerHex::fmt(&self.0, f)
            }
        }

        impl From<$repr> for $name {
            fn from(bits: $repr) -> Self {
                Self(bits)
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> Self {
                v.0
            }
        }

        impl PartialEq<$repr> for $name {
            fn eq(&self, other: &$repr) -> bool {
                self.0 == *other
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                ::serde::Serialize::serialize(&self.0, s)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$repr as ::serde::Deserialize>::deserialize(d).map(Self)
            }
        }
    };
}

/// Serde by JSON name (`#[serde(with = "by_name")]`): a known value is its name; a name that
/// is not one of the declaration's is an error listing them (as serde's own enums do). A value
/// the declaration does not know serializes as its number.
pub mod by_name {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    use super::WireEnum;

    /// Writes the JSON name (an unknown value: its number).
    pub fn serialize<T: WireEnum, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        match v.json_name() {
            Some(n) => s.serialize_str(n),
            None => s.serialize_u32(v.wire()),
        }
    }

    /// Reads a JSON name.
    pub fn deserialize<'de, T: WireEnum, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        T::from_json_name(&s).ok_or_else(|| D::Error::unknown_variant(&s, T::NAMES))
    }

    /// The same for an `Option` (`#[serde(default, with = "by_name::option")]`).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        use super::super::WireEnum;

        /// Writes the JSON name, or `null`.
        pub fn serialize<T: WireEnum, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        /// Reads a JSON name or `null`.
        pub fn deserialize<'de, T: WireEnum, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
            #[derive(Deserialize)]
            #[serde(bound = "T: WireEnum")]
            struct Named<T: WireEnum>(#[serde(with = "super")] T);
            Ok(Option::<Named<T>>::deserialize(d)?.map(|n| n.0))
        }
    }
}

wire_enum! {
    /// Tag 1054 «признак расчета».
    pub struct Operation(u8);
    /// Приход.
    SELL = 1 => "sell", "Приход", "sale";
    /// Возврат прихода.
    SELL_RETURN = 2 => "sell_return", "Возврат прихода", "sale return";
    /// Расход.
    BUY = 3 => "buy", "Расход", "purchase";
    /// Возврат расхода.
    BUY_RETURN = 4 => "buy_return", "Возврат расхода", "purchase return";
}

wire_enum! {
    /// Tag 1055 «применяемая система налогообложения»: one system per receipt (ФФД 1.2; v01.05
    /// also had 8, ЕНВД, which is not declared here: see [`TaxationSystems::ENVD`]).
    pub struct Taxation(u8);
    /// Общая.
    OSN = 1 => "osn", "ОСН", "general";
    /// Упрощенная доход.
    USN_INCOME = 2 => "usn_income", "УСН доход", "simplified, income";
    /// Упрощенная доход минус расход.
    USN_INCOME_OUTCOME = 4 => "usn_income_outcome", "УСН доход минус расход", "simplified, income minus expense";
    /// Единый сельскохозяйственный налог.
    ESN = 16 => "esn", "ЕСХН", "agricultural tax";
    /// Патентная система.
    PATENT = 32 => "patent", "Патентная система", "patent";
}

wire_enum! {
    /// Tag 1199 «ставка НДС» (with the 2025 rates of Appendix 5).
    pub struct Vat(u8);
    /// 20%.
    VAT20 = 1 => "vat20", "НДС 20%", "VAT 20%";
    /// 10%.
    VAT10 = 2 => "vat10", "НДС 10%", "VAT 10%";
    /// 20/120.
    VAT120 = 3 => "vat120", "НДС 20/120", "VAT 20/120";
    /// 10/110.
    VAT110 = 4 => "vat110", "НДС 10/110", "VAT 10/110";
    /// 0%.
    VAT0 = 5 => "vat0", "НДС 0%", "VAT 0%";
    /// Not subject to VAT.
    NONE = 6 => "none", "Без НДС", "no VAT";
    /// 5%.
    VAT5 = 7 => "vat5", "НДС 5%", "VAT 5%";
    /// 7%.
    VAT7 = 8 => "vat7", "НДС 7%", "VAT 7%";
    /// 5/105.
    VAT105 = 9 => "vat105", "НДС 5/105", "VAT 5/105";
    /// 7/107.
    VAT107 = 10 => "vat107", "НДС 7/107", "VAT 7/107";
}

impl Vat {
    /// The rates of v01.05 (ФФД 1.05, Приложение 4): 1–6.
    pub const FFD105: &'static [Vat] = &[Vat::VAT20, Vat::VAT10, Vat::VAT120, Vat::VAT110, Vat::VAT0, Vat::NONE];
}

wire_enum! {
    /// Tag 1214 «признак способа расчета».
    pub struct PaymentMethod(u8);
    /// Полная предварительная оплата.
    FULL_PREPAYMENT = 1 => "full_prepayment", "Предоплата 100%", "full prepayment";
    /// Частичная предварительная оплата.
    PREPAYMENT = 2 => "prepayment", "Предоплата", "partial prepayment";
    /// Аванс.
    ADVANCE = 3 => "advance", "Аванс", "advance";
    /// Полный расчет.
    FULL_PAYMENT = 4 => "full_payment", "Полный расчет", "full payment";
    /// Частичный расчет и кредит.
    PARTIAL_PAYMENT = 5 => "partial_payment", "Частичный расчет и кредит", "partial payment and credit";
    /// Передача в кредит.
    CREDIT = 6 => "credit", "Передача в кредит", "credit";
    /// Оплата кредита.
    CREDIT_PAYMENT = 7 => "credit_payment", "Оплата кредита", "credit payment";
}

wire_enum! {
    /// Tag 1212 «признак предмета расчета» (the item type).
    pub struct PaymentObject(u8);
    /// Товар.
    COMMODITY = 1 => "commodity", "Товар", "commodity";
    /// Подакцизный товар.
    EXCISE = 2 => "excise", "Подакцизный товар", "excise goods";
    /// Работа.
    JOB = 3 => "job", "Работа", "work";
    /// Услуга.
    SERVICE = 4 => "service", "Услуга", "service";
    /// Ставка азартной игры.
    GAMBLING_BET = 5 => "gambling_bet", "Ставка азартной игры", "gambling bet";
    /// Выигрыш азартной игры.
    GAMBLING_PRIZE = 6 => "gambling_prize", "Выигрыш азартной игры", "gambling prize";
    /// Лотерейный билет.
    LOTTERY = 7 => "lottery", "Лотерейный билет", "lottery ticket";
    /// Выигрыш лотереи.
    LOTTERY_PRIZE = 8 => "lottery_prize", "Выигрыш лотереи", "lottery prize";
    /// Результаты интеллектуальной деятельности.
    INTELLECTUAL_ACTIVITY = 9 => "intellectual_activity", "Результаты интеллектуальной деятельности", "intellectual property";
    /// Платеж (аванс, задаток, предоплата, кредит).
    PAYMENT = 10 => "payment", "Платеж", "payment";
    /// Агентское вознаграждение.
    AGENT_COMMISSION = 11 => "agent_commission", "Агентское вознаграждение", "agent's commission";
    /// Взнос, пени, штраф, вознаграждение, бонус.
    FEE = 12 => "fee", "Выплата", "fee, penalty, bonus";
    /// Иной предмет расчета.
    OTHER = 13 => "other", "Иной предмет расчета", "other";
    /// Имущественное право.
    PROPERTY_RIGHT = 14 => "property_right", "Имущественное право", "property right";
    /// Внереализационный доход.
    NON_OPERATING_INCOME = 15 => "non_operating_income", "Внереализационный доход", "non-operating income";
    /// Суммы, уменьшающие налог.
    TAX_REDUCTION = 16 => "tax_reduction", "Иные платежи и взносы", "amounts reducing the tax";
    /// Торговый сбор.
    TRADE_FEE = 17 => "trade_fee", "Торговый сбор", "trade fee";
    /// Курортный сбор.
    RESORT_FEE = 18 => "resort_fee", "Туристический налог", "resort fee";
    /// Залог.
    PLEDGE = 19 => "pledge", "Залог", "pledge";
    /// Расходы, уменьшающие доход.
    INCOME_REDUCTION = 20 => "income_reduction", "Расход", "expenses reducing the income";
    /// Взносы ОПС ИП.
    PENSION_INSURANCE_IP = 21 => "pension_insurance_ip", "Взносы на ОПС ИП", "pension insurance, sole trader";
    /// Взносы ОПС.
    PENSION_INSURANCE = 22 => "pension_insurance", "Взносы на ОПС", "pension insurance";
    /// Взносы ОМС ИП.
    MEDICAL_INSURANCE_IP = 23 => "medical_insurance_ip", "Взносы на ОМС ИП", "medical insurance, sole trader";
    /// Взносы ОМС.
    MEDICAL_INSURANCE = 24 => "medical_insurance", "Взносы на ОМС", "medical insurance";
    /// Взносы ОСС.
    SOCIAL_INSURANCE = 25 => "social_insurance", "Взносы на ОСС", "social insurance";
    /// Расчеты казино.
    CASINO_PAYMENT = 26 => "casino_payment", "Платеж казино", "casino payment";
    /// Выдача денежных средств банковским платежным агентом.
    CASH_WITHDRAWAL = 27 => "cash_withdrawal", "Выдача денежных средств", "cash withdrawal by a bank agent";
    /// Подакцизный маркируемый товар без кода маркировки.
    MARKED_EXCISE_NO_CODE = 30 => "marked_excise_no_code", "АТНМ", "marked excise goods without a code";
    /// Подакцизный маркированный товар с кодом маркировки.
    MARKED_EXCISE = 31 => "marked_excise", "АТМ", "marked excise goods with a code";
    /// Маркируемый товар без кода маркировки.
    MARKED_COMMODITY_NO_CODE = 32 => "marked_commodity_no_code", "ТНМ", "marked goods without a code";
    /// Маркированный товар с кодом маркировки.
    MARKED_COMMODITY = 33 => "marked_commodity", "ТМ", "marked goods with a code";
}

impl PaymentObject {
    /// Goods that carry a marking code (sent with 0x97 after the check of Appendix 2).
    pub const fn needs_marking_code(self) -> bool {
        matches!(self, PaymentObject::MARKED_EXCISE | PaymentObject::MARKED_COMMODITY)
    }
}

wire_enum! {
    /// Tag 2003 «планируемый статус товара»; tag 2110 «присвоенный статус товара» takes the
    /// same values.
    pub struct PlannedStatus(u8);
    /// Штучный товар реализован.
    PIECE_SOLD = 1 => "piece_sold", "Штучный товар реализован", "piece sold";
    /// Мерный товар в стадии реализации.
    MEASURED_SOLD = 2 => "measured_sold", "Мерный товар в стадии реализации", "measured goods being sold";
    /// Штучный товар возвращен.
    PIECE_RETURNED = 3 => "piece_returned", "Штучный товар возвращен", "piece returned";
    /// Часть товара возвращена.
    MEASURED_RETURNED = 4 => "measured_returned", "Часть товара возвращена", "part of the goods returned";
    /// Статус не изменился.
    UNCHANGED = 255 => "unchanged", "Статус товара не изменился", "status unchanged";
}

wire_enum! {
    /// Tag 2100 «тип кода маркировки» (seed 004).
    pub struct CodeType(u8);
    /// Not identified (missing, unreadable or not recognised).
    UNRECOGNIZED = 0 => "unrecognized", "Не идентифицирован", "not identified";
    /// Short code (GTIN and serial, no crypto tail).
    SHORT = 1 => "short", "Короткий код", "short code (no crypto tail)";
    /// Crypto tail of 88 characters, checked in the FN.
    CRYPTO88 = 2 => "crypto88", "Код 88 символов, проверяемый в ФН", "crypto code of 88 characters, checked in the FN";
    /// Crypto tail of 44 characters, not checked in the FN.
    CRYPTO44_UNCHECKED = 3 => "crypto44_unchecked", "Код 44 символа, не проверяемый в ФН",
        "crypto code of 44 characters, not checked in the FN";
    /// Crypto tail of 44 characters, checked in the FN.
    CRYPTO44_CHECKED = 4 => "crypto44_checked", "Код 44 символа, проверяемый в ФН",
        "crypto code of 44 characters, checked in the FN";
    /// Crypto tail of 4 characters, not checked in the FN.
    CRYPTO4 = 5 => "crypto4", "Код 4 символа, не проверяемый в ФН", "crypto code of 4 characters, not checked in the FN";
}

wire_enum! {
    /// Tag 2108 «мера количества предмета расчета» (Таблица 3). The default is pieces.
    pub struct Measure(u8);
    /// Штуки, единицы.
    PIECE = 0 => "piece", "шт.", "pieces";
    /// Грамм.
    GRAM = 10 => "gram", "г", "gram";
    /// Килограмм.
    KILOGRAM = 11 => "kilogram", "кг", "kilogram";
    /// Тонна.
    TON = 12 => "ton", "т", "tonne";
    /// Сантиметр.
    CENTIMETER = 20 => "centimeter", "см", "centimetre";
    /// Дециметр.
    DECIMETER = 21 => "decimeter", "дм", "decimetre";
    /// Метр.
    METER = 22 => "meter", "м", "metre";
    /// Квадратный сантиметр.
    SQUARE_CENTIMETER = 30 => "square_centimeter", "кв. см", "square centimetre";
    /// Квадратный дециметр.
    SQUARE_DECIMETER = 31 => "square_decimeter", "кв. дм", "square decimetre";
    /// Квадратный метр.
    SQUARE_METER = 32 => "square_meter", "кв. м", "square metre";
    /// Миллилитр.
    MILLILITER = 40 => "milliliter", "мл", "millilitre";
    /// Литр.
    LITER = 41 => "liter", "л", "litre";
    /// Кубический метр.
    CUBIC_METER = 42 => "cubic_meter", "куб. м", "cubic metre";
    /// Киловатт-час.
    KILOWATT_HOUR = 50 => "kilowatt_hour", "кВт∙ч", "kilowatt-hour";
    /// Гигакалория.
    GIGACALORIE = 51 => "gigacalorie", "Гкал", "gigacalorie";
    /// Сутки.
    DAY = 70 => "day", "сутки", "day";
    /// Час.
    HOUR = 71 => "hour", "час", "hour";
    /// Минута.
    MINUTE = 72 => "minute", "мин", "minute";
    /// Секунда.
    SECOND = 73 => "second", "с", "second";
    /// Килобайт.
    KILOBYTE = 80 => "kilobyte", "Кбайт", "kilobyte";
    /// Мегабайт.
    MEGABYTE = 81 => "megabyte", "Мбайт", "megabyte";
    /// Гигабайт.
    GIGABYTE = 82 => "gigabyte", "Гбайт", "gigabyte";
    /// Терабайт.
    TERABYTE = 83 => "terabyte", "Тбайт", "terabyte";
    /// Иные случаи.
    OTHER = 255 => "other", "Иные единицы", "other";
}

wire_enum! {
    /// Tag 1222 «признак агента по предмету расчета» (one agent type; 0 = none), and the
    /// values of 0x2C's tag 1057.
    pub struct AgentType(u8);
    /// Not an agent.
    NONE = 0 => "none", "Нет", "none";
    /// Банковский платежный агент.
    BANK_PAYING_AGENT = 1 => "bank_paying_agent", "Банковский платежный агент", "bank payment agent";
    /// Банковский платежный субагент.
    BANK_PAYING_SUBAGENT = 2 => "bank_paying_subagent", "Банковский платежный субагент", "bank payment subagent";
    /// Платежный агент.
    PAYING_AGENT = 4 => "paying_agent", "Платежный агент", "payment agent";
    /// Платежный субагент.
    PAYING_SUBAGENT = 8 => "paying_subagent", "Платежный субагент", "payment subagent";
    /// Поверенный.
    ATTORNEY = 16 => "attorney", "Поверенный", "attorney";
    /// Комиссионер.
    COMMISSION_AGENT = 32 => "commission_agent", "Комиссионер", "commission agent";
    /// Иной агент.
    ANOTHER = 64 => "another", "Агент", "other agent";
}

wire_enum! {
    /// The FN's life phase of 0x01 and 0x08 (v01.05 Приложение 7: bit 0 set up, bit 1 fiscal
    /// mode, bit 2 post-fiscal, bit 3 archive read; the documented values are cumulative).
    pub struct LifePhase(u8);
    /// Настройка: no bit set, the FN as it leaves the factory (not yet ready for registration).
    FACTORY = 0x00 => "factory", "Настройка (ФН с завода)", "factory fresh (setup)";
    /// Готовность к фискализации.
    SETUP = 0x01 => "setup", "Готовность к фискализации", "ready for registration";
    /// Фискальный режим.
    FISCAL = 0x03 => "fiscal", "Фискальный режим", "fiscal mode";
    /// Постфискальный режим, идет передача ФД в ОФД.
    POST_FISCAL = 0x07 => "post_fiscal", "Постфискальный режим", "post-fiscal mode";
    /// Чтение данных из архива ФН.
    ARCHIVE = 0x0F => "archive", "Чтение данных из архива ФН", "reading the FN archive";
}

wire_enum! {
    /// The open document byte of 0x08 «Запрос статуса ФН».
    pub struct CurrentDocument(u8);
    /// Нет открытого документа.
    NONE = 0x00 => "none", "Нет открытого документа", "none open";
    /// Отчет о регистрации ККТ.
    REGISTRATION = 0x01 => "registration", "Отчет о регистрации ККТ", "registration report";
    /// Отчет об открытии смены.
    SHIFT_OPEN = 0x02 => "shift_open", "Отчет об открытии смены", "shift open report";
    /// Кассовый чек.
    RECEIPT = 0x04 => "receipt", "Кассовый чек", "receipt";
    /// Отчет о закрытии смены.
    SHIFT_CLOSE = 0x08 => "shift_close", "Отчет о закрытии смены", "shift close report";
    /// Отчет о закрытии фискального режима.
    FN_CLOSE = 0x10 => "fn_close", "Отчет о закрытии фискального режима", "FN close report";
    /// Отчет об изменении параметров регистрации в связи с заменой ФН.
    REREGISTRATION_FN = 0x12 => "reregistration_fn", "Отчет об изменении параметров регистрации (замена ФН)",
        "re-registration report";
    /// Отчет об изменении параметров регистрации.
    REREGISTRATION = 0x13 => "reregistration", "Отчет об изменении параметров регистрации", "re-registration report";
    /// Кассовый чек коррекции.
    CORRECTION = 0x14 => "correction", "Кассовый чек коррекции", "correction receipt";
    /// Отчет о текущем состоянии расчетов.
    SETTLEMENT = 0x17 => "settlement", "Отчет о текущем состоянии расчетов", "settlement report";
}

wire_flags! {
    /// Taxation systems, one bit each (tag 1062, the 0xE3/0x13 BYTE, 0x0A's answer).
    pub struct TaxationSystems(u8);
    /// Общая.
    GENERAL = 0 => "osn", "ОСН", "general";
    /// Упрощенная доход.
    USN_INCOME = 1 => "usn_income", "УСН доход", "simplified, income";
    /// Упрощенная доход минус расход.
    USN_INCOME_OUTCOME = 2 => "usn_income_outcome", "УСН доход минус расход", "simplified, income minus expense";
    /// Единый налог на вмененный доход (v01.05; gone from seed 004).
    ENVD = 3 => "envd", "ЕНВД", "imputed income tax";
    /// Единый сельскохозяйственный налог.
    ESN = 4 => "esn", "ЕСХН", "agricultural tax";
    /// Патентная система.
    PATENT = 5 => "patent", "Патентная система", "patent";
}

impl TaxationSystems {
    /// The systems of ФФД 1.2 (seed 004): every one but ЕНВД.
    pub const FFD12: Self =
        Self(Self::GENERAL.0 | Self::USN_INCOME.0 | Self::USN_INCOME_OUTCOME.0 | Self::ESN.0 | Self::PATENT.0);
}

wire_flags! {
    /// Tag 9999 «режим работы» (also 0x0A's operating modes).
    pub struct OperatingModes(u8);
    /// Шифрование.
    ENCRYPTION = 0 => "encryption", "Шифрование", "encryption";
    /// Автономный режим (no data transfer to the OFD).
    AUTONOMOUS = 1 => "autonomous", "Автономный режим", "autonomous";
    /// Автоматический режим (v01.05; seed 004 drops it).
    AUTOMATIC = 2 => "automatic", "Автоматический режим", "automatic";
    /// Применение в сфере услуг.
    SERVICES = 3 => "services", "Услуги", "services";
    /// Режим БСО (strict reporting forms); only with services.
    BSO = 4 => "bso", "Режим БСО", "strict reporting forms";
    /// Применение в сети Интернет; not with autonomous mode.
    INTERNET = 5 => "internet", "Интернет", "internet payments";
}

impl OperatingModes {
    /// The bits of ФФД 1.2 (seed 004): every one but the automatic mode.
    pub const FFD12: Self =
        Self(Self::ENCRYPTION.0 | Self::AUTONOMOUS.0 | Self::SERVICES.0 | Self::BSO.0 | Self::INTERNET.0);
}

wire_flags! {
    /// Tag 9998 «признаки условий применения ККТ».
    pub struct UsageConditions(u8);
    /// Подакцизные товары.
    EXCISE = 0 => "excise", "Подакцизные товары", "excise goods";
    /// Азартные игры.
    GAMBLING = 1 => "gambling", "Азартные игры", "gambling";
    /// Лотереи.
    LOTTERY = 2 => "lottery", "Лотереи", "lottery";
    /// Принтер в автомате.
    PRINTER_IN_AUTOMAT = 3 => "printer_in_automat", "Принтер в автомате", "printer in a vending machine";
    /// Маркированные товары.
    MARKING = 4 => "marking", "Маркированные товары", "marked goods";
    /// Ломбард.
    PAWNSHOP = 5 => "pawnshop", "Ломбард", "pawnshop";
    /// Страхование.
    INSURANCE = 6 => "insurance", "Страхование", "insurance";
}

wire_flags! {
    /// Tag 1205 «коды причин изменения сведений о ККТ» (seed 004, Приложение 1): a 32-bit mask,
    /// bits 0–14, 17–21 and 31. Seed 004 gives 0xE3's parameter as a BYTE, which cannot hold
    /// bits 8–31; kkt sends the tag's four bytes (UINT32 LE, as the tag table types 1205) and
    /// reads either width.
    pub struct ReregistrationReasons(u32);
    /// Замена фискального накопителя.
    FN_REPLACEMENT = 0 => "fn_replacement", "Замена ФН", "FN replaced";
    /// Замена оператора фискальных данных.
    OFD_CHANGE = 1 => "ofd_change", "Замена ОФД", "OFD changed";
    /// Изменение наименования пользователя ККТ.
    USER_NAME_CHANGE = 2 => "user_name_change", "Изменение наименования пользователя", "user name changed";
    /// Изменение адреса и (или) места установки (применения) ККТ.
    ADDRESS_CHANGE = 3 => "address_change", "Изменение адреса и (или) места установки", "address or place changed";
    /// Перевод ККТ из автономного режима в режим передачи данных.
    TO_ONLINE = 4 => "to_online", "Из автономного режима в режим передачи данных", "autonomous to online";
    /// Перевод ККТ из режима передачи данных в автономный режим.
    TO_AUTONOMOUS = 5 => "to_autonomous", "Из режима передачи данных в автономный", "online to autonomous";
    /// Изменение версии модели ККТ.
    MODEL_VERSION_CHANGE = 6 => "model_version_change", "Изменение версии модели ККТ", "register model version changed";
    /// Изменение перечня систем налогообложения.
    TAXATION_CHANGE = 7 => "taxation_change", "Изменение перечня систем налогообложения", "taxation systems changed";
    /// Изменение номера автоматического устройства для расчетов.
    AUTOMAT_NUMBER_CHANGE = 8 => "automat_number_change", "Изменение номера автоматического устройства",
        "vending machine number changed";
    /// Перевод ККТ из автоматического режима в неавтоматический (расчеты кассиром).
    TO_NON_AUTOMATIC = 9 => "to_non_automatic", "Из автоматического режима в неавтоматический",
        "automatic to non-automatic (a cashier)";
    /// Перевод ККТ из неавтоматического режима в автоматический.
    TO_AUTOMATIC = 10 => "to_automatic", "Из неавтоматического режима в автоматический", "non-automatic to automatic";
    /// Перевод ККТ в режим, позволяющий формировать БСО.
    TO_BSO = 11 => "to_bso", "В режим, позволяющий формировать БСО", "to a mode that forms BSO";
    /// Перевод ККТ в режим, не позволяющий формировать БСО.
    FROM_BSO = 12 => "from_bso", "В режим, не позволяющий формировать БСО", "to a mode that forms no BSO";
    /// Перевод ККТ из режима расчетов в сети Интернет в режим печати чеков и БСО.
    FROM_INTERNET = 13 => "from_internet", "Из режима расчетов в сети Интернет в режим печати",
        "internet payments to printing receipts";
    /// Перевод ККТ в режим расчетов в сети Интернет.
    TO_INTERNET = 14 => "to_internet", "В режим расчетов в сети Интернет", "printing receipts to internet payments";
    /// Перевод ККТ в режим, не позволяющий принимать ставки азартных игр.
    FROM_GAMBLING = 17 => "from_gambling", "В режим без азартных игр", "to a mode without gambling";
    /// Перевод ККТ в режим, позволяющий принимать ставки азартных игр.
    TO_GAMBLING = 18 => "to_gambling", "В режим азартных игр", "to a mode with gambling";
    /// Перевод ККТ в режим, не позволяющий проводить лотереи.
    FROM_LOTTERY = 19 => "from_lottery", "В режим без лотерей", "to a mode without lotteries";
    /// Перевод ККТ в режим, позволяющий проводить лотереи.
    TO_LOTTERY = 20 => "to_lottery", "В режим лотерей", "to a mode with lotteries";
    /// Изменение версии ФФД.
    FFD_VERSION_CHANGE = 21 => "ffd_version_change", "Изменение версии ФФД", "FFD version changed";
    /// Иные причины.
    OTHER = 31 => "other", "Иные причины", "other reasons";
}

impl ReregistrationReasons {
    /// The v01.05 reason code of the archive's 5.2 layout (0x30: 1 FN replaced, 2 OFD changed, 3
    /// requisites changed, 4 settings changed) that these bits come nearest to; 0 for none.
    pub fn archive_code(self) -> u8 {
        if self.is_empty() {
            0
        } else if self.contains(Self::FN_REPLACEMENT) {
            1
        } else if self.contains(Self::OFD_CHANGE) {
            2
        } else if self.intersects(Self::USER_NAME_CHANGE | Self::ADDRESS_CHANGE | Self::AUTOMAT_NUMBER_CHANGE) {
            3
        } else {
            4
        }
    }
}

wire_flags! {
    /// Tag 1057 «признак платежного агента»: the agent types the user may act as, one bit each
    /// (the values of [`AgentType`]).
    pub struct AgentTypes(u8);
    /// Банковский платежный агент.
    BANK_PAYING_AGENT = 0 => "bank_paying_agent", "Банковский платежный агент", "bank payment agent";
    /// Банковский платежный субагент.
    BANK_PAYING_SUBAGENT = 1 => "bank_paying_subagent", "Банковский платежный субагент", "bank payment subagent";
    /// Платежный агент.
    PAYING_AGENT = 2 => "paying_agent", "Платежный агент", "payment agent";
    /// Платежный субагент.
    PAYING_SUBAGENT = 3 => "paying_subagent", "Платежный субагент", "payment subagent";
    /// Поверенный.
    ATTORNEY = 4 => "attorney", "Поверенный", "attorney";
    /// Комиссионер.
    COMMISSION_AGENT = 5 => "commission_agent", "Комиссионер", "commission agent";
    /// Иной агент.
    ANOTHER = 6 => "another", "Агент", "other agent";
}

wire_flags! {
    /// The FN's warning flags of 0x08 «Запрос статуса ФН» (seed 004 Таблица 1; v01.05
    /// Приложение 3 «Флаги и предупреждения ФН» documents bits 0–3 and 7).
    pub struct FnWarnings(u8);
    /// РЕСУРС ФН МЕНЕЕ 3 ДНЕЙ: срочная замена КС.
    REPLACE_URGENTLY = 0 => "replace_urgently", "Ресурс ФН менее 3 дней (срочная замена)", "FN resource under 3 days";
    /// РЕСУРС ФН МЕНЕЕ 30 ДНЕЙ: исчерпание ресурса КС.
    REPLACE_SOON = 1 => "replace_soon", "Ресурс ФН менее 30 дней", "FN resource under 30 days";
    /// ПАМЯТЬ ФН ЗАПОЛНЕНА: архив ФН заполнен на 90 %.
    MEMORY_FULL = 2 => "memory_full", "Память ФН заполнена (архив на 90 %)", "FN memory full";
    /// ОФД НЕ ОТВЕЧАЕТ: превышено время ожидания ответа ОФД.
    OFD_TIMEOUT = 3 => "ofd_timeout", "ОФД не отвечает", "OFD not answering";
    /// ОШИБКА ФЛК: ошибка форматно-логического контроля.
    FLC_ERROR = 4 => "flc_error", "Ошибка ФЛК (форматно-логического контроля)", "format-logic (FLC) error";
    /// ТРЕБ. НАСТР. ККТ.
    SETUP_NEEDED = 5 => "setup_needed", "Требуется настройка ККТ", "register setup needed";
    /// ОФД АННУЛИРОВАН.
    OFD_CANCELLED = 6 => "ofd_cancelled", "ОФД аннулирован", "OFD cancelled";
    /// КРИТИЧЕСКАЯ ОШИБКА ФН.
    CRITICAL = 7 => "critical", "Критическая ошибка ФН", "critical FN error";
}

wire_flags! {
    /// «Флаги разрешения команд работы с КМ» of 0x90 (seed 004 Таблица 2, for diagnostics): which
    /// of the FN's own marking commands it accepts now. B1h takes a code for the check (0x91),
    /// B2h saves a check result (0x94 with 1), B3h clears the results (0x95); B5h and B6h are the
    /// OISM request and its answer (0x92); B7h with codes 1–3 builds the sale notification.
    pub struct MarkCommandsAllowed(u8);
    /// B1h.
    B1 = 0 => "b1", "B1h: передать КМ на проверку (0x91)", "B1h: take a code for the check (0x91)";
    /// B2h.
    B2 = 1 => "b2", "B2h: сохранить результат проверки (0x94)", "B2h: save the check result (0x94)";
    /// B3h.
    B3 = 2 => "b3", "B3h: очистить результаты проверки (0x95)", "B3h: clear the check results (0x95)";
    /// B5h.
    B5 = 3 => "b5", "B5h: сформировать запрос о КМ для ОИСМ (0x92)", "B5h: form the OISM request (0x92)";
    /// B6h.
    B6 = 4 => "b6", "B6h: передать ответ ОИСМ (0x92)", "B6h: take the OISM's answer (0x92)";
    /// B7h with code 1.
    B7_1 = 5 => "b7_1", "B7h с доп. кодом 1 (уведомление о реализации)", "B7h code 1 (sale notification)";
    /// B7h with code 2.
    B7_2 = 6 => "b7_2", "B7h с доп. кодом 2 (уведомление о реализации)", "B7h code 2 (sale notification)";
    /// B7h with code 3.
    B7_3 = 7 => "b7_3", "B7h с доп. кодом 3 (уведомление о реализации)", "B7h code 3 (sale notification)";
}

wire_enum! {
    /// «Состояние по проверке КМ» of 0x90.
    pub struct MarkCheckState(u8);
    /// Таблица проверки КМ переполнена.
    TABLE_FULL = 0 => "table_full", "Таблица проверки КМ переполнена", "the check table is full";
    /// Нет КМ на проверке.
    IDLE = 1 => "idle", "Нет КМ на проверке", "no code under check";
    /// Передан КМ в команде B1h.
    CODE_GIVEN = 2 => "code_given", "КМ передан на проверку (B1h)", "a code was given for the check (B1h)";
    /// Сформирован запрос о коде маркировки.
    REQUEST_FORMED = 3 => "request_formed", "Сформирован запрос о КМ", "the OISM request was formed";
    /// Получен и передан в ФН ответ на запрос.
    ANSWER_GIVEN = 4 => "answer_given", "Ответ ОИСМ получен и передан в ФН", "the OISM's answer was passed to the FN";
}

wire_enum! {
    /// «Состояние по формированию уведомления о реализации маркированного товара» of 0x90.
    pub struct NotificationState(u8);
    /// Уведомление о реализации МТ не формируется.
    IDLE = 0 => "idle", "Уведомление не формируется", "no notification being formed";
    /// Начато формирование уведомления о реализации МТ.
    FORMING = 1 => "forming", "Формируется уведомление о реализации", "a sale notification is being formed";
    /// Формирование уведомлений заблокировано из-за переполнения области временного хранения.
    BLOCKED = 2 => "blocked", "Уведомления заблокированы: область хранения переполнена", "notifications blocked: storage full";
}

wire_enum! {
    /// «Предупреждение о заполнении области хранения уведомлений» of 0x90.
    pub struct NotificationStorage(u8);
    /// Заполнена менее чем на 50 %.
    UNDER_50 = 0 => "under_50", "заполнена менее чем на 50 %", "under 50 % full";
    /// От 50 до 80 %.
    FROM_50 = 1 => "from_50", "заполнена на 50–80 %", "50–80 % full";
    /// От 80 до 90 %.
    FROM_80 = 2 => "from_80", "заполнена на 80–90 %", "80–90 % full";
    /// Более чем на 90 %.
    OVER_90 = 3 => "over_90", "заполнена более чем на 90 %", "over 90 % full";
    /// Полностью заполнена, формирование новых уведомлений невозможно.
    FULL = 4 => "full", "заполнена полностью: новые уведомления невозможны", "full: no new notifications";
}

wire_enum! {
    /// «Состояние по передаче уведомлений» of 0x9E.
    pub struct OismExchange(u8);
    /// Нет активного обмена.
    IDLE = 0 => "idle", "Нет активного обмена", "no exchange";
    /// Начато чтение уведомления.
    READING = 1 => "reading", "Начато чтение уведомления", "reading a notification";
    /// Ожидание квитанции на уведомление.
    AWAITING_RECEIPT = 2 => "awaiting_receipt", "Ожидание квитанции на уведомление", "waiting for the OISM's receipt";
}

wire_enum! {
    /// The FFD an FN works with, 0x0F «Запрос формата ФН» (seed 004).
    pub struct FfdVersion(u8);
    /// ФН неактивизирован.
    NOT_ACTIVATED = 0 => "not_activated", "ФН не активизирован", "FN not activated";
    /// ФН 1.2 в режиме ФФД 1.0 (1.05).
    FFD105 = 1 => "ffd105", "ФФД 1.05", "FFD 1.05";
    /// ФН 1.2 в режиме ФФД 1.1.
    FFD11 = 3 => "ffd11", "ФФД 1.1", "FFD 1.1";
    /// ФН 1.2 в режиме ФФД 1.2.
    FFD12 = 4 => "ffd12", "ФФД 1.2", "FFD 1.2";
}

wire_enum! {
    /// Printer models of v01.05 Приложение 4 «Модели печатающих устройств» (tag 30019 of 0x78/0x79).
    pub struct PrinterModel(u8);
    /// ККТ попытается определить принтер автоматически.
    AUTO = 0 => "auto", "Определить автоматически", "detect automatically";
    /// Custom VKP80.
    CUSTOM_VKP80 = 1 => "custom_vkp80", "Custom VKP80", "Custom VKP80";
    /// Custom TG2480H.
    CUSTOM_TG2480H = 2 => "custom_tg2480h", "Custom TG2480H", "Custom TG2480H";
    /// Citizen CT-S2000.
    CITIZEN_CTS2000 = 3 => "citizen_cts2000", "Citizen CT-S2000", "Citizen CT-S2000";
    /// Citizen PPU-700.
    CITIZEN_PPU700 = 4 => "citizen_ppu700", "Citizen PPU-700", "Citizen PPU-700";
    /// Star TSP (ESC/POS).
    STAR_TSP = 5 => "star_tsp", "Star TSP (ESC/POS)", "Star TSP (ESC/POS)";
    /// Star TUP (ESC/POS).
    STAR_TUP = 6 => "star_tup", "Star TUP (ESC/POS)", "Star TUP (ESC/POS)";
    /// Epson EU-422.
    EPSON_EU422 = 7 => "epson_eu422", "Epson EU-422", "Epson EU-422";
    /// Custom TG02H.
    CUSTOM_TG02H = 8 => "custom_tg02h", "Custom TG02H", "Custom TG02H";
    /// DP_Q582P.
    DP_Q582P = 9 => "dp_q582p", "DP_Q582P", "DP_Q582P";
    /// Custom TG2460H.
    CUSTOM_TG2460H = 10 => "custom_tg2460h", "Custom TG2460H", "Custom TG2460H";
}

wire_enum! {
    /// The printer status byte of 0x01 and of the printing commands' answers (v01.05).
    pub struct PrinterStatus(u8);
    /// Принтер готов.
    READY = 0 => "ready", "Принтер готов, бумага есть", "ready, paper present";
    /// Принтер не подключен.
    NOT_CONNECTED = 1 => "not_connected", "Принтер не подключен", "printer not connected";
    /// Бумага отсутствует.
    NO_PAPER = 2 => "no_paper", "Нет бумаги", "out of paper";
    /// Замятие бумаги.
    JAM = 3 => "jam", "Замятие бумаги", "paper jam";
    /// Крышка принтера открыта.
    COVER_OPEN = 5 => "cover_open", "Крышка принтера открыта", "printer cover open";
    /// Ошибка отрезчика.
    CUTTER = 6 => "cutter", "Ошибка отрезчика", "cutter error";
    /// Аппаратная ошибка принтера.
    HARDWARE = 7 => "hardware", "Аппаратная ошибка принтера", "printer hardware error";
}

wire_enum! {
    /// Tag 30030 «интерфейс управления» of 0x80/0x81.
    pub struct ControlInterface(u8);
    /// RS-232.
    RS232 = 0 => "rs232", "RS-232", "RS-232";
    /// Ethernet (TCP/IP).
    ETHERNET = 1 => "ethernet", "Ethernet (TCP/IP)", "Ethernet (TCP/IP)";
}

wire_enum! {
    /// Tag 30001 «использовать динамический адрес» of 0x74/0x75.
    pub struct AddressMode(u8);
    /// Статический адрес.
    STATIC = 0 => "static", "Статический адрес", "static address";
    /// Динамический адрес (DHCP).
    DHCP = 1 => "dhcp", "Динамический адрес (DHCP)", "dynamic address (DHCP)";
}

wire_enum! {
    /// Tag 30015 «размер шрифта» of 0x78/0x79.
    pub struct FontSize(u8);
    /// Обычный шрифт.
    NORMAL = 0 => "normal", "Обычный шрифт", "normal font";
    /// Уменьшенный шрифт.
    SMALL = 1 => "small", "Уменьшенный шрифт", "small font";
}

/// The English text of a BYTE value of a tag whose values are declared here (an enumeration,
/// or the set bits of a mask), for `kkt decode`; `None` for another tag or an unknown value.
pub fn tag_value_text(tag: u16, v: u8) -> Option<String> {
    tag_value_texts(tag, v).map(|(_, en)| en)
}

/// The Russian and English texts of a BYTE value of a tag whose values are declared here (an
/// enumeration, or the set bits of a mask, joined with ", "); `None` for another tag or an
/// unknown value.
pub fn tag_value_texts(tag: u16, v: u8) -> Option<(String, String)> {
    use crate::protocol::tag as t;
    fn one(ru: Option<&'static str>, en: Option<&'static str>) -> Option<(String, String)> {
        Some((ru?.to_string(), en?.to_string()))
    }
    fn bits(ru: Vec<&'static str>, en: Vec<&'static str>) -> Option<(String, String)> {
        (!en.is_empty()).then(|| (ru.join(", "), en.join(", ")))
    }
    macro_rules! e {
        ($t:ident) => {{
            let x = $t::from(v);
            one(x.text_ru(), x.text_en())
        }};
    }
    macro_rules! f {
        ($t:ident) => {{
            let x = $t::from(v);
            bits(x.texts_ru(), x.texts_en())
        }};
    }
    match tag {
        t::OPERATION_TYPE => e!(Operation),
        t::TAXATION_SYSTEM => e!(Taxation),
        t::VAT_RATE => e!(Vat),
        t::ITEM_TYPE => e!(PaymentObject),
        t::PAYMENT_METHOD => e!(PaymentMethod),
        t::PLANNED_ITEM_STATUS | t::ASSIGNED_ITEM_STATUS => e!(PlannedStatus),
        t::MARKING_CODE_TYPE => e!(CodeType),
        t::QUANTITY_MEASURE => e!(Measure),
        t::ITEM_AGENT_TYPE => e!(AgentType),
        t::USE_DHCP => e!(AddressMode),
        t::FONT_SIZE => e!(FontSize),
        t::PRINTER_MODEL => e!(PrinterModel),
        t::CONTROL_INTERFACE => e!(ControlInterface),
        t::TAXATION_SYSTEMS => f!(TaxationSystems),
        t::SERVICE_OPERATING_MODE => f!(OperatingModes),
        t::SERVICE_USAGE_CONDITIONS => f!(UsageConditions),
        t::PAYMENT_AGENT_FLAGS => f!(AgentTypes),
        t::ITEM_INFORMATION_CHECK_RESULT => f!(MarkCheckFlags),
        _ => None,
    }
}

wire_flags! {
    /// Tag 2106 «результат проверки сведений о товаре» (seed 004 Таблица 4), bit by bit (the
    /// driver's view with each bit's both states is [`crate::commands::marking::MarkCheckResult`]).
    pub struct MarkCheckFlags(u8);
    /// Проверка КМ проведена.
    CHECKED = 0 => "checked", "КМ проверен", "code checked";
    /// Результат проверки КП КМ положительный.
    CRYPTO_OK = 1 => "crypto_ok", "Проверка КП КМ положительная", "crypto tail check positive";
    /// Проверка статуса ОИСМ проведена.
    STATUS_CHECKED = 2 => "status_checked", "Статус проверен в ОИСМ", "OISM status checked";
    /// ОИСМ: планируемый статус корректен.
    STATUS_CORRECT = 3 => "status_correct", "ОИСМ: планируемый статус корректен", "OISM: planned status correct";
    /// Результат сформирован в автономном режиме.
    AUTONOMOUS = 4 => "autonomous", "Сформирован в автономном режиме", "formed in autonomous mode";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_values() {
        assert_eq!(Vat::VAT20.code(), 1);
        assert_eq!(Vat::new(1), Vat::VAT20);
        assert_eq!(Vat::from(10), Vat::VAT107);
        assert_eq!(u8::from(Vat::VAT0), 5);
        assert_eq!(Vat::VAT10, 2);
        assert!(Vat::VAT5.is_known());
        assert_eq!(Vat::known(7), Some(Vat::VAT5));
        assert_eq!(Vat::known(11), None);
        let odd = Vat::from(0xAB);
        assert!(!odd.is_known());
        assert_eq!(odd.code(), 0xAB, "an unknown value is kept as it came");
        assert_eq!((odd.name(), odd.text_ru(), odd.text_en()), (None, None, None));
        assert_eq!(Vat::ALL.len(), 10);
        assert_eq!(Vat::NAMES.len(), Vat::ALL.len());
        assert_eq!(Measure::default(), Measure::PIECE);
        assert_eq!(CurrentDocument::default(), CurrentDocument::NONE);
        // Every declaration's codes and names are unique (the macro's `match` would also warn
        // about a repeated code).
        fn unique<T: WireEnum + std::hash::Hash + fmt::Debug>() {
            let codes: std::collections::HashSet<_> = T::ALL.iter().collect();
            let names: std::collections::HashSet<_> = T::NAMES.iter().collect();
            assert_eq!((codes.len(), names.len()), (T::ALL.len(), T::ALL.len()));
            for (v, n) in T::ALL.iter().zip(T::NAMES) {
                assert_eq!(v.json_name(), Some(*n));
                assert_eq!(T::from_json_name(n), Some(*v));
                assert!(v.known());
            }
        }
        unique::<Operation>();
        unique::<Taxation>();
        unique::<Vat>();
        unique::<PaymentMethod>();
        unique::<PaymentObject>();
        unique::<PlannedStatus>();
        unique::<CodeType>();
        unique::<Measure>();
        unique::<AgentType>();
        unique::<LifePhase>();
        unique::<CurrentDocument>();
    }

    #[test]
    fn display_debug_and_hex() {
        assert_eq!(Operation::SELL_RETURN.to_string(), "sell_return");
        assert_eq!(format!("{:?}", Operation::SELL_RETURN), "Operation::SELL_RETURN");
        assert_eq!(Operation::from(9).to_string(), "0x09");
        assert_eq!(format!("{:?}", Operation::from(9)), "Operation(0x09)");
        assert_eq!(format!("{:#04x}", CurrentDocument::CORRECTION), "0x14");
        assert_eq!(format!("{:02X}", LifePhase::ARCHIVE), "0F");
        assert_eq!(CurrentDocument::SETTLEMENT.text_en(), Some("settlement report"));
        assert_eq!(LifePhase::FISCAL.text_ru(), Some("Фискальный режим"));
        // Phase 0, the FN as it leaves the factory, is a phase with a name, not "unknown".
        assert_eq!(LifePhase::from(0).text_en(), Some("factory fresh (setup)"));
        assert_eq!(FnWarnings::from(0b1000_1000).texts_en(), ["OFD not answering", "critical FN error"]);
        assert_eq!(MarkCommandsAllowed::from(0b11).texts_en().len(), 2);
        assert_eq!(tag_value_texts(crate::protocol::tag::VAT_RATE, 1), Some(("НДС 20%".into(), "VAT 20%".into())));
        assert_eq!("kilogram".parse::<Measure>(), Ok(Measure::KILOGRAM));
        let e = "kilo".parse::<Measure>().unwrap_err();
        assert!(e.to_string().starts_with("\"kilo\" is not one of piece, gram, kilogram"), "{e}");
    }

    #[test]
    fn serde_as_number_and_by_name() {
        assert_eq!(serde_json::to_value(Vat::VAT10).unwrap(), serde_json::json!(2));
        assert_eq!(serde_json::from_value::<Vat>(serde_json::json!(99)).unwrap(), Vat::from(99));

        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Named {
            #[serde(with = "by_name")]
            vat: Vat,
            #[serde(default, with = "by_name::option", skip_serializing_if = "Option::is_none")]
            status: Option<PlannedStatus>,
        }
        let n: Named = serde_json::from_str(r#"{"vat": "vat120", "status": "unchanged"}"#).unwrap();
        assert_eq!(n, Named { vat: Vat::VAT120, status: Some(PlannedStatus::UNCHANGED) });
        assert_eq!(serde_json::to_string(&n).unwrap(), r#"{"vat":"vat120","status":"unchanged"}"#);
        let n: Named = serde_json::from_str(r#"{"vat": "none"}"#).unwrap();
        assert_eq!(n.status, None);
        let e = serde_json::from_str::<Named>(r#"{"vat": "vat18"}"#).unwrap_err().to_string();
        assert!(e.contains("unknown variant `vat18`, expected one of `vat20`, `vat10`"), "{e}");
        assert!(serde_json::from_str::<Named>(r#"{"vat": 1}"#).is_err(), "people's JSON names the value");
        // A value the declaration does not know is written as its number.
        let odd = Named { vat: Vat::from(42), status: None };
        assert_eq!(serde_json::to_string(&odd).unwrap(), r#"{"vat":42}"#);
    }

    #[test]
    fn texts_of_tag_values() {
        use crate::protocol::tag;
        assert_eq!(tag_value_text(tag::VAT_RATE, 1).as_deref(), Some("VAT 20%"));
        assert_eq!(tag_value_text(tag::ASSIGNED_ITEM_STATUS, 255).as_deref(), Some("status unchanged"));
        assert_eq!(tag_value_text(tag::TAXATION_SYSTEMS, 0b10_0001).as_deref(), Some("general, patent"));
        assert_eq!(tag_value_text(tag::VAT_RATE, 0x63), None);
        assert_eq!(tag_value_text(tag::SERVICE_OPERATING_MODE, 0), None);
        assert_eq!(tag_value_text(tag::ITEM_NAME, 1), None);
    }

    #[test]
    fn flags() {
        let t = TaxationSystems::GENERAL | TaxationSystems::PATENT;
        assert_eq!(t.bits(), 0b10_0001);
        assert!(t.contains(TaxationSystems::PATENT) && !t.contains(TaxationSystems::ESN));
        assert_eq!(t.to_string(), "osn+patent");
        assert_eq!(format!("{t:?}"), "TaxationSystems(GENERAL | PATENT)");
        assert_eq!(t.texts_en(), ["general", "patent"]);
        let odd = TaxationSystems::from(0b1100_0001);
        assert_eq!(odd.undefined(), 0b1100_0000);
        assert_eq!(odd.to_string(), "osn+0xc0");
        assert_eq!(TaxationSystems::ENVD.outside(TaxationSystems::FFD12), 0b1000);
        assert_eq!(TaxationSystems::FFD12.bits(), 0b0011_0111);
        assert_eq!(OperatingModes::FFD12.bits(), 0b0011_1011);
        assert_eq!(OperatingModes::DEFINED.bits(), 0x3F);
        assert_eq!(UsageConditions::DEFINED.bits(), 0x7F);
        assert_eq!(AgentTypes::DEFINED.bits(), 0x7F);
        // Tag 1205: bits 0–14, 17–21 and 31 (seed 004, Приложение 1).
        assert_eq!(ReregistrationReasons::DEFINED.bits(), 0x803E_7FFF);
        assert_eq!((ReregistrationReasons::FN_REPLACEMENT | ReregistrationReasons::ADDRESS_CHANGE).bits(), 0b1001);
        let r = ReregistrationReasons::from_names(&["fn_replacement", "ffd_version_change"]).unwrap();
        assert_eq!(r.bits(), 1 | 1 << 21);
        assert_eq!(r.names(), ["fn_replacement", "ffd_version_change"]);
        let e = ReregistrationReasons::from_names(&["fn_replaced"]).unwrap_err();
        assert!(e.allowed.starts_with("fn_replacement, ofd_change"), "{e}");
        assert_eq!(TaxationSystems::from_names(&["osn", "patent"]).unwrap(), t);
        assert_eq!(OperatingModes::EMPTY.to_string(), "none");
        assert_eq!(serde_json::to_value(t).unwrap(), serde_json::json!(33));
        // The agent bits are the agent types' values.
        for (bit, v) in AgentTypes::BITS.iter().zip(&AgentType::ALL[1..]) {
            assert_eq!((bit.0.bits(), bit.1), (v.code(), v.name().unwrap()));
        }
    }
}
