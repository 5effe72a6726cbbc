//! The secret rules: one row per credential format. A pattern's `secret`
//! group is the credential; `keywords` (any of them, case-insensitive) must
//! occur in a file before its pattern runs; `entropy` is the least Shannon
//! entropy (bits per character) the credential must have, overridable per
//! rule in the configuration; `check` refuses look-alikes a pattern cannot.

use base64::Engine;
use vigil_core::severity::Severity;

/// One kind of credential.
#[derive(Debug)]
pub struct Rule {
    /// Stable id (`aws-access-key-id`).
    pub id: &'static str,
    /// What was found.
    pub title: &'static str,
    /// How bad a leak is.
    pub severity: Severity,
    /// Words one of which a file must contain for the pattern to run.
    pub keywords: &'static [&'static str],
    /// The pattern; its `secret` group is the credential.
    pub pattern: &'static str,
    /// Least entropy of the credential (3 bits per character when not given).
    pub entropy: Option<f64>,
    /// Further test of a candidate credential (`secret`, the whole file).
    pub check: Option<fn(&str, &str) -> bool>,
    /// Whether the credential spans lines (the pattern runs over the whole file, not the keyword's lines).
    pub multiline: bool,
}

const fn rule(
    id: &'static str,
    title: &'static str,
    severity: Severity,
    keywords: &'static [&'static str],
    pattern: &'static str,
) -> Rule {
    Rule { id, title, severity, keywords, pattern, entropy: None, check: None, multiline: false }
}

