//! Every class of bad input gives exit code 2 and one message naming the file, the exact
//! line and the key path, and writes nothing.

use assert_cmd::Command;
use tempfile::TempDir;

const BASE: &str = r#"name = "base"
[run]
replications = 2
horizon = "1d"
[workload]
rate = "40/h"
[[workload.class]]
name = "routine"
share = 0.9
defect_prob = 0.03
[[workload.class]]
name = "high-impact"
share = 0.1
defect_prob = 0.08
harm = 50.0
[[policy]]
name = "tiered"
[[policy.stage]]
kind = "automated_check"
name = "tests"
detect = 0.55
false_positive = 0.05
on_flag = "escalate"
escalate_to = "review"
[[policy.stage]]
kind = "human_review"
name = "review"
reviewers = 2
service = { dist = "lognormal", mean = "6m", cv = 1.0 }
detect = 0.6
"#;

struct Case {
    what: &'static str,
    /// Replace `from` with `to` in BASE.
    from: &'static str,
    to: &'static str,
    /// The error's line is the line where this text starts in the edited file
    /// (`None`: no line, e.g. a problem of the whole file).
    line_of: Option<&'static str>,
    /// Key path the message must name.
    path: &'static str,
    /// Further text the message must contain (what is allowed).
    says: &'static str,
}

