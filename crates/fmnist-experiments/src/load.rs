//! Reading experiment files: the schema of one file, `extends` resolution
//! on the settings of each file, and the expansion of a `[sweep]` into its
//! points (module `sweep`). Where a value was written is kept (module
//! `source`) so that validation (module `resolve`) names its file, line and
//! column.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::config::{PaperRef, ReportMeta};
use crate::error::ExperimentError;
use crate::experiment::{Experiment, FileMeta};
use crate::resolve::finish;
use crate::settings::{
    Settings, WrittenInput, WrittenKindTable, WrittenModel, WrittenSettings, WrittenTraining,
};
use crate::source::SourceFile;
use crate::suggest::explain_toml_error;
use crate::sweep::{self, WrittenSweep};

/// Loads every `*.toml` directly inside `dir` (sorted by file name), each
/// sweep file expanded into its points; ordered by `report.order`, then by
/// name, the points of a sweep staying together in their product order.
pub fn load_dir(dir: &Path) -> Result<Vec<Experiment>, ExperimentError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ExperimentError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ExperimentError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "toml") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut out: Vec<Experiment> = Vec::new();
    for path in paths {
        for exp in load_file(&path)? {
            if let Some(prev) = out.iter().find(|e| e.name == exp.name) {
                return Err(ExperimentError::DuplicateName {
                    name: exp.name.clone(),
                    first: prev.path.clone(),
                    second: exp.path.clone(),
                });
            }
            out.push(exp);
        }
    }
    out.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    Ok(out)
}

fn sort_key(e: &Experiment) -> (i64, &str, usize) {
    let order = e.report.order.unwrap_or(i64::MAX);
    match &e.sweep {
        Some(p) => (order, &p.sweep, p.index),
        None => (order, &e.name, 0),
    }
}

/// Loads one experiment file and everything it extends: one experiment, or
/// for a file with a `[sweep]`, one per point in product order (a TPE
/// sweep's first round: module `tpe`).
pub fn load_file(path: &Path) -> Result<Vec<Experiment>, ExperimentError> {
    let read = read_file(path)?;
    match read.sweep {
        None => {
            let (config, seeds) = finish(&read.settings, &read.file)?;
            let meta = read.meta;
            Ok(vec![Experiment {
                name: meta.name,
                path: meta.path,
                description: meta.description,
                paper: meta.paper,
                report: meta.report,
                config,
                seeds,
                sweep: None,
                parent: read.parent,
            }])
        }
        Some(written) => {
            sweep::Sweep::parse(written, &read.file)?.expand(&read.meta, &read.settings, &read.file)
        }
    }
}

/// One file read with everything it extends, its `[sweep]` not yet parsed.
pub(crate) struct ReadFile {
    pub(crate) meta: FileMeta,
    /// The file's settings over those of what it extends.
    pub(crate) settings: Settings,
    pub(crate) file: Arc<SourceFile>,
    pub(crate) sweep: Option<Spanned<WrittenSweep>>,
    /// The resolved settings of what it extends.
    parent: Option<crate::RunConfig>,
}

pub(crate) fn read_file(path: &Path) -> Result<ReadFile, ExperimentError> {
    let (mut doc, file) = read_doc(path)?;
    let own = Settings::written(doc.settings(), &file)?;
    let parent = parent_settings(doc.extends.as_ref(), &file, &mut Vec::new())?;
    let parent_config = match &parent {
        Some(p) => finish(p, &file).ok().map(|(config, _)| config),
        None => None,
    };
    let settings = own.over(parent.unwrap_or_default());
    let meta = FileMeta {
        name: experiment_name(doc.name.as_ref(), path, &file)?,
        path: path.to_path_buf(),
        description: doc.description.unwrap_or_default(),
        paper: doc.paper.unwrap_or_default(),
        report: doc.report.unwrap_or_default(),
    };
    Ok(ReadFile {
        meta,
        settings,
        file,
        sweep: doc.sweep,
        parent: parent_config,
    })
}

/// The file's `name`, checked, or its stem.
fn experiment_name(
    name: Option<&Spanned<String>>,
    path: &Path,
    file: &SourceFile,
) -> Result<String, ExperimentError> {
    match name {
        Some(n) => {
            let v = n.get_ref().trim();
            if v.is_empty() || v.contains(['/', '\\']) {
                return Err(file.invalid(
                    n.span(),
                    "name",
                    "expected a non-empty name without slashes",
                ));
            }
            Ok(v.to_string())
        }
        None => Ok(path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()),
    }
}

