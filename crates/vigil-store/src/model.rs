//! The rows the store hands out, as the API shows them. Times are kept as
//! Unix seconds and written as RFC 3339 (`2024-02-29T23:59:59Z`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};
use utoipa::ToSchema;

/// Writes Unix seconds as RFC 3339.
pub fn time<S: Serializer>(unix: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&vigil_core::time::rfc3339(*unix))
}

/// Writes optional Unix seconds as RFC 3339 or null.
pub fn opt_time<S: Serializer>(unix: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match unix {
        Some(t) => s.serialize_str(&vigil_core::time::rfc3339(*t)),
        None => s.serialize_none(),
    }
}

/// What a user or token may do. Higher roles include the lower ones, but
/// for `ci`, which may only upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Uploads scans and SBOMs; reads nothing else.
    Ci,
    /// Reads its teams' assets, findings and audit entries.
    Viewer,
    /// A viewer who also triages, tags and manages tickets.
    Analyst,
    /// Everything, for every team: users, teams, tokens, settings.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Ci, Role::Viewer, Role::Analyst, Role::Admin];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ci => "ci",
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// The role a stored name stands for.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// A team: assets belong to one, users to several.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Team {
    /// Id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// When it was created.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// A person or a service account.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Unique sign-in name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Teams, by id.
    pub teams: Vec<i64>,
    /// A disabled user cannot sign in and its tokens stop working.
    pub disabled: bool,
    /// Whether a password is set (service accounts have none).
    pub has_password: bool,
    /// When it was created.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// An API token as listed (its secret is shown once, at creation, and
/// stored only as a hash).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Token {
    /// Id.
    pub id: i64,
    /// The user it acts as.
    pub user_id: i64,
    /// What it is for.
    pub name: String,
    /// `api` (created by a person for a machine) or `session` (signed in).
    pub kind: String,
    /// The public part of the token, which identifies it in logs.
    pub prefix: String,
    /// The role it acts with (at most its user's).
    pub role: Role,
    /// Created.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Expires, when it does.
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<i64>,
    /// Revoked, when it was.
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<i64>,
    /// Last used (to the minute), when it was.
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<i64>,
}

/// What the store knows about a token's holder, for authentication.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenGrant {
    /// The token.
    pub token_id: i64,
    /// Its stored hash.
    pub secret_hash: String,
    /// The token's role.
    pub role: Role,
    /// Expiry.
    pub expires_at: Option<i64>,
    /// Revocation.
    pub revoked_at: Option<i64>,
    /// When it was last used.
    pub last_used_at: Option<i64>,
    /// Its user.
    pub user_id: i64,
    /// The user's name.
    pub username: String,
    /// The user's own role.
    pub user_role: Role,
    /// Whether the user is disabled.
    pub user_disabled: bool,
    /// The user's teams.
    pub teams: Vec<i64>,
}

/// The kinds of asset.
pub const ASSET_KINDS: &[&str] = &["image", "host", "container", "repository", "webapp", "cloud-instance"];

/// A tag on an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AssetTag {
    /// The tag's name.
    pub name: String,
    /// Set by a dynamic tag's rule rather than by hand.
    pub dynamic: bool,
}

/// Something Vigil protects.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Asset {
    /// Id.
    pub id: i64,
    /// Owning team.
    pub team_id: i64,
    /// Its name (an image reference, a host name, a repository).
    pub name: String,
    /// One of `image`, `host`, `container`, `repository`, `webapp`, `cloud-instance`.
    pub kind: String,
    /// Operating system (`debian`), when known.
    pub os: Option<String>,
    /// Its release (`12`).
    pub os_release: Option<String>,
    /// CPU architecture.
    pub arch: Option<String>,
    /// Image manifest digest.
    pub image_digest: Option<String>,
    /// Image repository.
    pub image_repository: Option<String>,
    /// Owner (a person or group, free text).
    pub owner: Option<String>,
    /// Host names.
    pub hostnames: Vec<String>,
    /// Network addresses.
    pub addresses: Vec<String>,
    /// Free key=value labels.
    pub labels: BTreeMap<String, String>,
    /// Tags.
    pub tags: Vec<AssetTag>,
    /// Digest of its current inventory.
    pub inventory: Option<String>,
    /// Its latest scan.
    pub last_scan_id: Option<i64>,
    /// When it was last scanned.
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_scan_at: Option<i64>,
    /// Created.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Last changed.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

/// An asset's attributes as given on upload or edit; `None` keeps what is stored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct AssetAttributes {
    /// Operating system.
    pub os: Option<String>,
    /// Its release.
    pub os_release: Option<String>,
    /// CPU architecture.
    pub arch: Option<String>,
    /// Image manifest digest.
    pub image_digest: Option<String>,
    /// Image repository.
    pub image_repository: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Host names (replace the stored ones when given).
    pub hostnames: Option<Vec<String>>,
    /// Addresses (replace the stored ones when given).
    pub addresses: Option<Vec<String>>,
    /// Labels (replace the stored ones when given).
    pub labels: Option<BTreeMap<String, String>>,
}

