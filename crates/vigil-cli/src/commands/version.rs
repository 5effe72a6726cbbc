//! `vigil version compare`.

use std::cmp::Ordering;
use std::io::{BufRead, Write};

use anyhow::{Context, Result, bail};
use vigil_version::Scheme;

fn symbol(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

/// The scheme for an ecosystem name, or an error listing the known ones.
pub fn scheme_for(ecosystem: &str) -> Result<Scheme> {
    if let Some(s) = Scheme::for_ecosystem(ecosystem).or_else(|| Scheme::from_name(ecosystem)) {
        return Ok(s);
    }
    let known: Vec<&str> = vigil_version::ECOSYSTEMS.iter().map(|(n, _)| *n).collect();
    bail!("unknown ecosystem {ecosystem:?}; known: {}", known.join(", "))
}

/// Compares A and B, or every pair on standard input.
pub fn compare(ecosystem: &str, a: Option<&str>, b: Option<&str>, stdin: bool) -> Result<()> {
    let scheme = scheme_for(ecosystem)?;
    let out = std::io::stdout();
    let mut out = out.lock();
    if !stdin {
        let (Some(a), Some(b)) = (a, b) else { bail!("give two versions, or --stdin") };
        writeln!(out, "{}", symbol(scheme.compare(a, b)))?;
        return Ok(());
    }
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("reading standard input")?;
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), None) => writeln!(out, "{}", symbol(scheme.compare(a, b)))?,
            _ => bail!("standard input line {}: expected two versions separated by whitespace, got {line:?}", n + 1),
        }
    }
    Ok(())
}
