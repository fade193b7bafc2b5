//! The paper's claims as data, and their verdicts computed from the runs.
//!
//! `experiments/claims/paper.toml` lists each claim of the paper with the
//! checks that encode it. No verdict is ever written by hand: it follows from
//! the checks, evaluated on the stored runs.
//!
//! # The claims file
//!
//! ```toml
//! [[claim]]
//! id = "C4"                 # unique
//! section = "III.A"         # where the paper makes it
//! text = "lr = 0.01 converges faster ..."   # the paper's words
//! [[claim.check]]
//! what = "higher final validation accuracy"  # the check in words
//! left = "lr-0.01:val:accuracy@last"         # a term
//! op = ">"                                   # >, <, >=, <=, approx
//! right = "baseline:val:accuracy@last"       # a term or a number
//! margin = 0.0    # optional, > and < only: left > right + margin, left < right - margin
//! # tol = 0.03    # required for approx, and only there: |left - right| < tol
//! ```
//!
//! and, once per file, how the checks are tested (the defaults):
//!
//! ```toml
//! [statistics]
//! level = 0.95    # confidence level of every check
//! power = 0.8     # the power an undecided check's seed estimate aims at
//! ```
//!
//! # Terms
//!
//! A term is `EXPERIMENT:SPLIT:QUANTITY@EPOCH`, or the difference `A - B` of
//! two terms. The grammar is written out once, for the people who edit it, in
//! the header of `experiments/claims/paper.toml`; every error about a term
//! states it again from the vocabulary ([`term_shape`]), so a new quantity
//! appears there without an edit here.
//!
//! # Verdicts
//!
//! Each check is a statistical test over seeds (`inference`, at the level
//! the file's `[statistics]` table declares, 95% by default): it holds when
//! the interval of the difference of its two sides lies inside the claimed
//! region, fails when it lies outside, and is undecided otherwise. A claim is
//! [`Verdict::Reproduced`] when every check holds, [`Verdict::NotReproduced`]
//! when any check fails, and [`Verdict::Undecided`] otherwise, or when an
//! experiment has no runs, or a term cannot be evaluated (e.g. epoch 10 of a
//! 2-epoch smoke run), or there is only one seed. Each check is also
//! evaluated per seed (the runs paired by seed value, over the seeds present
//! in all the claim's experiments), as supporting detail.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::Path;

use fmnist_metrics::{Split, StoredRun};
use serde::Deserialize;
use toml::Spanned;

