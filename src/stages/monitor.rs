//! `kind = "monitor"`: statistical process control over the findings of the stages it
//! watches (CUSUM, EWMA or a Shewhart p-chart); an alarm halts the agent and ends an
//! active drift.

use super::chart::{AutoP0, Chart};
use super::{raw_stage, At, Kind, KindTag, Lever, LoadAt, Role, Stage};
use crate::input::{Ctx, Num, NumOrWord, S};

/// Statistical process control over the findings of the watched stages.
#[derive(Debug, Clone)]
pub struct Monitor {
    /// Watched stages (bit per stage index).
    pub watch: u64,
    pub chart: Chart,
    /// Hours the agent halts on an alarm.
    pub halt: f64,
    /// People's hours spent investigating each alarm (reviewer hours and cost).
    pub investigate: f64,
    /// Probability that an alarm during an active drift finds and fixes it.
    pub find: f64,
    /// `p0 = "auto"`: the in-control rate is estimated from the watched findings.
    pub auto: Option<AutoP0>,
}

raw_stage! {
    /// A monitor as written.
    RawMonitor [] {
        watch: Option<S<Vec<S<String>>>>,
        method: Option<S<String>>,
        k: Option<S<Num>>,
        p0: Option<S<NumOrWord>>,
        p1: Option<S<Num>>,
        h: Option<S<Num>>,
        lambda: Option<S<Num>>,
        #[serde(rename = "L")]
        big_l: Option<S<Num>>,
        n: Option<S<i64>>,
        window: Option<S<i64>>,
        shift: Option<S<Num>>,
        halt: Option<S<String>>,
        investigate: Option<S<String>>,
        find: Option<S<Num>>,
    }
}

/// `p0` as written: a rate, or `"auto"`.
#[derive(Debug, Clone, Copy)]
enum P0 {
    Given(f64),
    Auto,
}

/// The smallest estimation window: fewer observations estimate a rate too poorly to chart.
const MIN_WINDOW: i64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Cusum,
    Ewma,
    Shewhart,
}

impl Kind for Monitor {
    // Each false alarm halts the agent: the alarm budget a team would accept.
    const STAFFING_RULE: Option<&'static str> = Some(super::staffing_rule::FALSE_ALARMS);
    const LEVERS: &'static [Lever] = &[Lever {
        key: "h",
        label: "monitor threshold h",
        min: 1.0,
        max: 20.0,
        step: 0.5,
    }];
    const NAME: &'static str = "monitor";
    type Raw = RawMonitor;

    fn role(&self) -> Role<'_> {
        Role::Monitor(self)
    }

    fn build(ctx: &mut Ctx, r: &RawMonitor, at: &At) -> Monitor {
        let watch = watched(ctx, r, at);
        let halt = r
            .halt
            .as_ref()
            .map_or(0.0, |v| ctx.duration(v, &at.key("halt"), true));
        let investigate =
            (r.investigate.as_ref()).map_or(0.0, |v| ctx.duration(v, &at.key("investigate"), true));
        let find = ctx.opt_prob(&r.find, &at.key("find"), 1.0);
        let methods = [
            ("cusum", Method::Cusum),
            ("ewma", Method::Ewma),
            ("shewhart", Method::Shewhart),
        ];
        let method = match &r.method {
            Some(m) => ctx.choice(m, &at.key("method"), &methods),
            None => {
                ctx.missing(
                    at.span.clone(),
                    at.path,
                    "method",
                    "\"cusum\", \"ewma\" or \"shewhart\"",
                );
                None
            }
        };
        let Some(method) = method else {
            return Monitor {
                watch,
                chart: Chart::Cusum { k: 0.5, h: 1.0 },
                halt,
                investigate,
                find,
                auto: None,
            };
        };
        method.refuse_other_keys(ctx, r, at);
        let p0 = p0_of(ctx, r, at);
        let auto = matches!(p0, Some(P0::Auto));
        let (window, shift) = auto_keys(ctx, r, at, auto, method);
        let chart = match method {
            Method::Cusum => cusum(ctx, r, at, p0, auto),
            Method::Ewma => ewma(ctx, r, at, p0),
            Method::Shewhart => shewhart(ctx, r, at, p0, auto),
        };
        Monitor {
            watch,
            chart,
            halt,
            investigate,
            find,
            auto: auto.then_some(AutoP0 { window, shift }),
        }
    }

    fn offered_load(&self, _: &Stage, _: &LoadAt) -> Option<f64> {
        None // a chart, not people
    }
}

