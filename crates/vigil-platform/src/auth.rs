//! Authentication and authorisation.
//!
//! People sign in with a password (hashed with Argon2id) and get a session
//! token; machines use API tokens. A token is `vgl_` + a 12-character
//! public prefix (its id in logs and lists) + `_` + a 32-character secret;
//! only its SHA-256 is stored, compared in constant time, and it is shown
//! once, when created. Tokens expire, can be revoked, and carry a role no
//! higher than their user's.
//!
//! Roles and what they may do are one table, [`PERMISSIONS`]. Everyone but
//! an administrator sees and changes only their teams' rows.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use vigil_store::accounts::{self, NewToken};
use vigil_store::model::{Role, Token};
use vigil_store::{Scope, Store};

use crate::{Actor, Error, Platform, Result, json};

/// Something a route may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Upload scans and SBOMs.
    Upload,
    /// Read assets, findings, scans, tags, exposure, the audit trail (own teams).
    Read,
    /// Triage findings.
    Triage,
    /// Manage tickets and ticket rules.
    Remediate,
    /// Change assets: attributes, labels, static tags.
    EditAssets,
    /// Define tags and dynamic-tag rules.
    EditTags,
    /// Manage one's own tokens.
    OwnTokens,
    /// Users, teams, everyone's tokens, the advisory database, jobs.
    Administer,
}

impl Permission {
    /// What it allows, for messages ("may not ...").
    pub fn describe(self) -> &'static str {
        match self {
            Permission::Upload => "upload scans",
            Permission::Read => "read assets and findings",
            Permission::Triage => "triage findings",
            Permission::Remediate => "manage tickets and ticket rules",
            Permission::EditAssets => "change assets",
            Permission::EditTags => "define tags",
            Permission::OwnTokens => "manage tokens",
            Permission::Administer => "administer the server",
        }
    }
}

/// Which role holds which permissions.
pub const PERMISSIONS: &[(Role, &[Permission])] = &[
    (Role::Ci, &[Permission::Upload]),
    (Role::Viewer, &[Permission::Read, Permission::OwnTokens]),
    (
        Role::Analyst,
        &[
            Permission::Read,
            Permission::OwnTokens,
            Permission::Upload,
            Permission::Triage,
            Permission::Remediate,
            Permission::EditAssets,
            Permission::EditTags,
        ],
    ),
    (
        Role::Admin,
        &[
            Permission::Read,
            Permission::OwnTokens,
            Permission::Upload,
            Permission::Triage,
            Permission::Remediate,
            Permission::EditAssets,
            Permission::EditTags,
            Permission::Administer,
        ],
    ),
];

/// Whether `role` holds `permission`.
pub fn allows(role: Role, permission: Permission) -> bool {
    PERMISSIONS.iter().any(|(r, ps)| *r == role && ps.contains(&permission))
}

/// Whether a user with role `user` may hold a token with role `token`:
/// every permission of the token's role must be the user's too.
pub fn may_grant(user: Role, token: Role) -> bool {
    PERMISSIONS.iter().filter(|(r, _)| *r == token).flat_map(|(_, ps)| ps.iter()).all(|p| allows(user, *p))
}

/// Hashes a password with Argon2id (slow on purpose: call off the async runtime).
pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < 12 {
        return Err(Error::Invalid("a password needs at least 12 characters".into()));
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("hashing a password: {e}")))
}

/// Checks a password against its stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

fn random_word(len: usize) -> Result<String> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| char::from(ALPHABET[usize::from(b % 32)])).collect())
}

/// The SHA-256 of a token, as stored.
fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A new token: the string to hand out once, its prefix and its hash.
pub fn new_token() -> Result<(String, String, String)> {
    let prefix = random_word(12)?;
    let secret = random_word(32)?;
    let token = format!("vgl_{prefix}_{secret}");
    let hash = token_hash(&token);
    Ok((token, prefix, hash))
}

/// Splits `vgl_PREFIX_SECRET` into its prefix.
fn token_prefix(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("vgl_")?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == 12 && secret.len() == 32).then_some(prefix)
}

