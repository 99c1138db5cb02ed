//! The pilot of `oversim explore` without `-r`: it runs, says what it found, and the
//! exploration is planned with the replications it chose (`explore::pilot`).

use super::explore::ExploreArgs;
use super::{EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED};
use crate::api::explore::Piloted;
use crate::experiment::baseline_index;
use crate::explore::{self, pilot, Exploration};
use crate::report::manifest::PilotInfo;
use crate::scenario::Override;

/// `--noise-share`: a share in [`pilot::NOISE_SHARES`].
pub(super) fn parse_noise_share(s: &str) -> Result<f64, String> {
    let r = &pilot::NOISE_SHARES;
    match s.parse::<f64>() {
        Ok(x) if r.contains(&x) => Ok(x),
        _ => Err(format!("a share from {} to {}, e.g. 0.1", r.start(), r.end())),
    }
}

/// Runs the pilot that chooses the replications per set ([`pilot`]), says what it chose,
/// and plans the exploration with them (written into `overrides`, so the manifest's
/// scenario, and a merge, have them). Nothing is written if it is interrupted.
pub(super) fn with_pilot(
    args: &ExploreArgs,
    label: &str,
    text: &str,
    overrides: &mut Vec<Override>,
    pool: &crate::montecarlo::Pool,
) -> Result<(Exploration, PilotInfo), i32> {
    let spec = args.spec();
    let chose = crate::api::explore::pilot(
        label,
        text,
        overrides,
        &spec,
        args.baseline.as_deref(),
        args.noise_share,
        super::run::workers(pool),
    );
    let c = match chose {
        Ok(Piloted::Chose(c)) => c,
        Ok(Piloted::Interrupted) => {
            tell!("oversim: interrupted during the pilot; nothing written");
            return Err(EXIT_INTERRUPTED);
        }
        Err(e) => {
            tell!("error: {e}");
            return Err(EXIT_FAILURE);
        }
    };
    overrides.retain(|o| o.path != "run.replications");
    overrides.push(Override::set("run.replications", &c.replications.to_string()));
    let ex = explore::plan(label, text, overrides, &spec).map_err(|e| {
        tell!("{e}");
        EXIT_BAD_INPUT
    })?;
    let policies = &ex.plan.base().policies;
    let output = match policies.len() {
        1 => format!("{} of {}", ex.metric.name(), policies[0].name),
        _ => format!(
            "{} of {} − {}",
            ex.metric.name(),
            policies[c.policy].name,
            policies[base_of(&ex, args)].name
        ),
    };
    let info = PilotInfo {
        sets: pilot::PILOT_SETS,
        replications: pilot::PILOT_REPLICATIONS,
        noise_share_target: args.noise_share,
        output,
        noise_share_at_pilot: c.at_pilot,
        chosen: c.replications,
        noise_share_at_chosen: c.at_chosen,
    };
    if !args.quiet {
        tell!("oversim explore: {}", pilot_line(&info));
    }
    Ok((ex, info))
}

/// The baseline's index (checked before the pilot ran).
fn base_of(ex: &Exploration, args: &ExploreArgs) -> usize {
    baseline_index(ex.plan.base(), args.baseline.as_deref()).unwrap_or(0)
}

/// What the pilot found, in a line: how many replications, and why.
fn pilot_line(p: &PilotInfo) -> String {
    format!(
        "{} replications per set, chosen by a pilot of {} sets × {}: replication noise is {:.0}% of the variance of {} across the draws at {}, {:.0}% at {} (the aim: at most {:.0}%; -r sets the count)",
        p.chosen,
        p.sets,
        p.replications,
        100.0 * p.noise_share_at_pilot,
        p.output,
        p.replications,
        100.0 * p.noise_share_at_chosen,
        p.chosen,
        100.0 * p.noise_share_target
    )
}
