//! The few lines of CSV (RFC 4180) the summary needs: fields quoted when they
//! hold a comma, a quote or a line break, `\n` line ends, a header row.

use crate::error::SummaryError;

/// One field, quoted when needed.
pub(crate) fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub(crate) fn line(fields: &[String]) -> String {
    let mut out = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    out
}

/// A parsed table: the header and the rows, each as long as the header.
#[derive(Debug, Clone)]
pub(crate) struct CsvTable {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl CsvTable {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
}

/// Parses `text`; `what` names the file in errors.
pub(crate) fn parse(what: &str, text: &str) -> Result<CsvTable, SummaryError> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                line += usize::from(c == '\n');
                cur.push(c);
            }
            (false, '"') if cur.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut cur)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut cur));
                records.push((line, std::mem::take(&mut record)));
                line += 1;
            }
            (false, c) => cur.push(c),
        }
    }
    if quoted {
        return Err(SummaryError::parse(what, line, "unterminated quoted field"));
    }
    if !cur.is_empty() || !record.is_empty() {
        record.push(cur);
        records.push((line, record));
    }
    let mut records = records.into_iter();
    let (_, header) = records
        .next()
        .ok_or_else(|| SummaryError::parse(what, 1, "empty file, no header"))?;
    let mut rows = Vec::new();
    for (line, r) in records {
        if r.len() != header.len() {
            return Err(SummaryError::parse(
                what,
                line,
                &format!("{} fields, the header has {}", r.len(), header.len()),
            ));
        }
        rows.push(r);
    }
    Ok(CsvTable { header, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_round_trip() {
        let fields = vec![
            "a".to_string(),
            "[128, 64]".to_string(),
            "say \"hi\"".to_string(),
            String::new(),
        ];
        let text = format!(
            "{}{}",
            line(&["h1", "h2", "h3", "h4"].map(String::from)),
            line(&fields)
        );
        let t = parse("t.csv", &text).unwrap();
        assert_eq!(t.rows, vec![fields]);
        assert_eq!(t.column("h3"), Some(2));
    }

    #[test]
    fn ragged_rows_and_empty_files_are_errors_naming_the_file() {
        let e = parse("x.csv", "a,b\n1\n").unwrap_err().to_string();
        assert!(e.contains("x.csv") && e.contains("line 2"), "{e}");
        assert!(parse("y.csv", "").is_err());
    }
}
