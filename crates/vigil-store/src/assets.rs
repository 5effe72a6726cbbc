//! Assets, their multi-valued attributes (host names, addresses, labels)
//! and tags.

use std::collections::{BTreeMap, HashMap};

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vigil_query::{Expr, Param, SortKey};

use crate::catalogs::ASSETS;
use crate::model::{Asset, AssetAttributes, AssetTag, Tag};
use crate::sql::{Page, Paged, Search, execute, fetch_all, flag, id_list, opt_text};
use crate::{Error, Result, Scope};

const COLUMNS: &str = "a.id, a.team_id, a.name, a.kind, a.os, a.os_release, a.arch, a.image_digest, \
                       a.image_repository, a.owner, a.inventory, a.last_scan_id, a.last_scan_at, a.created_at, a.updated_at";

fn asset_row(row: &AnyRow) -> Result<Asset> {
    Ok(Asset {
        id: row.try_get("id")?,
        team_id: row.try_get("team_id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        os: opt_text(row, "os")?,
        os_release: opt_text(row, "os_release")?,
        arch: opt_text(row, "arch")?,
        image_digest: opt_text(row, "image_digest")?,
        image_repository: opt_text(row, "image_repository")?,
        owner: opt_text(row, "owner")?,
        hostnames: Vec::new(),
        addresses: Vec::new(),
        labels: BTreeMap::new(),
        tags: Vec::new(),
        inventory: opt_text(row, "inventory")?,
        last_scan_id: row.try_get("last_scan_id")?,
        last_scan_at: row.try_get("last_scan_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Fills in attributes and tags for a page of assets with two queries.
async fn complete(conn: &mut AnyConnection, assets: &mut [Asset]) -> Result<()> {
    if assets.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = assets.iter().map(|a| a.id).collect();
    let index: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut params = Vec::new();
    let list = id_list(&ids, &mut params);
    let rows = fetch_all(
        conn,
        format!("SELECT asset_id, name, value FROM asset_attributes WHERE asset_id IN ({list}) ORDER BY asset_id, name, value"),
        &params,
    )
    .await?;
    for row in &rows {
        let asset = &mut assets[index[&row.try_get::<i64, _>("asset_id")?]];
        let (name, value): (String, String) = (row.try_get("name")?, row.try_get("value")?);
        match name.as_str() {
            "hostname" => asset.hostnames.push(value),
            "address" => asset.addresses.push(value),
            other => {
                if let Some(key) = other.strip_prefix("label:") {
                    asset.labels.insert(key.to_string(), value);
                }
            }
        }
    }
    let rows = fetch_all(
        conn,
        format!(
            "SELECT t.asset_id, g.name, t.dynamic FROM asset_tags t JOIN tags g ON g.id = t.tag_id \
             WHERE t.asset_id IN ({list}) ORDER BY t.asset_id, g.name"
        ),
        &params,
    )
    .await?;
    for row in &rows {
        let asset = &mut assets[index[&row.try_get::<i64, _>("asset_id")?]];
        asset.tags.push(AssetTag { name: row.try_get("name")?, dynamic: flag(row, "dynamic")? });
    }
    Ok(())
}

/// Replaces the values of one attribute (`hostname`, `address`) or of every
/// label (`label:`) with `values`.
async fn replace_attribute(conn: &mut AnyConnection, id: i64, name: &str, values: &[(String, String)]) -> Result<()> {
    let pattern = if name.ends_with(':') { format!("{name}%") } else { name.to_string() };
    sqlx::query("DELETE FROM asset_attributes WHERE asset_id = $1 AND name LIKE $2")
        .bind(id)
        .bind(pattern)
        .execute(&mut *conn)
        .await?;
    for (name, value) in values {
        sqlx::query("INSERT INTO asset_attributes (asset_id, name, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(name)
            .bind(value)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Replaces the attributes `attrs` gives (host names, addresses, labels).
async fn set_attributes(conn: &mut AnyConnection, id: i64, attrs: &AssetAttributes) -> Result<()> {
    let named = |name: &str, values: &[String]| -> Vec<(String, String)> {
        values.iter().map(|v| (name.to_string(), v.clone())).collect()
    };
    if let Some(hostnames) = &attrs.hostnames {
        replace_attribute(conn, id, "hostname", &named("hostname", hostnames)).await?;
    }
    if let Some(addresses) = &attrs.addresses {
        replace_attribute(conn, id, "address", &named("address", addresses)).await?;
    }
    if let Some(labels) = &attrs.labels {
        let values: Vec<(String, String)> = labels.iter().map(|(k, v)| (format!("label:{k}"), v.clone())).collect();
        replace_attribute(conn, id, "label:", &values).await?;
    }
    Ok(())
}

/// Finds the asset `(team, kind, name)` or creates it, locking its row for
/// the rest of the transaction (so concurrent uploads of one asset take
/// turns), and applies `attrs`. Returns its id and whether it was created.
pub async fn upsert(
    conn: &mut AnyConnection,
    team: i64,
    kind: &str,
    name: &str,
    attrs: &AssetAttributes,
    now: i64,
) -> Result<(i64, bool)> {
    let created = sqlx::query(
        "INSERT INTO assets (team_id, name, kind, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (team_id, kind, name) DO NOTHING",
    )
    .bind(team)
    .bind(name)
    .bind(kind)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    // An update, even of nothing, takes the row lock on PostgreSQL.
    let row = sqlx::query(
        "UPDATE assets SET updated_at = updated_at WHERE team_id = $1 AND kind = $2 AND name = $3 RETURNING id",
    )
    .bind(team)
    .bind(kind)
    .bind(name)
    .fetch_one(&mut *conn)
    .await?;
    let id: i64 = row.try_get("id")?;
    update_attributes(conn, id, attrs, now).await?;
    Ok((id, created))
}

/// Applies the attributes given (`None` keeps each).
pub async fn update_attributes(conn: &mut AnyConnection, id: i64, attrs: &AssetAttributes, now: i64) -> Result<()> {
    let done = sqlx::query(
        "UPDATE assets SET os = COALESCE($2, os), os_release = COALESCE($3, os_release), arch = COALESCE($4, arch), \
         image_digest = COALESCE($5, image_digest), image_repository = COALESCE($6, image_repository), \
         owner = COALESCE($7, owner), updated_at = $8 WHERE id = $1",
    )
    .bind(id)
    .bind(attrs.os.as_deref())
    .bind(attrs.os_release.as_deref())
    .bind(attrs.arch.as_deref())
    .bind(attrs.image_digest.as_deref())
    .bind(attrs.image_repository.as_deref())
    .bind(attrs.owner.as_deref())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("asset {id}")));
    }
    set_attributes(conn, id, attrs).await
}

/// Creates an asset; it must not exist.
pub async fn create(
    conn: &mut AnyConnection,
    team: i64,
    kind: &str,
    name: &str,
    attrs: &AssetAttributes,
    now: i64,
) -> Result<Asset> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO assets (team_id, name, kind, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(team)
    .bind(name)
    .bind(kind)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match Error::from(e) {
        Error::Conflict(_) => Error::Conflict(format!("the team already has a {kind} asset named `{name}`")),
        other => other,
    })?;
    update_attributes(conn, id, attrs, now).await?;
    get(conn, id, &Scope::All).await
}

/// One asset, when the scope shows it.
pub async fn get(conn: &mut AnyConnection, id: i64, scope: &Scope) -> Result<Asset> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM assets a WHERE a.id = $1")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("asset {id}")))?;
    let asset = asset_row(&row)?;
    if !scope.allows(asset.team_id) {
        return Err(Error::NotFound(format!("asset {id}")));
    }
    let mut one = [asset];
    complete(conn, &mut one).await?;
    let [asset] = one;
    Ok(asset)
}

/// Moves an asset (and its findings) to another team.
pub async fn move_to_team(conn: &mut AnyConnection, id: i64, team: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE assets SET team_id = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(team)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE findings SET team_id = $2 WHERE asset_id = $1").bind(id).bind(team).execute(conn).await?;
    Ok(())
}

/// Deletes an asset with its scans and findings.
pub async fn delete(conn: &mut AnyConnection, id: i64) -> Result<()> {
    let done = sqlx::query("DELETE FROM assets WHERE id = $1").bind(id).execute(conn).await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("asset {id}")));
    }
    Ok(())
}

