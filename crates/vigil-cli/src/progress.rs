//! Progress bars on standard error, drawn only when it is a terminal.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use vigil_vulndb::Progress;

/// Draws one bar per phase.
pub struct Bars {
    current: Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl Bars {
    /// Bars only when stderr is a terminal and not `--quiet`.
    pub fn new(quiet: bool) -> Bars {
        Bars { current: Mutex::new(None), enabled: !quiet && std::io::stderr().is_terminal() }
    }

    fn with(&self, f: impl FnOnce(&mut Option<ProgressBar>)) {
        if let Ok(mut guard) = self.current.lock() {
            f(&mut guard);
        }
    }
}

impl Progress for Bars {
    fn begin(&self, label: &str, total: Option<u64>, unit_bytes: bool) {
        if !self.enabled {
            return;
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        let template = match (total.is_some(), unit_bytes) {
            (true, true) => "{msg:>20} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            (true, false) => "{msg:>20} [{bar:30}] {pos}/{len} {per_sec} {eta}",
            (false, true) => "{msg:>20} {spinner} {bytes} {bytes_per_sec}",
            (false, false) => "{msg:>20} {spinner} {pos}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_owned());
        self.with(|c| {
            if let Some(old) = c.replace(bar) {
                old.finish_and_clear();
            }
        });
    }

    fn advance(&self, n: u64) {
        self.with(|c| {
            if let Some(bar) = c {
                bar.inc(n);
            }
        });
    }

    fn end(&self) {
        self.with(|c| {
            if let Some(bar) = c.take() {
                bar.finish_and_clear();
            }
        });
    }
}
