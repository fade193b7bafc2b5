//! Fashion-MNIST: pinned manifest, fetching with verification, IDX decoding.
//!
//! The data set is identified by the digests of its four decompressed IDX
//! payloads, pinned in `data/fashion-mnist.toml` and compiled into this
//! crate ([`Manifest::pinned`]). [`fetch()`] fills a data directory from local
//! mirrors or the public URLs, never leaving an unverified file under a
//! final name; [`verify()`] re-checks a directory; [`load()`] reads it into
//! memory, checking the digests again, and decodes the images and labels;
//! [`Dataset::hold_out`] carves a validation split out of the training
//! images.
//!
//! Modules: [`manifest`] (what the data is), [`source`] (where copies may
//! be), [`fetch`](mod@fetch) (getting them), [`verify`](mod@verify)
//! (checking them), [`idx`] (the file format), [`dataset`] (the decoded
//! splits), [`split`] (a validation split held out of the training images),
//! [`error`] (the one error type).

pub mod dataset;
mod describe;
pub mod error;
pub mod fetch;
pub mod idx;
pub mod manifest;
pub mod source;
pub mod split;
pub mod verify;

pub use dataset::{Dataset, ImageSet, load};
pub use error::DataError;
pub use fetch::{FetchEvent, FetchOptions, FetchOutcome, FetchReport, fetch};
pub use manifest::{FileSpec, Manifest, PINNED_MANIFEST, Role};
pub use source::Source;
pub use split::{HoldOut, SplitIndices, TrainSplit, quotas, stratified};
pub use verify::{FileCheck, verify};

/// Class names, indexed by label.
pub const CLASS_NAMES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];
