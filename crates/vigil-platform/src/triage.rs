//! Triage, kept apart from detection: a finding is open, a false positive,
//! not affected (with a VEX justification) or risk accepted until a date
//! (open again after it). A decision has a comment and who made it, and
//! applies to one finding, to every finding of an advisory, or to every
//! finding a query matches. Advisory and query decisions are kept as rules
//! and also decide the matching findings later scans bring.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigil_store::findings::{self, Decision};
use vigil_store::model::{JUSTIFICATIONS, TRIAGE_STATES, TriageRule};
use vigil_store::{Scope, Tx};

use crate::auth::Permission;
use crate::{Actor, Error, Platform, Result, json};

/// What a decision applies to.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// These findings.
    Findings(Vec<i64>),
    /// Every finding of this advisory (any id or alias), now and later.
    Advisory(String),
    /// Every finding this query matches, now and later.
    Query(String),
}

/// A triage decision as requested.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Request {
    /// What it applies to.
    pub target: Target,
    /// `open`, `false_positive`, `not_affected` or `risk_accepted`.
    pub state: String,
    /// Required for `not_affected`: the VEX justification.
    #[serde(default)]
    pub justification: Option<String>,
    /// Required for `risk_accepted`: until when (`YYYY-MM-DD` or RFC 3339).
    #[serde(default)]
    pub until: Option<String>,
    /// Why (required).
    pub comment: String,
    /// For advisory and query rules of a user in several teams: which team.
    #[serde(default)]
    pub team: Option<String>,
}

/// What a decision did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Outcome {
    /// Findings it decided now.
    pub findings: Vec<i64>,
    /// The rule kept for later findings, for advisory and query targets.
    pub rule: Option<TriageRule>,
}

/// Reads `YYYY-MM-DD` (the end of that day, UTC) or an RFC 3339 moment.
fn parse_until(text: &str) -> Result<i64> {
    vigil_query::parse_day(text)
        .map(|day| day + 86_399)
        .or_else(|| vigil_query::parse_instant(text))
        .ok_or_else(|| Error::Invalid(format!("until: `{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time")))
}

/// Checks a request and turns it into the decision to store.
fn decision(actor: &Actor, request: &Request, now: i64) -> Result<Decision> {
    if !TRIAGE_STATES.contains(&request.state.as_str()) {
        return Err(Error::Invalid(format!("state: `{}` is not one of {}", request.state, TRIAGE_STATES.join(", "))));
    }
    if request.comment.trim().is_empty() {
        return Err(Error::Invalid("comment: say why".into()));
    }
    if request.comment.len() > 10_000 {
        return Err(Error::Invalid("comment: longer than 10,000 bytes".into()));
    }
    let justification = match (request.state.as_str(), &request.justification) {
        ("not_affected", Some(j)) if JUSTIFICATIONS.contains(&j.as_str()) => Some(j.clone()),
        ("not_affected", Some(j)) => {
            return Err(Error::Invalid(format!("justification: `{j}` is not one of {}", JUSTIFICATIONS.join(", "))));
        }
        ("not_affected", None) => {
            return Err(Error::Invalid(format!(
                "justification: required for not_affected; one of {}",
                JUSTIFICATIONS.join(", ")
            )));
        }
        (_, Some(_)) => return Err(Error::Invalid("justification: only for not_affected".into())),
        (_, None) => None,
    };
    let until = match (request.state.as_str(), &request.until) {
        ("risk_accepted", Some(text)) => {
            let until = parse_until(text)?;
            if until <= now {
                return Err(Error::Invalid(format!("until: `{text}` has passed")));
            }
            Some(until)
        }
        ("risk_accepted", None) => return Err(Error::Invalid("until: required for risk_accepted".into())),
        (_, Some(_)) => return Err(Error::Invalid("until: only for risk_accepted".into())),
        (_, None) => None,
    };
    Ok(Decision {
        state: request.state.clone(),
        justification,
        until,
        comment: request.comment.clone(),
        by: actor.name.clone(),
        at: now,
    })
}

/// The team a rule is limited to: none for administrators (every team)
/// unless they name one, else the one named or the actor's only team.
pub(crate) async fn rule_team(
    tx: &mut vigil_store::Connection,
    actor: &Actor,
    named: Option<&str>,
) -> Result<Option<i64>> {
    if let Some(name) = named {
        let team = vigil_store::accounts::team_by_name(tx, name)
            .await?
            .ok_or_else(|| Error::Invalid(format!("team: no team named `{name}`")))?;
        actor.require_team(team.id)?;
        return Ok(Some(team.id));
    }
    match &actor.scope {
        Scope::All => Ok(None),
        Scope::Teams(teams) if teams.len() == 1 => Ok(Some(teams[0])),
        _ => Err(Error::Invalid("team: you belong to several teams (or none); name the one this rule is for".into())),
    }
}