const CASES: &[Case] = &[
    Case { what: "TOML syntax", from: "[workload]", to: "[workload", line_of: Some("[workload"), path: "", says: "expected `]`" },
    Case { what: "unknown top-level key", from: "name = \"base\"", to: "name = \"base\"\nnmae = 1", line_of: Some("nmae"), path: "", says: "unknown key `nmae`" },
    Case { what: "unknown run key", from: "horizon = \"1d\"", to: "horizon = \"1d\"\nhorizn = \"1d\"", line_of: Some("horizn"), path: "run", says: "did you mean `horizon`?" },
    Case { what: "unknown workload key", from: "rate = \"40/h\"", to: "rate = \"40/h\"\nrat = 3", line_of: Some("rat = 3"), path: "workload", says: "unknown key `rat`" },
    Case { what: "unknown class key", from: "defect_prob = 0.03", to: "defect_prob = 0.03\ndefect = 0.1", line_of: Some("defect = 0.1"), path: "workload.class[routine]", says: "did you mean `defect_prob`?" },
    Case { what: "unknown stage key", from: "reviewers = 2", to: "reviewers = 2\nreviewrs = 3", line_of: Some("reviewrs"), path: "policy[tiered].stage[review]", says: "did you mean `reviewers`?" },
    Case { what: "unknown distribution key", from: "cv = 1.0 }", to: "cv = 1.0, sd = 2 }", line_of: Some("service ="), path: "policy[tiered].stage[review].service", says: "unknown key `sd`" },
    Case { what: "key of another stage kind", from: "false_positive = 0.05", to: "false_positive = 0.05\nreviewers = 3", line_of: Some("reviewers = 3"), path: "policy[tiered].stage[tests].reviewers", says: "not a key of an automated_check stage" },
    Case { what: "wrong type", from: "reviewers = 2", to: "reviewers = \"two\"", line_of: Some("reviewers = \"two\""), path: "policy[tiered].stage[review].reviewers", says: "wrong type" },
    Case { what: "wrong type for a probability", from: "defect_prob = 0.03", to: "defect_prob = \"low\"", line_of: Some("defect_prob = \"low\""), path: "workload.class[routine].defect_prob", says: "expected a number" },
    Case { what: "missing required key", from: "detect = 0.6\n", to: "", line_of: Some("[[policy.stage]]\nkind = \"human_review\""), path: "policy[tiered].stage[review].detect", says: "required key `detect` is missing" },
    Case { what: "missing workload rate", from: "rate = \"40/h\"\n", to: "", line_of: Some("[workload]"), path: "workload", says: "required key `rate` is missing" },
    Case { what: "probability above 1", from: "detect = 0.55", to: "detect = 1.5", line_of: Some("detect = 1.5"), path: "policy[tiered].stage[tests].detect", says: "allowed: a probability in [0, 1]" },
    Case { what: "negative probability", from: "false_positive = 0.05", to: "false_positive = -0.1", line_of: Some("false_positive"), path: "policy[tiered].stage[tests].false_positive", says: "a probability in [0, 1]" },
    Case { what: "NaN", from: "detect = 0.6", to: "detect = nan", line_of: Some("detect = nan"), path: "policy[tiered].stage[review].detect", says: "nan is out of range" },
    Case { what: "infinity", from: "harm = 50.0", to: "harm = inf", line_of: Some("harm = inf"), path: "workload.class[high-impact].harm", says: "out of range" },
    Case { what: "zero rate", from: "rate = \"40/h\"", to: "rate = \"0/h\"", line_of: Some("rate ="), path: "workload.rate", says: "must be positive" },
    Case { what: "negative rate", from: "rate = \"40/h\"", to: "rate = \"-4/h\"", line_of: Some("rate ="), path: "workload.rate", says: "must be positive" },
    Case { what: "rate without unit", from: "rate = \"40/h\"", to: "rate = \"40\"", line_of: Some("rate ="), path: "workload.rate", says: "\"40/h\"" },
    Case { what: "rate with bad unit", from: "rate = \"40/h\"", to: "rate = \"40/hr\"", line_of: Some("rate ="), path: "workload.rate", says: "unknown unit" },
    Case { what: "zero duration", from: "horizon = \"1d\"", to: "horizon = \"0h\"", line_of: Some("horizon"), path: "run.horizon", says: "longer than zero" },
    Case { what: "negative duration", from: "mean = \"6m\"", to: "mean = \"-6m\"", line_of: Some("service ="), path: "policy[tiered].stage[review].service.mean", says: "negative" },
    Case { what: "duration without unit", from: "horizon = \"1d\"", to: "horizon = \"24\"", line_of: Some("horizon"), path: "run.horizon", says: "has no unit" },
    Case { what: "duration as a number", from: "horizon = \"1d\"", to: "horizon = 24", line_of: Some("horizon"), path: "run.horizon", says: "quoted and carry a unit" },
    Case { what: "NaN duration", from: "horizon = \"1d\"", to: "horizon = \"nanh\"", line_of: Some("horizon"), path: "run.horizon", says: "not a valid duration" },
    Case { what: "zero reviewers", from: "reviewers = 2", to: "reviewers = 0", line_of: Some("reviewers = 0"), path: "policy[tiered].stage[review].reviewers", says: "[1, 100000]" },
    Case { what: "absurd reviewers", from: "reviewers = 2", to: "reviewers = 1000000000000", line_of: Some("reviewers ="), path: "policy[tiered].stage[review].reviewers", says: "[1, 100000]" },
    Case { what: "absurd replications", from: "replications = 2", to: "replications = 1000000000000", line_of: Some("replications"), path: "run.replications", says: "[1, 10000000]" },
    Case { what: "shares not summing to 1", from: "share = 0.1", to: "share = 0.2", line_of: Some("share = 0.9"), path: "workload.class", says: "must sum to 1" },
    Case { what: "no classes", from: "[[workload.class]]\nname = \"routine\"\nshare = 0.9\ndefect_prob = 0.03\n[[workload.class]]\nname = \"high-impact\"\nshare = 0.1\ndefect_prob = 0.08\nharm = 50.0\n", to: "", line_of: Some("[workload]"), path: "workload.class", says: "at least one [[workload.class]]" },
    Case { what: "duplicate class", from: "name = \"high-impact\"", to: "name = \"routine\"", line_of: Some("name = \"routine\"\nshare = 0.1"), path: "workload.class[routine].name", says: "used twice" },
    Case { what: "bad name", from: "name = \"tiered\"", to: "name = \"Tiered Policy\"", line_of: Some("name = \"Tiered"), path: "policy[Tiered Policy].name", says: "not a valid name" },
    Case { what: "duplicate stage", from: "name = \"tests\"", to: "name = \"review\"", line_of: Some("name = \"review\"\nreviewers"), path: "policy[tiered].stage[review].name", says: "used twice" },
    Case { what: "escalation to unknown stage", from: "escalate_to = \"review\"", to: "escalate_to = \"reviw\"", line_of: Some("escalate_to"), path: "policy[tiered].stage[tests].escalate_to", says: "did you mean `review`?" },
    Case { what: "escalation to an earlier stage", from: "escalate_to = \"review\"", to: "escalate_to = \"tests\"", line_of: Some("escalate_to"), path: "policy[tiered].stage[tests].escalate_to", says: "later human_review stage" },
    Case { what: "escalation without target", from: "escalate_to = \"review\"\n", to: "", line_of: Some("on_flag"), path: "policy[tiered].stage[tests].escalate_to", says: "required key `escalate_to`" },
    Case { what: "unknown class filter", from: "reviewers = 2", to: "reviewers = 2\nclasses = [\"high-impct\"]", line_of: Some("classes ="), path: "policy[tiered].stage[review].classes", says: "did you mean `high-impact`?" },
    Case { what: "unknown stage kind", from: "kind = \"automated_check\"", to: "kind = \"automatic_check\"", line_of: Some("kind = \"automatic"), path: "policy[tiered].stage[tests].kind", says: "did you mean `automated_check`?" },
    Case { what: "unknown distribution", from: "dist = \"lognormal\"", to: "dist = \"lognorm\"", line_of: Some("service ="), path: "policy[tiered].stage[review].service.dist", says: "did you mean `lognormal`?" },
    Case { what: "distribution key that does not apply", from: "cv = 1.0 }", to: "cv = 1.0, value = \"1m\" }", line_of: Some("service ="), path: "policy[tiered].stage[review].service.value", says: "does not apply" },
    Case { what: "complacency below 1", from: "detect = 0.6", to: "detect = 0.6\ncomplacency = 0.5", line_of: Some("complacency"), path: "policy[tiered].stage[review].complacency", says: "≥ 1" },
    Case { what: "profile of wrong length", from: "rate = \"40/h\"", to: "rate = \"40/h\"\nprofile = [1, 2]", line_of: Some("profile"), path: "workload.profile", says: "exactly 24" },
    Case { what: "shift longer than its period", from: "detect = 0.6", to: "detect = 0.6\nshifts = { on = \"30h\", period = \"24h\" }", line_of: Some("shifts"), path: "policy[tiered].stage[review].shifts.on", says: "longer than its period" },
    Case { what: "on_timeout without max_wait", from: "detect = 0.6", to: "detect = 0.6\non_timeout = \"drop\"", line_of: Some("on_timeout"), path: "policy[tiered].stage[review].on_timeout", says: "needs `max_wait`" },
    Case { what: "bad discipline", from: "detect = 0.6", to: "detect = 0.6\ndiscipline = \"lifo\"", line_of: Some("discipline"), path: "policy[tiered].stage[review].discipline", says: "allowed: fifo, priority" },
    Case { what: "negative seed", from: "horizon = \"1d\"", to: "horizon = \"1d\"\nseed = -1", line_of: Some("seed"), path: "run.seed", says: "out of range" },
    Case { what: "misspelt table", from: "[run]", to: "[runs]", line_of: Some("[runs]"), path: "", says: "did you mean `run`?" },
    Case { what: "table where an array of tables belongs", from: "[[policy]]\nname = \"tiered\"", to: "[policy]\nname = \"tiered\"", line_of: Some("[policy]"), path: "policy", says: "[[policy]]" },
    Case { what: "no policies", from: "[[policy]]\nname = \"tiered\"\n[[policy.stage]]\nkind = \"automated_check\"\nname = \"tests\"\ndetect = 0.55\nfalse_positive = 0.05\non_flag = \"escalate\"\nescalate_to = \"review\"\n[[policy.stage]]\nkind = \"human_review\"\nname = \"review\"\nreviewers = 2\nservice = { dist = \"lognormal\", mean = \"6m\", cv = 1.0 }\ndetect = 0.6\n", to: "", line_of: None, path: "policy", says: "no policies" },
    Case { what: "monitor watching nothing", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"monitor\"\nwatch = []\nmethod = \"cusum\"\nk = 0.1\nh = 3\n", line_of: Some("watch = []"), path: "policy[tiered].stage[monitor].watch", says: "watches nothing" },
    Case { what: "monitor watching an unknown stage", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"monitor\"\nwatch = [\"tets\"]\nmethod = \"cusum\"\nk = 0.1\nh = 3\n", line_of: Some("\"tets\""), path: "policy[tiered].stage[monitor].watch", says: "did you mean `tests`?" },
    Case { what: "monitor watching a monitor", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"monitor\"\nname = \"m1\"\nwatch = [\"m2\"]\nmethod = \"cusum\"\nk = 0.1\nh = 3\n[[policy.stage]]\nkind = \"monitor\"\nname = \"m2\"\nwatch = [\"tests\"]\nmethod = \"cusum\"\nk = 0.1\nh = 3\n", line_of: Some("\"m2\"]"), path: "policy[tiered].stage[m1].watch", says: "is a monitor" },
    Case { what: "monitor without method", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"monitor\"\nwatch = [\"tests\"]\n", line_of: Some("[[policy.stage]]\nkind = \"monitor\"\n"), path: "policy[tiered].stage[monitor].method", says: "required key `method`" },
    Case { what: "unknown monitor method", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"monitor\"\nwatch = [\"tests\"]\nmethod = \"cusm\"\n", line_of: Some("method = \"cusm"), path: "policy[tiered].stage[monitor].method", says: "did you mean `cusum`?" },
    Case { what: "CUSUM p1 not above p0", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"monitor\"\nwatch = [\"tests\"]\nmethod = \"cusum\"\np0 = 0.1\np1 = 0.05\nh = 4\n", line_of: Some("p1 = 0.05"), path: "policy[tiered].stage[monitor].p1", says: "must be above p0" },
    Case { what: "CUSUM with both k and p0", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"monitor\"\nwatch = [\"tests\"]\nmethod = \"cusum\"\nk = 0.1\np0 = 0.1\np1 = 0.2\nh = 4\n", line_of: Some("k = 0.1"), path: "policy[tiered].stage[monitor].k", says: "not both" },
    Case { what: "CUSUM without h", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"monitor\"\nwatch = [\"tests\"]\nmethod = \"cusum\"\nk = 0.1\n", line_of: Some("[[policy.stage]]\nkind = \"monitor\"\n"), path: "policy[tiered].stage[monitor].h", says: "decision interval" },
    Case { what: "Shewhart limit that can never alarm", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"monitor\"\nwatch = [\"tests\"]\nmethod = \"shewhart\"\nn = 2\np0 = 0.5\n", line_of: Some("n = 2"), path: "policy[tiered].stage[monitor].n", says: "never alarm" },
    Case { what: "chart key of another method", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"monitor\"\nwatch = [\"tests\"]\nmethod = \"ewma\"\nlambda = 0.1\nL = 3\np0 = 0.1\nh = 4\n", line_of: Some("h = 4"), path: "policy[tiered].stage[monitor].h", says: "does not apply to method = \"ewma\"" },
    Case { what: "EWMA lambda out of range", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"monitor\"\nwatch = [\"tests\"]\nmethod = \"ewma\"\nlambda = 1.5\nL = 3\np0 = 0.1\n", line_of: Some("lambda = 1.5"), path: "policy[tiered].stage[monitor].lambda", says: "(0, 1]" },
    Case { what: "negative halt", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"monitor\"\nwatch = [\"tests\"]\nmethod = \"cusum\"\nk = 0.1\nh = 3\nhalt = \"-2h\"\n", line_of: Some("halt ="), path: "policy[tiered].stage[monitor].halt", says: "negative" },
    Case { what: "learn of 1", from: "detect = 0.6\n", to: "detect = 0.6\nlearn = 1.0\n", line_of: Some("learn = 1.0"), path: "policy[tiered].stage[review].learn", says: "[0, 1)" },
    Case { what: "correlation of 1", from: "rate = \"40/h\"", to: "rate = \"40/h\"\ndetection_correlation = 1.0", line_of: Some("detection_correlation"), path: "workload.detection_correlation", says: "[0, 1)" },
    Case { what: "negative drift multiplier", from: "[[policy]]", to: "[workload.drift]\nevery = \"10d\"\nmultiplier = -2\n[[policy]]", line_of: Some("multiplier = -2"), path: "workload.drift.multiplier", says: "out of range" },
    Case { what: "drift without onset gap", from: "[[policy]]", to: "[workload.drift]\nmultiplier = 2\n[[policy]]", line_of: Some("[workload.drift]"), path: "workload.drift", says: "required key `every`" },
    Case { what: "audit without auditors", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"audit\"\nservice = { dist = \"exponential\", mean = \"15m\" }\ndetect = 0.9\n", line_of: Some("[[policy.stage]]\nkind = \"audit\""), path: "policy[tiered].stage[audit].reviewers", says: "required key `reviewers`" },
    Case { what: "review key on an audit", from: "detect = 0.6\n", to: "detect = 0.6\n[[policy.stage]]\nkind = \"audit\"\nreviewers = 1\nservice = { dist = \"exponential\", mean = \"15m\" }\ndetect = 0.9\nmax_wait = \"1h\"\n", line_of: Some("max_wait"), path: "policy[tiered].stage[audit].max_wait", says: "not a key of an audit stage" },
];

