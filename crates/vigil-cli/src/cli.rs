//! Command-line definitions (clap). Only shapes and help text live here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// What `vigil --help` opens with.
const ABOUT: &str = "Vigil finds known vulnerabilities in what you ship: container images, root filesystems, \
                     project directories, lockfiles, binaries and SBOMs";

/// The longer story, for `vigil --help` and the manual page.
const LONG_ABOUT: &str = "Vigil finds known vulnerabilities in what you ship: container images (archives, OCI \
layouts, registries, local Docker and Podman engines), root filesystems, project directories, lockfiles, Go and \
Rust binaries, and CycloneDX or SPDX SBOMs. It matches their packages against a local advisory database built \
from OSV, CISA KEV and FIRST EPSS, offline once the database is there, orders the findings for remediation, \
writes them as a table, JSON, SARIF, JUnit, Markdown or CycloneDX, and gates CI on them. It also writes \
inventories as SBOMs.";

/// Shown after the options of `vigil --help`.
const EXAMPLES: &str = "Examples:
  vigil db update                              fetch or refresh the advisory database
  vigil scan alpine:3.20                       an image: the local engine's copy, else the registry's
  vigil scan . --fail-on high                  gate a project in CI (exit code 1)
  vigil scan . --baseline main.json --fail-on high --fail-on-new   fail only on what a change introduced
  vigil diff main.json pr.json --format markdown                 a pull-request comment of what changed
  vigil scan app.tar --format sarif=vigil.sarif --format table
  vigil sbom ./rootfs --format spdx --output sbom.spdx.json
  vigil explain CVE-2021-3156 ./rootfs         why an advisory does or does not match
  vigil comply ./rootfs --policy debian        hardening checks of a root filesystem
  vigil scan . --scanners vuln,config,secret   vulnerabilities, misconfigurations and secrets
  vigil completions bash > ~/.local/share/bash-completion/completions/vigil";

