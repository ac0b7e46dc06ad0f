//! HTML scraping figures (not timed tests): listing parse + extraction and
//! article extraction per ~200 KB page, one core. Goals: listing ≤ 10 ms,
//! article ≤ 20 ms. Prints the median of several runs beside the parse of
//! the same bytes alone (the baseline, measured in the same run).

use feedmerge::config::{ArticleRules, HtmlRules};
use feedmerge::pipeline::scrape::{extract_article, scrape_listing};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

fn listing_page(bytes: usize) -> String {
    let mut s = String::from(
        "<!DOCTYPE html><html lang=\"ru\"><head><meta charset=\"utf-8\"><title>Политика</title><base href=\"/ru/\"></head><body><nav><a href=\"/ru/\">Главная</a></nav><section class=\"news-list\">",
    );
    let mut n = 0;
    while s.len() < bytes {
        s.push_str(&format!(
            "<div class=\"item\"><a class=\"title\" href=\"politics/novost-{n}-{}\">Алиев призвал страны Центральной Азии к сотрудничеству №{n}</a><p class=\"lead\">Азербайджан и страны Центральной Азии являются единым пространством. <img src=\"../media/{n}.jpg\"></p><span class=\"rubric\">Политика</span><span class=\"date\">9 август 2024 16:24</span></div>\n",
            2_000_000 + n
        ));
        n += 1;
    }
    s.push_str("</section><aside class=\"related\"><a href=\"/x-1\">x</a></aside></body></html>");
    s
}

fn article_page(bytes: usize) -> String {
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/html/article-seed.html"
    ))
    .expect("fixture");
    let (head, rest) = seed
        .split_once("<div class=\"article-body\">")
        .expect("shape");
    let (body, tail) = rest.split_once("</div>").expect("shape");
    let mut grown = body.to_string();
    while head.len() + grown.len() + tail.len() < bytes {
        grown.push_str(body);
    }
    format!("{head}<div class=\"article-body\">{grown}</div>{tail}")
}

fn main() {
    let zone = chrono_tz::Asia::Baku;
    let listing = listing_page(200 * 1024);
    let rules = HtmlRules {
        item: ".news-list .item".into(),
        title: "a.title".into(),
        link: None,
        link_pattern: Some(regex::Regex::new(r"-\d+$").unwrap()),
        summary: Some("p.lead".into()),
        date: Some(".date".into()),
        date_format: Some("%d %B %Y %H:%M".into()),
        category: Some(".rubric".into()),
        exclude: Some(".related, aside, nav".into()),
        max_items: 1000,
    };
    let url = "https://agency.example/ru/politics";
    let base = time(15, || {
        std::hint::black_box(scraper::Html::parse_document(&listing));
    });
    let mut kept = 0;
    let scrape = time(15, || {
        let l = scrape_listing(&listing, url, &rules, zone);
        kept = l.feed.entries.len();
    });
    println!(
        "listing  {:>4} KB, {kept} items: scrape {scrape:.2} ms/page (goal ≤ 10), html5ever parse alone {base:.2} ms",
        listing.len() / 1024
    );
    let article = article_page(200 * 1024);
    let auto = ArticleRules {
        content: None,
        title: None,
        date: Some(".date".into()),
        date_format: Some("%d %B %Y %H:%M".into()),
        category: Some(".section-label".into()),
        exclude: Some(".related, .share".into()),
        max_per_poll: 10,
    };
    let by_selector = ArticleRules {
        content: Some(".article-body".into()),
        ..auto.clone()
    };
    let url = "https://agency.example/ru/politics/a-2116790";
    let base = time(9, || {
        std::hint::black_box(scraper::Html::parse_document(&article));
    });
    let sel = time(9, || {
        extract_article(&article, url, &by_selector, zone).expect("extracts");
    });
    let readability = time(9, || {
        extract_article(&article, url, &auto, zone).expect("extracts");
    });
    println!(
        "article  {:>4} KB: content selector {sel:.2} ms/page, automatic (dom_smoothie) {readability:.2} ms/page (goal ≤ 20), html5ever parse alone {base:.2} ms",
        article.len() / 1024
    );
}
