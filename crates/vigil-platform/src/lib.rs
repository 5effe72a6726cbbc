//! What the Vigil server does, independent of HTTP.
//!
//! - [`auth`]: passwords (Argon2id), API tokens (random, shown once,
//!   stored as SHA-256), roles and the permission table, team scopes.
//! - [`ingest`]: an upload (Vigil inventory or CycloneDX/SPDX SBOM) becomes
//!   an asset, a content-addressed inventory, a scan and findings, matched
//!   against the server's own advisory database so they can be re-matched.
//! - [`identity`] and [`lifecycle`]: one finding per (asset, advisory with
//!   aliases merged, package, location), moved NEW -> ACTIVE -> FIXED ->
//!   REOPENED by full scans and by re-matches after advisory updates.
//! - [`triage`], [`tags`], [`exposure`], [`vex`], [`admin`]: decisions,
//!   dynamic tags, exposure windows, OpenVEX export, accounts.
//! - [`sla`] and [`trends`]: days to remediate per severity and tag, due
//!   dates and breaches; daily snapshots per (team, tag, severity, status),
//!   backfilled from the status history, and the trends read from them or,
//!   for any query, from the history itself.
//! - [`fixplan`]: the fewest upgrades that clear an asset's findings, and
//!   the upgrades that clear the most findings across a fleet.
//! - [`vulndb`] and [`jobs`]: published advisory-database versions that
//!   every node matches against byte for byte, and the job runner that
//!   refreshes them and re-matches every stored inventory.
//!
//! Every change a person makes is written to the audit trail in the same
//! transaction as the change. This crate holds no SQL: it calls the store.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admin;
pub mod auth;
mod error;
pub mod exposure;
pub mod fixplan;
pub mod identity;
pub mod ingest;
pub mod integrations;
pub mod jobs;
pub mod lifecycle;
pub mod notify;
pub mod read;
pub mod results;
pub mod sla;
pub mod sync;
pub mod tags;
pub mod tickets;
pub mod trends;
pub mod triage;
pub mod vex;
pub mod vulndb;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub use error::{Error, Result};
use vigil_store::audit::NewEntry;
use vigil_store::model::Role;
use vigil_store::{Scope, Store, Tx};

/// The clock the platform reads; tests move it by hand.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// Unix seconds now (plus any offset set for tests).
    pub fn now(&self) -> i64 {
        vigil_core::time::now_unix() + self.offset.load(Ordering::Relaxed)
    }

    /// Moves the clock forward by `secs` (tests).
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}

/// Settings of the platform.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where advisory-database versions are kept on this node.
    pub data_dir: PathBuf,
    /// Where a refresh takes its advisories from.
    pub vulndb_source: vulndb::Source,
    /// Most packages one inventory may hold.
    pub max_packages: usize,
    /// Inventories per re-match job.
    pub rematch_batch: usize,
    /// How many advisory-database versions to keep.
    pub keep_vulndb_versions: usize,
}

impl Config {
    /// Defaults under `data_dir`.
    pub fn new(data_dir: PathBuf) -> Config {
        Config {
            data_dir,
            vulndb_source: vulndb::Source::default(),
            max_packages: 200_000,
            rematch_batch: 25,
            keep_vulndb_versions: 3,
        }
    }
}

/// The platform: the store, this node's advisory databases, settings, clock.
#[derive(Clone)]
pub struct Platform {
    /// The store.
    pub store: Store,
    /// Settings.
    pub config: Arc<Config>,
    /// The clock.
    pub clock: Clock,
    /// Advisory-database versions on this node.
    pub vulndbs: Arc<vulndb::Cache>,
}

impl Platform {
    /// A platform over `store`.
    pub fn new(store: Store, config: Config) -> Platform {
        let vulndbs = Arc::new(vulndb::Cache::new(config.data_dir.join("vulndb")));
        Platform { store, config: Arc::new(config), clock: Clock::default(), vulndbs }
    }

    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// Who is acting, and from where: a signed-in user, a token, or the system.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    /// The user's id (none for the system).
    pub user_id: Option<i64>,
    /// The user's name, or `system`.
    pub name: String,
    /// The role acted with.
    pub role: Role,
    /// The teams whose rows may be seen and changed.
    pub scope: Scope,
    /// The client's address.
    pub address: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

impl Actor {
    /// The server itself (jobs, schedules).
    pub fn system() -> Actor {
        Actor {
            user_id: None,
            name: "system".into(),
            role: Role::Admin,
            scope: Scope::All,
            address: None,
            request_id: None,
        }
    }

    /// Refuses unless the actor holds `permission`.
    pub fn require(&self, permission: auth::Permission) -> Result<()> {
        if auth::allows(self.role, permission) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("the {} role may not {}", self.role.as_str(), permission.describe())))
        }
    }

    /// Refuses unless `team` is one of the actor's.
    pub fn require_team(&self, team: i64) -> Result<()> {
        if self.scope.allows(team) { Ok(()) } else { Err(Error::Forbidden(format!("team {team} is not one of yours"))) }
    }

    /// Refuses unless the actor may change a rule of `team`: one of its
    /// teams, or, for a rule of every team, an administrator.
    pub fn require_rule_owner(&self, team: Option<i64>) -> Result<()> {
        match team {
            Some(team) => self.require_team(team),
            None => self.require(auth::Permission::Administer),
        }
    }

    /// Appends an audit entry for a change this actor made.
    pub async fn audit(
        &self,
        tx: &mut Tx,
        now: i64,
        action: &str,
        target: (&str, Option<String>),
        team: Option<i64>,
        change: (Option<serde_json::Value>, Option<serde_json::Value>),
    ) -> Result<()> {
        let entry = NewEntry {
            actor: self.name.clone(),
            actor_id: self.user_id,
            action: action.into(),
            target_type: target.0.into(),
            target_id: target.1,
            team_id: team,
            before: change.0,
            after: change.1,
            address: self.address.clone(),
            request_id: self.request_id.clone(),
        };
        vigil_store::audit::append(tx, &entry, now).await?;
        Ok(())
    }
}

/// A value as JSON for the audit trail.
pub(crate) fn json<T: serde::Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}
