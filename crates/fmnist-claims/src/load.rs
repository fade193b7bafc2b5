//! Reading the claims file: TOML to [`Claim`]s, with every mistake placed at
//! file:line:column and every experiment name checked against the
//! experiments (the project's one nearest-name rule for "did you mean").

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{ClaimsError, io};
use crate::grammar::{Check, Claim, Expr, Op, Operand, parse_expr};
use crate::inference::Statistics;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    claim: Vec<ClaimDoc>,
    /// Read by `paper`.
    #[serde(default, rename = "paper")]
    _paper: Option<toml::Value>,
    statistics: Option<StatisticsDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatisticsDoc {
    level: Option<Spanned<f64>>,
    power: Option<Spanned<f64>>,
}

/// The `[statistics]` table, each number checked to lie in (0.5, 1).
fn statistics(src: &Source<'_>, doc: Option<StatisticsDoc>) -> Result<Statistics, ClaimsError> {
    let mut stats = Statistics::default();
    let Some(doc) = doc else {
        return Ok(stats);
    };
    for (key, value, slot) in [
        ("level", doc.level, &mut stats.level),
        ("power", doc.power, &mut stats.power),
    ] {
        if let Some(v) = value {
            let x = *v.get_ref();
            if !(x > 0.5 && x < 1.0) {
                return Err(src.invalid(
                    v.span(),
                    format!("`{key}` must lie between 0.5 and 1, got {x}"),
                ));
            }
            *slot = x;
        }
    }
    Ok(stats)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimDoc {
    id: Spanned<String>,
    section: String,
    text: String,
    #[serde(default)]
    check: Vec<CheckDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckDoc {
    what: String,
    left: Spanned<String>,
    op: Spanned<String>,
    right: Spanned<toml::Value>,
    tol: Option<Spanned<f64>>,
    margin: Option<Spanned<f64>>,
}

/// Reads and validates a claims file; every experiment its terms name must
/// be one of `experiments`.
pub fn load(path: &Path, experiments: &[&str]) -> Result<Vec<Claim>, ClaimsError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    parse(path, &text, experiments)
}

pub(crate) use fmnist_experiments::position;

/// Where each term of the string value at `span` names its experiment, as
/// (name, byte offset of the name in `text`).
fn term_names(text: &str, span: &Range<usize>, expr: &Expr) -> Vec<(String, usize)> {
    let raw = &text[span.clone()];
    // A basic or literal string, single- or multi-line; names hold no escapes.
    let quote = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else {
        1
    };
    let body = &raw[quote.min(raw.len())..];
    let mut offsets = body
        .split_whitespace()
        .filter(|t| *t != "-")
        .map(|t| t.as_ptr() as usize - body.as_ptr() as usize);
    expr.terms()
        .map(|t| {
            let at = offsets.next().unwrap_or(0);
            (t.experiment.clone(), span.start + quote + at)
        })
        .collect()
}

/// A claims file being parsed: errors name its file, line and column.
struct Source<'t> {
    path: &'t Path,
    text: &'t str,
    experiments: &'t [&'t str],
}

impl Source<'_> {
    fn invalid(&self, span: Range<usize>, message: String) -> ClaimsError {
        let (line, column) = position(self.text, span.start);
        ClaimsError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            message,
        }
    }

    /// Every experiment the terms of `expr` name must exist: a misspelt name
    /// would otherwise only make its claim "inconclusive: no runs", which
    /// reads like a result rather than a typo.
    fn known(&self, span: Range<usize>, expr: &Expr) -> Result<(), ClaimsError> {
        for (name, at) in term_names(self.text, &span, expr) {
            if !self.experiments.contains(&name.as_str()) {
                let (line, column) = position(self.text, at);
                return Err(ClaimsError::UnknownExperiment {
                    path: self.path.to_path_buf(),
                    line,
                    column,
                    nearest: fmnist_experiments::nearest(&name, self.experiments)
                        .map(str::to_string),
                    name,
                });
            }
        }
        Ok(())
    }
}

