//! Trace plots: each chain's draws against the draw index, with its marginal histogram.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use tilde_core::Result;
use tilde_samplers::Posterior;

use super::{
    CAPTION_FONT, DIVERGENT, Drawn, LABEL_FONT, TITLE_FONT, bin_centres, chain_colour, components,
    histogram, num_bins, padded_range, pixels, whole, write_svg,
};

/// Writes a trace plot of the components that `sites` name (every component for `&[]`)
/// to `path` (an `.svg` file).
///
/// One row per component: on the right, one line per chain of the draws against the
/// draw index; on the left, each chain's histogram (as a density, drawn as a line over
/// the bin centres), so chains that disagree show as separate curves. Red ticks under
/// the traces mark divergent transitions.
///
/// # Errors
/// [`Error::UnknownName`](crate::Error::UnknownName) for a site the posterior does not
/// hold, [`Error::Degenerate`](crate::Error::Degenerate) for a posterior without draws,
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for a path that does not end
/// in `.svg` and [`Error::Io`](crate::Error::Io) when it cannot be written.
pub fn trace(posterior: &Posterior, sites: &[&str], path: impl AsRef<Path>) -> Result<()> {
    let components = components(posterior, sites)?;
    let divergent: Vec<Vec<usize>> = (0..posterior.num_chains())
        .map(|c| {
            posterior
                .sample_stats(c)
                .iter()
                .enumerate()
                .filter(|(_, s)| s.is_divergent)
                .map(|(i, _)| i)
                .collect()
        })
        .collect();
    let num_draws = posterior.num_draws();
    let row_height = 180;
    let size = (1000, pixels(40, row_height, components.len()));
    write_svg(path.as_ref(), size, |root| {
        let title = format!(
            "trace: {} chains × {num_draws} draws{}",
            posterior.num_chains(),
            match posterior.num_divergences() {
                0 => String::new(),
                n => format!(" ({n} divergent, red ticks)"),
            }
        );
        let body = root.titled(&title, TITLE_FONT)?;
        let rows = body.split_evenly((components.len(), 1));
        for (k, (row, component)) in rows.iter().zip(&components).enumerate() {
            let (left, right) = row.split_horizontally(300);
            let range = padded_range(component.pooled());
            density_panel(&left, &component.name, &component.chains, &range)?;
            trace_panel(
                &right,
                &component.chains,
                &range,
                num_draws,
                &divergent,
                k == 0,
            )?;
        }
        Ok(())
    })
}

/// Each chain's histogram of one component, as a density over the bin centres.
fn density_panel(
    area: &super::Area<'_>,
    name: &str,
    chains: &[Vec<f64>],
    range: &std::ops::Range<f64>,
) -> Drawn {
    let bins = num_bins(chains.first().map_or(0, Vec::len));
    let width = (range.end - range.start) / bins as f64;
    let densities: Vec<Vec<f64>> = chains
        .iter()
        .map(|draws| {
            let counts = histogram(draws.iter().copied(), range, bins);
            let total: f64 = counts.iter().sum::<f64>().max(1.0);
            counts.into_iter().map(|c| c / (total * width)).collect()
        })
        .collect();
    let top = densities
        .iter()
        .flatten()
        .fold(0.0f64, |m, &d| m.max(d))
        .max(f64::MIN_POSITIVE)
        * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(name, CAPTION_FONT)
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d(range.clone(), 0.0..top)?;
    chart
        .configure_mesh()
        .label_style(LABEL_FONT)
        .axis_desc_style(LABEL_FONT)
        .disable_mesh()
        .x_labels(5)
        .y_labels(4)
        .y_desc("density")
        .draw()?;
    for (c, density) in densities.iter().enumerate() {
        let points: Vec<(f64, f64)> = bin_centres(range, bins)
            .zip(density.iter().copied())
            .collect();
        chart.draw_series(std::iter::once(PathElement::new(
            points,
            chain_colour(c).stroke_width(2),
        )))?;
    }
    Ok(())
}

/// The chains' colours as a row of `— chain c` entries in the panel's caption row,
/// right-aligned, so that no entry covers a trace.
fn chain_legend(area: &super::Area<'_>, num_chains: usize) -> Drawn {
    const ENTRY: i32 = 84;
    let (width, _) = area.dim_in_pixel();
    let y = 8 + CAPTION_FONT.1 as i32 / 2;
    let start = width as i32 - 8 - ENTRY * num_chains as i32;
    for c in 0..num_chains {
        let x = start + ENTRY * c as i32;
        let colour = chain_colour(c);
        area.draw(&PathElement::new(
            vec![(x, y), (x + 18, y)],
            colour.stroke_width(3),
        ))?;
        let font = TextStyle::from(LABEL_FONT.into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(format!("chain {c}"), (x + 23, y), font))?;
    }
    Ok(())
}

/// Each chain's draws of one component against the draw index.
fn trace_panel(
    area: &super::Area<'_>,
    chains: &[Vec<f64>],
    range: &std::ops::Range<f64>,
    num_draws: usize,
    divergent: &[Vec<usize>],
    legend: bool,
) -> Drawn {
    let x_end = num_draws.max(2) as f64 - 1.0;
    let mut chart = ChartBuilder::on(area)
        .caption(" ", CAPTION_FONT)
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..x_end, range.clone())?;
    chart
        .configure_mesh()
        .label_style(LABEL_FONT)
        .axis_desc_style(LABEL_FONT)
        .disable_mesh()
        .x_labels(8)
        .y_labels(4)
        .x_label_formatter(&whole)
        .x_desc("draw")
        .draw()?;
    for (c, draws) in chains.iter().enumerate() {
        let points: Vec<(f64, f64)> = draws
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, &v)| (i as f64, v))
            .collect();
        let colour = chain_colour(c);
        chart.draw_series(std::iter::once(PathElement::new(
            points,
            colour.mix(0.7).stroke_width(1),
        )))?;
    }
    let tick = 0.04 * (range.end - range.start);
    let ticks = divergent.iter().flatten().map(|&i| {
        PathElement::new(
            vec![(i as f64, range.start), (i as f64, range.start + tick)],
            DIVERGENT.stroke_width(1),
        )
    });
    chart.draw_series(ticks)?;
    if legend {
        chain_legend(area, chains.len())?;
    }
    Ok(())
}
