//! OSV range evaluation, exactly as the OSV schema's evaluation section
//! specifies for `ECOSYSTEM` and `SEMVER` ranges.
//!
//! Events are sorted by version (`introduced: "0"` is lower than every
//! version) and walked in order: `introduced <= v` makes `v` affected,
//! `fixed <= v` (exclusive) and `last_affected < v` (inclusive) make it not
//! affected; the last event that applies wins. `limit` events cap the range:
//! a version at or above every limit is never affected. `GIT` ranges compare
//! commits, not versions, and are not evaluated here.

use std::cmp::Ordering;
use std::fmt;

use crate::Scheme;

/// One OSV range event (serialised as OSV writes it, `{"introduced": "0"}`,
/// with the `serde` feature).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum Event {
    /// The first affected version (`"0"` means "since the beginning").
    Introduced(String),
    /// The first version with the fix (exclusive upper bound).
    Fixed(String),
    /// The last affected version (inclusive upper bound).
    LastAffected(String),
    /// An upper limit on the range (exclusive).
    Limit(String),
}

impl Event {
    /// The event's version string.
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }

    /// The OSV field name of the event.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Introduced(_) => "introduced",
            Event::Fixed(_) => "fixed",
            Event::LastAffected(_) => "last_affected",
            Event::Limit(_) => "limit",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.version())
    }
}

/// Why a version is or is not inside one range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// `introduced <= version`, and below the next upper bound if there is one.
    Affected {
        /// The `introduced` event that applied last.
        introduced: String,
        /// The next `fixed` or `last_affected` event above the version, if any.
        until: Option<Event>,
    },
    /// The version is below every `introduced` event.
    BeforeIntroduced {
        /// The lowest `introduced` version of the range.
        first: String,
    },
    /// `fixed <= version`: the fix is installed.
    Fixed {
        /// The fixed version that applied last.
        fixed: String,
    },
    /// `last_affected < version`.
    AfterLastAffected {
        /// The last affected version that applied last.
        last_affected: String,
    },
    /// The version is at or above every `limit` event.
    AtOrAboveLimit {
        /// The highest limit.
        limit: String,
    },
    /// The range has no `introduced` event, so it affects nothing.
    NoIntroduced,
}

impl Decision {
    /// True when the version is affected.
    pub fn is_affected(&self) -> bool {
        matches!(self, Decision::Affected { .. })
    }

    /// A one-line account of the comparison that decided it, for `explain`.
    pub fn describe(&self, version: &str) -> String {
        match self {
            Decision::Affected { introduced, until: None } => {
                format!("introduced {introduced} <= {version}, no fix or upper bound above it")
            }
            Decision::Affected { introduced, until: Some(Event::LastAffected(l)) } => {
                format!("introduced {introduced} <= {version} <= last_affected {l}")
            }
            Decision::Affected { introduced, until: Some(e) } => {
                format!("introduced {introduced} <= {version} < {e}")
            }
            Decision::BeforeIntroduced { first } => format!("{version} < introduced {first}"),
            Decision::Fixed { fixed } => format!("{version} >= fixed {fixed}"),
            Decision::AfterLastAffected { last_affected } => {
                format!("{version} > last_affected {last_affected}")
            }
            Decision::AtOrAboveLimit { limit } => format!("{version} >= limit {limit}"),
            Decision::NoIntroduced => "range has no introduced event".to_owned(),
        }
    }
}

/// Compares two event versions, with `introduced: "0"` below everything.
fn cmp_event(scheme: Scheme, a: &Event, b: &Event) -> Ordering {
    let zero = |e: &Event| matches!(e, Event::Introduced(v) if v == "0");
    match (zero(a), zero(b)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => scheme.compare(a.version(), b.version()),
    }
}

/// Evaluates one `ECOSYSTEM` or `SEMVER` range for `version`.
pub fn evaluate(scheme: Scheme, events: &[Event], version: &str) -> Decision {
    // Producers nearly always write events in order; sort only when not.
    let in_order = events.is_sorted_by(|a, b| cmp_event(scheme, a, b).is_le());
    if in_order {
        walk(scheme, events.len(), |i| &events[i], version)
    } else {
        let sorted = sort_events(scheme, events);
        walk(scheme, sorted.len(), |i| sorted[i], version)
    }
}

/// A stable merge sort of the events. The standard library's sorts may panic
/// when the comparison is not a total order, and some schemes are not one on
/// every input (Maven itself has cycles: `2.9.0.RC1` < `2.9` < `2.9-1` <
/// `2.9.0.RC1`); an advisory file must never make the scanner panic.
fn sort_events(scheme: Scheme, events: &[Event]) -> Vec<&Event> {
    let mut items: Vec<&Event> = events.iter().collect();
    let mut merged = Vec::with_capacity(items.len());
    let mut width = 1;
    while width < items.len() {
        merged.clear();
        for chunk in items.chunks(2 * width) {
            let (left, right) = chunk.split_at(width.min(chunk.len()));
            let (mut i, mut j) = (0, 0);
            while i < left.len() && j < right.len() {
                if cmp_event(scheme, right[j], left[i]).is_lt() {
                    merged.push(right[j]);
                    j += 1;
                } else {
                    merged.push(left[i]);
                    i += 1;
                }
            }
            merged.extend_from_slice(&left[i..]);
            merged.extend_from_slice(&right[j..]);
        }
        std::mem::swap(&mut items, &mut merged);
        width *= 2;
    }
    items
}

