//! The SLA policy's rows and the due dates they give findings. The
//! platform decides how many days apply (`vigil_platform::sla`); these
//! functions store the policy and write findings' `sla_due_at` in bulk,
//! touching only the rows whose due date changes.

use sqlx::{AnyConnection, Row};
use vigil_query::Param;

use crate::Result;
use crate::sql::{execute, id_list};

/// One row of the policy: a tag (`""` for the default), a severity rank
/// and its days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    /// `""` for the default policy, or the tag the days apply to.
    pub tag: String,
    /// The severity rank (index into [`crate::model::SEVERITIES`]).
    pub severity: i64,
    /// Days to remediate.
    pub days: i64,
}

/// Every policy row, default first, then by tag and severity.
pub async fn policy(conn: &mut AnyConnection) -> Result<Vec<PolicyRow>> {
    let rows = sqlx::query("SELECT tag, severity, days FROM sla_policy ORDER BY tag, severity").fetch_all(conn).await?;
    rows.iter()
        .map(|r| Ok(PolicyRow { tag: r.try_get("tag")?, severity: r.try_get("severity")?, days: r.try_get("days")? }))
        .collect()
}

/// Replaces the whole policy.
pub async fn replace_policy(conn: &mut AnyConnection, rows: &[PolicyRow]) -> Result<()> {
    sqlx::query("DELETE FROM sla_policy").execute(&mut *conn).await?;
    for row in rows {
        sqlx::query("INSERT INTO sla_policy (tag, severity, days) VALUES ($1, $2, $3)")
            .bind(&row.tag)
            .bind(row.severity)
            .bind(row.days)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The assets (all, or one) carrying a tag the policy overrides, with
/// those tags: `(asset id, tag name)`, by asset.
pub async fn override_tags(conn: &mut AnyConnection, asset: Option<i64>) -> Result<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT qt.asset_id, qg.name FROM asset_tags qt JOIN tags qg ON qg.id = qt.tag_id \
         WHERE qg.name IN (SELECT tag FROM sla_policy WHERE tag <> '') AND ($1 = 0 OR qt.asset_id = $1) \
         ORDER BY qt.asset_id, qg.name",
    )
    .bind(asset.unwrap_or(0))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("asset_id")?, r.try_get("name")?))).collect()
}

/// Which findings a due-date update covers.
#[derive(Debug, Clone, Copy)]
pub enum Assets<'a> {
    /// The findings of the assets that carry no overridden tag.
    WithoutOverrides,
    /// The findings of these assets.
    Only(&'a [i64]),
}

/// Sets `sla_due_at = first_seen + seconds` for the findings of `assets`,
/// `seconds` chosen by severity from `days` (`(severity rank, days)`; a
/// severity not listed gets no due date). Returns how many rows changed.
pub async fn set_due(conn: &mut AnyConnection, days: &[(i64, i64)], assets: Assets<'_>) -> Result<u64> {
    let mut params = Vec::new();
    let due = if days.is_empty() {
        "NULL".to_string()
    } else {
        let arms: String = days
            .iter()
            .map(|(severity, days)| {
                params.push(Param::Int(*severity));
                params.push(Param::Int(days.saturating_mul(86_400)));
                format!(" WHEN ${} THEN first_seen + ${}", params.len() - 1, params.len())
            })
            .collect();
        format!("(CASE severity{arms} END)")
    };
    let condition = match assets {
        Assets::WithoutOverrides => "asset_id NOT IN (SELECT qt.asset_id FROM asset_tags qt JOIN tags qg ON \
                                     qg.id = qt.tag_id WHERE qg.name IN (SELECT tag FROM sla_policy WHERE tag <> ''))"
            .to_string(),
        Assets::Only([]) => return Ok(0),
        Assets::Only(ids) => format!("asset_id IN ({})", id_list(ids, &mut params)),
    };
    execute(
        conn,
        format!(
            "UPDATE findings SET sla_due_at = {due} WHERE {condition} AND COALESCE(sla_due_at, -1) <> COALESCE({due}, -1)"
        ),
        &params,
    )
    .await
}
