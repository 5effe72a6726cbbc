//! Command-line definitions of `vigil webscan` (clap). Only shapes and help text live here.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::cli::SeverityArg;

/// Shown after the options of `vigil webscan --help`.
const EXAMPLES: &str = "Examples:
  vigil webscan http://127.0.0.1:8080/                       crawl and test the whole site
  vigil webscan http://127.0.0.1:8080/app/ --include /app/ --exclude '/admin/delete'
  vigil webscan http://localhost:3000/ --fail-on high --format sarif=web.sarif --format table
  vigil webscan http://127.0.0.1:8080/ --cookie 'session=abc' --header 'X-Api-Key: k'
  vigil webscan http://127.0.0.1:8080/ --upload https://vigil.internal --asset shop-staging";

/// `vigil webscan` flags.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct WebscanArgs {
    /// Where the crawl starts (http:// or https://)
    #[arg(required_unless_present = "list_checks")]
    pub url: Option<String>,
    /// Another host[:port] in scope (repeatable); the start URL's host and port always are
    #[arg(long = "scope-host", value_name = "HOST[:PORT]", help_heading = "Scope")]
    pub scope_hosts: Vec<String>,
    /// Only paths under this prefix (repeatable) [default: every path]
    #[arg(long = "include", value_name = "PATH-PREFIX", help_heading = "Scope")]
    pub include: Vec<String>,
    /// Never request URLs matching this regular expression (repeatable); log-out links never are
    #[arg(long = "exclude", value_name = "REGEX", help_heading = "Scope")]
    pub exclude: Vec<String>,
    /// Allow hosts that are not loopback addresses (only with their owner's consent)
    #[arg(long, help_heading = "Scope")]
    pub allow_remote: bool,
    /// Most requests per second (0: no limit)
    #[arg(long, value_name = "N", default_value_t = 0.0, help_heading = "Pace")]
    pub rate: f64,
    /// Requests in flight at once
    #[arg(long, value_name = "N", default_value_t = 4, help_heading = "Pace")]
    pub concurrency: usize,
    /// Stop after this many seconds; what was not tested is listed in the report
    #[arg(long, value_name = "SECS", help_heading = "Pace")]
    pub max_duration: Option<u64>,
    /// How many links deep the crawler goes
    #[arg(long, value_name = "N", default_value_t = 8, help_heading = "Pace")]
    pub max_depth: usize,
    /// Most requests the crawler makes
    #[arg(long, value_name = "N", default_value_t = 500, help_heading = "Pace")]
    pub max_pages: usize,
    /// Seconds one request may take
    #[arg(long, value_name = "SECS", default_value_t = 30, help_heading = "Pace")]
    pub timeout: u64,
    /// Checks to run, comma-separated [default: all]; `vigil webscan --list-checks URL` lists them
    #[arg(long, value_delimiter = ',', value_name = "ID,...", help_heading = "Policy")]
    pub checks: Vec<String>,
    /// How hard active checks try
    #[arg(long, value_enum, default_value_t = StrengthArg::Medium, help_heading = "Policy")]
    pub strength: StrengthArg,
    /// List the checks and exit
    #[arg(long, help_heading = "Policy")]
    pub list_checks: bool,
    /// An OpenAPI 3 or Swagger 2 contract (URL in scope, or file; JSON or YAML) whose
    /// operations are scanned too (repeatable) [default: looked for at /openapi.json, /swagger.json, ...]
    #[arg(long, value_name = "URL|FILE", help_heading = "Discovery")]
    pub openapi: Vec<String>,
    /// A header for every request, `Name: value` (repeatable)
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE", help_heading = "Authentication")]
    pub headers: Vec<String>,
    /// A cookie to start with, `name=value` (repeatable)
    #[arg(long = "cookie", value_name = "NAME=VALUE", help_heading = "Authentication")]
    pub cookies: Vec<String>,
    /// Output format, repeatable; FORMAT=FILE writes that format to FILE
    /// (table, json, sarif, junit, html) [default: table]
    #[arg(long, value_name = "FORMAT[=FILE]", value_parser = parse_output, help_heading = "Output")]
    pub format: Vec<WebOutput>,
    /// Write the format given without =FILE to FILE instead of standard output
    #[arg(long, short, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Exit with code 1 when a finding of this severity or higher is found
    #[arg(long, value_enum, value_name = "SEVERITY", help_heading = "Output")]
    pub fail_on: Option<SeverityArg>,
    /// Exit with code 1 when the time limit left checks untested
    #[arg(long, help_heading = "Output")]
    pub fail_on_untested: bool,
    #[command(flatten, next_help_heading = "Upload")]
    pub upload: crate::cli_platform::UploadArgs,
}

/// How hard the active checks try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrengthArg {
    /// The most likely payloads only
    Low,
    /// The usual set
    Medium,
    /// Every payload the checks know
    High,
}

/// One `--format`.
#[derive(Debug, Clone)]
pub struct WebOutput {
    /// The format.
    pub format: vigil_dast::report::Format,
    /// Where to write it; standard output (or `--output`) when absent.
    pub file: Option<PathBuf>,
}

fn parse_output(s: &str) -> Result<WebOutput, String> {
    let (name, file) = match s.split_once('=') {
        Some((n, f)) if !f.is_empty() => (n, Some(PathBuf::from(f))),
        Some(_) => return Err(format!("{s}: FORMAT=FILE needs a file name")),
        None => (s, None),
    };
    Ok(WebOutput { format: name.parse()?, file })
}
