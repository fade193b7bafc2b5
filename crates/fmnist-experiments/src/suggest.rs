//! "Did you mean": the one edit distance and nearest-name rule of the
//! workspace, and serde's unknown-field messages completed with it.

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
/// be a plausible typo: what every "did you mean" of the workspace suggests.
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 2).max(1))
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
