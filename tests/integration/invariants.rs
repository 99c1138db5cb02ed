//! Property tests: on randomly generated scenarios, every replication conserves attempts
//! (created = released + rejected + dropped + in system) and satisfies Little's law on the
//! review queues exactly (area under the queue-length curve = total time queued, both
//! clipped to the measured window). Metrics stay finite or empty, never NaN-as-number.
//! The scenarios draw from every stage kind (triage with or without people, tiers, checks,
//! LLM judges, reviews, acceptance sampling, audits, monitors), every entry key, defect
//! kinds and difficulty loadings; a test checks that they do, so a new kind or entry key
//! fails until the generator draws it.

use crate::common;

use common::check_invariants;
use oversim::engine::simulate;
use oversim::metrics::{M, NAMES};
use oversim::scenario;
use proptest::prelude::*;

fn dist() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..20).prop_map(|m| format!(r#"{{ dist = "exponential", mean = "{m}m" }}"#)),
        (1u32..20, 1u32..20).prop_map(|(m, cv)| format!(
            r#"{{ dist = "lognormal", mean = "{m}m", cv = {} }}"#,
            cv as f64 / 10.0
        )),
        (1u32..20, 1u32..20).prop_map(|(m, cv)| format!(
            r#"{{ dist = "gamma", mean = "{m}m", cv = {} }}"#,
            cv as f64 / 10.0
        )),
        (0u32..20).prop_map(|v| format!(r#"{{ dist = "constant", value = "{v}m" }}"#)),
        (0u32..10, 1u32..10)
            .prop_map(|(a, b)| format!(r#"{{ dist = "uniform", min = "{a}m", max = "{}m" }}"#, a + b)),
    ]
}

fn prob() -> impl Strategy<Value = f64> {
    (0u32..=20).prop_map(|x| x as f64 / 20.0)
}

/// A human review stage named `name` with random human factors.
fn review(name: String) -> impl Strategy<Value = String> {
    (
        1u32..6,
        dist(),
        prob(),
        prob(),
        any::<bool>(),
        proptest::option::of((5u32..60, 50u32..100, 30u32..180, 5u32..30)),
        proptest::option::of((1u32..20, 1u32..4, prob())),
        proptest::option::of((1u32..240, any::<bool>())),
        proptest::option::of((4u32..12, 12u32..30, 0u32..12, any::<bool>())),
        (10u32..20, proptest::option::of(prob())),
    )
        .prop_map(move |(c, service, detect, fr, priority, fatigue, pressure, wait, shifts, (compl, classes))| {
            // Two shift patterns (the second on some weekdays) give the head counts instead.
            let several = matches!(shifts, Some((_, _, _, true)));
            let head = if several { String::new() } else { format!("reviewers = {c}\n") };
            let mut s = format!(
                "[[policy.stage]]\nkind = \"human_review\"\nname = \"{name}\"\n{head}service = {}\ndetect = {detect}\nfalse_reject = {fr}\ncomplacency = {}\n",
                service.replace("value = \"0m\"", "value = \"1m\""),
                compl as f64 / 10.0
            );
            if priority {
                s += "discipline = \"priority\"\n";
            }
            if let Some((tau, floor, after, len)) = fatigue {
                s += &format!("fatigue = {{ tau = \"{tau}m\", floor = {}, break_after = \"{after}m\", break_length = \"{len}m\" }}\n", floor as f64 / 100.0);
            }
            if let Some((q, sp, df)) = pressure {
                s += &format!("pressure = {{ queue = {q}, speedup = {sp}, detect_factor = {df} }}\n");
            }
            if let Some((w, drop)) = wait {
                s += &format!("max_wait = \"{w}m\"\non_timeout = \"{}\"\n", if drop { "drop" } else { "approve" });
            }
            match shifts {
                Some((on, period, start, false)) => {
                    s += &format!("shifts = {{ on = \"{on}h\", period = \"{period}h\", start = \"{start}h\" }}\n");
                }
                Some((on, period, start, true)) => {
                    s += &format!("shifts = [{{ on = \"{on}h\", period = \"{period}h\", start = \"{start}h\", reviewers = {c} }}, {{ on = \"{on}h\", start = \"{start}h\", days = [\"mon\", \"wed\", \"sat\"], reviewers = 1 }}]\n");
                }
                None => {}
            }
            if let Some(sample) = classes {
                s += &format!("classes = [\"b\"]\nsample = {sample}\n");
            }
            s
        })
}

/// A stage that flags: an automated check (maybe delayed) or an LLM judge (priced per call,
/// maybe with a latency), named "check", taking `tier` (a key line or nothing).
fn flagging(escalate_to: Option<String>, tier: &'static str) -> impl Strategy<Value = String> {
    (any::<bool>(), prob(), prob(), proptest::option::of(dist()), prob(), 0u32..21, 0u32..5).prop_map(
        move |(judge, d, fp, delay, sample, l, cost)| {
            let (kind, delay_key) = if judge { ("llm_judge", "latency") } else { ("automated_check", "service") };
            let mut s = format!(
                "[[policy.stage]]\nkind = \"{kind}\"\nname = \"check\"\n{tier}detect = {d}\nfalse_positive = {fp}\nsample = {sample}\ndifficulty_loading = {}\n",
                l as f64 / 10.0 - 1.0
            );
            if judge {
                s += &format!("cost = {}\n", cost as f64 / 100.0);
            }
            if let Some(delay) = delay {
                s += &format!("{delay_key} = {delay}\n");
            }
            if let Some(t) = &escalate_to {
                s += &format!("on_flag = \"escalate\"\nescalate_to = \"{t}\"\n");
            }
            s
        },
    )
}

/// A triage stage first in the policy: automated, or people with a queue who may tire.
fn triage() -> impl Strategy<Value = String> {
    (prob(), prob(), proptest::option::of((1u32..4, dist(), any::<bool>()))).prop_map(|(a, b, people)| {
        let mut s = format!("[[policy.stage]]\nkind = \"triage\"\nname = \"triage\"\nflag = {{ a = {a}, b = {b} }}\n");
        if let Some((c, service, tires)) = people {
            s += &format!("reviewers = {c}\nservice = {}\n", service.replace("value = \"0m\"", "value = \"1m\""));
            if tires {
                s += "fatigue = { tau = \"30m\", floor = 0.8, break_after = \"90m\", break_length = \"15m\" }\n";
            }
        }
        s
    })
}

/// Lots of released work inspected by a sample (held until judged, or released at once).
fn lots() -> impl Strategy<Value = String> {
    (2u32..40, 1u32..4, any::<bool>(), 1u32..4, prob()).prop_map(|(lot, c, hold, people, d)| {
        let n = (lot / 2).max(1);
        format!(
            "[[policy.stage]]\nkind = \"acceptance_sampling\"\nname = \"lots\"\nlot = {lot}\nn = {n}\nc = {}\nhold = {hold}\nreviewers = {people}\nservice = {{ dist = \"exponential\", mean = \"2m\" }}\ndetect = {d}\n",
            c.min(n) - 1
        )
    })
}

/// Process-level stages appended to a policy: an audit, a monitor watching `first` (and
/// the audit), with halts.
fn process_stages() -> impl Strategy<Value = String> {
    (
        proptest::option::of((prob(), 1u32..3, prob(), 0u32..5)),
        proptest::option::of((0u32..3, 1u32..40, 0u32..4)),
    )
        .prop_map(|(audit, monitor)| {
            let mut s = String::new();
            if let Some((sample, c, d, learn)) = audit {
                s += &format!(
                    "[[policy.stage]]\nkind = \"audit\"\nname = \"audit\"\nsample = {sample}\nreviewers = {c}\nservice = {{ dist = \"exponential\", mean = \"10m\" }}\ndetect = {d}\nlearn = {}\n",
                    learn as f64 / 100.0
                );
            }
            if let Some((method, h, halt)) = monitor {
                let watch = if audit.is_some() { "[\"first\", \"audit\"]" } else { "[\"first\"]" };
                let chart = match method {
                    0 => format!("method = \"cusum\"\np0 = 0.05\np1 = 0.1\nh = {}", h as f64 / 4.0),
                    1 => format!("method = \"ewma\"\nlambda = 0.2\nL = {}\np0 = 0.1", h as f64 / 10.0),
                    _ => format!("method = \"shewhart\"\nn = {}\np0 = 0.3", 10 + h),
                };
                s += &format!("[[policy.stage]]\nkind = \"monitor\"\nwatch = {watch}\n{chart}\nhalt = \"{halt}h\"\n");
            }
            s
        })
}

/// A policy: optional triage (then the check may take one tier), optional check or judge
/// (maybe escalating), one or two reviews, optional lots, process stages.
fn policy() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u32..3,
        any::<bool>(),
    )
        .prop_flat_map(|(has_check, escalate, two, tiers, has_lots)| {
            let tier = match tiers {
                1 => "tier = \"flagged\"\n",
                2 => "tier = \"unflagged\"\n",
                _ => "",
            };
            let chk = if has_check {
                flagging(escalate.then(|| "second".to_string()), tier).boxed()
            } else {
                Just(String::new()).boxed()
            };
            let second = if two || (has_check && escalate) {
                review("second".into()).boxed()
            } else {
                Just(String::new()).boxed()
            };
            let front = if tiers > 0 {
                triage().boxed()
            } else {
                proptest::option::of(triage())
                    .prop_map(Option::unwrap_or_default)
                    .boxed()
            };
            let lot = if has_lots {
                lots().boxed()
            } else {
                Just(String::new()).boxed()
            };
            (front, review("first".into()), chk, second, lot, process_stages()).prop_map(
                |(t, r1, c, r2, l, proc)| format!("[[policy]]\nname = \"p\"\n{t}{r1}{c}{r2}{l}{proc}"),
            )
        })
}

fn scenario_text() -> impl Strategy<Value = String> {
    (
        1u32..80,
        prob(),
        prob(),
        proptest::option::of((dist(), 1u32..4)),
        proptest::option::of(proptest::collection::vec(0u32..4, 24)),
        0u32..24,
        policy(),
        (
            proptest::option::of((
                1u32..40,
                1u32..5,
                proptest::option::of(1u32..40),
                proptest::option::of(1u32..20),
                any::<bool>(),
            )),
            0u32..10,
            0u32..5,
        ),
        (any::<bool>(), 0u32..21),
        (0u32..4, proptest::option::of((prob(), prob(), 0u32..5, any::<bool>(), 0u32..3))),
    )
        .prop_map(|(rate, p1, p2, rework, profile, warmup, pol, (drift, corr, floor), (kinds, loading), (later, culture))| {
            let mut s = format!(
                "name = \"prop\"\n[run]\nhorizon = \"60h\"\nwarmup = \"{warmup}h\"\n[workload]\nrate = \"{rate}/h\"\n"
            );
            s += &format!("detection_correlation = {}\nlearning_floor = {}\n", corr as f64 / 10.0, floor as f64 / 5.0);
            s += &format!("defect_loading = {}\n", loading as f64 / 10.0 - 1.0);
            s += &format!("found_later = {}\n", later as f64 / 4.0);
            if let Some(mut p) = profile {
                if p.iter().all(|&x| x == 0) {
                    p[0] = 1;
                }
                s += &format!("profile = {p:?}\n");
            }
            s += &format!("[[workload.class]]\nname = \"a\"\nshare = 0.5\ndefect_prob = {p1}\nharm = 1\n");
            s += &format!("[[workload.class]]\nname = \"b\"\nshare = 0.5\ndefect_prob = {p2}\nharm = 10\n");
            if let Some((every, mult, heal, ramp, overlap)) = drift {
                // Overlapping drifts need a self-heal (they would pile up).
                let overlap = overlap && heal.is_some();
                s += &format!("[workload.drift]\nevery = \"{every}h\"\nmultiplier = {mult}\noverlap = {overlap}\n");
                if let Some(h) = heal {
                    s += &format!("self_heal = \"{h}h\"\n");
                }
                if let Some(r) = ramp {
                    s += &format!("ramp = \"{r}h\"\n");
                    // A strategic agent, when the drift ramps (one draw covers both).
                    s += &format!("gaming = {}\n", r as f64 / 20.0);
                }
            }
            if kinds {
                s += "[[workload.defect_kind]]\nname = \"syntax\"\nshare = 0.7\n[[workload.defect_kind]]\nname = \"semantic\"\nshare = 0.3\n";
            }
            if let Some((delay, max)) = rework {
                s += &format!("[workload.rework]\ndelay = {delay}\nmax_attempts = {max}\n");
            }
            match culture {
                None => s + &pol,
                Some((reporting, tool_reporting, rise, blame, hours)) => {
                    let escapes = if blame { "blame" } else { "learn" };
                    s += &format!(
                        "[culture.c]\nreporting = {reporting}\ntool_reporting = {tool_reporting}\ndefensive = {}\nslower = {}\nescapes = \"{escapes}\"\nescape_learn = {reporting}\ninvestigation = \"{hours}h\"\n",
                        rise as f64 / 4.0,
                        rise as f64 / 8.0
                    );
                    s + &pol.replacen("name = \"p\"\n", "name = \"p\"\nculture = \"c\"\n", 1)
                }
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn conservation_and_little_on_random_scenarios(text in scenario_text(), rep in 0u64..1000) {
        let sc = match scenario::load("prop.toml", &text, &[]) {
            Ok(l) => l.scenario,
            Err(e) => panic!("generated scenario is invalid: {e}\n{text}"),
        };
        let r = simulate(&sc, 0, rep);
        check_invariants(&r, &text);
        for (name, v) in NAMES.iter().zip(r.metrics.values()) {
            prop_assert!(v.is_nan() || v.is_finite(), "{name} = {v}");
        }
        // Counts, rates, times and costs are never negative; net value is a value less
        // costs, negative where the costs are more (the scenarios give no values).
        for &m in M::ALL.iter().filter(|&&m| m != M::net_value) {
            let v = r.metrics.get(m);
            prop_assert!(v.is_nan() || v >= 0.0, "{:?} = {v} is negative", m);
        }
        // Ratios are in range.
        for m in [M::escape_rate, M::reviewer_utilization] {
            let v = r.metrics.get(m);
            prop_assert!(v.is_nan() || v <= 1.0 + 1e-9, "{:?} = {v}", m);
        }
        prop_assert!(r.metrics.get(M::escaped) <= r.metrics.get(M::defects));
    }
}

/// The generator draws every stage kind and every entry key (a new kind fails here until
/// the generator above draws it).
#[test]
fn the_generator_draws_every_kind_and_entry_key() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let texts: Vec<String> = (0..400)
        .map(|_| {
            scenario_text()
                .new_tree(&mut runner)
                .expect("a scenario")
                .current()
        })
        .collect();
    for (name, _) in oversim::stages::KindTag::ALL {
        let line = format!("kind = \"{name}\"\n");
        assert!(
            texts.iter().any(|t| t.contains(&line)),
            "the generator never draws a {name} stage"
        );
    }
    for key in oversim::stages::ENTRY_KEYS {
        let line = format!("\n{key} = ");
        assert!(
            texts
                .iter()
                .any(|t| t.split("[[policy.stage]]").skip(1).any(|s| s.contains(&line))),
            "the generator never writes the entry key `{key}`"
        );
    }
}
