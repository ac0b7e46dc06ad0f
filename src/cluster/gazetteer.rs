//! Names the decision knows: countries with their capitals and leaders,
//! and the cities of the region's agency copy. Two reports that each name
//! a place or a leader the other does not tell two events («… принял
//! министра Венгрии» / «… Словакии»); and «Баку», «Алиев» and
//! «Азербайджан» name one party, so a rewrite that says «Баку» where the
//! other says «Азербайджан» agrees.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A group of names for one place or party.
pub type Group = u16;

/// One line per group: a country with its capital and leader, or a city.
const GROUPS: &[&str] = &[
    "азербайджан баку алиев ильхам",
    "казахстан астана токаев",
    "узбекистан ташкент мирзиеев шавкат",
    "кыргызстан киргизия бишкек жапаров садыр",
    "таджикистан душанбе рахмон эмомали",
    "туркменистан туркмения ашхабад бердымухамедов",
    "россия рф москва путин кремль",
    "турция анкара эрдоган",
    "грузия тбилиси кобахидзе",
    "армения ереван пашинян",
    "беларусь белоруссия минск лукашенко",
    "иран тегеран пезешкиан",
    "сша вашингтон трамп",
    "китай кнр пекин",
    "венгрия будапешт орбан",
    "словакия братислава фицо",
    "италия рим мелони",
    "франция париж макрон",
    "германия фрг берлин мерц",
    "польша варшава",
    "латвия рига",
    "литва вильнюс",
    "эстония таллин",
    "сербия белград вучич",
    "румыния бухарест",
    "болгария софия",
    "австрия вена",
    "чехия прага",
    "хорватия загреб",
    "украина киев зеленский",
    "великобритания британия лондон",
    "испания мадрид",
    "греция афины",
    "пакистан исламабад",
    "египет каир",
    "иордания амман",
    "катар доха",
    "оман маскат",
    "япония токио",
    "монголия уланбатор",
    "индия дели",
    "оаэ эмираты",
    "саудовская рияд",
    "израиль",
    "сирия дамаск",
    "ирак багдад",
    "афганистан кабул",
    "молдова молдавия кишинев",
    "гянджа",
    "сумгайыт",
    "шеки",
    "ленкорань",
    "нахчыван",
    "мингечевир",
    "шамахы шамахинский",
    "габала габалинский",
    "исмаиллы исмаиллинский",
    "гах гахский",
    "загатала загатальский",
    "губа губинский",
    "шуша",
    "ханкенди",
    "алматы",
    "шымкент",
    "караганда",
    "актобе",
    "тараз",
    "самарканд",
    "бухара",
    "фергана ферганский",
    "андижан",
    "наманган",
    "ош ошский",
    "джалал",
    "каракол",
    "иссык",
    "худжанд",
    "стамбул",
    "анталья",
    "дубай",
    "шарджа",
    "милан",
];

/// Entity keys (as [`super::signature`] makes them) to their group.
static INDEX: LazyLock<HashMap<String, Group>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for (g, line) in GROUPS.iter().enumerate() {
        let g = Group::try_from(g).unwrap_or(Group::MAX);
        for word in line.split(' ') {
            // The stem of the dictionary form and its first letters: the
            // stemmer cuts «астана» and «астане» differently.
            map.entry(super::signature::name_key(word, "ru"))
                .or_insert(g);
            map.entry(word.chars().take(super::signature::NAME_LETTERS).collect())
                .or_insert(g);
        }
    }
    map
});

/// The group a name key belongs to, if it is a known name.
pub fn group(name_key: &str) -> Option<Group> {
    if name_key.chars().count() < 2 {
        return None;
    }
    INDEX.get(name_key).copied()
}