/// The `vigil` command line.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about = ABOUT, long_about = LONG_ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    /// Directory of the advisory database [default: $XDG_DATA_HOME/vigil or ~/.local/share/vigil]
    #[arg(long, global = true, env = "VIGIL_DB_DIR", value_name = "DIR")]
    pub db_dir: Option<PathBuf>,

    /// Configuration file [default: $XDG_CONFIG_HOME/vigil/config.toml or ~/.config/vigil/config.toml]
    #[arg(long, global = true, env = "VIGIL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// No progress bars or notices on standard error
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Version ordering as Vigil applies it
    #[command(subcommand)]
    Version(VersionCommand),
    /// The local advisory database
    #[command(subcommand)]
    Db(DbCommand),
    /// Write the inventory of an image, a directory or a lockfile as an SBOM
    Sbom(SbomArgs),
    /// Find known vulnerabilities in an image, a directory or a lockfile
    Scan(Box<ScanArgs>),
    /// The fewest package upgrades, each to the lowest version that clears its advisories, that
    /// make `vigil scan` pass its gate (same targets and options as scan)
    FixPlan(Box<FixPlanArgs>),
    /// Compare two scans (reports, or targets scanned now): packages and findings added and fixed
    Diff(Box<DiffArgs>),
    /// Explain why an advisory does or does not match a target
    Explain(ExplainArgs),
    /// Check an image, root filesystem or repository against compliance policies, for
    /// misconfigured Dockerfiles, Kubernetes manifests and compose files, and for leaked secrets
    Comply(Box<ComplyArgs>),
    /// Scan a web application for XSS, SQL injection and more (loopback only unless --allow-remote)
    Webscan(Box<crate::cli_web::WebscanArgs>),
    /// The image layer cache
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Run the Vigil server: assets and findings over time, an API, background re-matching
    Server(crate::cli_platform::ServerArgs),
    /// Search assets on a Vigil server
    Assets(crate::cli_platform::SearchArgs),
    /// Search findings on a Vigil server
    Findings(crate::cli_platform::SearchArgs),
    /// Record a triage decision on a Vigil server
    Triage(crate::cli_platform::TriageArgs),
    /// Which assets were exposed to an advisory, from when to when
    Exposure(crate::cli_platform::ExposureArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish)
    #[command(after_help = "Install, for example:\n  \
        bash: vigil completions bash > ~/.local/share/bash-completion/completions/vigil\n  \
        zsh:  vigil completions zsh > \"${fpath[1]}/_vigil\"\n  \
        fish: vigil completions fish > ~/.config/fish/completions/vigil.fish\n  \
        PowerShell: vigil completions powershell | Out-String | Invoke-Expression")]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the manual page, or write every page (vigil.1, vigil-scan.1, ...) to a directory
    Man {
        /// Write vigil.1 and a page per subcommand here (for example /usr/local/share/man/man1)
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// `vigil cache ...`
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// How many layers are cached and how much space they take
    Status {
        #[command(flatten)]
        dir: CacheDirArg,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Delete cached layers: every one, or those unused for some days
    Clean {
        #[command(flatten)]
        dir: CacheDirArg,
        /// Only layers no scan has used for this many days
        #[arg(long, value_name = "DAYS")]
        unused_days: Option<u64>,
    },
}

/// Where image layers are cached.
#[derive(Debug, Args)]
pub struct CacheDirArg {
    /// Layer cache directory [default: $XDG_CACHE_HOME/vigil or ~/.cache/vigil]
    #[arg(long, env = "VIGIL_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// How image targets are found and read (`scan`, `sbom`, `explain`).
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Platform to take from a multi-platform image [default: linux/amd64]
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_parser = parse_platform)]
    pub platform: Option<vigil_image::Platform>,
    /// Registry user name [default: what docker/podman login stored]
    #[arg(long, env = "VIGIL_REGISTRY_USERNAME", requires = "password", value_name = "USER")]
    pub username: Option<String>,
    /// Registry password or access token (prefer the environment variable)
    #[arg(long, env = "VIGIL_REGISTRY_PASSWORD", hide_env_values = true, requires = "username", value_name = "SECRET")]
    pub password: Option<String>,
    /// Talk plain HTTP to the registry (always done for 127.0.0.1 and localhost)
    #[arg(long)]
    pub insecure_registry: bool,
    /// Pull REGISTRY's images from MIRROR first (repeatable; e.g. docker.io=mirror.internal:5000)
    #[arg(long, env = "VIGIL_REGISTRY_MIRROR", value_delimiter = ',', value_name = "REGISTRY=MIRROR",
          value_parser = vigil_image::registry::parse_mirror)]
    pub registry_mirror: Vec<(String, String)>,
    /// Read every image layer again instead of taking it from the layer cache
    #[arg(long)]
    pub no_cache: bool,
    /// Most bytes an image may decompress to, over all its layers, in MiB
    #[arg(long, env = "VIGIL_MAX_IMAGE_MIB", value_name = "MIB", default_value_t = 65536)]
    pub max_image_mib: u64,
    /// Most entries (files, directories, links) over all of an image's layers
    #[arg(long, env = "VIGIL_MAX_IMAGE_ENTRIES", value_name = "N", default_value_t = 10_000_000)]
    pub max_image_entries: u64,
    /// Largest single file read (a package database, lockfile or binary), in MiB
    #[arg(long, env = "VIGIL_MAX_FILE_MIB", value_name = "MIB", default_value_t = 512)]
    pub max_file_mib: u64,
    #[command(flatten)]
    pub cache: CacheDirArg,
}

fn parse_platform(s: &str) -> Result<vigil_image::Platform, String> {
    s.parse()
}

/// `vigil explain` arguments.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Advisory id or alias (DSA-4839-1, CVE-2021-3156, GHSA-...)
    pub advisory: String,
    /// What was scanned: an image (file, directory or registry reference), a directory, a lockfile or an SBOM
    pub target: String,
    #[command(flatten, next_help_heading = "Image targets")]
    pub image: ImageArgs,
}

/// `vigil scan` flags.
#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: ScanInput,
    /// Output format, repeatable; FORMAT=FILE writes that format to FILE
    /// (table, json, sarif, junit, markdown, cyclonedx) [default: table]
    #[arg(long, value_name = "FORMAT[=FILE]", value_parser = parse_scan_output)]
    pub format: Vec<ScanOutput>,
    /// Write the format given without =FILE to FILE instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten, next_help_heading = "Upload to a Vigil server")]
    pub upload: crate::cli_platform::UploadArgs,
}