impl Method {
    /// The chart keys the method takes.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Method::Cusum => &["k", "p0", "p1", "h"],
            Method::Ewma => &["lambda", "L", "p0"],
            Method::Shewhart => &["n", "p0"],
        }
    }

    /// A problem for each chart key written that the method does not take.
    fn refuse_other_keys(self, ctx: &mut Ctx, r: &RawMonitor, at: &At) {
        let written = [
            ("k", r.k.as_ref().map(|v| v.span())),
            ("p0", r.p0.as_ref().map(|v| v.span())),
            ("p1", r.p1.as_ref().map(|v| v.span())),
            ("h", r.h.as_ref().map(|v| v.span())),
            ("lambda", r.lambda.as_ref().map(|v| v.span())),
            ("L", r.big_l.as_ref().map(|v| v.span())),
            ("n", r.n.as_ref().map(|v| v.span())),
        ];
        let wants = self.keys();
        let method_name = r.method.as_ref().map_or("", |m| m.get_ref().as_str());
        for (key, sp) in written {
            if let (Some(sp), false) = (sp, wants.contains(&key)) {
                ctx.err(
                    sp,
                    &at.key(key),
                    format!(
                        "`{key}` does not apply to method = \"{method_name}\"; it takes {}",
                        wants.join(", ")
                    ),
                );
            }
        }
    }
}

/// The stages a monitor watches (bit per stage index): checks, judges, reviews, audits.
fn watched(ctx: &mut Ctx, r: &RawMonitor, at: &At) -> u64 {
    let mut watch = 0u64;
    match &r.watch {
        None => ctx.missing(
            at.span.clone(),
            at.path,
            "watch",
            "a list of the stages whose findings it watches, e.g. [\"tests\", \"audit\"]",
        ),
        Some(list) if list.get_ref().is_empty() => ctx.err(
            list.span(),
            &at.key("watch"),
            "watches nothing; name at least one check, review or audit stage",
        ),
        Some(list) => {
            for w in list.get_ref() {
                match at.stage_named(ctx, w, "watch") {
                    Some(j) if at.kinds[j] == Some(KindTag::Monitor) => ctx.err(
                        w.span(),
                        &at.key("watch"),
                        format!(
                            "`{}` is a monitor; a monitor watches checks, reviews and audits",
                            w.get_ref()
                        ),
                    ),
                    Some(j) if at.kinds[j] == Some(KindTag::Triage) => ctx.err(
                        w.span(),
                        &at.key("watch"),
                        format!(
                            "`{}` is a triage stage, which finds no defects; a monitor watches checks, reviews and audits",
                            w.get_ref()
                        ),
                    ),
                    Some(j) => watch |= 1 << j,
                    None => {}
                }
            }
        }
    }
    watch
}

/// A required chart key that is missing.
fn need(ctx: &mut Ctx, at: &At, key: &str, what: &str) {
    ctx.missing(at.span.clone(), at.path, key, what);
}

/// `p0` as written, checked.
fn p0_of(ctx: &mut Ctx, r: &RawMonitor, at: &At) -> Option<P0> {
    const P0_ALLOWED: &str = "a rate strictly between 0 and 1, or \"auto\"";
    r.p0.as_ref().map(|v| match v.get_ref() {
        NumOrWord::Num(x) if *x > 0.0 && *x < 1.0 => P0::Given(*x),
        NumOrWord::Num(x) => {
            ctx.err(
                v.span(),
                &at.key("p0"),
                format!("{x} is out of range; allowed: {P0_ALLOWED}"),
            );
            P0::Given(0.5)
        }
        NumOrWord::Word(w) => {
            let word = S::new(v.span(), w.clone());
            match ctx.choice(&word, &at.key("p0"), &[("auto", P0::Auto)]) {
                Some(p) => p,
                None => P0::Given(0.5),
            }
        }
    })
}

/// `window` and `shift`, which belong to p0 = "auto" (`shift` to a CUSUM only).
fn auto_keys(ctx: &mut Ctx, r: &RawMonitor, at: &At, auto: bool, method: Method) -> (u32, f64) {
    let window = match (&r.window, auto) {
        (Some(v), true) => ctx.int(v, &at.key("window"), MIN_WINDOW, 1_000_000_000) as u32,
        (Some(v), false) => {
            ctx.err(
                v.span(),
                &at.key("window"),
                "`window` applies only with p0 = \"auto\" (the observations over which p0 is estimated)",
            );
            0
        }
        (None, true) => {
            need(
                ctx,
                at,
                "window",
                "the number of observations each estimate of p0 = \"auto\" uses, e.g. 2000",
            );
            MIN_WINDOW as u32
        }
        (None, false) => 0,
    };
    let shift = match (&r.shift, auto && method == Method::Cusum) {
        (Some(v), true) => ctx.range(
            v,
            &at.key("shift"),
            1.0 + 1e-9,
            1e6,
            "a factor above 1 (the chart looks for p1 = shift × p0)",
        ),
        (Some(v), false) => {
            ctx.err(
                v.span(),
                &at.key("shift"),
                "`shift` applies only to method = \"cusum\" with p0 = \"auto\"; give p1 otherwise",
            );
            2.0
        }
        (None, true) => {
            need(
                ctx,
                at,
                "shift",
                "the factor on p0 = \"auto\" that the CUSUM should detect (p1 = shift × p0), e.g. 2",
            );
            2.0
        }
        (None, false) => 2.0,
    };
    (window, shift)
}

