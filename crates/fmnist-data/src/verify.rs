//! Checking files against the manifest.
//!
//! A file is identified by its decompressed payload, so checking means
//! streaming the .gz through a decoder into the hashers. The same streaming
//! code serves `fetch`, which tees the compressed bytes into a temp file as
//! they arrive, so a download is read exactly once.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use md5::Md5;
use sha2::{Digest as _, Sha256};

use crate::{DataError, FileSpec, Manifest};

/// The outcome of checking one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    pub name: String,
    pub path: PathBuf,
    /// `None` if the file is good, else what is wrong: `"missing"`,
    /// `"raw blake3 expected X, got Y"`, ...
    pub problem: Option<String>,
}

impl FileCheck {
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Checks every file of `manifest` in `data_dir` (decompressed length and
/// BLAKE3). Problems with individual files are reported in the result; an
/// error is returned only if `data_dir` exists but is not a directory.
pub fn verify(manifest: &Manifest, data_dir: &Path) -> Result<Vec<FileCheck>, DataError> {
    if data_dir.exists() && !data_dir.is_dir() {
        return Err(DataError::Io {
            action: "opening data directory",
            path: data_dir.to_owned(),
            error: io::Error::other("not a directory"),
        });
    }
    Ok(manifest
        .files
        .iter()
        .map(|spec| {
            let path = data_dir.join(&spec.name);
            let problem = check_file(spec, &path).err();
            FileCheck {
                name: spec.name.clone(),
                path,
                problem,
            }
        })
        .collect())
}

/// Checks one file; `Err` holds a one-line reason.
pub(crate) fn check_file(spec: &FileSpec, path: &Path) -> Result<(), String> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err("missing".into()),
        Err(e) => return Err(format!("unreadable: {e}")),
    };
    match digest_gz(BufReader::new(file), io::sink(), Depth::Quick, spec, |_| {}) {
        Ok(digest) => digest.check(spec),
        Err(StreamError::Content(msg)) => Err(msg),
        Err(StreamError::Source(e) | StreamError::Sink(e)) => Err(format!("read error: {e}")),
    }
}

/// Every digest of the payload of the .gz at `path`, for describing a new
/// data set (no expected length, so no early stop).
pub(crate) fn digest_path(path: &Path) -> Result<PayloadDigest, DataError> {
    let file = File::open(path).map_err(DataError::io("opening", path))?;
    let decoder = MultiGzDecoder::new(BufReader::new(file));
    hash_payload(decoder, Depth::Full, u64::MAX).map_err(|e| match e {
        StreamError::Content(problem) => DataError::Corrupt {
            file: path.display().to_string(),
            problem,
        },
        StreamError::Source(error) | StreamError::Sink(error) => DataError::Io {
            action: "reading",
            path: path.to_owned(),
            error,
        },
    })
}

/// How much hashing to do: BLAKE3 alone identifies the payload and is fast
/// enough to run on every start; a fresh copy also gets the slower SHA-256
/// and MD5 so that it matches every published digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    Quick,
    Full,
}

/// Digests of a decompressed payload.
#[derive(Debug, Clone)]
pub(crate) struct PayloadDigest {
    pub raw_len: u64,
    pub raw_blake3: String,
    pub raw_sha256: Option<String>,
    pub raw_md5: Option<String>,
}

impl PayloadDigest {
    /// Compares with the manifest, reporting the first mismatch.
    pub fn check(&self, spec: &FileSpec) -> Result<(), String> {
        if self.raw_len != spec.raw_len {
            return Err(format!(
                "raw length expected {}, got {}",
                spec.raw_len, self.raw_len
            ));
        }
        let pairs = [
            ("blake3", Some(&self.raw_blake3), &spec.raw_blake3),
            ("sha256", self.raw_sha256.as_ref(), &spec.raw_sha256),
            ("md5", self.raw_md5.as_ref(), &spec.raw_md5),
        ];
        for (algo, got, expected) in pairs {
            if let Some(got) = got
                && got != expected
            {
                return Err(format!("raw {algo} expected {expected}, got {got}"));
            }
        }
        Ok(())
    }
}

/// Why streaming failed, split by who is to blame: the source (network or
/// disk read; may be worth retrying), the content (wrong bytes; never worth
/// retrying from the same source) or the sink (our own disk; no other source
/// will help).
#[derive(Debug)]
pub(crate) enum StreamError {
    Source(io::Error),
    Content(String),
    Sink(io::Error),
}

/// Upper bound on the compressed size of a payload of `raw_len` bytes.
/// Deflate expands incompressible data by well under 1%; the bound only
/// stops a hostile or broken source from filling the disk.
fn max_gz_len(raw_len: u64) -> u64 {
    raw_len + raw_len / 64 + (1 << 20)
}

