//! `oversim explore FILE`: draw parameter sets from the scenario's `[uncertain]` inputs, run
//! every policy at each, and write what holds across the uncertainty (or, with `--map`, a
//! decision map over two inputs). Shards and merges as `run` does.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use clap::Args;

use super::resume::{Aside, Resume, RowFiles, Spool};
use super::{read_sources, MergeArgs, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK};
use crate::api::explore::Explored;
use crate::experiment::RunData;
use crate::experiment::{baseline_index, Execution, Keep, Shard, Stop};
use crate::explore::design::DesignKind;
use crate::explore::{self, pilot, Exploration, MapSpec, Others, Spec};
use crate::merge::ShardFiles;
use crate::report::files::Output;
use crate::report::manifest::Manifest;
use crate::scenario::Override;

// Doc comments here are the `--help` text, written for a terminal, not as Markdown.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Args, Debug)]
pub struct ExploreArgs {
    /// Scenario file with an [uncertain] table (without one, the embedded default scenario).
    pub file: Option<PathBuf>,
    /// Set any scenario key: PATH=VALUE (applied before the draws).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<Override>,
    /// Replications per set and policy (same as --set run.replications=N; at least 2). The
    /// scenario's run.replications are for `oversim run`. Without this, a pilot (16 sets of
    /// 5 replications) chooses the fewest (5 to 200) that keep replication noise within
    /// --noise-share of how much the --metric difference of each policy from the baseline
    /// varies across the draws.
    #[arg(short = 'r', long, value_name = "N")]
    pub replications: Option<u64>,
    /// The largest share of replication noise the pilot's choice of replications allows
    /// (sensitivity.csv's noise_share of the --metric differences), 0.001 to 0.5.
    #[arg(long, value_name = "S", default_value_t = pilot::DEFAULT_NOISE_SHARE, value_parser = super::pilot::parse_noise_share)]
    pub noise_share: f64,
    /// Master seed: the replication streams and the design (same as --set run.seed=S).
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(..=crate::scenario::MAX_SEED))]
    pub seed: Option<u64>,
    /// Explore only these of the scenario's policies, in this order (same as --set
    /// 'run.policies=["A","B"]'); a map then decides between them alone.
    #[arg(long, value_name = "A,B")]
    pub policies: Option<String>,
    /// Base points of a Sobol design (N·(k+2) sets for k inputs), sets of a Latin
    /// hypercube, or draws of the other inputs per map cell with --others integrate.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_POINTS, value_parser = clap::value_parser!(u64).range(explore::POINTS))]
    pub points: u64,
    /// sobol (Saltelli scheme: sensitivity indices) or lhs (Latin hypercube: no indices).
    #[arg(long, value_name = "KIND", default_value = "sobol", value_parser = parse_design)]
    pub design: DesignKind,
    /// Metric the summary sentences and the map decide on (one with a better direction).
    #[arg(long, value_name = "METRIC", default_value = explore::DEFAULT_METRIC)]
    pub metric: String,
    /// Policy the paired differences are taken against (default: the first).
    #[arg(long, value_name = "POLICY")]
    pub baseline: Option<String>,
    /// A decision map over two [uncertain] inputs: PATH1,PATH2.
    #[arg(long, value_name = "PATH1,PATH2")]
    pub map: Option<String>,
    /// Values per map axis.
    #[arg(long, value_name = "G", default_value_t = explore::DEFAULT_GRID)]
    pub grid: usize,
    /// The other inputs in a map: base (their written values) or integrate (vary over
    /// --points Latin hypercube draws, the same in every cell).
    #[arg(long, value_name = "HOW", default_value = "base", value_parser = parse_others)]
    pub others: Others,
    /// Bootstrap resamples for the sensitivity intervals.
    #[arg(long, value_name = "B", default_value_t = explore::DEFAULT_BOOTSTRAP, value_parser = clap::value_parser!(u64).range(explore::BOOTSTRAP))]
    pub bootstrap: u64,
    /// Output folder (default results/<scenario name>-explore, or -map with --map).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results are identical for any value.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: Option<u32>,
    /// Run only replications i with i % N == K of every set, for `oversim merge`; `auto`
    /// reads a Slurm array or Kubernetes indexed job.
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<String>,
    /// Also find, for each [uncertain] input alone (the others at their written values),
    /// the value where the choice on --metric flips between the best policy at the written
    /// values and the runner-up, or between A and B: breakeven.csv.
    #[arg(long, value_name = "A,B", num_args = 0..=1, default_missing_value = "")]
    pub breakeven: Option<String>,
    /// Also write report.html.
    #[arg(long)]
    pub report: bool,
    /// Overwrite existing results.
    #[arg(long)]
    pub force: bool,
    /// Finish the interrupted exploration in the output folder: the sets it kept are taken
    /// back, the rest run, and the files are those of an uninterrupted exploration.
    #[arg(long)]
    pub resume: bool,
    /// No progress bar and no summary; errors and warnings only.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

