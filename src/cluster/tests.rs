use super::*;

fn report(source: &str, title: &str, lead: &str) -> Report {
    Report {
        source: source.into(),
        title: title.into(),
        lead: lead.into(),
        published: None,
        lang: None,
    }
}

fn rule(a: &Report, b: &Report) -> Rule {
    decide(a, b, DEFAULT_WINDOW).rule
}

#[test]
fn a_reprint_with_small_edits_is_one_event() {
    let a = report(
        "azertag",
        "Президент Азербайджана принял министра иностранных дел Венгрии",
        "Баку, 22 ноября, АЗЕРТАДЖ. Президент Азербайджанской Республики Ильхам Алиев 22 ноября принял министра иностранных дел и внешней торговли Венгрии Петера Сийярто.",
    );
    let b = report(
        "report.az",
        "Ильхам Алиев принял министра иностранных дел Венгрии",
        "Президент Азербайджанской Республики Ильхам Алиев 22 ноября принял министра иностранных дел и внешней торговли Венгрии Петера Сийярто, сообщает Report.",
    );
    assert!(
        decide(&a, &b, DEFAULT_WINDOW).same,
        "{:?}",
        decide(&a, &b, DEFAULT_WINDOW)
    );
}

#[test]
fn another_country_in_the_template_vetoes() {
    let a = report(
        "azertag",
        "Президент Азербайджана принял министра иностранных дел Венгрии",
        "Президент Ильхам Алиев 22 ноября принял министра иностранных дел Венгрии Петера Сийярто.",
    );
    let b = report(
        "trend",
        "Президент Азербайджана принял министра иностранных дел Словакии",
        "Президент Ильхам Алиев 22 ноября принял министра иностранных дел Словакии Юрая Бланара.",
    );
    assert_eq!(rule(&a, &b), Rule::EntityConflict);
}

#[test]
fn another_day_or_value_vetoes() {
    let a = report(
        "apa",
        "Курс маната на 22 ноября",
        "Центробанк установил курс доллара на уровне 1,7 маната.",
    );
    let b = report(
        "trend",
        "Курс маната на 23 ноября",
        "Центробанк установил курс доллара на уровне 1,7 маната.",
    );
    assert_eq!(rule(&a, &b), Rule::DateConflict);
    let a = report(
        "apa",
        "В Шамахы произошло землетрясение",
        "Магнитуда землетрясения составила 4,1.",
    );
    let b = report(
        "trend",
        "В Шамахы произошло землетрясение",
        "Магнитуда землетрясения составила 3,6.",
    );
    assert_eq!(rule(&a, &b), Rule::NumberConflict);
}

#[test]
fn a_denial_is_another_story() {
    let a = report(
        "apa",
        "СМИ сообщили об отставке министра энергетики",
        "Министр энергетики Парвиз Шахбазов подал в отставку, пишут СМИ.",
    );
    let b = report(
        "trend",
        "Минэнерго опровергло сообщения об отставке министра",
        "Сообщения об отставке министра энергетики Парвиза Шахбазова не соответствуют действительности.",
    );
    assert_eq!(rule(&a, &b), Rule::MarkerConflict);
}

#[test]
fn one_source_or_two_languages_never_merge() {
    let a = report(
        "Trend",
        "Курс маната на 22 ноября",
        "Курс доллара 1,7 маната.",
    );
    let b = report(
        "trend",
        "Курс маната на 22 ноября",
        "Курс доллара 1,7 маната.",
    );
    assert_eq!(rule(&a, &b), Rule::SameSource);
    let c = report("apa", "Manatın 22 noyabr məzənnəsi", "Dollar 1,7 manat.");
    assert_eq!(rule(&a, &c), Rule::DifferentLanguage);
}