/// A search over assets.
fn search<'a>(filter: &'a Expr, scope: &'a Scope, sort: &'a [SortKey], now: i64) -> Search<'a> {
    Search {
        select: "SELECT a.* FROM assets a",
        id: "a.id",
        team: Some("a.team_id"),
        catalog: &ASSETS,
        filter,
        scope,
        sort,
        extra: None,
        now,
    }
}

/// A page of the assets matching `filter` within `scope`.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &Expr,
    scope: &Scope,
    sort: &[SortKey],
    page: &Page,
    now: i64,
) -> Result<Paged<Asset>> {
    let (rows, next) = search(filter, scope, sort, now).page(conn, page).await?;
    let mut items: Vec<Asset> = rows.iter().map(asset_row).collect::<Result<_>>()?;
    complete(conn, &mut items).await?;
    Ok(Paged { items, next })
}

/// How many assets match.
pub async fn count(conn: &mut AnyConnection, filter: &Expr, scope: &Scope, now: i64) -> Result<i64> {
    search(filter, scope, &[], now).count(conn).await
}

/// The ids of the assets matching `filter`, limited to `only` when given.
pub async fn matching_ids(conn: &mut AnyConnection, filter: &Expr, only: Option<i64>, now: i64) -> Result<Vec<i64>> {
    let compiled = vigil_query::compile(filter, &ASSETS, 2, now)?;
    let mut params = vec![Param::Int(only.unwrap_or(0))];
    params.extend(compiled.params);
    let sql = format!("SELECT a.id FROM assets a WHERE ($1 = 0 OR a.id = $1) AND {} ORDER BY a.id", compiled.condition);
    let rows = fetch_all(conn, sql, &params).await?;
    rows.iter().map(|r| Ok(r.try_get::<i64, _>("id")?)).collect()
}