pub use crate::explore::{DEFAULT_POINTS, DEFAULT_REPLICATIONS};

/// One line on an exploration's size and time, said before it starts (and by `validate`).
pub(super) fn describe(ex: &Exploration, threads: usize) -> String {
    let sc = ex.plan.base();
    let work = crate::estimate::Work::of(&ex.plan, None, None, crate::experiment::Keep::Metrics);
    format!(
        "{} sets ({} design{}) × {} replications × {} policies: {}",
        ex.plan.points.len(),
        ex.spec.design.name(),
        match &ex.spec.map {
            None => format!(", {} base points", ex.spec.points),
            Some(m) => format!(", a {}×{} map", m.grid, m.grid),
        },
        sc.run.replications,
        sc.policies.len(),
        work.describe(threads)
    )
}

fn parse_design(s: &str) -> Result<DesignKind, String> {
    choose(s, DesignKind::ALL)
}

fn parse_others(s: &str) -> Result<Others, String> {
    choose(s, Others::ALL)
}

fn choose<T: Copy>(s: &str, all: &[(&str, T)]) -> Result<T, String> {
    let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
    (all.iter().find(|(n, _)| *n == s).map(|(_, t)| *t))
        .ok_or_else(|| crate::input::unknown(format!("`{s}` is not allowed"), s, &names, Some("allowed")))
}

impl ExploreArgs {
    pub(super) fn spec(&self) -> Spec {
        Spec {
            design: self.design,
            points: self.points as usize,
            metric: self.metric.clone(),
            bootstrap: self.bootstrap as usize,
            map: self.map.as_ref().map(|m| MapSpec {
                paths: m.split(',').map(|p| p.trim().to_string()).collect(),
                grid: self.grid,
                others: self.others,
            }),
        }
    }

    /// Whether a pilot chooses the replications: neither -r nor --set run.replications says.
    fn pilots(&self) -> bool {
        self.replications.is_none() && !self.set.iter().any(|o| o.path == "run.replications")
    }

    fn overrides(&self) -> Vec<Override> {
        let mut v = self.set.clone();
        if let Some(p) = &self.policies {
            v.push(Override::policies(p));
        }
        // Piloted: a provisional count, until the pilot chooses ([`with_pilot`]).
        if let Some(r) = self
            .replications
            .or(self.pilots().then_some(DEFAULT_REPLICATIONS))
        {
            v.push(Override::set("run.replications", &r.to_string()));
        }
        if let Some(s) = self.seed {
            v.push(Override::set("run.seed", &s.to_string()));
        }
        v
    }
}

