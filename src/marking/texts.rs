//! The texts of the marked-goods check, in English and Russian: every reason's message (the
//! Russian one is what a POS shows the cashier), the errorCode meanings of seed 003 §1.5, and the
//! words of a verdict. One place, one function per text, so that a catalogue can take them over.

use super::verdict::Rule;

/// A text in English and in Russian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// English.
    pub en: String,
    /// Russian (for the cashier).
    pub ru: String,
}

impl Text {
    /// A text from its two languages.
    pub fn new(en: impl Into<String>, ru: impl Into<String>) -> Text {
        Text { en: en.into(), ru: ru.into() }
    }
}

/// Which language a person reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Russian.
    Ru,
}

impl Lang {
    /// Russian when a locale variable (`LC_ALL`, `LC_MESSAGES`, `LANG`, the first one set) names
    /// Russian (`ru_RU.UTF-8`, `ru`), else English.
    pub fn from_env() -> Lang {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .unwrap_or_default();
        Lang::from_locale(&locale)
    }

    /// Russian for a locale name starting with `ru` (`ru_RU.UTF-8`, `ru-RU`, `Russian_Russia`).
    pub fn from_locale(locale: &str) -> Lang {
        let l = locale.trim().to_ascii_lowercase();
        if l.starts_with("ru") {
            Lang::Ru
        } else {
            Lang::En
        }
    }

    /// The text in this language.
    pub fn pick<'a>(&self, t: &'a Text) -> &'a str {
        match self {
            Lang::En => &t.en,
            Lang::Ru => &t.ru,
        }
    }
}

/// §4.1: not found.
pub fn not_found() -> Text {
    Text::new("the code is not found in ГИС МТ", "код маркировки не найден в ГИС МТ")
}

/// §4.1: emitted, not applied.
pub fn not_utilised() -> Text {
    Text::new(
        "the code was emitted but not applied to a package",
        "код маркировки эмитирован, но нет сведений о его нанесении",
    )
}

/// §4.2: structure.
pub fn invalid_structure() -> Text {
    Text::new("the code's structure is not valid", "структура кода маркировки неверна")
}

/// §4.2: crypto.
pub fn not_verified() -> Text {
    Text::new("the crypto check of the code failed", "не пройдена криптографическая проверка кода маркировки")
}

/// §4.3: withdrawn; `elimination_state` 1 or 2 says why (seed 003 §1.5); `lm` when the Local
/// Module said so.
pub fn sold(elimination_state: Option<i64>, lm: bool) -> Text {
    let (en, ru) = match elimination_state {
        Some(1) => (" (samples or distance sale)", " (по образцам или дистанционная продажа)"),
        Some(2) => (" (own or production needs)", " (для собственных нужд или производственных целей)"),
        _ => ("", ""),
    };
    let (len, lru) = if lm { (" (Local Module)", " (локальный модуль)") } else { ("", "") };
    Text::new(format!("the item is withdrawn from circulation{en}{len}"), format!("товар выведен из оборота{ru}{lru}"))
}

/// §4.4: blocked by the authorities named.
pub fn blocked(ogvs: &[String], lm: bool) -> Text {
    let by = if ogvs.is_empty() { String::new() } else { format!(" by {}", ogvs.join(", ")) };
    let by_ru = if ogvs.is_empty() { String::new() } else { format!(" ({})", ogvs.join(", ")) };
    let (len, lru) = if lm { (" (Local Module)", " (локальный модуль)") } else { ("", "") };
    Text::new(
        format!("the sale is blocked{by}{len}"),
        format!("продажа заблокирована по решению органов власти{by_ru}{lru}"),
    )
}

/// §4.5: not in circulation.
pub fn not_realizable() -> Text {
    Text::new("the code is not in circulation", "нет сведений о вводе товара в оборот")
}

/// §4.6: expired at `when` (as the service wrote it).
pub fn expired(when: &str) -> Text {
    Text::new(format!("the item expired at {when}"), format!("срок годности истёк {when}"))
}

/// §4.6 for dairy with variable expiry dates: every one of them has passed.
pub fn expired_variable(latest: &str) -> Text {
    Text::new(
        format!("the item expired: the latest of its variable expiry dates, {latest}, has passed"),
        format!("срок годности истёк: прошла и самая поздняя из вариативных дат, {latest}"),
    )
}

