//! Where a copy of a file may come from: a local directory or a URL prefix.
//!
//! Parsed from user input (command-line flags), so anything that is not an
//! http(s) URL is taken to be a directory.

use std::convert::Infallible;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A mirror: a directory holding the .gz files, or a URL prefix to which a
/// file name is appended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    Dir(PathBuf),
    Url(String),
}

impl Source {
    /// Where this source keeps `name`: a path for a directory, a URL for a
    /// URL prefix (a `/` is inserted if the prefix lacks one).
    pub fn location(&self, name: &str) -> String {
        match self {
            Source::Dir(dir) => dir.join(name).display().to_string(),
            Source::Url(base) => join_url(base, name),
        }
    }
}

pub(crate) fn join_url(base: &str, name: &str) -> String {
    if base.ends_with('/') {
        format!("{base}{name}")
    } else {
        format!("{base}/{name}")
    }
}

pub(crate) fn is_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

impl FromStr for Source {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Source, Infallible> {
        if is_url(s) {
            Ok(Source::Url(s.to_owned()))
        } else {
            // Accept file:// URLs too, since people paste them.
            let path = s.strip_prefix("file://").unwrap_or(s);
            Ok(Source::Dir(PathBuf::from(path)))
        }
    }
}

impl From<&Path> for Source {
    fn from(dir: &Path) -> Source {
        Source::Dir(dir.to_owned())
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Dir(dir) => write!(f, "{}", dir.display()),
            Source::Url(url) => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Source {
        s.parse().unwrap()
    }

    #[test]
    fn parses_urls_and_directories() {
        assert_eq!(parse("http://h/x/"), Source::Url("http://h/x/".into()));
        assert_eq!(parse("HTTPS://h"), Source::Url("HTTPS://h".into()));
        assert_eq!(parse("/usr/share/d"), Source::Dir("/usr/share/d".into()));
        assert_eq!(parse("data"), Source::Dir("data".into()));
        assert_eq!(parse("http"), Source::Dir("http".into()));
        assert_eq!(parse("file:///srv/d"), Source::Dir("/srv/d".into()));
    }

    #[test]
    fn display_round_trips() {
        for s in ["http://h/x/", "/usr/share/d", "rel/dir"] {
            assert_eq!(parse(s).to_string(), s);
        }
    }

    #[test]
    fn location_joins_name() {
        assert_eq!(parse("http://h/x").location("a.gz"), "http://h/x/a.gz");
        assert_eq!(parse("http://h/x/").location("a.gz"), "http://h/x/a.gz");
        assert_eq!(parse("/d").location("a.gz"), "/d/a.gz");
    }
}
