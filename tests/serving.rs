//! Answers as real readers get them: compressed once per render and
//! negotiated from `Accept-Encoding`, a validator per representation, and
//! the headers of a careful server.

mod common;

use common::*;
use std::io::Read;

async fn fetch(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    // No automatic decompression: what arrives is what the server sent.
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .unwrap();
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_answers_are_negotiated_from_precompressed_bodies() {
    let Standard {
        dir: _dir,
        feeds: _feeds,
        db: _db,
        daemon,
    } = standard_daemon("feedmerge.db").await;
    let url = daemon.url("/sections/Политика.atom");
    let plain = fetch(&url, &[]).await;
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.headers()["vary"], "Accept-Encoding");
    assert_eq!(plain.headers()["x-content-type-options"], "nosniff");
    let plain_tag = plain.headers()["etag"].to_str().unwrap().to_string();
    let plain_body = plain.bytes().await.unwrap();
    assert!(plain_body.len() > 1024, "big enough to be compressed");

    // What browsers and readers send.
    let br = fetch(&url, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(br.headers()["content-encoding"], "br");
    let br_tag = br.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(br_tag, plain_tag, "one validator per representation");
    let br_body = br.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    brotli::BrotliDecompress(&mut &br_body[..], &mut unpacked).unwrap();
    assert_eq!(unpacked, plain_body, "the same document");
    assert!(br_body.len() < plain_body.len() / 3);

    let gz = fetch(&url, &[("accept-encoding", "gzip;q=1, br;q=0")]).await;
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let gz_tag = gz.headers()["etag"].to_str().unwrap().to_string();
    let gz_body = gz.bytes().await.unwrap();
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&gz_body[..])
        .read_to_end(&mut text)
        .unwrap();
    assert_eq!(text, plain_body);
    assert!(
        br_body.len() <= gz_body.len(),
        "brotli at its quality is no larger than gzip: {} vs {}",
        br_body.len(),
        gz_body.len()
    );

    // Each representation answers 304 to its own tag.
    for (ae, tag) in [("", &plain_tag), ("br", &br_tag), ("gzip", &gz_tag)] {
        let r = fetch(&url, &[("accept-encoding", ae), ("if-none-match", tag)]).await;
        assert_eq!(r.status(), 304, "{ae}: {tag}");
        assert_eq!(r.headers()["etag"].to_str().unwrap(), tag.as_str());
    }

    // HTML pages: a strict policy, no referrer.
    let page = fetch(&daemon.url("/sections/Политика"), &[]).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");

    // HEAD: headers without a body; other methods: 405 naming what is allowed.
    let client = reqwest::Client::new();
    let head = client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.bytes().await.unwrap().is_empty());
    let post = client.post(&url).body("x").send().await.unwrap();
    assert_eq!(post.status(), 405);
    let allow = post.headers()["allow"]
        .to_str()
        .unwrap()
        .to_ascii_uppercase();
    assert!(allow.contains("GET") && allow.contains("HEAD"), "{allow}");
    daemon.stop().await;
}
