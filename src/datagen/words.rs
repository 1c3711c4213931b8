//! Word lists for text, name and email generators. Fixed and embedded, so the
//! generated data never depends on the machine's locale or files; and the
//! pure functions of a key that turn them into text, names and emails.

use rand::{Rng, RngExt};

pub const LOREM: &[&str] = &[
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
    "enim",
    "ad",
    "minim",
    "veniam",
    "quis",
    "nostrud",
    "exercitation",
    "ullamco",
    "laboris",
    "nisi",
    "aliquip",
    "ex",
    "ea",
    "commodo",
    "consequat",
    "duis",
    "aute",
    "irure",
    "in",
    "reprehenderit",
    "voluptate",
    "velit",
    "esse",
    "cillum",
    "fugiat",
    "nulla",
    "pariatur",
    "excepteur",
    "sint",
    "occaecat",
    "cupidatat",
    "non",
    "proident",
    "sunt",
    "culpa",
    "qui",
    "officia",
    "deserunt",
    "mollit",
    "anim",
    "id",
    "est",
    "laborum",
    "parcel",
    "invoice",
    "delivery",
    "refund",
    "gift",
    "express",
    "fragile",
    "weekend",
    "office",
    "door",
    "leave",
    "call",
    "please",
    "thanks",
];

pub const FIRST_NAMES: &[&str] = &[
    "Ada", "Alan", "Amara", "Anna", "Ari", "Bea", "Ben", "Carla", "Chen", "Dana", "Dev", "Elena", "Emil", "Fatima",
    "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jade", "Jonas", "Kai", "Keiko", "Lars", "Lea", "Leo", "Maya",
    "Mateo", "Mia", "Nadia", "Noah", "Olga", "Omar", "Priya", "Quinn", "Rafael", "Rosa", "Sam", "Sara", "Tariq",
    "Tess", "Uma", "Victor", "Wen", "Xavier", "Yara", "Yusuf", "Zoe", "Zhang",
];

pub const LAST_NAMES: &[&str] = &[
    "Abbott", "Ahmed", "Berg", "Brown", "Castro", "Chen", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Gupta",
    "Hansen", "Hoffman", "Ibrahim", "Ito", "Jansen", "Kim", "Kowalski", "Lopez", "Martin", "Meyer", "Moreau",
    "Nakamura", "Novak", "Okafor", "Olsen", "Patel", "Perez", "Quist", "Rossi", "Santos", "Schmidt", "Silva", "Singh",
    "Smith", "Suzuki", "Tanaka", "Torres", "Ueda", "Varga", "Wagner", "Wang", "Weber", "Wilson", "Xu", "Yilmaz",
    "Young", "Zhou", "Ziegler",
];

pub const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "mail.test",
    "inbox.test",
    "post.invalid",
];

/// Lorem-ipsum-like text of exactly `len` ASCII characters.
pub fn lorem<R: Rng + ?Sized>(rng: &mut R, len: usize) -> String {
    let mut s = String::with_capacity(len + 12);
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(LOREM[rng.random_range(0..LOREM.len())]);
    }
    s.truncate(len);
    s
}

/// SplitMix64 finaliser: a fixed bijective mix used to derive names from keys.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn name_parts(key: i64) -> (&'static str, &'static str) {
    let h = mix64(key as u64);
    (
        FIRST_NAMES[(h % FIRST_NAMES.len() as u64) as usize],
        LAST_NAMES[((h >> 32) % LAST_NAMES.len() as u64) as usize],
    )
}

/// A person-like name that is a pure function of `key`.
pub fn person_name(key: i64) -> String {
    let (first, last) = name_parts(key);
    format!("{first} {last}")
}

/// An email address that is a pure function of `key` and unique per key, so
/// an operation can look up the email of a generated user by drawing its id.
pub fn email(key: i64) -> String {
    let (first, last) = name_parts(key);
    let domain = DOMAINS[(mix64(key as u64 ^ 0x5bd1_e995) % DOMAINS.len() as u64) as usize];
    format!(
        "{}.{}{}@{domain}",
        first.to_ascii_lowercase(),
        last.to_ascii_lowercase(),
        key
    )
}
