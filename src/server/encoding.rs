//! Compressed answers made once per render: a cached answer holds its
//! identity, gzip and brotli bytes, and each request only picks one by its
//! `Accept-Encoding` (with q-values). Compressing per request, as a layer
//! does, made compressed answers a hundred times slower than plain ones.

use axum::http::HeaderValue;
use bytes::Bytes;
use std::io::Write;

/// Bodies smaller than this are sent as they are: compression would save
/// less than a packet.
pub const MIN_COMPRESS: usize = 1024;

/// Brotli quality for cached answers. Measured on a 146 KB section feed
/// (Cyrillic Atom) on this project's 2-core machine: quality 5 costs about
/// 2 ms and writes a smaller body than gzip level 6 (which tower-http's
/// default brotli did not); 9 and above cost 10-100× more for a few
/// percent. Renders happen once per change, so a few ms is cheap.
pub const BROTLI_QUALITY: u32 = 5;

/// gzip level for cached answers (zlib's default trade-off).
pub const GZIP_LEVEL: u32 = 6;

/// A representation of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// As rendered.
    Identity,
    /// `Content-Encoding: gzip`.
    Gzip,
    /// `Content-Encoding: br`.
    Brotli,
}

impl Coding {
    /// The `Content-Encoding` value, none for identity.
    pub fn header(self) -> Option<HeaderValue> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some(HeaderValue::from_static("gzip")),
            Coding::Brotli => Some(HeaderValue::from_static("br")),
        }
    }

    /// What tells this representation's ETag apart from the others'.
    pub fn etag_suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Gzip => "-gz",
            Coding::Brotli => "-br",
        }
    }
}

/// The compressed forms of one body (none when it is small).
#[derive(Debug, Clone, Default)]
pub struct Compressed {
    /// gzip bytes.
    pub gzip: Option<Bytes>,
    /// brotli bytes.
    pub brotli: Option<Bytes>,
}

impl Compressed {
    /// Compresses `body` both ways, unless it is too small to gain.
    pub fn of(body: &[u8]) -> Compressed {
        if body.len() < MIN_COMPRESS {
            return Compressed::default();
        }
        Compressed {
            gzip: gzip(body).map(Bytes::from),
            brotli: brotli(body).map(Bytes::from),
        }
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.gzip.as_ref().map_or(0, Bytes::len) + self.brotli.as_ref().map_or(0, Bytes::len)
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::new(GZIP_LEVEL),
    );
    enc.write_all(body).ok()?;
    enc.finish().ok()
}

fn brotli(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() / 4);
    // A window no larger than the body (at least 64 KiB, at most 4 MiB):
    // the same output as a 4 MiB window for bodies that fit, and the
    // encoder's ring buffer sized to the body rather than 4 MiB per
    // render in flight.
    let fits = usize::BITS - body.len().max(1).leading_zeros();
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY as i32,
        lgwin: fits.clamp(16, 22) as i32,
        size_hint: body.len(),
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
    Some(out)
}

/// The representation to send for an `Accept-Encoding` value, among the
/// ones available: the highest q-value wins, brotli before gzip on a tie
/// (it is smaller); `q=0` refuses a coding; `*` stands for any coding not
/// named. Without the header, identity.
pub fn negotiate(accept: Option<&HeaderValue>, have_gzip: bool, have_brotli: bool) -> Coding {
    let Some(text) = accept.and_then(|v| v.to_str().ok()) else {
        return Coding::Identity;
    };
    let (mut br, mut gz, mut star) = (None::<f32>, None::<f32>, None::<f32>);
    for part in text.split(',').take(32) {
        let mut it = part.split(';');
        let name = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .find_map(|p| {
                let (k, v) = p.split_once('=')?;
                (k.trim().eq_ignore_ascii_case("q")).then(|| v.trim().parse::<f32>().ok())?
            })
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        match name.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gz = Some(q),
            "*" => star = Some(q),
            _ => {}
        }
    }
    let br = if have_brotli {
        br.or(star).unwrap_or(0.0)
    } else {
        0.0
    };
    let gz = if have_gzip {
        gz.or(star).unwrap_or(0.0)
    } else {
        0.0
    };
    if br > 0.0 && br >= gz {
        Coding::Brotli
    } else if gz > 0.0 {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(h: &str) -> Coding {
        negotiate(Some(&HeaderValue::from_str(h).unwrap()), true, true)
    }

    #[test]
    fn accept_encoding_is_negotiated_with_q_values() {
        assert_eq!(negotiate(None, true, true), Coding::Identity);
        assert_eq!(pick("gzip, deflate, br"), Coding::Brotli);
        assert_eq!(pick("gzip, deflate"), Coding::Gzip);
        assert_eq!(pick("br;q=0.5, gzip"), Coding::Gzip);
        assert_eq!(pick("br;q=0, gzip;q=0"), Coding::Identity);
        assert_eq!(pick("*"), Coding::Brotli);
        assert_eq!(pick("gzip;q=1, *;q=0"), Coding::Gzip);
        assert_eq!(pick("identity"), Coding::Identity);
        assert_eq!(
            negotiate(Some(&HeaderValue::from_static("br")), true, false),
            Coding::Identity
        );
    }

    #[test]
    fn bodies_compress_once_both_ways_and_round_trip() {
        let body = "<entry><title>Политика сегодня</title></entry>\n".repeat(200);
        let c = Compressed::of(body.as_bytes());
        let gz = c.gzip.as_ref().expect("gzip");
        let br = c.brotli.as_ref().expect("brotli");
        assert!(br.len() < body.len() / 4 && gz.len() < body.len() / 4);
        let mut back = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut back)
            .unwrap();
        assert_eq!(back, body);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut out).unwrap();
        assert_eq!(out, body.as_bytes());
        assert!(Compressed::of(b"small").is_empty());
    }
}
