//! Decode: turns raw body bytes into UTF-8 text feed-rs can trust.
//!
//! Precedence: a byte-order mark (UTF-8/16/32), then the byte pattern of
//! `<?` in UTF-16/32 (XML 1.0 appendix F), then the HTTP `charset`, then the
//! XML prolog's `encoding`, then a statistical guess (chardetng) for bytes
//! that are not UTF-8 and declare nothing. UTF-32, which encoding_rs lacks,
//! is decoded here. The prolog is rewritten to say UTF-8 so
//! feed-rs does not decode a second time.

use crate::model::charset::encoding_for_label;
use encoding_rs::{Encoding, UTF_8};

/// Text ready for feed-rs, and the encoding it was read as.
#[derive(Debug)]
pub struct Decoded {
    /// UTF-8 text; XML prolog (if any) declares UTF-8.
    pub text: String,
    /// Name of the encoding the bytes were read as.
    pub encoding: &'static str,
}

/// Decodes `body`. `http_charset` is the `charset` of `Content-Type`, and
/// `forced` a per-source override that beats everything but a BOM.
pub fn decode(
    body: &[u8],
    http_charset: Option<&str>,
    forced: Option<&'static Encoding>,
) -> Decoded {
    if let Some((wide, skip)) = sniff_wide(body) {
        return match wide {
            Wide::Utf16(enc) => finish(enc, &body[skip..]),
            Wide::Utf32 { big_endian } => finish_utf32(&body[skip..], big_endian),
        };
    }
    if let Some(enc) = forced {
        return finish(enc, body);
    }
    // Validated once, with encoding_rs's SIMD check (several times faster
    // than std's on Cyrillic); the UTF-8 branches below reuse the result.
    let utf8 = UTF_8.decode_without_bom_handling_and_without_replacement(body);
    let utf8 = utf8.as_deref();
    let is_utf8 = utf8.is_some();
    let claimed = http_charset
        .and_then(encoding_for_label)
        // A server that claims UTF-8 for bytes that are not is wrong far more
        // often than the document's own declaration: fall through to it.
        .filter(|&enc| enc != UTF_8 || is_utf8)
        .or_else(|| {
            prolog_encoding(body)
                .and_then(encoding_for_label)
                .filter(|&enc| enc != UTF_8 || is_utf8)
        });
    match (claimed, utf8) {
        (Some(enc), Some(text)) if enc == UTF_8 => return finish_text(text.to_owned(), UTF_8),
        (Some(enc), _) => return finish(enc, body),
        (None, Some(text)) => return finish_text(text.to_owned(), UTF_8),
        (None, None) => {}
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(body, true);
    finish(detector.guess(None, chardetng::Utf8Detection::Deny), body)
}

fn finish(enc: &'static Encoding, bytes: &[u8]) -> Decoded {
    // UTF-16 labels in a prolog mean nothing once we hold the bytes: if they
    // are single-byte text, reading them as UTF-16 would be garbage.
    let enc = if (enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE)
        && looks_single_byte(bytes)
    {
        UTF_8
    } else {
        enc
    };
    let (text, _) = enc.decode_without_bom_handling(bytes);
    finish_text(text.into_owned(), enc)
}

fn finish_text(mut text: String, enc: &'static Encoding) -> Decoded {
    rewrite_prolog(&mut text);
    strip_illegal_xml_chars(&mut text);
    Decoded {
        text,
        encoding: enc.name(),
    }
}

/// A wide encoding recognised from the first bytes.
enum Wide {
    Utf16(&'static Encoding),
    Utf32 { big_endian: bool },
}

/// Recognises a BOM (UTF-8 counts too, as UTF-16 of sorts: it beats every
/// declaration) or the `<?`/`<` pattern of UTF-16/32 without one. Returns the
/// encoding and how many bytes of BOM to skip.
fn sniff_wide(body: &[u8]) -> Option<(Wide, usize)> {
    let head: [u8; 4] = body.get(..4)?.try_into().ok()?;
    Some(match head {
        [0, 0, 0xFE, 0xFF] => (Wide::Utf32 { big_endian: true }, 4),
        [0xFF, 0xFE, 0, 0] => (Wide::Utf32 { big_endian: false }, 4),
        [0, 0, 0, b'<'] => (Wide::Utf32 { big_endian: true }, 0),
        [b'<', 0, 0, 0] => (Wide::Utf32 { big_endian: false }, 0),
        [0xEF, 0xBB, 0xBF, _] => (Wide::Utf16(UTF_8), 3),
        [0xFE, 0xFF, ..] => (Wide::Utf16(encoding_rs::UTF_16BE), 2),
        [0xFF, 0xFE, ..] => (Wide::Utf16(encoding_rs::UTF_16LE), 2),
        [0, b'<', 0, b'?' | b'r' | b'f' | b'R' | b'!'] => (Wide::Utf16(encoding_rs::UTF_16BE), 0),
        [b'<', 0, b'?' | b'r' | b'f' | b'R' | b'!', 0] => (Wide::Utf16(encoding_rs::UTF_16LE), 0),
        _ => return None,
    })
}

/// UTF-32, which encoding_rs does not support; invalid units become U+FFFD.
fn finish_utf32(bytes: &[u8], big_endian: bool) -> Decoded {
    let mut text: String = bytes
        .chunks(4)
        .map(|c| {
            let unit = match (<[u8; 4]>::try_from(c), big_endian) {
                (Ok(b), true) => u32::from_be_bytes(b),
                (Ok(b), false) => u32::from_le_bytes(b),
                (Err(_), _) => 0xFFFD,
            };
            char::from_u32(unit).unwrap_or('\u{FFFD}')
        })
        .collect();
    rewrite_prolog(&mut text);
    strip_illegal_xml_chars(&mut text);
    Decoded {
        text,
        encoding: if big_endian { "UTF-32BE" } else { "UTF-32LE" },
    }
}

fn looks_single_byte(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] != 0 && bytes[1] != 0
}

/// The `encoding` pseudo-attribute of a leading `<?xml …?>`, if any. Reads
/// bytes as ASCII, which every declaration is.
fn prolog_encoding(body: &[u8]) -> Option<&str> {
    let head = &body[..body.len().min(512)];
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &head[start..];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    rest.find(quote).map(|e| &rest[..e])
}

/// Replaces a leading XML declaration with one that says UTF-8, and drops
/// any later one: XML allows a declaration only at the start, and quick-xml
/// (inside feed-rs) panics on a second one that names an encoding.
fn rewrite_prolog(text: &mut String) {
    let start = text.len() - text.trim_start().len();
    let mut from = start;
    if is_xml_decl(&text[start..])
        && let Some(end) = text[start..].find("?>")
    {
        let decl = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
        text.replace_range(start..start + end + 2, decl);
        from = start + decl.len();
    }
    while let Some(at) = find_xml_decl(&text[from..]).map(|a| a + from) {
        let end = text[at..].find("?>").map_or(text.len(), |e| at + e + 2);
        text.replace_range(at..end, "");
        from = at;
    }
}

/// Whether `s` starts with an XML declaration (`<?xml` then space or `?`),
/// not a processing instruction such as `<?xml-stylesheet`.
fn is_xml_decl(s: &str) -> bool {
    s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("<?xml"))
        && s[5..].starts_with(|c: char| c.is_ascii_whitespace() || c == '?')
}

