//! Lexical helpers for SQL text: finding `$n` placeholders outside strings,
//! quoted identifiers and comments, rewriting them for dialects, and telling
//! reads from writes.

/// Calls `f(byte_offset, len, n)` for every `$n` placeholder outside string
/// literals, quoted identifiers and comments.
fn scan_placeholders(sql: &str, mut f: impl FnMut(usize, usize, usize)) {
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' | b'`' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'$' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let start = i;
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let n = sql[start + 1..i].parse().unwrap_or(usize::MAX);
                f(start, i - start, n);
            }
            _ => i += 1,
        }
    }
}

/// The highest placeholder number used (`$3` → 3), 0 when there are none.
pub fn max_placeholder(sql: &str) -> usize {
    let mut max = 0;
    scan_placeholders(sql, |_, _, n| max = max.max(n));
    max
}

/// Rewrites `$n` to `?n`, SQLite's numbered-parameter syntax (SQLite would
/// read `$1` as a *named* parameter and number it by first appearance).
pub fn to_question_numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut last = 0;
    scan_placeholders(sql, |start, len, _| {
        out.push_str(&sql[last..start]);
        out.push('?');
        out.push_str(&sql[start + 1..start + len]);
        last = start + len;
    });
    out.push_str(&sql[last..]);
    out
}

/// Whether a statement only reads: it starts with SELECT, VALUES or TABLE, or
/// is a WITH query without a data-modifying keyword.
pub fn is_read_only(sql: &str) -> bool {
    let upper = sql.trim_start().to_ascii_uppercase();
    let first = upper
        .split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    match first {
        "SELECT" | "VALUES" | "TABLE" => !upper.contains(" FOR UPDATE"),
        "WITH" => !["INSERT", "UPDATE", "DELETE", "MERGE"]
            .iter()
            .any(|k| upper.split(|c: char| !c.is_ascii_alphabetic()).any(|w| w == *k)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_strings_and_comments() {
        let sql = "SELECT '$1', \"$2\" FROM t WHERE a = $1 AND b = $12 -- $3\n /* $4 */ AND c = $2";
        assert_eq!(
            to_question_numbered(sql),
            "SELECT '$1', \"$2\" FROM t WHERE a = ?1 AND b = ?12 -- $3\n /* $4 */ AND c = ?2"
        );
        assert_eq!(max_placeholder(sql), 12);
        assert_eq!(max_placeholder("SELECT 1"), 0);
    }

    #[test]
    fn reads_and_writes_are_told_apart() {
        assert!(is_read_only("  select * from t"));
        assert!(is_read_only("WITH x AS (SELECT 1) SELECT * FROM x"));
        assert!(!is_read_only("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x"));
        assert!(!is_read_only("INSERT INTO t VALUES (1)"));
        assert!(!is_read_only("SELECT * FROM t FOR UPDATE"));
        assert!(!is_read_only("UPDATE t SET a = 1"));
    }
}
