//! Helpers shared by the integration tests.
#![allow(dead_code)]

use oversim::metrics::{RepResult, M};
use oversim::montecarlo::{self, Results};
use oversim::scenario::{self, Scenario};
use oversim::stats::{summarize_at, Summary};

/// Confidence level of the statistical validation tests: a correct simulator fails one
/// check by chance with probability 0.1%. The suite has 74 call sites of the interval
/// checks, some in loops (a few hundred checks, so a fresh seed would fail one of them
/// with probability near 1 − 0.999^300 ≈ 26%); seeds are fixed, so a pass is reproducible,
/// and a failure after a change is a change in the numbers, to be explained, not rerun.
pub const LEVEL: f64 = 0.999;

/// One worker pool for every test of the binary: the harness already runs a test per core,
/// so a pool per test (of every core each) would only oversubscribe them.
pub fn pool() -> &'static montecarlo::Pool {
    static POOL: std::sync::OnceLock<montecarlo::Pool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| montecarlo::pool(None).expect("thread pool"))
}

/// Loads `text`, runs it on the shared pool and checks conservation and Little's law on
/// every replication of every policy.
pub fn run(text: &str) -> (Scenario, Results) {
    let sc = scenario::load("test.toml", text, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .scenario;
    let reps: Vec<u64> = (0..sc.run.replications).collect();
    let batch = montecarlo::run_points(
        montecarlo::Workers::new(pool()),
        &[&sc],
        &[reps],
        None,
        montecarlo::Keep::All,
        &|_, _, _| None,
        &|| {},
    );
    let results = batch.results.into_iter().next().expect("one point");
    for (p, reps) in results.per_policy.iter().enumerate() {
        assert_eq!(
            reps.len() as u64,
            sc.run.replications,
            "policy {p}: replications run"
        );
        for (i, r) in reps.iter().enumerate() {
            check_invariants(r, &format!("policy {p} replication {i}"));
        }
    }
    (sc, results)
}

pub fn check_invariants(r: &RepResult, what: &str) {
    if let Err(e) = r.metrics.check() {
        panic!("{what}: {e}");
    }
    // The defect kinds' rows add up to the replication's defects, escapes and harm.
    let kinds = |f: fn(&oversim::metrics::KindResult) -> f64| r.kinds.iter().map(f).sum::<f64>();
    for (m, total) in [
        (M::defects, kinds(|k| k.defects as f64)),
        (M::escaped, kinds(|k| k.escaped as f64)),
        (M::caught_late, kinds(|k| k.caught_late as f64)),
    ] {
        assert_eq!(r.metrics.get(m), total, "{what}: kinds' {m:?} do not add up");
    }
    let harm = r.metrics.get(M::harm);
    assert!(
        (harm - kinds(|k| k.harm)).abs() <= 1e-9 * harm.abs().max(1.0),
        "{what}: kinds' harm does not add up"
    );
    // Duty breaches are releases, and the classes' rows add up to them.
    let breaches = r.metrics.get(M::duty_breaches);
    assert!(
        breaches <= r.metrics.get(M::released),
        "{what}: more breaches than releases"
    );
    if !r.classes.is_empty() {
        let by_class: u64 = r.classes.iter().map(|c| c.duty_breaches).sum();
        assert_eq!(
            breaches, by_class as f64,
            "{what}: classes' duty breaches do not add up"
        );
    }
    // Culture: blame falls on escapes that came to light, at most all of it on one person;
    // a fix needs an investigation; a signed-off escape is an escape.
    let m = |k: M| r.metrics.get(k);
    assert!(
        m(M::escapes_signed_off) <= m(M::escaped),
        "{what}: signed-off escapes"
    );
    assert!(
        m(M::found_later) <= m(M::escaped),
        "{what}: escapes come to light"
    );
    assert!(
        m(M::blame_max_person) <= m(M::blame_events)
            && m(M::blame_events) <= m(M::found_later) + m(M::caught_late),
        "{what}: blame events"
    );
    // The stages' rows hold the blame: their sum, and the most on one person.
    let by_stage: f64 = r.stages.iter().map(|s| s.blame_events).sum();
    let most = r.stages.iter().map(|s| s.blame_max_person).fold(0.0, f64::max);
    assert_eq!(by_stage, m(M::blame_events), "{what}: stages' blame events");
    assert_eq!(most, m(M::blame_max_person), "{what}: the most-blamed person");
    let fixes = m(M::fixes_people) + m(M::fixes_tools) + m(M::fixes_escapes);
    assert!(
        fixes <= m(M::root_cause_analyses),
        "{what}: fixes without investigations"
    );
    // Money: the total is its parts (in the order the engine adds them); people replaced
    // are whole people, each hire a cost.
    let parts = [
        M::cost_review,
        M::cost_hiring,
        M::cost_work,
        M::cost_halt,
        M::cost_harm,
        M::cost_delay,
        M::cost_stages,
        M::cost_fixed,
    ];
    let total = parts.iter().fold(0.0, |a, &k| a + m(k));
    assert_eq!(m(M::cost_total), total, "{what}: the cost parts do not add up");
    let replaced = m(M::people_replaced);
    assert!(
        replaced >= 0.0 && replaced.fract() == 0.0 && m(M::cost_hiring) >= 0.0,
        "{what}: people replaced {replaced}"
    );
    assert!(
        replaced > 0.0 || m(M::cost_hiring) == 0.0,
        "{what}: hiring costs without anyone replaced"
    );
    let l = &r.ledger;
    assert!(l.conserved(), "{what}: conservation fails: {l:?}");
    if l.queue_area > 0.0 {
        assert!(
            l.little_gap() < 1e-9,
            "{what}: Little's law (sample path) fails: {l:?}"
        );
    } else {
        assert!(
            l.queue_time.abs() < 1e-9,
            "{what}: queue time without queue area: {l:?}"
        );
    }
}

/// Per-replication values of a metric of policy `p`.
pub fn metric(results: &Results, p: usize, m: M) -> Vec<f64> {
    results.per_policy[p].iter().map(|r| r.metrics.get(m)).collect()
}

/// Asserts that `theory` lies in the `LEVEL` confidence interval of the mean of `values`,
/// and that the check could have failed: every replication gave a value (none undefined
/// and skipped), and the interval is narrow enough to tell `theory` from a model that is
/// 10% off (half-width at most 5% of `theory`). A value of 0 needs [`assert_ci_within`].
pub fn assert_ci(what: &str, values: &[f64], theory: f64) -> Summary {
    assert!(
        theory != 0.0,
        "{what}: a theory of 0 needs an absolute resolution (assert_ci_within)"
    );
    assert_ci_within(what, values, theory, 0.1 * theory.abs())
}

/// [`assert_ci`] with the resolution stated: the half-width must be at most
/// `resolution / 2`, so a model wrong by `resolution` would fail.
pub fn assert_ci_within(what: &str, values: &[f64], theory: f64, resolution: f64) -> Summary {
    let s = summarize_at(values.iter().copied(), LEVEL);
    eprintln!(
        "{what}: simulated {:.5} (99.9% CI {:.5} .. {:.5}, n = {}), theory {theory:.5}, half-width {:.2}% of the resolution",
        s.mean,
        s.ci_low,
        s.ci_high,
        s.n,
        100.0 * s.half_width() / resolution
    );
    assert_eq!(
        s.n,
        values.len(),
        "{what}: {} of {} replications gave no value",
        values.len() - s.n,
        values.len()
    );
    assert!(
        s.n >= 10,
        "{what}: {} replications are too few for a t-interval",
        s.n
    );
    assert!(
        s.half_width() <= resolution / 2.0,
        "{what}: the 99.9% CI half-width {} is more than half the resolution {resolution}: the check could not tell the theory from a model that far off; run more or longer replications",
        s.half_width()
    );
    assert!(
        s.ci_low <= theory && theory <= s.ci_high,
        "{what}: theory {theory} outside the 99.9% CI [{}, {}] of the simulated mean {}",
        s.ci_low,
        s.ci_high,
        s.mean
    );
    s
}

/// A scenario with one class and the given policy stages (TOML for `[[policy.stage]]`
/// tables).
pub fn scenario(run: &str, rate: &str, defect_prob: f64, stages: &str) -> String {
    format!(
        r#"name = "t"
[run]
{run}
[workload]
rate = "{rate}"
[[workload.class]]
name = "only"
share = 1.0
defect_prob = {defect_prob}
[[policy]]
name = "p"
{stages}
"#
    )
}

/// Erlang C: probability of waiting in M/M/c with offered load `a` (stable form via
/// Erlang B, docs/parameters.md B.2).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let rho = a / c as f64;
    b / (1.0 - rho * (1.0 - b))
}

