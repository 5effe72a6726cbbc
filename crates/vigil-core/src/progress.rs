//! Progress reporting: long work (a database download, an image pull)
//! reports phases and units through [`Progress`]; the CLI draws bars from
//! it on a terminal, libraries never draw anything themselves.

/// Receives progress.
pub trait Progress: Sync {
    /// A new phase starts (`download Debian`, `layer 1/3 1a2b3c4d5e6f`), with its total if known.
    fn begin(&self, label: &str, total: Option<u64>, unit_bytes: bool);
    /// Some units of the current phase are done.
    fn advance(&self, n: u64);
    /// The current phase is done.
    fn end(&self);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn begin(&self, _: &str, _: Option<u64>, _: bool) {}
    fn advance(&self, _: u64) {}
    fn end(&self) {}
}