// The on-disk schema of one file. Every field is optional because a file may
// inherit it; `deny_unknown_fields` turns typos into errors with a position.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    extends: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    description: Option<String>,
    paper: Option<PaperRef>,
    report: Option<ReportMeta>,
    #[serde(default)]
    model: WrittenModel,
    #[serde(default)]
    input: WrittenInput,
    #[serde(default)]
    optimizer: WrittenKindTable,
    #[serde(default)]
    schedule: WrittenKindTable,
    #[serde(default)]
    training: WrittenTraining,
    sweep: Option<Spanned<WrittenSweep>>,
}

impl Doc {
    /// Takes the setting tables out of the document.
    fn settings(&mut self) -> WrittenSettings {
        WrittenSettings {
            model: std::mem::take(&mut self.model),
            input: std::mem::take(&mut self.input),
            optimizer: std::mem::take(&mut self.optimizer),
            schedule: std::mem::take(&mut self.schedule),
            training: std::mem::take(&mut self.training),
        }
    }
}

fn read_doc(path: &Path) -> Result<(Doc, Arc<SourceFile>), ExperimentError> {
    let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let doc: Doc = toml::from_str(&text).map_err(|e| ExperimentError::Parse {
        path: path.to_path_buf(),
        message: explain_toml_error(&e.to_string()),
    })?;
    let file = Arc::new(SourceFile {
        path: path.to_path_buf(),
        text,
    });
    Ok((doc, file))
}

