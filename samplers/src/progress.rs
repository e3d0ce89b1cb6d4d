//! Progress bars, one line per chain; without the `progress` feature, bars that draw
//! nothing.

use std::io::IsTerminal;

/// Whether progress bars show, given a driver's `.progress(..)` setting (`None` when not
/// set).
///
/// Never when the environment holds `TILDE_PROGRESS=0` (whatever the setting: a switch
/// for a whole application, a CI job or a service), nor when tilde was built without
/// its `progress` feature; otherwise as set, and when not set, when standard error is a
/// terminal. [`Mcmc`](crate::Mcmc) and `tilde_vi::Svi` both ask it.
///
/// ```
/// use tilde_samplers::progress_enabled;
///
/// assert!(!progress_enabled(Some(false)));
/// if std::env::var_os("TILDE_PROGRESS").is_none() && cfg!(feature = "progress") {
///     assert!(progress_enabled(Some(true)));
/// }
/// ```
pub fn progress_enabled(setting: Option<bool>) -> bool {
    if !cfg!(feature = "progress") || std::env::var_os("TILDE_PROGRESS").is_some_and(|v| v == "0") {
        return false;
    }
    setting.unwrap_or_else(|| std::io::stderr().is_terminal())
}

/// A bar's message: `sampling 812 it/s, 0 divergences, 73 at max depth 10 (try
/// dense_mass), step size 0.012`. The tree-depth part shows once a transition hits
/// the limit.
#[cfg_attr(not(feature = "progress"), allow(dead_code))]
pub(crate) fn message(
    phase: &str,
    rate: f64,
    divergences: usize,
    max_depth: Option<(usize, usize)>,
    step_size: f64,
) -> String {
    let depth = match max_depth {
        Some((limit, hits)) if hits > 0 => {
            format!(", {hits} at max tree depth {limit} (slow: try dense_mass(true))")
        }
        _ => String::new(),
    };
    format!("{phase} {rate:>7.0} it/s, {divergences} divergences{depth}, step size {step_size:.3}")
}

#[cfg(feature = "progress")]
pub(crate) use bars::{Bars, ChainBar};
#[cfg(not(feature = "progress"))]
pub(crate) use hidden::{Bars, ChainBar};

#[cfg(not(feature = "progress"))]
mod hidden {
    /// No bars: built without the `progress` feature.
    pub(crate) struct Bars;

    impl Bars {
        pub fn new(_wanted: Option<bool>) -> Self {
            Bars
        }

        pub fn chain(&self, _chain: usize, _total: usize) -> ChainBar {
            ChainBar
        }
    }

    /// No bar.
    pub(crate) struct ChainBar;

    impl ChainBar {
        pub fn update(
            &self,
            _done: usize,
            _phase: &str,
            _divergences: usize,
            _max_depth: Option<(usize, usize)>,
            _step_size: f64,
        ) {
        }

        pub fn finish(&self) {}
    }
}

#[cfg(feature = "progress")]
mod bars {
    use std::time::Instant;

    use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

    /// The bars of one run.
    pub(crate) struct Bars {
        multi: MultiProgress,
        style: ProgressStyle,
        enabled: bool,
    }

    impl Bars {
        pub fn new(wanted: Option<bool>) -> Self {
            let enabled = super::progress_enabled(wanted);
            let target = if enabled {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            };
            let style =
                ProgressStyle::with_template("chain {prefix:>2} [{bar:30}] {pos:>5}/{len:5} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            Bars {
                multi: MultiProgress::with_draw_target(target),
                style,
                enabled,
            }
        }

        pub fn chain(&self, chain: usize, total: usize) -> ChainBar {
            let bar = if self.enabled {
                let bar = self.multi.add(ProgressBar::new(total as u64));
                bar.set_style(self.style.clone());
                bar.set_prefix(chain.to_string());
                bar
            } else {
                ProgressBar::hidden()
            };
            ChainBar {
                bar,
                every: (total / 100).max(1),
                start: Instant::now(),
                enabled: self.enabled,
            }
        }
    }

    /// The bar of one chain.
    pub(crate) struct ChainBar {
        bar: ProgressBar,
        every: usize,
        start: Instant,
        enabled: bool,
    }

    impl ChainBar {
        /// Reports iteration `done` (1-based) of the run; `max_depth` is the kernel's
        /// maximum tree depth and how many transitions of the phase hit it.
        pub fn update(
            &self,
            done: usize,
            phase: &str,
            divergences: usize,
            max_depth: Option<(usize, usize)>,
            step_size: f64,
        ) {
            if !self.enabled || !done.is_multiple_of(self.every) {
                return;
            }
            let rate = done as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
            self.bar.set_position(done as u64);
            self.bar.set_message(super::message(
                phase,
                rate,
                divergences,
                max_depth,
                step_size,
            ));
        }

        pub fn finish(&self) {
            if self.enabled {
                self.bar.finish();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn the_message_reports_tree_depth_hits_with_the_fix() {
        let quiet = message("sampling", 100.0, 2, Some((10, 0)), 0.5);
        assert_eq!(
            quiet,
            "sampling     100 it/s, 2 divergences, step size 0.500"
        );
        assert_eq!(
            message("warmup", 100.0, 2, None, 0.5),
            quiet.replace("sampling", "warmup")
        );
        let hit = message("sampling", 100.0, 0, Some((10, 73)), 0.012);
        assert!(hit.contains("73 at max tree depth 10"), "{hit}");
        assert!(hit.contains("dense_mass(true)"), "{hit}");
    }
}
