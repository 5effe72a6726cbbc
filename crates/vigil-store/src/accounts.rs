//! Teams, users and API tokens. Passwords and token secrets arrive here
//! already hashed; this module never sees them in clear.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::model::{Role, Team, Token, TokenGrant, User};
use crate::sql::{flag, opt_text};
use crate::{Error, Result, Scope};

fn role(row: &AnyRow, column: &str) -> Result<Role> {
    let name: String = row.try_get(column)?;
    Role::parse(&name).ok_or_else(|| Error::Corrupt(format!("unknown role `{name}`")))
}

fn team(row: &AnyRow) -> Result<Team> {
    Ok(Team { id: row.try_get("id")?, name: row.try_get("name")?, created_at: row.try_get("created_at")? })
}

/// Creates a team.
pub async fn create_team(conn: &mut AnyConnection, name: &str, now: i64) -> Result<Team> {
    let row = sqlx::query("INSERT INTO teams (name, created_at) VALUES ($1, $2) RETURNING id, name, created_at")
        .bind(name)
        .bind(now)
        .fetch_one(conn)
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => Error::Conflict(format!("a team named `{name}` exists")),
            other => other,
        })?;
    team(&row)
}

/// The teams visible in `scope`, by name.
pub async fn teams(conn: &mut AnyConnection, scope: &Scope) -> Result<Vec<Team>> {
    let rows = sqlx::query("SELECT id, name, created_at FROM teams ORDER BY name").fetch_all(conn).await?;
    rows.iter().map(team).filter(|t| t.as_ref().map_or(true, |t| scope.allows(t.id))).collect()
}

/// One team by name.
pub async fn team_by_name(conn: &mut AnyConnection, name: &str) -> Result<Option<Team>> {
    let row =
        sqlx::query("SELECT id, name, created_at FROM teams WHERE name = $1").bind(name).fetch_optional(conn).await?;
    row.as_ref().map(team).transpose()
}

/// One team by id.
pub async fn team_by_id(conn: &mut AnyConnection, id: i64) -> Result<Team> {
    let row = sqlx::query("SELECT id, name, created_at FROM teams WHERE id = $1").bind(id).fetch_optional(conn).await?;
    row.as_ref().map(team).transpose()?.ok_or_else(|| Error::NotFound(format!("team {id}")))
}

/// Deletes a team that owns no assets.
pub async fn delete_team(conn: &mut AnyConnection, id: i64) -> Result<()> {
    let assets: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM assets WHERE team_id = $1").bind(id).fetch_one(&mut *conn).await?;
    if assets > 0 {
        return Err(Error::Conflict(format!("team {id} owns {assets} assets; move or delete them first")));
    }
    let done = sqlx::query("DELETE FROM teams WHERE id = $1").bind(id).execute(conn).await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("team {id}")));
    }
    Ok(())
}

/// Adds a user to a team (nothing happens when it is a member already).
pub async fn add_member(conn: &mut AnyConnection, team: i64, user: i64) -> Result<()> {
    sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(team)
        .bind(user)
        .execute(conn)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                Error::NotFound(format!("team {team} or user {user}: {}", db.message()))
            }
            other => other.into(),
        })?;
    Ok(())
}

/// Removes a user from a team.
pub async fn remove_member(conn: &mut AnyConnection, team: i64, user: i64) -> Result<()> {
    let done = sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
        .bind(team)
        .bind(user)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("user {user} in team {team}")));
    }
    Ok(())
}

async fn user_teams(conn: &mut AnyConnection, user: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id")
        .bind(user)
        .fetch_all(conn)
        .await?)
}

const USER_COLUMNS: &str =
    "id, username, role, disabled, CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END AS has_password, created_at";

async fn user_from(conn: &mut AnyConnection, row: &AnyRow) -> Result<User> {
    let id: i64 = row.try_get("id")?;
    Ok(User {
        id,
        username: row.try_get("username")?,
        role: role(row, "role")?,
        disabled: flag(row, "disabled")?,
        has_password: flag(row, "has_password")?,
        created_at: row.try_get("created_at")?,
        teams: user_teams(conn, id).await?,
    })
}

/// Creates a user.
pub async fn create_user(
    conn: &mut AnyConnection,
    username: &str,
    password_hash: Option<&str>,
    role: Role,
    now: i64,
) -> Result<User> {
    let row = sqlx::query(
        "INSERT INTO users (username, password_hash, role, disabled, created_at) VALUES ($1, $2, $3, 0, $4) \
         RETURNING id, username, role, disabled, CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END AS has_password, created_at",
    )
    .bind(username)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match Error::from(e) {
        Error::Conflict(_) => Error::Conflict(format!("a user named `{username}` exists")),
        other => other,
    })?;
    user_from(conn, &row).await
}

