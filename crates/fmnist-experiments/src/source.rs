//! Where a value was written: a file's text, byte spans turned into lines
//! and columns, and values that carry their place, so that every error of
//! the loader names the file, line, column and key.
//!
//! [`position`] is the one position rule of the workspace: every file the
//! project reads (experiments, claims, seeds) reports `line:column` with it,
//! columns counted in characters from 1, as editors show them.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use toml::Spanned;

use crate::error::ExperimentError;

/// A file's text, kept to turn byte spans into lines and columns.
#[derive(Debug)]
pub(crate) struct SourceFile {
    pub(crate) path: PathBuf,
    pub(crate) text: String,
}

/// The 1-based line and column of byte `offset` of `text`, the column
/// counted in characters (`é` is one column, as an editor shows it). An
/// offset past the end is the end; one inside a character is that
/// character's column.
pub fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

impl SourceFile {
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        position(&self.text, offset)
    }

    pub(crate) fn invalid(
        &self,
        span: Range<usize>,
        key: &str,
        message: impl Into<String>,
    ) -> ExperimentError {
        let (line, column) = self.line_col(span.start);
        ExperimentError::Invalid {
            path: self.path.clone(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// Where a value was written: a file and a byte span in it.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub(crate) file: Arc<SourceFile>,
    pub(crate) span: Range<usize>,
}

impl Loc {
    pub(crate) fn new(file: &Arc<SourceFile>, span: Range<usize>) -> Loc {
        Loc {
            file: file.clone(),
            span,
        }
    }

    pub(crate) fn invalid(&self, key: &str, message: impl Into<String>) -> ExperimentError {
        self.file.invalid(self.span.clone(), key, message)
    }
}

/// A value with the place it was written, so that an inherited or swept value
/// that fails validation points at its own file and line.
#[derive(Debug, Clone)]
pub(crate) struct Located<T> {
    pub(crate) value: T,
    pub(crate) loc: Loc,
}

impl<T> Located<T> {
    pub(crate) fn written(value: Spanned<T>, file: &Arc<SourceFile>) -> Located<T> {
        let span = value.span();
        Located {
            value: value.into_inner(),
            loc: Loc::new(file, span),
        }
    }

    pub(crate) fn invalid(&self, key: &str, message: impl Into<String>) -> ExperimentError {
        self.loc.invalid(key, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_as_editors_show_them() {
        let text = "a = 1\nnom = \"café\" # é\n  x = 2\n";
        assert_eq!(position(text, 0), (1, 1));
        assert_eq!(position(text, text.find("nom").unwrap()), (2, 1));
        // After `"café" ` the comment's `#` is column 14 (é is one
        // character, two bytes).
        let hash = text.find('#').unwrap();
        assert_eq!(hash, 20, "bytes");
        assert_eq!(position(text, hash), (2, 14));
        assert_eq!(position(text, text.find('x').unwrap()), (3, 3));
        // Inside `é` (its second byte): that character's column.
        let e = text.find('é').unwrap();
        assert_eq!(position(text, e + 1), position(text, e));
        assert_eq!(position(text, 10_000), (4, 1));
    }

    #[test]
    fn a_loader_error_on_a_non_ascii_line_counts_characters() {
        let file = SourceFile {
            path: PathBuf::from("e.toml"),
            text: "description = \"réseau\" \nlr = 1\nname = \"ñandú\"; x\n".into(),
        };
        let at = file.text.find("; x").unwrap();
        let err = file.invalid(at..at + 1, "name", "here");
        assert_eq!(err.to_string(), "e.toml:3:15: `name`: here");
    }
}