pub(super) fn explore(args: ExploreArgs) -> i32 {
    // From the start, so that a signal while the plan is checked is not lost.
    super::run::install_signal_handler();
    let bad = |e: String| {
        tell!("{e}");
        EXIT_BAD_INPUT
    };
    let files: Vec<PathBuf> = args.file.iter().cloned().collect();
    let src = match read_sources(&files) {
        Ok(mut s) => s.remove(0),
        Err(e) => return bad(e),
    };
    let clock = Instant::now();
    let mut overrides = args.overrides();
    let ex = match explore::plan(&src.label, &src.text, &overrides, &args.spec()) {
        Ok(x) => x,
        Err(e) => return bad(e.to_string()),
    };
    let setup = clock.elapsed().as_secs_f64();
    let Checked {
        baseline,
        shard,
        pair,
    } = match check(&args, &ex) {
        Ok(c) => c,
        Err(e) => return bad(e),
    };
    let dir = out_dir(&args, &ex, shard);
    let work = crate::estimate::Work::of(&ex.plan, None, None, crate::experiment::Keep::Metrics)
        .share(shard.map_or(1, |s| s.count));
    if let Err(code) = super::check_work(&src.label, work, None, args.threads) {
        return code;
    }
    if super::run::interrupted_before_the_run() {
        return EXIT_INTERRUPTED;
    }
    let replace = args.force || (args.resume && super::resume::holds_results(&dir));
    let mut output = match Output::begin(&dir, replace) {
        Ok(o) => o,
        Err(e) => return bad(format!("error: {e}")),
    };
    let pool = match crate::montecarlo::pool(args.threads.map(|t| t as usize)) {
        Ok(p) => p,
        Err(e) => {
            tell!("error: cannot start worker threads: {e}");
            return EXIT_FAILURE;
        }
    };
    let (ex, piloted) = match args.pilots() {
        false => (ex, None),
        true => match super::pilot::with_pilot(&args, &src.label, &src.text, &mut overrides, &pool) {
            Ok((ex, info)) => (ex, Some(info)),
            Err(code) => return code,
        },
    };
    let kept = match args
        .resume
        .then(|| super::resume::read(&output, &ex.plan))
        .transpose()
    {
        Err(e) => return bad(format!("error: {e}")),
        Ok(Some(Resume::Complete)) => {
            tell!(
                "oversim: {} already holds this exploration, complete; nothing to resume",
                dir.display()
            );
            return EXIT_OK;
        }
        Ok(Some(Resume::Kept(k))) => Some(k),
        Ok(Some(Resume::Fresh) | None) => None,
    };
    overload_warning(&src.label, &ex);
    if !args.quiet {
        tell!(
            "oversim explore: {}",
            describe(&ex, super::threads_used(args.threads))
        );
    }
    let exec = Execution {
        plan: &ex.plan,
        baseline,
        targets: &[],
        max_replications: ex.plan.base().run.replications,
        shard,
        series: None,
        kept: kept.as_ref(),
        keep: Keep::Metrics,
    };
    let pb = super::run::progress_bar(crate::api::replications(&ex.plan, shard), args.quiet);
    let started = SystemTime::now();
    // Staffing rules add evaluations nobody can count in advance: the bar grows with them.
    let ctx = || super::run_context(&src, args.threads, &pool, started, clock.elapsed().as_secs_f64());
    let mut aside = match shard {
        None => Aside::Spool(Spool::new(output.staging())),
        Some(_) => match RowFiles::create(&output, &ex.plan.dims, baseline) {
            Ok(rows) => Aside::Shard { rows, error: None },
            Err(e) => {
                tell!("error: {e}");
                return EXIT_FAILURE;
            }
        },
    };
    let ran = crate::api::explore::execute(
        &ex,
        &exec,
        setup,
        super::run::workers(&pool),
        &ctx,
        &|n| {
            if pb.position() + n > pb.length().unwrap_or(0) {
                pb.inc_length(n);
            }
            pb.inc(n)
        },
        Some(&mut |k, point| aside.add(k, point)),
    );
    pb.finish_and_clear();
    let crate::api::explore::Ran {
        run,
        folded,
        mut manifest,
        stop,
        warnings,
    } = match ran {
        Ok(x) => x,
        Err(e) => {
            tell!("error: {e}");
            return EXIT_FAILURE;
        }
    };
    for w in &warnings {
        tell!("{w}");
    }
    if let Some(info) = manifest.exploration.as_mut() {
        info.pilot = piloted;
    }
    if stop == Stop::Interrupted {
        return keep(output, aside, &run, manifest);
    }
    if let Some(s) = shard {
        let mut manifest = crate::merge::shard_manifest(&ex.plan, s, manifest);
        let written = (aside.write(&mut output, &run))
            .and_then(|()| output.finish("shard.json", &mut manifest))
            .and_then(|()| output.commit());
        if let Err(e) = written {
            tell!("error: {e}");
            return EXIT_FAILURE;
        }
        return EXIT_OK;
    }
    // A whole exploration that finished has folded every set.
    let Some(folded) = folded else {
        tell!("internal error: a finished exploration has sets not folded; please report this");
        return EXIT_FAILURE;
    };
    let mut sentences = Vec::new();
    if let Some(pair) = &pair {
        let pair = pair.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
        match breakevens(&src.label, &ex, pair, &pool, &mut output, args.quiet) {
            Ok(Some(s)) => sentences = s,
            Ok(None) => return keep(output, aside, &run, manifest),
            Err(code) => return code,
        }
    }
    aside.discard();
    let mut out = crate::api::explore::conclude(ex, &run, &folded, manifest);
    out.sentences.extend(sentences);
    finish(out, output, args.report, args.quiet)
}

