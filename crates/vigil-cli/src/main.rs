//! The `vigil` binary: parses the command line and hands each command to
//! the library crates. No business logic lives here.
//!
//! Exit codes: 0 success, 1 a `vigil scan` or `vigil webscan` `--fail-on` policy failed (for
//! `vigil fix-plan`: would still fail once the plan is applied), 2 error.

#![forbid(unsafe_code)]

mod cli;
mod cli_platform;
mod cli_web;
mod commands;
mod config;
mod progress;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use crate::cli::{CacheCommand, Cli, Command, DbCommand, VersionCommand};
use crate::config::Config;

/// mimalloc: parsing tens of thousands of small records on several threads
/// spends far less time in the allocator than with glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn run(cli: Cli) -> Result<ExitCode> {
    let done = match cli.command {
        Command::Version(VersionCommand::Compare { ecosystem, a, b, stdin }) => {
            commands::version::compare(&ecosystem, a.as_deref(), b.as_deref(), stdin)
        }
        Command::Sbom(args) => commands::sbom::sbom(&args, cli.quiet),
        Command::Explain(args) => {
            let config = Config::load(cli.config.as_deref())?;
            let db = config.db_path(cli.db_dir.as_deref())?;
            commands::explain::explain(&config, &db, &args, cli.quiet)
        }
        Command::Scan(args) => {
            let config = Config::load(cli.config.as_deref())?;
            let db = config.db_path(cli.db_dir.as_deref())?;
            return commands::scan::scan(&config, &db, &args, cli.quiet);
        }
        Command::FixPlan(args) => {
            let config = Config::load(cli.config.as_deref())?;
            let db = config.db_path(cli.db_dir.as_deref())?;
            return commands::fixplan::fix_plan(&config, &db, &args, cli.quiet);
        }
        Command::Comply(args) => return commands::comply::comply(&args, cli.quiet),
        Command::Diff(args) => {
            let config = Config::load(cli.config.as_deref())?;
            let db = config.db_path(cli.db_dir.as_deref())?;
            commands::diff::diff(&config, &db, &args, cli.quiet)
        }
        Command::Webscan(args) => return commands::webscan::webscan(&args, cli.quiet),
        Command::Server(args) => {
            let config = Config::load(cli.config.as_deref())?;
            let db = config.db_path(cli.db_dir.as_deref())?;
            commands::server::server(&config, &db, &args, cli.quiet)
        }
        Command::Assets(args) => commands::client::assets(&args),
        Command::Findings(args) => commands::client::findings(&args),
        Command::Triage(args) => commands::client::triage(&args),
        Command::Exposure(args) => commands::client::exposure(&args),
        Command::Completions { shell } => commands::help::completions(shell),
        Command::Man { dir } => commands::help::man(dir.as_deref()),
        Command::Cache(CacheCommand::Status { dir, format }) => commands::cache::status(&dir, format.format),
        Command::Cache(CacheCommand::Clean { dir, unused_days }) => {
            commands::cache::clean(&dir, unused_days, cli.quiet)
        }
        Command::Db(cmd) => {
            let config = Config::load(cli.config.as_deref())?;
            let db = config.db_path(cli.db_dir.as_deref())?;
            let quiet = cli.quiet;
            match cmd {
                DbCommand::Update(args) => commands::db::update(&config, &db, args, quiet),
                DbCommand::Import { paths, limits, format } => {
                    commands::db::import(&db, &paths, &limits, format.format, quiet)
                }
                DbCommand::Status { format } => commands::db::status(&config, &db, format.format, quiet),
                DbCommand::Explain { ecosystem, package, installed, all, format } => {
                    commands::db::explain(&config, &db, (&ecosystem, &package, &installed), all, format.format, quiet)
                }
            }
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`vigil ... | head`) is not an error.
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            // Each layer of context says something new; quoted input is cut to an excerpt.
            eprintln!("error: {}", vigil_core::excerpt::clip(&format!("{err:#}")));
            ExitCode::from(2)
        }
    }
}