/// The evaluation proper, over `len` events in sorted order.
fn walk<'a>(scheme: Scheme, len: usize, event: impl Fn(usize) -> &'a Event, version: &str) -> Decision {
    let mut highest_limit = None;
    let mut below_a_limit = false;
    for e in (0..len).map(&event) {
        if let Event::Limit(l) = e {
            highest_limit = Some(l);
            below_a_limit |= scheme.compare(version, l).is_lt();
        }
    }
    if let Some(limit) = highest_limit
        && !below_a_limit
    {
        return Decision::AtOrAboveLimit { limit: limit.clone() };
    }

    let Some(first) = (0..len).map(&event).find(|e| matches!(e, Event::Introduced(_))) else {
        return Decision::NoIntroduced;
    };
    // The index of the last event that applied.
    let mut last = None;
    for i in 0..len {
        let applies = match event(i) {
            Event::Introduced(v) => v == "0" || scheme.compare(version, v).is_ge(),
            Event::Fixed(v) => scheme.compare(version, v).is_ge(),
            Event::LastAffected(v) => scheme.compare(version, v).is_gt(),
            Event::Limit(_) => false,
        };
        if applies {
            last = Some(i);
        }
    }
    match last.map(|i| (i, event(i))) {
        None => Decision::BeforeIntroduced { first: first.version().to_owned() },
        Some((i, Event::Introduced(v))) => {
            let until =
                (i + 1..len).map(&event).find(|e| matches!(e, Event::Fixed(_) | Event::LastAffected(_))).cloned();
            Decision::Affected { introduced: v.clone(), until }
        }
        Some((_, Event::Fixed(v))) => Decision::Fixed { fixed: v.clone() },
        Some((_, Event::LastAffected(v))) => Decision::AfterLastAffected { last_affected: v.clone() },
        Some((_, Event::Limit(_))) => Decision::NoIntroduced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(spec: &[(&str, &str)]) -> Vec<Event> {
        spec.iter()
            .map(|(k, v)| match *k {
                "introduced" => Event::Introduced((*v).into()),
                "fixed" => Event::Fixed((*v).into()),
                "last_affected" => Event::LastAffected((*v).into()),
                _ => Event::Limit((*v).into()),
            })
            .collect()
    }

    #[test]
    fn fixed_is_exclusive_last_affected_inclusive() {
        let s = Scheme::Semver;
        let r = ev(&[("introduced", "1.0.0"), ("fixed", "1.2.0")]);
        assert!(!evaluate(s, &r, "0.9.0").is_affected());
        assert!(evaluate(s, &r, "1.0.0").is_affected());
        assert!(evaluate(s, &r, "1.1.9").is_affected());
        assert!(!evaluate(s, &r, "1.2.0").is_affected());
        let r = ev(&[("introduced", "0"), ("last_affected", "1.2.0")]);
        assert!(evaluate(s, &r, "1.2.0").is_affected());
        assert!(!evaluate(s, &r, "1.2.1").is_affected());
    }

    #[test]
    fn multiple_introduced_and_unsorted_events() {
        let s = Scheme::Semver;
        let r = ev(&[("fixed", "2.1.0"), ("introduced", "2.0.0"), ("fixed", "1.5.0"), ("introduced", "1.0.0")]);
        assert!(evaluate(s, &r, "1.4.0").is_affected());
        assert!(!evaluate(s, &r, "1.7.0").is_affected());
        assert!(evaluate(s, &r, "2.0.5").is_affected());
        assert_eq!(evaluate(s, &r, "2.1.0"), Decision::Fixed { fixed: "2.1.0".into() });
    }

    #[test]
    fn limit_caps_the_range() {
        let s = Scheme::Semver;
        let r = ev(&[("introduced", "0"), ("limit", "2.0.0")]);
        assert!(evaluate(s, &r, "1.9.0").is_affected());
        assert!(!evaluate(s, &r, "2.0.0").is_affected());
    }

    #[test]
    fn introduced_zero_is_below_everything() {
        let r = ev(&[("introduced", "0"), ("fixed", "1:1.0-1")]);
        assert!(evaluate(Scheme::Dpkg, &r, "0~~").is_affected());
        assert_eq!(evaluate(Scheme::Dpkg, &r, "1:1.0-1").describe("1:1.0-1"), "1:1.0-1 >= fixed 1:1.0-1");
    }

    #[test]
    fn events_in_a_cycle_are_sorted_without_a_panic() {
        // Maven's own order is cyclic here; a hostile advisory lists such
        // events many times, out of order.
        let cycle = ["2.9-1", "2.9.0.RC1", "2.9"];
        let spec: Vec<(&str, &str)> =
            (0..300).map(|i| (if i % 2 == 0 { "fixed" } else { "introduced" }, cycle[(i * 7) % 3])).collect();
        let r = ev(&spec);
        let sorted = sort_events(Scheme::Maven, &r);
        assert_eq!(sorted.len(), r.len());
        evaluate(Scheme::Maven, &r, "2.9");
        // On a total order the merge sort sorts.
        let r = ev(&[("fixed", "3.0.0"), ("introduced", "1.0.0"), ("fixed", "1.5.0"), ("introduced", "2.0.0")]);
        let versions: Vec<&str> = sort_events(Scheme::Semver, &r).iter().map(|e| e.version()).collect();
        assert_eq!(versions, ["1.0.0", "1.5.0", "2.0.0", "3.0.0"]);
    }
}
