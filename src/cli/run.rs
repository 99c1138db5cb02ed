//! `oversim run`: plan every scenario, check the output folders, run with a progress bar on
//! a thread pool, and write the files (or a shard's).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::resume::Resume;
use super::{
    load_warnings, plan_all, read_sources, RunArgs, Source, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED,
    EXIT_OK,
};
use crate::experiment::{baseline_index, Execution, Keep, Shard, Stop};
use crate::montecarlo::Workers;
use crate::report::files::Output;

use crate::report::{self, rows};
use crate::units::format_hours;

/// Set by the first SIGINT/SIGTERM: the command line's cancellation token (signals are the
/// process's, so the token is too; the core takes it as an argument).
pub(super) static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The pool's workers, cancelled by a signal.
pub(super) fn workers(pool: &crate::montecarlo::Pool) -> Workers<'_> {
    Workers::new(pool).cancelled_by(&INTERRUPTED)
}

/// First SIGINT/SIGTERM: finish cleanly (stop replications, keep the completed ones, write
/// the files). Second: exit at once; the output folder keeps the run it held.
pub(super) fn install_signal_handler() {
    let result = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            tell!("\noversim: interrupted again, exiting now");
            std::process::exit(EXIT_INTERRUPTED);
        }
        tell!("\noversim: interrupted; keeping the completed replications and writing partial results (interrupt again to exit at once)");
    });
    if let Err(e) = result {
        tell!("warning: cannot install the interrupt handler ({e}); Ctrl-C will stop oversim without writing partial results");
    }
}

/// A signal came while the run was being planned (the handler is installed first): say so
/// and write nothing.
pub(super) fn interrupted_before_the_run() -> bool {
    let stop = INTERRUPTED.load(Ordering::SeqCst);
    if stop {
        tell!("oversim: interrupted before the run started; nothing written");
    }
    stop
}

/// A target on differences (`diff.METRIC`) where a scenario has one policy: nothing to
/// compare it with.
fn one_policy_for_a_difference(
    targets: &[crate::experiment::Target],
    sources: &[Source],
    plans: &[crate::experiment::Plan],
) -> Option<String> {
    let t = targets.iter().find(|t| t.diff)?;
    let (src, _) = (sources.iter().zip(plans)).find(|(_, p)| p.base().policies.len() < 2)?;
    Some(format!(
        "error: --precision {}: {} has one policy, so there is no difference from a baseline to resolve; use --precision {}=REL for the policy's own mean",
        t.name(),
        src.label,
        crate::metrics::NAMES[t.metric]
    ))
}

