//! Word lists the decision uses: month names, stopwords, agency names that
//! appear in datelines, and the markers of a denial, a verdict, a start or
//! an end. Kept small and by hand: a stopword crate's lists are several
//! times longer and drop words («заявил» aside) that carry the event.

use std::collections::HashSet;
use std::sync::LazyLock;

/// The month a word names (Russian genitive and nominative, English,
/// Azerbaijani), 1-12.
pub fn month(word: &str) -> Option<u8> {
    const MONTHS: [&[&str]; 12] = [
        &["января", "январь", "january", "jan", "yanvar"],
        &["февраля", "февраль", "february", "feb", "fevral"],
        &["марта", "март", "march", "mart"],
        &["апреля", "апрель", "april", "apr", "aprel"],
        &["мая", "май", "may", "mayis", "may"],
        &["июня", "июнь", "june", "jun", "iyun"],
        &["июля", "июль", "july", "jul", "iyul"],
        &["августа", "август", "august", "aug", "avqust"],
        &["сентября", "сентябрь", "september", "sep", "sentyabr"],
        &["октября", "октябрь", "october", "oct", "oktyabr"],
        &["ноября", "ноябрь", "november", "nov", "noyabr"],
        &["декабря", "декабрь", "december", "dec", "dekabr"],
    ];
    MONTHS
        .iter()
        .position(|names| names.contains(&word))
        .and_then(|i| u8::try_from(i + 1).ok())
}

/// Words that carry no event: function words, reporting verbs, agency
/// boilerplate. Folded (lowercase, «ё» → «е»).
pub fn is_stopword(word: &str) -> bool {
    const WORDS: &[&str] = &[
        // Russian function words.
        "и",
        "в",
        "во",
        "не",
        "что",
        "он",
        "на",
        "я",
        "с",
        "со",
        "как",
        "а",
        "то",
        "все",
        "она",
        "так",
        "его",
        "но",
        "да",
        "ты",
        "к",
        "у",
        "же",
        "вы",
        "за",
        "бы",
        "по",
        "только",
        "ее",
        "мне",
        "было",
        "вот",
        "от",
        "меня",
        "еще",
        "нет",
        "о",
        "об",
        "из",
        "ему",
        "теперь",
        "когда",
        "даже",
        "ну",
        "ли",
        "если",
        "уже",
        "или",
        "ни",
        "быть",
        "был",
        "него",
        "до",
        "вас",
        "нибудь",
        "опять",
        "уж",
        "вам",
        "ведь",
        "там",
        "потом",
        "себя",
        "ничего",
        "ей",
        "может",
        "они",
        "тут",
        "где",
        "есть",
        "надо",
        "ней",
        "для",
        "мы",
        "тебя",
        "их",
        "чем",
        "была",
        "сам",
        "чтоб",
        "без",
        "будто",
        "чего",
        "раз",
        "тоже",
        "себе",
        "под",
        "будет",
        "ж",
        "тогда",
        "кто",
        "этот",
        "того",
        "потому",
        "этого",
        "какой",
        "совсем",
        "ним",
        "здесь",
        "этом",
        "один",
        "почти",
        "мой",
        "тем",
        "чтобы",
        "нее",
        "были",
        "куда",
        "зачем",
        "всех",
        "никогда",
        "можно",
        "при",
        "наконец",
        "два",
        "об",
        "другой",
        "хоть",
        "после",
        "над",
        "больше",
        "тот",
        "через",
        "эти",
        "нас",
        "про",
        "всего",
        "них",
        "какая",
        "много",
        "разве",
        "три",
        "эту",
        "моя",
        "впрочем",
        "хорошо",
        "свою",
        "этой",
        "перед",
        "иногда",
        "лучше",
        "чуть",
        "том",
        "нельзя",
        "такой",
        "им",
        "более",
        "всегда",
        "конечно",
        "всю",
        "между",
        "это",
        "также",
        "также",
        "который",
        "которые",
        "которая",
        "которое",
        "которых",
        "году",
        "года",
        "год",
        "г",
        "гг",
        "ее",
        "свой",
        "своей",
        "своего",
        "его",
        "сегодня",
        "вчера",
        "ранее",
        "сообщает",
        "сообщил",
        "сообщила",
        "сообщили",
        "сообщается",
        "заявил",
        "заявила",
        "заявили",
        "отметил",
        "отметила",
        "передает",
        "пишет",
        "корреспондент",
        "агентство",
        "агентства",
        "информагентство",
        "информирует",
        "новости",
        "источник",
        "данным",
        "словам",
        "связи",
        "рамках",
        "ходе",
        "числе",
        "том",
        "время",
        "около",
        "стало",
        "известно",
        "обновлено",
        "дополнено",
        "фото",
        "видео",
        "срочно",
        "молния",
        "эксклюзив",
        "инфографика",
        "дтп",
        "сми",
        "ввп",
        "ндс",
        "млн",
        "млрд",
        "тыс",
        "км",
        "ооо",
        "оао",
        "зао",
        "итогам",
        "также",
        "этом",
        "весь",
        "всем",
        "ряд",
        "со",
        "со",
        // English.
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "and",
        "or",
        "is",
        "was",
        "were",
        "be",
        "by",
        "with",
        "from",
        "as",
        "that",
        "this",
        "it",
        "its",
        "has",
        "have",
        "had",
        "said",
        "says",
        "reports",
        "reported",
        "according",
        "news",
        "agency",
        // Azerbaijani.
        "və",
        "ilə",
        "bu",
        "bir",
        "da",
        "də",
        "ki",
        "üçün",
        "olan",
        "olub",
        "edib",
        "bildirib",
        "xəbər",
        "verir",
    ];
    // Hashed: a signature asks about every word of a report.
    static SET: LazyLock<HashSet<&str>> = LazyLock::new(|| WORDS.iter().copied().collect());
    SET.contains(word)
}

