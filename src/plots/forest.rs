//! Forest plots: each component's mean and central intervals, one row each.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use tilde_core::Result;
use tilde_samplers::Posterior;

use super::{
    Component, LABEL_FONT, POOLED, TITLE_FONT, chain_colour, components, padded_range, pixels,
    quantile_sorted, sorted_finite, write_svg,
};

/// Writes a forest plot of the components that `sites` name (every component for
/// `&[]`), all chains pooled, to `path` (an `.svg` file).
///
/// One row per component, top to bottom in the order named: a dot at the mean, a thick
/// bar over the central 50 % interval (25 %–75 % quantiles) and a thin one over the
/// central 94 % interval (3 %–97 %), ArviZ's defaults (with equal-tailed intervals in
/// place of ArviZ's HDI). [`forest_by_chain`] draws one row per chain instead.
///
/// # Errors
/// [`Error::UnknownName`](crate::Error::UnknownName) for a site the posterior does not
/// hold, [`Error::Degenerate`](crate::Error::Degenerate) for a posterior without draws,
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for a path that does not end
/// in `.svg` and [`Error::Io`](crate::Error::Io) when it cannot be written.
pub fn forest(posterior: &Posterior, sites: &[&str], path: impl AsRef<Path>) -> Result<()> {
    let components = components(posterior, sites)?;
    let rows = components
        .iter()
        .map(|c| Row::new(c.name.clone(), c.pooled(), POOLED))
        .collect();
    draw(rows, path.as_ref(), "forest plot (all chains)")
}

/// Writes a forest plot with one row per chain of every component that `sites` name
/// (every component for `&[]`), coloured by chain, to `path` (an `.svg` file): chains
/// whose intervals disagree have not mixed.
///
/// The marks are those of [`forest`]: mean, 50 % and 94 % central intervals.
///
/// # Errors
/// As [`forest`].
pub fn forest_by_chain(
    posterior: &Posterior,
    sites: &[&str],
    path: impl AsRef<Path>,
) -> Result<()> {
    let components = components(posterior, sites)?;
    let rows = components
        .iter()
        .flat_map(|component: &Component| {
            component.chains.iter().enumerate().map(|(c, draws)| {
                let label = if c == 0 {
                    component.name.clone()
                } else {
                    String::new()
                };
                Row::new(label, draws.iter().copied(), chain_colour(c))
            })
        })
        .collect();
    let title = format!(
        "forest plot by chain (chains 0–{} top to bottom)",
        posterior.num_chains() - 1
    );
    draw(rows, path.as_ref(), &title)
}

/// One row of a forest plot: the label and the marks of one set of draws.
struct Row {
    label: String,
    mean: f64,
    /// 3 %, 25 %, 75 % and 97 % quantiles.
    quantiles: [f64; 4],
    colour: RGBColor,
}

impl Row {
    fn new(label: String, draws: impl IntoIterator<Item = f64>, colour: RGBColor) -> Row {
        let sorted = sorted_finite(draws);
        let mean = if sorted.is_empty() {
            f64::NAN
        } else {
            sorted.iter().sum::<f64>() / sorted.len() as f64
        };
        let quantiles = [0.03, 0.25, 0.75, 0.97].map(|q| quantile_sorted(&sorted, q));
        Row {
            label,
            mean,
            quantiles,
            colour,
        }
    }
}

fn draw(rows: Vec<Row>, path: &Path, title: &str) -> Result<()> {
    let range = padded_range(rows.iter().flat_map(|r| r.quantiles));
    let label_width = pixels(
        20,
        8,
        rows.iter()
            .map(|r| r.label.chars().count())
            .max()
            .unwrap_or(0),
    );
    let row_height = 24;
    let size = (
        label_width.saturating_add(760),
        pixels(110, row_height, rows.len()),
    );
    let n = rows.len() as f64;
    write_svg(path, size, |root| {
        let body = root.titled(title, TITLE_FONT)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(label_width)
            .build_cartesian_2d(range.clone(), -0.5..n - 0.5)?;
        chart
            .configure_mesh()
            .label_style(LABEL_FONT)
            .axis_desc_style(LABEL_FONT)
            .disable_y_mesh()
            .x_labels(8)
            .y_labels(0)
            .light_line_style(BLACK.mix(0.05))
            .bold_line_style(BLACK.mix(0.1))
            .x_desc("value: dot = mean, thick = 50 %, thin = 94 % central interval")
            .draw()?;
        // the first row on top
        let y = |k: usize| n - 1.0 - k as f64;
        for (k, row) in rows.iter().enumerate() {
            let [q3, q25, q75, q97] = row.quantiles;
            chart.draw_series([
                PathElement::new(vec![(q3, y(k)), (q97, y(k))], row.colour.stroke_width(2)),
                PathElement::new(vec![(q25, y(k)), (q75, y(k))], row.colour.stroke_width(6)),
            ])?;
            chart.draw_series(std::iter::once(Circle::new(
                (row.mean, y(k)),
                5,
                WHITE.filled(),
            )))?;
            chart.draw_series(std::iter::once(Circle::new(
                (row.mean, y(k)),
                5,
                row.colour.stroke_width(2),
            )))?;
        }
        let label_style = ("sans-serif", 14)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (k, row) in rows.iter().enumerate() {
            let (_, py) = chart.backend_coord(&(range.start, y(k)));
            let (px, _) = chart.backend_coord(&(range.start, 0.0));
            root.draw_text(&row.label, &label_style, (px - 8, py))?;
        }
        Ok(())
    })
}
