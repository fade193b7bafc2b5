//! Decoding (and, for tests and tools, encoding) the IDX format of the
//! decompressed files.
//!
//! An IDX file is a big-endian header — two zero bytes, an element-type
//! byte (0x08 = u8), the number of dimensions, then one u32 per dimension —
//! followed by the elements in row-major order. Fashion-MNIST uses
//! N x 28 x 28 u8 images and N u8 labels in 0..=9.
//!
//! Decoders must reject every malformed input with an error and never
//! panic, whatever the bytes; a property test holds them to that.

use crate::DataError;

/// Element type byte for unsigned bytes, the only one Fashion-MNIST uses.
pub const TYPE_U8: u8 = 0x08;
/// Magic number of an image file: u8 elements, 3 dimensions.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of a label file: u8 elements, 1 dimension.
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Image height and width.
pub const ROWS: usize = 28;
pub const COLS: usize = 28;
/// Labels are class indices into [`crate::CLASS_NAMES`].
pub const NUM_CLASSES: u8 = 10;

/// Decodes an image file: returns `(count, rows, cols, pixels)` where
/// `pixels` borrows the `count * rows * cols` bytes after the header.
/// `name` is used in error messages.
pub fn decode_images<'a>(
    name: &str,
    bytes: &'a [u8],
) -> Result<(usize, usize, usize, &'a [u8]), DataError> {
    let (dims, payload) = parse(name, bytes, 3, "images")?;
    let [n, rows, cols] = [dims[0], dims[1], dims[2]];
    if (rows, cols) != (ROWS, COLS) {
        return Err(DataError::idx(
            name,
            format!("images are {rows}x{cols}, expected {ROWS}x{COLS}"),
        ));
    }
    Ok((n, rows, cols, payload))
}

/// Decodes a label file and checks that every label is a class index.
pub fn decode_labels(name: &str, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let (_, payload) = parse(name, bytes, 1, "labels")?;
    if let Some(i) = payload.iter().position(|&l| l >= NUM_CLASSES) {
        return Err(DataError::idx(
            name,
            format!(
                "label {} at index {i} is out of range 0..={}",
                payload[i],
                NUM_CLASSES - 1
            ),
        ));
    }
    Ok(payload.to_vec())
}

/// Encodes `count` images of `rows` x `cols` pixels as IDX.
///
/// # Panics
/// If `pixels.len() != count * rows * cols` or a dimension exceeds `u32`.
pub fn encode_images(count: usize, rows: usize, cols: usize, pixels: &[u8]) -> Vec<u8> {
    assert_eq!(pixels.len(), count * rows * cols, "pixel count");
    encode(3, &[count, rows, cols], pixels)
}

/// Encodes labels as IDX (values are not checked, so tests can build bad
/// files).
///
/// # Panics
/// If there are more than `u32::MAX` labels.
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    encode(1, &[labels.len()], labels)
}

fn encode(ndims: u8, dims: &[usize], payload: &[u8]) -> Vec<u8> {
    let mut out = header(ndims, dims);
    out.reserve(payload.len());
    out.extend_from_slice(payload);
    out
}

/// The header of a u8 IDX file of these dimensions: the only header the
/// decoders accept for them, so a decoded split's payload can be rebuilt
/// (and hashed) exactly.
///
/// # Panics
/// If a dimension exceeds `u32`.
pub(crate) fn header(ndims: u8, dims: &[usize]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 4 * dims.len());
    out.extend([0, 0, TYPE_U8, ndims]);
    for &d in dims {
        let d = u32::try_from(d).expect("IDX dimensions must fit in u32");
        out.extend(d.to_be_bytes());
    }
    out
}

