//! The ELBO trace of a variational fit.

use std::path::Path;

use plotters::prelude::*;
use tilde_core::{Error, Result};

use super::{CHAIN_COLOURS, LABEL_FONT, TITLE_FONT, padded_range, whole, write_svg};

/// Writes the trace of a variational fit's ELBO estimates (one per optimisation step,
/// as `SviResult::elbo_trace` gives them) to `path` (an `.svg` file).
///
/// Each step's estimate is a thin line, and a centred running mean over 2 % of the steps
/// a thick one. The ELBO of the first steps is often far below the rest; the vertical axis
/// spans the steps after the first tenth, and lower values are drawn at its bottom
/// edge, so the converged part stays readable. Non-finite estimates are left out.
///
/// ```
/// let trace: Vec<f64> = (1..=500).map(|step| -10.0 - 100.0 / step as f64).collect();
/// tilde::plots::elbo(&trace, std::env::temp_dir().join("elbo.svg"))?;
/// # Ok::<(), tilde::Error>(())
/// ```
///
/// # Errors
/// [`Error::Degenerate`] when no estimate is finite,
/// [`Error::InvalidConfig`] for a path that does not end in `.svg` and [`Error::Io`]
/// when it cannot be written.
pub fn elbo(elbo_trace: &[f64], path: impl AsRef<Path>) -> Result<()> {
    let points: Vec<(f64, f64)> = elbo_trace
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, &v)| (i as f64, v))
        .collect();
    if points.is_empty() {
        return Err(Error::Degenerate(format!(
            "none of the {} ELBO estimates is finite: there is nothing to plot",
            elbo_trace.len()
        )));
    }
    let skip = if points.len() >= 20 {
        points.len() / 10
    } else {
        0
    };
    let y_range = padded_range(points[skip..].iter().map(|p| p.1));
    let clamped: Vec<(f64, f64)> = points
        .iter()
        .map(|&(x, y)| (x, y.clamp(y_range.start, y_range.end)))
        .collect();
    let window = (points.len() / 50).max(1);
    let running: Vec<(f64, f64)> = points
        .windows(window)
        .map(|w| {
            let mean = w.iter().map(|p| p.1).sum::<f64>() / window as f64;
            (w[window / 2].0, mean.clamp(y_range.start, y_range.end))
        })
        .collect();
    let last = running.last().map_or(f64::NAN, |p| p.1);
    let x_end = (elbo_trace.len().max(2) - 1) as f64;
    write_svg(path.as_ref(), (900, 480), |root| {
        let title = format!(
            "ELBO trace: {} steps, running mean at the end {last:.4}",
            elbo_trace.len()
        );
        let body = root.titled(&title, TITLE_FONT)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_end, y_range.clone())?;
        chart
            .configure_mesh()
            .label_style(LABEL_FONT)
            .axis_desc_style(LABEL_FONT)
            .light_line_style(BLACK.mix(0.05))
            .bold_line_style(BLACK.mix(0.1))
            .x_label_formatter(&whole)
            .x_desc("step")
            .y_desc("ELBO")
            .draw()?;
        let colour = CHAIN_COLOURS[0];
        chart
            .draw_series(std::iter::once(PathElement::new(
                clamped,
                colour.mix(0.35).stroke_width(1),
            )))?
            .label("estimate per step")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour.mix(0.35)));
        let dark = CHAIN_COLOURS[1];
        chart
            .draw_series(std::iter::once(PathElement::new(
                running,
                dark.stroke_width(2),
            )))?
            .label(format!("running mean over {window} steps"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], dark.stroke_width(2))
            });
        chart
            .configure_series_labels()
            .label_font(LABEL_FONT)
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()?;
        Ok(())
    })
}
