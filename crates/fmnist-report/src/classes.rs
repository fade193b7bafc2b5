//! What each class gets right and wrong, as content: the per-class table
//! from the stored confusion matrices (their arithmetic is in `stats`), the
//! confusions in words, and which mistakes the mistakes figure shows.
//! `draw_classes` draws the heatmap and the mistakes figure.

use std::collections::BTreeMap;

use fmnist_metrics::{Mistake, Split, StoredRun};

use crate::aggregate::{self as stats, Confusion};
use crate::tables::{Align, Table, pct};
use fmnist_stats::{Proportion, wilson_interval};

/// The name of class `c`, or "class c" past the end of `names`.
pub fn class_name(names: &[String], c: usize) -> String {
    names
        .get(c)
        .cloned()
        .unwrap_or_else(|| format!("class {c}"))
}

/// 10000 as "10,000".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn seed_list(runs: &[&StoredRun]) -> String {
    runs.iter()
        .map(|r| r.manifest.seed.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What to look at in a confusion matrix, in words: its largest confusions
/// ("Shirt is taken for T-shirt/top in 14.0% of cases, Pullover for Coat in
/// 9.5%, ...") and its weakest class. `None` without images.
pub fn confusion_summary(m: &Confusion, class_names: &[String], n: usize) -> Option<String> {
    m.accuracy()?;
    let mut s = String::new();
    let top = m.top_confusions(n);
    for (k, (t, p, v)) in top.iter().enumerate() {
        let (t, p) = (class_name(class_names, *t), class_name(class_names, *p));
        s.push_str(&match k {
            0 => format!("{t} is taken for {p} in {v:.1}% of cases"),
            _ => format!(", {t} for {p} in {v:.1}%"),
        });
    }
    if top.is_empty() {
        s.push_str("No image is misclassified");
    }
    let weakest = m
        .per_class()
        .iter()
        .enumerate()
        .filter_map(|(c, x)| x.accuracy.map(|a| (c, a)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((c, a)) = weakest {
        s.push_str(&format!(
            "; the weakest class is {} ({:.1}% correct).",
            class_name(class_names, c),
            100.0 * a
        ));
    }
    Some(s)
}

/// The pairs (true, predicted) most frequent among `mistakes`, most frequent
/// first (ties: first met), as "Shirt → T-shirt/top (5)"; at most `n`.
pub fn frequent_pairs(mistakes: &[Mistake], class_names: &[String], n: usize) -> Vec<String> {
    let mut pairs: Vec<((u8, u8), usize)> = Vec::new();
    for m in mistakes {
        let key = (m.true_class, m.predicted_class);
        match pairs.iter_mut().find(|(k, _)| *k == key) {
            Some((_, c)) => *c += 1,
            None => pairs.push((key, 1)),
        }
    }
    pairs.sort_by_key(|p| std::cmp::Reverse(p.1));
    pairs
        .iter()
        .take(n)
        .map(|((t, p), c)| {
            format!(
                "{} → {} ({c})",
                class_name(class_names, usize::from(*t)),
                class_name(class_names, usize::from(*p))
            )
        })
        .collect()
}

// ----------------------------------------------------------------- table

/// Each class's accuracy (recall) from the counts pooled over the seeds'
/// matrices, with its 95% Wilson score interval (always inside [0, 1]);
/// `None` for a class no matrix has images of.
pub fn pooled_class_accuracy(mats: &[Confusion], classes: usize) -> Vec<Option<Proportion>> {
    let per: Vec<_> = mats.iter().map(Confusion::per_class).collect();
    (0..classes)
        .map(|c| {
            let (correct, support) = per
                .iter()
                .filter_map(|m| m.get(c))
                .fold((0, 0), |(k, n), x| (k + x.correct, n + x.support));
            wilson_interval(correct, support, stats::LEVEL).ok()
        })
        .collect()
}

/// "84.1 [82.3, 85.7]": a pooled proportion in % with its interval.
fn proportion_cell(p: Option<Proportion>) -> String {
    p.map_or("—".into(), |p| {
        format!(
            "{:.1} [{:.1}, {:.1}]",
            100.0 * p.estimate,
            100.0 * p.lo,
            100.0 * p.hi
        )
    })
}

/// One row per experiment (`(label, runs)`), one column per class: each
/// class's accuracy (recall) in %, from the counts pooled over seeds, with
/// its 95% Wilson interval; then the overall accuracy (the confusion
/// matrix's diagonal over its total), mean over seeds [95% t interval]. The
/// weakest class of each row is bold. Runs without a stored confusion
/// matrix are left out and counted in the seeds column.
pub fn per_class_table(experiments: &[(&str, &[&StoredRun])], class_names: &[String]) -> Table {
    let classes = experiments
        .iter()
        .flat_map(|(_, runs)| runs.iter())
        .map(|r| Confusion::from_cells(&r.confusion, class_names.len()).classes())
        .max()
        .unwrap_or(class_names.len());
    let mut notes = vec![
        "Accuracy of each class: the share of its validation images classified as that class \
         (recall), in %, from the counts pooled over seeds (the correct images of every seed \
         over their images), with its 95% Wilson score interval, which stays inside [0, 100]. \
         The interval treats the pooled images as independent draws: it reflects how many \
         images were classified, not how much the networks of different seeds disagree. The \
         weakest class of each experiment in bold. Overall: all correct over all validation \
         images, which is the final validation accuracy, mean over seeds [95% t interval]."
            .to_string(),
    ];
    let rows = experiments
        .iter()
        .map(|(label, runs)| class_row(label, runs, classes, &mut notes))
        .collect();
    let mut columns = vec![
        ("experiment".to_string(), Align::Left),
        ("seeds".to_string(), Align::Right),
    ];
    columns.extend((0..classes).map(|c| (class_name(class_names, c), Align::Right)));
    columns.push(("overall".into(), Align::Right));
    Table {
        caption: "Validation accuracy per class (%, pooled over seeds [95% Wilson interval])"
            .into(),
        label: "per-class".into(),
        columns,
        rows,
        notes,
    }
}

/// The per-class table's row of the experiment `label`, a note added to
/// `notes` for each run whose confusion matrix and stored accuracy disagree.
fn class_row(
    label: &str,
    runs: &[&StoredRun],
    classes: usize,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let with: Vec<(&StoredRun, Confusion)> = runs
        .iter()
        .filter(|r| !r.confusion.is_empty())
        .map(|r| (*r, Confusion::from_cells(&r.confusion, classes)))
        .collect();
    let seeds = if with.len() == runs.len() {
        runs.len().to_string()
    } else {
        format!("{} of {}", with.len(), runs.len())
    };
    let mats: Vec<Confusion> = with.iter().map(|(_, m)| m.clone()).collect();
    let per_class = pooled_class_accuracy(&mats, classes);
    let means: Vec<Option<f64>> = per_class
        .iter()
        .map(|s| s.map(|s| 100.0 * s.estimate))
        .collect();
    let weakest = means
        .iter()
        .enumerate()
        .filter_map(|(c, m)| m.map(|m| (c, m)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c);
    let mut row = vec![label.to_string(), seeds];
    row.extend(per_class.iter().enumerate().map(|(c, s)| {
        let cell = proportion_cell(*s);
        if Some(c) == weakest && s.is_some() {
            format!("**{cell}**")
        } else {
            cell
        }
    }));
    row.push(pct(stats::accuracy_over_seeds(&mats)));
    for (run, m) in &with {
        let stored = stats::final_value(run, Split::Val, stats::Quantity::Accuracy);
        if let (Some(stored), Some(acc)) = (stored, m.accuracy()) {
            // The stored accuracy is a float of the same count; more than
            // half an image apart means the two describe different networks.
            if (stored - acc).abs() * m.total() as f64 > 0.5 {
                notes.push(format!(
                    "**{label}, seed {}: the confusion matrix gives {:.2} % but the stored \
                     final validation accuracy is {:.2} %.**",
                    run.manifest.seed,
                    100.0 * acc,
                    100.0 * stored
                ));
            }
        }
    }
    row
}

// ------------------------------------------------------------- mistakes

/// How many images the mistakes figure shows at most.
pub const MISTAKES_SHOWN: usize = 24;

/// The mistakes to show: those of every run, each image once (at its most
/// confident), most confident first; at most `max`.
pub fn pick_mistakes(runs: &[&StoredRun], max: usize) -> Vec<Mistake> {
    let mut by_image: BTreeMap<u32, Mistake> = BTreeMap::new();
    for m in runs.iter().flat_map(|r| &r.mistakes) {
        let keep = by_image
            .get(&m.index)
            .is_none_or(|old| m.confidence > old.confidence);
        if keep {
            by_image.insert(m.index, *m);
        }
    }
    let mut all: Vec<Mistake> = by_image.into_values().collect();
    all.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(a.index.cmp(&b.index))
    });
    all.truncate(max);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::*;

    #[test]
    fn table_averages_over_seeds_and_flags_disagreement() {
        let a = run_with("baseline", 0, &MATRIX);
        let b = run_with("baseline", 1, &worse_shirts(100));
        let mut c = run_with("other", 0, &MATRIX);
        // A stored accuracy that the matrix does not give.
        for row in &mut c.rows {
            row.values.set(stats::Quantity::Accuracy, 0.5);
        }
        let d = simple_without_confusion();
        let names = names();
        let base: Vec<&StoredRun> = vec![&a, &b];
        let other: Vec<&StoredRun> = vec![&c, &d];
        let t = per_class_table(&[("Baseline", &base), ("Other", &other)], &names);
        assert_eq!(t.columns.len(), 2 + 10 + 1);
        assert_eq!(t.columns[8].0, "Shirt");
        assert_eq!(t.rows[0][1], "2");
        // Pooled counts with Wilson's interval (the statistics crate's,
        // checked against statsmodels): T-shirts 850 of 1000 in each seed.
        let cell = |k: u64, n: u64| {
            let w = wilson_interval(k, n, 0.95).unwrap();
            format!(
                "{:.1} [{:.1}, {:.1}]",
                100.0 * w.estimate,
                100.0 * w.lo,
                100.0 * w.hi
            )
        };
        assert_eq!(t.rows[0][2], cell(1700, 2000), "T-shirt/top");
        assert_eq!(t.rows[0][2], "85.0 [83.4, 86.5]");
        // Shirts: 640 and 540 of 1000, the weakest class in bold; the
        // interval of the mean over two seeds (59.0 ± 63.5) left [0, 100].
        assert_eq!(t.rows[0][8], format!("**{}**", cell(1180, 2000)));
        assert_eq!(t.rows[0][8], "**59.0 [56.8, 61.1]**");
        let overall: f64 = t.rows[0][12]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (overall - 87.75).abs() < 0.006,
            "(88.25 + 87.25) / 2: {overall}"
        );
        assert_eq!(t.rows[1][1], "1 of 2");
        assert_eq!(t.notes.len(), 2, "{:?}", t.notes);
        assert!(t.notes[1].contains("Other, seed 0") && t.notes[1].contains("50.00"));
        assert!(t.markdown().contains("| **59.0 [56.8, 61.1]** |"));
        assert!(t.latex().contains("\\textbf{59.0 [56.8, 61.1]}"));
        // One seed still has an interval from its images, inside [0, 100].
        assert!(t.rows[1][2].contains('['), "{}", t.rows[1][2]);
        for row in &t.rows {
            for c in &row[2..12] {
                let nums: Vec<f64> = c
                    .trim_matches('*')
                    .split(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
                    .filter_map(|x| x.parse().ok())
                    .collect();
                assert!(nums.iter().all(|x| (0.0..=100.0).contains(x)), "{c}");
            }
        }
    }

    fn simple_without_confusion() -> StoredRun {
        crate::fixture::simple("other", 1, &[0.8])
    }

    #[test]
    fn mistakes_are_merged_over_seeds_most_confident_first() {
        let mut a = run_with("baseline", 0, &MATRIX);
        let mut b = run_with("baseline", 1, &MATRIX);
        a.mistakes = mistakes(20, 0);
        b.mistakes = mistakes(20, 1);
        // One image wrong in both seeds, more confidently in seed 1.
        b.mistakes[0].index = a.mistakes[3].index;
        b.mistakes[0].true_class = a.mistakes[3].true_class;
        let picked = pick_mistakes(&[&a, &b], 24);
        assert_eq!(picked.len(), 24);
        let mut idx: Vec<u32> = picked.iter().map(|m| m.index).collect();
        idx.sort_unstable();
        idx.dedup();
        assert_eq!(idx.len(), 24, "each image once");
        assert!(
            picked
                .windows(2)
                .all(|w| w[0].confidence >= w[1].confidence)
        );
        let shared = picked
            .iter()
            .find(|m| m.index == a.mistakes[3].index)
            .unwrap();
        assert_eq!(shared.confidence, b.mistakes[0].confidence);
    }
}
