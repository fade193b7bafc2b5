//! Reading every part of a stored run before it is reused, so that a part
//! that cannot be read (a corrupt manifest, a truncated table, unreadable
//! weights) is reported with its path and moved aside to
//! `corrupt/<run_id>-<n>/`, instead of being reused, or silently retrained
//! and replaced.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{MetricsError, io};
use crate::manifest::RunManifest;
use crate::store::{MANIFEST_FILE, MISTAKES_FILE, MODEL_FILE, Store};
use crate::table::{read_confusion, read_parquet};

/// What the store holds of one run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// Nothing.
    Absent,
    /// Some parts and not others (a publication that was stopped part-way):
    /// not stored; the next publication replaces them.
    Partial,
    /// Every part is in place and reads.
    Stored(Box<RunManifest>),
    /// A part was there but could not be read: `path` and why; every part
    /// of the run was moved to `moved_to`, so the run is no longer stored.
    MovedAside {
        path: PathBuf,
        problem: String,
        moved_to: PathBuf,
    },
}

impl Store {
    /// Reads every part of a run that is present (manifest, weights' header,
    /// mistakes, both tables) and says what the store holds; a run with a
    /// part that cannot be read is moved aside first (see [`RunState`]).
    pub fn examine(&self, run_id: &str) -> Result<RunState, MetricsError> {
        let (present, unreadable) = self.read_parts(run_id);
        if let Some((path, problem)) = unreadable {
            let moved_to = self.move_aside(run_id)?;
            return Ok(RunState::MovedAside {
                path,
                problem,
                moved_to,
            });
        }
        let parts = present.len();
        let manifest = present.into_iter().flatten().next();
        Ok(match (parts, manifest) {
            (0, _) => RunState::Absent,
            (4, Some(m)) => RunState::Stored(Box::new(m)),
            _ => RunState::Partial,
        })
    }

    /// The required parts present (the manifest's value when it is one of
    /// them), and the first part that is present but cannot be read.
    #[allow(clippy::type_complexity)]
    fn read_parts(&self, run_id: &str) -> (Vec<Option<RunManifest>>, Option<(PathBuf, String)>) {
        let dir = self.run_dir(run_id);
        let mut present = Vec::new();
        let mut check =
            |path: PathBuf, read: &dyn Fn(&Path) -> Result<Option<RunManifest>, String>| {
                match std::fs::metadata(&path) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    _ => match read(&path) {
                        Ok(m) => {
                            present.push(m);
                            None
                        }
                        Err(problem) => Some((path, problem)),
                    },
                }
            };
        let unreadable = check(dir.join(MANIFEST_FILE), &|p| read_manifest(p).map(Some))
            .or_else(|| {
                check(dir.join(MODEL_FILE), &|p| {
                    check_safetensors(p).map(|()| None)
                })
            })
            .or_else(|| {
                check(self.metrics_file(run_id), &|p| {
                    read_parquet(p).map(|_| None).map_err(|e| e.to_string())
                })
            })
            .or_else(|| {
                check(self.confusion_file(run_id), &|p| {
                    read_confusion(p).map(|_| None).map_err(|e| e.to_string())
                })
            });
        // Mistakes are optional (runs stored before they were kept have
        // none), but one that is there must read.
        let mistakes = dir.join(MISTAKES_FILE);
        let unreadable = unreadable.or_else(|| match std::fs::read(&mistakes) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => Some((mistakes.clone(), e.to_string())),
            Ok(bytes) => serde_json::from_slice::<Vec<crate::Mistake>>(&bytes)
                .err()
                .map(|e| (mistakes.clone(), e.to_string())),
        });
        (present, unreadable)
    }

    /// Moves every part of a run to `corrupt/<run_id>-<n>/` (the first `n`
    /// from 1 not yet taken): the tables first, so that no table of a run
    /// that is not stored stays visible, then the run directory.
    fn move_aside(&self, run_id: &str) -> Result<PathBuf, MetricsError> {
        let corrupt = self.root().join("corrupt");
        let target = (1..)
            .map(|n| corrupt.join(format!("{run_id}-{n}")))
            .find(|p| !p.exists())
            .expect("some n is free");
        std::fs::create_dir_all(&target).map_err(io(&target))?;
        for (from, name) in [
            (self.metrics_file(run_id), "metrics.parquet"),
            (self.confusion_file(run_id), "confusion.parquet"),
            (self.run_dir(run_id), "run"),
        ] {
            if std::fs::symlink_metadata(&from).is_ok() {
                std::fs::rename(&from, target.join(name)).map_err(io(&from))?;
            }
        }
        Ok(target)
    }
}

fn read_manifest(path: &Path) -> Result<RunManifest, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// The weights file holds a whole safetensors header (an 8-byte length,
/// then that many bytes of JSON) and every tensor the header places.
fn check_safetensors(path: &Path) -> Result<(), String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut size = [0u8; 8];
    file.read_exact(&mut size)
        .map_err(|_| format!("{len} bytes: too short for a safetensors header"))?;
    let header_len = u64::from_le_bytes(size);
    if header_len > len - 8 {
        return Err(format!(
            "its header claims {header_len} bytes, the file has {len}"
        ));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header).map_err(|e| e.to_string())?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&header).map_err(|e| format!("safetensors header: {e}"))?;
    let data = len - 8 - header_len;
    for (name, tensor) in header.iter().filter(|(k, _)| *k != "__metadata__") {
        let end = tensor
            .get("data_offsets")
            .and_then(|o| o.get(1))
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| format!("safetensors header: tensor {name} has no data_offsets"))?;
        if end > data {
            return Err(format!(
                "tensor {name} ends at byte {end} of the data, which has {data}: truncated"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::record;

    #[test]
    fn a_stored_run_reads_and_a_partial_one_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert_eq!(store.examine("abc").unwrap(), RunState::Absent);
        let r = record("baseline", "abc", 0, 1.0);
        store.write_run(&r).unwrap();
        assert_eq!(
            store.examine("abc").unwrap(),
            RunState::Stored(Box::new(r.manifest.clone()))
        );
        std::fs::remove_file(store.metrics_file("abc")).unwrap();
        assert_eq!(store.examine("abc").unwrap(), RunState::Partial);
    }

    #[test]
    fn an_unreadable_part_is_named_and_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let parts = [
            store.run_dir("abc").join(MANIFEST_FILE),
            store.model_path("abc"),
            store.run_dir("abc").join(MISTAKES_FILE),
            store.metrics_file("abc"),
            store.confusion_file("abc"),
        ];
        for (n, part) in parts.iter().enumerate() {
            store.write_run(&record("baseline", "abc", 0, 1.0)).unwrap();
            // Truncated, as a full disk or a bad copy leaves it.
            let bytes = std::fs::read(part).unwrap();
            std::fs::write(part, &bytes[..bytes.len() / 2]).unwrap();
            let RunState::MovedAside {
                path,
                problem,
                moved_to,
            } = store.examine("abc").unwrap()
            else {
                panic!("{} not detected", part.display());
            };
            assert_eq!(&path, part);
            assert!(!problem.is_empty());
            assert_eq!(moved_to, dir.path().join(format!("corrupt/abc-{}", n + 1)));
            assert!(moved_to.join("run").join(MODEL_FILE).is_file());
            assert!(moved_to.join("metrics.parquet").is_file());
            assert!(moved_to.join("confusion.parquet").is_file());
            // Nothing of it is left in the store: it is trained again.
            assert_eq!(store.examine("abc").unwrap(), RunState::Absent);
        }
    }
}
