//! Word lists for text, name and email generators. Fixed and embedded, so the
//! generated data never depends on the machine's locale or files.

pub const LOREM: &[&str] = &[
    "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do",
    "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua", "enim",
    "ad", "minim", "veniam", "quis", "nostrud", "exercitation", "ullamco", "laboris", "nisi",
    "aliquip", "ex", "ea", "commodo", "consequat", "duis", "aute", "irure", "in", "reprehenderit",
    "voluptate", "velit", "esse", "cillum", "fugiat", "nulla", "pariatur", "excepteur", "sint",
    "occaecat", "cupidatat", "non", "proident", "sunt", "culpa", "qui", "officia", "deserunt",
    "mollit", "anim", "id", "est", "laborum", "parcel", "invoice", "delivery", "refund", "gift",
    "express", "fragile", "weekend", "office", "door", "leave", "call", "please", "thanks",
];

pub const FIRST_NAMES: &[&str] = &[
    "Ada", "Alan", "Amara", "Anna", "Ari", "Bea", "Ben", "Carla", "Chen", "Dana", "Dev", "Elena",
    "Emil", "Fatima", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jade", "Jonas", "Kai",
    "Keiko", "Lars", "Lea", "Leo", "Maya", "Mateo", "Mia", "Nadia", "Noah", "Olga", "Omar",
    "Priya", "Quinn", "Rafael", "Rosa", "Sam", "Sara", "Tariq", "Tess", "Uma", "Victor", "Wen",
    "Xavier", "Yara", "Yusuf", "Zoe", "Zhang",
];

pub const LAST_NAMES: &[&str] = &[
    "Abbott", "Ahmed", "Berg", "Brown", "Castro", "Chen", "Costa", "Dubois", "Eriksen", "Fischer",
    "Garcia", "Gupta", "Hansen", "Hoffman", "Ibrahim", "Ito", "Jansen", "Kim", "Kowalski", "Lopez",
    "Martin", "Meyer", "Moreau", "Nakamura", "Novak", "Okafor", "Olsen", "Patel", "Perez", "Quist",
    "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Torres",
    "Ueda", "Varga", "Wagner", "Wang", "Weber", "Wilson", "Xu", "Yilmaz", "Young", "Zhou", "Ziegler",
];

pub const DOMAINS: &[&str] = &[
    "example.com", "example.org", "example.net", "mail.test", "inbox.test", "post.invalid",
];
