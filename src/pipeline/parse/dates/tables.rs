//! Word tables of the date parser: month names, weekdays, fillers and
//! zone abbreviations.

/// Lower-case spellings of each month: English, Russian, Ukrainian,
/// Azerbaijani, then Hungarian and Greek (feedparser vectors) and the
/// Portuguese abbreviations of Brazilian portals ("Seg, 24 Set 2018").
#[rustfmt::skip]
pub(super) const MONTHS: [&[&str]; 12] = [
    &["jan", "january", "январь", "января", "янв", "січень", "січня", "січ", "yanvar", "yan", "január", "ιαν"],
    &["feb", "february", "февраль", "февраля", "фев", "февр", "лютий", "лютого", "лют", "fevral", "fev", "február", "φεβ"],
    &["mar", "march", "март", "марта", "мар", "березень", "березня", "бер", "mart", "március", "márc", "μάρ", "μαρ"],
    &["apr", "april", "апрель", "апреля", "апр", "квітень", "квітня", "квіт", "кві", "aprel", "április", "ápr", "απρ", "abr"],
    &["may", "май", "мая", "травень", "травня", "трав", "тра", "május", "máj", "μάι", "μαϊ", "μαι", "mai"],
    &["jun", "june", "июнь", "июня", "июн", "червень", "червня", "черв", "чер", "iyun", "iyn", "június", "jún", "ιούν", "ιον"],
    &["jul", "july", "июль", "июля", "июл", "липень", "липня", "лип", "iyul", "iyl", "július", "júl", "ιούλ", "ιολ"],
    &["aug", "august", "август", "августа", "авг", "серпень", "серпня", "серп", "сер", "avqust", "avq", "augusztus", "αύγ", "αυγ", "ago"],
    &["sep", "sept", "september", "сентябрь", "сентября", "сен", "сент", "вересень", "вересня", "вер", "sentyabr", "sen", "szeptember", "szept", "σεπ", "set"],
    &["oct", "october", "октябрь", "октября", "окт", "жовтень", "жовтня", "жовт", "жов", "oktyabr", "okt", "október", "οκτ", "out"],
    &["nov", "november", "ноябрь", "ноября", "ноя", "нояб", "листопад", "листопада", "лист", "лис", "noyabr", "noy", "νοέ", "νοε"],
    &["dec", "december", "декабрь", "декабря", "дек", "грудень", "грудня", "груд", "гру", "dekabr", "dek", "δεκ", "dez"],
];

/// Weekdays are ignored (feeds often get them wrong). Azerbaijani names are
/// two words ("bazar ertəsi"), so their parts are listed separately.
/// Apostrophes are dropped before comparing, hence "пятниця" for п'ятниця.
#[rustfmt::skip]
pub(super) const WEEKDAYS: &[&str] = &[
    "mon", "monday", "tue", "tues", "tuesday", "wed", "weds", "wednesday", "thu", "thur", "thurs",
    "thursday", "fri", "friday", "sat", "saturday", "sun", "sunday",
    "пн", "вт", "ср", "чт", "пт", "сб", "вс", "нд", "понедельник", "вторник", "среда", "четверг",
    "пятница", "суббота", "воскресенье", "понеділок", "вівторок", "середа", "четвер", "пятниця",
    "субота", "неділя", "bazar", "ertəsi", "çərşənbə", "axşamı", "cümə", "şənbə",
    "κυρ", "δευ", "τρι", "τετ", "πεμ", "παρ", "σαβ",
    "월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일",
];

/// Words that sit between the parts of a date: "2024 г.", "року", "в 16:24", "saat".
#[rustfmt::skip]
pub(super) const FILLERS: &[&str] = &["г", "года", "год", "р", "року", "рік", "в", "во", "о", "об", "saat"];

/// Zone abbreviations with their offset in minutes. "at" (Atlantic) is only a
/// zone after a time; before one it is the English word.
#[rustfmt::skip]
pub(super) const ZONES: &[(&str, i32)] = &[
    ("z", 0), ("wet", 0), ("west", 60), ("bst", 60), ("cet", 60), ("cest", 120), ("met", 60),
    ("mest", 120), ("eet", 120), ("eest", 180), ("msk", 180), ("мск", 180), ("samt", 240),
    ("azt", 240), ("azst", 300), ("get", 240), ("yekt", 300), ("uzt", 300), ("tjt", 300),
    ("tmt", 300), ("almt", 300), ("pkt", 300), ("kgt", 360), ("hkt", 480), ("awst", 480),
    ("kst", 540), ("jst", 540), ("aest", 600), ("aedt", 660), ("nzst", 720), ("nzdt", 780),
    ("nst", -210), ("ndt", -150), ("ast", -240), ("adt", -180), ("at", -240), ("est", -300),
    ("edt", -240), ("et", -300), ("cst", -360), ("cdt", -300), ("ct", -360), ("mst", -420),
    ("mdt", -360), ("mt", -420), ("pst", -480), ("pdt", -420), ("pt", -480), ("akst", -540),
    ("akdt", -480), ("hst", -600),
];