/// What `explore`'s flags ask for, checked against each other and the exploration.
struct Checked {
    baseline: usize,
    shard: Option<Shard>,
    /// `--breakeven`: for the pair named, or (inner `None`) the best and the runner-up.
    pair: Option<Option<(String, String)>>,
}

fn check(args: &ExploreArgs, ex: &Exploration) -> Result<Checked, String> {
    let baseline =
        baseline_index(ex.plan.base(), args.baseline.as_deref()).map_err(|e| format!("error: {e}"))?;
    let shard = (args.shard.as_deref())
        .map(|s| Shard::parse(s, |k| std::env::var(k).ok()))
        .transpose()
        .map_err(|e| format!("error: --shard: {e}"))?;
    let pair = match args.breakeven.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(ab) => match ab.split_once(',') {
            Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
                Some(Some((a.trim().to_string(), b.trim().to_string())))
            }
            _ => return Err(format!("error: --breakeven takes two policies, A,B (not `{ab}`), or nothing for the best and the runner-up")),
        },
    };
    if shard.is_some() && args.resume {
        return Err("error: --resume cannot be combined with --shard: a shard is rerun whole (each is a share of the exploration; `oversim merge` needs it complete)".into());
    }
    if pair.is_some() && (shard.is_some() || ex.map.is_some()) {
        return Err("error: --breakeven runs on one machine and without --map: it chooses its values from what it finds".into());
    }
    Ok(Checked {
        baseline,
        shard,
        pair,
    })
}

/// `-o`, or `results/NAME-explore` (`NAME-map` for a map), with a shard's own subfolder.
fn out_dir(args: &ExploreArgs, ex: &Exploration, shard: Option<Shard>) -> PathBuf {
    let suffix = if ex.map.is_some() { "map" } else { "explore" };
    match (&args.out, shard) {
        (Some(o), _) => o.clone(),
        (None, s) => {
            let d = Path::new("results").join(format!("{}-{suffix}", ex.plan.base().name));
            match s {
                Some(s) => d.join(format!("shard-{}-of-{}", s.index, s.count)),
                None => d,
            }
        }
    }
}

/// Runs the break-even search for `pair` and writes its files into `output`: its
/// sentences, `None` if interrupted, or the exit code of a failure (said already).
fn breakevens(
    label: &str,
    ex: &Exploration,
    pair: Option<(&str, &str)>,
    pool: &crate::montecarlo::Pool,
    output: &mut Output,
    quiet: bool,
) -> Result<Option<Vec<String>>, i32> {
    let pb = super::run::progress_bar(0, quiet);
    let workers = super::run::workers(pool);
    let found = crate::api::explore::breakevens(label, ex, pair, workers, &|n| {
        pb.inc_length(n);
        pb.inc(n)
    });
    pb.finish_and_clear();
    let found = match found {
        Err(e) => {
            tell!("error: {e}");
            return Err(EXIT_BAD_INPUT);
        }
        Ok(None) => return Ok(None),
        Ok(Some(found)) => found,
    };
    for (name, bytes) in &found.files {
        if let Err(e) = output.write(name, bytes) {
            tell!("error: {e}");
            return Err(EXIT_FAILURE);
        }
    }
    Ok(Some(found.sentences))
}

