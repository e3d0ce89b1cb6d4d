//! Diagnostic plots of a [`Posterior`] and of a variational fit, written as SVG files
//! (the `plots` feature, on by default; plotters' SVG backend).
//!
//! - [`trace`]: per component, each chain's draws against the draw index, beside each
//!   chain's marginal histogram; divergent transitions are ticked in red.
//! - [`rank`]: ArviZ's rank plot: the draws of all chains are ranked together, and each
//!   chain's ranks are histogrammed (uniform when the chains mix, Vehtari et al. 2021).
//! - [`energy()`]: the marginal energy and energy-transition histograms, with each
//!   chain's E-BFMI in the title (Betancourt 2016).
//! - [`pair`]: scatter plots of two or more components against each other, divergent
//!   draws in red, histograms on the diagonal.
//! - [`forest`] and [`forest_by_chain`]: the mean, the 50 % and 94 % central intervals
//!   of each component, one row per component (per chain).
//! - [`elbo`]: the ELBO trace of a variational fit (`SviResult::elbo_trace`).
//!
//! Site names select what is drawn as [`Posterior::site_draws`] does: `"mu"`, a vector
//! site by its name (`"theta_raw"` means every `theta_raw[i]`), or one element
//! (`"theta_raw[3]"`); an empty list means every component. The path's extension must
//! be `.svg` (for a PNG, convert the SVG, e.g. `rsvg-convert -o trace.png trace.svg`).
//!
//! ```
//! use tilde::Posterior;
//!
//! let names = vec!["mu".into(), "theta[0]".into(), "theta[1]".into()];
//! let chain = |shift: f64| (0..300).map(|i| ((i * 7 % 11) as f64 + shift) / 10.0).collect();
//! let posterior = Posterior::from_draws(names, vec![chain(0.0), chain(0.5)])?;
//!
//! let dir = std::env::temp_dir();
//! tilde::plots::trace(&posterior, &["mu", "theta"], dir.join("trace.svg"))?;
//! tilde::plots::forest(&posterior, &[], dir.join("forest.svg"))?;
//! assert!(tilde::plots::trace(&posterior, &["sigma"], dir.join("trace.svg")).is_err());
//! # Ok::<(), tilde::Error>(())
//! ```
//!
//! # Errors
//! Every function returns a [`tilde::Error`](crate::Error), never panics on its input:
//! [`Error::UnknownName`] for a site that is not in the posterior,
//! [`Error::Degenerate`] for a posterior without draws (or, for [`energy()`], without
//! energies), [`Error::InvalidConfig`] for a path that does not end in `.svg`, and
//! [`Error::Io`] when the file cannot be written.

use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use tilde_core::{Error, Result};
use tilde_samplers::Posterior;

mod elbo;
mod energy;
mod forest;
mod pair;
mod rank;
mod trace;

pub use elbo::elbo;
pub use energy::energy;
pub use forest::{forest, forest_by_chain};
pub use pair::pair;
pub use rank::rank;
pub use trace::trace;

/// The drawing area of an SVG being rendered into a string.
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// What drawing on an [`Area`] returns.
type Drawn = std::result::Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// One scalar component's draws, one `Vec` per chain.
struct Component {
    name: String,
    chains: Vec<Vec<f64>>,
}

impl Component {
    /// Every chain's draws, chain after chain.
    fn pooled(&self) -> impl Iterator<Item = f64> + '_ {
        self.chains.iter().flatten().copied()
    }
}

/// Matplotlib's `tab10` colours, one per chain (cycling after ten).
const CHAIN_COLOURS: [RGBColor; 10] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// The colour of divergent transitions.
const DIVERGENT: RGBColor = RGBColor(0xd6, 0x27, 0x28);

/// The colour of pooled (all-chain) summaries.
const POOLED: RGBColor = CHAIN_COLOURS[0];

/// The font of titles.
const TITLE_FONT: (&str, u32) = ("sans-serif", 18);

/// The font of tick labels and axis descriptions.
const LABEL_FONT: (&str, u32) = ("sans-serif", 15);

/// `base + step × count` pixels, saturating (a plot of millions of rows is large, not
/// a panic).
fn pixels(base: u32, step: u32, count: usize) -> u32 {
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    base.saturating_add(step.saturating_mul(count))
}

/// Formats a tick label of a count or index axis.
fn whole(x: &f64) -> String {
    format!("{x:.0}")
}

/// The font of panel captions.
const CAPTION_FONT: (&str, u32) = ("sans-serif", 17);

fn chain_colour(chain: usize) -> RGBColor {
    CHAIN_COLOURS[chain % CHAIN_COLOURS.len()]
}

/// Fails unless the posterior has at least one chain with at least one draw.
fn require_draws(posterior: &Posterior) -> Result<()> {
    if posterior.num_chains() == 0 || posterior.num_draws() == 0 {
        return Err(Error::Degenerate(format!(
            "the posterior has {} chains of {} draws: there is nothing to plot",
            posterior.num_chains(),
            posterior.num_draws()
        )));
    }
    Ok(())
}

