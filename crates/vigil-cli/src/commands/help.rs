//! `vigil completions` and `vigil man`: shell completion scripts and manual
//! pages, generated from the same clap definitions as `--help`, so they can
//! never disagree with it.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::Cli;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut Cli::command(), "vigil", &mut out);
    Ok(out.flush()?)
}

/// Prints vigil(1), or writes every page into `dir`.
pub fn man(dir: Option<&Path>) -> Result<()> {
    let command = Cli::command();
    match dir {
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(command).render(&mut out)?;
            Ok(out.flush()?)
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("writing manual pages into {}", dir.display()))
        }
    }
}