/// A tag: static (set by hand) or dynamic (its rule, a query over assets,
/// decides which assets carry it).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Tag {
    /// Id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The rule of a dynamic tag.
    pub rule: Option<String>,
    /// What it means.
    pub description: Option<String>,
    /// How many assets carry it.
    pub assets: i64,
    /// Created.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Last changed.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

/// One scan of an asset: an upload, an SBOM, or a re-match against new advisories.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Scan {
    /// Id.
    pub id: i64,
    /// The asset.
    pub asset_id: i64,
    /// `upload`, `sbom` or `rematch`.
    pub kind: String,
    /// A full scan marks what it did not see as fixed; a partial one does not.
    pub full: bool,
    /// Digest of the inventory.
    pub inventory: Option<String>,
    /// Digest of the uploaded content (a repeated upload is recognised by it).
    pub content_digest: Option<String>,
    /// The advisory database version matched against.
    pub vulndb_version: Option<String>,
    /// The tool that produced it.
    pub scanner: Option<String>,
    /// The target as the scanner named it.
    pub target: Option<String>,
    /// Who uploaded it.
    pub uploaded_by: Option<String>,
    /// Received.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: i64,
    /// Findings open after it.
    pub findings_open: i64,
    /// Findings it opened.
    pub findings_new: i64,
    /// Findings it showed fixed.
    pub findings_fixed: i64,
    /// Findings it showed back.
    pub findings_reopened: i64,
}

/// A package of a stored inventory.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InventoryPackage {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// OSV ecosystem.
    pub ecosystem: String,
    /// Package URL.
    pub purl: String,
    /// The file it was found in.
    pub path: String,
    /// The image layer that file came from.
    pub layer: Option<String>,
}

/// Severity words, by rank (the stored value is the index).
pub const SEVERITIES: &[&str] = &["unknown", "none", "low", "medium", "high", "critical"];
/// Detection statuses.
pub const STATUSES: &[&str] = &["new", "active", "fixed", "reopened"];
/// Triage states.
pub const TRIAGE_STATES: &[&str] = &["open", "false_positive", "not_affected", "risk_accepted"];
/// VEX justifications for `not_affected` (OpenVEX's words).
pub const JUSTIFICATIONS: &[&str] = &[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];
/// Where a finding stands against its SLA: no SLA; open and not yet due;
/// open and past due; fixed by its due date; fixed after it.
pub const SLA_STATES: &[&str] = &["none", "within", "breached", "met", "missed"];

/// A finding's SLA state (one of [`SLA_STATES`]) at `now`. Breached from
/// the due moment on; fixed by the due moment (inclusive) is met.
pub fn sla_state(status: &str, fixed_at: Option<i64>, due_at: Option<i64>, now: i64) -> &'static str {
    match (due_at, status) {
        (None, _) => "none",
        (Some(due), "fixed") if fixed_at.is_some_and(|at| at > due) => "missed",
        (Some(_), "fixed") => "met",
        (Some(due), _) if due <= now => "breached",
        (Some(_), _) => "within",
    }
}

/// Fix states.
pub const FIX_STATES: &[&str] = &["available", "none", "wontfix"];
/// What found a finding.
pub const SOURCES: &[&str] = &["package", "web", "config", "secret"];

/// The package a finding is about.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FindingPackage {
    /// Name.
    pub name: String,
    /// Installed version (when last seen).
    pub version: String,
    /// OSV ecosystem.
    pub ecosystem: String,
    /// Package URL.
    pub purl: Option<String>,
}

/// A triage decision.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Triage {
    /// `open`, `false_positive`, `not_affected` or `risk_accepted`.
    pub state: String,
    /// The VEX justification of `not_affected`.
    pub justification: Option<String>,
    /// Until when a risk is accepted (the finding is open again after).
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<i64>,
    /// Why.
    pub comment: Option<String>,
    /// Who decided.
    pub by: Option<String>,
    /// When.
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<i64>,
    /// The rule the decision came from, when it applies to more than this finding.
    pub rule_id: Option<i64>,
}