/// `vigil fix-plan` flags: what `vigil scan` reads and gates on, and the plan's output.
#[derive(Debug, Args)]
pub struct FixPlanArgs {
    #[command(flatten)]
    pub input: ScanInput,
    #[command(flatten)]
    pub format: FormatArg,
    /// Write the plan to FILE instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// API token for --baseline server
    #[arg(long, env = "VIGIL_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// The asset's name on the server, for --baseline server [default: the target as given]
    #[arg(long, value_name = "NAME")]
    pub asset: Option<String>,
}

/// What a scan reads, how it filters and what fails it: shared by `vigil scan` and `vigil fix-plan`.
#[derive(Debug, Args)]
pub struct ScanInput {
    /// A container image (docker-archive or oci-archive tar, OCI layout directory, or a
    /// registry reference such as ghcr.io/org/app:1.0 or 127.0.0.1:5000/app@sha256:...), a
    /// root filesystem or project directory, a lockfile or an SBOM
    pub target: String,
    /// Exit with code 1 when a vulnerability of this severity or higher is found (one whose
    /// severity is unknown, even after looking at other records of its CVE, counts only with
    /// --fail-on-unknown)
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
    /// Exit with code 1 when a vulnerability of unknown severity is found
    #[arg(long)]
    pub fail_on_unknown: bool,
    /// An earlier Vigil JSON report (of the main branch, say) to mark each finding new, unchanged
    /// or updated against, listing the baseline's findings no longer found as fixed; `server`
    /// takes the asset's last scan from the Vigil server (--server, else --upload's URL)
    #[arg(long, value_name = "FILE|server")]
    pub baseline: Option<String>,
    /// With --baseline: only vulnerabilities new since the baseline fail the run (those at or
    /// above --fail-on, or of unknown severity with --fail-on-unknown; alone, any new one)
    #[arg(long, requires = "baseline")]
    pub fail_on_new: bool,
    /// The Vigil server of --baseline server [default: the URL of --upload]
    #[arg(long, env = "VIGIL_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Exit with code 1 when some packages could not be checked: the database holds no
    /// advisories for their ecosystem (an OS release, a language), or Vigil cannot match the OS
    #[arg(long)]
    pub fail_on_missing_data: bool,
    /// Leave out vulnerabilities that have no fix yet or will not be fixed
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// Report only vulnerabilities known to be exploited (CISA KEV)
    #[arg(long)]
    pub exploited_only: bool,
    /// Do not fetch an advisory database when there is none
    #[arg(long)]
    pub offline: bool,
    /// Ignore file [default: .vigilignore.yaml in the current directory, when present]
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// OpenVEX document whose not_affected and fixed statements suppress findings (repeatable)
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// What to look for (comma-separated): vuln (known vulnerabilities), config (compliance
    /// policies and misconfigurations), secret (leaked credentials)
    #[arg(long, value_enum, value_delimiter = ',', default_value = "vuln", value_name = "SCANNER,...")]
    pub scanners: Vec<ScannerArg>,
    #[command(flatten, next_help_heading = "Configuration and secret checks")]
    pub checks: ChecksArgs,
    #[command(flatten, next_help_heading = "Image targets")]
    pub image: ImageArgs,
}

/// One scanner of `--scanners`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScannerArg {
    /// Known vulnerabilities of the packages found
    Vuln,
    /// Compliance policies and misconfigurations (Dockerfile, Kubernetes, compose)
    Config,
    /// Leaked credentials
    Secret,
}

impl ScannerArg {
    /// The name results carry (`config`, `secret`).
    pub fn name(self) -> &'static str {
        match self {
            ScannerArg::Vuln => "vuln",
            ScannerArg::Config => "config",
            ScannerArg::Secret => "secret",
        }
    }
}

/// How configuration, compliance and secret checks run (`scan`, `comply`).
#[derive(Debug, Clone, Args)]
pub struct ChecksArgs {
    /// Compliance policy: a built-in name (debian, rhel, alpine) or a YAML file, which may
    /// extend a built-in one (repeatable) [default: the built-in policies for the target's OS]
    #[arg(long = "policy", value_name = "NAME|FILE")]
    pub policies: Vec<String>,
    /// Allow-lists and entropy thresholds for secret detection (YAML)
    #[arg(long, value_name = "FILE")]
    pub secret_config: Option<PathBuf>,
    /// Largest file read for misconfigurations and secrets, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 8)]
    pub max_check_file_mib: u64,
}