pub(super) fn run(args: RunArgs) -> i32 {
    // From the start, so that a signal while the run is planned is not lost.
    install_signal_handler();
    let sources = match read_sources(&args.files) {
        Ok(s) => s,
        Err(e) => {
            tell!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let plans = match plan_all(&sources, &args.scenario) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let shard = match args
        .shard
        .as_deref()
        .map(|s| Shard::parse(s, |k| std::env::var(k).ok()))
        .transpose()
    {
        Ok(s) => s,
        Err(e) => {
            tell!("error: --shard: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if shard.is_some() && args.resume {
        tell!("error: --resume cannot be combined with --shard: a shard is rerun whole (each is a share of the run; `oversim merge` needs it complete)");
        return EXIT_BAD_INPUT;
    }
    if shard.is_some() && !args.precision.is_empty() {
        tell!("error: --precision cannot be combined with --shard: the stopping rule needs every replication in one place; run a fixed number of replications per shard instead");
        return EXIT_BAD_INPUT;
    }
    let mut baselines = Vec::new();
    for p in &plans {
        match baseline_index(p.base(), args.baseline.as_deref()) {
            Ok(b) => baselines.push(b),
            Err(e) => {
                tell!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    if let Some(e) = one_policy_for_a_difference(&args.precision, &sources, &plans) {
        tell!("{e}");
        return EXIT_BAD_INPUT;
    }
    for (src, plan) in sources.iter().zip(&plans) {
        let cap = (!args.precision.is_empty()).then_some(args.max_replications);
        let work = crate::estimate::Work::of(plan, cap, args.timeseries, crate::experiment::Keep::All);
        let work = work.share(shard.map_or(1, |s| s.count));
        if let Err(code) = super::check_work(&src.label, work, args.timeseries, args.threads) {
            return code;
        }
    }
    let several = plans.len() > 1;
    // Check every output folder before simulating anything.
    let dirs: Vec<PathBuf> = plans
        .iter()
        .map(|p| {
            let d = report::output_dir(args.out.as_deref(), p.base(), several);
            match (shard, &args.out) {
                (Some(s), None) => d.join(format!("shard-{}-of-{}", s.index, s.count)),
                _ => d,
            }
        })
        .collect();
    if interrupted_before_the_run() {
        return EXIT_INTERRUPTED;
    }
    let mut outs = Vec::with_capacity(dirs.len());
    for (i, d) in dirs.iter().enumerate() {
        if dirs[..i].contains(d) {
            tell!(
                "error: two scenarios would write to {}; give them different names",
                d.display()
            );
            return EXIT_BAD_INPUT;
        }
        let replace = args.force || (args.resume && super::resume::holds_results(d));
        match Output::begin(d, replace) {
            Ok(o) => outs.push(o),
            Err(e) => {
                tell!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let pool = match crate::montecarlo::pool(args.threads.map(|t| t as usize)) {
        Ok(p) => p,
        Err(e) => {
            tell!("error: cannot start worker threads: {e}");
            return EXIT_FAILURE;
        }
    };
    for (((src, plan), out), &baseline) in sources.iter().zip(&plans).zip(outs).zip(&baselines) {
        for w in load_warnings(&src.label, plan) {
            tell!("{w}");
        }
        let kept = match args.resume.then(|| super::resume::read(&out, plan)).transpose() {
            Err(e) => {
                tell!("error: {e}");
                return EXIT_BAD_INPUT;
            }
            Ok(Some(Resume::Complete)) => {
                tell!(
                    "oversim: {} already holds this run, complete; nothing to resume",
                    out.dir().display()
                );
                continue;
            }
            Ok(Some(Resume::Kept(k))) => Some(k),
            Ok(Some(Resume::Fresh) | None) => None,
        };
        let ex = Execution {
            plan,
            baseline,
            targets: &args.precision,
            max_replications: args.max_replications,
            shard,
            series: args.timeseries,
            kept: kept.as_ref(),
            keep: Keep::All,
        };
        let dir = out.dir().to_path_buf();
        match run_one(&args, src, &ex, &pool, out) {
            Err(e) => {
                tell!("error: {e}");
                return EXIT_FAILURE;
            }
            Ok(Stop::Interrupted) => {
                tell!(
                    "oversim: partial results written to {} (manifest.json: interrupted); the same command with --resume finishes the run",
                    dir.display()
                );
                return EXIT_INTERRUPTED;
            }
            Ok(_) => {}
        }
    }
    EXIT_OK
}

pub(super) fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    // indicatif draws nothing when stderr is not a terminal.
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} replications (ETA {eta})",
        )
        .expect("valid template"),
    );
    pb
}

fn run_one(
    args: &RunArgs,
    src: &Source,
    ex: &Execution,
    pool: &rayon::ThreadPool,
    mut out: Output,
) -> Result<Stop, String> {
    let plan = ex.plan;
    let sc = plan.base();
    let started = SystemTime::now();
    let clock = Instant::now();
    let per_rep: u64 = plan
        .points
        .iter()
        .map(|p| p.loaded.scenario.policies.len() as u64)
        .sum();
    let pb = progress_bar(crate::api::replications(plan, ex.shard), args.quiet);
    // Precision runs and staffing rules do not know their length in advance: the bar grows
    // with the batches and the rules' evaluations.
    let ctx = || {
        let elapsed = clock.elapsed().as_secs_f64();
        super::run_context(src, args.threads, pool, started, elapsed)
    };
    let executed = crate::api::execute(ex, workers(pool), &ctx, &|n| {
        if pb.position() + n > pb.length().unwrap_or(0) {
            pb.inc_length(per_rep.max(n));
        }
        pb.inc(n)
    });
    pb.finish_and_clear();
    let crate::api::Output {
        run,
        sums,
        comps,
        files,
        mut manifest,
        stop,
        warnings,
    } = executed?;
    for w in &warnings {
        tell!("{w}");
    }
    let elapsed = clock.elapsed().as_secs_f64();
    let reps_done: Vec<u64> = run.points.iter().map(|p| p.reps.len() as u64).collect();
    for w in report::cut_short_warnings(&src.label, &run) {
        tell!("{w}");
    }
    if let Some(s) = ex.shard {
        crate::merge::write_shard(&mut out, plan, &run, s, manifest)?;
        out.commit()?;
        return Ok(stop);
    }
    for w in report::rare_event_warnings(&run, &sums) {
        tell!("{w}");
    }
    for (name, bytes) in files.named() {
        out.write(name, bytes)?;
    }
    if stop == Stop::Interrupted {
        // Beside the files above, what `--resume` needs to take the replications back.
        out.write("stage-replications.csv", &rows::stage_replications_csv(&run))?;
        out.write("cut-short.csv", &rows::cut_short_csv(&run))?;
    }
    out.finish("manifest.json", &mut manifest)?;
    if args.report {
        let html = crate::report::html::render_folder(out.staging())?;
        out.write("report.html", html.as_bytes())?;
    }
    let dir = out.dir().to_path_buf();
    out.commit()?;

    if !args.quiet {
        let reps = match (&stop, reps_done.iter().min(), reps_done.iter().max()) {
            (Stop::Complete, _, _) => format!("{} replications", sc.run.replications),
            (stop, Some(lo), Some(hi)) if lo == hi => format!("{lo} replications ({})", stop.label()),
            (stop, lo, hi) => format!(
                "{}-{} replications ({})",
                lo.unwrap_or(&0),
                hi.unwrap_or(&0),
                stop.label()
            ),
        };
        let points = if plan.dims.is_empty() {
            String::new()
        } else {
            format!(" at {} sweep points", plan.points.len())
        };
        sayln!(
            "{}: {reps} × {} measured{} per policy{points}, {:.1} s → {}",
            sc.name,
            format_hours(sc.run.horizon),
            if sc.run.warmup > 0.0 {
                format!(" (after {} warm-up)", format_hours(sc.run.warmup))
            } else {
                String::new()
            },
            elapsed,
            dir.display()
        );
        super::print_results(&run, &sums, &comps);
    }
    Ok(stop)
}
