//! What a run's final network gets right and wrong, class by class: the
//! confusion matrix on the validation (test) images and the images it gets
//! most confidently wrong.

/// One cell of the confusion matrix: `count` validation images of class
/// `true_class` were predicted as `predicted_class`. A run stores all
/// classes x classes cells, zeros included, so the counts sum to the number of
/// validation images and the diagonal sums to the correct ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfusionCell {
    pub true_class: u8,
    pub predicted_class: u8,
    pub count: u32,
}

/// A validation image the final network classifies wrongly, with the
/// probability (softmax) it gives its wrong answer. A run keeps the most
/// confident of these, most confident first.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mistake {
    /// Index of the image in the validation (official test) set.
    pub index: u32,
    pub true_class: u8,
    pub predicted_class: u8,
    pub confidence: f32,
}