use crate::error::{FiguresError, io};
use crate::inference::{self, Side, Statistics, Tested};
use crate::stats::{self, Quantity};

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
pub(crate) struct Claim {
    pub id: String,
    pub section: String,
    pub text: String,
    pub checks: Vec<Check>,
    /// The file's `[statistics]`: the level and power of the tests.
    pub stats: Statistics,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Check {
    pub what: String,
    pub left: Expr,
    pub op: Op,
    pub right: Operand,
    pub tol: Option<f64>,
    pub margin: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Gt,
    Lt,
    Ge,
    Le,
    Approx,
}

impl Op {
    const ALL: [(&'static str, Op); 5] = [
        (">", Op::Gt),
        ("<", Op::Lt),
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("approx", Op::Approx),
    ];

    pub(crate) fn as_str(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(_, o)| *o == self)
            .map_or("?", |(s, _)| s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
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
pub(crate) struct Expr {
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
pub(crate) struct Term {
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
pub(crate) enum EpochRef {
    Number(u32),
    Last,
    LastMinus(u32),
    /// The mean over the last N recorded epochs (`lastN`), N >= 2.
    Window(u32),
    Best,
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
pub(crate) fn term_shape() -> String {
    let words = |w: Vec<&str>| w.join("|");
    format!(
        "a term is `EXPERIMENT:SPLIT:QUANTITY@EPOCH` (SPLIT {}, QUANTITY {}, EPOCH a 1-based \
         number, last, last-N, lastN (the mean of the last N epochs) or best), or a difference `A - B` of two terms with spaces around \
         the minus",
        words(Split::ALL.iter().map(|s| s.as_str()).collect()),
        words(Quantity::names()),
    )
}

pub(crate) fn parse_term(s: &str) -> Result<Term, String> {
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
    let one_of = |words: Vec<&str>| crate::text::or_list(&words);
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

pub(crate) fn parse_expr(s: &str) -> Result<Expr, String> {
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
    fn terms(&self) -> impl Iterator<Item = &Term> {
        std::iter::once(&self.term).chain(self.minus.as_ref())
    }
}

impl Check {
    pub(crate) fn terms(&self) -> impl Iterator<Item = &Term> {
        let right = match &self.right {
            Operand::Expr(e) => Some(e),
            Operand::Number(_) => None,
        };
        self.left
            .terms()
            .chain(right.into_iter().flat_map(Expr::terms))
    }

    fn holds(&self, left: f64, right: f64) -> bool {
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
    pub(crate) fn written(&self, left: &str, right: &str) -> String {
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
    pub(crate) fn renamed(&self, from: &str, to: &str) -> Claim {
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
    pub(crate) fn experiments(&self) -> BTreeSet<&str> {
        self.checks
            .iter()
            .flat_map(Check::terms)
            .map(|t| t.experiment.as_str())
            .collect()
    }
}

// ---------------------------------------------------------------- loading

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
fn statistics(src: &Source<'_>, doc: Option<StatisticsDoc>) -> Result<Statistics, FiguresError> {
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
pub(crate) fn load(path: &Path, experiments: &[&str]) -> Result<Vec<Claim>, FiguresError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    parse(path, &text, experiments)
}

/// The 1-based line and column of byte `offset` of `text`.
pub(crate) fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

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

/// The name among `candidates` closest to `word` by edit distance (the
/// first in sorted order on ties).
pub(crate) fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let mut sorted = candidates.to_vec();
    sorted.sort_unstable();
    sorted
        .into_iter()
        .min_by_key(|c| fmnist_experiments::edit_distance(word, c))
}

/// A claims file being parsed: errors name its file, line and column.
struct Source<'t> {
    path: &'t Path,
    text: &'t str,
    experiments: &'t [&'t str],
}

impl Source<'_> {
    fn invalid(&self, span: Range<usize>, message: String) -> FiguresError {
        let (line, column) = position(self.text, span.start);
        FiguresError::ClaimsInvalid {
            path: self.path.to_path_buf(),
            line,
            column,
            message,
        }
    }

    /// Every experiment the terms of `expr` name must exist: a misspelt name
    /// would otherwise only make its claim "inconclusive: no runs", which
    /// reads like a result rather than a typo.
    fn known(&self, span: Range<usize>, expr: &Expr) -> Result<(), FiguresError> {
        for (name, at) in term_names(self.text, &span, expr) {
            if !self.experiments.contains(&name.as_str()) {
                let (line, column) = position(self.text, at);
                return Err(FiguresError::ClaimsUnknownExperiment {
                    path: self.path.to_path_buf(),
                    line,
                    column,
                    nearest: nearest(&name, self.experiments).map(str::to_string),
                    name,
                });
            }
        }
        Ok(())
    }
}

/// One `[[claim.check]]`, validated.
fn parse_check(src: &Source<'_>, k: CheckDoc) -> Result<Check, FiguresError> {
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
pub(crate) fn parse(
    path: &Path,
    text: &str,
    experiments: &[&str],
) -> Result<Vec<Claim>, FiguresError> {
    let doc: FileDoc = toml::from_str(text).map_err(|e| FiguresError::ClaimsSyntax {
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
            .collect::<Result<Vec<Check>, FiguresError>>()?;
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

// ------------------------------------------------------------- evaluation

/// The runs of each experiment, sorted by seed.
pub(crate) type RunIndex<'a> = BTreeMap<&'a str, Vec<&'a StoredRun>>;

pub(crate) fn index(runs: &[StoredRun]) -> RunIndex<'_> {
    let mut map: RunIndex<'_> = BTreeMap::new();
    for r in runs {
        map.entry(r.manifest.experiment.as_str())
            .or_default()
            .push(r);
    }
    for v in map.values_mut() {
        v.sort_by_key(|r| r.manifest.seed);
        // The caller passes the runs of one plan; should a seed still appear
        // twice, the first run counts, so that each seed weighs once.
        v.dedup_by_key(|r| r.manifest.seed);
    }
    map
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Comparison {
    pub left: f64,
    pub right: f64,
    pub holds: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct CheckResult {
    pub per_seed: Vec<(u64, Result<Comparison, String>)>,
    /// The check on the seed means; `None` unless every seed could be evaluated.
    pub on_means: Option<Comparison>,
    /// The statistical test that decides the check, or why there is none.
    pub test: Result<Tested, String>,
}

#[derive(Debug, Clone)]
pub(crate) struct ClaimResult<'c> {
    pub claim: &'c Claim,
    pub verdict: Verdict,
    /// Why, in one sentence.
    pub reason: String,
    /// The seeds every experiment of the claim ran (the per-seed detail).
    pub seeds: Vec<u64>,
    /// One per check; empty when the claim could not be evaluated at all.
    pub checks: Vec<CheckResult>,
}

fn term_value(term: &Term, run: &StoredRun) -> Result<f64, String> {
    let who = || format!("{} seed {}", term.experiment, run.manifest.seed);
    let last = stats::last_epoch(run, term.split)
        .ok_or_else(|| format!("{} has no {} rows", who(), term.split.as_str()))?;
    let epochs = match term.epoch {
        EpochRef::Number(n) => n..=n,
        EpochRef::Last => last..=last,
        EpochRef::LastMinus(n) if n < last => last - n..=last - n,
        EpochRef::Window(n) if n <= last => last + 1 - n..=last,
        EpochRef::LastMinus(n) | EpochRef::Window(n) => {
            return Err(format!(
                "`{term}`: {} has only {last} epochs, fewer than the {n} the term needs",
                who()
            ));
        }
        EpochRef::Best => {
            let e = stats::best_val_epoch(run)
                .ok_or_else(|| format!("{} has no finite validation accuracy", who()))?;
            e..=e
        }
    };
    let n = epochs.clone().count() as f64;
    let mut sum = 0.0;
    for epoch in epochs {
        sum += epoch_value(term, run, epoch, last, &who)?;
    }
    Ok(sum / n)
}

/// `term`'s quantity at one epoch of `run`.
fn epoch_value(
    term: &Term,
    run: &StoredRun,
    epoch: u32,
    last: u32,
    who: &dyn Fn() -> String,
) -> Result<f64, String> {
    let row = stats::row(run, term.split, epoch).ok_or_else(|| {
        format!(
            "`{term}`: {} has no {} epoch {epoch} (it recorded {last})",
            who(),
            term.split.as_str()
        )
    })?;
    let Some(v) = row.values.get(term.quantity) else {
        return Err(format!(
            "`{term}`: {} did not record {} (stored before it was measured)",
            who(),
            term.quantity
        ));
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("`{term}`: {} recorded {v} at epoch {epoch}", who()))
    }
}

fn expr_value(expr: &Expr, runs: &RunIndex<'_>, seed: u64) -> Result<f64, String> {
    let value = |t: &Term| {
        let run = runs
            .get(t.experiment.as_str())
            .and_then(|rs| rs.iter().find(|r| r.manifest.seed == seed))
            .ok_or_else(|| format!("no run of {} with seed {seed}", t.experiment))?;
        term_value(t, run)
    };
    let a = value(&expr.term)?;
    match &expr.minus {
        None => Ok(a),
        Some(b) => Ok(a - value(b)?),
    }
}

fn operand_value(op: &Operand, runs: &RunIndex<'_>, seed: u64) -> Result<f64, String> {
    match op {
        Operand::Number(x) => Ok(*x),
        Operand::Expr(e) => expr_value(e, runs, seed),
    }
}

/// The seeds every experiment of `expr` ran.
fn seeds_of(expr: &Expr, runs: &RunIndex<'_>) -> Vec<u64> {
    let of = |t: &Term| -> BTreeSet<u64> {
        runs.get(t.experiment.as_str())
            .map(|rs| rs.iter().map(|r| r.manifest.seed).collect())
            .unwrap_or_default()
    };
    let mut seeds = of(&expr.term);
    if let Some(m) = &expr.minus {
        seeds = seeds.intersection(&of(m)).copied().collect();
    }
    seeds.into_iter().collect()
}

/// `expr` for each seed all its experiments ran.
fn side_values(expr: &Expr, runs: &RunIndex<'_>) -> Result<Vec<(u64, f64)>, String> {
    seeds_of(expr, runs)
        .into_iter()
        .map(|seed| expr_value(expr, runs, seed).map(|v| (seed, v)))
        .collect()
}

/// The region of `left − right` the check claims.
fn region(check: &Check) -> fmnist_stats::Region {
    use fmnist_stats::Region;
    match check.op {
        Op::Gt | Op::Ge => Region::Greater(check.margin),
        Op::Lt | Op::Le => Region::Less(0.0 - check.margin),
        Op::Approx => Region::Within(check.tol.unwrap_or(0.0)),
    }
}

/// The check's test over each side's seeds (see `inference`).
fn check_test(check: &Check, runs: &RunIndex<'_>, stats: Statistics) -> Result<Tested, String> {
    let left = side_values(&check.left, runs)?;
    let right_values;
    let right = match &check.right {
        Operand::Number(x) => Side::Number(*x),
        Operand::Expr(e) => {
            right_values = side_values(e, runs)?;
            Side::Values(&right_values)
        }
    };
    inference::test(&left, right, region(check), stats)
}

/// One check evaluated for each of `seeds`, on the seed means when every
/// seed has a number, and as a test.
fn check_result(
    check: &Check,
    runs: &RunIndex<'_>,
    seeds: &[u64],
    stats: Statistics,
) -> CheckResult {
    let per_seed: Vec<(u64, Result<Comparison, String>)> = seeds
        .iter()
        .map(|&seed| {
            let left = expr_value(&check.left, runs, seed);
            let right = operand_value(&check.right, runs, seed);
            (
                seed,
                left.and_then(|l| {
                    right.map(|r| Comparison {
                        left: l,
                        right: r,
                        holds: check.holds(l, r),
                    })
                }),
            )
        })
        .collect();
    let done: Vec<Comparison> = per_seed
        .iter()
        .filter_map(|(_, c)| c.as_ref().ok().copied())
        .collect();
    let on_means = if done.len() == per_seed.len() {
        stats::mean(done.iter().map(|c| c.left))
            .zip(stats::mean(done.iter().map(|c| c.right)))
            .map(|(left, right)| Comparison {
                left,
                right,
                holds: check.holds(left, right),
            })
    } else {
        None
    };
    CheckResult {
        per_seed,
        on_means,
        test: check_test(check, runs, stats),
    }
}

/// The verdict and its reason from the checks' tests.
fn verdict_of(claim: &Claim, checks: &[CheckResult]) -> (Verdict, String) {
    use fmnist_stats::Decision;
    let level = format!("{:.0}%", 100.0 * claim.stats.level);
    let with = |d: Decision| -> Vec<&str> {
        claim
            .checks
            .iter()
            .zip(checks)
            .filter(|(_, r)| r.test.as_ref().is_ok_and(|t| t.check.decision == d))
            .map(|(c, _)| c.what.as_str())
            .collect()
    };
    let failing = with(Decision::Fails);
    if !failing.is_empty() {
        return (
            Verdict::NotReproduced,
            format!(
                "at the {level} level the interval lies outside the claimed region for: {}",
                failing.join("; ")
            ),
        );
    }
    if let Some(e) = checks.iter().find_map(|c| c.test.as_ref().err()) {
        return (Verdict::Undecided, format!("cannot be tested: {e}"));
    }
    let undecided = with(Decision::Undecided);
    if undecided.is_empty() {
        (
            Verdict::Reproduced,
            format!("every check holds at the {level} level"),
        )
    } else {
        (
            Verdict::Undecided,
            format!(
                "at the {level} level the interval straddles the claimed boundary for: {}",
                undecided.join("; ")
            ),
        )
    }
}

pub(crate) fn evaluate<'c>(claim: &'c Claim, runs: &RunIndex<'_>) -> ClaimResult<'c> {
    let undecided = |reason: String, seeds: Vec<u64>| ClaimResult {
        claim,
        verdict: Verdict::Undecided,
        reason,
        seeds,
        checks: Vec::new(),
    };
    let experiments = claim.experiments();
    let missing: Vec<&str> = experiments
        .iter()
        .copied()
        .filter(|e| runs.get(e).is_none_or(|r| r.is_empty()))
        .collect();
    if !missing.is_empty() {
        let names = missing.join(", ");
        let noun = if missing.len() == 1 {
            "experiment"
        } else {
            "experiments"
        };
        return undecided(format!("no runs for {noun} {names}"), vec![]);
    }
    let mut seeds: Option<BTreeSet<u64>> = None;
    for e in &experiments {
        let these: BTreeSet<u64> = runs[e].iter().map(|r| r.manifest.seed).collect();
        seeds = Some(match seeds {
            None => these,
            Some(s) => s.intersection(&these).copied().collect(),
        });
    }
    let seeds: Vec<u64> = seeds.unwrap_or_default().into_iter().collect();
    let checks: Vec<CheckResult> = claim
        .checks
        .iter()
        .map(|check| check_result(check, runs, &seeds, claim.stats))
        .collect();
    let (verdict, reason) = verdict_of(claim, &checks);
    ClaimResult {
        claim,
        verdict,
        reason,
        seeds,
        checks,
    }
}

#[cfg(test)]
pub(crate) fn claims_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/claims/paper.toml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::simple;

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
            ("baseline:test:accuracy@last", "unknown split"),
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

    const ONE: &str = r#"
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

    fn claims(text: &str) -> Vec<Claim> {
        parse(Path::new("claims.toml"), text, NAMES).unwrap()
    }

    fn err(text: &str) -> String {
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
        let FiguresError::ClaimsUnknownExperiment {
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
            e.to_string()
                .starts_with("c.toml:8:9: no experiment named `a`; there are no experiments"),
            "{e}"
        );
        assert_eq!(super::nearest("adma", &["baseline", "adam"]), Some("adam"));
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

    fn verdict(runs: &[StoredRun]) -> (Verdict, String) {
        let c = claims(ONE);
        let idx = index(runs);
        let r = evaluate(&c[0], &idx);
        (r.verdict, r.reason)
    }

    fn runs_of(a: &[f64], b: &[f64]) -> Vec<StoredRun> {
        let side = |name: &str, v: &[f64]| -> Vec<StoredRun> {
            v.iter()
                .enumerate()
                .map(|(i, &x)| simple(name, i as u64, &[0.5, x]))
                .collect()
        };
        let mut runs = side("a", a);
        runs.extend(side("b", b));
        runs
    }

    #[test]
    fn verdicts_follow_from_the_tests_of_the_checks() {
        let one = claims(ONE);
        // Paired a − b: 0.10, 0.10, 0.12, interval [0.078, 0.135] > 0; a ≈ 0.8:
        // 90% interval 0.81 ± 0.0169 inside 0.8 ± 0.05.
        let runs = runs_of(&[0.80, 0.81, 0.82], &[0.70, 0.71, 0.70]);
        let r = evaluate(&one[0], &index(&runs));
        assert_eq!(r.verdict, Verdict::Reproduced, "{}", r.reason);
        assert!(r.reason.contains("every check holds at the 95% level"));
        let t = r.checks[0].test.as_ref().unwrap();
        assert_eq!(t.diff.pairing, fmnist_stats::Pairing::Paired);
        assert!((t.check.lo - 0.0780).abs() < 1e-3 && (t.check.hi - 0.1354).abs() < 1e-3);

        // a below b: the first check fails, whatever the second does.
        let (v, why) = verdict(&runs_of(&[0.60, 0.61, 0.62], &[0.70, 0.71, 0.70]));
        assert_eq!(v, Verdict::NotReproduced, "{why}");
        assert!(why.contains("higher final val accuracy"), "{why}");

        // Noisy: both intervals straddle their boundaries, though on seed
        // means a > b holds.
        let runs = runs_of(&[0.80, 0.70, 0.85], &[0.75, 0.75, 0.75]);
        let r = evaluate(&one[0], &index(&runs));
        assert_eq!(r.verdict, Verdict::Undecided, "{}", r.reason);
        assert!(r.checks[0].on_means.unwrap().holds);
        let n = r.checks[0]
            .test
            .as_ref()
            .unwrap()
            .seeds_needed
            .unwrap()
            .unwrap();
        assert!(n > 3, "{n}");

        // Different seeds: Welch.
        let mut runs = runs_of(&[0.80, 0.81, 0.82], &[0.70, 0.71, 0.70]);
        runs.push(simple("b", 7, &[0.5, 0.72]));
        let r = evaluate(&one[0], &index(&runs));
        let t = r.checks[0].test.as_ref().unwrap();
        assert_eq!(
            (t.diff.pairing, t.diff.n_b),
            (fmnist_stats::Pairing::Welch, 4)
        );
        assert_eq!(r.verdict, Verdict::Reproduced, "{}", r.reason);

        let (v, why) = verdict(&[simple("a", 0, &[0.5, 0.8])]);
        assert_eq!(v, Verdict::Undecided);
        assert_eq!(why, "no runs for experiment b");

        let (v, why) = verdict(&[simple("a", 0, &[0.8]), simple("b", 1, &[0.7])]);
        assert_eq!(v, Verdict::Undecided);
        assert!(why.contains("only 1 seed on a side"), "{why}");
    }

    #[test]
    fn the_statistics_table_sets_the_level_and_is_checked() {
        let c = claims(&format!("[statistics]\nlevel = 0.9\npower = 0.9\n{ONE}"));
        assert_eq!((c[0].stats.level, c[0].stats.power), (0.9, 0.9));
        assert_eq!(claims(ONE)[0].stats.level, 0.95);
        let e = err(&format!("[statistics]\nlevel = 95\n{ONE}"));
        assert!(
            e.contains("between 0.5 and 1") && e.contains("claims.toml:2:"),
            "{e}"
        );
        // At 80% the noisy case above is still undecided, at a lower level a
        // clearer one decides.
        let runs = runs_of(&[0.80, 0.78, 0.83], &[0.75, 0.76, 0.75]);
        let at = |level: f64| {
            let c = claims(&format!("[statistics]\nlevel = {level}\n{ONE}"));
            evaluate(&c[0], &index(&runs)).checks[0]
                .test
                .clone()
                .unwrap()
                .check
                .decision
        };
        assert_eq!(at(0.99), fmnist_stats::Decision::Undecided);
        assert_eq!(at(0.6), fmnist_stats::Decision::Holds);
    }

    #[test]
    fn terms_read_the_right_rows() {
        let runs = [simple("a", 3, &[0.5, 0.9, 0.7, 0.8])];
        let idx = index(&runs);
        let v = |s: &str| expr_value(&parse_expr(s).unwrap(), &idx, 3);
        assert_eq!(v("a:val:accuracy@last").unwrap(), 0.8);
        assert_eq!(v("a:val:accuracy@best").unwrap(), 0.9);
        assert_eq!(v("a:train:accuracy@best").unwrap(), 0.91);
        assert_eq!(v("a:val:accuracy@last-3").unwrap(), 0.5);
        assert!((v("a:val:loss@1").unwrap() - 0.55).abs() < 1e-12);
        assert!((v("a:val:accuracy@2 - a:val:accuracy@1").unwrap() - 0.4).abs() < 1e-12);
        assert!(
            v("a:val:accuracy@5")
                .unwrap_err()
                .contains("no val epoch 5")
        );
        assert!(
            v("a:val:accuracy@last-4")
                .unwrap_err()
                .contains("only 4 epochs")
        );
        // The mean of the last 3 epochs: (0.9 + 0.7 + 0.8) / 3.
        assert!((v("a:val:accuracy@last3").unwrap() - 0.8).abs() < 1e-12);
        assert!((v("a:val:accuracy@last4").unwrap() - 0.725).abs() < 1e-12);
        assert!(
            v("a:val:accuracy@last5")
                .unwrap_err()
                .contains("only 4 epochs")
        );
        assert!(v("z:val:accuracy@1").unwrap_err().contains("no run of z"));
        // A run stored before grad_norm existed has none; a later one does.
        let e = v("a:train:grad_norm@last").unwrap_err();
        assert!(e.contains("did not record grad_norm"), "{e}");
        let mut newer = simple("a", 3, &[0.5, 0.9]);
        for (k, r) in newer
            .rows
            .iter_mut()
            .filter(|r| r.split == Split::Train)
            .enumerate()
        {
            r.values.set(Quantity::GradNorm, 2.0 - k as f64);
        }
        let runs = [newer];
        let idx = index(&runs);
        let g = expr_value(&parse_expr("a:train:grad_norm@last").unwrap(), &idx, 3);
        assert_eq!(g.unwrap(), 1.0);
    }

    #[test]
    fn a_term_beyond_the_recorded_epochs_is_undecided() {
        let c = claims(&ONE.replace(
            "a:val:accuracy@last\"\nop = \">\"",
            "a:val:accuracy@30\"\nop = \">\"",
        ));
        let runs = [simple("a", 0, &[0.8]), simple("b", 0, &[0.7])];
        let r = evaluate(&c[0], &index(&runs));
        assert_eq!(r.verdict, Verdict::Undecided);
        assert!(r.reason.contains("epoch 30"), "{}", r.reason);
    }

    #[test]
    fn a_claim_can_be_moved_to_another_experiment() {
        let c = claims(ONE).remove(0).renamed("a", "h");
        assert_eq!(c.experiments().into_iter().collect::<Vec<_>>(), ["b", "h"]);
        assert_eq!(c.checks[1].right, Operand::Number(0.8));
    }

    #[test]
    fn seed_means_are_compared_too() {
        let c = claims(ONE);
        let runs = [
            simple("a", 0, &[0.78]),
            simple("a", 1, &[0.82]),
            simple("b", 0, &[0.7]),
            simple("b", 1, &[0.74]),
        ];
        let r = evaluate(&c[0], &index(&runs));
        let m = r.checks[0].on_means.unwrap();
        assert!((m.left - 0.8).abs() < 1e-12 && (m.right - 0.72).abs() < 1e-12 && m.holds);
    }

    #[test]
    fn the_paper_claims_file_parses_and_names_existing_experiments() {
        let dir = claims_path()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        let experiments = fmnist_experiments::load_dir(&dir).unwrap();
        let names: Vec<&str> = experiments.iter().map(|e| e.name.as_str()).collect();
        // Loading checks every name against the experiments.
        let claims = load(&claims_path(), &names).unwrap();
        let ids: Vec<&str> = claims.iter().map(|c| c.id.as_str()).collect();
        let expected: Vec<String> = (1..=11).map(|i| format!("C{i}")).collect();
        assert_eq!(ids, expected);
        // Every experiment that says it bears on a claim is named by that claim.
        for e in &experiments {
            for id in &e.paper.claims {
                let claim = claims.iter().find(|c| &c.id == id).unwrap();
                assert!(
                    claim.experiments().contains(e.name.as_str()),
                    "{id} / {}",
                    e.name
                );
            }
        }
    }
}
