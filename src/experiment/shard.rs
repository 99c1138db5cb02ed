//! `--shard K/N`: which replications a process of a sharded run owns.

/// `--shard K/N`: this process runs replications `i` with `i % N == K`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parses `K/N`, or `auto` from the environment of a Slurm job array
    /// (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`) or a Kubernetes indexed job
    /// (`JOB_COMPLETION_INDEX`, `JOB_COMPLETIONS`).
    pub fn parse(s: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let (k, n) = if s == "auto" {
            let num = |name: &str| -> Result<Option<u64>, String> {
                env(name)
                    .map(|v| {
                        v.trim()
                            .parse::<u64>()
                            .map_err(|_| format!("{name}={v} is not a whole number"))
                    })
                    .transpose()
            };
            match (num("SLURM_ARRAY_TASK_ID")?, num("SLURM_ARRAY_TASK_COUNT")?) {
                (Some(k), Some(n)) => (k - num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0).min(k), n),
                _ => match (num("JOB_COMPLETION_INDEX")?, num("JOB_COMPLETIONS")?) {
                    (Some(k), Some(n)) => (k, n),
                    _ => {
                        return Err("--shard auto needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a Slurm job array) or JOB_COMPLETION_INDEX and JOB_COMPLETIONS (a Kubernetes indexed job)".into())
                    }
                },
            }
        } else {
            let (k, n) = s
                .split_once('/')
                .ok_or_else(|| format!("`{s}` is not K/N or auto (for example 0/4)"))?;
            let k = k
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("`{k}` is not a shard index"))?;
            let n = n
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("`{n}` is not a shard count"))?;
            (k, n)
        };
        if n == 0 || k >= n {
            return Err(format!(
                "shard {k}/{n}: the index must be below the count (0 ≤ K < N)"
            ));
        }
        Ok(Shard { index: k, count: n })
    }

    pub fn owns(&self, replication: u64) -> bool {
        replication % self.count == self.index
    }
}
