//! The command line's message catalogue: every message and hint that `kkt` (and `kkt serve`)
//! writes for people, in English and Russian, in Project Fluent files (`locales/en.ftl`,
//! `locales/ru.ftl`, built in).
//!
//! The language is `--lang`, else `KKT_LANG`, else the system's locale (`LC_ALL`,
//! `LC_MESSAGES`, `LANG` on Unix; the user's UI language on Windows): Russian for `ru…`,
//! English otherwise. Device error texts come from `protocol/errors.tsv`, which has both
//! languages; the driver's hints come in English with a key (`Violation::hint`), translated
//! here as `lib-…` messages.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English (the default).
    En,
    /// Russian.
    Ru,
}

const EN: &str = include_str!("../../locales/en.ftl");
const RU: &str = include_str!("../../locales/ru.ftl");

static LANG: OnceLock<Lang> = OnceLock::new();
static BUNDLES: OnceLock<[FluentBundle<FluentResource>; 2]> = OnceLock::new();

/// The language a locale name (`ru_RU.UTF-8`, `ru-RU`, `en`) asks for.
pub fn lang_of(name: &str) -> Lang {
    if name.trim().to_ascii_lowercase().starts_with("ru") {
        Lang::Ru
    } else {
        Lang::En
    }
}

/// Chooses the language once: `flag` (`--lang`), `KKT_LANG`, the system's locale.
pub fn init(flag: Option<&str>) -> Lang {
    let chosen = flag
        .map(lang_of)
        .or_else(|| std::env::var("KKT_LANG").ok().filter(|s| !s.is_empty()).map(|s| lang_of(&s)))
        .or_else(|| {
            ["LC_ALL", "LC_MESSAGES", "LANG"]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|s| !s.is_empty() && s != "C" && s != "POSIX"))
                .map(|s| lang_of(&s))
        })
        .or_else(|| sys_locale::get_locale().map(|s| lang_of(&s)))
        .unwrap_or(Lang::En);
    *LANG.get_or_init(|| chosen)
}

/// The language in use (English before [`init`]).
pub fn lang() -> Lang {
    LANG.get().copied().unwrap_or(Lang::En)
}

/// Whether messages are in Russian.
pub fn ru() -> bool {
    lang() == Lang::Ru
}

fn bundle(lang: Lang, text: &'static str) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = (if lang == Lang::Ru { "ru" } else { "en" }).parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: the text goes to terminals and logs.
    b.set_use_isolating(false);
    let res = FluentResource::try_new(text.to_string()).unwrap_or_else(|(r, _)| r);
    let _ = b.add_resource(res);
    b
}

fn bundles() -> &'static [FluentBundle<FluentResource>; 2] {
    BUNDLES.get_or_init(|| [bundle(Lang::En, EN), bundle(Lang::Ru, RU)])
}

fn format_in(lang: Lang, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
    let b = &bundles()[usize::from(lang == Lang::Ru)];
    let msg = b.get_message(id)?;
    let pattern = msg.value()?;
    let mut errors = Vec::new();
    Some(b.format_pattern(pattern, args, &mut errors).into_owned())
}

/// The message `id` in the language in use (English if the Russian file lacks it, the id if
/// neither has it).
pub fn msg(id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let mut a = FluentArgs::new();
    for (k, v) in args {
        a.set(*k, v.clone());
    }
    let args = (!args.is_empty()).then_some(&a);
    format_in(lang(), id, args).or_else(|| format_in(Lang::En, id, args)).unwrap_or_else(|| id.to_string())
}

/// A text the library gives in English with a key: the catalogue's `lib-KEY` in Russian, the
/// library's own text in English.
pub fn lib(key: &str, english: &str) -> String {
    if ru() {
        if let Some(t) = format_in(Lang::Ru, &format!("lib-{key}"), None) {
            return t;
        }
    }
    english.to_string()
}

/// `tr!("id")`, `tr!("id", name = value, …)`: the catalogue's message.
macro_rules! tr {
    ($id:literal) => {
        $crate::cli::i18n::msg($id, &[])
    };
    ($id:literal, $($k:ident = $v:expr),+ $(,)?) => {
        $crate::cli::i18n::msg($id, &[$((stringify!($k), ::fluent_bundle::FluentValue::from($v))),+])
    };
}
pub(crate) use tr;

/// Russian or English, whichever is in use.
pub fn pick<'a>(ru_text: &'a str, en_text: &'a str) -> &'a str {
    if ru() {
        ru_text
    } else {
        en_text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message ids of a catalogue file (`id = …` at the start of a line).
    fn ids(text: &str) -> Vec<String> {
        assert!(FluentResource::try_new(text.to_string()).is_ok(), "the catalogue parses");
        text.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_string()))
            .collect()
    }

    #[test]
    fn both_languages_have_every_message() {
        let en = ids(EN);
        let ru = ids(RU);
        assert!(en.len() > 50, "{}", en.len());
        let missing_ru: Vec<_> = en.iter().filter(|i| !ru.contains(i)).collect();
        let missing_en: Vec<_> = ru.iter().filter(|i| !i.starts_with("lib-") && !en.contains(i)).collect();
        assert!(missing_ru.is_empty(), "not in ru.ftl: {missing_ru:?}");
        assert!(missing_en.is_empty(), "not in en.ftl: {missing_en:?}");
        for (lang, text) in [(Lang::En, EN), (Lang::Ru, RU)] {
            for id in ids(text) {
                let b = &bundles()[usize::from(lang == Lang::Ru)];
                let mut errors = Vec::new();
                let m = b.get_message(&id).unwrap();
                let _ = b.format_pattern(m.value().unwrap(), None, &mut errors);
            }
        }
    }

    #[test]
    fn locale_names() {
        assert_eq!(lang_of("ru_RU.UTF-8"), Lang::Ru);
        assert_eq!(lang_of("ru-RU"), Lang::Ru);
        assert_eq!(lang_of("RU"), Lang::Ru);
        assert_eq!(lang_of("en_US.UTF-8"), Lang::En);
        assert_eq!(lang_of("de"), Lang::En);
    }
}
