//! The summary as CSV text: writing it, parsing it back, and the directory
//! it lives in.

use std::path::Path;

use crate::csv::{self, CsvTable};
use crate::error::{SummaryError, io};
use crate::summary::{
    ADDED_METRICS, CURVE_COLUMNS, CurveRow, FILES, METRICS, RunRow, Summary, SummaryTexts,
};

const CLASS_PREFIX: &str = "class_accuracy.";
/// A setting every run of the summary shares is one row of `meta.csv`,
/// `setting.<key>`, instead of a column repeating it on every row of
/// `runs.csv` (the model's initialisation, the input normalisation, ...).
const SHARED_PREFIX: &str = "setting.";
const RUN_COLUMNS: [&str; 6] = [
    "experiment",
    "seed",
    "run_id",
    "status",
    "epochs_run",
    "training_code_version",
];

/// Formats a number for the files: shortest round-trip form (the numbers
/// are already rounded, see [`crate::summary::rounded`]), empty for NaN.
fn num(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v}")
    }
}

impl Summary {
    /// The three files' text. Settings columns are the union over runs, in
    /// order of first appearance; a run without a setting leaves it empty.
    pub fn to_texts(&self) -> SummaryTexts {
        let mut meta = csv::line(&["key".into(), "value".into()]);
        for (k, v) in &self.meta {
            meta.push_str(&csv::line(&[k.clone(), v.clone()]));
        }
        let mut classes: Vec<&str> = Vec::new();
        let mut keys: Vec<&str> = Vec::new();
        for r in &self.runs {
            for (c, _) in &r.classes {
                if !classes.contains(&c.as_str()) {
                    classes.push(c);
                }
            }
            for (k, _) in &r.settings {
                if !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
        }
        // Settings with one value on every run (of two or more) go to meta.
        let shared: Vec<(&str, &str)> = keys
            .iter()
            .filter_map(|k| {
                fn value<'r>(r: &'r RunRow, k: &str) -> Option<&'r str> {
                    (r.settings.iter())
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.as_str())
                }
                let value = |r| value(r, k);
                let first = value(self.runs.first()?)?;
                (self.runs.len() > 1 && self.runs.iter().all(|r| value(r) == Some(first)))
                    .then_some((*k, first))
            })
            .collect();
        keys.retain(|k| !shared.iter().any(|(s, _)| s == k));
        for (k, v) in &shared {
            meta.push_str(&csv::line(&[format!("{SHARED_PREFIX}{k}"), v.to_string()]));
        }
        let mut header: Vec<String> = RUN_COLUMNS.iter().map(|s| s.to_string()).collect();
        header.extend(METRICS.iter().map(|s| s.to_string()));
        header.extend(classes.iter().map(|c| format!("{CLASS_PREFIX}{c}")));
        header.extend(keys.iter().map(|k| k.to_string()));
        let mut runs = csv::line(&header);
        for r in &self.runs {
            let mut f = vec![
                r.experiment.clone(),
                r.seed.to_string(),
                r.run_id.clone(),
                r.status.clone(),
                r.epochs_run.to_string(),
                r.training_code_version.to_string(),
            ];
            f.extend(r.metrics.iter().map(|&v| num(v)));
            f.extend(classes.iter().map(|c| {
                r.classes
                    .iter()
                    .find(|(n, _)| n == c)
                    .map_or(String::new(), |(_, v)| num(*v))
            }));
            f.extend(keys.iter().map(|k| {
                r.settings
                    .iter()
                    .find(|(n, _)| n == k)
                    .map_or(String::new(), |(_, v)| v.clone())
            }));
            runs.push_str(&csv::line(&f));
        }
        let mut header: Vec<String> = ["experiment", "epoch", "n"].map(String::from).to_vec();
        header.extend(CURVE_COLUMNS.iter().map(|s| s.to_string()));
        let mut curves = csv::line(&header);
        for c in &self.curves {
            let mut f = vec![c.experiment.clone(), c.epoch.to_string(), c.n.to_string()];
            f.extend(c.values.iter().map(|&v| num(v)));
            curves.push_str(&csv::line(&f));
        }
        SummaryTexts { meta, runs, curves }
    }

    /// Parses the three files; `source` names where they came from (a
    /// directory, `REV:reports/summary`) in errors.
    pub fn parse(source: &str, texts: &SummaryTexts) -> Result<Summary, SummaryError> {
        let what = |file: &str| format!("{source}/{file}");
        let meta_t = csv::parse(&what(FILES[0]), &texts.meta)?;
        let (k, v) = (
            need(&meta_t, &what(FILES[0]), "key")?,
            need(&meta_t, &what(FILES[0]), "value")?,
        );
        type Pairs = Vec<(String, String)>;
        let (shared, meta): (Pairs, Pairs) = meta_t
            .rows
            .iter()
            .map(|r| (r[k].clone(), r[v].clone()))
            .partition(|(key, _)| key.starts_with(SHARED_PREFIX));
        let mut runs = parse_runs(&what(FILES[1]), &csv::parse(&what(FILES[1]), &texts.runs)?)?;
        for r in &mut runs {
            r.settings.extend(
                shared
                    .iter()
                    .map(|(key, value)| (key[SHARED_PREFIX.len()..].to_string(), value.clone())),
            );
        }
        let curves = parse_curves(
            &what(FILES[2]),
            &csv::parse(&what(FILES[2]), &texts.curves)?,
        )?;
        Ok(Summary { meta, runs, curves })
    }

    /// Writes the three files into `dir` (created if needed); a file whose
    /// bytes would not change is left untouched, so regenerating a report
    /// from the same runs changes nothing. Returns the files written.
    pub fn write_dir(&self, dir: &Path) -> Result<Vec<std::path::PathBuf>, SummaryError> {
        let texts = self.to_texts();
        let mut written = Vec::new();
        for (name, text) in FILES.iter().zip([&texts.meta, &texts.runs, &texts.curves]) {
            let path = dir.join(name);
            if std::fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
                fmnist_metrics::atomic_write(&path, text.as_bytes()).map_err(|e| {
                    SummaryError::Write {
                        path: path.clone(),
                        message: e.to_string(),
                    }
                })?;
                written.push(path);
            }
        }
        Ok(written)
    }

    /// Reads the three files from `dir`.
    pub fn read_dir(dir: &Path) -> Result<Summary, SummaryError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(io(&path))
        };
        let texts = SummaryTexts {
            meta: read(FILES[0])?,
            runs: read(FILES[1])?,
            curves: read(FILES[2])?,
        };
        Summary::parse(&dir.display().to_string(), &texts)
    }
}