fn tag_row(row: &AnyRow) -> Result<Tag> {
    Ok(Tag {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        rule: opt_text(row, "rule")?,
        description: opt_text(row, "description")?,
        assets: row.try_get("assets")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const TAG_SELECT: &str = "SELECT g.id, g.name, g.rule, g.description, g.created_at, g.updated_at, \
                          (SELECT COUNT(*) FROM asset_tags t WHERE t.tag_id = g.id) AS assets FROM tags g";

/// Every tag, by name.
pub async fn tags(conn: &mut AnyConnection) -> Result<Vec<Tag>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{TAG_SELECT} ORDER BY g.name"))).fetch_all(conn).await?;
    rows.iter().map(tag_row).collect()
}

/// The dynamic tags: `(id, rule)`.
pub async fn dynamic_tags(conn: &mut AnyConnection) -> Result<Vec<(i64, String)>> {
    let rows = sqlx::query("SELECT id, rule FROM tags WHERE rule IS NOT NULL ORDER BY id").fetch_all(conn).await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("rule")?))).collect()
}

/// One tag by id.
pub async fn tag(conn: &mut AnyConnection, id: i64) -> Result<Tag> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{TAG_SELECT} WHERE g.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("tag {id}")))?;
    tag_row(&row)
}

/// One tag by name.
pub async fn tag_by_name(conn: &mut AnyConnection, name: &str) -> Result<Option<Tag>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{TAG_SELECT} WHERE g.name = $1")))
        .bind(name)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(tag_row).transpose()
}

/// Creates a tag (dynamic when it has a rule).
pub async fn create_tag(
    conn: &mut AnyConnection,
    name: &str,
    rule: Option<&str>,
    description: Option<&str>,
    now: i64,
) -> Result<Tag> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tags (name, rule, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(name)
    .bind(rule)
    .bind(description)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match Error::from(e) {
        Error::Conflict(_) => Error::Conflict(format!("a tag named `{name}` exists")),
        other => other,
    })?;
    tag(conn, id).await
}

/// Changes a tag's name, rule or description; `rule: Some(None)` makes it static.
pub async fn update_tag(
    conn: &mut AnyConnection,
    id: i64,
    name: Option<&str>,
    rule: Option<Option<&str>>,
    description: Option<&str>,
    now: i64,
) -> Result<Tag> {
    let done = sqlx::query(
        "UPDATE tags SET name = COALESCE($2, name), rule = CASE WHEN $3 = 1 THEN $4 ELSE rule END, \
         description = COALESCE($5, description), updated_at = $6 WHERE id = $1",
    )
    .bind(id)
    .bind(name)
    .bind(i64::from(rule.is_some()))
    .bind(rule.flatten())
    .bind(description)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("tag {id}")));
    }
    if rule == Some(None) {
        // A tag that became static keeps no rule-made memberships.
        sqlx::query("DELETE FROM asset_tags WHERE tag_id = $1 AND dynamic = 1").bind(id).execute(&mut *conn).await?;
    }
    tag(conn, id).await
}

/// Deletes a tag.
pub async fn delete_tag(conn: &mut AnyConnection, id: i64) -> Result<()> {
    let done = sqlx::query("DELETE FROM tags WHERE id = $1").bind(id).execute(conn).await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("tag {id}")));
    }
    Ok(())
}

/// Puts a static tag on assets.
pub async fn add_tag(conn: &mut AnyConnection, tag: i64, assets: &[i64]) -> Result<()> {
    for asset in assets {
        sqlx::query("INSERT INTO asset_tags (asset_id, tag_id, dynamic) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING")
            .bind(asset)
            .bind(tag)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Takes a static tag off an asset.
pub async fn remove_tag(conn: &mut AnyConnection, tag: i64, asset: i64) -> Result<bool> {
    let done = sqlx::query("DELETE FROM asset_tags WHERE asset_id = $1 AND tag_id = $2")
        .bind(asset)
        .bind(tag)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Makes a dynamic tag's members exactly `members` (within `only`, one
/// asset, when given). Returns `(added, removed)`.
pub async fn set_dynamic_members(
    conn: &mut AnyConnection,
    tag: i64,
    members: &[i64],
    only: Option<i64>,
) -> Result<(u64, u64)> {
    let mut params = vec![Param::Int(tag), Param::Int(only.unwrap_or(0))];
    let keep = id_list(members, &mut params);
    let removed = execute(
        conn,
        format!(
            "DELETE FROM asset_tags WHERE tag_id = $1 AND dynamic = 1 AND ($2 = 0 OR asset_id = $2) AND asset_id NOT IN ({keep})"
        ),
        &params,
    )
    .await?;
    let mut added = 0;
    for asset in members {
        added +=
            sqlx::query("INSERT INTO asset_tags (asset_id, tag_id, dynamic) VALUES ($1, $2, 1) ON CONFLICT DO NOTHING")
                .bind(asset)
                .bind(tag)
                .execute(&mut *conn)
                .await?
                .rows_affected();
    }
    Ok((added, removed))
}
