//! Changes to accounts and assets made through the API: users, teams,
//! tokens, and assets created or edited by hand. Each is checked against
//! the actor's role and teams and audited with its before and after.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigil_store::accounts::{self, NewToken};
use vigil_store::model::{ASSET_KINDS, Asset, AssetAttributes, Role, Team, Token, User};
use vigil_store::{Scope, assets};

use crate::auth::{self, Permission};
use crate::{Actor, Error, Platform, Result, json};

/// A user to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewUser {
    /// Sign-in name.
    pub username: String,
    /// Password (at least 12 characters); none for service accounts, which use tokens.
    #[serde(default)]
    pub password: Option<String>,
    /// Role.
    pub role: Role,
    /// Teams, by name.
    #[serde(default)]
    pub teams: Vec<String>,
}

/// Changes to a user; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UserChange {
    /// New role.
    pub role: Option<Role>,
    /// Disable (or enable) it.
    pub disabled: Option<bool>,
    /// New password.
    pub password: Option<String>,
}

/// A token to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewTokenRequest {
    /// What it is for.
    pub name: String,
    /// Its role (at most its user's); the user's own role when absent.
    #[serde(default)]
    pub role: Option<Role>,
    /// Days until it expires (1 to 3650); never when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<i64>,
    /// The user it acts as (administrators only; yourself when absent).
    #[serde(default)]
    pub user_id: Option<i64>,
}

/// A created token: the secret is shown here once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token to use as `Authorization: Bearer ...`. It is not stored and cannot be shown again.
    pub token: String,
    /// What is stored about it.
    pub record: Token,
}

/// An asset created or changed by hand.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AssetRequest {
    /// Name (creation only).
    pub name: Option<String>,
    /// Kind (creation only).
    pub kind: Option<String>,
    /// Team, by name: on creation, the owner; on change, moves the asset.
    pub team: Option<String>,
    /// Attributes.
    #[serde(default, flatten)]
    pub attributes: AssetAttributes,
}

async fn team_named(tx: &mut vigil_store::Tx, name: &str) -> Result<Team> {
    accounts::team_by_name(tx, name).await?.ok_or_else(|| Error::Invalid(format!("no team named `{name}`")))
}

fn check_username(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok { Ok(()) } else { Err(Error::Invalid("username: 1 to 64 of a-z, A-Z, 0-9, '.', '_', '-', '@'".into())) }
}

async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
}

/// Creates a user.
pub async fn create_user(platform: &Platform, actor: &Actor, new: &NewUser) -> Result<User> {
    actor.require(Permission::Administer)?;
    check_username(&new.username)?;
    let password = match &new.password {
        Some(p) => Some(hash(p.clone()).await?),
        None => None,
    };
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let user = accounts::create_user(&mut tx, &new.username, password.as_deref(), new.role, now).await?;
    for name in &new.teams {
        let team = team_named(&mut tx, name).await?;
        accounts::add_member(&mut tx, team.id, user.id).await?;
    }
    let user = accounts::user(&mut tx, user.id).await?;
    actor.audit(&mut tx, now, "user.create", ("user", Some(user.id.to_string())), None, (None, json(&user))).await?;
    tx.commit().await?;
    Ok(user)
}

/// Changes a user.
pub async fn update_user(platform: &Platform, actor: &Actor, id: i64, change: &UserChange) -> Result<User> {
    actor.require(Permission::Administer)?;
    let password = match &change.password {
        Some(p) => Some(hash(p.clone()).await?),
        None => None,
    };
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let before = accounts::user(&mut tx, id).await?;
    let after = accounts::update_user(&mut tx, id, change.role, change.disabled, password.as_deref()).await?;
    actor
        .audit(&mut tx, now, "user.update", ("user", Some(id.to_string())), None, (json(&before), json(&after)))
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// Creates a team.
pub async fn create_team(platform: &Platform, actor: &Actor, name: &str) -> Result<Team> {
    actor.require(Permission::Administer)?;
    if name.trim().is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(Error::Invalid("name: 1 to 100 printable characters".into()));
    }
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let team = accounts::create_team(&mut tx, name, now).await?;
    actor
        .audit(&mut tx, now, "team.create", ("team", Some(team.id.to_string())), Some(team.id), (None, json(&team)))
        .await?;
    tx.commit().await?;
    Ok(team)
}