/// One `[[claim.check]]`, validated.
fn parse_check(src: &Source<'_>, k: CheckDoc) -> Result<Check, ClaimsError> {
    let left = parse_expr(k.left.get_ref())
        .map_err(|m| src.invalid(k.left.span(), format!("`left`: {m}")))?;
    src.known(k.left.span(), &left)?;
    let op = Op::ALL
        .iter()
        .find(|(s, _)| s == k.op.get_ref())
        .map(|(_, o)| *o)
        .ok_or_else(|| {
            src.invalid(
                k.op.span(),
                format!(
                    "`op`: unknown operator `{}`, expected one of >, <, >=, <=, approx",
                    k.op.get_ref()
                ),
            )
        })?;
    let right = match k.right.get_ref() {
        toml::Value::Float(x) => Operand::Number(*x),
        toml::Value::Integer(x) => Operand::Number(*x as f64),
        toml::Value::String(s) => {
            let e =
                parse_expr(s).map_err(|m| src.invalid(k.right.span(), format!("`right`: {m}")))?;
            src.known(k.right.span(), &e)?;
            Operand::Expr(e)
        }
        _ => {
            return Err(src.invalid(
                k.right.span(),
                "`right`: expected a term (a string) or a number".into(),
            ));
        }
    };
    let tol = match (&k.tol, op) {
        (Some(t), Op::Approx) if *t.get_ref() >= 0.0 => Some(*t.get_ref()),
        (Some(t), Op::Approx) => {
            return Err(src.invalid(t.span(), "`tol` must not be negative".into()));
        }
        (Some(t), _) => {
            return Err(src.invalid(t.span(), "`tol` belongs to `op = \"approx\"` only".into()));
        }
        (None, Op::Approx) => {
            return Err(src.invalid(
                k.op.span(),
                "`op = \"approx\"` needs `tol`: |left - right| <= tol".into(),
            ));
        }
        (None, _) => None,
    };
    let margin = match (&k.margin, op) {
        (None, _) => 0.0,
        (Some(m), Op::Gt | Op::Lt) if *m.get_ref() >= 0.0 => *m.get_ref(),
        (Some(m), Op::Gt | Op::Lt) => {
            return Err(src.invalid(m.span(), "`margin` must not be negative".into()));
        }
        (Some(m), _) => {
            return Err(src.invalid(m.span(), "`margin` belongs to `>` and `<` only".into()));
        }
    };
    Ok(Check {
        what: k.what,
        left,
        op,
        right,
        tol,
        margin,
    })
}

