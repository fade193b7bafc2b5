//! What the runner tells whoever watches it: lines, and each run's progress.
//! The binary draws bars on a terminal and plain lines in logs; the runner
//! knows neither.

/// Receives the runner's progress; called from several worker threads.
pub trait Observer: Sync {
    /// A plan of `runs` runs to train starts.
    fn begin(&self, runs: usize);
    /// A line of news (a run done, resumed, pruned, failed...).
    fn println(&self, line: String);
    /// One run of the plan finished, whichever way.
    fn run_done(&self);
    /// A run starts training towards `epochs` epochs.
    fn start_run(&self, name: String, epochs: usize) -> Box<dyn RunObserver + '_>;
    /// The plan is done.
    fn finish(&self);
}

/// One run's progress.
pub trait RunObserver {
    fn batch(&self, batch: usize, batches: usize);
    fn epoch(&self, epoch: usize, epochs: usize, line: &str);
    fn close(self: Box<Self>);
}

/// An observer that prints every line to standard error and draws nothing:
/// for tests and for executors without a terminal.
#[derive(Debug, Default)]
pub struct Lines;

impl Observer for Lines {
    fn begin(&self, _runs: usize) {}
    fn println(&self, line: String) {
        eprintln!("{line}");
    }
    fn run_done(&self) {}
    fn start_run(&self, _name: String, _epochs: usize) -> Box<dyn RunObserver + '_> {
        Box::new(Lines)
    }
    fn finish(&self) {}
}

impl RunObserver for Lines {
    fn batch(&self, _batch: usize, _batches: usize) {}
    fn epoch(&self, _epoch: usize, _epochs: usize, _line: &str) {}
    fn close(self: Box<Self>) {}
}
