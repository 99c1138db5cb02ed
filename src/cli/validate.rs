//! `oversim validate`: every problem of every file, or what each would run (its size, loads,
//! staffing rules and uncertain inputs); with `--staffing`, what the rules pick.

use super::{
    by_rule, explore, load_warnings, machine_memory, point_label, read_sources, threads_used, Source,
    ValidateArgs, EXIT_BAD_INPUT, EXIT_OK,
};
use crate::experiment::{self, Plan};
use crate::scenario::staffing::{written, Key, Written};
use crate::scenario::{self, Override};
use crate::units::format_hours;

pub(super) fn validate(args: ValidateArgs) -> i32 {
    let sources = match read_sources(&args.files) {
        Ok(s) => s,
        Err(e) => {
            tell!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut code = EXIT_OK;
    for s in &sources {
        let overrides = args.scenario.overrides();
        let planned = experiment::plan(&s.label, &s.text, &overrides, &args.scenario.sweep).and_then(|p| {
            crate::explore::check_inputs(&s.label, &s.text, &overrides, &p.base().uncertain)?;
            Ok(p)
        });
        match planned {
            Err(e) => {
                tell!("{e}");
                code = EXIT_BAD_INPUT;
            }
            Ok(plan) => {
                let sc = plan.base();
                let stages: usize = sc.policies.iter().map(|p| p.stages.len()).sum();
                let points = if plan.dims.is_empty() {
                    String::new()
                } else {
                    format!(", {} sweep points", plan.points.len())
                };
                sayln!(
                    "ok: {} (scenario `{}`): {} policies, {} stages, {} replications of {}{points}",
                    s.label,
                    sc.name,
                    sc.policies.len(),
                    stages,
                    sc.run.replications,
                    format_hours(sc.run.horizon)
                );
                let work = crate::estimate::Work::of(&plan, None, None, crate::experiment::Keep::All);
                sayln!("  work: {}", work.describe(threads_used(None)));
                if let Err(e) = work.check(machine_memory(), None) {
                    tell!("error: {}: {e}", s.label);
                    code = EXIT_BAD_INPUT;
                }
                for (k, pt) in plan.points.iter().enumerate() {
                    for (p, st, rho) in pt.loaded.scenario.offered_loads() {
                        if !by_rule(pt, &p, &st) {
                            sayln!("  offered load  {p}/{st}{}: {rho:.3}", point_label(&plan, k));
                        }
                    }
                }
                let rules = &plan.points[0].loaded.staffing;
                if !rules.is_empty() {
                    sayln!(
                        "  staffing rules: {} (solved at every point when the run starts; staffing.csv says what each chose)",
                        rules.len()
                    );
                    for r in rules {
                        let least = match r.key {
                            Key::H => "smallest",
                            Key::Reviewers | Key::WorkPeople => "fewest",
                        };
                        sayln!("    {}: the {least} with {}", r.path, r.rule.describe());
                    }
                }
                if !sc.uncertain.is_empty() {
                    sayln!(
                        "  uncertain inputs: {} (each valid at the ends of its range; `oversim explore` draws them)",
                        sc.uncertain.len()
                    );
                    for u in &sc.uncertain {
                        sayln!("    {}: {}", u.path, u.describe());
                    }
                    // What the bare `oversim explore` of this file would run.
                    let spec = crate::explore::Spec {
                        design: crate::explore::design::DesignKind::Sobol,
                        points: explore::DEFAULT_POINTS as usize,
                        metric: "net_value".into(),
                        bootstrap: 1000,
                        map: None,
                    };
                    let mut ov = overrides.clone();
                    ov.push(Override::set(
                        "run.replications",
                        &explore::DEFAULT_REPLICATIONS.to_string(),
                    ));
                    if let Ok(ex) = crate::explore::plan(&s.label, &s.text, &ov, &spec) {
                        sayln!(
                            "  oversim explore: {}, or more if its pilot finds the replication noise too large",
                            explore::describe(&ex, threads_used(None))
                        );
                    }
                }
                for w in load_warnings(&s.label, &plan) {
                    tell!("{w}");
                }
                if args.staffing {
                    say_staffing(s, &plan);
                }
            }
        }
    }
    code
}

/// What the project's rule would pick for every number written where a rule may stand, and
/// what the file's own rules pick, at the plan's first point (solved together, as a run
/// would: rules of one policy interact).
fn say_staffing(s: &Source, plan: &Plan) {
    let base = &plan.points[0];
    let numbers = written(&base.loaded.resolved_text);
    if numbers.is_empty() && base.loaded.staffing.is_empty() {
        sayln!("  staffing: no number of people or threshold where a rule may stand");
        return;
    }
    // The point's text (the file with its overrides and sweep values), a rule in place of
    // every written number.
    let sc = &base.loaded.scenario;
    let stated = |w: &Written| -> Option<&'static str> {
        let p = sc.policies.iter().find(|p| p.name == w.policy)?;
        match &w.stage {
            None => Some(crate::stages::staffing_rule::UTILIZATION),
            Some(name) => p.stages.iter().find(|s| &s.name == name)?.kind.staffing_rule(),
        }
    };
    let rules: Vec<Override> = (numbers.iter())
        .filter_map(|w| Some(Override::set(&w.path, stated(w)?)))
        .collect();
    let loaded = match scenario::load(&s.label, &base.loaded.resolved_text, &rules) {
        Ok(l) => l,
        Err(e) => {
            sayln!("  staffing: the project's rules cannot stand in this file: {e}");
            return;
        }
    };
    let pool = match crate::montecarlo::pool(None) {
        Ok(p) => p,
        Err(e) => {
            tell!("error: cannot start worker threads: {e}");
            return;
        }
    };
    let at = if plan.dims.is_empty() {
        String::new()
    } else {
        format!(" at {}", point_label(plan, 0).trim())
    };
    sayln!(
        "  staffing by rule{at} ({} replications of each policy per evaluation):",
        loaded.scenario.run.replications
    );
    let solved =
        match crate::staffing::solve(&[&loaded], None, crate::montecarlo::Workers::new(&pool), &|| {}) {
            Ok(Some(x)) => x,
            Ok(None) => return,
            Err(e) => {
                sayln!("    {e}");
                return;
            }
        };
    for (site, row) in loaded.staffing.iter().zip(&solved.rows[0]) {
        let c = &row.choice;
        let was = match numbers.iter().find(|w| w.path == site.path) {
            Some(w) => format!("{} written; ", w.value),
            None => "the file's rule; ".to_string(),
        };
        let below = if c.at_one_less.is_nan() {
            String::new()
        } else {
            format!(", {:.3} one below", c.at_one_less)
        };
        sayln!(
            "    {}: {was}{} {} picks {} ({:.3} there{below})",
            site.path,
            match site.key {
                Key::H => "the smallest h with",
                Key::Reviewers | Key::WorkPeople => "the fewest with",
            },
            site.rule.describe(),
            site.key
                .toml((c.chosen / site.rule.step).round() as i64, site.rule.step),
            c.at_chosen,
        );
    }
}
