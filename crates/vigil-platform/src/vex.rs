//! An asset's triage as an OpenVEX document (v0.2.0), which `vigil scan
//! --vex` reads: `not_affected` decisions (with their justification) and
//! false positives become `not_affected` statements, accepted risks
//! `affected` statements with the acceptance as action, each naming the
//! advisory with its aliases and the package by its purl.

use serde_json::{Value, json};
use vigil_query::parse;
use vigil_store::{Page, assets, findings};

use crate::auth::Permission;
use crate::{Actor, Platform, Result};

/// The OpenVEX document of one asset's triage decisions.
pub async fn openvex(platform: &Platform, actor: &Actor, asset_id: i64) -> Result<Value> {
    actor.require(Permission::Read)?;
    let now = platform.now();
    let mut conn = platform.store.read().await?;
    let asset = assets::get(&mut conn, asset_id, &actor.scope).await?;
    let filter = parse("not triage:open")?;
    let mut statements = Vec::new();
    let mut page = Page { limit: 1000, cursor: None };
    let mut last_decision = asset.updated_at;
    loop {
        let batch = findings::list(&mut conn, &filter, &actor.scope, Some(asset_id), &[], &page, now).await?;
        for f in &batch.items {
            let Some(package) = &f.package else { continue };
            let Some(purl) = package.purl.as_deref().filter(|p| !p.is_empty()) else { continue };
            let triage = &f.triage;
            last_decision = last_decision.max(triage.at.unwrap_or(0));
            let aliases: Vec<&String> = f.ids.iter().filter(|id| **id != f.advisory).collect();
            let mut statement = json!({
                "vulnerability": { "name": f.advisory, "aliases": aliases },
                "products": [{ "@id": purl }],
                "timestamp": vigil_core::time::rfc3339(triage.at.unwrap_or(now)),
            });
            let comment = triage.comment.clone().unwrap_or_default();
            let by = triage.by.clone().unwrap_or_default();
            match triage.state.as_str() {
                "not_affected" => {
                    statement["status"] = json!("not_affected");
                    statement["justification"] = json!(triage.justification);
                    statement["impact_statement"] = json!(format!("{comment} ({by})"));
                }
                "false_positive" => {
                    statement["status"] = json!("not_affected");
                    statement["justification"] = json!("vulnerable_code_not_present");
                    statement["impact_statement"] = json!(format!("false positive: {comment} ({by})"));
                }
                "risk_accepted" => {
                    statement["status"] = json!("affected");
                    let until = triage.until.map(vigil_core::time::rfc3339).unwrap_or_default();
                    statement["action_statement"] = json!(format!("risk accepted until {until}: {comment} ({by})"));
                }
                _ => continue,
            }
            statements.push(statement);
        }
        match batch.next {
            Some(next) => page.cursor = Some(next),
            None => break,
        }
    }
    Ok(json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("urn:vigil:asset:{}:vex:{}", asset.id, last_decision),
        "author": format!("Vigil ({})", actor.name),
        "timestamp": vigil_core::time::rfc3339(now),
        "last_updated": vigil_core::time::rfc3339(last_decision),
        "version": 1,
        "statements": statements,
    }))
}
