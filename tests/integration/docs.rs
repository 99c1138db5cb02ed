//! Numbers in the docs that come from a run are checked against the committed results
//! (`results/examples/`): quoted report text, the width ratios of paired intervals, and
//! the automation-bias lesson's figures.

use std::path::Path;

use oversim::report::rows::{self, ComparisonKey, SummaryKey};
use oversim::report::Comparison;
use oversim::stats::Summary;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Text without markup (a list item or paragraph ends with a space), entities decoded,
/// whitespace collapsed.
fn plain(text: &str) -> String {
    let text = text.replace("</li>", " ").replace("</p>", " ");
    let mut out = String::new();
    let mut in_tag = false;
    for ch in text.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every `<!-- quote: FILE -->` block of README.md and docs/ stands, word for word, in FILE.
#[test]
fn quoted_report_text_is_in_the_committed_report() {
    let mut files = vec!["README.md".to_string()];
    for e in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".md") {
            files.push(format!("docs/{name}"));
        }
    }
    let mut quotes = 0;
    for f in &files {
        let text = read(f);
        for block in text.split("<!-- quote: ").skip(1) {
            let (source, rest) = block.split_once(" -->").expect("a quote names its file");
            let (quote, _) = rest.split_once("<!-- /quote -->").expect("a quote ends");
            let quote: String = quote
                .lines()
                .map(|l| l.trim_start_matches('>').trim())
                .collect::<Vec<_>>()
                .join(" ")
                .replace("**", "");
            let quote = quote.split_whitespace().collect::<Vec<_>>().join(" ");
            let committed = plain(&read(source));
            assert!(
                committed.contains(&quote),
                "{f}: the quote is not in {source} (regenerate with scripts/teaching-results.sh and quote it again):\n{quote}"
            );
            quotes += 1;
        }
    }
    assert!(quotes >= 1, "README.md quotes the default report");
}

/// A committed example's summaries and comparisons (without a sweep).
type Example = (Vec<(SummaryKey, Summary)>, Vec<(ComparisonKey, Comparison)>);

fn example(name: &str) -> Example {
    let s = std::fs::read(root().join(format!("results/examples/{name}/summary.csv"))).unwrap();
    let c = std::fs::read(root().join(format!("results/examples/{name}/comparison.csv"))).unwrap();
    let (_, s) = rows::read::<SummaryKey, Summary>(&s).unwrap();
    let (_, c) = rows::read::<ComparisonKey, Comparison>(&c).unwrap();
    (
        s.into_iter()
            .filter(|(v, _, _)| v.is_empty())
            .map(|(_, k, v)| (k, v))
            .collect(),
        c.into_iter()
            .filter(|(v, _, _)| v.is_empty())
            .map(|(_, k, v)| (k, v))
            .collect(),
    )
}

/// How many times narrower each paired interval is than the interval of the difference of
/// two independent means, √(hw_a² + hw_b²) / hw_paired, for `metrics`.
fn width_ratios(name: &str, metrics: &[&str]) -> Vec<f64> {
    let (sums, comps) = example(name);
    let hw = |p: &str, m: &str| {
        let s = &sums
            .iter()
            .find(|(k, _)| k.policy == p && k.metric == m)
            .unwrap()
            .1;
        s.half_width()
    };
    comps
        .iter()
        .filter(|(k, _)| metrics.contains(&k.metric.as_str()))
        .filter_map(|(k, c)| {
            let paired = (c.ci_high - c.ci_low) / 2.0;
            let unpaired = hw(&k.policy, &k.metric).hypot(hw(&k.baseline, &k.metric));
            (paired > 0.0 && unpaired.is_finite()).then(|| unpaired / paired)
        })
        .collect()
}

fn range(v: &[f64]) -> (f64, f64) {
    v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
        (lo.min(x), hi.max(x))
    })
}