/// Deletes a team that owns no assets.
pub async fn delete_team(platform: &Platform, actor: &Actor, id: i64) -> Result<()> {
    actor.require(Permission::Administer)?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let team = accounts::team_by_id(&mut tx, id).await?;
    accounts::delete_team(&mut tx, id).await?;
    actor.audit(&mut tx, now, "team.delete", ("team", Some(id.to_string())), None, (json(&team), None)).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds (or removes) a user to a team.
pub async fn membership(platform: &Platform, actor: &Actor, team: i64, user: i64, member: bool) -> Result<User> {
    actor.require(Permission::Administer)?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    accounts::team_by_id(&mut tx, team).await?;
    let before = accounts::user(&mut tx, user).await?;
    if member {
        accounts::add_member(&mut tx, team, user).await?;
    } else {
        accounts::remove_member(&mut tx, team, user).await?;
    }
    let after = accounts::user(&mut tx, user).await?;
    let action = if member { "team.member.add" } else { "team.member.remove" };
    actor
        .audit(&mut tx, now, action, ("user", Some(user.to_string())), Some(team), (json(&before), json(&after)))
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// Creates an API token for the actor (or, for administrators, any user).
pub async fn create_token(platform: &Platform, actor: &Actor, request: &NewTokenRequest) -> Result<CreatedToken> {
    actor.require(Permission::OwnTokens).or_else(|_| actor.require(Permission::Administer))?;
    if request.name.trim().is_empty() || request.name.len() > 200 {
        return Err(Error::Invalid("name: 1 to 200 characters".into()));
    }
    if request.expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(Error::Invalid("expires_in_days: 1 to 3650".into()));
    }
    let user_id = match (request.user_id, actor.user_id) {
        (Some(other), Some(me)) if other != me => {
            actor.require(Permission::Administer)?;
            other
        }
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => return Err(Error::Invalid("user_id: required".into())),
    };
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let user = accounts::user(&mut tx, user_id).await?;
    let role = request.role.unwrap_or(user.role);
    if !auth::may_grant(user.role, role) {
        return Err(Error::Forbidden(format!(
            "a {} token cannot be made for user {}, whose role is {}",
            role.as_str(),
            user.username,
            user.role.as_str()
        )));
    }
    if !auth::may_grant(actor.role, role) {
        return Err(Error::Forbidden(format!(
            "you cannot create a token stronger than your own ({})",
            actor.role.as_str()
        )));
    }
    let (token, prefix, secret_hash) = auth::new_token()?;
    let record = accounts::create_token(
        &mut tx,
        &NewToken {
            user_id,
            name: &request.name,
            kind: "api",
            prefix: &prefix,
            secret_hash: &secret_hash,
            role,
            expires_at: request.expires_in_days.map(|d| now + d * 86_400),
        },
        now,
    )
    .await?;
    actor
        .audit(&mut tx, now, "token.create", ("token", Some(record.id.to_string())), None, (None, json(&record)))
        .await?;
    tx.commit().await?;
    Ok(CreatedToken { token, record })
}

/// The actor's tokens (every token, for administrators).
pub async fn tokens(platform: &Platform, actor: &Actor) -> Result<Vec<Token>> {
    actor.require(Permission::OwnTokens).or_else(|_| actor.require(Permission::Administer))?;
    let mut conn = platform.store.read().await?;
    let user = if actor.role == Role::Admin { None } else { actor.user_id };
    Ok(accounts::tokens(&mut conn, user).await?)
}

/// Revokes a token of the actor's own (any, for administrators).
pub async fn revoke_token(platform: &Platform, actor: &Actor, id: i64) -> Result<Token> {
    actor.require(Permission::OwnTokens).or_else(|_| actor.require(Permission::Administer))?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let before = accounts::token_by_id(&mut tx, id).await?;
    if Some(before.user_id) != actor.user_id {
        actor.require(Permission::Administer).map_err(|_| Error::NotFound(format!("token {id} not found")))?;
    }
    let after = accounts::revoke_token(&mut tx, id, now).await?;
    actor
        .audit(&mut tx, now, "token.revoke", ("token", Some(id.to_string())), None, (json(&before), json(&after)))
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// Creates an asset by hand.
pub async fn create_asset(platform: &Platform, actor: &Actor, request: &AssetRequest) -> Result<Asset> {
    actor.require(Permission::EditAssets)?;
    let name = request
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| Error::Invalid("name: required".into()))?;
    let kind =
        request.kind.as_deref().ok_or_else(|| Error::Invalid(format!("kind: one of {}", ASSET_KINDS.join(", "))))?;
    if !ASSET_KINDS.contains(&kind) {
        return Err(Error::Invalid(format!("kind: `{kind}` is not one of {}", ASSET_KINDS.join(", "))));
    }
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let team = match (&request.team, &actor.scope) {
        (Some(name), _) => team_named(&mut tx, name).await?.id,
        (None, Scope::Teams(teams)) if teams.len() == 1 => teams[0],
        _ => return Err(Error::Invalid("team: name the team that owns the asset".into())),
    };
    actor.require_team(team)?;
    let asset = assets::create(&mut tx, team, kind, name, &request.attributes, now).await?;
    crate::tags::evaluate_asset(&mut tx, asset.id, now).await?;
    let asset = assets::get(&mut tx, asset.id, &Scope::All).await?;
    actor
        .audit(&mut tx, now, "asset.create", ("asset", Some(asset.id.to_string())), Some(team), (None, json(&asset)))
        .await?;
    tx.commit().await?;
    Ok(asset)
}

/// Changes an asset's attributes, or moves it to another team.
pub async fn update_asset(platform: &Platform, actor: &Actor, id: i64, request: &AssetRequest) -> Result<Asset> {
    actor.require(Permission::EditAssets)?;
    if request.name.is_some() || request.kind.is_some() {
        return Err(Error::Invalid("name and kind cannot change; create another asset".into()));
    }
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let before = assets::get(&mut tx, id, &actor.scope).await?;
    assets::update_attributes(&mut tx, id, &request.attributes, now).await?;
    if let Some(name) = &request.team {
        let team = team_named(&mut tx, name).await?;
        actor.require_team(team.id)?;
        assets::move_to_team(&mut tx, id, team.id, now).await?;
    }
    crate::tags::evaluate_asset(&mut tx, id, now).await?;
    let after = assets::get(&mut tx, id, &Scope::All).await?;
    actor
        .audit(
            &mut tx,
            now,
            "asset.update",
            ("asset", Some(id.to_string())),
            Some(after.team_id),
            (json(&before), json(&after)),
        )
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// Deletes an asset with its scans and findings.
pub async fn delete_asset(platform: &Platform, actor: &Actor, id: i64) -> Result<()> {
    actor.require(Permission::EditAssets)?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let before = assets::get(&mut tx, id, &actor.scope).await?;
    let held = crate::tickets::before_asset_delete(&mut tx, id).await?;
    assets::delete(&mut tx, id).await?;
    crate::tickets::after_asset_deleted(&mut tx, held, &before.name, now).await?;
    actor
        .audit(
            &mut tx,
            now,
            "asset.delete",
            ("asset", Some(id.to_string())),
            Some(before.team_id),
            (json(&before), None),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