#[test]
fn reports_outside_the_window_never_merge() {
    let mut a = report("apa", "Курс маната", "Курс доллара 1,7 маната.");
    let mut b = report("trend", "Курс маната", "Курс доллара 1,7 маната.");
    a.published = Some("2026-11-20T10:00:00Z".parse().unwrap());
    b.published = Some("2026-11-23T10:00:00Z".parse().unwrap());
    assert_eq!(rule(&a, &b), Rule::OutsideWindow);
}

/// Prints the signatures of one gold pair: `GOLD_PAIR=dev-0122 cargo test
/// --lib cluster::tests::debug_pair -- --nocapture`.
#[test]
fn debug_pair() {
    let Ok(id) = std::env::var("GOLD_PAIR") else {
        return;
    };
    let set = id.split('-').next().unwrap_or("dev");
    let path = format!(
        "{}/tests/fixtures/clustering/{set}.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["id"] != id.as_str() {
            continue;
        }
        let side = |s: &serde_json::Value| Report {
            source: s["source"].as_str().unwrap_or("").into(),
            title: s["title"].as_str().unwrap_or("").into(),
            lead: s["lead"].as_str().unwrap_or("").into(),
            published: None,
            lang: None,
        };
        let (a, b) = (
            Signature::new(&side(&v["a"])),
            Signature::new(&side(&v["b"])),
        );
        println!("{line}\nA: {a:#?}\nB: {b:#?}");
        println!(
            "dates {} numbers {} entities {} markers {}",
            dates_conflict(&a, &b),
            numbers_conflict(&a, &b),
            entities_conflict(&a, &b),
            markers_conflict(a.markers, b.markers)
        );
    }
}

#[test]
fn the_gazetteer_knows_names_in_any_case() {
    for word in [
        "грузии",
        "токаев",
        "баку",
        "азербайджана",
        "астане",
        "шамахинском",
    ] {
        let k = signature::name_key(word, "ru");
        assert!(gazetteer::group(&k).is_some(), "{word} → {k}");
    }
}

/// A signature is the same whether its words' keys are remembered or
/// computed afresh (the per-thread memo, emptied when full).
#[test]
fn remembered_word_keys_change_no_signature() {
    let texts = [
        (
            "Президент Азербайджана принял министра иностранных дел Венгрии",
            "Баку, 22 ноября, АЗЕРТАДЖ. Президент Ильхам Алиев 22 ноября принял министра Петера Сийярто.",
        ),
        (
            "Magnitude 4.1 earthquake hits Zagatala",
            "An earthquake of magnitude 4.1 struck the Zagatala district at 10:35, officials said.",
        ),
        (
            "Qarabağ'ın futbolçuları Bakıya qayıdıb",
            "Qarabağ komandası 3:1 hesabı ilə qalib gəlib.",
        ),
    ];
    let signatures = move |round: usize| -> Vec<Signature> {
        texts
            .iter()
            .flat_map(|(t, l)| {
                ["ru", "en", "az"].map(|lang| {
                    Signature::new(&Report {
                        lang: Some(lang.into()),
                        ..report(&format!("outlet-{round}"), t, l)
                    })
                })
            })
            .map(|mut s| {
                s.source.clear();
                s
            })
            .collect()
    };
    let cold = std::thread::spawn(move || signatures(0))
        .join()
        .expect("a signature never panics");
    assert_eq!(signatures(1), signatures(2));
    assert_eq!(cold, signatures(3));
    // Past the memo's bound it starts over and still agrees.
    for i in 0..signature::WORD_KEYS_KEPT + 10 {
        // A word of its own per report: `i` in Russian letters.
        let word: String = (0..4)
            .map(|d| char::from_u32('а' as u32 + (i >> (5 * d) & 31) as u32).unwrap_or('а'))
            .collect();
        let _ = Signature::new(&report("x", &word, ""));
    }
    assert_eq!(cold, signatures(4));
    // A word too long to be kept is keyed afresh, alike each time.
    let long = "ы".repeat(100);
    let once = Signature::new(&report("x", &long, &long));
    assert_eq!(once, Signature::new(&report("x", &long, &long)));
}
