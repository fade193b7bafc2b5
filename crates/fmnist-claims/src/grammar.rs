//! The claims language: claims, checks and terms
//! (`EXPERIMENT:SPLIT:QUANTITY@EPOCH`, or `A - B`), parsed from strings.

use std::collections::BTreeSet;
use std::fmt;

use fmnist_metrics::{At, Quantity, Split};

use crate::inference::Statistics;

/// The outcome of checking one claim against the runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Reproduced,
    NotReproduced,
    Undecided,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Reproduced => "reproduced",
            Verdict::NotReproduced => "not reproduced",
            Verdict::Undecided => "undecided",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub id: String,
    pub section: String,
    pub text: String,
    pub checks: Vec<Check>,
    /// The file's `[statistics]`: the level and power of the tests.
    pub stats: Statistics,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub what: String,
    pub left: Expr,
    pub op: Op,
    pub right: Operand,
    pub tol: Option<f64>,
    pub margin: f64,
    /// Whose bound the check's [`Check::bound`] is.
    pub threshold: Threshold,
    /// The right side is a number the paper read off its single run: the
    /// report also gives where one run of ours would fall (a prediction
    /// interval).
    pub single_run: bool,
}

/// Whose number a check's bound (its tolerance, margin, or the number on
/// its right) is.
#[derive(Debug, Clone, PartialEq)]
pub enum Threshold {
    /// The paper states it, or the check has none beyond the paper's own
    /// comparison (a margin of 0).
    Paper,
    /// This repository chose it, for the reason given.
    Ours { why: String },
}

impl Threshold {
    pub fn is_ours(&self) -> bool {
        matches!(self, Threshold::Ours { .. })
    }

    /// "paper" or "ours".
    pub fn name(&self) -> &'static str {
        match self {
            Threshold::Paper => "paper",
            Threshold::Ours { .. } => "ours",
        }
    }
}

/// Which number of a check its boundary is: the one a reader edits to move it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundKind {
    /// `tol` of an `approx` check.
    Tol,
    /// `margin` of a `>` or `<` check.
    Margin,
    /// The number on the right of a `>` or `<` check without a margin.
    Number,
}

impl BoundKind {
    pub fn name(self) -> &'static str {
        match self {
            BoundKind::Tol => "tol",
            BoundKind::Margin => "margin",
            BoundKind::Number => "right",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Lt,
    Ge,
    Le,
    Approx,
}

impl Op {
    pub const ALL: [(&'static str, Op); 5] = [
        (">", Op::Gt),
        ("<", Op::Lt),
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("approx", Op::Approx),
    ];

    pub fn as_str(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(_, o)| *o == self)
            .map_or("?", |(s, _)| s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Number(f64),
    Expr(Expr),
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Number(x) => write!(f, "{x}"),
            Operand::Expr(e) => e.fmt(f),
        }
    }
}

/// A term or the difference of two.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub term: Term,
    pub minus: Option<Term>,
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.minus {
            None => self.term.fmt(f),
            Some(m) => write!(f, "{} - {m}", self.term),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub experiment: String,
    pub split: Split,
    pub quantity: Quantity,
    pub epoch: EpochRef,
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}@{}",
            self.experiment,
            self.split.as_str(),
            self.quantity.name(),
            self.epoch
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochRef {
    Number(u32),
    Last,
    LastMinus(u32),
    /// The mean over the last N recorded epochs (`lastN`), N >= 2.
    Window(u32),
    Best,
}

impl EpochRef {
    /// The epoch the store's accessor reads.
    pub fn at(self) -> At {
        match self {
            EpochRef::Number(n) => At::Epoch(n),
            EpochRef::Last => At::Last,
            EpochRef::LastMinus(n) => At::LastMinus(n),
            EpochRef::Window(n) => At::Window(n),
            EpochRef::Best => At::Best,
        }
    }
}

impl fmt::Display for EpochRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EpochRef::Number(n) => write!(f, "{n}"),
            EpochRef::Last => f.write_str("last"),
            EpochRef::LastMinus(n) => write!(f, "last-{n}"),
            EpochRef::Window(n) => write!(f, "last{n}"),
            EpochRef::Best => f.write_str("best"),
        }
    }
}