/// §4.7: the selling price is not the MRP printed in the code.
pub fn price_not_mrp_in_code(price: &str, mrp: &str, pack: bool) -> Text {
    let (en, ru) = if pack {
        ("characters 22–25 of the pack code", "символы 22–25 кода пачки")
    } else {
        ("AI 8005 of the block code", "AI 8005 кода блока")
    };
    Text::new(
        format!("selling price {price} differs from the MRP {mrp} in the code ({en})"),
        format!("цена продажи {price} отличается от МРЦ {mrp} в коде маркировки ({ru})"),
    )
}

/// §4.7: the selling price is not ГИС МТ's MRP.
pub fn price_not_service_mrp(price: &str, mrp: &str) -> Text {
    Text::new(
        format!("selling price {price} differs from ГИС МТ's MRP {mrp}"),
        format!("цена продажи {price} отличается от МРЦ {mrp} в ГИС МТ"),
    )
}

/// The MRP in the code is not the service's.
pub fn mrp_mismatch(code: &str, service: &str) -> Text {
    Text::new(
        format!("the MRP in the code {code} differs from ГИС МТ's {service}"),
        format!("МРЦ в коде маркировки {code} отличается от МРЦ в ГИС МТ {service}"),
    )
}

/// §6.3: below the single minimum price.
pub fn below_minimum_price(mrp: &str, smp: &str) -> Text {
    Text::new(
        format!("the MRP {mrp} is below the single minimum price {smp}"),
        format!("МРЦ {mrp} ниже единой минимальной цены {smp}"),
    )
}

/// §6.1: already in this receipt.
pub fn duplicate_in_receipt() -> Text {
    Text::new("the same code is already in this receipt", "этот код маркировки уже есть в чеке")
}

/// §6.2: this store (this legal entity) sold it.
pub fn sold_by_this_store(receipt: &str, at: &str) -> Text {
    Text::new(
        format!("this store already sold the code (receipt {receipt}, at {at})"),
        format!("этот код маркировки уже продан здесь (чек {receipt}, {at})"),
    )
}

/// errorCode 1–11 of a code's answer (seed 003 §1.5); other values are named by number.
pub fn error_code(code: i64) -> Text {
    let (en, ru) = match code {
        1 => ("the code failed validation", "ошибка валидации кода маркировки"),
        2 => ("the code has no GTIN", "код маркировки не содержит GTIN"),
        3 => ("the code has no serial number", "код маркировки не содержит серийный номер"),
        4 => ("the code contains characters that are not allowed", "код маркировки содержит недопустимые символы"),
        5 => (
            "crypto signature check failed: its format does not match the code's type",
            "ошибка верификации крипто-подписи (формат крипто-подписи не соответствует типу кода)",
        ),
        6 => (
            "crypto signature check failed: the signature is not valid",
            "ошибка верификации крипто-подписи (крипто-подпись не валидная)",
        ),
        7 => (
            "crypto signature check failed: the crypto key is not valid",
            "ошибка верификации крипто-подписи (крипто-ключ не валиден)",
        ),
        8 => (
            "the code failed verification in the issuing country",
            "код маркировки не прошёл верификацию в стране эмитента",
        ),
        9 => ("the code's AIs are not supported", "найденные в коде AI не поддерживаются"),
        10 => ("the code is not found in ГИС МТ", "код маркировки не найден в ГИС МТ"),
        11 => ("the code is not found in the cross-border service", "код маркировки не найден в трансгране"),
        _ => ("", ""),
    };
    if en.is_empty() {
        return Text::new(format!("ГИС МТ error code {code}"), format!("ошибка ГИС МТ, код {code}"));
    }
    Text::new(format!("{en} (errorCode {code})"), format!("{ru} (errorCode {code})"))
}

/// The check could not be made or was refused by a service; `detail` is what failed (quoting the
/// service, in English).
pub fn check_failed(detail: &str) -> Text {
    Text::new(detail.to_string(), format!("проверка кода маркировки не выполнена: {detail}"))
}

/// A check is required (`--mark-check required`) and none was made.
pub fn check_required(why: &str) -> Text {
    Text::new(
        format!("a check of the code is required (--mark-check required) and none was made: {why}"),
        format!("проверка кода маркировки обязательна, но не выполнена: {why}"),
    )
}

/// The register's FN found the crypto tail wrong (2106).
pub fn device_crypto_negative(tag2106: u8) -> Text {
    Text::new(
        format!("the register's crypto check of the code is negative (2106 = 0x{tag2106:02X})"),
        format!("проверка крипто-хвоста кода в ФН отрицательная (2106 = 0x{tag2106:02X})"),
    )
}