/// Thousands of USD with one decimal, signed when `signed`: "584.0k", "−37.3k".
pub fn kusd(x: f64, signed: bool) -> String {
    let s = format!("{:.1}k", x.abs() / 1000.0);
    match (x < 0.0, signed) {
        (true, _) => format!("−{s}"),
        (false, true) => format!("+{s}"),
        (false, false) => s,
    }
}

/// Digits with a comma between thousands: "8577103" → "8,577,103".
pub fn thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The generated block of `doc` (a file under the repository) between `<!-- {marker} -->`
/// and `<!-- /{marker} -->` is `want`: with `OVERSIM_BLESS` set, it is rewritten and `None`
/// returned (nothing more to check); otherwise it is checked, and the document returned
/// for the prose's own checks.
pub fn generated_block(doc: &str, marker: &str, want: &str) -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(doc);
    let text = std::fs::read_to_string(&path).unwrap();
    let (open, close) = (format!("<!-- {marker} -->\n"), format!("<!-- /{marker} -->"));
    let a = text.find(&open).unwrap_or_else(|| panic!("{doc}: no {open}")) + open.len();
    let b = text.find(&close).unwrap_or_else(|| panic!("{doc}: no {close}"));
    if std::env::var_os("OVERSIM_BLESS").is_some() {
        std::fs::write(&path, format!("{}{want}{}", &text[..a], &text[b..])).unwrap();
        return None;
    }
    assert_eq!(&text[a..b], want, "{doc}: rerun with OVERSIM_BLESS=1");
    Some(text)
}

/// The rows of the CSV file at `path`, each as a map from column to text.
pub fn csv_rows(path: &std::path::Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.deserialize().map(|x| x.unwrap()).collect()
}

/// The rows of `file` in the committed results of the example `example`
/// (results/examples/EXAMPLE/).
pub fn committed_rows(example: &str, file: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results/examples");
    csv_rows(&dir.join(example).join(file))
}

/// Runs `oversim run SCENARIO -r REPS -q -o OUT` from the repository, with each of `sets` as
/// `--set`, asserting success; returns the output folder.
pub fn oversim_run(scenario: &str, reps: u32, out: &std::path::Path, sets: &[&str]) -> std::path::PathBuf {
    let mut cmd = assert_cmd::Command::cargo_bin("oversim").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", scenario, "-r", &reps.to_string(), "-q", "-o"])
        .arg(out);
    for s in sets {
        cmd.args(["--set", s]);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out.to_path_buf()
}
