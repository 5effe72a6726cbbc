//! Scans and inventories. An inventory is stored once per content digest
//! (compressed, as uploaded) with its packages in rows for searching;
//! assets point at their current one, scans at the one they saw.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vigil_query::Param;

use crate::model::{InventoryPackage, Scan};
use crate::sql::{Page, Paged, execute, fetch_all, flag, opt_text};
use crate::{Error, Result};

/// Rows per multi-row insert (8 values each, well under both backends' limits).
const BATCH: usize = 400;

/// Stores an inventory unless one with this digest exists. `body` is the
/// compressed inventory JSON. Returns whether it was new.
pub async fn put_inventory(
    conn: &mut AnyConnection,
    digest: &str,
    body: &[u8],
    packages: &[InventoryPackage],
    now: i64,
) -> Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO inventories (digest, packages, body, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(digest)
    .bind(packages.len() as i64)
    .bind(body)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !inserted {
        return Ok(false);
    }
    for (chunk_index, chunk) in packages.chunks(BATCH).enumerate() {
        let mut params = Vec::with_capacity(chunk.len() * 8);
        let mut rows = Vec::with_capacity(chunk.len());
        for (i, p) in chunk.iter().enumerate() {
            let base = params.len();
            rows.push(format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                base + 1,
                base + 2,
                base + 3,
                base + 4,
                base + 5,
                base + 6,
                base + 7,
                base + 8
            ));
            params.extend([
                Param::Text(digest.to_string()),
                Param::Int((chunk_index * BATCH + i) as i64),
                Param::Text(p.name.clone()),
                Param::Text(p.version.clone()),
                Param::Text(p.ecosystem.clone()),
                Param::Text(p.purl.clone()),
                Param::Text(p.path.clone()),
                p.layer.clone().map_or(Param::Text(String::new()), Param::Text),
            ]);
        }
        execute(
            conn,
            format!(
                "INSERT INTO inventory_packages (inventory, seq, name, version, ecosystem, purl, path, layer) VALUES {}",
                rows.join(", ")
            ),
            &params,
        )
        .await?;
    }
    Ok(true)
}

/// The compressed body of an inventory.
pub async fn inventory_body(conn: &mut AnyConnection, digest: &str) -> Result<Vec<u8>> {
    sqlx::query_scalar("SELECT body FROM inventories WHERE digest = $1")
        .bind(digest)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("inventory {digest}")))
}

/// A page of an inventory's packages, in the order they were listed.
pub async fn inventory_packages(
    conn: &mut AnyConnection,
    digest: &str,
    page: &Page,
) -> Result<Paged<InventoryPackage>> {
    let limit = if page.limit == 0 { 100 } else { page.limit.min(crate::sql::MAX_PAGE) } as i64;
    let after: i64 = match &page.cursor {
        Some(c) => c.parse().map_err(|_| Error::Invalid("invalid cursor".into()))?,
        None => -1,
    };
    let rows = sqlx::query(
        "SELECT seq, name, version, ecosystem, purl, path, layer FROM inventory_packages \
         WHERE inventory = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(digest)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(conn)
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut last = None;
    for row in rows.iter().take(limit as usize) {
        last = Some(row.try_get::<i64, _>("seq")?);
        items.push(InventoryPackage {
            name: row.try_get("name")?,
            version: row.try_get("version")?,
            ecosystem: row.try_get("ecosystem")?,
            purl: row.try_get("purl")?,
            path: row.try_get("path")?,
            layer: opt_text(row, "layer")?.filter(|l| !l.is_empty()),
        });
    }
    let next = if rows.len() as i64 > limit { last.map(|s| s.to_string()) } else { None };
    Ok(Paged { items, next })
}

/// A scan to record.
#[derive(Debug, Clone, Default)]
pub struct NewScan {
    /// The asset.
    pub asset_id: i64,
    /// `upload`, `sbom` or `rematch`.
    pub kind: String,
    /// Whether it is a full scan.
    pub full: bool,
    /// Inventory digest.
    pub inventory: Option<String>,
    /// Content digest of the upload.
    pub content_digest: Option<String>,
    /// Advisory database version.
    pub vulndb_version: Option<String>,
    /// The tool.
    pub scanner: Option<String>,
    /// The target as named by the tool.
    pub target: Option<String>,
    /// Who uploaded it.
    pub uploaded_by: Option<String>,
    /// The scanner's own findings, compressed, kept for reference.
    pub local_findings: Option<Vec<u8>>,
}

/// Records a scan; its counts are filled in by [`finish_scan`].
pub async fn create_scan(conn: &mut AnyConnection, scan: &NewScan, now: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO scans (asset_id, kind, full_scan, inventory, content_digest, vulndb_version, scanner, target, \
         uploaded_by, received_at, local_findings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(scan.asset_id)
    .bind(&scan.kind)
    .bind(i64::from(scan.full))
    .bind(scan.inventory.as_deref())
    .bind(scan.content_digest.as_deref())
    .bind(scan.vulndb_version.as_deref())
    .bind(scan.scanner.as_deref())
    .bind(scan.target.as_deref())
    .bind(scan.uploaded_by.as_deref())
    .bind(now)
    .bind(scan.local_findings.as_deref())
    .fetch_one(conn)
    .await?)
}

/// What a scan changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ScanCounts {
    /// Open after the scan.
    pub open: i64,
    /// Opened by it.
    pub new: i64,
    /// Shown fixed by it.
    pub fixed: i64,
    /// Shown back by it.
    pub reopened: i64,
}

