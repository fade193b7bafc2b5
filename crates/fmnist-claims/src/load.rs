//! Reading the claims file: TOML to [`Claim`]s, with every mistake placed at
//! file:line:column and every experiment name checked against the
//! experiments (the project's one nearest-name rule for "did you mean").

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{ClaimsError, io};
use crate::grammar::{Check, Claim, Expr, Op, Operand, Threshold, parse_expr};
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
    threshold: Option<Spanned<String>>,
    why: Option<Spanned<String>>,
    single_run: Option<Spanned<bool>>,
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
    let op = parse_op(src, &k.op)?;
    let right = parse_right(src, &k.right)?;
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
    let mut check = Check {
        what: k.what,
        left,
        op,
        right,
        tol,
        margin,
        threshold: Threshold::Paper,
        single_run: false,
    };
    check.threshold = threshold(src, &check, k.op.span(), k.threshold, k.why)?;
    if let Some(s) = k.single_run {
        if *s.get_ref() && !matches!(check.right, Operand::Number(_)) {
            return Err(src.invalid(
                s.span(),
                "`single_run` compares one run of ours with a number the paper read off its \
                 single run: `right` must be that number"
                    .into(),
            ));
        }
        check.single_run = *s.get_ref();
    }
    Ok(check)
}

/// `op`: one of the operators of [`Op::ALL`].
fn parse_op(src: &Source<'_>, op: &Spanned<String>) -> Result<Op, ClaimsError> {
    Op::ALL
        .iter()
        .find(|(s, _)| s == op.get_ref())
        .map(|(_, o)| *o)
        .ok_or_else(|| {
            src.invalid(
                op.span(),
                format!(
                    "`op`: unknown operator `{}`, expected one of >, <, >=, <=, approx",
                    op.get_ref()
                ),
            )
        })
}

/// `right`: a number, or a term whose experiments are known.
fn parse_right(src: &Source<'_>, right: &Spanned<toml::Value>) -> Result<Operand, ClaimsError> {
    Ok(match right.get_ref() {
        toml::Value::Float(x) => Operand::Number(*x),
        toml::Value::Integer(x) => Operand::Number(*x as f64),
        toml::Value::String(s) => {
            let e =
                parse_expr(s).map_err(|m| src.invalid(right.span(), format!("`right`: {m}")))?;
            src.known(right.span(), &e)?;
            Operand::Expr(e)
        }
        _ => {
            return Err(src.invalid(
                right.span(),
                "`right`: expected a term (a string) or a number".into(),
            ));
        }
    })
}

/// `threshold` and `why`: whose the check's bound is. Required where the
/// check has a bound beyond the paper's bare comparison (a tolerance, a
/// margin, or a number on the right); `"ours"` needs a `why`.
fn threshold(
    src: &Source<'_>,
    check: &Check,
    op_span: Range<usize>,
    key: Option<Spanned<String>>,
    why: Option<Spanned<String>>,
) -> Result<Threshold, ClaimsError> {
    let (kind, value) = check.bound();
    let has_bound =
        check.op == Op::Approx || check.margin != 0.0 || matches!(check.right, Operand::Number(_));
    let Some(key) = key else {
        if has_bound {
            return Err(src.invalid(
                op_span,
                format!(
                    "the check's bound ({} {value}) needs `threshold`: whose number it is, \
                     `threshold = \"paper\"` (the paper states it) or `threshold = \"ours\"` \
                     with a `why` (this repository chose it)",
                    kind.name()
                ),
            ));
        }
        return match why {
            Some(w) => Err(src.invalid(w.span(), "`why` belongs with `threshold`".into())),
            None => Ok(Threshold::Paper),
        };
    };
    let why_text = why.as_ref().map(|w| w.get_ref().trim().to_string());
    match (key.get_ref().as_str(), why_text) {
        ("paper", _) => Ok(Threshold::Paper),
        ("ours", Some(w)) if !w.is_empty() => Ok(Threshold::Ours { why: w }),
        ("ours", _) => Err(src.invalid(
            key.span(),
            "`threshold = \"ours\"` needs a `why`: the reason for this number".into(),
        )),
        (other, _) => Err(src.invalid(
            key.span(),
            format!("`threshold`: unknown value `{other}`, expected \"paper\" or \"ours\""),
        )),
    }
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
threshold = "ours"
why = "a test's band"
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
    fn a_bound_says_whose_it_is_and_ours_says_why() {
        let c = claims(ONE);
        assert_eq!(
            c[0].checks[0].threshold,
            Threshold::Paper,
            "no bound: the paper's"
        );
        assert_eq!(
            c[0].checks[1].threshold,
            Threshold::Ours {
                why: "a test's band".into()
            }
        );
        let e = err(&ONE.replace("threshold = \"ours\"\nwhy = \"a test's band\"\n", ""));
        assert!(
            e.starts_with("claims.toml:14:6:") && e.contains("(tol 0.05) needs `threshold`"),
            "{e}"
        );
        let e = err(&ONE.replace("why = \"a test's band\"\n", ""));
        assert!(
            e.starts_with("claims.toml:17:13:") && e.contains("needs a `why`"),
            "{e}"
        );
        let e = err(&ONE.replace("\"ours\"", "\"mine\""));
        assert!(e.contains("unknown value `mine`"), "{e}");
        // A margin needs it too; a bare comparison may say it.
        let e = err(&ONE.replace("op = \">\"", "op = \">\"\nmargin = 0.01"));
        assert!(e.contains("(margin 0.01) needs `threshold`"), "{e}");
        let ok = claims(&ONE.replace("op = \">\"", "op = \">\"\nthreshold = \"paper\""));
        assert_eq!(ok[0].checks[0].threshold, Threshold::Paper);
        // single_run needs a number on the right.
        let e = err(&ONE.replace("op = \">\"", "op = \">\"\nsingle_run = true"));
        assert!(e.contains("`right` must be that number"), "{e}");
        let s = claims(&ONE.replace("tol = 0.05", "tol = 0.05\nsingle_run = true"));
        assert!(s[0].checks[1].single_run && !s[0].checks[0].single_run);
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
