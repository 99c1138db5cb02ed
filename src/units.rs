//! Durations and rates written with units, as the scenario format requires.
//!
//! Internally all time is in **hours** (`f64`): a duration `"90m"` is `1.5`, a rate `"40/h"` is
//! `40.0` per hour.

/// Units a duration or rate may carry, as (name, seconds per unit). Conversions divide or
/// multiply by exact integers, so "7.03125s" is exactly 1/512 h.
const UNITS: &[(&str, f64)] = &[
    ("s", 1.0),
    ("m", 60.0),
    ("min", 60.0),
    ("h", 3600.0),
    ("d", 86400.0),
    ("w", 604800.0),
];

/// What a duration may look like, for error messages.
pub const DURATION_HELP: &str =
    "a positive number with a unit: \"45s\", \"6m\", \"1.5h\", \"2d\" (units s, m, min, h, d, w)";
/// What a rate may look like, for error messages.
pub const RATE_HELP: &str =
    "a positive number per unit time: \"40/h\", \"960/d\", \"2/m\" (units s, m, min, h, d, w)";

/// Converts `v` units to hours.
fn unit_to_hours(unit: &str, v: f64) -> Option<f64> {
    let secs = UNITS.iter().find(|(u, _)| *u == unit).map(|(_, s)| *s)?;
    Some(if secs >= 3600.0 {
        v * (secs / 3600.0)
    } else {
        v / (3600.0 / secs)
    })
}

fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    // Reject things Rust's parser accepts but a scenario should not: "inf", "nan", "+".
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b"+-.eE_".contains(&b)) {
        return None;
    }
    s.replace('_', "").parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parses a duration such as `"45s"` or `"1.5h"` into hours. Zero is allowed here; callers
/// that need a positive duration check that themselves.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let t = text.trim();
    // The unit is the trailing run of letters: "1.5h" → ("1.5", "h"), "1e1h" → ("1e1", "h").
    let split = t.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len();
    let (num, unit) = t.split_at(split);
    if unit.is_empty() {
        return Err(format!("`{text}` has no unit; expected {DURATION_HELP}"));
    }
    let v = parse_number(num)
        .ok_or_else(|| format!("`{text}` is not a valid duration; expected {DURATION_HELP}"))?;
    if v < 0.0 {
        return Err(format!("`{text}` is negative; expected {DURATION_HELP}"));
    }
    unit_to_hours(unit.trim(), v)
        .ok_or_else(|| format!("`{text}` has an unknown unit `{unit}`; expected {DURATION_HELP}"))
}

/// Parses a rate such as `"40/h"` into events per hour.
/// A time-series step (`--timeseries`): a duration longer than zero, in hours.
pub fn parse_step(s: &str) -> Result<f64, String> {
    match parse_duration(s)? {
        h if h > 0.0 => Ok(h),
        _ => Err(format!("`{s}` must be longer than zero")),
    }
}

pub fn parse_rate(text: &str) -> Result<f64, String> {
    let Some((num, unit)) = text.split_once('/') else {
        return Err(format!("`{text}` has no `/unit`; expected {RATE_HELP}"));
    };
    let v = parse_number(num).ok_or_else(|| format!("`{text}` is not a valid rate; expected {RATE_HELP}"))?;
    if v <= 0.0 {
        return Err(format!("`{text}` must be positive; expected {RATE_HELP}"));
    }
    // v per unit = v / (unit in hours) per hour.
    let unit_hours = unit_to_hours(unit.trim(), 1.0)
        .ok_or_else(|| format!("`{text}` has an unknown unit `{unit}`; expected {RATE_HELP}"))?;
    Ok(v / unit_hours)
}

/// Formats hours as a short human duration for messages and tables.
pub fn format_hours(h: f64) -> String {
    if h >= 48.0 {
        format!("{}d", trim(h / 24.0))
    } else if h >= 1.0 {
        format!("{}h", trim(h))
    } else if h * 60.0 >= 1.0 {
        format!("{}m", trim(h * 60.0))
    } else {
        format!("{}s", trim(h * 3600.0))
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("45s").unwrap(), 45.0 / 3600.0);
        assert_eq!(parse_duration("6m").unwrap(), 0.1);
        assert_eq!(parse_duration("1.5h").unwrap(), 1.5);
        assert_eq!(parse_duration("2d").unwrap(), 48.0);
        assert_eq!(parse_duration("0s").unwrap(), 0.0);
        assert_eq!(parse_duration("1e1h").unwrap(), 10.0);
        assert_eq!(parse_duration("7.03125s").unwrap(), 1.0 / 512.0);
        for bad in ["45", "h", "-1h", "1x", "nanh", "infh", "1.2.3h", ""] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("40/h").unwrap(), 40.0);
        assert_eq!(parse_rate("960/d").unwrap(), 40.0);
        assert_eq!(parse_rate("1/m").unwrap(), 60.0);
        for bad in ["40", "40/x", "0/h", "-3/h", "nan/h", "/h"] {
            assert!(parse_rate(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(format_hours(0.1), "6m");
        assert_eq!(format_hours(1.5), "1.5h");
        assert_eq!(format_hours(72.0), "3d");
        assert_eq!(format_hours(0.01), "36s");
    }
}
