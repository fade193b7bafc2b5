//! A network in evaluation mode over a whole image set: the mean loss and
//! accuracy each epoch reports, and, for a final network, the same per class
//! (confusion matrix, precision, recall) and its most confident mistakes.
//!
//! Both go through one pass, so the accuracy of [`evaluate_classes`] is that
//! of the training loop's last validation, bit for bit.

use candle_core::Device;
use fmnist_data::{Dataset, ImageSet};
use fmnist_experiments::{InputConfig, RunConfig};

use crate::batch::Normaliser;
use crate::error::TrainError;
use crate::host::{HostNet, eval_pass};
use crate::model::{Mlp, argmax, log_probs, nll_and_correct};
use crate::sets::validation_set;

/// Evaluation batch: large enough to amortise per-call overhead, small enough
/// to keep activations of several concurrent runs in a few MB.
const EVAL_CHUNK: usize = 1000;

/// A wrong prediction of the final network and the probability (softmax) it
/// gives its wrong answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Misclassified {
    /// Index of the image in the evaluated set.
    pub index: u32,
    pub true_class: u8,
    pub predicted_class: u8,
    pub confidence: f32,
}

/// What a network gets right and wrong, class by class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassEvaluation {
    /// The network's output width.
    pub classes: usize,
    /// `classes x classes`, row-major: `confusion[t * classes + p]` images of
    /// true class `t` were predicted as `p`.
    pub confusion: Vec<u32>,
    /// Mean cross-entropy, as the epoch reports' `val_loss`.
    pub loss: f64,
    /// As the epoch reports' `val_accuracy`, bit for bit.
    pub accuracy: f64,
    /// The most confident wrong predictions, most confident first, ties by
    /// index.
    pub mistakes: Vec<Misclassified>,
}

impl ClassEvaluation {
    pub fn count(&self, true_class: usize, predicted_class: usize) -> u32 {
        self.confusion[true_class * self.classes + predicted_class]
    }
}

// Precision, recall and per-class accuracy are computed from the stored
// confusion table by the report (`fmnist-figures`' `stats`), in one place
// and with one convention (undefined, not 0, for a class never predicted).

/// Which implementation computes: the host fast path where it applies (the
/// CPU, f32), or always candle's tensor operations. Both give the same bits;
/// tests compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    Auto,
    /// Only tests compare against it; CUDA takes it through `Auto`.
    #[cfg_attr(not(test), allow(dead_code))]
    Candle,
}

/// Sums of an evaluation pass, fed one chunk at a time.
struct Totals {
    loss_sum: f64,
    correct: usize,
}

impl Totals {
    fn add(
        &mut self,
        indices: &[u32],
        y: &[u8],
        flat: &[f64],
        each: &mut impl FnMut(u32, u8, &[f64]),
    ) -> Result<(), TrainError> {
        let classes = flat.len() / indices.len();
        if let Some((i, &label)) = y
            .iter()
            .enumerate()
            .find(|(_, l)| usize::from(**l) >= classes)
        {
            return Err(TrainError::Config(format!(
                "image {} has label {label} but the network has only {classes} outputs",
                indices[i]
            )));
        }
        let (loss, right) = nll_and_correct(flat, classes, y);
        self.loss_sum += loss * indices.len() as f64;
        self.correct += right;
        for ((row, &label), &index) in flat.chunks_exact(classes).zip(y).zip(indices) {
            each(index, label, row);
        }
        Ok(())
    }

    /// The mean loss and the accuracy over `len` images.
    fn means(&self, len: usize) -> (f64, f64) {
        (self.loss_sum / len as f64, self.correct as f64 / len as f64)
    }
}