fn find_xml_decl(s: &str) -> Option<usize> {
    // memmem's SIMD search: this scans every document in full.
    memchr::memmem::find_iter(s.as_bytes(), b"<?").find(|&i| is_xml_decl(&s[i..]))
}

/// Removes characters XML 1.0 forbids (C0 controls other than tab, newline
/// and carriage return; U+FFFE/U+FFFF): one stray byte must not cost the
/// whole feed.
pub fn strip_illegal_xml_chars(text: &mut String) {
    let illegal = |c: char| matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    // Byte scans first, since this runs over every document: C0 controls
    // are single bytes (checked 64 at a time without an early exit, so the
    // loop vectorises), and U+FFFE/U+FFFF are 0xEF 0xBF 0xBE/0xBF.
    let bytes = text.as_bytes();
    let control = |b: u8| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r');
    let suspicious = bytes
        .chunks(64)
        .any(|chunk| chunk.iter().fold(false, |seen, &b| seen | control(b)))
        || memchr::memmem::find_iter(bytes, b"\xEF\xBF")
            .any(|i| matches!(bytes.get(i + 2), Some(0xBE | 0xBF)));
    if suspicious && text.contains(illegal) {
        text.retain(|c| !illegal(c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CP1251_TITLE: &[u8] = b"\xcf\xee\xeb\xe8\xf2\xe8\xea\xe0"; // "Политика"

    fn doc(prolog: &str) -> Vec<u8> {
        let mut v = prolog.as_bytes().to_vec();
        v.extend_from_slice(b"<rss version=\"2.0\"><channel><title>");
        v.extend_from_slice(CP1251_TITLE);
        v.extend_from_slice(b"</title></channel></rss>");
        v
    }

    #[test]
    fn prolog_encoding_is_honoured_and_rewritten() {
        let d = decode(
            &doc(r#"<?xml version="1.0" encoding="windows-1251"?>"#),
            None,
            None,
        );
        assert!(d.text.contains("Политика"));
        assert!(
            d.text
                .starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
        );
        assert_eq!(d.encoding, "windows-1251");
    }

    #[test]
    fn http_charset_alone_is_enough() {
        let d = decode(&doc(""), Some("windows-1251"), None);
        assert!(d.text.contains("Политика"));
    }

    #[test]
    fn misspelled_labels_are_understood() {
        for label in [
            "cp-1251",
            "win-1251",
            "windows1251",
            "CP1251",
            "\"windows-1251\"",
        ] {
            assert_eq!(
                encoding_for_label(label).map(|e| e.name()),
                Some("windows-1251"),
                "{label}"
            );
        }
        assert!(encoding_for_label("no-such-charset").is_none());
    }

    #[test]
    fn a_false_utf8_claim_falls_back_to_the_prolog() {
        let d = decode(
            &doc(r#"<?xml version="1.0" encoding="windows-1251"?>"#),
            Some("utf-8"),
            None,
        );
        assert!(d.text.contains("Политика"));
    }

    #[test]
    fn utf16_and_utf32_are_recognised_with_or_without_bom() {
        let xml = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss><channel><title>Год</title></channel></rss>";
        let utf16be: Vec<u8> = xml.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let utf16le: Vec<u8> = xml.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf32be: Vec<u8> = xml
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect();
        let mut utf32le_bom = vec![0xFF, 0xFE, 0, 0];
        utf32le_bom.extend(xml.chars().flat_map(|c| u32::from(c).to_le_bytes()));
        for (body, name) in [
            (utf16be, "UTF-16BE"),
            (utf16le, "UTF-16LE"),
            (utf32be, "UTF-32BE"),
            (utf32le_bom, "UTF-32LE"),
        ] {
            let d = decode(&body, None, None);
            assert_eq!(d.encoding, name);
            assert!(d.text.contains("<title>Год</title>"), "{name}: {}", d.text);
            assert!(
                d.text
                    .starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
            );
        }
    }

    #[test]
    fn a_second_xml_declaration_is_dropped() {
        let d = decode(
            br#"<?xml version="1.0"?><rss><?xml version="1.0" encoding="windows-1251"?><channel/><?xml-stylesheet href="s.xsl"?></rss>"#,
            None,
            None,
        );
        assert_eq!(
            d.text,
            r#"<?xml version="1.0" encoding="UTF-8"?><rss><channel/><?xml-stylesheet href="s.xsl"?></rss>"#
        );
    }

    #[test]
    fn control_characters_are_removed() {
        let d = decode("<a>x\u{1}y\u{1b}z</a>".as_bytes(), None, None);
        assert_eq!(d.text, "<a>xyz</a>");
    }

    #[test]
    fn undeclared_non_utf8_is_guessed() {
        // A longer KOI8-R text so the detector has something to go on.
        let text = "Государственная дума приняла закон о бюджете на следующий год";
        let (bytes, _, _) = encoding_rs::KOI8_R.encode(text);
        let mut body = b"<rss version=\"2.0\"><channel><title>".to_vec();
        body.extend_from_slice(&bytes);
        body.extend_from_slice(b"</title></channel></rss>");
        let d = decode(&body, None, None);
        assert!(d.text.contains(text), "{} -> {}", d.encoding, d.text);
    }
}