/// Parses a claims file's text; `path` only names it in errors. Every
/// experiment a term names must be one of `experiments`.
pub fn parse(path: &Path, text: &str, experiments: &[&str]) -> Result<Vec<Claim>, ClaimsError> {
    let doc: FileDoc = toml::from_str(text).map_err(|e| ClaimsError::Syntax {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let src = Source {
        path,
        text,
        experiments,
    };
    let stats = statistics(&src, doc.statistics)?;
    let mut claims: Vec<Claim> = Vec::new();
    for c in doc.claim {
        let id = c.id.get_ref().trim().to_string();
        if id.is_empty() {
            return Err(src.invalid(c.id.span(), "`id` is empty".into()));
        }
        if claims.iter().any(|x| x.id == id) {
            return Err(src.invalid(c.id.span(), format!("claim `{id}` is defined twice")));
        }
        if c.check.is_empty() {
            return Err(src.invalid(
                c.id.span(),
                format!("claim `{id}` has no [[claim.check]]; a verdict needs at least one"),
            ));
        }
        let checks = c
            .check
            .into_iter()
            .map(|k| parse_check(&src, k))
            .collect::<Result<Vec<Check>, ClaimsError>>()?;
        claims.push(Claim {
            id,
            section: c.section,
            text: c.text,
            checks,
            stats,
        });
    }
    Ok(claims)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::grammar::*;

    pub(crate) const ONE: &str = r#"
[[claim]]
id = "X1"
section = "III"
text = "a beats b"
[[claim.check]]
what = "higher final val accuracy"
left = "a:val:accuracy@last"
op = ">"
right = "b:val:accuracy@last"
[[claim.check]]
what = "close to 0.8"
left = "a:val:accuracy@last"
op = "approx"
right = 0.8
tol = 0.05
"#;

    const NAMES: &[&str] = &["a", "b", "h"];

    pub(crate) fn claims(text: &str) -> Vec<Claim> {
        parse(Path::new("claims.toml"), text, NAMES).unwrap()
    }

    pub(crate) fn err(text: &str) -> String {
        parse(Path::new("claims.toml"), text, NAMES)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn an_unknown_experiment_is_an_error_at_its_name_with_the_nearest_name() {
        let names = ["baseline", "lr-0.01", "adam"];
        let text = ONE
            .replace(
                "\"a:val:accuracy@last\"\nop = \"approx\"",
                "\"adam:val:accuracy@last\"\nop = \"approx\"",
            )
            .replace("a:val:accuracy@last", "lr-0.01:val:accuracy@last")
            .replace("b:val:accuracy@last", "baselin:val:accuracy@last");
        let e = parse(Path::new("paper.toml"), &text, &names).unwrap_err();
        assert_eq!(
            e.to_string(),
            "paper.toml:10:10: no experiment named `baselin`; did you mean `baseline`?"
        );
        let ClaimsError::UnknownExperiment {
            line,
            column,
            name,
            nearest,
            ..
        } = e
        else {
            panic!("{e}")
        };
        assert_eq!((line, column), (10, 10));
        assert_eq!(
            (name.as_str(), nearest.as_deref()),
            ("baselin", Some("baseline"))
        );

        // The second term of a difference, on the left.
        let text = ONE.replace(
            "left = \"a:val:accuracy@last\"\nop = \">\"",
            "left = \"a:val:accuracy@last - lr-001:val:accuracy@last\"\nop = \">\"",
        );
        let e = parse(Path::new("c.toml"), &text, &["a", "b", "lr-0.01"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.toml:8:31: no experiment named `lr-001`; did you mean `lr-0.01`?"
        );
        let e = parse(Path::new("c.toml"), ONE, &[]).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "c.toml:8:9: no experiment named `a`; no experiment has a similar name"
            ),
            "{e}"
        );
        assert_eq!(
            fmnist_experiments::nearest("adma", &["baseline", "adam"]),
            Some("adam")
        );
        assert_eq!(fmnist_experiments::edit_distance("baselin", "baseline"), 1);
    }

    #[test]
    fn claims_files_parse_and_errors_name_file_line_and_column() {
        let c = claims(ONE);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].checks[1].op, Op::Approx);
        assert_eq!(c[0].checks[1].right, Operand::Number(0.8));
        assert_eq!(
            c[0].experiments().into_iter().collect::<Vec<_>>(),
            ["a", "b"]
        );

        let e = err(&ONE.replace("\"b:val:accuracy@last\"", "\"b:val:acc@last\""));
        assert!(e.starts_with("claims.toml:10:9: `right`:"), "{e}");
        let e = err(&ONE.replace("op = \">\"", "op = \"gt\""));
        assert!(
            e.starts_with("claims.toml:9:6:") && e.contains("unknown operator"),
            "{e}"
        );
        let e = err(&ONE.replace("tol = 0.05", ""));
        assert!(e.contains("needs `tol`"), "{e}");
        let e = err(&ONE.replace("op = \">\"", "op = \">\"\ntol = 1"));
        assert!(e.contains("`tol` belongs"), "{e}");
        let e = err(&ONE.replace("tol = 0.05", "tol = 0.05\nmargin = 0.1"));
        assert!(e.contains("`margin` belongs"), "{e}");
        let e = err(&ONE.replace("what = \"close", "whot = \"close"));
        assert!(
            e.starts_with("claims.toml: TOML parse error at line"),
            "{e}"
        );
        let e = err(&format!("{ONE}{ONE}"));
        assert!(e.contains("defined twice"), "{e}");
        let e = err("[[claim]]\nid = \"C\"\nsection = \"\"\ntext = \"\"\n");
        assert!(e.contains("no [[claim.check]]"), "{e}");
        let e = err("[[claim]\n");
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn checks_hold_with_margins_and_tolerances() {
        let mut c = claims(ONE).remove(0).checks.remove(0);
        assert!(c.holds(0.81, 0.8));
        assert!(!c.holds(0.8, 0.8));
        c.margin = 0.02;
        assert!(!c.holds(0.81, 0.8));
        assert!(c.holds(0.83, 0.8));
        c.op = Op::Lt;
        assert!(c.holds(0.77, 0.8) && !c.holds(0.79, 0.8));
        c.op = Op::Ge;
        assert!(c.holds(0.8, 0.8));
        c.op = Op::Le;
        assert!(c.holds(0.8, 0.8) && !c.holds(0.81, 0.8));
        c.op = Op::Approx;
        c.tol = Some(0.03);
        assert!(c.holds(0.82, 0.85) && c.holds(0.88, 0.85) && !c.holds(0.9, 0.85));
    }
}
