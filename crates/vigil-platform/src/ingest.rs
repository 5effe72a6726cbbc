//! Uploads: a Vigil inventory (what `vigil scan --upload` sends) or a
//! CycloneDX/SPDX SBOM from any tool becomes an asset, a stored inventory,
//! a scan and findings. The server matches the inventory against its own
//! advisory database (the scanner's findings are kept for reference only),
//! so the same inventory can be re-matched when advisories change.
//!
//! An upload is validated before anything is written; a bad one is
//! refused with a message naming the field, and nothing stored changes.
//! The same content uploaded again for the same asset (against the same
//! advisory database) changes nothing but the time of the asset's last scan.

use std::io::Write;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use vigil_core::inventory::{ImageMeta, Inventory, OsInfo, Package};
use vigil_store::findings::Change;
use vigil_store::model::{ASSET_KINDS, AssetAttributes, InventoryPackage, Scan};
use vigil_store::scans::{self, NewScan, ScanCounts};
use vigil_store::{Scope, Tx, accounts, assets};

use crate::auth::Permission;
use crate::lifecycle::{self, Mode};
use crate::results::{self, CheckResult, RESULT_SOURCES};
use crate::{Actor, Error, Platform, Result, tags, triage};

/// The asset an upload is about.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct AssetSpec {
    /// Its name: an image reference, a host name, a repository.
    pub name: String,
    /// `image`, `host`, `container`, `repository`, `webapp` or `cloud-instance`;
    /// when absent, `image` for image inventories, `host` for other
    /// inventories with an operating system, else `repository`.
    #[serde(default)]
    pub kind: Option<String>,
    /// The owning team's name; needed only when the uploader has several teams.
    #[serde(default)]
    pub team: Option<String>,
    /// Attributes to set (OS facts and image digests are also taken from the inventory).
    #[serde(default, flatten)]
    pub attributes: AssetAttributes,
}

/// An upload of a Vigil inventory.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Upload {
    /// The asset.
    pub asset: AssetSpec,
    /// Static tags to put on the asset (created when missing).
    #[serde(default)]
    pub tags: Vec<String>,
    /// A full scan (the default) marks what it did not see as fixed.
    #[serde(default = "yes")]
    pub full: bool,
    /// The tool and version that produced it.
    #[serde(default)]
    pub scanner: Option<String>,
    /// The inventory, as `vigil sbom --format json` writes it; the server
    /// matches it against its own advisory database.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub inventory: Inventory,
    /// Results of web, configuration and secret checks, tracked as given.
    #[serde(default)]
    pub results: Vec<CheckResult>,
    /// The sources this scan covered in full (`package`, `web`, `config`,
    /// `secret`): their findings it did not report become FIXED (for a full
    /// scan). Default: `package` when the inventory lists packages or no
    /// results are given, and the source of every result given.
    #[serde(default)]
    pub covers: Option<Vec<String>>,
    /// The scanner's own findings, kept with the scan for reference.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub findings: Option<Vec<serde_json::Value>>,
}

fn yes() -> bool {
    true
}

/// What an upload did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IngestResult {
    /// The scan recorded (or, when unchanged, the earlier scan of the same content).
    pub scan: Scan,
    /// The asset.
    pub asset_id: i64,
    /// Whether the asset was created by this upload.
    pub asset_created: bool,
    /// True when the same content was uploaded before: nothing changed.
    pub unchanged: bool,
    /// False when no advisory database exists yet: the inventory is stored
    /// and will be matched as soon as one is.
    pub matched: bool,
    /// What changed.
    pub counts: ScanCounts,
    /// Problems the scanner met while cataloguing (from the inventory).
    pub warnings: Vec<String>,
}

/// Most characters in a name, version, path or purl.
const MAX_FIELD: usize = 4096;

fn check_text(field: &str, value: &str, required: bool) -> Result<()> {
    if required && value.trim().is_empty() {
        return Err(Error::Invalid(format!("{field}: must not be empty")));
    }
    if value.len() > MAX_FIELD {
        return Err(Error::Invalid(format!("{field}: longer than {MAX_FIELD} bytes")));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(Error::Invalid(format!("{field}: holds control characters")));
    }
    Ok(())
}