/// The components that `sites` name (every component when `sites` is empty), each
/// with its draws by chain.
fn components(posterior: &Posterior, sites: &[&str]) -> Result<Vec<Component>> {
    require_draws(posterior)?;
    let names: Vec<String> = if sites.is_empty() {
        posterior.names().to_vec()
    } else {
        let mut names = Vec::new();
        for site in sites {
            names.extend(posterior.site_names(site)?.into_iter().map(str::to_string));
        }
        names
    };
    if names.is_empty() {
        return Err(Error::Degenerate(
            "the posterior has no components to plot".into(),
        ));
    }
    names
        .into_iter()
        .map(|name| {
            let chains = posterior.draws_by_chain(&name)?;
            Ok(Component { name, chains })
        })
        .collect()
}

/// Checks that `path` ends in `.svg`.
fn check_path(path: &Path) -> Result<()> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("svg") => Ok(()),
        Some("png") => Err(Error::InvalidConfig(format!(
            "plots are written as SVG; write `{}` with a `.svg` extension and convert it \
             (`rsvg-convert -o plot.png plot.svg`)",
            path.display()
        ))),
        _ => Err(Error::InvalidConfig(format!(
            "a plot's path must end in `.svg`, got `{}`",
            path.display()
        ))),
    }
}

/// Renders an SVG of `size` pixels with `draw` and writes it to `path`.
fn write_svg(path: &Path, size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> Drawn) -> Result<()> {
    check_path(path)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present())
            .map_err(|e| Error::Io(format!("drawing plot `{}` failed: {e}", path.display())))?;
    }
    std::fs::write(path, svg)
        .map_err(|e| Error::Io(format!("cannot write plot `{}`: {e}", path.display())))
}

/// The finite values' range, widened by 5 % on each side (by 0.5 around a single
/// value; `0..1` when no value is finite).
fn padded_range(values: impl IntoIterator<Item = f64>) -> Range<f64> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return 0.0..1.0;
    }
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.5f64.max(0.05 * lo.abs())
    };
    (lo - pad)..(hi + pad)
}

/// Counts of the finite values in `bins` equal bins over `range` (values outside go to
/// the end bins).
fn histogram(values: impl IntoIterator<Item = f64>, range: &Range<f64>, bins: usize) -> Vec<f64> {
    let mut counts = vec![0.0; bins];
    let width = (range.end - range.start) / bins as f64;
    for v in values.into_iter().filter(|v| v.is_finite()) {
        let bin = ((v - range.start) / width).floor().max(0.0) as usize;
        counts[bin.min(bins - 1)] += 1.0;
    }
    counts
}

/// The number of histogram bins for `n` values: twice Sturges' rule, as ArviZ's rank
/// plot uses, within 5..=50.
fn num_bins(n: usize) -> usize {
    (2.0 * ((n.max(1) as f64).log2() + 1.0))
        .round()
        .clamp(5.0, 50.0) as usize
}

/// The centres of `bins` equal bins over `range`.
fn bin_centres(range: &Range<f64>, bins: usize) -> impl Iterator<Item = f64> + '_ {
    let width = (range.end - range.start) / bins as f64;
    (0..bins).map(move |b| range.start + (b as f64 + 0.5) * width)
}

/// Linear-interpolation quantile (NumPy's default) of sorted finite values; NaN when
/// there are none.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = q * (n - 1) as f64;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// The finite values, sorted.
fn sorted_finite(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_range_handles_constant_and_empty_input() {
        assert_eq!(padded_range([2.0, 2.0]), 1.5..2.5);
        assert_eq!(padded_range([f64::NAN]), 0.0..1.0);
        assert_eq!(padded_range([0.0, 10.0]), -0.5..10.5);
    }

    #[test]
    fn histogram_counts_every_finite_value_once() {
        let counts = histogram([0.0, 0.5, 1.0, 9.99, 10.0, f64::NAN], &(0.0..10.0), 10);
        assert_eq!(counts.iter().sum::<f64>(), 5.0);
        assert_eq!(counts[..2], [2.0, 1.0]);
        assert_eq!(counts[9], 2.0);
    }

    #[test]
    fn sizes_saturate() {
        assert_eq!(pixels(40, 180, 3), 580);
        assert_eq!(pixels(40, 180, usize::MAX), u32::MAX);
    }

    #[test]
    fn quantiles_interpolate_linearly() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&sorted, 0.0), 1.0);
        assert_eq!(quantile_sorted(&sorted, 0.5), 2.5);
        assert_eq!(quantile_sorted(&sorted, 1.0), 4.0);
        assert!(quantile_sorted(&[], 0.5).is_nan());
    }
}