/// The term grammar in one sentence, its words taken from the vocabulary
/// (the splits and [`Quantity::ALL`]); every error about a term ends with it.
pub fn term_shape() -> String {
    let words = |w: Vec<&str>| w.join("|");
    format!(
        "a term is `EXPERIMENT:SPLIT:QUANTITY@EPOCH` (SPLIT {}, QUANTITY {}, EPOCH a 1-based \
         number, last, last-N, lastN (the mean of the last N epochs) or best), or a difference `A - B` of two terms with spaces around \
         the minus",
        words(Split::ALL.iter().map(|s| s.as_str()).collect()),
        words(Quantity::names()),
    )
}

pub fn parse_term(s: &str) -> Result<Term, String> {
    let s = s.trim();
    let Some((head, epoch)) = s.rsplit_once('@') else {
        return Err(format!("`{s}` has no `@EPOCH`; {}", term_shape()));
    };
    let parts: Vec<&str> = head.split(':').collect();
    let [experiment, split, quantity] = parts[..] else {
        return Err(format!(
            "`{s}` does not have three `:`-separated parts before `@`; {}",
            term_shape()
        ));
    };
    if experiment.is_empty() || experiment.contains(char::is_whitespace) {
        return Err(format!(
            "`{s}`: the experiment name is empty or has spaces; {}",
            term_shape()
        ));
    }
    let one_of = |words: Vec<&str>| fmnist_experiments::or_list(&words);
    let Some(split) = Split::parse(split) else {
        return Err(format!(
            "`{s}`: unknown split `{split}`, expected {}",
            one_of(Split::ALL.iter().map(|x| x.as_str()).collect())
        ));
    };
    let Some(quantity) = Quantity::parse(quantity) else {
        return Err(format!(
            "`{s}`: unknown quantity `{quantity}`, expected {}",
            one_of(Quantity::names())
        ));
    };
    if !quantity.measured_on(split) {
        return Err(format!(
            "`{s}`: {quantity} ({}) is measured on {} only",
            quantity.describe(),
            one_of(quantity.splits().iter().map(|x| x.as_str()).collect())
        ));
    }
    let bad_epoch = || {
        format!(
            "`{s}`: epoch `{epoch}` is not a 1-based number, last, last-N (N >= 1), lastN \
                 (N >= 2) or best"
        )
    };
    let epoch = match epoch {
        "last" => EpochRef::Last,
        "best" => EpochRef::Best,
        e => match e.strip_prefix("last-") {
            Some(n) => match n.parse::<u32>() {
                Ok(n) if n >= 1 => EpochRef::LastMinus(n),
                _ => return Err(bad_epoch()),
            },
            None if e.starts_with("last") => match e["last".len()..].parse::<u32>() {
                Ok(n) if n >= 2 => EpochRef::Window(n),
                _ => return Err(bad_epoch()),
            },
            None => match e.parse::<u32>() {
                Ok(n) if n >= 1 => EpochRef::Number(n),
                _ => return Err(bad_epoch()),
            },
        },
    };
    Ok(Term {
        experiment: experiment.to_string(),
        split,
        quantity,
        epoch,
    })
}

pub fn parse_expr(s: &str) -> Result<Expr, String> {
    let tokens: Vec<&str> = s.split_whitespace().collect();
    match tokens[..] {
        [one] => Ok(Expr {
            term: parse_term(one)?,
            minus: None,
        }),
        [a, "-", b] => Ok(Expr {
            term: parse_term(a)?,
            minus: Some(parse_term(b)?),
        }),
        _ => Err(format!("`{}` is not a term; {}", s.trim(), term_shape())),
    }
}

impl Expr {
    pub fn terms(&self) -> impl Iterator<Item = &Term> {
        std::iter::once(&self.term).chain(self.minus.as_ref())
    }
}

impl Check {
    /// The region of `left − right` the check claims (for a number on the
    /// right, of `left − number`).
    pub fn region(&self) -> fmnist_stats::Region {
        use fmnist_stats::Region;
        match self.op {
            Op::Gt | Op::Ge => Region::Greater(self.margin),
            Op::Lt | Op::Le => Region::Less(0.0 - self.margin),
            Op::Approx => Region::Within(self.tol.unwrap_or(0.0)),
        }
    }