/// `vigil comply` flags.
#[derive(Debug, Args)]
pub struct ComplyArgs {
    /// A container image (archive, OCI layout, registry reference), a root filesystem or a
    /// repository directory
    pub target: String,
    /// What to check (comma-separated): config (compliance policies and misconfigurations),
    /// secret (leaked credentials)
    #[arg(long, value_enum, value_delimiter = ',', default_value = "config", value_name = "SCANNER,...")]
    pub scanners: Vec<ScannerArg>,
    #[command(flatten)]
    pub checks: ChecksArgs,
    /// Output format, repeatable; FORMAT=FILE writes that format to FILE
    /// (table, json, sarif, junit, markdown) [default: table]
    #[arg(long, value_name = "FORMAT[=FILE]", value_parser = parse_comply_output)]
    pub format: Vec<ComplyOutput>,
    /// Write the format given without =FILE to FILE instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with code 1 when a failed check, misconfiguration or secret of this severity or higher is found
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
    /// Ignore file: entries name a check or rule id (and optionally a path prefix), with a reason
    /// and an expiry [default: .vigilignore.yaml in the current directory, when present]
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    #[command(flatten, next_help_heading = "Image targets")]
    pub image: ImageArgs,
    #[command(flatten, next_help_heading = "Upload to a Vigil server")]
    pub upload: crate::cli_platform::UploadArgs,
}

/// `--format` of `vigil comply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ComplyFormatArg {
    /// A table for people
    Table,
    /// The versioned JSON report
    Json,
    /// SARIF 2.1.0 with file and line locations
    Sarif,
    /// JUnit XML: a test case per check and per issue
    Junit,
    /// Markdown (pull-request comments)
    Markdown,
}

/// One `--format FORMAT[=FILE]` of `vigil comply`.
#[derive(Debug, Clone)]
pub struct ComplyOutput {
    /// The format.
    pub format: ComplyFormatArg,
    /// Where to write it; standard output (or `--output`) when absent.
    pub file: Option<PathBuf>,
}

fn parse_comply_output(s: &str) -> Result<ComplyOutput, String> {
    let (name, file) = match s.split_once('=') {
        Some((n, f)) if !f.is_empty() => (n, Some(PathBuf::from(f))),
        Some(_) => return Err(format!("{s}: FORMAT=FILE needs a file name")),
        None => (s, None),
    };
    Ok(ComplyOutput { format: ComplyFormatArg::from_str(name, true)?, file })
}

/// `vigil diff` flags.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier side: a Vigil JSON report, or a target to scan now
    pub old: String,
    /// The later side: a Vigil JSON report, or a target to scan now
    pub new: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = DiffFormatArg::Table)]
    pub format: DiffFormatArg,
    /// Write to FILE instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Do not fetch an advisory database when a target needs one and there is none
    #[arg(long)]
    pub offline: bool,
    #[command(flatten, next_help_heading = "Image targets")]
    pub image: ImageArgs,
}

/// `--format` of `vigil diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormatArg {
    /// A table for people
    Table,
    /// The versioned JSON diff
    Json,
    /// Markdown (pull-request comments)
    Markdown,
    /// SARIF 2.1.0: the introduced findings, with baselineState
    Sarif,
}

/// `--format` of `vigil scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormatArg {
    /// A table for people
    Table,
    /// The versioned JSON report
    Json,
    /// SARIF 2.1.0 (GitHub code scanning and other dashboards)
    Sarif,
    /// JUnit XML (CI test reports)
    Junit,
    /// Markdown (pull-request comments)
    Markdown,
    /// CycloneDX 1.6 JSON with vulnerabilities
    Cyclonedx,
}

/// One `--format FORMAT[=FILE]`.
#[derive(Debug, Clone)]
pub struct ScanOutput {
    /// The format.
    pub format: ScanFormatArg,
    /// Where to write it; standard output (or `--output`) when absent.
    pub file: Option<PathBuf>,
}

fn parse_scan_output(s: &str) -> Result<ScanOutput, String> {
    let (name, file) = match s.split_once('=') {
        Some((n, f)) if !f.is_empty() => (n, Some(PathBuf::from(f))),
        Some(_) => return Err(format!("{s}: FORMAT=FILE needs a file name")),
        None => (s, None),
    };
    let format = ScanFormatArg::from_str(name, true)?;
    Ok(ScanOutput { format, file })
}

