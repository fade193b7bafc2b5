//! What the user watches: one bar for the whole plan and one per active run on
//! a terminal; plain lines otherwise (CI logs).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone)]
pub struct Progress {
    multi: Option<MultiProgress>,
    overall: ProgressBar,
}

/// The bar of one run (hidden in plain mode).
#[derive(Debug)]
pub struct RunBar {
    bar: ProgressBar,
    name: String,
    plain: bool,
}

impl Progress {
    pub fn new(total_runs: usize) -> Progress {
        if std::io::stderr().is_terminal() {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(total_runs as u64));
            overall.set_style(
                ProgressStyle::with_template(
                    "{prefix:>8.bold} [{bar:30.cyan/blue}] {pos}/{len} runs  {elapsed_precise} elapsed, ETA {eta_precise}  {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            overall.set_prefix("plan");
            overall.enable_steady_tick(Duration::from_millis(250));
            Progress {
                multi: Some(multi),
                overall,
            }
        } else {
            Progress {
                multi: None,
                overall: ProgressBar::hidden(),
            }
        }
    }

    /// Prints a line above the bars (or plainly).
    pub fn println(&self, line: impl AsRef<str>) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(line.as_ref());
            }
            None => eprintln!("{}", line.as_ref()),
        }
    }

    pub fn run_done(&self) {
        self.overall.inc(1);
    }

    pub fn start_run(&self, name: String, epochs: usize) -> RunBar {
        match &self.multi {
            Some(m) => {
                let bar = m.add(ProgressBar::new(epochs as u64));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:>8} {msg:<40} epoch {pos}/{len} [{bar:20}] {per_sec}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                bar.set_prefix("train");
                bar.set_message(name.clone());
                RunBar {
                    bar,
                    name,
                    plain: false,
                }
            }
            None => {
                eprintln!("start  {name}");
                RunBar {
                    bar: ProgressBar::hidden(),
                    name,
                    plain: true,
                }
            }
        }
    }

    pub fn finish(&self) {
        self.overall.finish_and_clear();
    }
}

impl RunBar {
    /// Within an epoch: a fraction of the bar, so long epochs still move.
    pub fn batch(&self, batch: usize, batches: usize) {
        if !self.plain && (batch.is_multiple_of(16) || batch == batches) {
            let epoch = self.bar.position();
            self.bar
                .set_message(format!("{}  batch {batch}/{batches}", self.name));
            self.bar.set_position(epoch);
        }
    }

    pub fn epoch(&self, epoch: usize, epochs: usize, line: &str) {
        if self.plain {
            eprintln!("       {}  epoch {epoch}/{epochs}  {line}", self.name);
        } else {
            self.bar.set_position(epoch as u64);
            self.bar.set_message(format!("{}  {line}", self.name));
        }
    }

    pub fn close(self) {
        self.bar.finish_and_clear();
    }
}

/// The runner's [`Observer`](fmnist_runner::Observer): a plan's bars, made
/// when the plan begins.
#[derive(Debug, Default)]
pub struct Bars {
    progress: std::sync::OnceLock<Progress>,
}

impl Bars {
    fn get(&self) -> &Progress {
        self.progress.get_or_init(|| Progress::new(0))
    }
}

impl fmnist_runner::Observer for Bars {
    fn begin(&self, runs: usize) {
        let p = self.progress.get_or_init(|| Progress::new(runs));
        p.overall.set_length(runs as u64);
        p.overall.set_position(0);
    }
    fn println(&self, line: String) {
        self.get().println(line);
    }
    fn run_done(&self) {
        self.get().run_done();
    }
    fn start_run(&self, name: String, epochs: usize) -> Box<dyn fmnist_runner::RunObserver + '_> {
        Box::new(self.get().start_run(name, epochs))
    }
    fn finish(&self) {
        self.get().finish();
    }
}

impl fmnist_runner::RunObserver for RunBar {
    fn batch(&self, batch: usize, batches: usize) {
        RunBar::batch(self, batch, batches);
    }
    fn epoch(&self, epoch: usize, epochs: usize, line: &str) {
        RunBar::epoch(self, epoch, epochs, line);
    }
    fn close(self: Box<Self>) {
        RunBar::close(*self);
    }
}

/// Draws what the data crate reports while fetching: a byte bar per
/// transfer on a terminal, one line per event otherwise.
#[derive(Debug)]
pub struct FetchProgress {
    bar: std::sync::Mutex<Option<ProgressBar>>,
    terminal: bool,
}

impl FetchProgress {
    pub fn new() -> FetchProgress {
        FetchProgress {
            bar: std::sync::Mutex::new(None),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    pub fn event(&self, event: fmnist_data::FetchEvent<'_>) {
        use fmnist_data::FetchEvent;
        let mut bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            FetchEvent::Note(line) => match bar.as_ref() {
                Some(b) => b.println(format!("data: {line}")),
                None => eprintln!("data: {line}"),
            },
            FetchEvent::Transfer { file, total } if self.terminal => {
                let b = match total {
                    Some(n) => ProgressBar::new(n).with_style(
                        ProgressStyle::with_template(
                            "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                        )
                        .expect("valid template")
                        .progress_chars("=> "),
                    ),
                    None => ProgressBar::new_spinner().with_style(
                        ProgressStyle::with_template("{spinner} {msg} {bytes} {binary_bytes_per_sec}")
                            .expect("valid template"),
                    ),
                };
                *bar = Some(b.with_message(file.to_owned()));
            }
            FetchEvent::Progress(n) => {
                if let Some(b) = bar.as_ref() {
                    b.inc(n);
                }
            }
            FetchEvent::TransferEnd => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
            }
            _ => {}
        }
    }
}