/// One evaluation-mode pass over `split`, in chunks of [`EVAL_CHUNK`]:
/// the mean loss and the accuracy. `each` sees every image's index, label
/// and log-probabilities.
fn pass(
    model: &Mlp,
    normaliser: &Normaliser,
    split: &ImageSet,
    device: &Device,
    path: Path,
    mut each: impl FnMut(u32, u8, &[f64]),
) -> Result<(f64, f64), TrainError> {
    let host = match path {
        Path::Auto if device.is_cpu() => HostNet::from_mlp(model)?,
        _ => None,
    };
    if let Some(net) = host {
        return pass_host(&net, normaliser, split, each);
    }
    let mut totals = Totals {
        loss_sum: 0.0,
        correct: 0,
    };
    let all: Vec<u32> = (0..split.len as u32).collect();
    for indices in all.chunks(EVAL_CHUNK) {
        let (x, y) = normaliser.gather(split, indices, device)?;
        let logits = model.forward(&x)?;
        let (_, flat, _) = log_probs(&logits)?;
        totals.add(indices, &y, &flat, &mut each)?;
    }
    Ok(totals.means(split.len))
}

/// [`pass`] on the CPU fast path, with the network already on the host.
fn pass_host(
    net: &HostNet,
    normaliser: &Normaliser,
    split: &ImageSet,
    mut each: impl FnMut(u32, u8, &[f64]),
) -> Result<(f64, f64), TrainError> {
    let mut totals = Totals {
        loss_sum: 0.0,
        correct: 0,
    };
    eval_pass(net, normaliser, split, EVAL_CHUNK, |indices, y, flat| {
        totals.add(indices, y, flat, &mut each)
    })?;
    Ok(totals.means(split.len))
}

/// The validation loss and accuracy of a network the CPU fast path is
/// training, without copying it back into tensors first.
pub(crate) fn evaluate_host(
    net: &HostNet,
    normaliser: &Normaliser,
    split: &ImageSet,
) -> Result<(f64, f64), TrainError> {
    pass_host(net, normaliser, split, |_, _, _| {})
}

pub(crate) fn evaluate(
    model: &Mlp,
    normaliser: &Normaliser,
    split: &ImageSet,
    device: &Device,
    path: Path,
) -> Result<(f64, f64), TrainError> {
    pass(model, normaliser, split, device, path, |_, _, _| {})
}

/// The per-class evaluation of `model` on `set`, its inputs normalised as
/// `input` says, keeping the `top_mistakes` most confident wrong predictions.
pub fn evaluate_classes(
    model: &Mlp,
    input: &InputConfig,
    set: &ImageSet,
    device: &Device,
    top_mistakes: usize,
) -> Result<ClassEvaluation, TrainError> {
    classes_with(model, input, set, device, top_mistakes, Path::Auto)
}

/// [`evaluate_classes`] through the given implementation.
pub(crate) fn classes_with(
    model: &Mlp,
    input: &InputConfig,
    set: &ImageSet,
    device: &Device,
    top_mistakes: usize,
    path: Path,
) -> Result<ClassEvaluation, TrainError> {
    let classes = *model.sizes().last().expect("a network has layers");
    let mut confusion = vec![0u32; classes * classes];
    let mut mistakes = Vec::new();
    let (loss, accuracy) = pass(
        model,
        &Normaliser::new(input),
        set,
        device,
        path,
        |index, label, row| {
            let predicted = argmax(row);
            confusion[usize::from(label) * classes + predicted] += 1;
            if predicted != usize::from(label) {
                mistakes.push(Misclassified {
                    index,
                    true_class: label,
                    predicted_class: predicted as u8,
                    confidence: row[predicted].exp() as f32,
                });
            }
        },
    )?;
    mistakes.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(a.index.cmp(&b.index))
    });
    mistakes.truncate(top_mistakes);
    Ok(ClassEvaluation {
        classes,
        confusion,
        loss,
        accuracy,
        mistakes,
    })
}

/// [`evaluate_classes`] on the images and with the input normalisation the
/// run `config` validated with ([`validation_set`]: the training images held
/// out where the run holds out a split, else the official test set): its
/// `accuracy` and `loss` are the last epoch's `val_accuracy` and `val_loss`
/// when `model` is the run's final network, and its mistakes' indices are
/// positions in that set.
pub fn evaluate_run(
    model: &Mlp,
    config: &RunConfig,
    data: &Dataset,
    device: &Device,
    top_mistakes: usize,
) -> Result<ClassEvaluation, TrainError> {
    evaluate_classes(
        model,
        &config.input,
        &*validation_set(config, data)?,
        device,
        top_mistakes,
    )
}
