//! "Did you mean": the one edit distance and nearest-name rule of the
//! workspace ([`nearest`], used for every file the project reads), and
//! serde's unknown-field messages completed with it.

/// Adds "did you mean" to serde's unknown-field and unknown-variant messages.
pub(crate) fn explain_toml_error(message: &str) -> String {
    let Some(start) = message
        .find("unknown field `")
        .map(|i| i + "unknown field `".len())
    else {
        return message.trim_end().to_string();
    };
    let Some(len) = message[start..].find('`') else {
        return message.trim_end().to_string();
    };
    let unknown = &message[start..start + len];
    let expected: Vec<&str> = message[start + len..]
        .split('`')
        .skip(2)
        .step_by(2)
        .collect();
    match nearest(unknown, &expected) {
        Some(best) => format!("{}\ndid you mean `{best}`?", message.trim_end()),
        None => message.trim_end().to_string(),
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to
/// be a plausible typo: at most half the longer name's characters (at least
/// 1). Ties go to the first candidate in sorted order. What every "did you
/// mean" of the workspace suggests.
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let chars = |s: &str| s.chars().count();
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= (chars(c).max(chars(word)) / 2).max(1))
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance: the fewest single-character insertions, deletions
/// and substitutions that turn `a` into `b`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_is_capped_counts_characters_and_breaks_ties_by_name() {
        assert_eq!(nearest("adma", &["baseline", "adam"]), Some("adam"));
        assert_eq!(
            nearest("lr-001", &["lr-0.01", "lr-0.0001"]),
            Some("lr-0.01")
        );
        // Far from every name: no suggestion rather than a wild guess.
        assert_eq!(nearest("a", &["baseline", "dropout-0.5"]), None);
        assert_eq!(nearest("zzzzzz", &["lr", "eps"]), None);
        // Ties: the first in sorted order, whatever the candidates' order.
        assert_eq!(nearest("ab", &["ac", "aa"]), Some("aa"));
        assert_eq!(nearest("ab", &["aa", "ac"]), Some("aa"));
        // Characters, not bytes: "été" is 3 long, so 1 edit is within the cap
        // and 2 are not.
        assert_eq!(edit_distance("été", "ete"), 2);
        assert_eq!(nearest("éte", &["été"]), Some("été"));
        assert_eq!(nearest("ete", &["été"]), None);
    }
}