/// Agency and outlet names that open or close a lead («Баку, 22 ноября,
/// АЗЕРТАДЖ»). Each outlet names itself, so these would read as entities
/// that conflict between two reprints of one story.
pub fn is_outlet(word: &str) -> bool {
    const OUTLETS: &[&str] = &[
        "азертадж",
        "azertac",
        "azertag",
        "trend",
        "тренд",
        "report",
        "репорт",
        "apa",
        "апа",
        "тасс",
        "tass",
        "риа",
        "ria",
        "интерфакс",
        "interfax",
        "sputnik",
        "спутник",
        "kazinform",
        "казинформ",
        "uza",
        "уза",
        "akipress",
        "акипресс",
        "акиpress",
        "kabar",
        "кабар",
        "ховар",
        "khovar",
        "turan",
        "туран",
        "oxu",
        "azernews",
        "az",
        "kz",
        "uz",
        "kg",
        "ru",
        "news",
        "новости",
        "haqqin",
        "vesti",
        "вести",
        "podrobno",
        "подробно",
        "zakon",
        "tengrinews",
        "тенгриньюс",
        "gazeta",
        "газета",
        "uzdaily",
        "daryo",
        "rbc",
        "рбк",
        "lenta",
        "лента",
        "коммерсант",
        "ведомости",
        "известия",
        "кабар",
        "ап",
        "inform",
        "информ",
        "bakupost",
        "minval",
        "1news",
    ];
    static SET: LazyLock<HashSet<&str>> = LazyLock::new(|| OUTLETS.iter().copied().collect());
    SET.contains(word)
}

/// What kind of report a text is, beyond its event: a denial, a verdict,
/// the start or the end of something. A report of each kind is another
/// story than the report it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// «опроверг», «не соответствует действительности», «фейк».
    Denial,
    /// «приговорил», «вынес приговор», «осужден».
    Verdict,
    /// «начался», «стартовал», «открылся».
    Start,
    /// «завершился», «закрылся», «подвели итоги».
    End,
    /// What came after an event, or a comment on it: «афтершоки», «после
    /// землетрясения», «последствия», «прокомментировал».
    FollowUp,
}

impl Marker {
    /// The bit of this marker in a marker set.
    pub const fn bit(self) -> u8 {
        match self {
            Marker::Denial => 1,
            Marker::Verdict => 2,
            Marker::Start => 4,
            Marker::End => 8,
            Marker::FollowUp => 16,
        }
    }
}

/// The markers a folded text carries, as bits of [`Marker::bit`].
pub fn markers(folded: &str) -> u8 {
    markers_by(folded, false)
}