/// A setting as today's summaries spell it: hidden widths written
/// `[128, 64]` by summaries before the one spelling read as `128x64`, so a
/// diff against an older summary shows no change where there is none.
fn respelt(key: &str, value: &str) -> String {
    match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(list) if key == "model.hidden" => {
            list.split(',').map(str::trim).collect::<Vec<_>>().join("x")
        }
        _ => value.to_string(),
    }
}

fn need(t: &CsvTable, what: &str, column: &str) -> Result<usize, SummaryError> {
    t.column(column).ok_or_else(|| SummaryError::MissingColumn {
        what: what.to_string(),
        column: column.to_string(),
    })
}

fn number<T: std::str::FromStr>(what: &str, line: usize, s: &str) -> Result<T, SummaryError> {
    s.parse()
        .map_err(|_| SummaryError::parse(what, line, &format!("{s:?} is not a number")))
}

fn float(what: &str, line: usize, s: &str) -> Result<f64, SummaryError> {
    if s.is_empty() {
        Ok(f64::NAN)
    } else {
        number(what, line, s)
    }
}

fn parse_runs(what: &str, t: &CsvTable) -> Result<Vec<RunRow>, SummaryError> {
    let id: Vec<usize> = RUN_COLUMNS
        .iter()
        .map(|c| need(t, what, c))
        .collect::<Result<_, _>>()?;
    let metrics: Vec<Option<usize>> = METRICS
        .iter()
        .map(|c| match t.column(c) {
            None if ADDED_METRICS.contains(c) => Ok(None),
            _ => need(t, what, c).map(Some),
        })
        .collect::<Result<_, _>>()?;
    let known: Vec<usize> = id.iter().chain(metrics.iter().flatten()).copied().collect();
    let classes: Vec<(usize, &str)> = t
        .header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| Some((i, h.strip_prefix(CLASS_PREFIX)?)))
        .collect();
    let settings: Vec<(usize, &str)> = t
        .header
        .iter()
        .enumerate()
        .filter(|(i, h)| !known.contains(i) && !h.starts_with(CLASS_PREFIX))
        .map(|(i, h)| (i, h.as_str()))
        .collect();
    t.rows
        .iter()
        .enumerate()
        .map(|(n, r)| {
            let line = n + 2;
            Ok(RunRow {
                experiment: r[id[0]].clone(),
                seed: number(what, line, &r[id[1]])?,
                run_id: r[id[2]].clone(),
                status: r[id[3]].clone(),
                epochs_run: number(what, line, &r[id[4]])?,
                training_code_version: number(what, line, &r[id[5]])?,
                metrics: metrics
                    .iter()
                    .map(|i| i.map_or(Ok(f64::NAN), |i| float(what, line, &r[i])))
                    .collect::<Result<_, _>>()?,
                classes: classes
                    .iter()
                    .filter(|(i, _)| !r[*i].is_empty())
                    .map(|&(i, c)| Ok((c.to_string(), float(what, line, &r[i])?)))
                    .collect::<Result<_, SummaryError>>()?,
                settings: settings
                    .iter()
                    .filter(|(i, _)| !r[*i].is_empty())
                    .map(|&(i, k)| (k.to_string(), respelt(k, &r[i])))
                    .collect(),
            })
        })
        .collect()
}

fn parse_curves(what: &str, t: &CsvTable) -> Result<Vec<CurveRow>, SummaryError> {
    let e = need(t, what, "experiment")?;
    let ep = need(t, what, "epoch")?;
    let n = need(t, what, "n")?;
    // A quantity column a summary lacks (written before the quantity
    // existed) reads as not measured.
    let cols: Vec<Option<usize>> = CURVE_COLUMNS.iter().map(|c| t.column(c)).collect();
    t.rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let line = i + 2;
            let mut values = [f64::NAN; CURVE_COLUMNS.len()];
            for (v, c) in values.iter_mut().zip(&cols) {
                if let Some(c) = c {
                    *v = float(what, line, &r[*c])?;
                }
            }
            Ok(CurveRow {
                experiment: r[e].clone(),
                epoch: number(what, line, &r[ep])?,
                n: number(what, line, &r[n])?,
                values,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hidden_widths_of_older_summaries_read_as_spelt_today() {
        assert_eq!(super::respelt("model.hidden", "[128, 64]"), "128x64");
        assert_eq!(super::respelt("model.hidden", "256x128"), "256x128");
        assert_eq!(
            super::respelt("optimizer.betas", "[0.9, 0.999]"),
            "[0.9, 0.999]"
        );
    }
}
