//! How a policy's stages connect, fixed for a run: what each stage does, which monitors
//! watch it, which stages take released work, each stage's loading on the latent
//! difficulty, its timeout lane, and where routing ends.

use super::detection::Loading;
use super::{Ev, EventQueue};
use crate::scenario::Policy;
use crate::stages::Role;

pub(super) struct Wiring<'a> {
    /// What each stage does ([`Role`]), looked up once.
    pub roles: Vec<Role<'a>>,
    /// For each stage, the monitors watching it (bit per stage index).
    pub watchers: Vec<u64>,
    /// Stages that take released attempts: audits and lots of released work (bit per
    /// stage index).
    pub takes_released: u64,
    /// Per stage, its loading on the latent difficulty (`None`: independent misses).
    pub loadings: Vec<Option<Loading>>,
    /// For each stage, the event-queue lane of its timeouts (review stages with `max_wait`).
    pub timeout_lane: Vec<Option<usize>>,
    /// One past the last pre-release stage: routing from here on releases.
    pub pre_release_end: usize,
}

impl<'a> Wiring<'a> {
    /// The wiring of `policy`, with `r` the workload's detection correlation; each review
    /// stage with timeouts gets a lane of `events`.
    pub fn new(policy: &'a Policy, r: f64, events: &mut EventQueue<Ev>) -> Wiring<'a> {
        let roles: Vec<Role<'a>> = policy.stages.iter().map(|s| s.kind.role()).collect();
        let mut watchers = vec![0u64; roles.len()];
        let mut takes_released = 0u64;
        for (m, role) in roles.iter().enumerate() {
            if let Role::Monitor(mon) = role {
                for (i, w) in watchers.iter_mut().enumerate() {
                    if mon.watch >> i & 1 == 1 {
                        *w |= 1 << m;
                    }
                }
            }
            if role.takes_released() {
                takes_released |= 1 << m;
            }
        }
        let loadings = (policy.stages.iter())
            .map(|s| match s.difficulty_loading {
                Some(l) => Some(Loading::new(l)),
                None => (r > 0.0).then(|| Loading::of_correlation(r)),
            })
            .collect();
        let timeout_lane = (roles.iter())
            .map(|role| match role {
                Role::Review(h) => h.max_wait.map(|_| events.add_lane()),
                Role::Flag(_) | Role::Triage(_) | Role::Lots(_) | Role::Audit(_) | Role::Monitor(_) => None,
            })
            .collect();
        let pre_release_end = roles.iter().rposition(|r| r.pre_release()).map_or(0, |i| i + 1);
        Wiring {
            roles,
            watchers,
            takes_released,
            loadings,
            timeout_lane,
            pre_release_end,
        }
    }
}