/// A finding: one vulnerability (or misconfiguration, secret, web flaw) on
/// one asset, followed across scans.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Finding {
    /// Id.
    pub id: i64,
    /// The asset.
    pub asset_id: i64,
    /// The asset's name.
    pub asset_name: String,
    /// The asset's team.
    pub team_id: i64,
    /// `package`, `web`, `config` or `secret`.
    pub source: String,
    /// The advisory it is filed under (a CVE when one is known).
    pub advisory: String,
    /// Every id and alias it is known by.
    pub ids: Vec<String>,
    /// Summary.
    pub title: Option<String>,
    /// The package, for package findings.
    pub package: Option<FindingPackage>,
    /// Where it was found (the package database or lockfile, a URL).
    pub location: String,
    /// The image layer, for images.
    pub layer: Option<String>,
    /// `critical`, `high`, `medium`, `low`, `none` or `unknown`.
    pub severity: String,
    /// Where the severity came from.
    pub severity_source: Option<String>,
    /// CVSS base score.
    pub cvss: Option<f64>,
    /// CVSS vector.
    pub cvss_vector: Option<String>,
    /// EPSS probability.
    pub epss: Option<f64>,
    /// Listed in CISA KEV.
    pub kev: bool,
    /// When CISA added it.
    pub kev_added: Option<String>,
    /// `available`, `none` or `wontfix`.
    pub fix: String,
    /// Versions that fix it.
    pub fixed_versions: Vec<String>,
    /// `impact x likelihood`, for ordering.
    pub risk: f64,
    /// Detection status: `new`, `active`, `fixed` or `reopened`.
    pub status: String,
    /// First detected.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub first_seen: i64,
    /// Last detected.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub last_seen: i64,
    /// When a scan last showed it fixed (while it is).
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub fixed_at: Option<i64>,
    /// When its status last changed.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub status_changed_at: i64,
    /// The scan that last changed its status.
    pub status_scan_id: Option<i64>,
    /// When it must be fixed by under the SLA policy (first seen + the days
    /// for its severity and its asset's tags); absent when its severity has
    /// no SLA.
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<i64>,
    /// Against its SLA, when read: `none`, `within`, `breached` (open and
    /// past due), `met` (fixed by the due date) or `missed` (fixed after it).
    pub sla: String,
    /// Triage, kept apart from detection.
    pub triage: Triage,
    /// The advisory database version that last matched it.
    pub vulndb_version: Option<String>,
    /// Matching details (the comparison that matched, the name matched on).
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// A change of a finding's detection status.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FindingEvent {
    /// Id.
    pub id: i64,
    /// The finding.
    pub finding_id: i64,
    /// When.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// The status before (none for the first detection).
    pub from: Option<String>,
    /// The status after.
    pub to: String,
    /// `scan` or `advisory update`.
    pub reason: String,
    /// The scan that caused it.
    pub scan_id: Option<i64>,
    /// The advisory database version in use.
    pub vulndb_version: Option<String>,
}

/// A triage decision that applies to more than one finding: every finding
/// of an advisory, or every finding a query matches, now and in later scans.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TriageRule {
    /// Id.
    pub id: i64,
    /// `advisory` or `query`.
    pub scope: String,
    /// The advisory (for `advisory`).
    pub advisory: Option<String>,
    /// The query (for `query`).
    pub query: Option<String>,
    /// The team it is limited to (none: every team; administrators only).
    pub team_id: Option<i64>,
    /// The decision.
    pub state: String,
    /// VEX justification.
    pub justification: Option<String>,
    /// Until when (risk accepted).
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<i64>,
    /// Why.
    pub comment: String,
    /// Who decided.
    pub decided_by: String,
    /// When.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub decided_at: i64,
    /// Whether it still applies.
    pub active: bool,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Id.
    pub id: i64,
    /// When.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    /// Who (a user name, or `system`).
    pub actor: String,
    /// The user's id.
    pub actor_id: Option<i64>,
    /// What was done (`asset.update`, `finding.triage`, ...).
    pub action: String,
    /// The kind of thing changed.
    pub target_type: String,
    /// Which one.
    pub target_id: Option<String>,
    /// The team it belongs to.
    pub team_id: Option<i64>,
    /// The state before.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The state after.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// The client's address.
    pub address: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

/// A background job.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Job {
    /// Id.
    pub id: i64,
    /// What it does (`rematch`, `vulndb.refresh`, ...).
    pub kind: String,
    /// Its input.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// Not before.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub run_after: i64,
    /// The worker holding it.
    pub lease_owner: Option<String>,
    /// Until when it holds it.
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub lease_until: Option<i64>,
    /// The re-match run it belongs to.
    pub run_id: Option<i64>,
    /// Created.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Started (last attempt).
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<i64>,
    /// Finished.
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<i64>,
    /// The last failure.
    pub last_error: Option<String>,
}

/// A published advisory-database version.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VulnDbVersion {
    /// The SHA-256 of the database file.
    pub version: String,
    /// When it was built.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub built_at: i64,
    /// When it was published to the store.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub stored_at: i64,
    /// File size in bytes.
    pub size: i64,
    /// Advisories it holds.
    pub advisories: i64,
    /// Whether it is the one new matches use.
    pub current: bool,
}

/// A re-match of every stored inventory against one advisory-database version.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RematchRun {
    /// Id.
    pub id: i64,
    /// The version used, the same for every inventory of the run.
    pub vulndb_version: String,
    /// Why it ran.
    pub reason: String,
    /// Created.
    #[serde(serialize_with = "time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Inventories to re-match.
    pub inventories: i64,
    /// Jobs still queued or running.
    pub pending_jobs: i64,
    /// Finished, when every job is.
    #[serde(serialize_with = "opt_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<i64>,
}
