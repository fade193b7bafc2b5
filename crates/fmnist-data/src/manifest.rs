//! The manifest: which files make up the data set, what their decompressed
//! payloads hash to, and where copies may be found.
//!
//! The committed `data/fashion-mnist.toml` is compiled into the crate so
//! that a binary can verify data without the source tree; [`Manifest::pinned`]
//! parses that copy. Tests and tools can load other manifests with
//! [`Manifest::from_path`] or [`Manifest::from_str`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DataError;

/// The text of `data/fashion-mnist.toml` as it was when the crate was built.
pub const PINNED_MANIFEST: &str = include_str!("../../../data/fashion-mnist.toml");

/// What a file holds. Each role appears exactly once in a valid manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    TrainImages,
    TrainLabels,
    TestImages,
    TestLabels,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::TrainImages,
        Role::TrainLabels,
        Role::TestImages,
        Role::TestLabels,
    ];

    /// The spelling used in the manifest, e.g. `train-images`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::TrainImages => "train-images",
            Role::TrainLabels => "train-labels",
            Role::TestImages => "test-images",
            Role::TestLabels => "test-labels",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One pinned file. Digests are lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// File name, both in the data directory and on mirrors.
    pub name: String,
    pub role: Role,
    /// Size of the officially published .gz; informational only, since
    /// other copies may carry a different gzip header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gz_size: Option<u64>,
    /// MD5 of the officially published .gz; informational only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gz_md5: Option<String>,
    /// Length of the decompressed IDX payload.
    pub raw_len: u64,
    pub raw_md5: String,
    pub raw_sha256: String,
    pub raw_blake3: String,
}

/// The whole data set description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The data set's name, e.g. "Fashion-MNIST"; shown in the report.
    pub name: String,
    /// Class names, indexed by label; every label must be below their count.
    pub classes: Vec<String>,
    /// Where to get the data when no source has it, e.g. the package to
    /// install; ends the error that says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// URL prefixes; a file's URL is the prefix followed by its name.
    #[serde(default)]
    pub mirrors: Vec<String>,
    /// Directories that may already hold the .gz files.
    #[serde(default)]
    pub local_mirrors: Vec<PathBuf>,
    #[serde(rename = "file")]
    pub files: Vec<FileSpec>,
}

impl Manifest {
    /// The manifest compiled into this crate.
    pub fn pinned() -> Manifest {
        // A unit test parses the embedded text, so this cannot fail in a
        // build whose tests pass.
        Manifest::parse(PINNED_MANIFEST, "<embedded data/fashion-mnist.toml>")
            .unwrap_or_else(|e| panic!("the embedded manifest is broken: {e}"))
    }

    /// Reads and validates a manifest file.
    pub fn from_path(path: &Path) -> Result<Manifest, DataError> {
        let text =
            std::fs::read_to_string(path).map_err(DataError::io("reading manifest", path))?;
        Manifest::parse(&text, &path.display().to_string())
    }

    /// Parses and validates manifest text; errors call it `<string>`.
    #[allow(clippy::should_implement_trait)] // it does, too; this one needs no import
    pub fn from_str(text: &str) -> Result<Manifest, DataError> {
        Manifest::parse(text, "<string>")
    }

    /// Parses and validates manifest text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Manifest, DataError> {
        let mut manifest: Manifest =
            toml::from_str(text).map_err(|error| DataError::ManifestParse {
                origin: origin.to_owned(),
                error: Box::new(error),
            })?;
        for spec in &mut manifest.files {
            if let Some(d) = &mut spec.gz_md5 {
                d.make_ascii_lowercase();
            }
            for digest in [
                &mut spec.raw_md5,
                &mut spec.raw_sha256,
                &mut spec.raw_blake3,
            ] {
                digest.make_ascii_lowercase();
            }
        }
        manifest
            .validate()
            .map_err(|problem| DataError::ManifestInvalid {
                origin: origin.to_owned(),
                problem,
            })?;
        Ok(manifest)
    }

    /// Checks what the TOML schema cannot: one file per role, sane names
    /// (they are joined onto directories and URLs), well-formed digests.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.classes.len() < 2 || self.classes.len() > 256 {
            return Err(format!(
                "classes must name between 2 and 256 classes, got {}",
                self.classes.len()
            ));
        }
        for role in Role::ALL {
            let n = self.files.iter().filter(|f| f.role == role).count();
            if n != 1 {
                return Err(format!(
                    "expected exactly one file with role {role}, found {n}"
                ));
            }
        }
        for spec in &self.files {
            let name = &spec.name;
            if name.is_empty()
                || name.starts_with('.')
                || name.contains(['/', '\\', ':'])
                || name.chars().any(char::is_control)
            {
                return Err(format!("file name {name:?} is not a plain file name"));
            }
            if self.files.iter().filter(|f| &f.name == name).count() > 1 {
                return Err(format!("file name {name:?} appears more than once"));
            }
            let gz_md5 = spec.gz_md5.as_ref();
            for (field, value, len) in [("gz_md5", gz_md5, 32)]
                .into_iter()
                .filter_map(|(f, v, l)| Some((f, v?, l)))
                .chain([
                    ("raw_md5", &spec.raw_md5, 32),
                    ("raw_sha256", &spec.raw_sha256, 64),
                    ("raw_blake3", &spec.raw_blake3, 64),
                ])
            {
                if value.len() != len || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!(
                        "{name}: {field} must be {len} hex digits, got {value:?}"
                    ));
                }
            }
        }
        for url in &self.mirrors {
            if !crate::source::is_url(url) {
                return Err(format!("mirror {url:?} is not an http:// or https:// URL"));
            }
        }
        Ok(())
    }

    /// The file with the given role, if the manifest has one (a manifest
    /// built by [`Manifest::parse`] always does).
    pub fn file(&self, role: Role) -> Option<&FileSpec> {
        self.files.iter().find(|f| f.role == role)
    }

    /// The manifest as TOML, readable by [`Manifest::from_path`].
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a manifest is plain data")
    }

    /// The BLAKE3 of each decompressed payload, in manifest order; what a
    /// run records to say which data it used.
    pub fn data_hashes(&self) -> Vec<String> {
        self.files.iter().map(|f| f.raw_blake3.clone()).collect()
    }
}