/// The OISM said the planned status is wrong (2106).
pub fn device_status_incorrect(tag2106: u8) -> Text {
    Text::new(
        format!("the OISM says the planned status is wrong (2106 = 0x{tag2106:02X})"),
        format!("ОИСМ сообщает, что планируемый статус товара некорректен (2106 = 0x{tag2106:02X})"),
    )
}

/// The register refused the code outright.
pub fn device_refused(code: u8, en: &str, ru: &str) -> Text {
    Text::new(
        format!("the register refused the code: error 0x{code:02X} {en} ({ru})"),
        format!("касса отклонила код маркировки: ошибка 0x{code:02X} {ru}"),
    )
}

/// What a verdict's action is called for people.
pub fn action(a: super::verdict::Action) -> Text {
    use super::verdict::Action;
    match a {
        Action::Sell => Text::new("SELL", "ПРОДАЖА РАЗРЕШЕНА"),
        Action::Refuse => Text::new("REFUSE", "ПРОДАЖА ЗАПРЕЩЕНА"),
        Action::Ask => Text::new("ASK THE CASHIER", "ТРЕБУЕТСЯ РЕШЕНИЕ КАССИРА"),
    }
}

/// The words around a verdict in `kkt mark check`'s text output.
pub fn label(key: &str) -> Text {
    match key {
        "reason" => Text::new("reason", "причина"),
        "note" => Text::new("note", "примечание"),
        "source" => Text::new("source", "источник"),
        "emergency" => Text::new("EMERGENCY: sold without a check", "АВАРИЙНЫЙ РЕЖИМ: продажа без проверки"),
        "confirmation" => Text::new("confirmation", "подтверждение"),
        _ => Text::new(key, key),
    }
}

/// A rule's short title, for logs and lists (`kkt mark checks`).
pub fn rule_title(rule: Rule) -> Text {
    let (en, ru) = match rule {
        Rule::NotFound => ("not found", "не найден"),
        Rule::NotUtilised => ("not applied", "не нанесён"),
        Rule::InvalidStructure => ("invalid structure", "неверная структура"),
        Rule::NotVerified => ("crypto check failed", "криптопроверка не пройдена"),
        Rule::Sold => ("withdrawn", "выведен из оборота"),
        Rule::Blocked => ("blocked", "заблокирован"),
        Rule::NotRealizable => ("not in circulation", "не в обороте"),
        Rule::Expired => ("expired", "истёк срок годности"),
        Rule::PriceNotMrp => ("price is not the MRP", "цена не равна МРЦ"),
        Rule::MrpMismatch => ("MRP mismatch", "МРЦ не совпадает"),
        Rule::BelowMinimumPrice => ("below the minimum price", "ниже ЕМЦ"),
        Rule::DuplicateInReceipt => ("repeated in the receipt", "повтор в чеке"),
        Rule::SoldByThisStore => ("already sold here", "уже продан здесь"),
        Rule::ErrorCode => ("ГИС МТ error code", "код ошибки ГИС МТ"),
        Rule::CheckFailed => ("check failed", "проверка не выполнена"),
        Rule::CheckRequired => ("check required", "проверка обязательна"),
        Rule::DeviceCryptoNegative => ("register crypto check negative", "проверка в ФН отрицательная"),
        Rule::DeviceStatusIncorrect => ("planned status wrong", "статус некорректен"),
        Rule::DeviceRefused => ("refused by the register", "отклонён кассой"),
    };
    Text::new(en, ru)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales() {
        for l in ["ru_RU.UTF-8", "ru", "RU-ru", "Russian_Russia.1251"] {
            assert_eq!(Lang::from_locale(l), Lang::Ru, "{l}");
        }
        for l in ["", "C", "en_US.UTF-8", "POSIX", "uk_UA.UTF-8"] {
            assert_eq!(Lang::from_locale(l), Lang::En, "{l}");
        }
    }

    #[test]
    fn every_error_code_has_its_meaning() {
        for c in 1..=11 {
            let t = error_code(c);
            assert!(t.en.contains(&format!("errorCode {c}")) && !t.en.starts_with("ГИС МТ error code"), "{c}");
            assert!(t.ru.contains("код") || t.ru.contains("крипто"), "{c}: {}", t.ru);
        }
        assert_eq!(error_code(42).en, "ГИС МТ error code 42");
    }
}
