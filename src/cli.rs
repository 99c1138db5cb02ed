//! The command line: `oversim run`, `oversim validate`, `oversim merge`.
//!
//! Exit codes: 0 success, 1 the run failed (e.g. a file could not be written), 2 bad input
//! (scenario errors, bad flags, results that would be overwritten).

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::experiment::{self, Execution, Plan, Shard, Stop, Target};
use crate::report::{self, RunData};
use crate::scenario::{self, Override, Scenario, SweepDim};
use crate::units::format_hours;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
/// A run stopped by SIGINT or SIGTERM (128 + SIGINT), after writing what it completed.
pub const EXIT_INTERRUPTED: i32 = 130;

/// First SIGINT/SIGTERM: finish cleanly (stop replications, keep the completed ones, write
/// the files). Second: exit at once; files already renamed into place stay whole.
fn install_signal_handler() {
    use std::sync::atomic::Ordering;
    let result = ctrlc::set_handler(|| {
        if crate::montecarlo::CANCEL.swap(true, Ordering::SeqCst) {
            eprintln!("\noversim: interrupted again, exiting now");
            std::process::exit(EXIT_INTERRUPTED);
        }
        eprintln!("\noversim: interrupted; keeping the completed replications and writing partial results (interrupt again to exit at once)");
    });
    if let Err(e) = result {
        eprintln!("warning: cannot install the interrupt handler ({e}); Ctrl-C will stop oversim without writing partial results");
    }
}

#[derive(Parser, Debug)]
#[command(name = "oversim", version, about = "Monte Carlo simulation of AI oversight policies", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run scenarios and write CSV results (no FILE: the embedded default scenario).
    Run(RunArgs),
    /// Check scenario files (and every sweep point) and print each human stage's offered load.
    Validate(ValidateArgs),
    /// Merge the shard folders of a sharded run (`run --shard`) into the one-machine result.
    Merge(MergeArgs),
    /// Write DIR/report.html: charts and a plain-language summary of a results folder.
    Report(ReportArgs),
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A results folder written by `oversim run` or `oversim merge`.
    pub dir: PathBuf,
}

fn report_cmd(args: ReportArgs) -> i32 {
    match crate::report::html::write(&args.dir) {
        Ok(path) => {
            println!("wrote {}", path.display());
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ScenarioFlags {
    /// Set any scenario key: PATH=VALUE, e.g. workload.rate=80/h or policy.tiered.review.reviewers=3
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<Override>,
    /// Sweep a key over values: PATH=v1,v2,... (repeatable: the full factorial grid runs)
    #[arg(long = "sweep", value_name = "PATH=V1,V2", value_parser = experiment::parse_sweep_arg)]
    pub sweep: Vec<SweepDim>,
    /// Number of replications (same as --set run.replications=N).
    #[arg(short = 'r', long, value_name = "N")]
    pub replications: Option<u64>,
    /// Master seed (same as --set run.seed=S).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
}

impl ScenarioFlags {
    fn overrides(&self) -> Vec<Override> {
        let mut v = self.set.clone();
        if let Some(r) = self.replications {
            v.push(Override::set("run.replications", &r.to_string()));
        }
        if let Some(s) = self.seed {
            v.push(Override::set("run.seed", &s.to_string()));
        }
        v
    }
}

// Doc comments here are the `--help` text, written for a terminal, not as Markdown.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario files (TOML). Without one, the embedded default scenario runs.
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub scenario: ScenarioFlags,
    /// Output folder (default results/<scenario name>; with several files, DIR/<name>).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results are identical for any value.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: Option<u32>,
    /// Policy that comparison.csv compares the others against (default: the first).
    #[arg(long, value_name = "POLICY")]
    pub baseline: Option<String>,
    /// Run replications in batches until METRIC's 95% CI half-width is within REL of its
    /// mean for every policy and point (repeatable), e.g. escape_rate=0.05.
    #[arg(long, value_name = "METRIC=REL")]
    pub precision: Vec<Target>,
    /// Upper limit of replications per point with --precision.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_replications: u64,
    /// Run only replications i with i % N == K and write shard files for `oversim merge`;
    /// `auto` reads a Slurm array (SLURM_ARRAY_TASK_ID/COUNT) or Kubernetes indexed job.
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<String>,
    /// Record time series of replication 0 of every policy (and point) in intervals of
    /// this duration, e.g. 6h, into timeseries.csv.
    #[arg(long, value_name = "STEP", value_parser = parse_step)]
    pub timeseries: Option<f64>,
    /// Also write report.html (as `oversim report` does) at the end of the run.
    #[arg(long)]
    pub report: bool,
    /// Overwrite existing results.
    #[arg(long)]
    pub force: bool,
    /// No progress bar and no table; errors and warnings only.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

fn parse_step(s: &str) -> Result<f64, String> {
    match crate::units::parse_duration(s)? {
        h if h > 0.0 => Ok(h),
        _ => Err(format!("`{s}` must be longer than zero")),
    }
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Scenario files (TOML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub scenario: ScenarioFlags,
}

// Doc comments here are the `--help` text, written for a terminal, not as Markdown.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Shard folders written by `oversim run --shard K/N`, one per shard.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Output folder (default results/<scenario name>).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Overwrite existing results.
    #[arg(long)]
    pub force: bool,
    /// No table; errors only.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_BAD_INPUT } else { EXIT_OK };
        }
    };
    match cli.command {
        Command::Run(args) => run(args),
        Command::Validate(args) => validate(args),
        Command::Merge(args) => crate::merge::main(args),
        Command::Report(args) => report_cmd(args),
    }
}

/// A scenario source: a file, or the embedded default.
pub struct Source {
    pub label: String,
    pub path: Option<PathBuf>,
    pub text: String,
}

fn read_sources(files: &[PathBuf]) -> Result<Vec<Source>, String> {
    if files.is_empty() {
        return Ok(vec![Source {
            label: scenario::DEFAULT_LABEL.into(),
            path: None,
            text: scenario::DEFAULT_SCENARIO.into(),
        }]);
    }
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("error: {}: cannot read: {e}", p.display()))?;
            Ok(Source {
                label: p.display().to_string(),
                path: Some(p.clone()),
                text,
            })
        })
        .collect()
}

