//! Test helpers: an OSV mirror built from the fixture records, a tiny HTTP
//! server on 127.0.0.1 that can also misbehave, and a runner for the
//! `vigil` binary with its own database directory.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Zips every `*.json` file of `dir` into `zip_path`.
pub fn zip_dir(dir: &Path, zip_path: &Path) {
    std::fs::create_dir_all(zip_path.parent().unwrap()).unwrap();
    let mut zip = zip::ZipWriter::new(std::fs::File::create(zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        zip.start_file(f.file_name().unwrap().to_string_lossy(), options).unwrap();
        zip.write_all(&std::fs::read(f).unwrap()).unwrap();
    }
    zip.finish().unwrap();
}

/// A mirror laid out as the OSV bulk export plus KEV and EPSS files:
/// `osv/<Eco>/all.zip`, `kev/known_exploited_vulnerabilities.json`, `epss.csv.gz`.
pub fn mirror() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixtures().join("osv")).unwrap() {
        let dir = entry.unwrap().path();
        let eco = dir.file_name().unwrap().to_owned();
        zip_dir(&dir, &root.path().join("osv").join(eco).join("all.zip"));
    }
    std::fs::create_dir_all(root.path().join("kev")).unwrap();
    std::fs::copy(
        fixtures().join("kev/known_exploited_vulnerabilities.json"),
        root.path().join("kev/known_exploited_vulnerabilities.json"),
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(
        b"#model_version:v2025.03.14,score_date:2025-08-01T00:00:00+0000\ncve,epss,percentile\n\
          CVE-2021-3156,0.94210,0.99912\nCVE-2021-25900,0.00512,0.65000\n",
    )
    .unwrap();
    std::fs::write(root.path().join("epss.csv.gz"), gz.finish().unwrap()).unwrap();
    root
}

/// The names of the ecosystem folders in the fixtures.
pub fn fixture_ecosystems() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join("osv"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A static file server on 127.0.0.1. Paths under `/cut/` are served with
/// the full `Content-Length` but only half the body before the connection
/// closes (an interrupted download).
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// Serves `root` until the test process ends.
    pub fn start(root: &Path) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let root = root.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                std::thread::spawn(move || {
                    let _ = serve(&root, stream);
                });
            }
        });
        Server { base }
    }
}

fn serve(root: &Path, mut stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let (cut, rel) = match path.strip_prefix("/cut/") {
        Some(rest) => (true, rest.to_owned()),
        None => (false, path.trim_start_matches('/').to_owned()),
    };
    let rel = rel.replace("%3A", ":").replace("%20", " ");
    let file = root.join(&rel);
    let mut body = Vec::new();
    if rel.contains("..") || std::fs::File::open(&file).and_then(|mut f| f.read_to_end(&mut body)).is_err() {
        return stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
    }
    write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
    if cut {
        stream.write_all(&body[..body.len() / 2])?;
        stream.flush()?;
        return stream.shutdown(std::net::Shutdown::Both);
    }
    stream.write_all(&body)
}

/// Runs `vigil` with `args`, the database in `db_dir` and a clean environment.
pub fn vigil(db_dir: &Path, args: &[&str]) -> Output {
    vigil_env(db_dir, args, &[])
}

/// Like [`vigil`] with extra environment variables.
pub fn vigil_env(db_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.args(args)
        .env("VIGIL_DB_DIR", db_dir)
        .env("HOME", db_dir)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("VIGIL_OSV_BASE")
        .env_remove("VIGIL_KEV_URL")
        .env_remove("VIGIL_EPSS_URL")
        .env_remove("VIGIL_CONFIG")
        .env_remove("VIGIL_DB_MAX_AGE_DAYS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and parses standard output as JSON.
pub fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "vigil failed: {}\n{}", stderr(o), stdout(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

/// `db update` arguments pointing at a mirror served from `base`.
pub fn update_args(base: &str, osv_prefix: &str, ecosystems: &[String]) -> Vec<String> {
    let mut args = vec![
        "db".to_owned(),
        "update".to_owned(),
        "--osv-base".to_owned(),
        format!("{base}/{osv_prefix}"),
        "--kev-url".to_owned(),
        format!("{base}/kev/known_exploited_vulnerabilities.json"),
        "--epss-url".to_owned(),
        format!("{base}/epss.csv.gz"),
    ];
    for e in ecosystems {
        args.push("--ecosystem".to_owned());
        args.push(e.clone());
    }
    args
}

/// Runs a Python snippet as an oracle; `None` (loud skip, or failure under
/// `VIGIL_REQUIRE_ORACLES`) when its module is missing.
pub fn python(module: &str, program: &str, args: &[&str]) -> Option<String> {
    let probe = Command::new("python3").args(["-c", &format!("import {module}")]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        skip(&format!("Python module {module} is not installed (scripts/test.sh installs it)"));
        return None;
    }
    let out = Command::new("python3").arg("-c").arg(program).args(args).output().unwrap();
    assert!(out.status.success(), "oracle failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Reports a test that cannot run: a failure under `VIGIL_REQUIRE_ORACLES`
/// (set by scripts/test.sh, which installs every tool), otherwise a loud
/// note written past the test harness's output capture.
pub fn skip(why: &str) {
    assert!(std::env::var_os("VIGIL_REQUIRE_ORACLES").is_none(), "{why}");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("\n!!!!! SKIPPED: {why} !!!!!\n\n").as_bytes());
}

/// Whether the program `name` runs (`name ARG` succeeds); a [`skip`] when not.
pub fn require_tool(name: &str, arg: &str) -> bool {
    let ok = Command::new(name).arg(arg).output().is_ok_and(|o| o.status.success());
    if !ok {
        skip(&format!("{name} is not installed (scripts/test.sh installs it)"));
    }
    ok
}

/// A tar file of `(name, bytes)` members.
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Asserts that the file is valid CycloneDX 1.6 JSON, by cyclonedx-python-lib's strict validator.
pub fn assert_valid_cyclonedx(path: &Path) {
    let program = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\n\
                   print(JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read()) or 'valid')";
    if let Some(verdict) = python("cyclonedx.validation.json", program, &[path.to_str().unwrap()]) {
        assert_eq!(verdict, "valid", "{}", path.display());
    }
}

/// Asserts that the file is a valid SPDX 2.3 document, by spdx-tools.
pub fn assert_valid_spdx(path: &Path) {
    let program = "import sys\nfrom spdx_tools.spdx.parser.parse_anything import parse_file\n\
                   from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document\n\
                   msgs = validate_full_spdx_document(parse_file(sys.argv[1]))\nprint('valid' if not msgs else msgs)";
    if let Some(verdict) = python("spdx_tools", program, &[path.to_str().unwrap()]) {
        assert_eq!(verdict, "valid", "{}", path.display());
    }
}
