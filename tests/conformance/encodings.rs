//! `encoding == 'x'`: judged by the text, not the label. Python codec names
//! and WHATWG labels differ (`us-ascii` is `windows-1252` to a browser,
//! `gb2312` is GBK), so a match is "reading these bytes as `x` gives exactly
//! the text we got".

use encoding_rs::Encoding;

/// Whether `ours` (our encoding name) reads `body` the way `want` does.
pub fn same_text(ours: &str, want: &str, body: &[u8]) -> bool {
    if ours.eq_ignore_ascii_case(want) {
        return true;
    }
    // encoding_rs has no UTF-32; our decoder names it exactly.
    if want.to_ascii_lowercase().contains("32") || ours.contains("32") {
        return false;
    }
    let (Some(a), Some(b)) = (
        Encoding::for_label(ours.as_bytes()),
        Encoding::for_label(want.trim().as_bytes()),
    ) else {
        return false;
    };
    if a == b {
        return true;
    }
    let body = match Encoding::for_bom(body) {
        Some((_, len)) => &body[len..],
        None => body,
    };
    let (x, bad_x) = a.decode_without_bom_handling(body);
    let (y, bad_y) = b.decode_without_bom_handling(body);
    !bad_x && !bad_y && x == y
}
