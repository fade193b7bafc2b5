//! File names made from experiment names: the one rule every file of the
//! report (figures, their diffs) follows, so that a shell and a URL take
//! them as they are. An experiment's name may hold what its sweep point
//! holds (`lr-sweep[optimizer.kind=adam,optimizer.lr=0.0001]`, or an
//! early-stopping table with quotes and spaces); its file name holds only
//! ASCII letters, digits, `-`, `_` and `.`.

/// Whether `c` may stand in a file name as it is.
fn plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A value or key that the readable form keeps as it is: plain characters,
/// not empty, and no `-` at either end nor `--` inside, so that the `--`
/// between assignments and the `-` after a key stay unambiguous.
fn clean(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(plain)
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// The readable form of a sweep point's name, `name[k=v,k=v]` →
/// `name--k-v--k-v`, when it can be read back: the name and each value
/// [`clean`], each key clean and without `-`. `None` otherwise.
fn readable(name: &str) -> Option<String> {
    let (stem, rest) = name.split_once('[')?;
    let inner = rest.strip_suffix(']')?;
    if !clean(stem) {
        return None;
    }
    let mut out = stem.to_string();
    for assignment in inner.split(',') {
        let (key, value) = assignment.split_once('=')?;
        if !clean(key) || key.contains('-') || !clean(value) {
            return None;
        }
        out.push_str(&format!("--{key}-{value}"));
    }
    Some(out)
}

/// Longest readable part of a hashed file name, in bytes: with the hash,
/// well under the 255 bytes file systems allow.
const MAX_READABLE: usize = 120;

/// The file name (without extension) of `name`.
///
/// - A name of plain characters without `--` is its own file name
///   (`baseline`, `lr-0.01`).
/// - A sweep point whose name, keys and values are plain reads
///   `lr-sweep--optimizer.kind-adam--optimizer.lr-0.0001`: the name, then
///   `--key-value` per assignment.
/// - Anything else (quotes, spaces, braces, `--` in a name) becomes its
///   plain characters, runs of others as one `-`, then `-h` and 8 hex
///   digits of the name's BLAKE3 hash.
///
/// Injective: the first two forms can be read back to the name (keys hold
/// no `-`, values and names no `--`; a plain name holds no `--` and no `[`),
/// and the third ends in a hash of the whole name, which the first two
/// forms cannot end in unless a name is written to look like one.
pub fn file_slug(name: &str) -> String {
    if clean(name) {
        return name.to_string();
    }
    if let Some(r) = readable(name) {
        return r;
    }
    let mut out = String::new();
    for c in name.chars() {
        if plain(c) {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut cut = out.trim_matches('-').to_string();
    if cut.len() > MAX_READABLE {
        cut.truncate(MAX_READABLE);
    }
    let hash = blake3::hash(name.as_bytes()).to_hex();
    let head = if cut.is_empty() { "x" } else { cut.as_str() };
    format!("{}-h{}", head.trim_end_matches('-'), &hash[..8])
}

/// Whether `s` is a file name [`file_slug`] could have written: plain
/// characters only, not empty.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty() && s.chars().all(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_stay_and_points_read_as_assignments() {
        assert_eq!(file_slug("baseline"), "baseline");
        assert_eq!(file_slug("lr-0.01"), "lr-0.01");
        assert_eq!(
            file_slug("lr-sweep[optimizer.kind=adam,optimizer.lr=0.0001]"),
            "lr-sweep--optimizer.kind-adam--optimizer.lr-0.0001"
        );
        assert_eq!(
            file_slug(
                "random-search[optimizer.lr=0.000117,model.dropout=0.0506,model.hidden=128x64]"
            ),
            "random-search--optimizer.lr-0.000117--model.dropout-0.0506--model.hidden-128x64"
        );
    }

    #[test]
    fn quotes_spaces_and_ambiguous_names_get_a_hash() {
        let s = file_slug("stop[training.early_stopping={ monitor = \"val_loss\", patience = 2 }]");
        assert!(is_slug(&s), "{s}");
        assert!(
            s.starts_with("stop-training.early_stopping-monitor-val_loss-patience-2-h"),
            "{s}"
        );
        let other =
            file_slug("stop[training.early_stopping={ monitor = \"val_loss\", patience = 3 }]");
        assert_ne!(s, other);
        // A plain name with `--` could read as a point: hashed.
        let dashed = file_slug("lr-sweep--optimizer.kind-adam");
        assert_ne!(dashed, "lr-sweep--optimizer.kind-adam");
        assert_ne!(dashed, file_slug("lr-sweep[optimizer.kind=adam]"));
        // A negative value would make `--` ambiguous: hashed.
        assert_ne!(file_slug("a[x=-1]"), file_slug("a[x=1]"));
        assert!(is_slug(&file_slug("a[x=-1]")));
        assert!(is_slug(&file_slug("é ?")));
        assert!(file_slug(&"a b".repeat(200)).len() < 140);
    }

    #[test]
    fn distinct_shipped_names_give_distinct_slugs() {
        let ids = include_str!("../testdata/shipped/run-ids.txt");
        let names: Vec<&str> = ids
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| l.split('\t').next())
            .collect();
        assert!(names.len() > 80, "{}", names.len());
        let mut slugs: Vec<String> = names.iter().map(|n| file_slug(n)).collect();
        assert!(slugs.iter().all(|s| is_slug(s)), "{slugs:?}");
        // Every shipped name reads without a hash.
        let hashed = |s: &str| {
            s.rsplit_once("-h")
                .is_some_and(|(_, t)| t.len() == 8 && t.chars().all(|c| c.is_ascii_hexdigit()))
        };
        assert!(slugs.iter().all(|s| !hashed(s)), "{slugs:?}");
        slugs.sort();
        slugs.dedup();
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(slugs.len(), distinct.len());
    }
}