    /// The check's boundary as the claims file writes it: the tolerance,
    /// the margin, or the number on the right (a `>`/`<` check against a
    /// number with no margin).
    pub fn bound(&self) -> (BoundKind, f64) {
        match (self.op, &self.right) {
            (Op::Approx, _) => (BoundKind::Tol, self.tol.unwrap_or(0.0)),
            (_, Operand::Number(c)) if self.margin == 0.0 => (BoundKind::Number, *c),
            _ => (BoundKind::Margin, self.margin),
        }
    }

    /// The value of [`Check::bound`] that puts the region's bound at `b`
    /// (the data fixed): a flip point of the region said as the claims file
    /// would say it. Moving the number on the right moves `left − number`'s
    /// bound the other way, which the region already measures on its own
    /// scale, so a tolerance, a `>` margin and a number move with the
    /// region's bound, and a `<` margin (the region `< −margin`) against it.
    /// Exact for a tolerance or a margin; for a number, to the rounding of
    /// `mean − number`, which moving the number changes.
    pub fn bound_at(&self, b: f64) -> f64 {
        let (kind, value) = self.bound();
        let shift = b - self.region().bound();
        match (kind, self.op) {
            (BoundKind::Margin, Op::Lt | Op::Le) => value - shift,
            _ => value + shift,
        }
    }

    pub fn terms(&self) -> impl Iterator<Item = &Term> {
        let right = match &self.right {
            Operand::Expr(e) => Some(e),
            Operand::Number(_) => None,
        };
        self.left
            .terms()
            .chain(right.into_iter().flat_map(Expr::terms))
    }

    pub fn holds(&self, left: f64, right: f64) -> bool {
        match self.op {
            Op::Gt => left > right + self.margin,
            Op::Lt => left < right - self.margin,
            Op::Ge => left >= right,
            Op::Le => left <= right,
            // The slack absorbs binary rounding: 0.88 - 0.85 is 0.0300000000000000266.
            Op::Approx => (left - right).abs() <= self.tol.unwrap_or(0.0) + 1e-12,
        }
    }

    /// The check written out with numbers, e.g. `0.8512 > 0.8433 + 0.01` or
    /// `0.8312 ≈ 0.85 ± 0.03`.
    pub fn written(&self, left: &str, right: &str) -> String {
        match self.op {
            Op::Approx => format!("{left} ≈ {right} ± {}", self.tol.unwrap_or(0.0)),
            Op::Gt if self.margin > 0.0 => format!("{left} > {right} + {}", self.margin),
            Op::Lt if self.margin > 0.0 => format!("{left} < {right} − {}", self.margin),
            op => format!("{left} {} {right}", op.as_str()),
        }
    }
}

impl Claim {
    /// The same claim about `to` instead of `from`, e.g. to check a claim
    /// about the baseline under another reading of its settings.
    pub fn renamed(&self, from: &str, to: &str) -> Claim {
        let term = |t: &Term| Term {
            experiment: if t.experiment == from {
                to.to_string()
            } else {
                t.experiment.clone()
            },
            ..t.clone()
        };
        let expr = |e: &Expr| Expr {
            term: term(&e.term),
            minus: e.minus.as_ref().map(term),
        };
        Claim {
            checks: self
                .checks
                .iter()
                .map(|c| Check {
                    left: expr(&c.left),
                    right: match &c.right {
                        Operand::Expr(e) => Operand::Expr(expr(e)),
                        n @ Operand::Number(_) => n.clone(),
                    },
                    ..c.clone()
                })
                .collect(),
            ..self.clone()
        }
    }

