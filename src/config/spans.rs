//! Where each key of a table was written, from the TOML parser's spans.
//! Deserializing a table into its `Raw*` struct drops the spans, so they are
//! recorded first; problems found afterwards point at the key's line.

use std::collections::HashMap;
use toml::Spanned;
use toml::de::DeValue;

/// One table's name in problems (`poll`, `source[2]`) and the offset of
/// each key written in it, nested tables' keys by dotted path
/// (`auth.password_env`).
#[derive(Debug)]
pub(super) struct Keys {
    name: String,
    /// The table's header (or first key, for a dotted or inline table).
    start: usize,
    at: HashMap<String, usize>,
}

impl Keys {
    /// A table that is not in the file: every key is "at" its start, which
    /// no problem reaches since defaults are valid.
    pub(super) fn absent(name: &str) -> Keys {
        Keys {
            name: name.to_string(),
            start: 0,
            at: HashMap::new(),
        }
    }

    /// Records the keys of `table` (any other value has none).
    pub(super) fn of(name: &str, table: &Spanned<DeValue<'_>>) -> Keys {
        let mut keys = Keys {
            start: table.span().start,
            ..Keys::absent(name)
        };
        keys.record("", table.get_ref());
        keys
    }

    fn record(&mut self, prefix: &str, value: &DeValue<'_>) {
        let DeValue::Table(table) = value else {
            return;
        };
        for (key, value) in table.iter() {
            let path = match prefix {
                "" => key.get_ref().to_string(),
                _ => format!("{prefix}.{}", key.get_ref()),
            };
            self.record(&path, value.get_ref());
            self.at.insert(path, key.span().start);
        }
    }

    /// The table's name, e.g. `source[2]`.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// The dotted key of `field` in problems, e.g. `source[2].url`.
    pub(super) fn path(&self, field: &str) -> String {
        format!("{}.{field}", self.name)
    }

    /// Offset of the key `field` (a dotted path for nested tables); else of
    /// the nearest enclosing key that was written; else the table's start
    /// (a default inherited from `[poll]` has no key of its own).
    pub(super) fn at(&self, field: &str) -> usize {
        let mut path = field;
        loop {
            if let Some(&offset) = self.at.get(path) {
                return offset;
            }
            match path.rsplit_once('.') {
                Some((parent, _)) => path = parent,
                None => return self.start,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::de::DeTable;

    fn line(text: &str, offset: usize) -> usize {
        text[..offset].matches('\n').count() + 1
    }

    #[test]
    fn keys_are_found_by_their_own_span_nested_ones_by_dotted_path() {
        let text = "[[source]]\n\"name\" = \"a\"\nurl = [\n  \"x\",\n]\n\
                    auth.username = \"u\"\nauth.password_env = \"P\"\n\n\
                    [source.headers]\nX = \"y\"\n";
        let doc = DeTable::parse(text).unwrap().into_inner();
        let (_, sources) = doc.iter().next().unwrap();
        let entry = &sources.get_ref().as_array().unwrap()[0];
        let keys = Keys::of("source[0]", entry);
        assert_eq!(keys.name(), "source[0]");
        assert_eq!(keys.path("url"), "source[0].url");
        assert_eq!(line(text, keys.at("name")), 2, "quoted keys too");
        assert_eq!(line(text, keys.at("url")), 3, "the key, not its value");
        assert_eq!(line(text, keys.at("auth")), 6);
        assert_eq!(line(text, keys.at("auth.password_env")), 7);
        assert_eq!(line(text, keys.at("headers")), 9, "a sub-table's header");
        assert_eq!(line(text, keys.at("headers.X")), 10);
        assert_eq!(line(text, keys.at("auth.nope")), 6, "the enclosing key");
        assert_eq!(line(text, keys.at("per_host")), 1, "the table's start");
    }
}