#[test]
fn paired_interval_ratios_in_the_readme_hold() {
    let readme = read("README.md");
    // Every committed example (the README's ranges cover them all).
    let mut examples: Vec<String> = std::fs::read_dir(root().join("results/examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    examples.sort();
    assert_eq!(examples.len(), 13, "{examples:?}");
    let all =
        |metrics: &[&str]| -> Vec<f64> { examples.iter().flat_map(|e| width_ratios(e, metrics)).collect() };
    let outcomes = ["escapes_per_1k", "harm", "cost_per_release"];
    let (lo, hi) = range(&all(&["throughput_per_hour"]));
    let (olo, ohi) = range(&all(&outcomes));
    let (dlo, dhi) = range(&width_ratios("default", &outcomes));
    let stated = [
        format!("{lo:.1}–{hi:.0}× narrower"),
        format!("only {olo:.1}–{ohi:.1}× narrower"),
        format!("({dlo:.2}–{dhi:.2}×)"),
    ];
    let missing: Vec<&String> = stated.iter().filter(|s| !readme.contains(s.as_str())).collect();
    assert!(missing.is_empty(), "README should say {missing:?}");
}

#[test]
fn the_automation_bias_lesson_quotes_its_results() {
    let lesson = read("docs/teaching.md");
    let (sums, _) = example("automation-bias");
    let escape = |p: &str| {
        sums.iter()
            .find(|(k, _)| k.policy == p && k.metric == "escape_rate")
            .unwrap()
            .1
            .mean
    };
    let (human, checks) = (escape("human-only"), escape("checks-only"));
    let (ideal, biased) = (escape("ideal-layers"), escape("checks-then-human"));
    for x in [human, checks, ideal, biased] {
        let stated = format!("{:.1}%", 100.0 * x);
        assert!(lesson.contains(&stated), "teaching.md should give {stated}");
    }
    // The share of the second layer's value that automation bias takes back.
    for first in [checks, human] {
        let taken = (biased - ideal) / (first - ideal);
        let stated = format!("{:.0}% of what", 100.0 * taken);
        assert!(lesson.contains(&stated), "teaching.md should say {stated}");
    }
}

/// How a number is written in the docs.
#[derive(Clone, Copy)]
enum Fmt {
    /// A percentage with this many decimals: 0.4611 → "46%".
    Pct(usize),
    /// A plain number with this many decimals.
    Dec(usize),
    /// Three significant digits with thousands separators: 93308 → "93,300".
    Sig3,
    /// Millions with this many decimals: 74139963 → "74.1".
    Millions(usize),
}

impl Fmt {
    fn show(self, x: f64) -> String {
        match self {
            Fmt::Pct(d) => format!("{:.d$}%", 100.0 * x),
            Fmt::Dec(d) => format!("{x:.d$}"),
            Fmt::Millions(d) => format!("{:.d$}", x / 1e6),
            Fmt::Sig3 => {
                let mag = 10f64.powi(x.abs().log10().floor() as i32 - 2);
                let r = ((x / mag).round() * mag).round() as i64;
                crate::common::thousands(&r.to_string())
            }
        }
    }
}

/// Where a number comes from: a policy's mean of a metric, or the ratio of two policies'
/// means (`Ratio(a, b)` is a / b; `Less(a, b)` is 1 − a / b; `More(a, b)` is a / b − 1).
enum From {
    Mean(&'static str),
    /// Minus the policy's mean (a loss, for a negative net value).
    Negated(&'static str),
    Ratio(&'static str, &'static str),
    /// `Part(p, m)`: the policy's mean of metric `m` over its mean of the entry's metric.
    Part(&'static str, &'static str),
    Less(&'static str, &'static str),
    More(&'static str, &'static str),
    /// `Minus(a, b)` is a − b.
    Minus(&'static str, &'static str),
}

/// (doc, the sentence with `{}` for the number, example, source, metric, format).
const CHECKED: &[(&str, &str, &str, From, &str, Fmt)] = &[
    (
        "docs/teaching.md",
        "the queue is short and {} of defects escape",
        "rubber-stamping",
        From::Mean("eight-reviewers"),
        "escape_rate",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "escapes rise to {};",
        "rubber-stamping",
        From::Mean("six-reviewers"),
        "escape_rate",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "careful) and {} of defects escape",
        "rubber-stamping",
        From::Mean("four-reviewers"),
        "escape_rate",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "in the morning: {} actions a week wait",
        "rubber-stamping",
        From::Mean("eight-day-shift"),
        "timeouts",
        Fmt::Sig3,
    ),
    (
        "docs/teaching.md",
        "and {} of defects escape.",
        "rubber-stamping",
        From::Mean("eight-day-shift"),
        "escape_rate",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "never tires lets {} of defects escape",
        "fatigue-and-breaks",
        From::Mean("no-fatigue"),
        "escape_rate",
        Fmt::Pct(1),
    ),
    (
        "docs/teaching.md",
        "lets {} escape. Planned breaks",
        "fatigue-and-breaks",
        From::Mean("no-breaks"),
        "escape_rate",
        Fmt::Pct(1),
    ),
    (
        "docs/teaching.md",
        "— {} with a 15-minute break",
        "fatigue-and-breaks",
        From::Mean("breaks-90m"),
        "escape_rate",
        Fmt::Pct(1),
    ),
    (
        "docs/teaching.md",
        "{} with 10 minutes every 45",
        "fatigue-and-breaks",
        From::Mean("breaks-45m"),
        "escape_rate",
        Fmt::Pct(1),
    ),
    (
        "docs/teaching.md",
        "wait grows from {} to",
        "fatigue-and-breaks",
        From::Mean("no-breaks"),
        "p95_wait_min",
        Fmt::Dec(0),
    ),
    (
        "docs/teaching.md",
        "grows from 14 to {} and",
        "fatigue-and-breaks",
        From::Mean("breaks-90m"),
        "p95_wait_min",
        Fmt::Dec(0),
    ),
    (
        "docs/teaching.md",
        "and {} minutes. The closed form",
        "fatigue-and-breaks",
        From::Mean("breaks-45m"),
        "p95_wait_min",
        Fmt::Dec(0),
    ),
    (
        "docs/teaching.md",
        "holds: {} of defects escape one layer",
        "layered-defence",
        From::Mean("one-layer"),
        "escape_rate",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "escape one layer, {} two",
        "layered-defence",
        From::Mean("two-layers"),
        "escape_rate",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "two, {} three",
        "layered-defence",
        From::Mean("three-layers"),
        "escape_rate",
        Fmt::Pct(1),
    ),
    (
        "docs/teaching.md",
        "two layers let {} through",
        "layered-defence-correlated",
        From::Mean("two-layers"),
        "escape_rate",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "and three {} —",
        "layered-defence-correlated",
        From::Mean("three-layers"),
        "escape_rate",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "runs its course, {} hours of drift",
        "drifting-agent",
        From::Mean("per-action"),
        "drift_hours",
        Fmt::Dec(0),
    ),
    (
        "docs/teaching.md",
        "and {} defects escape per 1000",
        "drifting-agent",
        From::Mean("per-action"),
        "escapes_per_1k",
        Fmt::Dec(1),
    ),
    (
        "docs/teaching.md",
        "slips end after about {} hours",
        "drifting-agent",
        From::Mean("per-action-spc"),
        "detection_delay_h",
        Fmt::Dec(0),
    ),
    (
        "docs/teaching.md",
        "escapes fall to {} per 1000",
        "drifting-agent",
        From::Mean("per-action-spc"),
        "escapes_per_1k",
        Fmt::Dec(1),
    ),
    (
        "docs/teaching.md",
        "learning factor falls to about {} in",
        "drifting-agent",
        From::Mean("process"),
        "learning_factor",
        Fmt::Dec(2),
    ),
    (
        "docs/teaching.md",
        "about {} alarms in two months",
        "drifting-agent",
        From::Mean("process"),
        "halts",
        Fmt::Dec(0),
    ),
    (
        "docs/teaching.md",
        "in two months, {} of them false",
        "drifting-agent",
        From::Mean("process"),
        "false_alarms",
        Fmt::Dec(0),
    ),
    (
        "docs/teaching.md",
        "to {} escapes per 1000",
        "drifting-agent",
        From::Mean("process"),
        "escapes_per_1k",
        Fmt::Dec(1),
    ),
    (
        "docs/teaching.md",
        "({} units against",
        "drifting-agent",
        From::Mean("hybrid"),
        "harm",
        Fmt::Sig3,
    ),
    (
        "docs/teaching.md",
        "units against {} for per-action review",
        "drifting-agent",
        From::Mean("per-action"),
        "harm",
        Fmt::Sig3,
    ),
    (
        "docs/teaching.md",
        "with {} of per-action review's reviewer hours",
        "drifting-agent",
        From::Ratio("hybrid", "per-action"),
        "reviewer_hours",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "reviewer hours, at {} of its cost per release",
        "drifting-agent",
        From::Ratio("hybrid", "per-action"),
        "cost_per_release",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "lets through {} defects per 1000",
        "governance-b12",
        From::Mean("c-tiered"),
        "escapes_per_1k",
        Fmt::Dec(1),
    ),
    (
        "docs/teaching.md",
        "against {} for per-action review with 49",
        "governance-b12",
        From::Mean("a-human-all"),
        "escapes_per_1k",
        Fmt::Dec(1),
    ),
    (
        "docs/teaching.md",
        "read everything and let {} defects per 1000",
        "expert-review-wins",
        From::Mean("per-action"),
        "escapes_per_1k",
        Fmt::Dec(1),
    ),
    (
        "docs/teaching.md",
        "through, against {} for the tiered policy with two experts",
        "expert-review-wins",
        From::Mean("tiered"),
        "escapes_per_1k",
        Fmt::Dec(1),
    ),
    (
        "docs/teaching.md",
        "per-action review is worth {} USD net a month",
        "expert-review-wins",
        From::Mean("per-action"),
        "net_value",
        Fmt::Sig3,
    ),
    (
        "docs/teaching.md",
        "the tiered policy {}, and people doing the work by hand",
        "expert-review-wins",
        From::Mean("tiered"),
        "net_value",
        Fmt::Sig3,
    ),
    (
        "docs/teaching.md",
        "doing the work by hand {}: the verdict is per-action review",
        "expert-review-wins",
        From::Mean("by-hand"),
        "net_value",
        Fmt::Sig3,
    ),
    (
        "docs/teaching.md",
        "still looks better: {} escaped defects per 1000",
        "catastrophic-tail",
        From::Mean("tiered"),
        "escapes_per_1k",
        Fmt::Dec(1),
    ),
    (
        "docs/teaching.md",
        "releases against {}. But a catastrophe",
        "catastrophic-tail",
        From::Mean("per-action"),
        "escapes_per_1k",
        Fmt::Dec(1),
    ),
    (
        "docs/teaching.md",
        "escapes in {} of its months",
        "catastrophic-tail",
        From::Mean("tiered"),
        "any_severe",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "against {} under per-action review and",
        "catastrophic-tail",
        From::Mean("per-action"),
        "any_severe",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "and {} when people do the work",
        "catastrophic-tail",
        From::Mean("by-hand"),
        "any_severe",
        Fmt::Pct(1),
    ),
    (
        "docs/teaching.md",
        "escapes per 1000 with {} of per-action review's reviewer hours",
        "drifting-agent",
        From::Ratio("process", "per-action"),
        "reviewer_hours",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "do about the same harm ({} and",
        "drifting-agent",
        From::Mean("per-action-spc"),
        "harm",
        Fmt::Sig3,
    ),
    (
        "docs/teaching.md",
        "same harm (26,800 and {} units)",
        "drifting-agent",
        From::Mean("process"),
        "harm",
        Fmt::Sig3,
    ),
    (
        "docs/teaching.md",
        "does better still: {} defects per 1000",
        "governance-b12",
        From::Mean("d-checks-and-human"),
        "escapes_per_1k",
        Fmt::Dec(1),
    ),
    (
        "docs/teaching.md",
        "and less harm ({} units",
        "governance-b12",
        From::Mean("d-checks-and-human"),
        "harm",
        Fmt::Sig3,
    ),
    (
        "docs/teaching.md",
        "units against {}), with",
        "governance-b12",
        From::Mean("c-tiered"),
        "harm",
        Fmt::Sig3,
    ),
    (
        "docs/teaching.md",
        "with {} times the reviewer hours",
        "governance-b12",
        From::Ratio("d-checks-and-human", "c-tiered"),
        "reviewer_hours",
        Fmt::Dec(0),
    ),
    (
        "docs/teaching.md",
        "same cost per release ({} USD",
        "governance-b12",
        From::Mean("d-checks-and-human"),
        "cost_per_release",
        Fmt::Dec(0),
    ),
    (
        "docs/teaching.md",
        "USD against {}). When harm",
        "governance-b12",
        From::Mean("c-tiered"),
        "cost_per_release",
        Fmt::Dec(0),
    ),
    (
        "docs/teaching.md",
        "the tiered policy does {} less harm than six reviewers",
        "realistic-layers",
        From::Less("tiered-ideal", "per-action"),
        "harm",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "the same people and checks do only {} less harm",
        "realistic-layers",
        From::Less("tiered-realistic", "per-action"),
        "harm",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "and let through {} more defects per 1000 releases than per-action",
        "realistic-layers",
        From::More("tiered-realistic", "per-action"),
        "escapes_per_1k",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "does little either ({} less harm)",
        "realistic-layers",
        From::Less("per-action-checks", "per-action"),
        "harm",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "an auditor) it does {} less harm",
        "realistic-layers",
        From::Less("production-line", "per-action"),
        "harm",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "and is worth {} million USD net a month",
        "realistic-layers",
        From::Mean("production-line"),
        "net_value",
        Fmt::Millions(1),
    ),
    (
        "docs/teaching.md",
        "net a month against {} million.",
        "realistic-layers",
        From::Mean("per-action"),
        "net_value",
        Fmt::Millions(1),
    ),
    (
        "docs/teaching.md",
        "The price is time: {} of lots fail their sample",
        "realistic-layers",
        From::Part("production-line", "lots_rejected"),
        "lots",
        Fmt::Pct(0),
    ),
    (
        "docs/teaching.md",
        "action waits {} minutes for release",
        "realistic-layers",
        From::Mean("production-line"),
        "latency_p95_min",
        Fmt::Dec(0),
    ),
    (
        "docs/teaching.md",
        "for release against {} under per-action review",
        "realistic-layers",
        From::Mean("per-action"),
        "latency_p95_min",
        Fmt::Dec(0),
    ),
    (
        "README.md",
        "is worth {} USD a month net",
        "default",
        From::Mean("by-hand"),
        "net_value",
        Fmt::Sig3,
    ),
    (
        "README.md",
        "(\"per-action\") loses {} million USD a month",
        "default",
        From::Negated("per-action"),
        "net_value",
        Fmt::Millions(1),
    ),
    (
        "README.md",
        "USD a month: {} of defects get through",
        "default",
        From::Mean("per-action"),
        "escape_rate",
        Fmt::Pct(0),
    ),
    (
        "README.md",
        "(about {} alarms a month,",
        "default",
        From::Mean("tiered"),
        "halts",
        Fmt::Dec(0),
    ),
    (
        "README.md",
        "alarms a month, {} of them false)",
        "default",
        From::Mean("tiered"),
        "false_alarms",
        Fmt::Dec(0),
    ),
    (
        "README.md",
        "it does {} less harm than per-action review",
        "default",
        From::Less("tiered", "per-action"),
        "harm",
        Fmt::Pct(0),
    ),
    (
        "README.md",
        "but still {} more than people doing the work",
        "default",
        From::More("tiered", "by-hand"),
        "harm",
        Fmt::Pct(0),
    ),
    (
        "README.md",
        "beats the status quo by {} USD a month",
        "default",
        From::Minus("split", "by-hand"),
        "net_value",
        Fmt::Sig3,
    ),
    (
        "docs/teaching.md",
        "people doing the work by hand ({} units of harm)",
        "drifting-agent",
        From::Mean("by-hand"),
        "harm",
        Fmt::Sig3,
    ),
    (
        "docs/teaching.md",
        "hand, who are worth {} million USD net a month",
        "realistic-layers",
        From::Mean("by-hand"),
        "net_value",
        Fmt::Millions(1),
    ),
];

/// Every number of [`CHECKED`] is what the committed results say.
#[test]
fn numbers_in_the_docs_are_the_committed_results() {
    let mut wrong = Vec::new();
    for (doc, sentence, example_name, from, metric, fmt) in CHECKED {
        let text = read(doc).split_whitespace().collect::<Vec<_>>().join(" ");
        let (sums, _) = example(example_name);
        let mean = |p: &str| {
            (sums.iter().find(|(k, _)| k.policy == p && k.metric == *metric))
                .unwrap_or_else(|| panic!("{example_name}: no {p} {metric}"))
                .1
                .mean
        };
        let x = match from {
            From::Mean(p) => mean(p),
            From::Negated(p) => -mean(p),
            From::Ratio(a, b) => mean(a) / mean(b),
            From::Part(p, m) => {
                let part = (sums.iter().find(|(k, _)| k.policy == *p && k.metric == *m))
                    .unwrap_or_else(|| panic!("{example_name}: no {p} {m}"))
                    .1
                    .mean;
                part / mean(p)
            }
            From::Less(a, b) => 1.0 - mean(a) / mean(b),
            From::More(a, b) => mean(a) / mean(b) - 1.0,
            From::Minus(a, b) => mean(a) - mean(b),
        };
        let expected = sentence.replace("{}", &fmt.show(x));
        if !text.contains(&expected) {
            wrong.push(format!(
                "{doc}: should say `{expected}` ({example_name}, {metric} = {x})"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "numbers in the docs differ from results/examples:\n{}",
        wrong.join("\n")
    );
}

/// Every parameter citation in the scenarios and docs (`A.0 #11`, `A.4`, `B.12`) points to
/// a row or section of docs/parameters.md, which is in the repository.
#[test]
fn every_parameter_citation_points_into_the_repository() {
    let notes = read("docs/parameters.md");
    let rows: Vec<String> = (notes.lines())
        .filter_map(|l| l.strip_prefix("| ")?.split(" |").next().map(str::to_string))
        .collect();
    let mut files = vec!["README.md".to_string()];
    for dir in ["scenarios", "docs"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            if name.ends_with(".toml") || name.ends_with(".md") {
                files.push(format!("{dir}/{name}"));
            }
        }
    }
    let mut cited = 0;
    for f in &files {
        let text = read(f);
        assert!(
            !text.contains("PARAMETERS.md"),
            "{f} cites a file that is not in the repository"
        );
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || "(),;:[]".contains(c))
            .collect();
        for (i, w) in words.iter().enumerate() {
            let w = w.trim_end_matches(['.', '\'', 's']);
            let is_section = |p: char| {
                w.len() >= 3
                    && w.starts_with(p)
                    && w.as_bytes()[1] == b'.'
                    && w[2..].starts_with(|c: char| c.is_ascii_digit())
            };
            if w == "A.0" && words.get(i + 1).is_some_and(|n| n.starts_with('#')) {
                // `#23`, or a range `#2-#4`.
                for part in words[i + 1].split('-') {
                    let n: String = part
                        .trim_start_matches('#')
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    assert!(
                        rows.contains(&n),
                        "{f}: A.0 #{n} is not a row of docs/parameters.md"
                    );
                    cited += 1;
                }
            } else if is_section('A') && w != "A.0" {
                assert!(
                    notes.contains(&format!("### {w} ")),
                    "{f}: {w} is not a section of docs/parameters.md"
                );
                cited += 1;
            } else if is_section('B') {
                let listed = notes.contains(&format!("| {w} |"))
                    || notes.contains(&format!("| {w},"))
                    || notes.contains(&format!(", {w} |"));
                assert!(listed, "{f}: {w} is not a closed form of docs/parameters.md");
                cited += 1;
            }
        }
    }
    assert!(
        cited > 50,
        "the scenarios cite their sources ({cited} citations found)"
    );
}

/// oversim says so when the world favours per-action review: in expert-review-wins per-action
/// review ranks first and beats the tiered policy on net value and harm (paired 95%
/// intervals below zero, from the committed replications); in catastrophic-tail it has
/// the better tail (a severe escape in fewer months: Newcombe's paired interval below zero),
/// and the verdict is the status quo, people doing the work.
#[test]
fn the_review_wins_scenarios_show_per_action_review_winning() {
    use oversim::metrics::{MetricRow, M};
    let reps = |name: &str, policy: &str| -> Vec<MetricRow> {
        let bytes = std::fs::read(root().join(format!("results/examples/{name}/replications.csv"))).unwrap();
        let (_, rows) = rows::read::<rows::ReplicationKey, MetricRow>(&bytes).unwrap();
        rows.into_iter()
            .filter(|(_, k, _)| k.policy == policy)
            .map(|(_, _, r)| r)
            .collect()
    };
    let paired = |name: &str, m: M| -> oversim::stats::Summary {
        let pairs: Vec<(f64, f64)> = (reps(name, "tiered").iter().zip(reps(name, "per-action")))
            .map(|(t, p)| (t[m], p[m]))
            .collect();
        oversim::stats::summarize_paired(&pairs, m.is_indicator())
    };
    let first = |name: &str| -> String {
        let bytes = std::fs::read(root().join(format!("results/examples/{name}/decision.csv"))).unwrap();
        let (_, rows) =
            rows::read::<oversim::decision::DecisionKey, oversim::decision::DecisionRow>(&bytes).unwrap();
        rows.into_iter()
            .find(|(_, _, r)| r.rank == Some(1))
            .unwrap()
            .1
            .policy
    };
    assert_eq!(first("expert-review-wins"), "per-action");
    let net = paired("expert-review-wins", M::net_value);
    assert!(net.ci_high < 0.0, "tiered − per-action on net value: {net:?}");
    let harm = paired("expert-review-wins", M::harm);
    assert!(harm.ci_low > 0.0, "tiered − per-action on harm: {harm:?}");
    let tail = paired("catastrophic-tail", M::any_severe);
    assert!(
        tail.ci_low > 0.0,
        "tiered − per-action on P(a severe escape): {tail:?}"
    );
    assert_eq!(first("catastrophic-tail"), "by-hand");
}

/// The README's sweep example is the real output of the command it shows, and the
/// percentages its prose quotes are the harm column of that output.
#[test]
fn the_readme_sweep_example_is_real_output() {
    let readme = read("README.md");
    let cmd =
        "$ oversim run scenarios/drifting-agent.toml --sweep workload.drift.multiplier=2,3,5 -r 50\n...\n";
    let start = readme.find(cmd).expect("the README shows the sweep command") + cmd.len();
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let tmp = tempfile::TempDir::new().unwrap();
    let out = assert_cmd::Command::cargo_bin("oversim")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "scenarios/drifting-agent.toml",
            "--sweep",
            "workload.drift.multiplier=2,3,5",
            "-r",
            "50",
            "-o",
        ])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let real = &stdout[stdout.find("paired differences").expect("a comparison table")..];
    assert_eq!(
        block, real,
        "README's sweep example is not what the command prints"
    );
    // The prose: at multipliers 2 and 3 the hybrid's Δ net value against the status quo
    // (the row's last interval) includes 0; at 5 it lies above 0.
    let net = |m: &str| -> (f64, f64) {
        let row = block
            .lines()
            .find(|l| l.split_whitespace().next() == Some(m) && l.split_whitespace().nth(1) == Some("hybrid"))
            .unwrap_or_else(|| panic!("no row {m} hybrid"));
        let last = row.rsplit('(').next().unwrap();
        let (lo, hi) = last.split_once(" .. ").unwrap();
        let num = |x: &str| x.trim().trim_start_matches('+').parse::<f64>().unwrap();
        (num(lo), num(hi.split(')').next().unwrap()))
    };
    for m in ["2", "3"] {
        let (lo, hi) = net(m);
        assert!(lo < 0.0 && hi > 0.0, "at {m}: {lo} .. {hi}");
    }
    assert!(net("5").0 > 0.0, "at 5: {:?}", net("5"));
    let text = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let stated = "at multipliers 2 and 3 the hybrid and the status quo are within each other's interval, and at 5 the hybrid is ahead";
    assert!(text.contains(stated), "README should say `{stated}`");
}

/// The README's Quick start shows the real output of `oversim run` on the default scenario
/// (the verdict, the table and its units), apart from the wall time and the output folder.
#[test]
fn the_readme_quick_start_is_real_output() {
    let readme = read("README.md");
    let start = readme
        .find("```text\ndefault: ")
        .expect("the Quick start shows the run")
        + "```text\n".len();
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let tmp = tempfile::TempDir::new().unwrap();
    let out = assert_cmd::Command::cargo_bin("oversim")
        .unwrap()
        .args(["run", "-o"])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&tmp.path().join("out").display().to_string(), "results/default");
    // The first line ends with the wall time and the folder: "…, 0.6 s → results/default".
    let timeless = |t: &str| -> String {
        t.lines()
            .map(|l| match (l.rfind(", "), l.find(" s → ")) {
                (Some(a), Some(b)) if a < b => format!("{}, T{}", &l[..a], &l[b..]),
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        timeless(block.trim_end()),
        timeless(stdout.trim_end()),
        "README's Quick start is not what `oversim run` prints"
    );
}

/// Lesson 8's duty: with GDPR Art. 22 on high-impact work, exactly tiered-realistic and
/// production-line break it, in every replication, and by hand stays the choice.
#[test]
fn the_duty_in_lesson_8_breaks_the_policies_it_names() {
    let lesson = plain(&read("docs/teaching.md"));
    for stated in [
        "--set 'workload.class.high-impact.duty=\"GDPR Art. 22\"'",
        "Then tiered-realistic and production-line break the duty in every replication",
        "Here the winner does not change",
    ] {
        assert!(lesson.contains(stated), "docs/teaching.md should say `{stated}`");
    }
    let tmp = tempfile::TempDir::new().unwrap();
    let out = assert_cmd::Command::cargo_bin("oversim")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "scenarios/realistic-layers.toml",
            "-r",
            "10",
            "-q",
            "--set",
        ])
        .arg("workload.class.high-impact.duty=\"GDPR Art. 22\"")
        .arg("-o")
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = super::common::csv_rows(&tmp.path().join("out/decision.csv"));
    let breaking: Vec<&str> = (rows.iter())
        .filter(|r| !r["duties_broken"].is_empty())
        .map(|r| r["policy"].as_str())
        .collect();
    assert_eq!(breaking, ["tiered-realistic", "production-line"]);
    for r in rows.iter().filter(|r| !r["duties_broken"].is_empty()) {
        assert!(r["duties_broken"].ends_with("in 10 of 10 replications)"), "{r:?}");
    }
    let best = rows.iter().find(|r| r["rank"] == "1").unwrap();
    assert_eq!(best["policy"], "by-hand");
}
