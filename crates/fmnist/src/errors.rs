//! How an error and its causes are printed: each cause once.
//!
//! Library errors often write their source into their own message (`cannot
//! read X: No such file or directory`) and also return it as their
//! `source()`, so anyhow's `{:#}` would print that cause twice.

/// The error and its causes, `: `-separated, leaving out a cause whose text
/// the message already ends with.
pub fn describe(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that writes its source into its message, as many do.
    #[derive(Debug)]
    struct Read {
        source: std::io::Error,
    }

    impl std::fmt::Display for Read {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "cannot read a.toml: {}", self.source)
        }
    }

    impl std::error::Error for Read {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn a_cause_already_in_the_message_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let err = anyhow::Error::new(Read { source: io }).context("loading experiment a.toml");
        assert_eq!(
            describe(&err),
            "loading experiment a.toml: cannot read a.toml: No such file"
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(describe(&plain), "outer: inner");
    }
}
