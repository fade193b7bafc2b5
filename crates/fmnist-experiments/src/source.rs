//! Where a value was written: a file's text, byte spans turned into lines
//! and columns, and values that carry their place, so that every error of
//! the loader names the file, line, column and key.

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

impl SourceFile {
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, column)
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
pub(crate) struct At<T> {
    pub(crate) value: T,
    pub(crate) loc: Loc,
}

impl<T> At<T> {
    pub(crate) fn written(value: Spanned<T>, file: &Arc<SourceFile>) -> At<T> {
        let span = value.span();
        At {
            value: value.into_inner(),
            loc: Loc::new(file, span),
        }
    }

    pub(crate) fn invalid(&self, key: &str, message: impl Into<String>) -> ExperimentError {
        self.loc.invalid(key, message)
    }
}
