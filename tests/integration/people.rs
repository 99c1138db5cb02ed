//! People who change: an idle watch that wears (`fatigue.idle = "watch"`), the prevalence
//! effect (`prevalence`), and practice, disuse and turnover (`experience`), each against a
//! closed form, for every kind of person (reviewers, auditors, lot inspectors, triage
//! staff); and settings that change nothing leave every replication as it was.

use super::common::{assert_ci, assert_ci_within, metric, run, scenario};
use oversim::metrics::{RepResult, M};

/// A stage's detection in one replication: what it caught of what it handled (every
/// attempt defective in these worlds).
fn caught(r: &RepResult) -> f64 {
    let s = &r.stages[0];
    s.caught / (s.passed + s.flagged)
}

/// An idle watch wears as work does: one reviewer who starts each attempt as it arrives
/// (service 1 s, a queue seldom forms) has been on watch since the start of the day, so
/// the attempts, uniform over the two hours, meet on average the session mean of B.11,
/// d∞ + (d0 − d∞)(τ/T)(1 − e^{−T/τ}) = 0.7642 (d0 = 0.9, d∞ = 0.72, τ = 30 min, T = 2 h).
/// Resting while idle, the same reviewer would stay near d0.
#[test]
fn an_idle_watch_wears_as_work_does() {
    let (d0, dinf, tau, t) = (0.9f64, 0.72f64, 0.5f64, 2.0f64);
    let closed = dinf + (d0 - dinf) * (tau / t) * (1.0 - (-t / tau).exp());
    let text = |idle: &str| {
        scenario(
            "replications = 40\nhorizon = \"2h\"\nwarmup = \"0h\"\nseed = 8",
            "500/h",
            1.0,
            &format!(
                r#"[[policy.stage]]
kind = "human_review"
reviewers = 1
service = {{ dist = "constant", value = "1s" }}
detect = {d0}
fatigue = {{ tau = "30m", floor = {}, break_after = "4h", break_length = "15m"{idle} }}
"#,
                dinf / d0
            ),
        )
    };
    let (_, r) = run(&text(", idle = \"watch\""));
    let watch: Vec<f64> = r.per_policy[0].iter().map(caught).collect();
    assert_ci("an idle watch: mean detection over the day", &watch, closed);
    // Resting while idle (spells of 15 minutes are rare at 500 an hour, so this reviewer
    // tires with time on task alone: 1 s an attempt, about 17 minutes by the end).
    let (_, r) = run(&text(""));
    let rest: Vec<f64> = r.per_policy[0].iter().map(caught).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&rest) > closed + 0.05,
        "resting while idle: {} against a watch's {closed}",
        mean(&rest)
    );
}