/// Reads a .gz from `src`, copying the compressed bytes to `sink` and
/// hashing the decompressed payload. `progress` is told how many compressed
/// bytes have arrived. Stops early, with a content error, once the data
/// exceeds what `spec` allows.
pub(crate) fn digest_gz<R: Read, W: Write>(
    src: R,
    sink: W,
    depth: Depth,
    spec: &FileSpec,
    progress: impl FnMut(u64),
) -> Result<PayloadDigest, StreamError> {
    let mut tee = Tee {
        inner: src,
        sink,
        read: 0,
        limit: max_gz_len(spec.raw_len),
        progress,
        failure: None,
    };
    let result = hash_payload(MultiGzDecoder::new(&mut tee), depth, spec.raw_len);
    // An error the tee recorded is the real cause; the decoder only saw a
    // stand-in.
    if let Some(failure) = tee.failure.take() {
        return Err(failure);
    }
    let digest = result?;
    tee.sink.flush().map_err(StreamError::Sink)?;
    Ok(digest)
}

fn hash_payload(
    mut decoder: impl Read,
    depth: Depth,
    max_len: u64,
) -> Result<PayloadDigest, StreamError> {
    let mut blake = blake3::Hasher::new();
    let mut sha = (depth == Depth::Full).then(Sha256::new);
    let mut md5 = (depth == Depth::Full).then(Md5::new);
    let mut len = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match decoder.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(StreamError::Content(format!(
                    "not a valid gzip stream: {e}"
                )));
            }
        };
        len += n as u64;
        if len > max_len {
            return Err(StreamError::Content(format!(
                "raw length expected {max_len}, got more"
            )));
        }
        let chunk = &buf[..n];
        blake.update(chunk);
        if let Some(h) = &mut sha {
            h.update(chunk);
        }
        if let Some(h) = &mut md5 {
            h.update(chunk);
        }
    }
    Ok(PayloadDigest {
        raw_len: len,
        raw_blake3: blake.finalize().to_hex().to_string(),
        raw_sha256: sha.map(|h| hex(&h.finalize())),
        raw_md5: md5.map(|h| hex(&h.finalize())),
    })
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Passes compressed bytes from `inner` to the decoder while copying them
/// to `sink`. Failures of `inner` or `sink` are stored in `failure` so the
/// caller can tell them apart from decoding errors.
struct Tee<R, W, F> {
    inner: R,
    sink: W,
    read: u64,
    limit: u64,
    progress: F,
    failure: Option<StreamError>,
}

