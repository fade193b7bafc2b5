//! Which experiments an export sends, and the (experiment, stored run) pair
//! each planned run becomes: every point of an experiment file lands in the
//! MLflow experiment named after the file's stem.

use fmnist_experiments::Experiment;
use fmnist_metrics::StoredRun;

use crate::error::MlflowError;
use crate::mapping::ExportRun;

/// The experiments whose runs are exported: all, or those named by file
/// stem (`lr-sweep`, every point) or full name (`lr-sweep[optimizer.lr=0.01]`).
pub fn choose(
    experiments: Vec<Experiment>,
    names: &[String],
) -> Result<Vec<Experiment>, MlflowError> {
    if names.is_empty() {
        return Ok(experiments);
    }
    let named = |e: &Experiment, n: &str| e.name == n || stem(e) == n;
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| !experiments.iter().any(|e| named(e, n)))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        let mut stems: Vec<String> = experiments.iter().map(|e| stem(e).to_string()).collect();
        stems.sort_unstable();
        stems.dedup();
        return Err(MlflowError::UnknownExperiment { unknown, stems });
    }
    Ok(experiments
        .into_iter()
        .filter(|e| names.iter().any(|n| named(e, n)))
        .collect())
}

/// The experiment file's stem: the MLflow experiment its runs go to.
pub fn stem(e: &Experiment) -> &str {
    e.path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(&e.name)
}

impl<'a> ExportRun<'a> {
    /// `run` as planned by `exp`, whose file the user would type as
    /// `experiment_file`: in the MLflow experiment of the file's stem, with
    /// the experiment's claims and its description as the note.
    pub fn new(exp: &Experiment, run: &'a StoredRun, experiment_file: String) -> ExportRun<'a> {
        ExportRun {
            experiment: stem(exp).to_string(),
            name: exp.name.clone(),
            experiment_file,
            run,
            claims: exp.paper.claims.clone(),
            note: Some(exp.description.clone()).filter(|d| !d.trim().is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "description = \"small\"\n[model]\nhidden = [32, 16]\ndropout = 0.2\n\
        [optimizer]\nkind = \"sgd\"\nlr = 0.01\n[training]\nbatch_size = 100\nepochs = 2\nseeds = [0]\n";

    fn experiments() -> Vec<Experiment> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), SMALL).unwrap();
        let sweep = "extends = \"a.toml\"\n[sweep]\n\"model.dropout\" = [0.0, 0.3]\n";
        std::fs::write(dir.path().join("s.toml"), sweep).unwrap();
        fmnist_experiments::load_dir(dir.path()).unwrap()
    }

    fn names(e: &[Experiment]) -> Vec<&str> {
        e.iter().map(|e| e.name.as_str()).collect()
    }

    #[test]
    fn experiments_are_chosen_by_file_stem_or_full_name() {
        let all = experiments();
        assert_eq!(all.len(), 3);
        assert_eq!(names(&choose(all.clone(), &[]).unwrap()), names(&all));
        let sweep = choose(all.clone(), &["s".into()]).unwrap();
        assert_eq!(
            names(&sweep),
            ["s[model.dropout=0]", "s[model.dropout=0.3]"]
        );
        assert!(sweep.iter().all(|e| stem(e) == "s"));
        let one = choose(all.clone(), &["a".into(), "s[model.dropout=0.3]".into()]).unwrap();
        assert_eq!(names(&one), ["a", "s[model.dropout=0.3]"]);
        let err = choose(all, &["s".into(), "b".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no experiment is named \"b\"; the experiment files are: a, s"
        );
    }
}
