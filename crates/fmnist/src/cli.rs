//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "fmnist",
    version,
    about = "Reproduce \"Red neuronal feed-forward junto a Fashion-MNIST\": data, training, metrics, report."
)]
pub struct Cli {
    /// The repository root (holds experiments/, data/, reports/).
    #[arg(long, global = true, default_value = ".", env = "FMNIST_ROOT")]
    pub root: PathBuf,
    /// Another MNIST-format data set: its manifest (the four files, their
    /// hashes, the class names; `fmnist data-manifest` writes one)
    /// [default: the pinned Fashion-MNIST, data/fashion-mnist.toml].
    #[arg(long, global = true, env = "FMNIST_DATASET", value_name = "MANIFEST")]
    pub dataset: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fill the data directory from local mirrors or the public URLs, verifying every byte.
    FetchData(DataArgs),
    /// Re-hash the data directory against the pinned manifest.
    VerifyData {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Write the manifest of another MNIST-format data set (four IDX .gz
    /// files in a directory), to use with `--dataset`.
    DataManifest(DataManifestArgs),
    /// Evaluate stored weights again on the validation images and check them
    /// against the stored accuracy.
    Evaluate(EvaluateArgs),
    /// List the experiments, their runs, and which are stored.
    List(ListArgs),
    /// Train the given experiment files (runs already stored are skipped).
    Run(RunArgs),
    /// Everything: data, every experiment, figures, tables, claims and REPORT.md.
    Reproduce(ReproduceArgs),
    /// Regenerate figures, tables and REPORT.md from stored results, without training.
    Figures(FiguresArgs),
    /// Measure training throughput against the machine's matrix-multiply speed.
    Bench(BenchArgs),
    /// Compare training on a GPU with training on the CPU (needs the CUDA build).
    GpuCheck(GpuCheckArgs),
    /// What changed between two reproductions: git revisions, report directories or `results`.
    Diff(DiffArgs),
    /// Opt-in studies beyond the report, with their own files, results and
    /// pages (never part of `reproduce`): `study search`.
    #[command(subcommand)]
    Study(StudyCommand),
    /// Send the stored runs to another tool: `export mlflow`.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Train one run of a frozen Slurm plan (what each array task runs).
    #[command(hide = true)]
    RunTask(RunTaskArgs),
}

#[derive(Debug, Args, Clone)]
pub struct RunTaskArgs {
    /// The plan file written by `--executor slurm`.
    #[arg(long)]
    pub plan: PathBuf,
    /// Which run of the plan [default: $SLURM_ARRAY_TASK_ID].
    #[arg(long)]
    pub index: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ExecutorKind {
    /// Worker threads in this process.
    #[default]
    Local,
    /// One Slurm job array, one task per run, submitted with sbatch.
    Slurm,
}

/// How runs are submitted to Slurm.
#[derive(Debug, Args, Clone, Default)]
pub struct SlurmArgs {
    /// Partition (`sbatch --partition`) [default: the cluster's default].
    #[arg(long = "slurm-partition")]
    pub partition: Option<String>,
    /// Time limit per task (`sbatch --time`).
    #[arg(long = "slurm-time", default_value = "01:00:00")]
    pub time: String,
    /// CPUs per task (`sbatch --cpus-per-task`); runs use `--threads` of them.
    #[arg(long = "slurm-cpus", default_value_t = 1)]
    pub cpus: usize,
    /// Memory per task (`sbatch --mem`).
    #[arg(long = "slurm-mem", default_value = "1G")]
    pub mem: String,
    /// Most tasks running at once (the `%N` of `--array`) [default: no limit].
    #[arg(long = "slurm-max-parallel")]
    pub max_parallel: Option<usize>,
    /// Extra sbatch argument, written as an `#SBATCH` line. Repeatable.
    #[arg(long = "sbatch-arg", allow_hyphen_values = true)]
    pub extra: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub struct DataManifestArgs {
    /// The directory holding the four .gz files.
    pub dir: PathBuf,
    /// The data set's name, shown in reports.
    #[arg(long)]
    pub name: String,
    /// Class names in label order, comma-separated [default: 0,1,...,9].
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
    /// File names in the order train images, train labels, test images, test labels.
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 4,
        default_value = "train-images-idx3-ubyte.gz,train-labels-idx1-ubyte.gz,t10k-images-idx3-ubyte.gz,t10k-labels-idx1-ubyte.gz"
    )]
    pub files: Vec<String>,
    /// Write the manifest here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct EvaluateArgs {
    /// Run ids (or unique prefixes) to evaluate [default: every stored run].
    pub runs: Vec<String>,
    /// Results directory [default: ROOT/results].
    #[arg(long)]
    pub results: Option<PathBuf>,
    #[arg(long)]
    pub quick: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// Where the four .gz files live [default: ROOT/data/fashion-mnist].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// A mirror: a directory holding the .gz files or an http(s) URL prefix.
    /// Repeatable. Sources are tried in this order: what the data directory
    /// already holds; each --mirror, then each mirror of $FMNIST_MIRROR
    /// (comma-separated), in the order given; the data set's local
    /// directories (Debian's /usr/share/datasets/fashion-mnist); its public
    /// URLs (unless --offline).
    #[arg(long = "mirror", value_name = "DIR|URL", value_delimiter = ',')]
    pub mirrors: Vec<String>,
    /// Do not contact the public download URLs (mirrors you name are still tried).
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ListArgs {
    /// Results directory [default: ROOT/results].
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// List the smoke-test plan (as `--quick` would run it).
    #[arg(long)]
    pub quick: bool,
    /// Show every setting of each experiment, not only those that differ
    /// from its parent (the file it extends, or its sweep's base).
    #[arg(long)]
    pub all: bool,
    /// Print only the runs, one line each: experiment, seed, full run id,
    /// stored or missing (tab-separated, for scripts).
    #[arg(long)]
    pub ids: bool,
    #[command(flatten)]
    pub plan: PlanArgs,
}

/// Flags that change which runs are planned.
#[derive(Debug, Args, Clone, Default)]
pub struct PlanArgs {
    /// Seeds for every experiment, e.g. `0,1,2` (overrides the files).
    #[arg(long, value_delimiter = ',')]
    pub seeds: Option<Vec<u64>>,
    /// Number of epochs for every experiment (overrides the files).
    #[arg(long)]
    pub epochs: Option<usize>,
}

/// Flags shared by everything that trains.
#[derive(Debug, Args, Clone)]
pub struct TrainArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Retrain runs even if a stored result exists.
    #[arg(long)]
    pub force: bool,
    /// Train every point of the pruned sweeps to the end, the pruned runs on
    /// from their checkpoints (the numbers they would have had unpruned).
    #[arg(long)]
    pub unprune: bool,
    /// Results directory [default: ROOT/results, or ROOT/results-quick with --quick].
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// `cpu`, `cuda` or `cuda:N`.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Runs trained at once [default: number of cores on CPU, 1 on CUDA].
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Threads per run for candle's matrix products (1 is fastest for this small network).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Smoke test: 2 epochs, seed 0, 6,000 training and 2,000 test images;
    /// written to separate results and report directories.
    #[arg(long)]
    pub quick: bool,
    #[command(flatten)]
    pub data: DataArgs,
    /// Where runs execute.
    #[arg(long, value_enum, default_value = "local")]
    pub executor: ExecutorKind,
    #[command(flatten)]
    pub slurm: SlurmArgs,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Experiment files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub train: TrainArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ReproduceArgs {
    #[command(flatten)]
    pub train: TrainArgs,
    /// Report directory [default: ROOT/reports, or ROOT/reports-quick with --quick].
    #[arg(long)]
    pub reports: Option<PathBuf>,
    /// Choose once, by the two-stage seed design, how many new seeds the experiments of
    /// the claims their pilot seeds leave undecided run; record the design and the seeds
    /// in experiments/claims/seeds.toml and train them.
    #[arg(long)]
    pub decide: bool,
    /// The most new seeds --decide gives an experiment beyond its pilot seeds.
    #[arg(long, default_value_t = 30)]
    pub max_seeds: usize,
}

#[derive(Debug, Args, Clone)]
pub struct FiguresArgs {
    /// Results directory [default: ROOT/results, or ROOT/results-quick with --quick].
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Report directory [default: ROOT/reports, or ROOT/reports-quick with --quick].
    #[arg(long)]
    pub reports: Option<PathBuf>,
    /// Report on the smoke-test results.
    #[arg(long)]
    pub quick: bool,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Where the data lives (for FIG. 1) [default: ROOT/data/fashion-mnist].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct GpuCheckArgs {
    /// The GPU to check.
    #[arg(long, default_value = "cuda")]
    pub device: String,
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Epochs of the baseline to time (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub epochs: usize,
    /// Side of the square matrix product that measures the machine.
    #[arg(long, default_value_t = 1024)]
    pub matmul: usize,
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct DiffArgs {
    /// Before: a git revision (its committed reports/summary), a report
    /// directory, or `results` (the stored runs of the current experiments).
    #[arg(default_value = "HEAD")]
    pub a: String,
    /// After, as A.
    #[arg(default_value = "results")]
    pub b: String,
    /// Results directory for `results` [default: ROOT/results, or ROOT/results-quick with --quick].
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// The smoke reproduction: reports-quick/ and results-quick/.
    #[arg(long)]
    pub quick: bool,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Leave unchanged experiments out.
    #[arg(long)]
    pub changed: bool,
    /// Also write the diff as Markdown to this file.
    #[arg(long, value_name = "FILE")]
    pub md: Option<PathBuf>,
    /// Draw the validation curves of the changed experiments into this directory.
    #[arg(long, value_name = "DIR")]
    pub figures: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum StudyCommand {
    /// Random, Sobol and TPE search, each with and without successive
    /// halving, on one space and proxy task over 5 search seeds: regret
    /// against epochs spent (studies/search-comparison/ → results-study/ →
    /// reports/studies/search-comparison.md).
    Search(StudyArgs),
}

#[derive(Debug, Args, Clone)]
pub struct StudyArgs {
    /// The study's files [default: ROOT/studies/search-comparison].
    #[arg(long)]
    pub files: Option<PathBuf>,
    /// Where its page and figure go [default: ROOT/reports/studies].
    #[arg(long)]
    pub reports: Option<PathBuf>,
    /// Training options; `--results` defaults to ROOT/results-study.
    #[command(flatten)]
    pub train: TrainArgs,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Every stored run of the current plan (or of the experiments named)
    /// to an MLflow tracking server, as one MLflow run per experiment and
    /// run, in an MLflow experiment per experiment file. Idempotent: what
    /// is already there is found, not sent again.
    Mlflow(MlflowArgs),
}

#[derive(Debug, Args, Clone)]
pub struct MlflowArgs {
    /// The tracking server, e.g. http://127.0.0.1:5000 (start one with
    /// `mlflow server --backend-store-uri sqlite:///mlflow.db --port 5000`).
    #[arg(long, env = "MLFLOW_TRACKING_URI", value_name = "URL")]
    pub tracking_uri: String,
    /// Only these experiments: file stems (`lr-sweep`: every point) or full
    /// names (`lr-sweep[optimizer.kind=sgd,optimizer.lr=0.01]`).
    #[arg(long, num_args = 1.., value_name = "NAME")]
    pub experiments: Vec<String>,
    /// Upload each run's weights (model.safetensors) as an artifact.
    #[arg(long)]
    pub artifacts: bool,
    /// Results directory [default: ROOT/results, or ROOT/results-quick with --quick].
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Export the smoke-test runs (results-quick/).
    #[arg(long)]
    pub quick: bool,
    #[command(flatten)]
    pub plan: PlanArgs,
}
