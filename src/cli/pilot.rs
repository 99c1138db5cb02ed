//! The pilot of `oversim explore` without `-r`: it runs, says what it found, and the
//! exploration is planned with the replications it chose (`explore::pilot`).

use super::explore::ExploreArgs;
use super::{EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED};
use crate::api::Failure;
use crate::explore::{pilot, Exploration};
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
    let chose = crate::api::explore::piloted(
        label,
        text,
        overrides,
        &args.spec(),
        args.baseline.as_deref(),
        args.noise_share,
        super::run::workers(pool),
    );
    let (ex, info) = match chose {
        Ok(Some(x)) => x,
        Ok(None) => {
            tell!("oversim: interrupted during the pilot; nothing written");
            return Err(EXIT_INTERRUPTED);
        }
        Err(Failure::Scenario(e)) => {
            tell!("{e}");
            return Err(EXIT_BAD_INPUT);
        }
        Err(Failure::Message(e)) => {
            tell!("error: {e}");
            return Err(EXIT_FAILURE);
        }
    };
    if !args.quiet {
        tell!("oversim explore: {}", pilot_line(&info));
    }
    Ok((ex, info))
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
