//! Tags: static ones set by hand (or on upload), and dynamic ones whose
//! rule (a query over assets) decides which assets carry them. A dynamic
//! tag is re-evaluated for an asset whenever the asset or its findings
//! change (uploads, edits, re-matches), and for every asset when its rule
//! changes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigil_store::model::Tag;
use vigil_store::{Tx, assets};

use crate::auth::Permission;
use crate::{Actor, Error, Platform, Result, json};

/// A tag to create or change.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct TagRequest {
    /// Its name.
    pub name: Option<String>,
    /// A query over assets; a tag with a rule is dynamic. An empty rule
    /// makes a dynamic tag static.
    pub rule: Option<String>,
    /// What it means.
    pub description: Option<String>,
}

fn check_rule(rule: &str, now: i64) -> Result<()> {
    let expr = vigil_query::parse(rule)?;
    vigil_query::compile(&expr, &vigil_store::catalogs::ASSETS, 1, now)?;
    Ok(())
}

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(Error::Invalid("name: 1 to 200 printable characters".into()));
    }
    Ok(())
}

/// Re-evaluates one dynamic tag over every asset (or one).
async fn evaluate(tx: &mut Tx, tag: i64, rule: &str, only: Option<i64>, now: i64) -> Result<()> {
    let expr = vigil_query::parse(rule)?;
    let members = assets::matching_ids(tx, &expr, only, now).await?;
    assets::set_dynamic_members(tx, tag, &members, only).await?;
    Ok(())
}

/// Re-evaluates every dynamic tag for one asset, then the SLA due dates
/// of its findings (which follow its tags and its findings' severities).
/// Called wherever an asset or its findings change.
pub async fn evaluate_asset(tx: &mut Tx, asset: i64, now: i64) -> Result<()> {
    for (tag, rule) in assets::dynamic_tags(tx).await? {
        evaluate(tx, tag, &rule, Some(asset), now).await?;
    }
    crate::sla::refresh_asset(tx, asset).await?;
    Ok(())
}

/// The assets a rule would tag now, without saving anything (a preview).
pub async fn preview(platform: &Platform, actor: &Actor, rule: &str) -> Result<Vec<i64>> {
    actor.require(Permission::Read)?;
    let now = platform.now();
    check_rule(rule, now)?;
    let mut conn = platform.store.read().await?;
    let mut ids = Vec::new();
    for id in assets::matching_ids(&mut conn, &vigil_query::parse(rule)?, None, now).await? {
        if assets::get(&mut conn, id, &actor.scope).await.is_ok() {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Creates a tag.
pub async fn create(platform: &Platform, actor: &Actor, request: &TagRequest) -> Result<Tag> {
    actor.require(Permission::EditTags)?;
    let now = platform.now();
    let name = request.name.as_deref().ok_or_else(|| Error::Invalid("name: required".into()))?;
    check_name(name)?;
    let rule = request.rule.as_deref().filter(|r| !r.trim().is_empty());
    if let Some(rule) = rule {
        check_rule(rule, now)?;
    }
    let mut tx = platform.store.write().await?;
    let created = assets::create_tag(&mut tx, name, rule, request.description.as_deref(), now).await?;
    if let Some(rule) = rule {
        evaluate(&mut tx, created.id, rule, None, now).await?;
        crate::sla::tags_changed(&mut tx, &[name]).await?;
    }
    let tag = assets::tag(&mut tx, created.id).await?;
    actor.audit(&mut tx, now, "tag.create", ("tag", Some(tag.id.to_string())), None, (None, json(&tag))).await?;
    tx.commit().await?;
    Ok(tag)
}

/// Changes a tag (a changed rule is evaluated over every asset).
pub async fn update(platform: &Platform, actor: &Actor, id: i64, request: &TagRequest) -> Result<Tag> {
    actor.require(Permission::EditTags)?;
    let now = platform.now();
    if let Some(name) = &request.name {
        check_name(name)?;
    }
    let rule: Option<Option<&str>> = request.rule.as_deref().map(|r| Some(r).filter(|r| !r.trim().is_empty()));
    if let Some(Some(rule)) = rule {
        check_rule(rule, now)?;
    }
    let mut tx = platform.store.write().await?;
    let before = assets::tag(&mut tx, id).await?;
    assets::update_tag(&mut tx, id, request.name.as_deref(), rule, request.description.as_deref(), now).await?;
    if let Some(Some(rule)) = rule {
        evaluate(&mut tx, id, rule, None, now).await?;
    }
    let after = assets::tag(&mut tx, id).await?;
    crate::sla::tags_changed(&mut tx, &[&before.name, &after.name]).await?;
    actor.audit(&mut tx, now, "tag.update", ("tag", Some(id.to_string())), None, (json(&before), json(&after))).await?;
    tx.commit().await?;
    Ok(after)
}

/// Deletes a tag.
pub async fn delete(platform: &Platform, actor: &Actor, id: i64) -> Result<()> {
    actor.require(Permission::EditTags)?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let before = assets::tag(&mut tx, id).await?;
    assets::delete_tag(&mut tx, id).await?;
    crate::sla::tags_changed(&mut tx, &[&before.name]).await?;
    actor.audit(&mut tx, now, "tag.delete", ("tag", Some(id.to_string())), None, (json(&before), None)).await?;
    tx.commit().await?;
    Ok(())
}

/// Puts a static tag on (or takes it off) assets of the actor's teams.
pub async fn set_on_assets(
    platform: &Platform,
    actor: &Actor,
    tag_name: &str,
    asset_ids: &[i64],
    on: bool,
) -> Result<Tag> {
    actor.require(Permission::EditAssets)?;
    if asset_ids.is_empty() || asset_ids.len() > 10_000 {
        return Err(Error::Invalid("assets: give 1 to 10,000 asset ids".into()));
    }
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let tag = match assets::tag_by_name(&mut tx, tag_name).await? {
        Some(tag) => tag,
        None if on => {
            actor.require(Permission::EditTags)?;
            check_name(tag_name)?;
            assets::create_tag(&mut tx, tag_name, None, None, now).await?
        }
        None => return Err(Error::NotFound(format!("tag `{tag_name}` not found"))),
    };
    if tag.rule.is_some() {
        return Err(Error::Conflict(format!("`{tag_name}` is a dynamic tag: its rule decides which assets carry it")));
    }
    for id in asset_ids {
        let asset = assets::get(&mut tx, *id, &actor.scope).await?;
        if on {
            assets::add_tag(&mut tx, tag.id, &[*id]).await?;
        } else {
            assets::remove_tag(&mut tx, tag.id, *id).await?;
        }
        let action = if on { "asset.tag" } else { "asset.untag" };
        let change = serde_json::json!({ "tag": tag_name });
        actor
            .audit(&mut tx, now, action, ("asset", Some(id.to_string())), Some(asset.team_id), (None, Some(change)))
            .await?;
        evaluate_asset(&mut tx, *id, now).await?;
    }
    let tag = assets::tag(&mut tx, tag.id).await?;
    tx.commit().await?;
    Ok(tag)
}