/// Every user, by name.
pub async fn users(conn: &mut AnyConnection) -> Result<Vec<User>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users ORDER BY username")))
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(user_from(conn, row).await?);
    }
    Ok(out)
}

/// One user.
pub async fn user(conn: &mut AnyConnection, id: i64) -> Result<User> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {id}")))?;
    user_from(conn, &row).await
}

/// How many users exist.
pub async fn count_users(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(conn).await?)
}

/// Changes a user's role, disabled flag or password hash (`None` keeps each).
pub async fn update_user(
    conn: &mut AnyConnection,
    id: i64,
    role: Option<Role>,
    disabled: Option<bool>,
    password_hash: Option<&str>,
) -> Result<User> {
    let done = sqlx::query(
        "UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled), \
         password_hash = COALESCE($4, password_hash) WHERE id = $1",
    )
    .bind(id)
    .bind(role.map(Role::as_str))
    .bind(disabled.map(i64::from))
    .bind(password_hash)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("user {id}")));
    }
    user(conn, id).await
}

/// A user's id, password hash and disabled flag, for signing in.
pub async fn credentials(conn: &mut AnyConnection, username: &str) -> Result<Option<(i64, Option<String>, bool)>> {
    let row = sqlx::query("SELECT id, password_hash, disabled FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(conn)
        .await?;
    row.map(|r| Ok((r.try_get("id")?, opt_text(&r, "password_hash")?, flag(&r, "disabled")?))).transpose()
}

const TOKEN_COLUMNS: &str = "id, user_id, name, kind, prefix, role, created_at, expires_at, revoked_at, last_used_at";

fn token(row: &AnyRow) -> Result<Token> {
    Ok(Token {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        prefix: row.try_get("prefix")?,
        role: role(row, "role")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

/// A new token to store.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    /// The user it acts as.
    pub user_id: i64,
    /// What it is for.
    pub name: &'a str,
    /// `api` or `session`.
    pub kind: &'a str,
    /// Its public prefix.
    pub prefix: &'a str,
    /// The hash of its secret.
    pub secret_hash: &'a str,
    /// Its role.
    pub role: Role,
    /// Expiry.
    pub expires_at: Option<i64>,
}

/// Stores a token.
pub async fn create_token(conn: &mut AnyConnection, new: &NewToken<'_>, now: i64) -> Result<Token> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO tokens (user_id, name, kind, prefix, secret_hash, role, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {TOKEN_COLUMNS}"
    )))
    .bind(new.user_id)
    .bind(new.name)
    .bind(new.kind)
    .bind(new.prefix)
    .bind(new.secret_hash)
    .bind(new.role.as_str())
    .bind(now)
    .bind(new.expires_at)
    .fetch_one(conn)
    .await?;
    token(&row)
}

/// Tokens, of one user or of everyone, newest first.
pub async fn tokens(conn: &mut AnyConnection, user: Option<i64>) -> Result<Vec<Token>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens WHERE ($1 IS NULL OR user_id = $1) ORDER BY id DESC"
    )))
    .bind(user)
    .fetch_all(conn)
    .await?;
    rows.iter().map(token).collect()
}

/// One token.
pub async fn token_by_id(conn: &mut AnyConnection, id: i64) -> Result<Token> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("token {id}")))?;
    token(&row)
}

/// What a token with this prefix grants, for authentication.
pub async fn grant(conn: &mut AnyConnection, prefix: &str) -> Result<Option<TokenGrant>> {
    let Some(row) = sqlx::query(
        "SELECT t.id, t.secret_hash, t.role, t.expires_at, t.revoked_at, t.last_used_at, u.id AS user_id, \
         u.username, u.role AS user_role, u.disabled FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.prefix = $1",
    )
    .bind(prefix)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let user_id: i64 = row.try_get("user_id")?;
    Ok(Some(TokenGrant {
        token_id: row.try_get("id")?,
        secret_hash: row.try_get("secret_hash")?,
        role: role(&row, "role")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
        user_id,
        username: row.try_get("username")?,
        user_role: role(&row, "user_role")?,
        user_disabled: flag(&row, "disabled")?,
        teams: user_teams(conn, user_id).await?,
    }))
}

/// Revokes a token (revoking twice keeps the first time).
pub async fn revoke_token(conn: &mut AnyConnection, id: i64, now: i64) -> Result<Token> {
    let done = sqlx::query("UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("token {id}")));
    }
    token_by_id(conn, id).await
}

/// Records that a token was used.
pub async fn touch_token(conn: &mut AnyConnection, id: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE tokens SET last_used_at = $2 WHERE id = $1").bind(id).bind(now).execute(conn).await?;
    Ok(())
}
