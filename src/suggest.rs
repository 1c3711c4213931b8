//! "Did you mean" suggestions for misspelt keys, names and functions.

/// Returns the candidate closest to `word` when it is close enough to be a
/// plausible typo (normalised Damerau-Levenshtein similarity of at least 0.6,
/// or the word is a case-insensitive match).
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            let score = if c.eq_ignore_ascii_case(word) {
                1.0
            } else {
                strsim::normalized_damerau_levenshtein(&lower, &c.to_ascii_lowercase())
            };
            (score, c)
        })
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_words_only() {
        let keys = ["clients", "warmup", "duration", "rounds"];
        assert_eq!(did_you_mean("durtion", keys), Some("duration"));
        assert_eq!(did_you_mean("Clients", keys), Some("clients"));
        assert_eq!(did_you_mean("banana", keys), None);
    }
}