/// Checks an upload before anything is stored.
fn validate(upload: &Upload, max_packages: usize) -> Result<()> {
    check_text("asset.name", &upload.asset.name, true)?;
    results::validate(&upload.results, max_packages)?;
    for (i, source) in upload.covers.iter().flatten().enumerate() {
        if source != "package" && !RESULT_SOURCES.contains(&source.as_str()) {
            return Err(Error::Invalid(format!("covers[{i}]: `{source}` is not package, web, config or secret")));
        }
    }
    if let Some(kind) = &upload.asset.kind
        && !ASSET_KINDS.contains(&kind.as_str())
    {
        return Err(Error::Invalid(format!("asset.kind: `{kind}` is not one of {}", ASSET_KINDS.join(", "))));
    }
    for (i, tag) in upload.tags.iter().enumerate() {
        check_text(&format!("tags[{i}]"), tag, true)?;
    }
    if upload.tags.len() > 100 {
        return Err(Error::Invalid("tags: more than 100".into()));
    }
    let packages = &upload.inventory.packages;
    if packages.len() > max_packages {
        return Err(Error::TooLarge(format!(
            "inventory.packages: {} packages, more than {max_packages}",
            packages.len()
        )));
    }
    for (i, p) in packages.iter().enumerate() {
        let field = |name: &str| format!("inventory.packages[{i}].{name}");
        check_text(&field("name"), &p.name, true)?;
        check_text(&field("version"), &p.version, true)?;
        check_text(&field("ecosystem"), &p.ecosystem, true)?;
        check_text(&field("purl"), &p.purl, false)?;
        check_text(&field("location.path"), &p.location.path, true)?;
    }
    Ok(())
}

/// The inventory as stored: only what matching needs, in a canonical
/// order, so identical images share one stored inventory.
fn canonical(inventory: &Inventory) -> Inventory {
    let mut packages = inventory.packages.clone();
    packages.sort_by(|a, b| {
        (&a.ecosystem, &a.name, &a.version, &a.location.path).cmp(&(
            &b.ecosystem,
            &b.name,
            &b.version,
            &b.location.path,
        ))
    });
    Inventory {
        target: String::new(),
        image: inventory.image.as_ref().map(|i| ImageMeta { tags: Vec::new(), ..i.clone() }),
        os: inventory.os.clone(),
        packages,
        warnings: Vec::new(),
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).map_err(|e| Error::Internal(e.to_string()))?;
    encoder.finish().map_err(|e| Error::Internal(e.to_string()))
}

/// Reads back a stored inventory.
pub fn gunzip_inventory(body: &[u8]) -> Result<Inventory> {
    let decoder = flate2::read::GzDecoder::new(body);
    serde_json::from_reader(decoder).map_err(|e| Error::Internal(format!("a stored inventory is damaged: {e}")))
}

/// The sources an upload covers.
fn covered(upload: &Upload) -> Vec<String> {
    let mut sources = match &upload.covers {
        Some(given) => given.clone(),
        None => {
            let mut sources: Vec<String> = upload.results.iter().map(|r| r.source.clone()).collect();
            if !upload.inventory.packages.is_empty() || upload.results.is_empty() {
                sources.push("package".into());
            }
            sources
        }
    };
    sources.sort();
    sources.dedup();
    sources
}

/// The asset kind an upload implies.
fn kind_of(upload: &Upload) -> String {
    upload.asset.kind.clone().unwrap_or_else(|| {
        if upload.inventory.image.is_some() {
            "image".into()
        } else if upload.inventory.os.is_some() {
            "host".into()
        } else {
            "repository".into()
        }
    })
}

/// Attributes from the inventory (OS facts, image digest and repository),
/// with what the uploader gave taking precedence.
fn attributes(upload: &Upload) -> AssetAttributes {
    let mut attrs = upload.asset.attributes.clone();
    if let Some(OsInfo { id, version_id, .. }) = &upload.inventory.os {
        attrs.os.get_or_insert_with(|| id.clone());
        if let Some(v) = version_id {
            attrs.os_release.get_or_insert_with(|| v.clone());
        }
    }
    if let Some(image) = &upload.inventory.image {
        if let Some(d) = &image.manifest_digest {
            attrs.image_digest.get_or_insert_with(|| d.clone());
        }
        if let Some(r) = &image.repository {
            attrs.image_repository.get_or_insert_with(|| r.clone());
        }
        if let Some(arch) = image.platform.as_deref().and_then(|p| p.split('/').nth(1)) {
            attrs.arch.get_or_insert_with(|| arch.to_string());
        }
    }
    attrs
}

/// The team an upload goes to: the one named, or the uploader's only team.
async fn team_of(tx: &mut Tx, actor: &Actor, named: Option<&str>) -> Result<i64> {
    match named {
        Some(name) => {
            let team = accounts::team_by_name(tx, name)
                .await?
                .ok_or_else(|| Error::Invalid(format!("asset.team: no team named `{name}`")))?;
            actor.require_team(team.id)?;
            Ok(team.id)
        }
        None => match &actor.scope {
            Scope::Teams(teams) if teams.len() == 1 => Ok(teams[0]),
            Scope::Teams(teams) if teams.is_empty() => Err(Error::Forbidden(format!(
                "user {} belongs to no team; an administrator must add it to one",
                actor.name
            ))),
            Scope::Teams(_) => Err(Error::Invalid("asset.team: you belong to several teams; name one".into())),
            Scope::All => {
                let team = accounts::team_by_name(tx, "default")
                    .await?
                    .ok_or_else(|| Error::Invalid("asset.team: name the team the asset belongs to".into()))?;
                Ok(team.id)
            }
        },
    }
}