/// Stores what a scan changed and, for scans that observed the asset (not
/// re-matches), makes it the asset's latest scan; with an inventory, that
/// becomes the asset's current inventory.
pub async fn finish_scan(
    conn: &mut AnyConnection,
    scan: i64,
    counts: ScanCounts,
    observed: Option<(i64, Option<&str>, i64)>,
) -> Result<()> {
    sqlx::query(
        "UPDATE scans SET findings_open = $2, findings_new = $3, findings_fixed = $4, findings_reopened = $5 WHERE id = $1",
    )
    .bind(scan)
    .bind(counts.open)
    .bind(counts.new)
    .bind(counts.fixed)
    .bind(counts.reopened)
    .execute(&mut *conn)
    .await?;
    if let Some((asset, inventory, at)) = observed {
        sqlx::query(
            "UPDATE assets SET inventory = COALESCE($2, inventory), last_scan_id = $3, last_scan_at = $4 WHERE id = $1",
        )
        .bind(asset)
        .bind(inventory)
        .bind(scan)
        .bind(at)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Records that the asset was seen again, unchanged, by an earlier scan's
/// content: the scan's time moves, nothing else.
pub async fn touch_scan(conn: &mut AnyConnection, asset: i64, scan: i64, at: i64) -> Result<()> {
    sqlx::query("UPDATE assets SET last_scan_at = $2 WHERE id = $1").bind(asset).bind(at).execute(&mut *conn).await?;
    sqlx::query("UPDATE scans SET received_at = $2 WHERE id = $1").bind(scan).bind(at).execute(conn).await?;
    Ok(())
}

const SCAN_COLUMNS: &str = "id, asset_id, kind, full_scan, inventory, content_digest, vulndb_version, scanner, target, \
                            uploaded_by, received_at, findings_open, findings_new, findings_fixed, findings_reopened";

fn scan_row(row: &AnyRow) -> Result<Scan> {
    Ok(Scan {
        id: row.try_get("id")?,
        asset_id: row.try_get("asset_id")?,
        kind: row.try_get("kind")?,
        full: flag(row, "full_scan")?,
        inventory: opt_text(row, "inventory")?,
        content_digest: opt_text(row, "content_digest")?,
        vulndb_version: opt_text(row, "vulndb_version")?,
        scanner: opt_text(row, "scanner")?,
        target: opt_text(row, "target")?,
        uploaded_by: opt_text(row, "uploaded_by")?,
        received_at: row.try_get("received_at")?,
        findings_open: row.try_get("findings_open")?,
        findings_new: row.try_get("findings_new")?,
        findings_fixed: row.try_get("findings_fixed")?,
        findings_reopened: row.try_get("findings_reopened")?,
    })
}

/// One scan.
pub async fn scan(conn: &mut AnyConnection, id: i64) -> Result<Scan> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("scan {id}")))?;
    scan_row(&row)
}

/// The asset's latest observing scan (upload or SBOM).
pub async fn latest_scan(conn: &mut AnyConnection, asset: i64) -> Result<Option<Scan>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SCAN_COLUMNS} FROM scans WHERE asset_id = $1 AND kind <> 'rematch' ORDER BY id DESC LIMIT 1"
    )))
    .bind(asset)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(scan_row).transpose()
}

/// A page of an asset's scans, newest first.
pub async fn scans_of(conn: &mut AnyConnection, asset: i64, page: &Page) -> Result<Paged<Scan>> {
    let limit = if page.limit == 0 { 50 } else { page.limit.min(crate::sql::MAX_PAGE) } as i64;
    let before: i64 = match &page.cursor {
        Some(c) => c.parse().map_err(|_| Error::Invalid("invalid cursor".into()))?,
        None => i64::MAX,
    };
    let rows = fetch_all(
        conn,
        format!("SELECT {SCAN_COLUMNS} FROM scans WHERE asset_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"),
        &[Param::Int(asset), Param::Int(before), Param::Int(limit + 1)],
    )
    .await?;
    let mut items: Vec<Scan> = rows.iter().take(limit as usize).map(scan_row).collect::<Result<_>>()?;
    let next = if rows.len() as i64 > limit { items.last().map(|s| s.id.to_string()) } else { None };
    items.truncate(limit as usize);
    Ok(Paged { items, next })
}

/// The inventories assets currently point at, each with its assets.
pub async fn inventories_in_use(conn: &mut AnyConnection) -> Result<Vec<(String, Vec<i64>)>> {
    let rows = sqlx::query("SELECT inventory, id FROM assets WHERE inventory IS NOT NULL ORDER BY inventory, id")
        .fetch_all(conn)
        .await?;
    let mut out: Vec<(String, Vec<i64>)> = Vec::new();
    for row in &rows {
        let (inventory, id): (String, i64) = (row.try_get("inventory")?, row.try_get("id")?);
        match out.last_mut() {
            Some((last, ids)) if *last == inventory => ids.push(id),
            _ => out.push((inventory, vec![id])),
        }
    }
    Ok(out)
}

/// The assets that currently point at an inventory.
pub async fn assets_with_inventory(conn: &mut AnyConnection, inventory: &str) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM assets WHERE inventory = $1 ORDER BY id")
        .bind(inventory)
        .fetch_all(conn)
        .await?)
}
