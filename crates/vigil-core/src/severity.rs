//! The qualitative severity scale (CVSS v3/v4 ratings), shared by CVSS
//! scores and vendor ratings such as Ubuntu's priorities.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Qualitative severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No rating is known.
    Unknown,
    /// CVSS 0.0.
    None,
    /// CVSS 0.1 - 3.9.
    Low,
    /// CVSS 4.0 - 6.9.
    Medium,
    /// CVSS 7.0 - 8.9.
    High,
    /// CVSS 9.0 - 10.0.
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 6] =
        [Severity::Unknown, Severity::None, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// The CVSS v3/v4 qualitative rating of a base score.
    pub fn from_score(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            0.0 => Severity::None,
            _ => Severity::Unknown,
        }
    }

    /// Reads a vendor's word for a severity (`moderate`, `important`,
    /// `negligible`, ...), case-insensitively.
    pub fn from_rating(word: &str) -> Option<Severity> {
        Some(match word.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" | "negligible" => Severity::Low,
            "none" => Severity::None,
            "unknown" | "untriaged" => Severity::Unknown,
            _ => return None,
        })
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands() {
        assert_eq!(Severity::from_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_score(7.0), Severity::High);
        assert_eq!(Severity::from_score(3.9), Severity::Low);
        assert_eq!(Severity::from_rating("Moderate"), Some(Severity::Medium));
    }
}
