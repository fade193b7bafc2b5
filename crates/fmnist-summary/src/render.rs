//! A [`Diff`] in words: plain text for the terminal, Markdown for a file.
//! Both say the same; unchanged experiments take one line each, or none.

use std::fmt::Write as _;

use crate::diff::{Diff, ExperimentDiff, LEVEL, MetricChange, Status};

/// Rendering choices.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Leave unchanged experiments out.
    pub changed_only: bool,
}

fn is_fraction(metric: &str) -> bool {
    metric.ends_with("accuracy")
}

/// A metric's value: accuracies in percent, losses as they are.
fn value(metric: &str, v: f64) -> String {
    if is_fraction(metric) {
        format!("{:.2}%", 100.0 * v)
    } else {
        format!("{v:.4}")
    }
}

/// A change: accuracies in percentage points, losses as they are.
fn change(metric: &str, v: f64) -> String {
    if is_fraction(metric) {
        format!("{:+.2} pp", 100.0 * v)
    } else {
        format!("{v:+.4}")
    }
}

fn interval(m: &MetricChange) -> String {
    match (m.interval, m.pairing) {
        (Some((lo, hi)), Some(p)) => {
            let scale = if is_fraction(m.metric) { 100.0 } else { 1.0 };
            let d = if is_fraction(m.metric) { 2 } else { 4 };
            format!("[{:+.d$}, {:+.d$}] {}", scale * lo, scale * hi, p.name(),)
        }
        _ => format!("no interval ({} vs {} seeds)", m.n_a, m.n_b),
    }
}

fn seeds(s: &[u64]) -> String {
    s.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

fn or_none(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(none)")
}

fn status_word(e: &ExperimentDiff) -> &'static str {
    match e.status {
        Status::Added => "added",
        Status::Removed => "removed",
        Status::Changed => "changed",
        Status::Drift => "drift (same settings and seeds, other numbers)",
        Status::Unchanged => "unchanged",
    }
}

fn mark(e: &ExperimentDiff) -> char {
    match e.status {
        Status::Added => '+',
        Status::Removed => '-',
        Status::Changed | Status::Drift => '~',
        Status::Unchanged => '=',
    }
}

/// The one-line summary that ends both renderings.
pub fn one_line(d: &Diff) -> String {
    let count = |s: Status| d.experiments.iter().filter(|e| e.status == s).count();
    let significant = d
        .experiments
        .iter()
        .filter(|e| e.is_change() && e.any_significant())
        .count();
    let mut s = format!(
        "{} changed, {} drifted, {} added, {} removed, {} unchanged; {significant} with a significant metric change",
        count(Status::Changed),
        count(Status::Drift),
        count(Status::Added),
        count(Status::Removed),
        count(Status::Unchanged),
    );
    match d.verdicts_known {
        (true, true) => {
            let _ = write!(s, "; {} verdicts changed", d.verdicts.len());
        }
        _ => s.push_str("; verdicts not compared"),
    }
    s.push_str(if d.drift.any() {
        "; code or data drift"
    } else {
        "; no code or data drift"
    });
    if d.experiments.iter().all(|e| !e.is_change()) && d.verdicts.is_empty() {
        s = format!("no change ({})", s);
    }
    s
}

fn drift_lines(d: &Diff) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((a, b)) = &d.drift.code {
        out.push(format!(
            "code drift: TRAINING_CODE_VERSION {a} (A) -> {b} (B); experiments marked drift changed with the code alone"
        ));
    }
    for (name, a, b) in &d.drift.data {
        out.push(format!(
            "data drift: {name} {} (A) -> {} (B)",
            or_none(a),
            or_none(b)
        ));
    }
    out
}

fn verdict_lines(d: &Diff) -> Vec<String> {
    match d.verdicts_known {
        (true, true) => d
            .verdicts
            .iter()
            .map(|v| {
                format!(
                    "verdict {}: {} -> {}",
                    v.claim,
                    or_none(&v.a),
                    or_none(&v.b)
                )
            })
            .collect(),
        (a, b) => vec![format!(
            "verdicts: not compared ({} states none; a report summary does, raw results do not unless the report was written from exactly them)",
            if !a && !b {
                "neither side"
            } else if !a {
                "A"
            } else {
                "B"
            }
        )],
    }
}

/// Details of one changed experiment, as (label, text) lines.
fn details(e: &ExperimentDiff) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if matches!(e.status, Status::Added | Status::Removed) {
        // Every setting would read `(none) -> value`; the files say them.
        return out;
    }
    for s in &e.settings {
        out.push((
            format!("setting {}", s.key),
            format!("{} -> {}", or_none(&s.a), or_none(&s.b)),
        ));
    }
    if e.seeds_a != e.seeds_b {
        out.push((
            "seeds".into(),
            format!("{} -> {}", seeds(&e.seeds_a), seeds(&e.seeds_b)),
        ));
    }
    if e.code_a != e.code_b && !e.code_a.is_empty() && !e.code_b.is_empty() {
        let v = |c: &[u32]| c.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
        out.push((
            "training code".into(),
            format!("{} -> {}", v(&e.code_a), v(&e.code_b)),
        ));
    }
    out
}