/// Applies a decision.
pub async fn decide(platform: &Platform, actor: &Actor, request: &Request) -> Result<Outcome> {
    actor.require(Permission::Triage)?;
    let now = platform.now();
    let decision = decision(actor, request, now)?;
    let mut tx = platform.store.write().await?;
    let outcome = match &request.target {
        Target::Findings(ids) => {
            if ids.is_empty() || ids.len() > 10_000 {
                return Err(Error::Invalid("target.findings: give 1 to 10,000 finding ids".into()));
            }
            for id in ids {
                let before = findings::get(&mut tx, *id, &actor.scope, now).await?;
                findings::set_triage(&mut tx, &[*id], &decision, None).await?;
                let after = findings::get(&mut tx, *id, &actor.scope, now).await?;
                actor
                    .audit(
                        &mut tx,
                        now,
                        "finding.triage",
                        ("finding", Some(id.to_string())),
                        Some(before.team_id),
                        (json(&before.triage), json(&after.triage)),
                    )
                    .await?;
            }
            crate::tickets::after_triage(&mut tx, ids, &actor.name, now).await?;
            Outcome { findings: ids.clone(), rule: None }
        }
        Target::Advisory(advisory) | Target::Query(advisory) => {
            let (scope_word, filter_text, key) = match &request.target {
                Target::Advisory(_) => {
                    let keys = findings::keys_for(&mut tx, advisory).await?;
                    let key = keys.into_iter().next().unwrap_or_else(|| advisory.clone());
                    ("advisory", format!("advisory:\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\"")), key)
                }
                _ => ("query", advisory.clone(), advisory.clone()),
            };
            let filter = vigil_query::parse(&filter_text)?;
            vigil_query::compile(&filter, &vigil_store::catalogs::FINDINGS, 1, now)?;
            let team = rule_team(&mut tx, actor, request.team.as_deref()).await?;
            let scope = team.map_or(actor.scope.clone(), |t| Scope::Teams(vec![t]));
            let rule = findings::create_rule(&mut tx, scope_word, &key, team, &decision).await?;
            let matched: Vec<i64> =
                findings::matching(&mut tx, &filter, &scope, None, now).await?.into_iter().map(|(id, _)| id).collect();
            findings::set_triage(&mut tx, &matched, &decision, Some(rule.id)).await?;
            crate::tickets::after_triage(&mut tx, &matched, &actor.name, now).await?;
            let after = serde_json::json!({ "rule": rule, "findings": matched.len() });
            actor
                .audit(
                    &mut tx,
                    now,
                    "triage.rule",
                    ("triage_rule", Some(rule.id.to_string())),
                    team,
                    (None, Some(after)),
                )
                .await?;
            Outcome { findings: matched, rule: Some(rule) }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Decides newly detected findings (of one team) by the active rules:
/// later rules win over earlier ones.
pub async fn apply_rules(tx: &mut Tx, team: i64, new_findings: &[i64], now: i64) -> Result<()> {
    if new_findings.is_empty() {
        return Ok(());
    }
    for rule in findings::rules(tx, &Scope::All, false).await? {
        if rule.team_id.is_some_and(|t| t != team) || rule.until.is_some_and(|u| u <= now) {
            continue;
        }
        let text = match (&rule.advisory, &rule.query) {
            (Some(key), _) => format!("advisory:\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\"")),
            (None, Some(query)) => query.clone(),
            (None, None) => continue,
        };
        let Ok(filter) = vigil_query::parse(&text) else { continue };
        let decision = Decision {
            state: rule.state.clone(),
            justification: rule.justification.clone(),
            until: rule.until,
            comment: rule.comment.clone(),
            by: rule.decided_by.clone(),
            at: now,
        };
        for chunk in new_findings.chunks(500) {
            let matched: Vec<i64> = findings::matching(tx, &filter, &Scope::Teams(vec![team]), Some(chunk), now)
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            findings::set_triage(tx, &matched, &decision, Some(rule.id)).await?;
        }
    }
    Ok(())
}

/// Stops a rule from deciding later findings.
pub async fn deactivate(platform: &Platform, actor: &Actor, id: i64) -> Result<TriageRule> {
    actor.require(Permission::Triage)?;
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let rule = findings::rule(&mut tx, id).await?;
    actor.require_rule_owner(rule.team_id)?;
    findings::deactivate_rule(&mut tx, id).await?;
    let after = findings::rule(&mut tx, id).await?;
    actor
        .audit(
            &mut tx,
            now,
            "triage.rule.deactivate",
            ("triage_rule", Some(id.to_string())),
            rule.team_id,
            (json(&rule), json(&after)),
        )
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// Re-opens findings whose accepted risk has expired; each is audited.
pub async fn expire(platform: &Platform) -> Result<usize> {
    let now = platform.now();
    let mut tx = platform.store.write().await?;
    let expired = findings::expire_acceptances(&mut tx, now).await?;
    for (id, team) in &expired {
        let after = serde_json::json!({"state": "open", "comment": "risk acceptance expired"});
        Actor::system()
            .audit(
                &mut tx,
                now,
                "finding.triage.expire",
                ("finding", Some(id.to_string())),
                Some(*team),
                (None, Some(after)),
            )
            .await?;
    }
    tx.commit().await?;
    Ok(expired.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_dates_end_with_their_day() {
        assert_eq!(parse_until("2024-02-29").unwrap(), 1_709_251_199);
        assert_eq!(parse_until("2024-02-29T12:00:00Z").unwrap(), 1_709_208_000);
        assert!(parse_until("tomorrow").is_err());
    }
}
