//! How a number is written in a result file: the shortest decimal that reads back as the
//! same `f64` (so merged shards equal a one-machine run exactly), and an empty field where
//! the value is undefined (`NaN`, e.g. a ratio with a zero denominator).
//!
//! Used as `#[serde(with = "crate::field")]` on the `f64` fields of result rows.

use serde::{Deserialize, Deserializer, Serializer};

/// The field's text.
pub fn format(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// Reads a field written by [`format()`]: empty is `NaN`.
pub fn parse(s: &str) -> Result<f64, String> {
    if s.is_empty() {
        Ok(f64::NAN)
    } else {
        s.parse::<f64>().map_err(|_| format!("`{s}` is not a number"))
    }
}

pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*x))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let s = std::borrow::Cow::<str>::deserialize(d)?;
    parse(&s).map_err(serde::de::Error::custom)
}

/// `true` as `yes`, `false` as an empty cell (decision.csv's `status_quo`, staffing.csv's
/// `settled`).
pub mod yes_or_empty {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if *x { "yes" } else { "" })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match String::deserialize(d)?.as_str() {
            "yes" => Ok(true),
            "" => Ok(false),
            other => Err(serde::de::Error::custom(format!("`{other}` is not yes or empty"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        assert_eq!(format(f64::NAN), "");
        assert_eq!(format(f64::INFINITY), "");
        assert_eq!(format(3.0), "3");
        assert_eq!(format(0.1), "0.1");
        for x in [0.1, 1.0 / 3.0, 1e-300, 123456.789] {
            assert_eq!(parse(&format(x)), Ok(x));
        }
        assert!(parse("").unwrap().is_nan());
        assert!(parse("x").is_err());
    }
}
