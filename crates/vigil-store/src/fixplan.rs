//! What fix plans read: the assets a query matches with their stored
//! inventories, and the package findings triage took out of an asset's plan.

use sqlx::{AnyConnection, Row};
use vigil_query::{Expr, Param};

use crate::Result;
use crate::Scope;
use crate::catalogs::ASSETS;
use crate::sql::{fetch_all, scope_condition};

/// An asset with a stored inventory, as a fleet-wide plan reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanAsset {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The digest of its current inventory.
    pub inventory: String,
}

/// The assets matching `filter` within `scope` that have a stored inventory, by id.
pub async fn assets(conn: &mut AnyConnection, filter: &Expr, scope: &Scope, now: i64) -> Result<Vec<PlanAsset>> {
    let compiled = vigil_query::compile(filter, &ASSETS, 1, now)?;
    let mut params: Vec<Param> = compiled.params;
    let teams = scope_condition(scope, "a.team_id", &mut params);
    let sql = format!(
        "SELECT a.id, a.name, a.inventory FROM assets a WHERE a.inventory IS NOT NULL AND ({}) AND {teams} \
         ORDER BY a.id",
        compiled.condition
    );
    let rows = fetch_all(conn, sql, &params).await?;
    rows.iter()
        .map(|r| Ok(PlanAsset { id: r.try_get("id")?, name: r.try_get("name")?, inventory: r.try_get("inventory")? }))
        .collect()
}

/// The identities of the asset's package findings that triage took out of
/// its plan: false positives, not affected, and risks accepted until a
/// moment after `now` (or for good).
pub async fn triaged(conn: &mut AnyConnection, asset: i64, now: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT identity FROM findings WHERE asset_id = $1 AND source = 'package' \
         AND (triage IN ('false_positive', 'not_affected') \
              OR (triage = 'risk_accepted' AND (triage_until IS NULL OR triage_until > $2))) ORDER BY identity",
    )
    .bind(asset)
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("identity")?)).collect()
}