    /// Every experiment the claim's checks name, sorted.
    pub fn experiments(&self) -> BTreeSet<&str> {
        self.checks
            .iter()
            .flat_map(Check::terms)
            .map(|t| t.experiment.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(op: Op, right: Operand, margin: f64, tol: Option<f64>) -> Check {
        Check {
            what: String::new(),
            left: parse_expr("a:val:accuracy@last").unwrap(),
            op,
            right,
            tol,
            margin,
            threshold: Threshold::Paper,
            single_run: false,
        }
    }

    #[test]
    fn a_flip_of_the_region_reads_as_the_number_the_file_writes() {
        use fmnist_stats::Region;
        let e = || Operand::Expr(parse_expr("b:val:accuracy@last").unwrap());
        // `< 0.03` against a number: left − 0.03 < 0; the region flips at
        // b = 0.011, so the number would flip at 0.041.
        let c = check(Op::Lt, Operand::Number(0.03), 0.0, None);
        assert_eq!(c.region(), Region::Less(0.0));
        assert_eq!(c.bound(), (BoundKind::Number, 0.03));
        assert!((c.bound_at(0.011) - 0.041).abs() < 1e-15);
        // `> right + 0.02`: the margin is the region's bound.
        let c = check(Op::Gt, e(), 0.02, None);
        assert_eq!(c.bound(), (BoundKind::Margin, 0.02));
        assert_eq!(c.bound_at(0.013), 0.013);
        // `< right − 0.02` is the region `< −0.02`: its flip at −0.013 is a
        // margin of 0.013.
        let c = check(Op::Lt, e(), 0.02, None);
        assert_eq!(c.region(), Region::Less(-0.02));
        assert!((c.bound_at(-0.013) - 0.013).abs() < 1e-15);
        let c = check(Op::Approx, Operand::Number(0.85), 0.0, Some(0.03));
        assert_eq!(
            (c.bound(), c.bound_at(0.064)),
            ((BoundKind::Tol, 0.03), 0.064)
        );
        // A number with a margin: the margin is the bound.
        let c = check(Op::Gt, Operand::Number(0.8), 0.01, None);
        assert_eq!(c.bound(), (BoundKind::Margin, 0.01));
    }

    #[test]
    fn terms_parse() {
        let t = parse_term("lr-0.01:val:accuracy@last").unwrap();
        assert_eq!(t.experiment, "lr-0.01");
        assert_eq!(t.split, Split::Val);
        assert_eq!(t.quantity, Quantity::Accuracy);
        assert_eq!(t.epoch, EpochRef::Last);
        assert_eq!(t.to_string(), "lr-0.01:val:accuracy@last");
        assert_eq!(
            parse_term("baseline:train:loss@10").unwrap().epoch,
            EpochRef::Number(10)
        );
        assert_eq!(parse_term("b:val:loss@best").unwrap().epoch, EpochRef::Best);
        assert_eq!(
            parse_term("baseline:train:grad_norm@last")
                .unwrap()
                .quantity,
            Quantity::GradNorm
        );
        assert_eq!(
            parse_term("b:val:loss@last-5").unwrap().epoch,
            EpochRef::LastMinus(5)
        );
        let w = parse_term("b:val:loss@last5").unwrap();
        assert_eq!(w.epoch, EpochRef::Window(5));
        assert_eq!(w.to_string(), "b:val:loss@last5");
        let d = parse_expr(" adam:train:accuracy@last - adam:val:accuracy@last ").unwrap();
        assert_eq!(d.minus.as_ref().unwrap().split, Split::Val);
        assert_eq!(
            d.to_string(),
            "adam:train:accuracy@last - adam:val:accuracy@last"
        );
    }

    #[test]
    fn malformed_terms_are_rejected_with_a_reason() {
        for (bad, expect) in [
            ("baseline:val:accuracy", "no `@EPOCH`"),
            ("baseline:accuracy@last", "three"),
            ("baseline:valid:accuracy@last", "unknown split"),
            ("baseline:val:acc@last", "unknown quantity"),
            (
                "baseline:val:acc@last",
                "loss, accuracy, grad_norm or learning_rate",
            ),
            ("baseline:val:grad_norm@last", "measured on train only"),
            (
                "baseline:val:accuracy",
                "QUANTITY loss|accuracy|grad_norm|learning_rate",
            ),
            ("baseline:val:accuracy@0", "1-based"),
            ("baseline:val:accuracy@first", "1-based"),
            ("baseline:val:accuracy@last-0", "last-N"),
            ("baseline:val:accuracy@last1", "lastN (N >= 2)"),
            ("baseline:val:accuracy@lastx", "lastN"),
            (":val:accuracy@1", "experiment name"),
        ] {
            let e = parse_term(bad).unwrap_err();
            assert!(e.contains(expect), "{bad}: {e}");
        }
        for bad in [
            "a:val:loss@1 + b:val:loss@1",
            "a:val:loss@1 - ",
            "a:val:loss@1 - b:val:loss@1 - c:val:loss@1",
            "",
        ] {
            assert!(parse_expr(bad).is_err(), "{bad}");
        }
        assert!(parse_expr("a:val:loss@1-b:val:loss@1").is_err());
    }
}