/// A severity threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    /// Low and above
    Low,
    /// Medium and above
    Medium,
    /// High and above
    High,
    /// Critical only
    Critical,
}

/// `vigil sbom` flags.
#[derive(Debug, Args)]
pub struct SbomArgs {
    /// A container image (docker-archive or oci-archive tar, OCI layout directory, or a
    /// registry reference such as ghcr.io/org/app:1.0 or 127.0.0.1:5000/app@sha256:...), a
    /// root filesystem or project directory, a lockfile or an SBOM
    pub target: String,
    /// SBOM format
    #[arg(long, value_enum, default_value_t = SbomFormatArg::Cyclonedx)]
    pub format: SbomFormatArg,
    /// Write to FILE instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten, next_help_heading = "Image targets")]
    pub image: ImageArgs,
}

/// `--format` of `vigil sbom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormatArg {
    /// CycloneDX 1.6 JSON
    Cyclonedx,
    /// SPDX 2.3 JSON
    Spdx,
    /// Vigil's inventory JSON
    Json,
}

/// `vigil version ...`
#[derive(Debug, Subcommand)]
pub enum VersionCommand {
    /// Compare two versions under an ecosystem's rules; prints <, = or >
    Compare {
        /// OSV ecosystem name, with or without release (Debian, Debian:11, PyPI, Maven, ...)
        ecosystem: String,
        /// First version
        #[arg(required_unless_present = "stdin")]
        a: Option<String>,
        /// Second version
        #[arg(required_unless_present = "stdin")]
        b: Option<String>,
        /// Read one "A B" pair per line from standard input, print one answer per line
        #[arg(long, conflicts_with_all = ["a", "b"])]
        stdin: bool,
    },
}

/// Output format for commands that report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people
    Text,
    /// For scripts (one JSON document on standard output)
    Json,
}

/// `--format` shared by reporting commands.
#[derive(Debug, Args)]
pub struct FormatArg {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `vigil db ...`
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Download OSV, KEV and EPSS data and rebuild the database (atomically)
    Update(UpdateArgs),
    /// Rebuild the database from local OSV zips/JSON/directories and KEV/EPSS files (offline)
    Import {
        /// OSV all.zip files, OSV JSON files, directories of them, KEV JSON, EPSS CSV(.gz)
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Show what the database holds, where it came from and how old it is
    Status {
        #[command(flatten)]
        format: FormatArg,
    },
    /// Show which advisories affect ECOSYSTEM PACKAGE VERSION, and why
    Explain {
        /// OSV ecosystem, with or without release (Debian:11, crates.io, ...)
        ecosystem: String,
        /// Package name (source package for Debian/Ubuntu, origin for Alpine)
        package: String,
        /// Installed version
        #[arg(value_name = "VERSION")]
        installed: String,
        /// Also list the package's advisories that do not match, and why
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        format: FormatArg,
    },
}

/// `vigil db update` flags.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Base URL (or directory) of the OSV bulk export: <base>/<Ecosystem>/all.zip
    #[arg(long, env = "VIGIL_OSV_BASE", value_name = "URL")]
    pub osv_base: Option<String>,
    /// Ecosystem folder to fetch (repeatable) [default: config, else Vigil's list]
    #[arg(long = "ecosystem", value_name = "NAME")]
    pub ecosystems: Vec<String>,
    /// URL of the CISA KEV JSON catalog
    #[arg(long, env = "VIGIL_KEV_URL", value_name = "URL")]
    pub kev_url: Option<String>,
    /// URL of the EPSS CSV (gzip)
    #[arg(long, env = "VIGIL_EPSS_URL", value_name = "URL")]
    pub epss_url: Option<String>,
    /// Do not fetch the KEV catalog
    #[arg(long)]
    pub no_kev: bool,
    /// Do not fetch EPSS scores
    #[arg(long)]
    pub no_epss: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub format: FormatArg,
}

/// Size caps for hostile inputs.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Largest download or input file accepted, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    pub max_download_mib: u64,
    /// Largest total decompressed size of one archive, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 8192)]
    pub max_decompressed_mib: u64,
}