/// The actor a bearer token stands for.
pub async fn authenticate(platform: &Platform, token: &str) -> Result<Actor> {
    let prefix = token_prefix(token)
        .ok_or_else(|| Error::Unauthorized("malformed token: expected vgl_<prefix>_<secret>".into()))?;
    let mut conn = platform.store.read().await?;
    let grant = accounts::grant(&mut conn, prefix).await?.ok_or_else(|| Error::Unauthorized("unknown token".into()))?;
    drop(conn);
    if !bool::from(token_hash(token).as_bytes().ct_eq(grant.secret_hash.as_bytes())) {
        return Err(Error::Unauthorized("invalid token".into()));
    }
    let now = platform.now();
    if grant.revoked_at.is_some() {
        return Err(Error::Unauthorized("this token was revoked".into()));
    }
    if grant.expires_at.is_some_and(|t| t <= now) {
        return Err(Error::Unauthorized("this token has expired; create a new one".into()));
    }
    if grant.user_disabled {
        return Err(Error::Unauthorized(format!("user {} is disabled", grant.username)));
    }
    if !may_grant(grant.user_role, grant.role) {
        return Err(Error::Unauthorized(format!(
            "this token's role ({}) exceeds its user's ({}) now",
            grant.role.as_str(),
            grant.user_role.as_str()
        )));
    }
    if grant.last_used_at.is_none_or(|t| t < now - 60) {
        let mut tx = platform.store.write().await?;
        accounts::touch_token(&mut tx, grant.token_id, now).await?;
        tx.commit().await?;
    }
    Ok(Actor {
        user_id: Some(grant.user_id),
        name: grant.username,
        role: grant.role,
        scope: if grant.role == Role::Admin { Scope::All } else { Scope::Teams(grant.teams) },
        address: None,
        request_id: None,
    })
}

/// Failed sign-ins per (address, user name), to slow password guessing:
/// after [`LoginLimiter::MAX_FAILURES`] failures in a window, sign-in is
/// refused until the window passes. Kept per node.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<(String, String), Vec<i64>>>,
}

impl LoginLimiter {
    /// Failures allowed in [`LoginLimiter::WINDOW_SECS`].
    pub const MAX_FAILURES: usize = 5;
    /// The window.
    pub const WINDOW_SECS: i64 = 900;

    fn check(&self, key: &(String, String), now: i64) -> Result<()> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let recent = failures.entry(key.clone()).or_default();
        recent.retain(|t| *t > now - Self::WINDOW_SECS);
        if recent.len() >= Self::MAX_FAILURES {
            let wait = recent.first().map_or(Self::WINDOW_SECS, |first| first + Self::WINDOW_SECS - now).max(1);
            return Err(Error::TooMany(
                format!("too many failed sign-ins for {}; try again in {wait} seconds", key.1),
                wait as u64,
            ));
        }
        Ok(())
    }

    fn fail(&self, key: (String, String), now: i64) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 100_000 {
            failures.retain(|_, v| v.iter().any(|t| *t > now - Self::WINDOW_SECS));
        }
        failures.entry(key).or_default().push(now);
    }
}

/// How long a session token lasts.
pub const SESSION_SECS: i64 = 12 * 3600;

/// Signs a user in: a session token when the password holds.
pub async fn login(
    platform: &Platform,
    limiter: &LoginLimiter,
    username: &str,
    password: &str,
    address: Option<&str>,
) -> Result<(String, Token)> {
    let now = platform.now();
    let key = (address.unwrap_or_default().to_string(), username.to_string());
    limiter.check(&key, now)?;
    let mut conn = platform.store.read().await?;
    let found = accounts::credentials(&mut conn, username).await?;
    drop(conn);
    let refused = || Error::Unauthorized("wrong user name or password".into());
    let (user_id, hash) = match found {
        Some((id, Some(hash), false)) => (id, hash),
        _ => {
            limiter.fail(key, now);
            return Err(refused());
        }
    };
    let password = password.to_string();
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    if !verified {
        limiter.fail(key, now);
        return Err(refused());
    }
    let mut tx = platform.store.write().await?;
    let user = accounts::user(&mut tx, user_id).await?;
    let (token, prefix, hash) = new_token()?;
    let record = accounts::create_token(
        &mut tx,
        &NewToken {
            user_id,
            name: "session",
            kind: "session",
            prefix: &prefix,
            secret_hash: &hash,
            role: user.role,
            expires_at: Some(now + SESSION_SECS),
        },
        now,
    )
    .await?;
    let actor = Actor {
        user_id: Some(user_id),
        name: user.username.clone(),
        role: user.role,
        scope: Scope::All,
        address: address.map(str::to_string),
        request_id: None,
    };
    actor
        .audit(&mut tx, now, "session.create", ("token", Some(record.id.to_string())), None, (None, json(&record)))
        .await?;
    tx.commit().await?;
    Ok((token, record))
}