/// Validates the header of a u8 IDX file with `ndims` dimensions and the
/// payload length; returns the dimensions and the payload.
fn parse<'a>(
    name: &str,
    bytes: &'a [u8],
    ndims: u8,
    what: &str,
) -> Result<(Vec<usize>, &'a [u8]), DataError> {
    let err = |problem: String| DataError::idx(name, problem);
    let expected_magic = u32::from_be_bytes([0, 0, TYPE_U8, ndims]);
    let Some(magic) = bytes.first_chunk::<4>() else {
        return Err(err(format!(
            "{} bytes is too short for an IDX header",
            bytes.len()
        )));
    };
    let found = u32::from_be_bytes(*magic);
    if found != expected_magic {
        let detail = if magic[..2] != [0, 0] {
            "not an IDX file".to_owned()
        } else if magic[2] != TYPE_U8 {
            format!("element type 0x{:02x}, expected 0x08 (u8)", magic[2])
        } else {
            format!("{} dimensions, expected {ndims} for {what}", magic[3])
        };
        return Err(err(format!(
            "magic 0x{found:08x}, expected 0x{expected_magic:08x}: {detail}"
        )));
    }
    let header_len = 4 + 4 * usize::from(ndims);
    let Some(header) = bytes.get(4..header_len) else {
        return Err(err(format!(
            "{} bytes is too short for the {header_len}-byte header",
            bytes.len()
        )));
    };
    let dims: Vec<usize> = header
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let shape = dims
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" x ");
    let expected_len = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| err(format!("dimensions {shape} overflow")))?;
    let payload = &bytes[header_len..];
    if payload.len() != expected_len {
        return Err(err(format!(
            "payload is {} bytes, but the header says {shape} = {expected_len}",
            payload.len()
        )));
    }
    Ok((dims, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn small_images() -> Vec<u8> {
        let pixels: Vec<u8> = (0..2 * ROWS * COLS).map(|i| i as u8).collect();
        encode_images(2, ROWS, COLS, &pixels)
    }

    fn problem(r: Result<impl std::fmt::Debug, DataError>) -> String {
        let e = r.unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("f.idx: "),
            "message must name the file: {msg}"
        );
        msg
    }

    #[test]
    fn round_trips() {
        let bytes = small_images();
        let (n, r, c, px) = decode_images("f", &bytes).unwrap();
        assert_eq!((n, r, c), (2, 28, 28));
        assert_eq!(px.len(), 2 * 784);
        assert_eq!(px[5], 5);
        assert_eq!(
            decode_labels("f", &encode_labels(&[0, 9, 3])).unwrap(),
            [0, 9, 3]
        );
        assert_eq!(decode_labels("f", &encode_labels(&[])).unwrap(), [0u8; 0]);
    }

    #[test]
    fn rejects_bad_magic() {
        let mut bytes = small_images();
        bytes[0] = 0x1f;
        assert!(problem(decode_images("f.idx", &bytes)).contains("not an IDX file"));
        bytes[0] = 0;
        bytes[2] = 0x0d;
        assert!(problem(decode_images("f.idx", &bytes)).contains("element type 0x0d"));
        // A label file is not an image file, and vice versa.
        assert!(problem(decode_images("f.idx", &encode_labels(&[1]))).contains("1 dimensions"));
        assert!(problem(decode_labels("f.idx", &small_images())).contains("3 dimensions"));
        assert!(problem(decode_labels("f.idx", &[0, 0])).contains("too short"));
    }

    #[test]
    fn rejects_wrong_dims() {
        let px = vec![0u8; 3 * 27 * 28];
        let msg = problem(decode_images("f.idx", &encode_images(3, 27, 28, &px)));
        assert!(msg.contains("27x28, expected 28x28"), "{msg}");
        let msg = problem(decode_images("f.idx", &small_images()[..10]));
        assert!(msg.contains("16-byte header"), "{msg}");
    }

    #[test]
    fn rejects_short_and_long_payloads() {
        let bytes = small_images();
        let msg = problem(decode_images("f.idx", &bytes[..bytes.len() - 1]));
        assert!(msg.contains("payload is 1567 bytes"), "{msg}");
        assert!(msg.contains("2 x 28 x 28 = 1568"), "{msg}");
        let mut long = bytes.clone();
        long.push(0);
        assert!(problem(decode_images("f.idx", &long)).contains("payload is 1569"));
        let mut labels = encode_labels(&[1, 2, 3]);
        labels.pop();
        assert!(problem(decode_labels("f.idx", &labels)).contains("header says 3 = 3"));
    }

    #[test]
    fn rejects_huge_dims_without_allocating() {
        let mut bytes = small_images();
        bytes[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        problem(decode_images("f.idx", &bytes));
    }

    #[test]
    fn rejects_label_out_of_range() {
        let msg = problem(decode_labels("f.idx", &encode_labels(&[0, 9, 10, 3])));
        assert!(
            msg.contains("label 10 at index 2 is out of range 0..=9"),
            "{msg}"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = decode_images("p", &bytes);
            let _ = decode_labels("p", &bytes);
        }

        #[test]
        fn mutated_valid_files_never_panic(
            edits in proptest::collection::vec(
                (any::<bool>(), any::<prop::sample::Index>(), any::<u8>()),
                0..8,
            ),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
            labels in any::<bool>(),
        ) {
            let mut bytes = if labels { encode_labels(&[1, 2, 3, 4, 5, 6, 7]) } else { small_images() };
            // Bias edits towards the header, where the interesting bugs are.
            for (in_header, i, b) in edits {
                let len = if in_header { 16.min(bytes.len()) } else { bytes.len() };
                bytes[i.index(len)] = b;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            if let Ok((n, r, c, px)) = decode_images("p", &bytes) {
                prop_assert_eq!(px.len(), n * r * c);
                prop_assert_eq!(bytes.len(), 16 + px.len());
            }
            if let Ok(l) = decode_labels("p", &bytes) {
                prop_assert_eq!(bytes.len(), 8 + l.len());
                prop_assert!(l.iter().all(|&x| x < 10));
            }
        }
    }
}
