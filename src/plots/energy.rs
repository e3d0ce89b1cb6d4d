//! Energy plots: the marginal energy against the energy transitions, and E-BFMI.

use std::path::Path;

use plotters::prelude::*;
use tilde_core::{Error, Result};
use tilde_samplers::Posterior;

use super::{
    CHAIN_COLOURS, LABEL_FONT, TITLE_FONT, bin_centres, histogram, padded_range, require_draws,
    write_svg,
};

/// Writes the energy plot of an HMC or NUTS run to `path` (an `.svg` file).
///
/// Two histograms, as densities over shared bins: the marginal energy `E − mean(E)`
/// (all chains pooled) and the energy transitions `E[n] − E[n−1]` within each chain.
/// When the transition histogram is much narrower than the marginal one, the momentum
/// resampling cannot move the chain through the energy levels quickly and the tails are
/// explored slowly (Betancourt 2016, "Diagnosing suboptimal cotangent disintegrations in
/// Hamiltonian Monte Carlo"). The title gives each chain's E-BFMI
/// ([`Posterior::e_bfmi`]); values below 0.3 are flagged.
///
/// Unlike the other plots it takes no site names: the energy belongs to the whole
/// draw.
///
/// # Errors
/// [`Error::Degenerate`] for a posterior without draws or whose draws carry no
/// finite energy (draws made by [`Posterior::from_draws`], or by a kernel without one),
/// [`Error::InvalidConfig`] for a path that does not end in `.svg` and [`Error::Io`]
/// when it cannot be written.
pub fn energy(posterior: &Posterior, path: impl AsRef<Path>) -> Result<()> {
    require_draws(posterior)?;
    let energies: Vec<Vec<f64>> = (0..posterior.num_chains())
        .map(|c| posterior.sample_stats(c).iter().map(|s| s.energy).collect())
        .collect();
    let finite: Vec<f64> = energies
        .iter()
        .flatten()
        .copied()
        .filter(|e| e.is_finite())
        .collect();
    if finite.len() < 2 {
        return Err(Error::Degenerate(
            "the draws carry no energies (they were not made by HMC or NUTS): \
             there is no energy plot"
                .into(),
        ));
    }
    let mean = finite.iter().sum::<f64>() / finite.len() as f64;
    let marginal: Vec<f64> = finite.iter().map(|e| e - mean).collect();
    let transitions: Vec<f64> = energies
        .iter()
        .flat_map(|chain| chain.windows(2).map(|w| w[1] - w[0]))
        .filter(|d| d.is_finite())
        .collect();
    let e_bfmi = posterior.e_bfmi();
    let low = e_bfmi.iter().any(|&b| b < 0.3);
    let title = format!(
        "energy · E-BFMI by chain: {}{}",
        e_bfmi
            .iter()
            .map(|b| format!("{b:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        if low { " (below 0.3: poor)" } else { "" }
    );

    let range = padded_range(marginal.iter().chain(&transitions).copied());
    let bins = 40;
    let width = (range.end - range.start) / bins as f64;
    let density = |values: &[f64]| -> Vec<f64> {
        let counts = histogram(values.iter().copied(), &range, bins);
        let total = (values.len() as f64).max(1.0);
        counts.into_iter().map(|c| c / (total * width)).collect()
    };
    let series = [
        ("marginal energy", density(&marginal), CHAIN_COLOURS[0]),
        ("energy transition", density(&transitions), CHAIN_COLOURS[1]),
    ];
    let top = series
        .iter()
        .flat_map(|(_, d, _)| d)
        .fold(f64::MIN_POSITIVE, |m, &d| m.max(d))
        * 1.1;

    write_svg(path.as_ref(), (800, 520), |root| {
        let body = root.titled(&title, TITLE_FONT)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(range.clone(), 0.0..top)?;
        chart
            .configure_mesh()
            .label_style(LABEL_FONT)
            .axis_desc_style(LABEL_FONT)
            .disable_mesh()
            .x_desc("energy − mean energy, or energy change")
            .y_desc("density")
            .draw()?;
        for (label, density, colour) in &series {
            let colour = *colour;
            chart
                .draw_series(bin_centres(&range, bins).zip(density).map(|(x, &d)| {
                    Rectangle::new(
                        [(x - 0.5 * width, 0.0), (x + 0.5 * width, d)],
                        colour.mix(0.45).filled(),
                    )
                }))?
                .label(*label)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .label_font(LABEL_FONT)
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()?;
        Ok(())
    })
}