impl FromStr for Manifest {
    type Err = DataError;

    fn from_str(text: &str) -> Result<Manifest, DataError> {
        Manifest::parse(text, "<string>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_manifest_parses_and_covers_every_role() {
        let m = Manifest::pinned();
        assert_eq!(m.name, "Fashion-MNIST");
        assert_eq!(m.classes.len(), 10);
        assert_eq!(
            (m.classes[0].as_str(), m.classes[9].as_str()),
            ("T-shirt/top", "Ankle boot")
        );
        assert!(m.help.as_deref().unwrap().contains("dataset-fashion-mnist"));
        assert_eq!(m.files.len(), 4);
        for role in Role::ALL {
            assert!(m.file(role).is_some(), "{role}");
        }
        assert_eq!(
            m.local_mirrors,
            [PathBuf::from("/usr/share/datasets/fashion-mnist")]
        );
        assert_eq!(m.mirrors.len(), 2);
        assert_eq!(
            m.data_hashes()[0],
            "feaca08b36e07f8d504641a929bff1554884ef73964323e44e59e39a986b4c9e"
        );
    }

    #[test]
    fn from_path_reads_the_committed_file() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/fashion-mnist.toml");
        assert_eq!(Manifest::from_path(&path).unwrap(), Manifest::pinned());
    }

    #[test]
    fn syntax_error_names_origin_and_position() {
        let err = Manifest::parse("mirrors = [\n[[file]]\nname = 3\n", "bad.toml").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::ManifestParse { .. }));
        assert!(msg.contains("bad.toml"), "{msg}");
        assert!(msg.contains("line"), "{msg}");
        assert!(msg.contains("column"), "{msg}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = Manifest::from_path(Path::new("/nonexistent/m.toml")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/m.toml"), "{err}");
    }

    fn edited(from: &str, to: &str) -> Result<Manifest, DataError> {
        assert!(PINNED_MANIFEST.contains(from), "{from}");
        PINNED_MANIFEST.replacen(from, to, 1).parse()
    }

    #[test]
    fn rejects_inconsistent_manifests() {
        let cases = [
            ("role = \"test-labels\"", "role = \"train-labels\"", "role"),
            (
                "role = \"test-labels\"",
                "role = \"labels\"",
                "unknown variant",
            ),
            ("gz_md5 = \"8d4f", "gz_md5 = \"zz4f", "gz_md5"),
            (
                "name = \"train-images-idx3-ubyte.gz\"",
                "name = \"../x.gz\"",
                "plain file name",
            ),
            ("mirrors = [", "mirrors = [\"ftp://x/\",", "not an http"),
            (
                "raw_len = 10008",
                "raw_len = 10008\nextra = 1",
                "unknown field",
            ),
        ];
        for (from, to, expect) in cases {
            let msg = edited(from, to).unwrap_err().to_string();
            assert!(msg.contains(expect), "{to}: {msg}");
            assert!(msg.contains("<string>"), "{msg}");
        }
    }

    #[test]
    fn toml_round_trips() {
        let m = Manifest::pinned();
        assert_eq!(Manifest::from_str(&m.to_toml()).unwrap(), m);
    }

    #[test]
    fn classes_are_required_and_counted() {
        let msg = edited("classes = [", "unused = [").unwrap_err().to_string();
        assert!(msg.contains("classes"), "{msg}");
        let line = PINNED_MANIFEST
            .lines()
            .find(|l| l.starts_with("classes = "))
            .unwrap();
        let msg = edited(line, "classes = [\"only\"]")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("between 2 and 256 classes, got 1"), "{msg}");
    }

    #[test]
    fn digests_are_normalised_to_lowercase() {
        let m = edited("raw_blake3 = \"feac", "raw_blake3 = \"FEAC").unwrap();
        assert!(m.data_hashes()[0].starts_with("feac"));
    }
}
