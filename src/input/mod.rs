//! Checking what a user wrote: values with their position in the file, problems reported
//! with line and key path, and the checks every part of a scenario shares (ranges,
//! durations, choices, names).
//!
//! The scenario's parts (`workload`, `stages`, `scenario`) each check their own keys with a
//! [`Ctx`], which collects every problem instead of stopping at the first.

mod error;

pub use error::{
    did_you_mean, explain_serde_message, printable, unknown, Diagnostic, LineIndex, ScenarioError,
};

use std::collections::HashMap;
use std::ops::Range;

use serde::Deserialize;

use crate::units::{parse_duration, DURATION_HELP};

/// A value as written, with its byte span in the file.
pub type S<T> = toml::Spanned<T>;

/// Maps the key path of a value set on the command line (in the form validation reports,
/// e.g. `policy[process].stage[review].reviewers`) to the `--set` text that set it.
pub type FromCli = HashMap<String, String>;

/// Upper bounds that keep a typo from asking for years of computing or all the memory.
pub mod limits {
    /// Results are one row (about 0.5 KB) per replication and policy, held until written.
    pub const MAX_REPLICATIONS: i64 = 1_000_000;
    pub const MAX_REVIEWERS: i64 = 100_000;
    pub const MAX_CLASSES: usize = 64;
    /// Defect kinds: an attempt's kind is kept in a byte.
    pub const MAX_KINDS: usize = 16;
    pub const MAX_STAGES: usize = 64;
    pub const MAX_ATTEMPTS: i64 = 1000;
    pub const MAX_ROOT_CAUSES: i64 = 1_000_000;
    /// 1000 years of simulated time, in hours.
    pub const MAX_HOURS: f64 = 1000.0 * 8766.0;
    /// Actions in the system at which a replication stops: about 100 MB of state.
    pub const DEFAULT_MAX_BACKLOG: u64 = 1_000_000;
    pub const MAX_BACKLOG: i64 = 1_000_000_000;
}

/// A number that may be written as an integer or a float.
#[derive(Debug, Clone, Copy)]
pub struct Num(pub f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Num {
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A number, or a word in its place (such as `p0 = "auto"`).
#[derive(Debug, Clone)]
pub enum NumOrWord {
    Num(f64),
    Word(String),
}

impl<'de> Deserialize<'de> for NumOrWord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = NumOrWord;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_i64<E>(self, v: i64) -> Result<NumOrWord, E> {
                Ok(NumOrWord::Num(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<NumOrWord, E> {
                Ok(NumOrWord::Num(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<NumOrWord, E> {
                Ok(NumOrWord::Num(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<NumOrWord, E> {
                Ok(NumOrWord::Word(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The keys of a struct that serde reads (`T`'s fields, renames applied), so that a list
/// of allowed keys is derived from the one struct that declares them.
pub fn keys_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("keys read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut keys: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut keys));
    keys
}

/// Collects the problems of one scenario text, each with its line (from a byte span) and
/// key path.
pub struct Ctx<'a> {
    lines: LineIndex,
    from_cli: &'a FromCli,
    pub errors: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    pub fn new(text: &str, from_cli: &'a FromCli) -> Ctx<'a> {
        Ctx {
            lines: LineIndex::new(text),
            from_cli,
            errors: Vec::new(),
        }
    }

    /// The 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.lines.line(offset)
    }

    /// Records a problem at `span` (a value set by `--set` is named by its flag instead).
    pub fn err(&mut self, span: Range<usize>, path: &str, message: impl Into<String>) {
        let mut message = message.into();
        let line = match self.from_cli.get(path) {
            Some(set) => {
                message.push_str(&format!(" (set by {set})"));
                None
            }
            None => Some(self.lines.line(span.start)),
        };
        self.errors.push(Diagnostic {
            line,
            path: path.to_string(),
            message,
        });
    }

    pub fn prob(&mut self, v: &S<Num>, path: &str) -> f64 {
        self.range(v, path, 0.0, 1.0, "a probability in [0, 1]")
    }

    pub fn range(&mut self, v: &S<Num>, path: &str, lo: f64, hi: f64, allowed: &str) -> f64 {
        let x = v.get_ref().get();
        if !(x >= lo && x <= hi) {
            self.err(
                v.span(),
                path,
                format!("{} is out of range; allowed: {allowed}", fmt_num(x)),
            );
        }
        x
    }

    pub fn opt_prob(&mut self, v: &Option<S<Num>>, path: &str, default: f64) -> f64 {
        v.as_ref().map_or(default, |v| self.prob(v, path))
    }

    pub fn int(&mut self, v: &S<i64>, path: &str, lo: i64, hi: i64) -> i64 {
        let x = *v.get_ref();
        if x < lo || x > hi {
            self.err(
                v.span(),
                path,
                format!("{x} is out of range; allowed: an integer in [{lo}, {hi}]"),
            );
        }
        x.clamp(lo, hi)
    }

    /// A duration in hours; positive unless `allow_zero`.
    pub fn duration(&mut self, v: &S<String>, path: &str, allow_zero: bool) -> f64 {
        match parse_duration(v.get_ref()) {
            Ok(h) if h == 0.0 && !allow_zero => {
                self.err(
                    v.span(),
                    path,
                    format!(
                        "`{}` must be longer than zero; expected {DURATION_HELP}",
                        v.get_ref()
                    ),
                );
                1.0
            }
            Ok(h) if h > limits::MAX_HOURS => {
                self.err(
                    v.span(),
                    path,
                    format!("`{}` is longer than the limit of 1000 years", v.get_ref()),
                );
                1.0
            }
            Ok(h) => h,
            Err(e) => {
                self.err(v.span(), path, e);
                1.0
            }
        }
    }

    /// One of `allowed` (as `T`), or a problem with a suggestion and the allowed words.
    pub fn choice<T: Copy>(&mut self, v: &S<String>, path: &str, allowed: &[(&str, T)]) -> Option<T> {
        let s = v.get_ref().as_str();
        if let Some((_, t)) = allowed.iter().find(|(c, _)| *c == s) {
            return Some(*t);
        }
        let words: Vec<&str> = allowed.iter().map(|(c, _)| *c).collect();
        let msg = unknown(format!("`{s}` is not allowed"), s, &words, Some("allowed"));
        self.err(v.span(), path, msg);
        None
    }

    /// A name of a class, policy or stage: kebab-case.
    pub fn name(&mut self, v: &S<String>, path: &str) -> String {
        let s = v.get_ref();
        if !is_kebab(s) {
            self.err(v.span(), path, format!("`{s}` is not a valid name; allowed: lowercase letters, digits and `-`, starting with a letter or digit (e.g. `high-impact`)"));
        }
        s.clone()
    }

    /// A required key is missing from the table at `span`.
    pub fn missing(&mut self, span: Range<usize>, path: &str, key: &str, what: &str) {
        let p = if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        };
        self.err(
            span,
            &p,
            format!("required key `{key}` is missing; expected {what}"),
        );
    }
}

/// Whether `s` is a kebab-case name (lowercase letters, digits and `-`, starting with a
/// letter or digit).
pub fn is_kebab(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Two {
        a: i64,
        #[serde(rename = "L")]
        big_l: f64,
    }

    #[test]
    fn keys_come_from_the_struct() {
        assert_eq!(keys_of::<Two>(), ["a", "L"]);
    }
}
