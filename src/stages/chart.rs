//! A monitor's control chart: its settings (CUSUM, EWMA or a Shewhart p-chart, and
//! `p0 = "auto"`) and its running statistic.

/// `p0 = "auto"`: the chart's in-control rate is re-estimated at the end of every block of
/// `window` observations, from that block's findings, unless an alarm in the block found
/// a drift (the organisation knows those data were out of control). The chart does not
/// alarm during its first block (Phase I), and a drift that lasts a whole block without an
/// alarm that finds it is taken into the estimate (the price of following the process).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoP0 {
    /// Observations per estimation block.
    pub window: u32,
    /// CUSUM only: the rate to detect is `p1 = min(shift × p0, (1 + p0)/2)`.
    pub shift: f64,
}

impl AutoP0 {
    /// The estimate from `count` findings in a block: `count / window`, kept inside
    /// `[0.5/window, 1 − 0.5/window]` so that a block without findings (or with nothing
    /// else) still gives a chart that can run.
    pub fn estimate(&self, count: u32) -> f64 {
        let w = self.window as f64;
        (count as f64 / w).clamp(0.5 / w, 1.0 - 0.5 / w)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Chart {
    /// Bernoulli CUSUM: `S = max(0, S + x − k)`, alarm when `S ≥ h`.
    Cusum { k: f64, h: f64 },
    /// EWMA `z = λx + (1 − λ)z` from `z = p0`, alarm when
    /// `z > p0 + L·sqrt(p0(1 − p0)·λ/(2 − λ))` (asymptotic limit).
    Ewma { lambda: f64, l: f64, p0: f64 },
    /// p-chart over consecutive windows of `n` observations, alarm when the window's
    /// fraction exceeds `p0 + 3·sqrt(p0(1 − p0)/n)`.
    Shewhart { n: u32, p0: f64 },
}

impl Chart {
    /// The reference value of a Bernoulli CUSUM designed to detect a shift from p0 to p1
    /// (Reynolds & Stoumbos 1999).
    pub fn cusum_k(p0: f64, p1: f64) -> f64 {
        libm::log((1.0 - p0) / (1.0 - p1)) / libm::log(p1 * (1.0 - p0) / (p0 * (1.0 - p1)))
    }

    /// The chart for in-control rate `p0` (`shift` sets a CUSUM's p1; the other charts
    /// take p0 directly).
    pub fn with_p0(self, p0: f64, shift: f64) -> Chart {
        match self {
            Chart::Cusum { h, .. } => Chart::Cusum {
                k: Chart::cusum_k(p0, (shift * p0).min((1.0 + p0) / 2.0)),
                h,
            },
            Chart::Ewma { lambda, l, .. } => Chart::Ewma { lambda, l, p0 },
            Chart::Shewhart { n, .. } => Chart::Shewhart { n, p0 },
        }
    }

    /// Upper control limit: `h` for a CUSUM, the limit on `z` or on the window fraction.
    pub fn limit(&self) -> f64 {
        match *self {
            Chart::Cusum { h, .. } => h,
            Chart::Ewma { lambda, l, p0 } => p0 + l * (p0 * (1.0 - p0) * lambda / (2.0 - lambda)).sqrt(),
            Chart::Shewhart { n, p0 } => p0 + 3.0 * (p0 * (1.0 - p0) / n as f64).sqrt(),
        }
    }
}

/// The running statistic of a monitor's control chart.
#[derive(Debug, Clone)]
pub struct ChartState {
    pub chart: Chart,
    /// CUSUM S, or EWMA z.
    stat: f64,
    /// Shewhart: findings and observations in the current window.
    count: u32,
    seen: u32,
    limit: f64,
    /// `p0 = "auto"`: the block being counted toward the next estimate.
    estimate: Option<Estimate>,
}

/// The block of observations behind the next estimate of p0.
#[derive(Debug, Clone)]
struct Estimate {
    auto: AutoP0,
    seen: u32,
    count: u32,
    /// An alarm in this block found a drift: its data are not in control.
    tainted: bool,
    /// The first block is done, so the chart runs (Phase II).
    ready: bool,
    /// The estimate in use.
    p0: f64,
}

impl ChartState {
    pub fn new(chart: Chart, auto: Option<AutoP0>) -> ChartState {
        let mut s = ChartState {
            chart,
            stat: 0.0,
            count: 0,
            seen: 0,
            limit: chart.limit(),
            estimate: auto.map(|auto| Estimate {
                auto,
                seen: 0,
                count: 0,
                tainted: false,
                ready: false,
                p0: f64::NAN,
            }),
        };
        s.reset();
        s
    }

    /// Back to the in-control start (after an alarm).
    pub fn reset(&mut self) {
        self.stat = match self.chart {
            Chart::Ewma { p0, .. } => p0,
            Chart::Cusum { .. } | Chart::Shewhart { .. } => 0.0,
        };
        self.count = 0;
        self.seen = 0;
    }

    /// An alarm found a drift: the current estimation block is not used.
    pub fn found_drift(&mut self) {
        if let Some(e) = &mut self.estimate {
            e.tainted = true;
        }
    }

    /// The in-control rate the chart uses now (NaN before a `p0 = "auto"` chart's first
    /// estimate; a CUSUM given only `k` has none).
    pub fn p0(&self) -> f64 {
        match (&self.estimate, self.chart) {
            (Some(e), _) if !e.ready => f64::NAN,
            (_, Chart::Ewma { p0, .. } | Chart::Shewhart { p0, .. }) => p0,
            (Some(e), Chart::Cusum { .. }) => e.p0,
            (None, Chart::Cusum { .. }) => f64::NAN,
        }
    }

    /// How far the chart is toward its alarm: 0 at its in-control start, 1 at the alarm
    /// (a CUSUM's S/h; an EWMA's (z − p0)/(limit − p0), at least 0; a p-chart's findings in
    /// the current window over the count that would alarm). A `p0 = "auto"` chart in its
    /// first block cannot alarm: 0.
    pub fn closeness(&self) -> f64 {
        if self.estimate.as_ref().is_some_and(|e| !e.ready) {
            return 0.0;
        }
        match self.chart {
            Chart::Cusum { h, .. } => self.stat / h,
            Chart::Ewma { p0, .. } => ((self.stat - p0) / (self.limit - p0)).max(0.0),
            Chart::Shewhart { n, .. } => self.count as f64 / (self.limit * n as f64),
        }
    }

    /// Adds one observation (`x` = a finding); returns true on an alarm, after which the
    /// statistic is reset. With `p0 = "auto"` the observation is charted first (with the
    /// current estimate), then counted toward the next one.
    #[inline]
    pub fn observe(&mut self, x: bool) -> bool {
        match &mut self.estimate {
            None => self.chart_observation(x),
            Some(e) => {
                let alarm = e.ready && self.chart_observation(x);
                self.count_toward_estimate(x);
                alarm
            }
        }
    }

    fn chart_observation(&mut self, x: bool) -> bool {
        let xf = x as u8 as f64;
        let alarm = match self.chart {
            Chart::Cusum { k, h } => {
                self.stat = (self.stat + xf - k).max(0.0);
                self.stat >= h
            }
            Chart::Ewma { lambda, .. } => {
                self.stat = lambda * xf + (1.0 - lambda) * self.stat;
                self.stat > self.limit
            }
            Chart::Shewhart { n, .. } => {
                self.count += x as u32;
                self.seen += 1;
                if self.seen < n {
                    false
                } else {
                    let out = self.count as f64 / n as f64 > self.limit;
                    self.count = 0;
                    self.seen = 0;
                    out
                }
            }
        };
        if alarm {
            self.reset();
        }
        alarm
    }

    #[inline(never)]
    fn count_toward_estimate(&mut self, x: bool) {
        let Some(e) = &mut self.estimate else { return };
        e.seen += 1;
        e.count += x as u32;
        if e.seen < e.auto.window {
            return;
        }
        let (p0, use_block, first) = (e.auto.estimate(e.count), !e.tainted, !e.ready);
        e.seen = 0;
        e.count = 0;
        e.tainted = false;
        if use_block {
            e.ready = true;
            e.p0 = p0;
            self.chart = self.chart.with_p0(p0, e.auto.shift);
            self.limit = self.chart.limit();
            if first {
                self.reset();
            }
        }
    }
}

#[cfg(test)]
mod chart_tests {
    use super::*;

    #[test]
    fn cusum_counts_up_and_resets() {
        let mut c = ChartState::new(Chart::Cusum { k: 0.25, h: 1.5 }, None);
        // 1 − 0.25 = 0.75, then 1.5: alarm on the second finding.
        assert!(!c.observe(true));
        assert!(c.observe(true));
        // Reset: zeros keep it at 0.
        assert!(!c.observe(false));
        assert!(!c.observe(true));
        assert!(!c.observe(false)); // 0.75 − 0.25 = 0.5
        assert!(!c.observe(true)); // 0.5 + 0.75 = 1.25 < 1.5
        assert!(c.observe(true)); // 2.0 ≥ 1.5
    }

    #[test]
    fn shewhart_judges_whole_windows() {
        // n = 10, p0 = 0.1: limit 0.1 + 3·0.0949 = 0.385, so 4 findings of 10 alarm.
        let mut c = ChartState::new(Chart::Shewhart { n: 10, p0: 0.1 }, None);
        let window = |c: &mut ChartState, k: usize| (0..10).map(|i| c.observe(i < k)).collect::<Vec<_>>();
        assert!(window(&mut c, 3).iter().all(|a| !a));
        let w = window(&mut c, 4);
        assert!(w[9] && w[..9].iter().all(|a| !a));
    }

    #[test]
    fn ewma_starts_at_p0() {
        let mut c = ChartState::new(
            Chart::Ewma {
                lambda: 0.5,
                l: 1.0,
                p0: 0.1,
            },
            None,
        );
        // limit = 0.1 + sqrt(0.09 · 0.5/1.5) = 0.2732; z: 0.1 → 0.55 alarm.
        assert!(c.observe(true));
        assert!(!c.observe(false));
    }

    #[test]
    fn auto_p0_waits_for_its_first_block_then_follows_each_block() {
        let auto = AutoP0 {
            window: 20,
            shift: 2.0,
        };
        let mut c = ChartState::new(Chart::Shewhart { n: 10, p0: 0.5 }, Some(auto));
        // Phase I: 20 observations, 2 findings, no alarm even with every one a finding.
        assert!((0..20).all(|i| !c.observe(i < 2)));
        assert_eq!(c.p0(), 0.1);
        // Phase II with p0 = 0.1: 4 of 10 alarm (limit 0.385).
        let w: Vec<bool> = (0..10).map(|i| c.observe(i < 4)).collect();
        assert!(w[9]);
        // This block (4 findings so far) ends after 10 more with none: p0 = 4/20.
        assert!((0..10).all(|_| !c.observe(false)));
        assert_eq!(c.p0(), 0.2);
        // A block in which an alarm found a drift is not used.
        c.found_drift();
        assert!((0..20).all(|_| !c.observe(false)));
        assert_eq!(c.p0(), 0.2);
        // A block without findings gives 0.5/window, not zero.
        assert!((0..20).all(|_| !c.observe(false)));
        assert_eq!(c.p0(), 0.025);
    }

    #[test]
    fn auto_cusum_takes_p1_from_shift() {
        let auto = AutoP0 {
            window: 100,
            shift: 2.0,
        };
        let mut c = ChartState::new(Chart::Cusum { k: 0.5, h: 3.0 }, Some(auto));
        (0..100).for_each(|i| {
            c.observe(i % 10 == 0);
        });
        assert_eq!(
            c.chart,
            Chart::Cusum {
                k: Chart::cusum_k(0.1, 0.2),
                h: 3.0
            }
        );
    }
}