/// The prevalence effect: a reviewer whose `detect` = 0.93 holds at a 50% share of
/// defects comes to see a 2% share, and misses 0.07 × (0.5/0.02)^0.372 = 23%. The running
/// estimate averages over 1,000 items, so its spread adds to the miss odds a second-order
/// term, ½b(b+1)·Var/π² with Var = π(1 − π)/(2m − 1), kept in the theory (0.6%). Their
/// false rejects (0.05 at the reference) move by the same criterion shift:
/// Φ(Φ⁻¹(0.05) + Φ⁻¹(hits) − Φ⁻¹(0.93)) = 0.84%, with the same second-order term
/// (½F″(π)·Var, by finite differences).
#[test]
fn the_prevalence_effect_follows_the_share_seen() {
    use oversim::math::{normal_cdf, normal_quantile};
    let (at, slope, memory, pi, d) = (0.5f64, 0.372f64, 1000.0f64, 0.02f64, 0.93f64);
    let var = pi * (1.0 - pi) / (2.0 * memory - 1.0);
    let spread = 0.5 * slope * (slope + 1.0) * var / (pi * pi);
    let theory = (1.0 - d) * (at / pi).powf(slope) * (1.0 + spread);
    assert!(spread < 0.01, "the second-order term {spread} is small");
    let false_reject = |s: f64| {
        let hits = 1.0 - (1.0 - d) * (at / s).powf(slope);
        normal_cdf(normal_quantile(0.05) + normal_quantile(hits) - normal_quantile(d))
    };
    let h = 1e-3 * pi;
    let curvature = (false_reject(pi + h) - 2.0 * false_reject(pi) + false_reject(pi - h)) / (h * h);
    let false_theory = false_reject(pi) + 0.5 * curvature * var;
    let text = scenario(
        "replications = 30\nhorizon = \"400h\"\nwarmup = \"100h\"\nseed = 9",
        "100/h",
        pi,
        &format!(
            r#"[[policy.stage]]
kind = "human_review"
reviewers = 1
service = {{ dist = "constant", value = "6s" }}
detect = {d}
false_reject = 0.05
prevalence = {{ at = {at}, slope = {slope}, memory = {memory} }}
"#
        ),
    );
    let (_, r) = run(&text);
    let missed: Vec<f64> = r.per_policy[0]
        .iter()
        .map(|x| x.metrics.get(M::escaped) / x.metrics.get(M::defects))
        .collect();
    assert_ci("prevalence: misses at a 2% share of defects", &missed, theory);
    // Clean work reviewed: what passed less what escaped, and what was rejected less the
    // defects caught.
    let rejected: Vec<f64> = (r.per_policy[0].iter())
        .map(|x| {
            let s = &x.stages[0];
            let clean = (s.passed - x.metrics.get(M::escaped)) + (s.flagged - s.caught);
            x.metrics.get(M::false_rejects) / clean
        })
        .collect();
    assert_ci("prevalence: false rejects of clean work", &rejected, false_theory);
}

/// One auditor who audits everything released (Poisson releases, exponential service: the
/// audits end as a Poisson stream, Burke's theorem), every attempt defective, `start = 1`.
/// Ability rises by (1 − a)/L per item, fades at 1/F and is reset by turnover at ν, so its
/// stationary mean, seen by a Poisson stream, is (r/L)/(1/F + r/L + ν), and detection
/// d(novice + (1 − novice)E[a]).
fn audited(tenure: &str) -> String {
    let (tenure, hire) = match tenure {
        "" => (String::new(), String::new()),
        t => (format!(", tenure = \"{t}\""), ", hire = 5000".to_string()),
    };
    scenario(
        "replications = 60\nhorizon = \"8100h\"\nwarmup = \"100h\"\nseed = 10",
        "2/h",
        1.0,
        &format!(
            r#"[[policy.stage]]
kind = "audit"
name = "audit"
sample = 1.0
reviewers = 1
service = {{ dist = "exponential", mean = "6m" }}
detect = 0.9
experience = {{ novice = 0.5, learn = 10, forget = "20h"{tenure}{hire} }}
"#
        ),
    )
}

#[test]
fn practice_disuse_and_turnover_have_their_stationary_mean() {
    let (d, novice, r, l, f) = (0.9f64, 0.5f64, 2.0f64, 10.0f64, 20.0f64);
    let detect = |nu: f64| {
        let a = (r / l) / (1.0 / f + r / l + nu);
        d * (novice + (1.0 - novice) * a)
    };
    let (_, stay) = run(&audited(""));
    let (_, turn) = run(&audited("50h"));
    let stay_d: Vec<f64> = stay.per_policy[0].iter().map(caught).collect();
    let turn_d: Vec<f64> = turn.per_policy[0].iter().map(caught).collect();
    // The two differ by 0.027: resolve to 0.02.
    assert_ci_within("experience: practice and disuse", &stay_d, detect(0.0), 0.02);
    assert_ci_within("experience: with turnover", &turn_d, detect(1.0 / 50.0), 0.02);
    // Nobody leaves without a tenure; with one, a place turns over at 1/tenure, each
    // replacement costing `hire`.
    assert!(metric(&stay, 0, M::people_replaced).iter().all(|&n| n == 0.0));
    let replaced = metric(&turn, 0, M::people_replaced);
    assert_ci(
        "turnover: people replaced in 8,000 hours",
        &replaced,
        8000.0 / 50.0,
    );
    for x in &turn.per_policy[0] {
        let m = |k: M| x.metrics.get(k);
        assert_eq!(m(M::cost_hiring), 5000.0 * m(M::people_replaced));
    }
}

