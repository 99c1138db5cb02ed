//! Errors in scenario files: every problem found, each with file, line and key path.

use std::fmt;

/// One problem in a scenario, located by line (when known) and key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line, or `None` when the value came from the command line or the whole file.
    pub line: Option<usize>,
    /// Key path such as `policy[per-action].stage[review].detect`; empty for the whole file.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// All the problems found in one scenario file. Displayed one per line as
/// `error: FILE:LINE: PATH: MESSAGE`.
#[derive(Debug, Clone)]
pub struct ScenarioError {
    pub file: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl ScenarioError {
    /// One problem of the whole file (no line): `path` and `message`.
    pub fn one(file: &str, path: &str, message: String) -> ScenarioError {
        ScenarioError {
            file: file.to_string(),
            diagnostics: vec![Diagnostic {
                line: None,
                path: path.to_string(),
                message,
            }],
        }
    }

    /// `Ok` if no problems were found, else all of them.
    pub fn check(file: &str, diagnostics: Vec<Diagnostic>) -> Result<(), ScenarioError> {
        if diagnostics.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError {
                file: file.to_string(),
                diagnostics,
            })
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {}", self.file)?;
            if let Some(line) = d.line {
                write!(f, ":{line}")?;
            }
            if !d.path.is_empty() {
                write!(f, ": {}", d.path)?;
            }
            write!(f, ": {}", d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Maps byte offsets to 1-based line numbers.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    pub fn line(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The one message for a word that names none of `candidates`: `head`, then a suggestion
/// for a likely typo, then `list: a, b, c` (the whole list, when `list` is given).
///
/// `unknown("no class named `x`", "x", &names, Some("classes are"))` gives
/// "no class named `x`; did you mean `y`?; classes are: a, y".
pub fn unknown(head: impl Into<String>, word: &str, candidates: &[&str], list: Option<&str>) -> String {
    let mut msg = head.into();
    if let Some(m) = did_you_mean(word, candidates.iter().copied()) {
        msg.push_str(&format!("; did you mean `{m}`?"));
    }
    if let Some(list) = list {
        msg.push_str(&format!("; {list}: {}", candidates.join(", ")));
    }
    msg
}

/// Rewrites serde's "unknown field `x`, expected one of `a`, `b`" into the scenario's words,
/// with a suggestion for a likely typo.
pub fn explain_serde_message(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((field, expected)) = rest.split_once('`') {
            let allowed: Vec<&str> = expected
                .split('`')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, s)| s)
                .collect();
            let head = format!("unknown key `{field}`");
            if allowed.is_empty() {
                return head + "; this table takes no keys";
            }
            return unknown(head, field, &allowed, Some("allowed keys"));
        }
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        if let Some((field, _)) = rest.split_once('`') {
            return format!("required key `{field}` is missing");
        }
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        // serde's words for TOML's: a map is a table, a sequence an array.
        let rest = rest
            .replace("map", "table")
            .replace("expected a sequence", "expected an array")
            .replace("expected i64", "expected an integer");
        let hint = if rest.starts_with("table") && rest.ends_with("an array") {
            "; write each entry as an array-of-tables header such as [[policy]] or [[workload.class]]"
        } else if (rest.starts_with("integer") || rest.starts_with("floating")) && rest.ends_with("a string")
        {
            "; durations and rates are quoted and carry a unit, e.g. \"6m\" or \"40/h\""
        } else {
            ""
        };
        return format!("wrong type: found {rest}{hint}");
    }
    message.to_string()
}

/// `text` with its control characters shown escaped (`\u{1b}`), for a terminal: a shared
/// file's keys, names and values cannot clear the screen, colour it, set the window title or
/// reorder what it shows (the bidirectional controls). Newlines and tabs stay.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let idx = LineIndex::new("a\nbb\n\nc");
        assert_eq!(idx.line(0), 1);
        assert_eq!(idx.line(2), 2);
        assert_eq!(idx.line(3), 2);
        assert_eq!(idx.line(5), 3);
        assert_eq!(idx.line(6), 4);
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("detec", ["detect", "service"]), Some("detect"));
        assert_eq!(did_you_mean("zzz", ["detect", "service"]), None);
        let m = explain_serde_message("unknown field `reviewrs`, expected one of `kind`, `reviewers`");
        assert!(m.contains("did you mean `reviewers`?"), "{m}");
        assert!(m.contains("allowed keys: kind, reviewers"), "{m}");
    }
}
