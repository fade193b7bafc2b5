//! Writing the manifest of another MNIST-format data set from its files: the
//! one step that needs both hashing (`verify`) and decoding (`dataset`), kept
//! apart so that `manifest` depends on neither.

use std::path::Path;

use crate::manifest::{FileSpec, Manifest, Role};
use crate::{DataError, dataset, verify};

impl Manifest {
    /// Describes the four .gz files found in `dir` (their names given by
    /// role, in the order of [`Role::ALL`]): the manifest of another
    /// MNIST-format data set, with `dir` as its local mirror. Each payload is
    /// decompressed and hashed; the IDX headers are checked.
    pub fn describe(
        name: &str,
        classes: Vec<String>,
        dir: &Path,
        file_names: [&str; 4],
    ) -> Result<Manifest, DataError> {
        let mut files = Vec::new();
        for (role, file) in Role::ALL.into_iter().zip(file_names) {
            let path = dir.join(file);
            let digest = verify::digest_path(&path)?;
            files.push(FileSpec {
                name: file.to_owned(),
                role,
                gz_size: None,
                gz_md5: None,
                raw_len: digest.raw_len,
                raw_md5: digest.raw_md5.unwrap_or_default(),
                raw_sha256: digest.raw_sha256.unwrap_or_default(),
                raw_blake3: digest.raw_blake3,
            });
        }
        let manifest = Manifest {
            name: name.to_owned(),
            classes,
            help: None,
            mirrors: Vec::new(),
            local_mirrors: vec![dir.to_owned()],
            files,
        };
        manifest
            .validate()
            .map_err(|problem| DataError::ManifestInvalid {
                origin: dir.display().to_string(),
                problem,
            })?;
        // Decoding proves the files are IDX data of matching counts.
        dataset::load(&manifest, dir)?;
        Ok(manifest)
    }
}