/// One stage of each kind of person, with `people` (more TOML) and `service`: a review
/// and an audit of everything released and lots of two inspected whole (detect 0.8), and
/// a triage (flag 0.6). Every attempt is defective in these worlds.
fn each_kind(people: &str, service: &str) -> [(&'static str, String); 4] {
    let common = format!("reviewers = 1\nservice = {service}\n{people}");
    [
        (
            "review",
            format!("kind = \"human_review\"\ndetect = 0.8\n{common}"),
        ),
        (
            "audit",
            format!("kind = \"audit\"\nsample = 1.0\ndetect = 0.8\n{common}"),
        ),
        (
            "lots",
            format!("kind = \"acceptance_sampling\"\nlot = 2\nn = 2\nc = 1\ndetect = 0.8\n{common}"),
        ),
        (
            "triage",
            format!("kind = \"triage\"\nflag = {{ only = 0.6 }}\n{common}"),
        ),
    ]
}

/// What a stage of [`each_kind`] found in each replication: the share of what it handled
/// that it caught (for triage, that it flagged; for lots, of what entered, the few still
/// waiting at the end aside).
fn found(what: &str, text: &str) -> Vec<f64> {
    let (_, r) = run(text);
    (r.per_policy[0].iter())
        .map(|x| {
            let s = &x.stages[0];
            match what {
                "lots" => s.caught / s.entered,
                "triage" => s.flagged / (s.passed + s.flagged),
                _ => caught(x),
            }
        })
        .collect()
}

/// Every kind of person changes alike. A novice who never learns (`learn` huge,
/// `start = 0`) detects `novice` × `detect` (for triage, flags with `novice` × `flag`).
/// A person who forgets all but the last item (`memory = 1`) sees a share of 1 (for
/// triage, of 0.6), so misses (1 − d)(0.5/1)^0.372 (triage: (1 − 0.6)(0.5/0.6)^0.372). A
/// watch of 2 hours with 1-second items gives B.11's session mean, as for a reviewer.
#[test]
fn every_kind_of_person_changes() {
    let exp = "experience = { novice = 0.5, learn = 1e9, start = 0 }";
    let prev = "prevalence = { at = 0.5, memory = 1 }";
    let slope = 0.372f64;
    let seen = |what: &str| -> f64 {
        if what == "triage" {
            0.6
        } else {
            1.0
        }
    };
    let fresh = |what: &str| if what == "triage" { 0.6 } else { 0.8 };
    let exponential = "{ dist = \"exponential\", mean = \"6m\" }";
    for ((what, novice), (_, rare)) in each_kind(exp, exponential)
        .into_iter()
        .zip(each_kind(prev, exponential))
    {
        let text = |stage: &str| {
            scenario(
                "replications = 20\nhorizon = \"600h\"\nseed = 11",
                "5/h",
                1.0,
                &format!("[[policy.stage]]\nname = \"{what}\"\n{stage}\n"),
            )
        };
        assert_ci(
            &format!("a novice at {what}"),
            &found(what, &text(&novice)),
            0.5 * fresh(what),
        );
        let miss = (1.0 - fresh(what)) * (0.5 / seen(what)).powf(slope);
        assert_ci(
            &format!("the share seen at {what}"),
            &found(what, &text(&rare)),
            1.0 - miss,
        );
    }
    let (d0, floor, tau, t) = (0.8f64, 0.8f64, 0.5f64, 2.0f64);
    let session = floor + (1.0 - floor) * (tau / t) * (1.0 - (-t / tau).exp());
    let watch = format!("fatigue = {{ tau = \"30m\", floor = {floor}, break_after = \"4h\", break_length = \"15m\", idle = \"watch\" }}");
    for (what, stage) in each_kind(&watch, "{ dist = \"constant\", value = \"1s\" }") {
        let text = scenario(
            "replications = 40\nhorizon = \"2h\"\nwarmup = \"0h\"\nseed = 13",
            "500/h",
            1.0,
            &format!("[[policy.stage]]\nname = \"{what}\"\n{stage}\n"),
        );
        let theory = session * if what == "triage" { 0.6 } else { d0 };
        assert_ci(&format!("a watch at {what}"), &found(what, &text), theory);
    }
}

/// Settings that change nothing (a prevalence effect of slope 0, novices as able as the
/// practised, people who leave only after the run) give every replication's metrics
/// exactly as without them.
#[test]
fn settings_that_change_nothing_change_nothing() {
    let world = |extra: &str| {
        scenario(
            "replications = 6\nhorizon = \"100h\"\nseed = 12",
            "20/h",
            0.1,
            &format!(
                r#"[[policy.stage]]
kind = "triage"
name = "triage"
flag = {{ only = 0.5 }}
reviewers = 1
service = {{ dist = "exponential", mean = "1m" }}
{extra}
[[policy.stage]]
kind = "human_review"
name = "review"
tier = "flagged"
reviewers = 2
service = {{ dist = "exponential", mean = "6m" }}
detect = 0.7
fatigue = {{ tau = "30m", floor = 0.8, break_after = "2h", break_length = "15m" }}
{extra}
[[policy.stage]]
kind = "audit"
name = "audit"
sample = 0.2
reviewers = 1
service = {{ dist = "exponential", mean = "10m" }}
detect = 0.8
{extra}
"#
            ),
        )
    };
    let (_, plain) = run(&world(""));
    let neutral = "prevalence = { at = 0.3, slope = 0 }\nexperience = { novice = 1, learn = 5, forget = \"10h\", tenure = \"7000000h\", hire = 1 }";
    let (_, same) = run(&world(neutral));
    for (a, b) in plain.per_policy[0].iter().zip(&same.per_policy[0]) {
        let bits = |r: &RepResult| r.metrics.values().map(f64::to_bits).collect::<Vec<_>>();
        assert_eq!(bits(a), bits(b), "{:?}\n{:?}", a.metrics, b.metrics);
    }
}

/// The committed rows of `file` in results/examples/people-who-change/.
fn committed(file: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    super::common::committed_rows("people-who-change", file)
}

/// Lesson 12's table (docs/teaching.md), from the committed results of the crossed scenario:
/// each policy's net value at each of the eight points (idle watch × prevalence effect ×
/// practice and disuse), the best policy, and tiered's harm against per-action's. The
/// prose's claims are checked against the same numbers.
#[test]
fn lesson_12_reads_people_who_change_from_the_committed_results() {
    use super::common::kusd;
    let decision = committed("decision.csv");
    let summary = committed("summary.csv");
    let (idle, slope, novice) = (
        "policy.*.*.fatigue.idle",
        "policy.*.*.prevalence.slope",
        "policy.*.*.experience.novice",
    );
    let policies = ["split", "by-hand", "tiered", "per-action"];
    let mut want = String::from(
        "| idle spells | prevalence effect | practice and disuse | split | by-hand (status quo) | tiered | per-action | best | tiered's harm against per-action's |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut ranks = Vec::new();
    let mut nets = std::collections::BTreeMap::new();
    for i in ["rest", "watch"] {
        for s in ["0.0", "0.372"] {
            for n in ["1.0", "0.6"] {
                let at = |r: &std::collections::BTreeMap<String, String>| {
                    r[idle] == i && r[slope] == s && r[novice] == n
                };
                let row = |p: &str| (decision.iter()).find(|r| at(r) && r["policy"] == p).unwrap();
                let harm = |p: &str| -> f64 {
                    (summary.iter())
                        .find(|r| at(r) && r["policy"] == p && r["metric"] == "harm")
                        .unwrap()["mean"]
                        .parse()
                        .unwrap()
                };
                let mut line = format!(
                    "| {} | {} | {} |",
                    if i == "rest" { "rest" } else { "a watch" },
                    if s == "0.0" { "no" } else { "yes" },
                    if n == "1.0" { "no" } else { "yes" }
                );
                for p in policies {
                    let net: f64 = row(p)["mean"].parse().unwrap();
                    nets.insert((i, s, n, p), net);
                    line += &format!(" {} |", kusd(net, false));
                }
                let best = policies.iter().find(|p| row(p)["rank"] == "1").unwrap();
                ranks.push(policies.map(|p| row(p)["rank"].clone()));
                let vs = 100.0 * (harm("tiered") / harm("per-action") - 1.0);
                line += &format!(
                    " {best} | {}{:.0}% |\n",
                    if vs < 0.0 { "−" } else { "+" },
                    vs.abs()
                );
                want += &line;
            }
        }
    }
    let Some(doc) = super::common::generated_block("docs/teaching.md", "people:table", &want) else {
        return;
    };
    // What the prose says: the ranking is the same at all eight points; every mechanism
    // costs the status quo money; with all three, the status quo's net value is below zero.
    assert!(
        ranks.iter().all(|r| r == &ranks[0]),
        "the ranking moves: {ranks:?}"
    );
    let base = |p: &str| nets[&("rest", "0.0", "1.0", p)];
    for point in [
        ("watch", "0.0", "1.0"),
        ("rest", "0.372", "1.0"),
        ("rest", "0.0", "0.6"),
    ] {
        let alone = nets[&(point.0, point.1, point.2, "by-hand")];
        assert!(alone < base("by-hand"), "{point:?} costs the status quo");
    }
    // Tiered's harm advantage shrinks with a watch and grows with the prevalence effect.
    let advantage = |i: &str, s: &str| -> f64 {
        let line = want.lines().find(|l| {
            l.starts_with(&format!(
                "| {} | {} | no |",
                if i == "rest" { "rest" } else { "a watch" },
                if s == "0.0" { "no" } else { "yes" }
            ))
        });
        let cell = line.unwrap().trim_end_matches(" |").rsplit("| ").next().unwrap();
        cell.trim_end_matches('%').replace('−', "-").parse().unwrap()
    };
    assert!(advantage("watch", "0.0") > advantage("rest", "0.0"));
    assert!(advantage("rest", "0.372") < advantage("rest", "0.0"));
    let plain = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    for stated in [
        "The ranking is the same at all eight points",
        "People who change move the money, not the verdict, in this world",
    ] {
        assert!(plain.contains(stated), "docs/teaching.md should say `{stated}`");
    }
}

/// people-who-change is the default world with its people's tables set: its workload,
/// costs and policies are the default's except each person's `prevalence` and
/// `experience`, so lesson 12 compares the same structures as every other lesson on the
/// default.
#[test]
fn people_who_change_keeps_the_default_world() {
    let load = |s: &str| -> toml::Table {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{s}.toml"));
        std::fs::read_to_string(path).unwrap().parse().unwrap()
    };
    let (mut default, mut people) = (load("default"), load("people-who-change"));
    let mut tables = 0;
    for sc in [&mut default, &mut people] {
        for policy in sc["policy"].as_array_mut().unwrap() {
            for stage in policy["stage"].as_array_mut().unwrap() {
                let stage = stage.as_table_mut().unwrap();
                tables += stage.remove("prevalence").is_some() as u32;
                tables += stage.remove("experience").is_some() as u32;
            }
        }
    }
    // Six people's stages (four reviews, two audits) in each, each with both tables.
    assert_eq!(tables, 24);
    for key in ["workload", "costs", "policy", "culture", "decision"] {
        assert_eq!(default.get(key), people.get(key), "{key}");
    }
}