/// The in-control rate an EWMA or Shewhart chart starts from (0.5 until the first estimate
/// with p0 = "auto").
fn given_p0(ctx: &mut Ctx, at: &At, p0: Option<P0>) -> f64 {
    match p0 {
        Some(P0::Given(x)) => x,
        Some(P0::Auto) => 0.5, // replaced by the first estimate
        None => {
            need(
                ctx,
                at,
                "p0",
                "the in-control rate of findings, in (0, 1), or \"auto\"",
            );
            0.5
        }
    }
}

/// A CUSUM: `h`, and `k` or `p0` and `p1` (or p0 = "auto" with `shift`).
fn cusum(ctx: &mut Ctx, r: &RawMonitor, at: &At, p0: Option<P0>, auto: bool) -> Chart {
    let h = match &r.h {
        Some(v) => ctx.range(v, &at.key("h"), 1e-9, 1e9, "a positive decision interval"),
        None => {
            need(ctx, at, "h", "the decision interval h > 0 (alarm when S ≥ h)");
            1.0
        }
    };
    let p1 = r.p1.as_ref().map(|v| {
        ctx.range(
            v,
            &at.key("p1"),
            1e-9,
            1.0 - 1e-9,
            "a rate strictly between 0 and 1",
        )
    });
    let k = match (&r.k, p0, p1) {
        (Some(k), None, None) => ctx.range(k, &at.key("k"), 1e-9, 1.0 - 1e-9, "a reference value in (0, 1)"),
        (Some(k), _, _) => {
            ctx.err(
                k.span(),
                &at.key("k"),
                if auto {
                    "with p0 = \"auto\", k follows p0 and shift; remove k"
                } else {
                    "give either k or p0 and p1, not both"
                },
            );
            0.5
        }
        (None, Some(P0::Auto), None) => 0.5, // set by the first estimate
        (None, Some(P0::Auto), Some(_)) => {
            let v = r.p1.as_ref().expect("p1 given");
            ctx.err(
                v.span(),
                &at.key("p1"),
                "with p0 = \"auto\", p1 follows p0: give shift (p1 = shift × p0) instead",
            );
            0.5
        }
        (None, Some(P0::Given(a)), Some(b)) if a < b => Chart::cusum_k(a, b),
        (None, Some(P0::Given(_)), Some(_)) => {
            let v = r.p1.as_ref().expect("p1 given");
            ctx.err(
                v.span(),
                &at.key("p1"),
                "p1 (the rate to detect) must be above p0 (the in-control rate)",
            );
            0.5
        }
        (None, _, _) => {
            let missing = if r.p0.is_some() { "p1" } else { "p0" };
            need(
                ctx,
                at,
                if r.p0.is_some() || r.p1.is_some() {
                    missing
                } else {
                    "k"
                },
                "k in (0, 1), or p0 and p1 with 0 < p0 < p1 < 1, or p0 = \"auto\" with window and shift",
            );
            0.5
        }
    };
    Chart::Cusum { k, h }
}

/// An EWMA chart: `lambda`, `L` and `p0`.
fn ewma(ctx: &mut Ctx, r: &RawMonitor, at: &At, p0: Option<P0>) -> Chart {
    let lambda = match &r.lambda {
        Some(v) => ctx.range(v, &at.key("lambda"), 1e-9, 1.0, "a smoothing weight in (0, 1]"),
        None => {
            need(ctx, at, "lambda", "a smoothing weight in (0, 1], e.g. 0.1");
            0.1
        }
    };
    let l = match &r.big_l {
        Some(v) => ctx.range(
            v,
            &at.key("L"),
            1e-9,
            1e3,
            "a positive width in standard deviations",
        ),
        None => {
            need(ctx, at, "L", "the limit width in standard deviations, e.g. 2.814");
            3.0
        }
    };
    let p0 = given_p0(ctx, at, p0);
    Chart::Ewma { lambda, l, p0 }
}

/// A Shewhart p chart: `n` and `p0`, with a control limit below 1.
fn shewhart(ctx: &mut Ctx, r: &RawMonitor, at: &At, p0: Option<P0>, auto: bool) -> Chart {
    let n = match &r.n {
        Some(v) => ctx.int(v, &at.key("n"), 1, 1_000_000_000) as u32,
        None => {
            need(ctx, at, "n", "the number of observations per window, e.g. 50");
            1
        }
    };
    let p0 = given_p0(ctx, at, p0);
    let chart = Chart::Shewhart { n, p0 };
    if !auto && chart.limit() >= 1.0 {
        let sp = r.n.as_ref().map_or(at.span.clone(), |v| v.span());
        ctx.err(sp, &at.key("n"), format!("with n = {n} and p0 = {p0} the control limit {:.3} is not below 1, so the chart could never alarm; use a larger n", chart.limit()));
    }
    chart
}
