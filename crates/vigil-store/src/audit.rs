//! The audit trail: who changed what, when, from where, with the state
//! before and after. Append-only (the schema refuses updates and deletes).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vigil_query::{Expr, SortKey};

use crate::catalogs::AUDIT;
use crate::model::AuditEntry;
use crate::sql::{Page, Paged, Search, opt_text};
use crate::{Result, Scope};

/// An entry to append.
#[derive(Debug, Clone, Default)]
pub struct NewEntry {
    /// Who (a user name, or `system`).
    pub actor: String,
    /// The user's id.
    pub actor_id: Option<i64>,
    /// What was done (`asset.update`).
    pub action: String,
    /// The kind of thing changed (`asset`).
    pub target_type: String,
    /// Which one.
    pub target_id: Option<String>,
    /// Its team.
    pub team_id: Option<i64>,
    /// The state before.
    pub before: Option<serde_json::Value>,
    /// The state after.
    pub after: Option<serde_json::Value>,
    /// The client's address.
    pub address: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

/// Appends an entry.
pub async fn append(conn: &mut AnyConnection, e: &NewEntry, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (at, actor, actor_id, action, target_type, target_id, team_id, before_state, after_state, \
         address, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(now)
    .bind(&e.actor)
    .bind(e.actor_id)
    .bind(&e.action)
    .bind(&e.target_type)
    .bind(e.target_id.as_deref())
    .bind(e.team_id)
    .bind(e.before.as_ref().map(|v| v.to_string()))
    .bind(e.after.as_ref().map(|v| v.to_string()))
    .bind(e.address.as_deref())
    .bind(e.request_id.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

fn entry_row(r: &AnyRow) -> Result<AuditEntry> {
    let json = |column: &str| -> Result<Option<serde_json::Value>> {
        Ok(opt_text(r, column)?.and_then(|t| serde_json::from_str(&t).ok()))
    };
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        actor_id: r.try_get("actor_id")?,
        action: r.try_get("action")?,
        target_type: r.try_get("target_type")?,
        target_id: opt_text(r, "target_id")?,
        team_id: r.try_get("team_id")?,
        before: json("before_state")?,
        after: json("after_state")?,
        address: opt_text(r, "address")?,
        request_id: opt_text(r, "request_id")?,
    })
}

/// A page of the entries matching `filter`. Entries without a team (users,
/// teams, tokens, settings) are visible to administrators only.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &Expr,
    scope: &Scope,
    sort: &[SortKey],
    page: &Page,
    now: i64,
) -> Result<Paged<AuditEntry>> {
    let search = Search {
        select: "SELECT au.* FROM audit au",
        id: "au.id",
        team: Some("au.team_id"),
        catalog: &AUDIT,
        filter,
        scope,
        sort,
        extra: None,
        now,
    };
    let (rows, next) = search.page(conn, page).await?;
    Ok(Paged { items: rows.iter().map(entry_row).collect::<Result<_>>()?, next })
}
