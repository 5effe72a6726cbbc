//! Settings: command-line flags beat environment variables (read by clap),
//! which beat the configuration file, which beats the defaults.
//!
//! ```toml
//! [db]
//! dir = "/var/lib/vigil"          # where vigil.db lives
//! osv_base = "https://mirror.example/osv"
//! ecosystems = ["Debian", "PyPI"]
//! kev_url = ""                    # empty disables the feed
//! epss_url = "https://mirror.example/epss_scores-current.csv.gz"
//! max_age_days = 7                # warn when the database is older
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// The configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[db]` table.
    #[serde(default)]
    pub db: DbConfig,
}

/// `[db]` settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbConfig {
    /// Database directory.
    pub dir: Option<PathBuf>,
    /// OSV bulk export base.
    pub osv_base: Option<String>,
    /// Ecosystem folders to fetch.
    pub ecosystems: Option<Vec<String>>,
    /// KEV URL ("" disables).
    pub kev_url: Option<String>,
    /// EPSS URL ("" disables).
    pub epss_url: Option<String>,
    /// Warn when the database is older than this many days.
    pub max_age_days: Option<u32>,
}

/// Days after which commands warn that the database is stale, by default.
pub const DEFAULT_MAX_AGE_DAYS: u32 = 7;

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// `$VAR`, else `$HOME/FALLBACK`.
pub fn xdg(var: &str, fallback: &str) -> Option<PathBuf> {
    std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from).or_else(|| home().map(|h| h.join(fallback)))
}

impl Config {
    /// Loads `explicit` (which must exist) or the default file (if present).
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let path = match explicit {
            Some(p) => p.to_owned(),
            None => match xdg("XDG_CONFIG_HOME", ".config") {
                Some(dir) if dir.join("vigil/config.toml").is_file() => dir.join("vigil/config.toml"),
                _ => return Ok(Config::default()),
            },
        };
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading config {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config {}", path.display()))
    }

    /// The database file: flag/env dir, else config dir, else the user data dir.
    pub fn db_path(&self, flag: Option<&Path>) -> Result<PathBuf> {
        let dir = flag
            .map(Path::to_owned)
            .or_else(|| self.db.dir.clone())
            .or_else(|| xdg("XDG_DATA_HOME", ".local/share").map(|d| d.join("vigil")))
            .context("cannot tell where the database lives: set --db-dir, VIGIL_DB_DIR or HOME")?;
        Ok(dir.join("vigil.db"))
    }

    /// Staleness threshold.
    pub fn max_age_days(&self) -> u32 {
        std::env::var("VIGIL_DB_MAX_AGE_DAYS")
            .ok()
            .and_then(|v| v.parse().ok())
            .or(self.db.max_age_days)
            .unwrap_or(DEFAULT_MAX_AGE_DAYS)
    }
}