/// [`markers`], by the automaton or (`slow`) phrase by phrase.
fn markers_by(folded: &str, slow: bool) -> u8 {
    const TABLE: &[(Marker, &[&str])] = &[
        (
            Marker::Denial,
            &[
                "опроверг",
                "опровержени",
                "не соответствует действительности",
                "не соответствуют действительности",
                "фейк",
                "ложная информация",
                "ложной информации",
                "дезинформаци",
                "не подтвердил",
                "не подтверждает",
                "опровергл",
                "denied",
                "denies",
                "fake",
                "təkzib",
            ],
        ),
        (
            Marker::Verdict,
            &[
                "приговор",
                "осужден",
                "осудил",
                "признал виновн",
                "признан виновн",
                "лет лишения свободы",
                "лет колонии",
                "sentenced",
                "verdict",
                "hökm",
            ],
        ),
        (
            Marker::Start,
            &[
                "начался",
                "началось",
                "началась",
                "стартовал",
                "открылся",
                "открылась",
                "открылось",
                "приступил к рассмотрению",
                "начал рассматривать",
                "начал рассмотрение",
                "первое заседание",
                "started",
                "opened",
                "başladı",
            ],
        ),
        (
            Marker::End,
            &[
                "завершился",
                "завершилась",
                "завершилось",
                "закрылся",
                "закрылась",
                "подвели итоги",
                "подведены итоги",
                "finished",
                "ended",
                "closed",
                "başa çatdı",
            ],
        ),
        (
            Marker::FollowUp,
            &[
                "афтершок",
                "повторные толчки",
                "повторных толчков",
                "после землетрясения",
                "после аварии",
                "после пожара",
                "после наводнения",
                "последствия",
                "последствий",
                "оценке ущерба",
                "оценку ущерба",
                "итоги визита",
                "итогам визита",
                "прокомментировал",
                "прокомментировали",
                "комментарий",
                "по мнению экспертов",
                "политолог",
                "aftershock",
                "aftermath",
            ],
        ),
    ];
    // Every phrase in one automaton, with its marker's bit by pattern
    // number: one pass over a report instead of a scan per phrase.
    // Overlapping search reports every phrase that occurs, so the bits
    // are those of `contains` phrase by phrase.
    static FINDER: LazyLock<Option<(aho_corasick::AhoCorasick, Vec<u8>)>> = LazyLock::new(|| {
        let pairs: Vec<(&str, u8)> = TABLE
            .iter()
            .flat_map(|(m, phrases)| phrases.iter().map(move |p| (*p, m.bit())))
            .collect();
        let finder = aho_corasick::AhoCorasick::new(pairs.iter().map(|(p, _)| p)).ok()?;
        Some((finder, pairs.into_iter().map(|(_, bit)| bit).collect()))
    });
    match &*FINDER {
        Some((finder, bits)) if !slow => finder
            .find_overlapping_iter(folded)
            .fold(0, |set, m| set | bits[m.pattern().as_usize()]),
        // The phrase-by-phrase scan the automaton stands for (not reached
        // with this table but in tests).
        _ => TABLE
            .iter()
            .filter(|(_, phrases)| phrases.iter().any(|p| folded.contains(p)))
            .fold(0, |bits, (m, _)| bits | m.bit()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The automaton finds the markers `contains` finds phrase by phrase,
    /// overlapping phrases («опроверг» in «опровергли») included.
    #[test]
    fn markers_in_one_pass_are_those_of_each_phrase() {
        let slow = |text: &str| markers_by(text, true);
        let mut texts: Vec<String> = [
            "опроверг",
            "не соответствует действительности",
            "fake",
            "təkzib",
            "признан виновн",
            "лет колонии",
            "hökm",
            "стартовал",
            "приступил к рассмотрению",
            "başladı",
            "подвели итоги",
            "başa çatdı",
            "ended",
            "повторных толчков",
            "по мнению экспертов",
            "aftermath",
        ]
        .iter()
        .map(|p| format!("x {p} y"))
        .collect();
        texts.push("суд начался, а затем завершился: приговор опровергли".into());
        texts.push("после землетрясения начались афтершоки".into());
        texts.push("опровергл".into());
        texts.push(String::new());
        texts.push("ничего".into());
        for t in &texts {
            assert_eq!(markers(t), slow(t), "{t}");
        }
        assert_eq!(
            markers("опровергли приговор"),
            Marker::Denial.bit() | Marker::Verdict.bit()
        );
    }

    #[test]
    fn word_sets_answer_as_the_lists() {
        for w in ["и", "что", "olub", "verir"] {
            assert!(is_stopword(w), "{w}");
        }
        for w in ["азертадж", "trend", "tass"] {
            assert!(is_outlet(w), "{w}");
        }
        assert!(!is_stopword("президент") && !is_outlet("президент"));
    }
}