/// Plain text, for the terminal.
pub fn text(d: &Diff, opts: Options) -> String {
    let mut s = format!("A = {}\nB = {}\n", d.a, d.b);
    for l in drift_lines(d) {
        let _ = writeln!(s, "{l}");
    }
    for e in &d.experiments {
        if !e.is_change() {
            if !opts.changed_only {
                let ids = if e.run_ids_changed {
                    " (same numbers, other run ids)"
                } else {
                    ""
                };
                let _ = writeln!(s, "= {} unchanged{ids}", e.name);
            }
            continue;
        }
        let _ = writeln!(s, "{} {} {}", mark(e), e.name, status_word(e));
        for (k, v) in details(e) {
            let _ = writeln!(s, "    {k}: {v}");
        }
        match e.status {
            Status::Added | Status::Removed => {
                let side = if e.status == Status::Added {
                    &e.seeds_b
                } else {
                    &e.seeds_a
                };
                let _ = writeln!(s, "    seeds: {}", seeds(side));
                if let Some((acc, n)) = e.one_side {
                    let _ = writeln!(
                        s,
                        "    final validation accuracy {} (mean of {n} seeds)",
                        value("final_val_accuracy", acc)
                    );
                }
            }
            _ => {
                for m in &e.metrics {
                    let _ = writeln!(
                        s,
                        "    {:<36} {:>8} -> {:<8} {:>10}  {}{}",
                        m.words,
                        value(m.metric, m.a_mean),
                        value(m.metric, m.b_mean),
                        change(m.metric, m.change),
                        interval(m),
                        if m.significant { "  *" } else { "" }
                    );
                }
            }
        }
    }
    for l in verdict_lines(d) {
        let _ = writeln!(s, "{l}");
    }
    let _ = writeln!(
        s,
        "(* : the {:.0}% interval of B - A excludes 0; paired by seed when both sides ran the same seeds, Welch otherwise)",
        LEVEL * 100.0
    );
    let _ = writeln!(s, "summary: {}", one_line(d));
    s
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Markdown: the same content, with one table of metric changes.
pub fn markdown(d: &Diff, opts: Options) -> String {
    let mut s = format!("# What changed\n\n- A: `{}`\n- B: `{}`\n", d.a, d.b);
    for l in drift_lines(d) {
        let _ = writeln!(s, "- **{l}**");
    }
    let _ = writeln!(s, "\n**Summary:** {}\n", one_line(d));
    let changed: Vec<&ExperimentDiff> = d.experiments.iter().filter(|e| e.is_change()).collect();
    if !changed.is_empty() {
        s.push_str("## Changed experiments\n\n");
        for e in &changed {
            let _ = writeln!(s, "### `{}`: {}\n", md_cell(&e.name), status_word(e));
            for (k, v) in details(e) {
                let _ = writeln!(s, "- {}: `{}`", k, md_cell(&v));
            }
            if let Some((acc, n)) = e.one_side {
                let _ = writeln!(
                    s,
                    "- final validation accuracy {} (mean of {n} seeds)",
                    value("final_val_accuracy", acc)
                );
            }
            if matches!(e.status, Status::Changed | Status::Drift) && !e.metrics.is_empty() {
                s.push_str("\n| metric | A | B | B − A | 95% interval | significant |\n|---|---:|---:|---:|---|:---:|\n");
                for m in &e.metrics {
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} | {} | {} | {} |",
                        m.words,
                        value(m.metric, m.a_mean),
                        value(m.metric, m.b_mean),
                        change(m.metric, m.change),
                        interval(m),
                        if m.significant { "yes" } else { "" }
                    );
                }
            }
            s.push('\n');
        }
    }
    let unchanged: Vec<String> = d
        .experiments
        .iter()
        .filter(|e| !e.is_change())
        .map(|e| format!("`{}`", md_cell(&e.name)))
        .collect();
    if !opts.changed_only && !unchanged.is_empty() {
        let _ = writeln!(s, "Unchanged: {}.\n", unchanged.join(", "));
    }
    s.push_str("## Verdicts\n\n");
    let v = verdict_lines(d);
    if v.is_empty() {
        s.push_str("No verdict changed.\n");
    }
    for l in v {
        let _ = writeln!(s, "- {}", md_cell(&l));
    }
    let _ = writeln!(
        s,
        "\nIntervals: {:.0}% Student's t interval of B − A over seeds, paired by seed when both sides ran the same seeds, Welch otherwise; significant when it excludes 0.",
        LEVEL * 100.0
    );
    s
}