/// Revokes the token presented (signing out).
pub async fn logout(platform: &Platform, actor: &Actor, token: &str) -> Result<()> {
    let prefix = token_prefix(token).ok_or_else(|| Error::Unauthorized("malformed token".into()))?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let grant = accounts::grant(&mut tx, prefix).await?.ok_or_else(|| Error::Unauthorized("unknown token".into()))?;
    let after = accounts::revoke_token(&mut tx, grant.token_id, now).await?;
    actor
        .audit(&mut tx, now, "session.revoke", ("token", Some(grant.token_id.to_string())), None, (None, json(&after)))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// On first start (no users yet): creates team `default` and user `admin`
/// (an administrator in it) with an API token, which is `given` (from the
/// environment) or a new one. Returns the token when one was created.
pub async fn bootstrap(store: &Store, given: Option<&str>, now: i64) -> Result<Option<String>> {
    let mut tx = store.write().await?;
    if accounts::count_users(&mut tx).await? > 0 {
        return Ok(None);
    }
    let (token, prefix, hash) = match given {
        Some(token) => {
            let prefix = token_prefix(token).ok_or_else(|| {
                Error::Invalid("VIGIL_ADMIN_TOKEN must look like vgl_<12 characters>_<32 characters>".into())
            })?;
            (token.to_string(), prefix.to_string(), token_hash(token))
        }
        None => new_token()?,
    };
    let team = accounts::create_team(&mut tx, "default", now).await?;
    let admin = accounts::create_user(&mut tx, "admin", None, Role::Admin, now).await?;
    accounts::add_member(&mut tx, team.id, admin.id).await?;
    accounts::create_token(
        &mut tx,
        &NewToken {
            user_id: admin.id,
            name: "first start",
            kind: "api",
            prefix: &prefix,
            secret_hash: &hash,
            role: Role::Admin,
            expires_at: None,
        },
        now,
    )
    .await?;
    Actor::system()
        .audit(&mut tx, now, "server.bootstrap", ("user", Some(admin.id.to_string())), None, (None, json(&admin)))
        .await?;
    tx.commit().await?;
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_the_table_says() {
        assert!(allows(Role::Ci, Permission::Upload) && !allows(Role::Ci, Permission::Read));
        assert!(allows(Role::Viewer, Permission::Read) && !allows(Role::Viewer, Permission::Triage));
        assert!(allows(Role::Analyst, Permission::Triage) && !allows(Role::Analyst, Permission::Administer));
        assert!(Role::ALL.iter().all(|r| allows(Role::Admin, PERMISSIONS.iter().find(|(x, _)| x == r).unwrap().1[0])));
        assert!(may_grant(Role::Analyst, Role::Ci) && may_grant(Role::Analyst, Role::Viewer));
        assert!(!may_grant(Role::Viewer, Role::Ci) && !may_grant(Role::Analyst, Role::Admin));
        assert!(may_grant(Role::Ci, Role::Ci));
    }

    #[test]
    fn tokens_have_a_prefix_and_a_secret() {
        let (token, prefix, hash) = new_token().unwrap();
        assert_eq!(token_prefix(&token), Some(prefix.as_str()));
        assert_eq!(token.len(), 4 + 12 + 1 + 32);
        assert_eq!(hash, token_hash(&token));
        assert_ne!(new_token().unwrap().0, token);
        assert_eq!(token_prefix("vgl_short_x"), None);
        assert_eq!(token_prefix("Bearer abc"), None);
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn the_limiter_locks_out_after_repeated_failures() {
        let limiter = LoginLimiter::default();
        let key = ("127.0.0.1".to_string(), "admin".to_string());
        for _ in 0..LoginLimiter::MAX_FAILURES {
            limiter.check(&key, 1000).unwrap();
            limiter.fail(key.clone(), 1000);
        }
        assert!(matches!(limiter.check(&key, 1001), Err(Error::TooMany(_, 899))));
        limiter.check(&key, 1000 + LoginLimiter::WINDOW_SECS).unwrap();
        limiter.check(&("other".into(), "admin".into()), 1001).unwrap();
    }
}
