//! The command line: `oversim run`, `oversim validate`.
//!
//! Exit codes: 0 success, 1 the run failed (e.g. a file could not be written), 2 bad input
//! (scenario errors, bad flags, results that would be overwritten).

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::report;
use crate::scenario::{self, Loaded, Override, Scenario};
use crate::units::format_hours;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;

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
    /// Check scenario files and print the offered load of each human review stage.
    Validate(ValidateArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ScenarioFlags {
    /// Set any scenario key: PATH=VALUE, e.g. workload.rate=80/h or policy.tiered.review.reviewers=3
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<Override>,
    /// Number of replications (same as --set run.replications=N).
    #[arg(short = 'r', long)]
    pub replications: Option<u64>,
    /// Master seed (same as --set run.seed=S).
    #[arg(long)]
    pub seed: Option<u64>,
}

impl ScenarioFlags {
    fn overrides(&self) -> Vec<Override> {
        let mut v = self.set.clone();
        if let Some(r) = self.replications {
            v.push(Override {
                path: "run.replications".into(),
                value: r.to_string(),
            });
        }
        if let Some(s) = self.seed {
            v.push(Override {
                path: "run.seed".into(),
                value: s.to_string(),
            });
        }
        v
    }
}

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
    /// Overwrite existing results.
    #[arg(long)]
    pub force: bool,
    /// No progress bar and no table; errors and warnings only.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Scenario files (TOML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub scenario: ScenarioFlags,
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
    }
}

/// A scenario source: a file, or the embedded default.
struct Source {
    label: String,
    path: Option<PathBuf>,
    text: String,
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

fn load_all(sources: &[Source], overrides: &[Override]) -> Result<Vec<Loaded>, i32> {
    let mut loaded = Vec::new();
    let mut failed = false;
    for s in sources {
        match scenario::load(&s.label, &s.text, overrides) {
            Ok(l) => loaded.push(l),
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        Err(EXIT_BAD_INPUT)
    } else {
        Ok(loaded)
    }
}

fn load_warnings(label: &str, s: &Scenario) -> Vec<String> {
    s.offered_loads()
        .into_iter()
        .filter(|(_, _, rho)| *rho >= 1.0)
        .map(|(p, st, rho)| {
            format!(
                "warning: {label}: policy `{p}`, stage `{st}`: offered load {rho:.2} ≥ 1: reviewers cannot keep up, so the queue grows until pressure, timeouts or the end of the run stop it (the run goes on; see backlog_end, timeouts and max_queue)"
            )
        })
        .collect()
}

fn validate(args: ValidateArgs) -> i32 {
    let sources = match read_sources(&args.files) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let overrides = args.scenario.overrides();
    let mut code = EXIT_OK;
    for s in &sources {
        match scenario::load(&s.label, &s.text, &overrides) {
            Err(e) => {
                eprintln!("{e}");
                code = EXIT_BAD_INPUT;
            }
            Ok(l) => {
                let sc = &l.scenario;
                let stages: usize = sc.policies.iter().map(|p| p.stages.len()).sum();
                println!(
                    "ok: {} (scenario `{}`): {} policies, {} stages, {} replications of {}",
                    s.label,
                    sc.name,
                    sc.policies.len(),
                    stages,
                    sc.run.replications,
                    format_hours(sc.run.horizon)
                );
                for (p, st, rho) in sc.offered_loads() {
                    println!("  offered load  {p}/{st}: {rho:.3}");
                }
                for w in load_warnings(&s.label, sc) {
                    eprintln!("{w}");
                }
            }
        }
    }
    code
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn run(args: RunArgs) -> i32 {
    let sources = match read_sources(&args.files) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let loaded = match load_all(&sources, &args.scenario.overrides()) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let several = loaded.len() > 1;
    // Check every output folder before simulating anything.
    let dirs: Vec<PathBuf> = loaded
        .iter()
        .map(|l| report::output_dir(args.out.as_deref(), &l.scenario, several))
        .collect();
    for (i, d) in dirs.iter().enumerate() {
        if dirs[..i].contains(d) {
            eprintln!(
                "error: two scenarios would write to {}; give them different names",
                d.display()
            );
            return EXIT_BAD_INPUT;
        }
        if let Err(e) = report::prepare_output(d, args.force) {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    }
    for ((src, l), dir) in sources.iter().zip(&loaded).zip(&dirs) {
        for w in load_warnings(&src.label, &l.scenario) {
            eprintln!("{w}");
        }
        if let Err(e) = run_one(&args, src, l, dir) {
            eprintln!("error: {e}");
            return EXIT_FAILURE;
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

fn run_one(args: &RunArgs, src: &Source, l: &Loaded, dir: &Path) -> Result<(), String> {
    let sc = &l.scenario;
    let started = SystemTime::now();
    let clock = Instant::now();
    let total = sc.run.replications * sc.policies.len() as u64;
    let pb = progress_bar(total, args.quiet);
    let results = crate::montecarlo::run(sc, args.threads.map(|t| t as usize), &|| pb.inc(1))
        .map_err(|e| format!("cannot start worker threads: {e}"))?;
    pb.finish_and_clear();
    let elapsed = clock.elapsed().as_secs_f64();
    let sums = report::summaries(&results);

    let write = |name: &str, bytes: &[u8]| {
        report::write_atomic(dir, name, bytes)
            .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
    };
    write("replications.csv", &report::replications_csv(sc, &results))?;
    write("summary.csv", &report::summary_csv(sc, &sums))?;
    write("stages.csv", &report::stages_csv(sc, &results))?;
    let manifest = serde_json::json!({
        "oversim_version": env!("CARGO_PKG_VERSION"),
        "scenario": {
            "name": sc.name,
            "description": sc.description,
            "path": src.path.as_ref().map(|p| p.display().to_string()),
            "sha256": sha256_hex(src.text.as_bytes()),
            "resolved": l.resolved_text,
        },
        "command_line": std::env::args().collect::<Vec<_>>(),
        "seed": sc.run.seed,
        "replications": sc.run.replications,
        "replications_done": sc.run.replications,
        "policies": sc.policies.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        "horizon_hours": sc.run.horizon,
        "warmup_hours": sc.run.warmup,
        "threads": args.threads.map_or(rayon::current_num_threads(), |t| t as usize),
        "started_at": humantime::format_rfc3339_seconds(started).to_string(),
        "finished_at": humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        "wall_seconds": elapsed,
        "cut_short": false,
        "interrupted": false,
    });
    let json = serde_json::to_string_pretty(&manifest).expect("manifest serialises") + "\n";
    write("manifest.json", json.as_bytes())?;

    if !args.quiet {
        println!(
            "{}: {} replications × {} measured{} per policy, {:.1} s → {}",
            sc.name,
            sc.run.replications,
            format_hours(sc.run.horizon),
            if sc.run.warmup > 0.0 {
                format!(" (after {} warm-up)", format_hours(sc.run.warmup))
            } else {
                String::new()
            },
            elapsed,
            dir.display()
        );
        println!("mean ± 95% CI half-width over replications\n");
        print!("{}", report::table(sc, &sums));
    }
    Ok(())
}