impl<R: Read, W: Write, F: FnMut(u64)> Read for Tee<R, W, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failure.is_some() {
            return Err(io::Error::other("stream already failed"));
        }
        let n = loop {
            match self.inner.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.failure = Some(StreamError::Source(e));
                    return Err(io::Error::other("source failed"));
                }
            }
        };
        self.read += n as u64;
        if self.read > self.limit {
            self.failure = Some(StreamError::Content(format!(
                "compressed data exceeds {} bytes",
                self.limit
            )));
            return Err(io::Error::other("too long"));
        }
        if let Err(e) = self.sink.write_all(&buf[..n]) {
            self.failure = Some(StreamError::Sink(e));
            return Err(io::Error::other("sink failed"));
        }
        (self.progress)(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Role;
    use flate2::Compression;
    use flate2::write::GzEncoder;

    pub(crate) fn gzip(raw: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(raw).unwrap();
        enc.finish().unwrap()
    }

    pub(crate) fn spec_for(name: &str, role: Role, raw: &[u8]) -> FileSpec {
        FileSpec {
            name: name.into(),
            role,
            gz_size: None,
            gz_md5: None,
            raw_len: raw.len() as u64,
            raw_md5: hex(&Md5::digest(raw)),
            raw_sha256: hex(&Sha256::digest(raw)),
            raw_blake3: blake3::hash(raw).to_hex().to_string(),
        }
    }

    fn digest(gz: &[u8], spec: &FileSpec) -> Result<PayloadDigest, StreamError> {
        digest_gz(gz, io::sink(), Depth::Full, spec, |_| {})
    }

    #[test]
    fn digest_matches_and_copies_compressed_bytes() {
        let raw = b"hello idx".repeat(100);
        let spec = spec_for("a.gz", Role::TrainLabels, &raw);
        let gz = gzip(&raw);
        let mut copy = Vec::new();
        let mut seen = 0;
        let d = digest_gz(&gz[..], &mut copy, Depth::Full, &spec, |n| seen += n).unwrap();
        d.check(&spec).unwrap();
        assert_eq!(copy, gz);
        assert_eq!(seen, gz.len() as u64);
    }

    #[test]
    fn multi_member_gzip_is_one_payload() {
        let raw = b"0123456789".repeat(50);
        let spec = spec_for("a.gz", Role::TrainLabels, &raw);
        let mut gz = gzip(&raw[..200]);
        gz.extend(gzip(&raw[200..]));
        digest(&gz, &spec).unwrap().check(&spec).unwrap();
    }

    #[test]
    fn reports_first_mismatch() {
        let raw = b"abcdef".repeat(10);
        let spec = spec_for("a.gz", Role::TrainLabels, &raw);
        let mut other = raw.clone();
        other[3] ^= 1;
        let msg = digest(&gzip(&other), &spec)
            .unwrap()
            .check(&spec)
            .unwrap_err();
        assert!(msg.starts_with("raw blake3 expected"), "{msg}");
        let msg = digest(&gzip(&raw[1..]), &spec)
            .unwrap()
            .check(&spec)
            .unwrap_err();
        assert_eq!(
            msg,
            format!("raw length expected {}, got {}", raw.len(), raw.len() - 1)
        );
    }

    #[test]
    fn sha256_and_md5_are_checked_on_full_digests() {
        let raw = b"abcdef".repeat(10);
        let mut spec = spec_for("a.gz", Role::TrainLabels, &raw);
        spec.raw_sha256 = "0".repeat(64);
        let msg = digest(&gzip(&raw), &spec)
            .unwrap()
            .check(&spec)
            .unwrap_err();
        assert!(msg.starts_with("raw sha256 expected"), "{msg}");
        // A quick digest does not compute SHA-256, so it cannot object.
        let quick = digest_gz(&gzip(&raw)[..], io::sink(), Depth::Quick, &spec, |_| {}).unwrap();
        quick.check(&spec).unwrap();
    }

    #[test]
    fn garbage_and_truncation_are_content_errors() {
        let raw = b"abcdef".repeat(1000);
        let spec = spec_for("a.gz", Role::TrainLabels, &raw);
        let gz = gzip(&raw);
        for bad in [&b"not gzip at all"[..], &gz[..gz.len() / 2]] {
            match digest(bad, &spec) {
                Err(StreamError::Content(msg)) => assert!(msg.contains("gzip"), "{msg}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn oversized_payload_stops_early() {
        let raw = vec![0u8; 10_000];
        let spec = spec_for("a.gz", Role::TrainLabels, &raw[..100]);
        match digest(&gzip(&raw), &spec) {
            Err(StreamError::Content(msg)) => assert!(msg.contains("got more"), "{msg}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn source_failure_is_attributed_to_the_source() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
            }
        }
        let spec = spec_for("a.gz", Role::TrainLabels, b"x");
        match digest_gz(Broken, io::sink(), Depth::Full, &spec, |_| {}) {
            Err(StreamError::Source(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn verify_reports_missing_good_and_bad() {
        let dir = tempfile::tempdir().unwrap();
        let raws: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i; 100 + usize::from(i)]).collect();
        let manifest = Manifest {
            name: "test".into(),
            classes: (0..10).map(|c| c.to_string()).collect(),
            help: None,
            files: Role::ALL
                .iter()
                .zip(&raws)
                .map(|(&role, raw)| spec_for(&format!("{role}.gz"), role, raw))
                .collect(),
            mirrors: vec![],
            local_mirrors: vec![],
        };
        std::fs::write(dir.path().join("train-images.gz"), gzip(&raws[0])).unwrap();
        std::fs::write(dir.path().join("train-labels.gz"), gzip(&raws[0])).unwrap();
        std::fs::write(dir.path().join("test-images.gz"), b"junk").unwrap();
        let checks = verify(&manifest, dir.path()).unwrap();
        assert_eq!(checks[0].problem, None);
        assert!(checks[0].is_ok());
        assert_eq!(checks[0].path, dir.path().join("train-images.gz"));
        assert!(
            checks[1]
                .problem
                .as_deref()
                .unwrap()
                .starts_with("raw length expected 101")
        );
        assert!(checks[2].problem.as_deref().unwrap().contains("gzip"));
        assert_eq!(checks[3].problem.as_deref(), Some("missing"));

        let not_dir = dir.path().join("train-images.gz");
        assert!(verify(&manifest, &not_dir).is_err());
        let absent = verify(&manifest, &dir.path().join("nope")).unwrap();
        assert!(
            absent
                .iter()
                .all(|c| c.problem.as_deref() == Some("missing"))
        );
    }
}
