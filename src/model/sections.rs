//! Sections: categories mapped through `[sections]` aliases, matched with
//! Unicode case folding done in Rust (SQLite's `LIKE`/`NOCASE` fold ASCII
//! only, so `Политика` would never equal `политика` there).

use std::collections::HashMap;

/// The key a section or category is matched by: trimmed, inner whitespace
/// collapsed, Unicode-lowercased. `Политика`, ` политика ` and `ПОЛИТИКА`
/// share one key.
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            push_lowercase(&mut out, c);
        }
    }
    out
}

/// Pushes `c` lowercased, as `char::to_lowercase` does, answering ASCII and
/// the Russian alphabet without Unicode's tables (a binary search per
/// letter: folding every story's text for the keyword index was the
/// busiest function of ingest outside SQLite).
pub(crate) fn push_lowercase(out: &mut String, c: char) {
    match c {
        _ if c.is_ascii() => out.push(c.to_ascii_lowercase()),
        'а'..='я' | 'ё' => out.push(c),
        // А..Я sit 0x20 below а..я.
        'А'..='Я' => out.push(char::from_u32(c as u32 + 0x20).unwrap_or(c)),
        _ => out.extend(c.to_lowercase()),
    }
}

/// Resolves any spelling of a section or category to its canonical name.
#[derive(Debug, Clone, Default)]
pub struct SectionMap {
    /// folded alias or canonical name → canonical name as configured.
    by_key: HashMap<String, String>,
    /// Canonical names in config order.
    canonical: Vec<String>,
}

impl SectionMap {
    /// Builds the map from `[sections]`. Returns the alias keys that were
    /// claimed by two different canonical sections, so config can refuse them.
    pub fn new<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a [String])>,
    ) -> (SectionMap, Vec<String>) {
        let mut map = SectionMap::default();
        let mut clashes = Vec::new();
        for (canonical, aliases) in entries {
            let canonical = canonical.trim().to_string();
            map.canonical.push(canonical.clone());
            for name in
                std::iter::once(canonical.as_str()).chain(aliases.iter().map(String::as_str))
            {
                let key = fold(name);
                if key.is_empty() {
                    continue;
                }
                match map.by_key.get(&key) {
                    Some(existing) if *existing != canonical => clashes.push(name.to_string()),
                    _ => {
                        map.by_key.insert(key, canonical.clone());
                    }
                }
            }
        }
        (map, clashes)
    }

    /// The canonical section a category or requested name stands for: the
    /// configured canonical name when it is one of the aliases, else the
    /// name itself, trimmed (unmapped categories are sections of their own).
    /// `None` for a blank name.
    pub fn canonical(&self, name: &str) -> Option<String> {
        let key = fold(name);
        if key.is_empty() {
            return None;
        }
        Some(match self.by_key.get(&key) {
            Some(canonical) => canonical.clone(),
            None => name.split_whitespace().collect::<Vec<_>>().join(" "),
        })
    }

    /// Whether `name` (any spelling) is a configured section or alias.
    pub fn is_configured(&self, name: &str) -> bool {
        self.by_key.contains_key(&fold(name))
    }

    /// Canonical names in config order.
    pub fn names(&self) -> &[String] {
        &self.canonical
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn politics() -> SectionMap {
        let aliases = vec!["Politics".to_string(), "Siyasət".to_string()];
        SectionMap::new([("Политика", aliases.as_slice())]).0
    }

    #[test]
    fn folding_is_unicode_aware() {
        assert_eq!(fold("Политика"), fold("политика"));
        assert_eq!(fold("  ПОЛИТИКА \t"), "политика");
        assert_eq!(fold("SİYASƏT"), fold("si̇yasət"));
        assert_eq!(fold("Мир  и   война"), "мир и война");
        assert_eq!(fold("Ελλάδα"), fold("ΕΛΛΆΔΑ"));
    }

    #[test]
    fn aliases_resolve_to_the_canonical_name() {
        let map = politics();
        assert_eq!(map.canonical("politics").as_deref(), Some("Политика"));
        assert_eq!(map.canonical("SIYASƏT").as_deref(), Some("Политика"));
        assert_eq!(map.canonical("политика").as_deref(), Some("Политика"));
        assert!(map.is_configured("POLITICS"));
    }

    #[test]
    fn unmapped_categories_are_their_own_section() {
        let map = politics();
        assert_eq!(map.canonical("  Экономика ").as_deref(), Some("Экономика"));
        assert!(!map.is_configured("Экономика"));
        assert_eq!(map.canonical("   "), None);
    }

    #[test]
    fn an_alias_claimed_twice_is_reported() {
        let a = vec!["World".to_string()];
        let b = vec!["world".to_string()];
        let (_, clashes) = SectionMap::new([("Мир", a.as_slice()), ("В мире", b.as_slice())]);
        assert_eq!(clashes, vec!["world".to_string()]);
    }

    /// The fast path lowercases every character exactly as Unicode does.
    #[test]
    fn push_lowercase_agrees_with_unicode_for_every_char() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let mut fast = String::new();
            push_lowercase(&mut fast, c);
            let unicode: String = c.to_lowercase().collect();
            assert_eq!(fast, unicode, "U+{:04X}", c as u32);
        }
    }
}
