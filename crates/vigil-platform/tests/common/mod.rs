//! Helpers shared by the platform's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use vigil_core::inventory::{Inventory, Location, Package};
use vigil_platform::ingest::{AssetSpec, Upload};
use vigil_platform::jobs::{self, WorkerConfig};
use vigil_platform::vulndb::Source;
use vigil_platform::{Actor, Config, Platform};
use vigil_query::parse;
use vigil_store::model::Role;
use vigil_store::{Page, Scope, findings};

pub fn fixtures(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(version)
}

pub fn platform(store: vigil_store::Store, data: &Path, versions: &[&str]) -> Platform {
    let mut config = Config::new(data.to_path_buf());
    config.vulndb_source = Source::Import(versions.iter().map(|v| fixtures(v)).collect());
    Platform::new(store, config)
}

pub fn pypi(name: &str, version: &str) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        ecosystem: "PyPI".into(),
        purl: format!("pkg:pypi/{name}@{version}"),
        source: None,
        arch: None,
        license: None,
        location: Location { path: "/app/requirements.txt".into(), layer: None },
        cataloger: "requirements".into(),
        version_source: None,
        properties: Default::default(),
    }
}

pub fn upload(asset: &str, packages: Vec<Package>) -> Upload {
    Upload {
        asset: AssetSpec { name: asset.into(), kind: Some("repository".into()), ..AssetSpec::default() },
        tags: vec!["prod".into()],
        full: true,
        scanner: Some("vigil test".into()),
        inventory: Inventory { target: "/app".into(), packages, ..Inventory::default() },
        results: Vec::new(),
        covers: None,
        findings: None,
    }
}

pub fn actor(user: &vigil_store::model::User, role: Role) -> Actor {
    Actor {
        user_id: Some(user.id),
        name: user.username.clone(),
        role,
        scope: Scope::Teams(user.teams.clone()),
        address: Some("127.0.0.1".into()),
        request_id: None,
    }
}

pub async fn run_jobs(p: &Platform) -> usize {
    let config = WorkerConfig {
        owner: "test".into(),
        lease: Duration::from_secs(30),
        idle: Duration::from_millis(10),
        refresh_every: None,
    };
    let mut ran = 0;
    while jobs::run_one(p, &config).await.unwrap() {
        ran += 1;
    }
    ran
}

pub async fn open_findings(p: &Platform, who: &Actor, query: &str) -> Vec<vigil_store::model::Finding> {
    let mut conn = p.store.read().await.unwrap();
    findings::list(
        &mut conn,
        &parse(query).unwrap(),
        &who.scope,
        None,
        &[],
        &Page { limit: 100, cursor: None },
        p.now(),
    )
    .await
    .unwrap()
    .items
}