/// Writes what an interrupted exploration kept (the replications of its finished sets, as a
/// shard holds them: those set `aside`, the rest from `run`) with its manifest marked
/// interrupted, for `--resume`.
fn keep(mut output: Output, aside: Aside, run: &RunData, mut manifest: Manifest) -> i32 {
    manifest.interrupted = true;
    manifest.cut_short = true;
    manifest.stopped = Stop::Interrupted.label().to_string();
    let finished = (run.points.iter())
        .filter(|p| p.reps.len() as u64 == p.scenario.run.replications)
        .count();
    let dir = output.dir().to_path_buf();
    let written = (aside.write(&mut output, run))
        .and_then(|()| output.finish("manifest.json", &mut manifest))
        .and_then(|()| output.commit());
    match written {
        Ok(()) => tell!(
            "oversim: interrupted; {finished} of {} sets finished, kept in {}: the same command with --resume finishes the exploration",
            run.points.len(),
            dir.display()
        ),
        Err(e) => tell!("error: {e}"),
    }
    EXIT_INTERRUPTED
}

/// One warning for every set with a stage at offered load ≥ 1 (a run warns per point).
fn overload_warning(label: &str, ex: &Exploration) {
    let over: Vec<(usize, (String, String, f64))> = (ex.plan.points.iter().enumerate())
        .filter_map(|(s, p)| {
            (p.loaded.scenario.offered_loads().into_iter())
                .filter(|(pol, st, rho)| *rho >= 1.0 && !super::by_rule(p, pol, st))
                .max_by(|a, b| a.2.total_cmp(&b.2))
                .map(|x| (s, x))
        })
        .collect();
    if let Some((s, (p, st, rho))) = over.iter().max_by(|a, b| a.1 .2.total_cmp(&b.1 .2)) {
        tell!(
            "warning: {label}: {} of {} sets have a stage at offered load ≥ 1 (the most: set {s}, policy `{p}`, stage `{st}`, {rho:.2}); its queue grows until pressure, timeouts or the end of the run stop it, as the uncertainty allows (see design.csv and explore.csv)",
            over.len(),
            ex.plan.points.len()
        );
    }
}

/// Writes an exploration's files (and report) and prints its summary.
fn finish(mut out: Explored, mut output: Output, report: bool, quiet: bool) -> i32 {
    let dir = output.dir().to_path_buf();
    let written = (out.files.named().into_iter())
        .try_for_each(|(name, bytes)| output.write(name, bytes))
        .and_then(|()| output.finish("manifest.json", &mut out.manifest))
        .and_then(|()| {
            if report {
                let html = crate::report::html::render_folder(output.staging())?;
                output.write("report.html", html.as_bytes())?;
            }
            output.commit()
        });
    if let Err(e) = written {
        tell!("error: {e}");
        return EXIT_FAILURE;
    }
    if !quiet {
        let ex = &out.exploration;
        let sc = ex.plan.base();
        sayln!(
            "{}: {} sets × {} replications × {} policies → {}",
            sc.name,
            ex.plan.points.len(),
            sc.run.replications,
            sc.policies.len(),
            dir.display()
        );
        if let Some(a) = &out.analysis {
            say!(
                "\n{}\n",
                crate::report::explore::table(&ex.policies(), a, ex.metric)
            );
        }
        for s in &out.sentences {
            sayln!("{s}");
        }
    }
    EXIT_OK
}

/// `oversim merge` of an exploration's shards: the core rebuilds the plan from the design
/// and concludes; this writes what the one-machine exploration writes.
pub(super) fn merge(args: &MergeArgs, shards: &[ShardFiles]) -> i32 {
    let out = match crate::api::explore::merge(shards) {
        Ok(x) => x,
        Err(e) => {
            tell!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let dir = args.out.clone().unwrap_or_else(|| {
        let ex = &out.exploration;
        let suffix = if ex.map.is_some() { "map" } else { "explore" };
        Path::new("results").join(format!("{}-{suffix}", ex.plan.base().name))
    });
    let output = match Output::begin(&dir, args.force) {
        Ok(o) => o,
        Err(e) => {
            tell!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    finish(out, output, false, args.quiet)
}
