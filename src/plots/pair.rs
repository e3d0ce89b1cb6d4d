//! Pair plots: scatter plots of components against each other, divergences marked.

use std::path::Path;

use plotters::prelude::*;
use tilde_core::{Error, Result};
use tilde_samplers::Posterior;

use super::{
    CAPTION_FONT, Component, DIVERGENT, Drawn, LABEL_FONT, POOLED, TITLE_FONT, components,
    histogram, num_bins, padded_range, pixels, whole, write_svg,
};

/// The most components a pair plot draws (`n²` panels).
const MAX_COMPONENTS: usize = 12;

/// The most non-divergent draws a scatter panel draws: more are thinned evenly (every
/// divergent draw is always drawn), which bounds the file at about 0.1 MB per panel.
const MAX_POINTS: usize = 1000;

/// The stride that thins `n` draws to at most [`MAX_POINTS`].
fn stride(n: usize) -> usize {
    n.div_ceil(MAX_POINTS).max(1)
}

/// Writes a pair plot of the components that `sites` name (every component for `&[]`;
/// two to 12 components) to `path` (an `.svg` file).
///
/// Below the diagonal, every pair of components as a scatter plot of all chains'
/// draws: the draws of divergent transitions are red and drawn on top, so a funnel
/// or a ridge where the sampler diverges shows where to reparameterise. On the
/// diagonal, each component's histogram. Each drawn point is one SVG circle, so past
/// 1000 draws the non-divergent ones are thinned evenly to 1000 per panel (the title
/// says so); the histograms use every draw.
///
/// # Errors
/// [`Error::InvalidConfig`] for fewer than two or more than 12 components and for a
/// path that does not end in `.svg`; [`Error::UnknownName`] for a site the posterior
/// does not hold, [`Error::Degenerate`] for a posterior without draws and
/// [`Error::Io`] when the file cannot be written.
pub fn pair(posterior: &Posterior, sites: &[&str], path: impl AsRef<Path>) -> Result<()> {
    let components = components(posterior, sites)?;
    let n = components.len();
    if !(2..=MAX_COMPONENTS).contains(&n) {
        return Err(Error::InvalidConfig(format!(
            "a pair plot needs 2 to {MAX_COMPONENTS} components, got {n} ({}); name the \
             sites or elements to pair",
            tilde_core::short_list(&components.iter().map(|c| &c.name).collect::<Vec<_>>())
        )));
    }
    let divergent: Vec<bool> = (0..posterior.num_chains())
        .flat_map(|c| posterior.sample_stats(c).iter().map(|s| s.is_divergent))
        .collect();
    let num_divergent = divergent.iter().filter(|&&d| d).count();
    let cell = 230;
    let size = (pixels(40, cell, n), pixels(40, cell, n));
    write_svg(path.as_ref(), size, |root| {
        let every = stride(divergent.len() - num_divergent);
        let thinned = if every > 1 {
            format!(" (1 in {every} non-divergent drawn)")
        } else {
            String::new()
        };
        let title = format!(
            "pair plot: {} draws{thinned}, {num_divergent} divergent (red)",
            divergent.len()
        );
        let body = root.titled(&title, TITLE_FONT)?;
        let panels = body.split_evenly((n, n));
        for i in 0..n {
            for j in 0..i + 1 {
                let area = &panels[i * n + j];
                let x_desc = if i == n - 1 {
                    components[j].name.as_str()
                } else {
                    ""
                };
                if i == j {
                    diagonal_panel(area, &components[i], x_desc, i == 0)?;
                } else {
                    let y_desc = if j == 0 {
                        components[i].name.as_str()
                    } else {
                        ""
                    };
                    scatter_panel(
                        area,
                        &components[j],
                        &components[i],
                        &divergent,
                        x_desc,
                        y_desc,
                    )?;
                }
            }
        }
        Ok(())
    })
}

/// One component's histogram, pooled over chains.
fn diagonal_panel(
    area: &super::Area<'_>,
    component: &Component,
    x_desc: &str,
    first_column: bool,
) -> Drawn {
    let range = padded_range(component.pooled());
    let bins = num_bins(component.chains.first().map_or(0, Vec::len));
    let counts = histogram(component.pooled(), &range, bins);
    let top = counts.iter().fold(1.0f64, |m, &c| m.max(c)) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(&component.name, CAPTION_FONT)
        .margin(6)
        .x_label_area_size(if x_desc.is_empty() { 22 } else { 38 })
        .y_label_area_size(if first_column { 58 } else { 44 })
        .build_cartesian_2d(range.clone(), 0.0..top)?;
    chart
        .configure_mesh()
        .label_style(LABEL_FONT)
        .axis_desc_style(LABEL_FONT)
        .disable_mesh()
        .x_labels(4)
        .y_labels(3)
        .y_label_formatter(&whole)
        .x_desc(x_desc)
        .draw()?;
    let width = (range.end - range.start) / bins as f64;
    chart.draw_series(counts.iter().enumerate().map(|(b, &count)| {
        let x0 = range.start + b as f64 * width;
        Rectangle::new([(x0, 0.0), (x0 + width, count)], POOLED.mix(0.6).filled())
    }))?;
    Ok(())
}

/// The draws of `y` against those of `x`, divergent draws in red on top.
fn scatter_panel(
    area: &super::Area<'_>,
    x: &Component,
    y: &Component,
    divergent: &[bool],
    x_desc: &str,
    y_desc: &str,
) -> Drawn {
    let mut chart = ChartBuilder::on(area)
        .margin(6)
        .x_label_area_size(if x_desc.is_empty() { 22 } else { 38 })
        .y_label_area_size(if y_desc.is_empty() { 44 } else { 58 })
        .build_cartesian_2d(padded_range(x.pooled()), padded_range(y.pooled()))?;
    chart
        .configure_mesh()
        .label_style(LABEL_FONT)
        .axis_desc_style(LABEL_FONT)
        .disable_mesh()
        .x_labels(4)
        .y_labels(4)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()?;
    let points: Vec<(f64, f64, bool)> = x
        .pooled()
        .zip(y.pooled())
        .zip(divergent.iter().copied().chain(std::iter::repeat(false)))
        .filter(|((a, b), _)| a.is_finite() && b.is_finite())
        .map(|((a, b), d)| (a, b, d))
        .collect();
    let every = stride(points.iter().filter(|p| !p.2).count());
    chart.draw_series(
        points
            .iter()
            .filter(|p| !p.2)
            .step_by(every)
            .map(|&(a, b, _)| Circle::new((a, b), 2, POOLED.mix(0.25).filled())),
    )?;
    chart.draw_series(
        points
            .iter()
            .filter(|p| p.2)
            .map(|&(a, b, _)| Circle::new((a, b), 3, DIVERGENT.mix(0.9).filled())),
    )?;
    Ok(())
}