/// Matches an inventory against the database file at `path`.
pub async fn observe(path: std::path::PathBuf, inventory: Inventory) -> Result<Vec<vigil_store::findings::Observed>> {
    tokio::task::spawn_blocking(move || {
        let db = crate::vulndb::open(&path)?;
        let findings =
            vigil_match::match_inventory(&db, &inventory).map_err(|e| Error::Internal(format!("matching: {e}")))?;
        Ok(crate::identity::observe(&findings))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// Ingests an upload.
pub async fn ingest(platform: &Platform, actor: &Actor, upload: Upload, kind: &str) -> Result<IngestResult> {
    actor.require(Permission::Upload)?;
    validate(&upload, platform.config.max_packages)?;
    let asset_kind = kind_of(&upload);
    let attrs = attributes(&upload);
    let stored = canonical(&upload.inventory);
    let stored_json = serde_json::to_vec(&stored).map_err(|e| Error::Internal(e.to_string()))?;
    let inventory_digest = sha256(&stored_json);
    let mut tags = upload.tags.clone();
    tags.sort();
    tags.dedup();
    let covers = covered(&upload);
    let packages_covered = covers.iter().any(|c| c == "package");
    let results_json = serde_json::to_string(&upload.results).map_err(|e| Error::Internal(e.to_string()))?;
    let content_digest = sha256(
        serde_json::json!({
            "inventory": inventory_digest, "kind": asset_kind, "name": upload.asset.name, "team": upload.asset.team,
            "full": upload.full, "tags": tags, "attributes": attrs, "covers": covers,
            "results": sha256(results_json.as_bytes()),
        })
        .to_string()
        .as_bytes(),
    );
    let vulndb = crate::vulndb::current(platform).await?;
    let observed = match &vulndb {
        Some((_, path)) if packages_covered => Some(observe(path.clone(), stored.clone()).await?),
        _ => None,
    };
    let version = vulndb.as_ref().map(|(v, _)| v.clone());
    let body = gzip(&stored_json)?;
    let packages: Vec<InventoryPackage> = stored.packages.iter().map(package_row).collect();
    let local_findings = match &upload.findings {
        Some(f) => Some(gzip(&serde_json::to_vec(f).map_err(|e| Error::Internal(e.to_string()))?)?),
        None => None,
    };

    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let team = team_of(&mut tx, actor, upload.asset.team.as_deref()).await?;
    let (asset, created) = assets::upsert(&mut tx, team, &asset_kind, &upload.asset.name, &attrs, now).await?;
    if let Some(previous) = scans::latest_scan(&mut tx, asset).await?
        && previous.content_digest.as_deref() == Some(content_digest.as_str())
        && previous.vulndb_version == version
    {
        scans::touch_scan(&mut tx, asset, previous.id, now).await?;
        tx.commit().await?;
        let mut conn = platform.store.read().await?;
        let scan = scans::scan(&mut conn, previous.id).await?;
        return Ok(IngestResult {
            counts: ScanCounts { open: scan.findings_open, ..ScanCounts::default() },
            scan,
            asset_id: asset,
            asset_created: false,
            unchanged: true,
            matched: version.is_some(),
            warnings: upload.inventory.warnings.clone(),
        });
    }
    if packages_covered {
        scans::put_inventory(&mut tx, &inventory_digest, &body, &packages, now).await?;
    }
    let scan = scans::create_scan(
        &mut tx,
        &NewScan {
            asset_id: asset,
            kind: kind.into(),
            full: upload.full,
            inventory: packages_covered.then(|| inventory_digest.clone()),
            content_digest: Some(content_digest),
            vulndb_version: version.clone(),
            scanner: upload.scanner.clone(),
            target: Some(upload.inventory.target.clone()).filter(|t| !t.is_empty()),
            uploaded_by: Some(actor.name.clone()),
            local_findings,
        },
        now,
    )
    .await?;
    let change = Change { at: now, reason: "scan", scan: Some(scan), vulndb_version: version.as_deref() };
    let mut counts = ScanCounts::default();
    let mut inserted = Vec::new();
    let mut moved = Vec::new();
    let mut kev_added = Vec::new();
    let mut batches: Vec<(&str, Vec<vigil_store::findings::Observed>)> = Vec::new();
    if let Some(observed) = observed {
        batches.push(("package", observed));
    }
    for source in RESULT_SOURCES.iter().filter(|s| covers.iter().any(|c| c == *s)) {
        batches.push((source, results::observe(&upload.results, source)));
    }
    for (source, observed) in batches {
        let current = vigil_store::findings::current(&mut tx, asset, source).await?;
        let plan = lifecycle::plan(current, observed, Mode::Scan { full: upload.full });
        kev_added.extend(vigil_store::notifications::not_yet_kev(&mut tx, &plan.kev_observed()).await?);
        moved.extend(plan.moved());
        let (these, ids) = lifecycle::apply(&mut tx, asset, team, &plan, change).await?;
        counts.new += these.new;
        counts.fixed += these.fixed;
        counts.reopened += these.reopened;
        inserted.extend(ids);
    }
    triage::apply_rules(&mut tx, team, &inserted, now).await?;
    counts.open = vigil_store::findings::count_open(&mut tx, asset).await?;
    let inventory = packages_covered.then_some(inventory_digest.as_str());
    scans::finish_scan(&mut tx, scan, counts, Some((asset, inventory, now))).await?;
    for name in &tags {
        let tag = match assets::tag_by_name(&mut tx, name).await? {
            Some(tag) if tag.rule.is_some() => {
                return Err(Error::Invalid(format!(
                    "tags: `{name}` is a dynamic tag; its rule decides which assets carry it"
                )));
            }
            Some(tag) => tag,
            None => assets::create_tag(&mut tx, name, None, None, now).await?,
        };
        assets::add_tag(&mut tx, tag.id, &[asset]).await?;
    }
    tags::evaluate_asset(&mut tx, asset, now).await?;
    moved.extend(&inserted);
    crate::tickets::after_change(&mut tx, asset, team, &moved, &format!("scan #{scan}"), now).await?;
    crate::notify::after_change(&mut tx, team, &inserted, &kev_added, now).await?;
    let summary = serde_json::json!({
        "scan": scan, "kind": kind, "inventory": inventory_digest, "packages": packages.len(), "covers": covers,
        "results": upload.results.len(),
        "vulndb_version": version, "counts": counts, "asset_created": created,
    });
    actor
        .audit(&mut tx, now, "scan.upload", ("asset", Some(asset.to_string())), Some(team), (None, Some(summary)))
        .await?;
    tx.commit().await?;
    let mut conn = platform.store.read().await?;
    Ok(IngestResult {
        scan: scans::scan(&mut conn, scan).await?,
        asset_id: asset,
        asset_created: created,
        unchanged: false,
        matched: version.is_some(),
        counts,
        warnings: upload.inventory.warnings,
    })
}

fn package_row(p: &Package) -> InventoryPackage {
    InventoryPackage {
        name: p.name.clone(),
        version: p.version.clone(),
        ecosystem: p.ecosystem.clone(),
        purl: p.purl.clone(),
        path: p.location.path.clone(),
        layer: p.location.layer.clone(),
    }
}

/// Where an SBOM upload goes, from the request's parameters.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SbomParams {
    /// The asset's name; defaults to the SBOM's image or root component name.
    pub asset: Option<String>,
    /// The asset's kind (see uploads).
    pub kind: Option<String>,
    /// The owning team.
    pub team: Option<String>,
    /// Static tags, comma-separated.
    pub tags: Option<String>,
    /// `false` for a partial scan.
    pub full: Option<bool>,
}

/// Ingests a CycloneDX or SPDX JSON SBOM.
pub async fn ingest_sbom(platform: &Platform, actor: &Actor, body: &[u8], params: SbomParams) -> Result<IngestResult> {
    actor.require(Permission::Upload)?;
    let doc: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::Invalid(format!("the SBOM is not JSON: {e} (line {}, column {})", e.line(), e.column())))?;
    let inventory = vigil_inventory::sbom::inventory(&doc, "sbom")
        .ok_or_else(|| Error::Invalid("not a CycloneDX (bomFormat) or SPDX (spdxVersion) JSON document".into()))?;
    let name = params
        .asset
        .clone()
        .or_else(|| doc["metadata"]["component"]["name"].as_str().map(str::to_string))
        .or_else(|| doc["name"].as_str().map(str::to_string))
        .ok_or_else(|| Error::Invalid("name the asset (`asset` parameter): the SBOM does not".into()))?;
    let scanner = doc["metadata"]["tools"]["components"][0]["name"]
        .as_str()
        .or_else(|| doc["metadata"]["tools"][0]["name"].as_str())
        .or_else(|| doc["creationInfo"]["creators"][0].as_str())
        .map(str::to_string);
    let upload = Upload {
        asset: AssetSpec { name, kind: params.kind, team: params.team, attributes: AssetAttributes::default() },
        tags: params
            .tags
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        full: params.full.unwrap_or(true),
        scanner,
        inventory,
        results: Vec::new(),
        covers: None,
        findings: None,
    };
    ingest(platform, actor, upload, "sbom").await
}
