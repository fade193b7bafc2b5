//! Loading the verified files into memory as train and test splits.

use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::{DataError, FileSpec, Manifest, Role, idx};

/// One split: `len` images of `rows` x `cols` u8 pixels and their labels.
#[derive(Clone, PartialEq, Eq)]
pub struct ImageSet {
    /// `len * rows * cols` pixels, image after image, each row-major.
    pub images: Vec<u8>,
    /// `len` class indices, each below the data set's number of classes.
    pub labels: Vec<u8>,
    pub len: usize,
    pub rows: usize,
    pub cols: usize,
}

impl ImageSet {
    /// Pixels per image (`rows * cols`).
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols
    }

    /// The pixels of image `i`, row-major.
    ///
    /// # Panics
    /// If `i >= self.len`.
    pub fn image(&self, i: usize) -> &[u8] {
        assert!(i < self.len, "image {i} of a split of {}", self.len);
        let size = self.pixels_per_image();
        &self.images[i * size..(i + 1) * size]
    }

    /// The first `n` examples (all of them without `n`), borrowed when
    /// nothing is cut.
    pub fn first(&self, n: Option<usize>) -> std::borrow::Cow<'_, ImageSet> {
        match n {
            Some(n) if n < self.len => std::borrow::Cow::Owned(self.truncated(n)),
            _ => std::borrow::Cow::Borrowed(self),
        }
    }

    /// The first `n` examples (all of them if `n >= len`), e.g. for quick runs.
    pub fn truncated(&self, n: usize) -> ImageSet {
        let len = n.min(self.len);
        ImageSet {
            images: self.images[..len * self.pixels_per_image()].to_vec(),
            labels: self.labels[..len].to_vec(),
            len,
            rows: self.rows,
            cols: self.cols,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

// The derived Debug would print millions of pixels.
impl fmt::Debug for ImageSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageSet")
            .field("len", &self.len)
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .finish_non_exhaustive()
    }
}

/// The whole data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub train: ImageSet,
    pub test: ImageSet,
    /// Class names, indexed by label (from the manifest).
    pub classes: Vec<String>,
}

/// Reads the four .gz files of `manifest` from `data_dir`, checks each
/// decompressed payload's length and BLAKE3 against the manifest, and
/// decodes the IDX data.
pub fn load(manifest: &Manifest, data_dir: &Path) -> Result<Dataset, DataError> {
    Ok(Dataset {
        train: load_split(manifest, data_dir, Role::TrainImages, Role::TrainLabels)?,
        test: load_split(manifest, data_dir, Role::TestImages, Role::TestLabels)?,
        classes: manifest.classes.clone(),
    })
}

fn load_split(
    manifest: &Manifest,
    data_dir: &Path,
    images_role: Role,
    labels_role: Role,
) -> Result<ImageSet, DataError> {
    let spec = |role| {
        manifest
            .file(role)
            .ok_or_else(|| DataError::ManifestInvalid {
                origin: "<in memory>".into(),
                problem: format!("no file with role {role}"),
            })
    };
    let (images_spec, labels_spec) = (spec(images_role)?, spec(labels_role)?);

    let mut images = read_payload(images_spec, data_dir)?;
    let (len, rows, cols, pixels) = idx::decode_images(&images_spec.name, &images)?;
    // Strip the header in place rather than copy 47 MB of pixels.
    let header_len = images.len() - pixels.len();
    images.drain(..header_len);

    let raw = read_payload(labels_spec, data_dir)?;
    let labels = idx::decode_labels(&labels_spec.name, &raw)?;
    if let Some(&bad) = labels
        .iter()
        .find(|&&l| usize::from(l) >= manifest.classes.len())
    {
        return Err(DataError::idx(
            &labels_spec.name,
            format!(
                "label {bad} but the manifest names only {} classes",
                manifest.classes.len()
            ),
        ));
    }
    if labels.len() != len {
        return Err(DataError::CountMismatch {
            images_file: images_spec.name.clone(),
            images: len,
            labels_file: labels_spec.name.clone(),
            labels: labels.len(),
        });
    }
    Ok(ImageSet {
        images,
        labels,
        len,
        rows,
        cols,
    })
}