/// Every secret rule.
pub static RULES: &[Rule] = &[
    Rule {
        check: Some(|s, _| !s.ends_with("EXAMPLE")),
        ..rule(
            "aws-access-key-id",
            "AWS access key id",
            Severity::High,
            &["akia", "asia", "abia", "acca"],
            r"\b(?P<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        )
    },
    Rule {
        entropy: Some(4.0),
        check: Some(|s, _| !s.contains("EXAMPLE")),
        ..rule(
            "aws-secret-access-key",
            "AWS secret access key",
            Severity::Critical,
            &["aws"],
            r#"(?i)aws[a-z0-9_.\-]{0,20}(?:secret|key|token)[a-z0-9_.\-]{0,20}["']?\s*(?::=|=>|=|:)\s*["']?(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        )
    },
    Rule {
        check: Some(|_, text| text.contains("service_account")),
        ..rule(
            "gcp-service-account-key",
            "Google Cloud service-account key",
            Severity::Critical,
            &["private_key_id"],
            r#""private_key_id"\s*:\s*"(?P<secret>[0-9a-f]{40})""#,
        )
    },
    rule(
        "gcp-api-key",
        "Google API key",
        Severity::High,
        &["aiza"],
        r"\b(?P<secret>AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)",
    ),
    Rule {
        entropy: Some(4.0),
        ..rule(
            "azure-storage-account-key",
            "Azure storage account key",
            Severity::Critical,
            &["accountkey"],
            r"(?i)AccountKey\s*=\s*(?P<secret>[A-Za-z0-9+/]{86}==)",
        )
    },
    Rule {
        entropy: Some(3.5),
        ..rule(
            "azure-ad-client-secret",
            "Azure AD (Entra ID) client secret",
            Severity::High,
            &["q~"],
            r"(?:^|[^A-Za-z0-9_~.\-])(?P<secret>[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)",
        )
    },
    rule(
        "github-token",
        "GitHub token",
        Severity::Critical,
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        r"\b(?P<secret>(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36})\b",
    ),
    rule(
        "github-fine-grained-token",
        "GitHub fine-grained token",
        Severity::Critical,
        &["github_pat_"],
        r"\b(?P<secret>github_pat_[A-Za-z0-9_]{82})\b",
    ),
    rule(
        "gitlab-token",
        "GitLab personal access token",
        Severity::Critical,
        &["glpat-"],
        r"\b(?P<secret>glpat-[A-Za-z0-9_\-]{20})(?:[^A-Za-z0-9_\-]|$)",
    ),
    rule(
        "slack-token",
        "Slack token",
        Severity::High,
        &["xox"],
        r"\b(?P<secret>xox[abposr]-[0-9]{8,13}-[0-9A-Za-z\-]{8,})",
    ),
    rule(
        "slack-webhook",
        "Slack incoming webhook",
        Severity::Medium,
        &["hooks.slack.com"],
        r"https://hooks\.slack\.com/services/(?P<secret>T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{24})",
    ),
    rule(
        "stripe-secret-key",
        "Stripe secret or restricted key",
        Severity::Critical,
        &["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
        r"\b(?P<secret>[rs]k_(?:live|test)_[0-9A-Za-z]{24,99})\b",
    ),
    rule("npm-token", "npm access token", Severity::High, &["npm_"], r"\b(?P<secret>npm_[A-Za-z0-9]{36})\b"),
    rule(
        "sendgrid-api-key",
        "SendGrid API key",
        Severity::High,
        &["sg."],
        r"\b(?P<secret>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)",
    ),
    rule(
        "pypi-token",
        "PyPI upload token",
        Severity::High,
        &["pypi-"],
        r"\b(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})",
    ),
    Rule {
        check: Some(|s, _| s.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/').count() >= 64),
        multiline: true,
        ..rule(
            "private-key",
            "Private key",
            Severity::Critical,
            &["private key"],
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?P<secret>[A-Za-z0-9+/=\s:,\-\\]{64,}?)-----END",
        )
    },
    Rule {
        check: Some(|s, _| is_jwt(s)),
        ..rule(
            "jwt",
            "JSON Web Token",
            Severity::Medium,
            &["eyj"],
            r"\b(?P<secret>eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{16,})",
        )
    },
    Rule {
        entropy: Some(3.0),
        check: Some(|s, _| !is_placeholder(s)),
        ..rule(
            "url-password",
            "Password in a URL",
            Severity::High,
            &["://"],
            r"\b[A-Za-z][A-Za-z0-9+.\-]{1,15}://[A-Za-z0-9._%~\-]{1,64}:(?P<secret>[^@/\s:'\x22`]{6,128})@[A-Za-z0-9.\-]{2,}",
        )
    },
    Rule {
        entropy: Some(3.5),
        check: Some(|s, _| {
            !is_placeholder(s) && s.chars().any(|c| c.is_ascii_digit()) && s.chars().any(|c| c.is_ascii_alphabetic())
        }),
        ..rule(
            "generic-secret",
            "High-entropy secret assigned to a credential name",
            Severity::Medium,
            &["pass", "pwd", "secret", "token", "key", "credential", "auth"],
            r#"(?i)(?:^|[^A-Za-z0-9])[A-Za-z0-9_.\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|auth[_\-]?key|credentials?)[A-Za-z0-9_\-]*["']?\s*(?::=|=>|=|:)\s*["'](?P<secret>[^"'\s]{12,200})["']"#,
        )
    },
];

/// True for values that only look like credentials: templates,
/// references to the environment, masks and the usual stand-ins.
fn is_placeholder(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    s.contains("${")
        || s.contains("{{")
        || s.starts_with('$')
        || s.starts_with('<')
        || s.starts_with('%')
        || s.contains("(")
        || s.chars().all(|c| c == '*' || c == 'x' || c == 'X' || c == '.' || c == '-')
        || ["example", "changeme", "placeholder", "your_", "your-", "redacted", "dummy", "xxxx", "****", "sample"]
            .iter()
            .any(|w| lower.contains(w))
}

/// A JWT whose header decodes to a JSON object naming an algorithm.
fn is_jwt(token: &str) -> bool {
    let Some(header) = token.split('.').next() else { return false };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&bytes).is_ok_and(|v| v.get("alg").is_some())
}