/// The settings of everything `file` extends, merged child over parent;
/// `None` when it extends nothing.
fn parent_settings(
    extends: Option<&Spanned<String>>,
    file: &Arc<SourceFile>,
    chain: &mut Vec<PathBuf>,
) -> Result<Option<Settings>, ExperimentError> {
    let canonical = file
        .path
        .canonicalize()
        .unwrap_or_else(|_| file.path.clone());
    if chain.contains(&canonical) {
        let mut cycle = chain.clone();
        cycle.push(canonical);
        return Err(ExperimentError::ExtendsCycle { chain: cycle });
    }
    let Some(ext) = extends else {
        return Ok(None);
    };
    chain.push(canonical);
    let base = file.path.parent().unwrap_or(Path::new("."));
    let target = base.join(ext.get_ref());
    if !target.is_file() {
        let (line, column) = file.line_col(ext.span().start);
        return Err(ExperimentError::ExtendsNotFound {
            path: file.path.clone(),
            line,
            column,
            target,
            reason: "no such file (paths are relative to the extending file)".into(),
        });
    }
    let (mut doc, parent_file) = read_doc(&target)?;
    // A sweep is many experiments; which one would be extended is
    // anyone's guess, so this is refused rather than half-inherited.
    if doc.sweep.is_some() {
        return Err(file.invalid(
            ext.span(),
            "extends",
            format!(
                "{} has a [sweep] table: a sweep file cannot be extended; extend the file it extends{}, or copy the point's settings",
                target.display(),
                doc.extends
                    .as_ref()
                    .map(|e| format!(" (\"{}\")", e.get_ref()))
                    .unwrap_or_default()
            ),
        ));
    }
    let written = Settings::written(doc.settings(), &parent_file)?;
    let grandparent = parent_settings(doc.extends.as_ref(), &parent_file, chain)?;
    chain.pop();
    Ok(Some(written.over(grandparent.unwrap_or_default())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OptimizerConfig, nearest};

    /// The frozen copy of the shipped experiment files (never the
    /// repository's `experiments/`, which a user may edit).
    fn repo_experiments() -> PathBuf {
        crate::testdata::shipped()
    }

    /// Writes `files` into a fresh directory and loads `main`, a file
    /// without a sweep.
    fn load_with(files: &[(&str, &str)], main: &str) -> Result<Experiment, ExperimentError> {
        load_all_with(files, main).map(|mut exps| {
            assert_eq!(exps.len(), 1, "{main} is one experiment");
            exps.remove(0)
        })
    }

    /// Writes `files` into a fresh directory and loads every experiment of `main`.
    fn load_all_with(
        files: &[(&str, &str)],
        main: &str,
    ) -> Result<Vec<Experiment>, ExperimentError> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        load_file(&dir.path().join(main))
    }

    fn baseline_text() -> String {
        std::fs::read_to_string(repo_experiments().join("baseline.toml")).unwrap()
    }

    #[test]
    fn every_experiment_file_of_the_repository_loads() {
        let all = load_dir(&repo_experiments()).unwrap();
        let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
        for expected in [
            "baseline",
            "lr-0.01",
            "lr-0.0001",
            "dropout-0",
            "dropout-0.5",
            "hidden-64-32",
            "hidden-256-128",
            "adam",
            "batch-50",
            "batch-200",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        assert_eq!(names[0], "baseline", "baseline sorts first");
        let baseline = &all[0];
        assert_eq!(baseline.config.model.hidden, vec![128, 64]);
        assert_eq!(baseline.config.model.dropout, 0.2);
        assert_eq!(baseline.config.batch_size, 100);
        assert_eq!(baseline.config.epochs, 30);
        assert_eq!(baseline.seeds, vec![0, 1, 2]);
        assert_eq!(baseline.config, crate::RunConfig::table_one());
        assert_eq!(
            baseline.config.optimizer,
            OptimizerConfig::Sgd {
                lr: 0.001,
                momentum: 0.0,
                dampening: 0.0,
                nesterov: false,
                weight_decay: 0.0
            }
        );
    }

    #[test]
    fn extends_overrides_only_what_differs_and_a_new_kind_starts_afresh() {
        let adam = load_file(&repo_experiments().join("adam.toml"))
            .unwrap()
            .remove(0);
        assert_eq!(
            adam.config.optimizer,
            OptimizerConfig::Adam {
                lr: 0.001,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: 0.0
            }
        );
        assert_eq!(adam.config.model.hidden, vec![128, 64]);
        assert_eq!(adam.paper.figure.as_deref(), Some("FIG. 6"));

        // Defaults of torch.optim.Adam fill what an Adam file does not say.
        let exp = load_with(
            &[
                ("base.toml", &baseline_text()),
                (
                    "a.toml",
                    "extends = \"base.toml\"\n[optimizer]\nkind = \"adam\"\nlr = 0.01\n",
                ),
            ],
            "a.toml",
        )
        .unwrap();
        assert_eq!(
            exp.config.optimizer,
            OptimizerConfig::Adam {
                lr: 0.01,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: 0.0
            }
        );
        assert_eq!(exp.name, "a");
        assert!(
            exp.paper.figure.is_none(),
            "paper references are not inherited"
        );
    }

    #[test]
    fn a_misspelt_key_names_file_line_and_suggests_the_key() {
        let text = baseline_text().replace("lr = 0.001", "lrr = 0.001");
        let err = load_with(&[("typo.toml", &text)], "typo.toml").unwrap_err();
        let msg = err.to_string();
        let line = text.lines().position(|l| l.starts_with("lrr")).unwrap() + 1;
        assert!(msg.contains("typo.toml"), "{msg}");
        assert!(msg.contains(&format!("typo.toml:{line}:")), "{msg}");
        assert!(msg.contains("`optimizer.lrr`"), "{msg}");
        assert!(msg.contains("did you mean `lr`?"), "{msg}");
    }

    #[test]
    fn invalid_values_name_file_line_column_and_key() {
        let cases: &[(&str, &str, &str)] = &[
            ("lr = 0.001", "lr = -0.1", "optimizer.lr"),
            ("lr = 0.001", "lr = 0.0", "optimizer.lr"),
            ("dropout = 0.2", "dropout = 1.0", "model.dropout"),
            ("dropout = 0.2", "dropout = -0.1", "model.dropout"),
            ("hidden = [128, 64]", "hidden = []", "model.hidden"),
            ("hidden = [128, 64]", "hidden = [128, 0]", "model.hidden"),
            ("batch_size = 100", "batch_size = 0", "training.batch_size"),
            (
                "batch_size = 100",
                "batch_size = 60001",
                "training.batch_size",
            ),
            ("epochs = 30", "epochs = 0", "training.epochs"),
            ("kind = \"sgd\"", "kind = \"sgdd\"", "optimizer.kind"),
            ("seeds = [0, 1, 2]", "seeds = []", "training.seeds"),
            ("std = 0.5", "std = 0.0", "input.std"),
            ("nesterov = false", "nesterov = true", "optimizer.nesterov"),
        ];
        for (from, to, key) in cases {
            let text = baseline_text().replace(from, to);
            assert_ne!(text, baseline_text(), "{from} not found in baseline.toml");
            let err = load_with(&[("bad.toml", &text)], "bad.toml").unwrap_err();
            let line = text.lines().position(|l| l.starts_with(to)).unwrap() + 1;
            match &err {
                ExperimentError::Invalid {
                    path,
                    line: l,
                    key: k,
                    ..
                } => {
                    assert!(path.ends_with("bad.toml"));
                    assert_eq!(*l, line, "{err}");
                    assert_eq!(k, key, "{err}");
                }
                other => panic!("{to}: expected Invalid, got {other}"),
            }
        }
        let err = load_with(
            &[("bad.toml", &baseline_text().replace("\"sgd\"", "\"sgdd\""))],
            "bad.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("did you mean \"sgd\""), "{err}");
    }

    #[test]
    fn a_new_kind_inherits_the_settings_the_two_kinds_share() {
        // The baseline writes SGD's lr, momentum, dampening, nesterov and
        // weight decay; Adam takes lr and weight decay of them.
        let base = [("base.toml", baseline_text())];
        let with = |child: &str| {
            let mut files: Vec<(&str, &str)> = vec![(base[0].0, &base[0].1)];
            files.push(("a.toml", child));
            load_with(&files, "a.toml")
        };
        let adam = with("extends = \"base.toml\"\n[optimizer]\nkind = \"adam\"\n").unwrap();
        assert_eq!(
            adam.config.optimizer,
            OptimizerConfig::Adam {
                lr: 0.001,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: 0.0
            }
        );
        // AdamW inherits the baseline's explicit weight decay 0 (not its
        // own default 0.01): the file it extends wrote it.
        let adamw = with("extends = \"base.toml\"\n[optimizer]\nkind = \"adamw\"\n").unwrap();
        assert_eq!(
            adamw.config.optimizer.settings()[3],
            ("weight_decay", "0".into())
        );
        // What the new kind does not take is dropped, not an error.
        let rms =
            with("extends = \"base.toml\"\n[optimizer]\nkind = \"rmsprop\"\nlr = 0.01\n").unwrap();
        assert_eq!(rms.config.optimizer.lr(), 0.01);
        // Schedules alike: a step schedule with a warmup, changed to
        // exponential, keeps the warmup and gamma, drops the step size.
        let sched = format!(
            "{}\n[schedule]\nkind = \"step\"\nstep_size = 5\ngamma = 0.5\nwarmup_epochs = 2\n",
            baseline_text()
        );
        let files = [
            ("s.toml", sched.as_str()),
            (
                "e.toml",
                "extends = \"s.toml\"\n[schedule]\nkind = \"exponential\"\n",
            ),
        ];
        let exp = load_with(&files, "e.toml").unwrap();
        assert_eq!(
            exp.config.schedule.describe(),
            "LinearLR(start_factor=0.3333333333333333, total_iters=2) for 2 epochs, then ExponentialLR(gamma=0.5)"
        );
    }

    #[test]
    fn an_unknown_kind_is_reported_before_the_settings_that_depend_on_it() {
        // An unknown kind takes none of the settings of the file it
        // extends; the kind is the mistake to report.
        let err = load_with(
            &[
                ("base.toml", &baseline_text()),
                (
                    "r.toml",
                    "extends = \"base.toml\"\n[optimizer]\nkind = \"lion\"\n",
                ),
            ],
            "r.toml",
        )
        .unwrap_err();
        match &err {
            ExperimentError::Invalid {
                path,
                line: 3,
                column: 8,
                key,
                message,
            } => {
                assert!(path.ends_with("r.toml"));
                assert_eq!(key, "optimizer.kind");
                assert!(message.contains("unknown optimizer `lion`"), "{err}");
            }
            other => panic!("expected Invalid at r.toml:3:8, got {other}"),
        }
        let err = load_with(
            &[
                ("base.toml", &baseline_text()),
                (
                    "r.toml",
                    "extends = \"base.toml\"\n[optimizer]\nkind = \"adamm\"\n",
                ),
            ],
            "r.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("did you mean \"adam\""), "{err}");
    }

    #[test]
    fn a_setting_of_another_kind_names_its_key_and_line() {
        let text = baseline_text().replace("nesterov = false", "nesterov = false\neps = 1e-8");
        let err = load_with(&[("k.toml", &text)], "k.toml").unwrap_err();
        let line = text.lines().position(|l| l.starts_with("eps")).unwrap() + 1;
        assert!(
            matches!(&err, ExperimentError::Invalid { line: l, key, .. } if *l == line && key == "optimizer.eps"),
            "{err}"
        );
        assert!(
            err.to_string().contains("not a setting of optimizer `sgd`"),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_type_is_reported_with_its_position() {
        let text = baseline_text().replace("epochs = 30", "epochs = \"thirty\"");
        let err = load_with(&[("t.toml", &text)], "t.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("t.toml") && msg.contains("line"), "{msg}");
        assert!(msg.contains("epochs"), "{msg}");
    }

    #[test]
    fn an_invalid_inherited_value_points_at_the_file_that_wrote_it() {
        let base = baseline_text().replace("dropout = 0.2", "dropout = 2.0");
        let err = load_with(
            &[
                ("base.toml", &base),
                ("child.toml", "extends = \"base.toml\"\n"),
            ],
            "child.toml",
        )
        .unwrap_err();
        match err {
            ExperimentError::Invalid { path, key, .. } => {
                assert!(path.ends_with("base.toml"));
                assert_eq!(key, "model.dropout");
            }
            other => panic!("expected Invalid, got {other}"),
        }
    }

    #[test]
    fn missing_and_cyclic_extends_are_errors() {
        let err = load_with(&[("a.toml", "extends = \"nope.toml\"\n")], "a.toml").unwrap_err();
        assert!(
            matches!(err, ExperimentError::ExtendsNotFound { line: 1, .. }),
            "{err}"
        );
        let err = load_with(
            &[
                ("a.toml", "extends = \"b.toml\"\n"),
                ("b.toml", "extends = \"a.toml\"\n"),
            ],
            "a.toml",
        )
        .unwrap_err();
        assert!(matches!(err, ExperimentError::ExtendsCycle { .. }), "{err}");
    }

    #[test]
    fn a_missing_setting_says_which_key_to_add() {
        let text = baseline_text().replace("epochs = 30\n", "");
        let err = load_with(&[("m.toml", &text)], "m.toml").unwrap_err();
        assert!(
            matches!(&err, ExperimentError::Missing { key, .. } if key == "training.epochs"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), baseline_text()).unwrap();
        std::fs::write(
            dir.path().join("b.toml"),
            format!("name = \"a\"\n{}", baseline_text()),
        )
        .unwrap();
        let err = load_dir(dir.path()).unwrap_err();
        assert!(
            matches!(err, ExperimentError::DuplicateName { .. }),
            "{err}"
        );
    }

    #[test]
    fn nearest_finds_plausible_typos_only() {
        assert_eq!(nearest("lrr", &["lr", "momentum"]), Some("lr"));
        assert_eq!(
            nearest("batchsize", &["batch_size", "epochs"]),
            Some("batch_size")
        );
        assert_eq!(nearest("zzzzzz", &["lr", "eps"]), None);
    }

    #[test]
    fn schedules_and_early_stopping_resolve_with_torch_and_lightning_defaults() {
        use crate::{Keep, Mode, Monitor, ScheduleKind};
        let text = format!(
            "{}\n[schedule]\nkind = \"cosine\"\nwarmup_epochs = 2\n\n[training.early_stopping]\nmonitor = \"val_accuracy\"\nkeep = \"best\"\n",
            baseline_text()
        );
        let exp = load_with(&[("s.toml", &text)], "s.toml").unwrap();
        let c = &exp.config;
        assert_eq!(
            c.schedule.kind,
            ScheduleKind::Cosine {
                t_max: 30,
                eta_min: 0.0
            }
        );
        let w = c.schedule.warmup.as_ref().unwrap();
        assert_eq!((w.warmup_epochs, w.start_factor), (2, 1.0 / 3.0));
        let es = c.early_stopping.as_ref().unwrap();
        assert_eq!(
            (es.monitor, es.patience, es.mode, es.keep),
            (Monitor::ValAccuracy, 3, Mode::Max, Keep::Best)
        );
        let keys: Vec<String> = c.settings().into_iter().map(|(k, _)| k).collect();
        assert!(keys.contains(&"schedule.t_max".to_string()), "{keys:?}");
        assert!(
            keys.contains(&"training.early_stopping.patience".to_string()),
            "{keys:?}"
        );
        // The same settings with a constant rate and no stopping are the
        // baseline's: the same JSON, so the same run id as before schedules.
        let base = load_with(&[("b.toml", &baseline_text())], "b.toml").unwrap();
        let json = serde_json::to_string(&base.config).unwrap();
        assert!(
            !json.contains("schedule") && !json.contains("early_stopping"),
            "{json}"
        );
        let explicit = format!(
            "{}\n[schedule]\nkind = \"constant\"\nwarmup_epochs = 0\n",
            baseline_text()
        );
        let same = load_with(&[("c.toml", &explicit)], "c.toml").unwrap();
        assert_eq!(same.config, base.config);
    }

    #[test]
    fn schedule_mistakes_name_file_line_column_and_key() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "kind = \"cosin\"",
                "schedule.kind",
                "did you mean \"cosine\"",
            ),
            ("kind = \"step\"", "schedule.step_size", "add it"),
            (
                "kind = \"cosine\"\nstep_size = 3",
                "schedule.step_size",
                "not a setting of schedule `cosine`",
            ),
            ("step_size = 3", "schedule.step_size", "set `kind` first"),
            (
                "kind = \"step\"\nstep_size = 0",
                "schedule.step_size",
                "at least 1",
            ),
            (
                "kind = \"plateau\"\nfactor = 1.5",
                "schedule.factor",
                "between 0 and 1",
            ),
            (
                "kind = \"plateau\"\nmode = \"up\"",
                "schedule.mode",
                "\"min\", \"max\"",
            ),
            (
                "kind = \"cosine\"\nwarmup_epochs = 2\nstart_factor = 0",
                "schedule.start_factor",
                "greater than 0",
            ),
            (
                "kind = \"exponential\"\ngama = 0.9",
                "schedule.gama",
                "did you mean `gamma`?",
            ),
        ];
        for (body, key, message) in cases {
            let text = format!("{}\n[schedule]\n{body}\n", baseline_text());
            let err = load_with(&[("bad.toml", &text)], "bad.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains("bad.toml"), "{body}: {err}");
            assert!(err.contains(key), "{body}: {err}");
            assert!(err.contains(message), "{body}: {err}");
            if !message.contains("add it") {
                // Positioned: `path:line:column`.
                assert!(err.contains("bad.toml:"), "{body}: {err}");
            }
        }
        let stopping: &[(&str, &str)] = &[
            ("patience = 3", "training.early_stopping.monitor"),
            ("monitor = \"loss\"", "training.early_stopping.monitor"),
            (
                "monitor = \"val_loss\"\npatience = 0",
                "training.early_stopping.patience",
            ),
            (
                "monitor = \"val_loss\"\nkeep = \"first\"",
                "training.early_stopping.keep",
            ),
            (
                "monitor = \"val_loss\"\nmin_delta = -1.0",
                "training.early_stopping.min_delta",
            ),
        ];
        // A misspelt word is reported at the value, with the nearest word.
        let text = format!(
            "{}\n[training.early_stopping]\nmonitor = \"val_los\"\n",
            baseline_text()
        );
        let line = text.lines().count();
        let err = load_with(&[("bad.toml", &text)], "bad.toml").unwrap_err();
        assert!(
            matches!(&err, ExperimentError::Invalid { line: l, column: 11, .. } if *l == line),
            "{err}"
        );
        let msg = err.to_string();
        assert!(msg.contains("did you mean \"val_loss\"?"), "{msg}");
        assert!(msg.contains("`training.early_stopping.monitor`"), "{msg}");
        for (body, key) in stopping {
            let text = format!("{}\n[training.early_stopping]\n{body}\n", baseline_text());
            let err = load_with(&[("bad.toml", &text)], "bad.toml")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(key) && err.contains("bad.toml:"),
                "{body}: {err}"
            );
        }
    }
}