fn line_of(text: &str, marker: &str) -> usize {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("marker {marker:?} not in the edited file"));
    text[..at].matches('\n').count() + 1
}

#[test]
fn every_bad_input_class_is_exit_2_with_line_and_key_path() {
    assert!(
        CASES.len() >= 40,
        "the corpus should cover at least 40 failure classes"
    );
    let tmp = TempDir::new().unwrap();
    for (i, c) in CASES.iter().enumerate() {
        assert!(BASE.contains(c.from), "case {}: {:?} not in BASE", c.what, c.from);
        let text = BASE.replacen(c.from, c.to, 1);
        let name = format!("case{i}.toml");
        std::fs::write(tmp.path().join(&name), &text).unwrap();
        for cmd in ["validate", "run"] {
            let out = Command::cargo_bin("oversim")
                .unwrap()
                .current_dir(tmp.path())
                .args(
                    [cmd, &name, "--quiet"]
                        .iter()
                        .filter(|a| cmd == "run" || **a != "--quiet"),
                )
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{}: {cmd} exit code; stderr:\n{err}",
                c.what
            );
            assert!(!err.contains("panicked"), "{}: panic:\n{err}", c.what);
            let location = match c.line_of {
                Some(m) => format!("error: {name}:{}:", line_of(&text, m)),
                None => format!("error: {name}:"),
            };
            assert!(
                err.contains(&location),
                "{}: expected location `{location}` in:\n{err}",
                c.what
            );
            let first = err.lines().find(|l| l.starts_with(&location)).unwrap();
            if !c.path.is_empty() {
                let named =
                    first.contains(&format!(" {}: ", c.path)) || first.contains(&format!(" {}.", c.path));
                assert!(named, "{}: expected key path `{}` in:\n{first}", c.what, c.path);
            }
            assert!(
                err.contains(c.says),
                "{}: expected `{}` in:\n{err}",
                c.what,
                c.says
            );
        }
        assert!(
            !tmp.path().join("results").exists(),
            "{}: a bad scenario created output",
            c.what
        );
    }
}

#[test]
fn missing_file_and_bad_flags_are_exit_2() {
    Command::cargo_bin("oversim")
        .unwrap()
        .args(["validate", "no-such-file.toml"])
        .assert()
        .code(2);
    Command::cargo_bin("oversim")
        .unwrap()
        .args(["run", "--threads", "0"])
        .assert()
        .code(2);
    Command::cargo_bin("oversim")
        .unwrap()
        .args(["run", "--set", "novalue"])
        .assert()
        .code(2);
    Command::cargo_bin("oversim")
        .unwrap()
        .args(["frobnicate"])
        .assert()
        .code(2);
}

#[test]
fn several_errors_are_all_reported() {
    let tmp = TempDir::new().unwrap();
    let text = BASE
        .replace("detect = 0.55", "detect = 2")
        .replace("reviewers = 2", "reviewers = 0");
    std::fs::write(tmp.path().join("two.toml"), &text).unwrap();
    let out = Command::cargo_bin("oversim")
        .unwrap()
        .current_dir(tmp.path())
        .args(["validate", "two.toml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error: two.toml:")).count(),
        2,
        "{err}"
    );
}