/// A reader that keeps the first error of `inner` for its caller and hands
/// the decoder only a stand-in.
struct ReadErrors<R> {
    inner: R,
    error: Option<io::Error>,
}

impl<R: Read> Read for ReadErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.error.is_some() {
            return Err(io::Error::other("source failed"));
        }
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.error = Some(e);
                    return Err(io::Error::other("source failed"));
                }
                ok => return ok,
            }
        }
    }
}

/// Reads and decompresses one file, checking it against the manifest.
fn read_payload(spec: &FileSpec, data_dir: &Path) -> Result<Vec<u8>, DataError> {
    let path = data_dir.join(&spec.name);
    let file = std::fs::File::open(&path).map_err(|error| {
        if error.kind() == io::ErrorKind::NotFound {
            DataError::Missing {
                file: spec.name.clone(),
                path: path.clone(),
            }
        } else {
            DataError::Io {
                action: "reading",
                path: path.clone(),
                error,
            }
        }
    })?;
    let corrupt = |problem: String| DataError::Corrupt {
        file: spec.name.clone(),
        problem,
    };
    let capacity = usize::try_from(spec.raw_len).unwrap_or(0);
    let mut raw = Vec::with_capacity(capacity);
    // Streamed, not read whole first: the compressed copy would double the
    // memory a run needs while it loads. Read errors of the file are kept
    // apart from decoding errors, so each is reported as what it is.
    let mut source = ReadErrors {
        inner: io::BufReader::with_capacity(1 << 16, file),
        error: None,
    };
    // One byte past the expected length is enough to know it is too long,
    // and stops a gzip bomb.
    let decoded = MultiGzDecoder::new(&mut source)
        .take(spec.raw_len.saturating_add(1))
        .read_to_end(&mut raw);
    if let Some(error) = source.error.take() {
        return Err(DataError::Io {
            action: "reading",
            path,
            error,
        });
    }
    decoded.map_err(|e| corrupt(format!("not a valid gzip stream: {e}")))?;
    if raw.len() as u64 != spec.raw_len {
        let got = if raw.len() as u64 > spec.raw_len {
            "more".to_owned()
        } else {
            raw.len().to_string()
        };
        return Err(corrupt(format!(
            "raw length expected {}, got {got}",
            spec.raw_len
        )));
    }
    let blake3 = blake3::hash(&raw).to_hex();
    if blake3.as_str() != spec.raw_blake3 {
        return Err(corrupt(format!(
            "raw blake3 expected {}, got {blake3}",
            spec.raw_blake3
        )));
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::tests::{gzip, spec_for};

    /// Writes a tiny data set (3 train, 2 test examples) and its manifest.
    fn tiny(dir: &Path, train_labels: &[u8], test_labels: &[u8]) -> Manifest {
        let images = |n: usize| {
            let px: Vec<u8> = (0..n * 784).map(|i| (i % 251) as u8).collect();
            idx::encode_images(n, 28, 28, &px)
        };
        let raws = [
            images(3),
            idx::encode_labels(train_labels),
            images(2),
            idx::encode_labels(test_labels),
        ];
        let files = Role::ALL
            .iter()
            .zip(&raws)
            .map(|(&role, raw)| {
                let name = format!("{role}.gz");
                std::fs::write(dir.join(&name), gzip(raw)).unwrap();
                spec_for(&name, role, raw)
            })
            .collect();
        Manifest {
            name: "test".into(),
            classes: (0..10).map(|c| c.to_string()).collect(),
            help: None,
            files,
            mirrors: vec![],
            local_mirrors: vec![],
        }
    }

    #[test]
    fn loads_a_tiny_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let m = tiny(dir.path(), &[0, 5, 9], &[1, 2]);
        let ds = load(&m, dir.path()).unwrap();
        assert_eq!((ds.train.len, ds.train.rows, ds.train.cols), (3, 28, 28));
        assert_eq!(ds.train.labels, [0, 5, 9]);
        assert_eq!(ds.test.len, 2);
        assert_eq!(ds.train.image(1)[0], (784 % 251) as u8);
        let t = ds.train.truncated(2);
        assert_eq!(
            (t.len, t.images.len(), t.labels.as_slice()),
            (2, 2 * 784, &[0, 5][..])
        );
        assert_eq!(ds.train.truncated(99), ds.train);
        assert!(ds.train.truncated(0).is_empty());
        assert_eq!(
            format!("{:?}", ds.test),
            "ImageSet { len: 2, rows: 28, cols: 28, .. }"
        );
    }

    #[test]
    fn a_label_beyond_the_classes_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = tiny(dir.path(), &[0, 5, 9], &[1, 2]);
        m.classes.truncate(9);
        let msg = load(&m, dir.path()).unwrap_err().to_string();
        assert_eq!(
            msg,
            "train-labels.gz: invalid IDX data: label 9 but the manifest names only 9 classes"
        );
    }

    #[test]
    fn describe_writes_a_manifest_that_loads_the_same_data() {
        let dir = tempfile::tempdir().unwrap();
        let m = tiny(dir.path(), &[0, 5, 9], &[1, 2]);
        let names = Role::ALL.map(|r| format!("{r}.gz"));
        let names = [0, 1, 2, 3].map(|i| names[i].as_str());
        let classes: Vec<String> = (0..10).map(|c| format!("c{c}")).collect();
        let described = Manifest::describe("tiny", classes.clone(), dir.path(), names).unwrap();
        assert_eq!(described.data_hashes(), m.data_hashes());
        assert_eq!(described.local_mirrors, [dir.path().to_owned()]);
        let reread = Manifest::from_str(&described.to_toml()).unwrap();
        assert_eq!(reread, described);
        let ds = load(&reread, dir.path()).unwrap();
        assert_eq!(
            (ds.train.labels.as_slice(), ds.classes),
            (&[0, 5, 9][..], classes)
        );
        // A file that is not IDX data is refused.
        std::fs::write(dir.path().join("x.gz"), gzip(b"not idx")).unwrap();
        let names = ["x.gz", names[1], names[2], names[3]];
        assert!(
            Manifest::describe("tiny", vec!["a".into(), "b".into()], dir.path(), names).is_err()
        );
    }

    #[test]
    fn count_mismatch_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let m = tiny(dir.path(), &[0, 5], &[1, 2]);
        let msg = load(&m, dir.path()).unwrap_err().to_string();
        assert_eq!(
            msg,
            "train-images.gz holds 3 images but train-labels.gz holds 2 labels"
        );
    }

    #[test]
    fn missing_and_tampered_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let m = tiny(dir.path(), &[0, 5, 9], &[1, 2]);
        std::fs::remove_file(dir.path().join("test-labels.gz")).unwrap();
        let err = load(&m, dir.path()).unwrap_err();
        assert!(matches!(err, DataError::Missing { .. }), "{err}");
        assert!(
            err.to_string().starts_with("test-labels.gz: not found at"),
            "{err}"
        );

        let mut raw = idx::encode_labels(&[0, 5, 9]);
        raw[9] = 4;
        std::fs::write(dir.path().join("train-labels.gz"), gzip(&raw)).unwrap();
        let msg = load(&m, dir.path()).unwrap_err().to_string();
        assert!(
            msg.starts_with("train-labels.gz: raw blake3 expected"),
            "{msg}"
        );

        raw.push(0);
        std::fs::write(dir.path().join("train-labels.gz"), gzip(&raw)).unwrap();
        let msg = load(&m, dir.path()).unwrap_err().to_string();
        assert_eq!(msg, "train-labels.gz: raw length expected 11, got more");

        std::fs::write(dir.path().join("train-labels.gz"), b"plain").unwrap();
        let msg = load(&m, dir.path()).unwrap_err().to_string();
        assert!(
            msg.starts_with("train-labels.gz: not a valid gzip stream"),
            "{msg}"
        );
    }

    #[test]
    fn bad_idx_passing_the_hash_check_is_still_rejected() {
        // A manifest may pin bad data; the decoder must still object.
        let dir = tempfile::tempdir().unwrap();
        let mut m = tiny(dir.path(), &[0, 5, 9], &[1, 2]);
        let raw = idx::encode_labels(&[0, 12, 9]);
        std::fs::write(dir.path().join("train-labels.gz"), gzip(&raw)).unwrap();
        m.files[1] = spec_for("train-labels.gz", Role::TrainLabels, &raw);
        let msg = load(&m, dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("train-labels.gz: invalid IDX data: label 12"),
            "{msg}"
        );
    }
}
