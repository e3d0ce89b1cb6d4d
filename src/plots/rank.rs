//! Rank plots (ArviZ's `plot_rank`): per chain, the histogram of the pooled draws' ranks.

use std::path::Path;

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use tilde_core::Result;
use tilde_samplers::Posterior;

use super::{
    CAPTION_FONT, Drawn, LABEL_FONT, TITLE_FONT, chain_colour, components, num_bins, pixels, whole,
    write_svg,
};

/// Writes a rank plot of the components that `sites` name (every component for `&[]`)
/// to `path` (an `.svg` file).
///
/// The draws of all chains are ranked together (ties get their average rank); each
/// chain's ranks are then histogrammed, one panel per chain and one row per component.
/// When the chains sample the same distribution every histogram is near uniform, and
/// the dashed line marks the uniform count; a chain stuck in one region shows as a
/// histogram piled at one end (Vehtari, Gelman, Simpson, Carpenter and Bürkner 2021,
/// "Rank-normalization, folding, and localization").
///
/// # Errors
/// [`Error::UnknownName`](crate::Error::UnknownName) for a site the posterior does not
/// hold, [`Error::Degenerate`](crate::Error::Degenerate) for a posterior without draws,
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for a path that does not end
/// in `.svg` and [`Error::Io`](crate::Error::Io) when it cannot be written.
pub fn rank(posterior: &Posterior, sites: &[&str], path: impl AsRef<Path>) -> Result<()> {
    let components = components(posterior, sites)?;
    let num_chains = posterior.num_chains();
    let num_draws = posterior.num_draws();
    let bins = num_bins(num_draws);
    let total = num_chains * num_draws;
    let counts: Vec<Vec<Vec<f64>>> = components
        .iter()
        .map(|component| {
            let ranks = pooled_ranks(&component.chains);
            ranks
                .chunks(num_draws)
                .map(|chain| {
                    let mut counts = vec![0.0; bins];
                    for &r in chain {
                        // a rank r in 1..=total falls in bin ⌊(r − ½)·bins/total⌋
                        let bin = ((r - 0.5) * bins as f64 / total as f64).floor().max(0.0);
                        counts[(bin as usize).min(bins - 1)] += 1.0;
                    }
                    counts
                })
                .collect()
        })
        .collect();
    let expected = num_draws as f64 / bins as f64;
    let cell = (220, 160);
    let size = (
        pixels(60, cell.0, num_chains),
        pixels(40, cell.1, components.len()),
    );
    write_svg(path.as_ref(), size, |root| {
        let title = format!("rank plot: {bins} bins of the ranks of all {total} draws");
        let body = root.titled(&title, TITLE_FONT)?;
        let panels = body.split_evenly((components.len(), num_chains));
        for (k, component) in components.iter().enumerate() {
            let top = counts[k].iter().flatten().fold(expected, |m, &c| m.max(c)) * 1.15;
            for c in 0..num_chains {
                let caption = format!("{} · chain {c}", component.name);
                rank_panel(
                    &panels[k * num_chains + c],
                    &caption,
                    &counts[k][c],
                    total as f64,
                    top,
                    expected,
                    c,
                )?;
            }
        }
        Ok(())
    })
}

/// One chain's histogram of ranks, with the uniform count dashed.
fn rank_panel(
    area: &super::Area<'_>,
    caption: &str,
    counts: &[f64],
    total: f64,
    top: f64,
    expected: f64,
    chain: usize,
) -> Drawn {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, CAPTION_FONT)
        .margin(6)
        .margin_right(18)
        .x_label_area_size(24)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..total, 0.0..top)?;
    chart
        .configure_mesh()
        .label_style(LABEL_FONT)
        .axis_desc_style(LABEL_FONT)
        .disable_mesh()
        .x_labels(3)
        .y_labels(4)
        .x_label_formatter(&whole)
        .y_label_formatter(&whole)
        .draw()?;
    let width = total / counts.len() as f64;
    let colour = chain_colour(chain);
    chart.draw_series(counts.iter().enumerate().map(|(b, &count)| {
        let x0 = b as f64 * width;
        Rectangle::new(
            [(x0 + 0.05 * width, 0.0), (x0 + 0.95 * width, count)],
            colour.mix(0.8).filled(),
        )
    }))?;
    chart.draw_series(std::iter::once(DashedPathElement::new(
        vec![(0.0, expected), (total, expected)],
        6,
        4,
        BLACK.stroke_width(1),
    )))?;
    Ok(())
}

/// The ranks (1-based; ties get their average) of every draw among all chains' draws,
/// chain after chain.
fn pooled_ranks(chains: &[Vec<f64>]) -> Vec<f64> {
    let values: Vec<f64> = chains.iter().flatten().copied().collect();
    crate::samplers::diagnostics::average_ranks(&values)
}

#[cfg(test)]
mod tests {
    use super::pooled_ranks;

    #[test]
    fn ties_share_their_average_rank() {
        let ranks = pooled_ranks(&[vec![3.0, 1.0], vec![3.0, 2.0]]);
        assert_eq!(ranks, [3.5, 1.0, 3.5, 2.0]);
    }
}