/// Plans every source; prints all errors and returns exit code 2 if any.
fn plan_all(sources: &[Source], flags: &ScenarioFlags) -> Result<Vec<Plan>, i32> {
    let overrides = flags.overrides();
    let mut plans = Vec::new();
    let mut failed = false;
    for s in sources {
        match experiment::plan(&s.label, &s.text, &overrides, &flags.sweep) {
            Ok(p) => plans.push(p),
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        Err(EXIT_BAD_INPUT)
    } else {
        Ok(plans)
    }
}

fn point_label(plan: &Plan, k: usize) -> String {
    plan.dims
        .iter()
        .zip(&plan.points[k].values)
        .map(|(d, v)| format!(" at {d}={v}"))
        .collect()
}

fn load_warnings(label: &str, plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for (k, pt) in plan.points.iter().enumerate() {
        for (p, st, rho) in pt.loaded.scenario.offered_loads() {
            if rho >= 1.0 {
                out.push(format!(
                    "warning: {label}: policy `{p}`, stage `{st}`{}: offered load {rho:.2} ≥ 1: reviewers cannot keep up, so the queue grows until pressure, timeouts or the end of the run stop it (the run goes on; see backlog_end, timeouts and max_queue)",
                    point_label(plan, k)
                ));
            }
        }
    }
    out
}

fn validate(args: ValidateArgs) -> i32 {
    let sources = match read_sources(&args.files) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut code = EXIT_OK;
    for s in &sources {
        match experiment::plan(
            &s.label,
            &s.text,
            &args.scenario.overrides(),
            &args.scenario.sweep,
        ) {
            Err(e) => {
                eprintln!("{e}");
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
                println!(
                    "ok: {} (scenario `{}`): {} policies, {} stages, {} replications of {}{points}",
                    s.label,
                    sc.name,
                    sc.policies.len(),
                    stages,
                    sc.run.replications,
                    format_hours(sc.run.horizon)
                );
                for (k, pt) in plan.points.iter().enumerate() {
                    for (p, st, rho) in pt.loaded.scenario.offered_loads() {
                        println!("  offered load  {p}/{st}{}: {rho:.3}", point_label(&plan, k));
                    }
                }
                for w in load_warnings(&s.label, &plan) {
                    eprintln!("{w}");
                }
            }
        }
    }
    code
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Resolves `--baseline` to a policy index of `sc`.
fn baseline_index(sc: &Scenario, name: Option<&str>) -> Result<usize, String> {
    let Some(name) = name else { return Ok(0) };
    sc.policies.iter().position(|p| p.name == name).ok_or_else(|| {
        let names: Vec<&str> = sc.policies.iter().map(|p| p.name.as_str()).collect();
        let mut msg = format!("--baseline: scenario `{}` has no policy named `{name}`", sc.name);
        if let Some(m) = scenario::did_you_mean(name, names.iter().copied()) {
            msg.push_str(&format!("; did you mean `{m}`?"));
        }
        msg + &format!("; policies are: {}", names.join(", "))
    })
}

fn run(args: RunArgs) -> i32 {
    let sources = match read_sources(&args.files) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
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
            eprintln!("error: --shard: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if shard.is_some() && !args.precision.is_empty() {
        eprintln!("error: --precision cannot be combined with --shard: the stopping rule needs every replication in one place; run a fixed number of replications per shard instead");
        return EXIT_BAD_INPUT;
    }
    let mut baselines = Vec::new();
    for p in &plans {
        match baseline_index(p.base(), args.baseline.as_deref()) {
            Ok(b) => baselines.push(b),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
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
    for (i, d) in dirs.iter().enumerate() {
        if dirs[..i].contains(d) {
            eprintln!(
                "error: two scenarios would write to {}; give them different names",
                d.display()
            );
            return EXIT_BAD_INPUT;
        }
        let files: &[&str] = if shard.is_some() {
            crate::merge::SHARD_FILES
        } else {
            report::FILES
        };
        if let Err(e) = report::prepare_output(d, files, args.force) {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    }
    install_signal_handler();
    let pool = match crate::montecarlo::pool(args.threads.map(|t| t as usize)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start worker threads: {e}");
            return EXIT_FAILURE;
        }
    };
    for (((src, plan), dir), &baseline) in sources.iter().zip(&plans).zip(&dirs).zip(&baselines) {
        for w in load_warnings(&src.label, plan) {
            eprintln!("{w}");
        }
        let ex = Execution {
            plan,
            baseline,
            targets: &args.precision,
            max_replications: args.max_replications,
            shard,
            series: args.timeseries,
        };
        match run_one(&args, src, &ex, &pool, dir) {
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_FAILURE;
            }
            Ok(Stop::Interrupted) => {
                eprintln!(
                    "oversim: partial results written to {} (manifest.json: interrupted)",
                    dir.display()
                );
                return EXIT_INTERRUPTED;
            }
            Ok(_) => {}
        }
    }
    EXIT_OK
}

fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
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

/// Hash of everything that determines a run's results: dimensions and every point's
/// resolved scenario (which includes the seed and replications).
pub fn plan_hash(plan: &Plan) -> String {
    let mut text = plan.dims.join("\u{1f}");
    for p in &plan.points {
        text.push('\u{1e}');
        text.push_str(&p.values.join("\u{1f}"));
        text.push('\u{1d}');
        text.push_str(&p.loaded.resolved_text);
    }
    sha256_hex(text.as_bytes())
}

fn run_one(
    args: &RunArgs,
    src: &Source,
    ex: &Execution,
    pool: &rayon::ThreadPool,
    dir: &Path,
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
    let first_batch: u64 = plan
        .points
        .iter()
        .map(|p| p.loaded.scenario.run.replications * p.loaded.scenario.policies.len() as u64)
        .sum();
    let pb = progress_bar(
        ex.shard.map_or(first_batch, |s| first_batch.div_ceil(s.count)),
        args.quiet,
    );
    // Precision runs do not know their length in advance: the bar grows with the batches.
    let open_ended = !ex.targets.is_empty();
    let executed = experiment::execute(ex, pool, &|n| {
        if open_ended && pb.position() + n > pb.length().unwrap_or(0) {
            pb.inc_length(per_rep.max(n));
        }
        pb.inc(n)
    });
    pb.finish_and_clear();
    let elapsed = clock.elapsed().as_secs_f64();
    let run = &executed.run;
    let write = |name: &str, bytes: &[u8]| {
        report::write_atomic(dir, name, bytes)
            .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
    };
    let reps_done: Vec<u64> = run.points.iter().map(|p| p.reps.len() as u64).collect();
    let mut cut = 0u64;
    for pt in &run.points {
        for (pol, reps) in pt.scenario.policies.iter().zip(&pt.results.per_policy) {
            let n = reps.iter().filter(|r| r.cut_short).count();
            if n > 0 {
                cut += n as u64;
                eprintln!(
                    "warning: {}: {n} replications of policy `{}` stopped early: more than run.max_backlog = {} actions were in the system (an overloaded stage); their metrics cover only the time until then",
                    src.label, pol.name, pt.scenario.run.max_backlog
                );
            }
        }
    }
    let mut manifest = serde_json::json!({
        "oversim_version": env!("CARGO_PKG_VERSION"),
        "scenario": {
            "name": sc.name,
            "description": sc.description,
            "path": src.path.as_ref().map(|p| p.display().to_string()),
            "sha256": sha256_hex(src.text.as_bytes()),
            "resolved": plan.points[0].loaded.resolved_text,
        },
        "plan_sha256": plan_hash(plan),
        "command_line": std::env::args().collect::<Vec<_>>(),
        "seed": sc.run.seed,
        "replications": sc.run.replications,
        "replications_done": reps_done.iter().copied().min().unwrap_or(0),
        "policies": sc.policies.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        "baseline": sc.policies[ex.baseline].name,
        "sweep": { "dims": plan.dims, "points": plan.points.len() },
        "horizon_hours": sc.run.horizon,
        "warmup_hours": sc.run.warmup,
        "threads": args.threads.map_or(pool.current_num_threads(), |t| t as usize),
        "started_at": humantime::format_rfc3339_seconds(started).to_string(),
        "finished_at": humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        "wall_seconds": elapsed,
        "stopped": executed.stop.label(),
        "cut_short": cut > 0 || matches!(executed.stop, Stop::MaxReplications | Stop::Interrupted),
        "replications_cut_short": cut,
        "interrupted": executed.stop == Stop::Interrupted,
    });
    if !ex.targets.is_empty() {
        manifest["precision"] = serde_json::json!(ex
            .targets
            .iter()
            .zip(&executed.achieved)
            .map(|(t, a)| serde_json::json!({
                "metric": t.name(),
                "target_relative_half_width": t.rel,
                "achieved_relative_half_width": if a.is_finite() { serde_json::json!(a) } else { serde_json::Value::Null },
            }))
            .collect::<Vec<_>>());
        manifest["max_replications"] = serde_json::json!(ex.max_replications);
    }
    if let Some(s) = ex.shard {
        crate::merge::write_shard(dir, plan, run, s, manifest)?;
        return Ok(executed.stop);
    }
    let sums = run.summaries();
    let comps = report::comparisons(run);
    write("replications.csv", &report::replications_csv(run))?;
    write("summary.csv", &report::summary_csv(run, &sums))?;
    write("comparison.csv", &report::comparison_csv(run, &comps))?;
    write("stages.csv", &report::stages_csv(run))?;
    match report::timeseries_csv(run) {
        Some(bytes) => write("timeseries.csv", &bytes)?,
        // Never leave another run's series beside these results (possible with --force).
        None => {
            let _ = std::fs::remove_file(dir.join("timeseries.csv"));
        }
    }
    let json = serde_json::to_string_pretty(&manifest).expect("manifest serialises") + "\n";
    write("manifest.json", json.as_bytes())?;
    if args.report {
        crate::report::html::write(dir)?;
    } else {
        let _ = std::fs::remove_file(dir.join("report.html"));
    }

    if !args.quiet {
        let reps = match (&executed.stop, reps_done.iter().min(), reps_done.iter().max()) {
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
        println!(
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
        print_tables(run, &sums, &comps);
    }
    Ok(executed.stop)
}

/// The results table and, with two or more policies, the paired comparison table.
pub fn print_tables(run: &RunData, sums: &report::Summaries, comps: &report::Comparisons) {
    println!("mean ± 95% CI half-width over replications\n");
    print!("{}", report::table(run, sums));
    if run.points.first().is_some_and(|p| p.scenario.policies.len() > 1) {
        let base = &run.points[0].scenario.policies[run.baseline].name;
        println!(
            "\npaired differences against `{base}` (same replications: common random numbers), 95% CI\n"
        );
        print!("{}", report::comparison_table(run, comps));
    }
}
