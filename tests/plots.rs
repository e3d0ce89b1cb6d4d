//! Diagnostic plots: each is written as well-formed SVG with the marks its data call
//! for (one line per chain and component, one circle per draw and pair, …), and bad
//! input is a `tilde::Error`, not a panic.

use std::path::PathBuf;

use tilde::prelude::*;
use tilde::{Error, Posterior, plots};

#[model]
fn eight_schools_centred(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    let theta = sample!("theta", Normal::new(mu, tau).iid(y.len()));
    for i in 0..y.len() {
        sample!("y[{i}]", Normal::new(theta[i], sigma[i]), obs = y[i]);
    }
}

/// A NUTS posterior of the centred eight schools, which diverges in its funnel.
fn nuts_posterior() -> Posterior {
    let y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
    let sigma = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
    let model = eight_schools_centred(&y, &sigma);
    Mcmc::new(Nuts::default())
        .num_warmup(200)
        .num_samples(200)
        .num_chains(2)
        .seed(3)
        .progress(false)
        .run(&model)
        .expect("eight schools samples")
}

/// `num_chains` chains of `num_draws` draws of `mu`, `theta[0]`, `theta[1]`, made from
/// a fixed low-discrepancy sequence (no energies, no divergences).
fn synthetic(num_chains: usize, num_draws: usize) -> Posterior {
    let names = vec!["mu".into(), "theta[0]".into(), "theta[1]".into()];
    let chains = (0..num_chains)
        .map(|c| {
            (0..num_draws * 3)
                .map(|i| ((i * 7 + c * 13) as f64 * 0.618_033_988_749_895).fract() + c as f64)
                .collect()
        })
        .collect();
    Posterior::from_draws(names, chains).expect("draws are rectangular")
}

/// A fresh directory for one test's files.
fn dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tilde-plots-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The SVG at `path`, checked to be well-formed enough: one `<svg>` root, every shape
/// element closed, every `<text>` closed.
fn read_svg(path: &PathBuf) -> String {
    let svg = std::fs::read_to_string(path).expect("the plot was written");
    assert!(
        svg.starts_with("<svg"),
        "{} does not start with <svg",
        path.display()
    );
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "{} is not closed",
        path.display()
    );
    assert_eq!(svg.matches("<svg").count(), 1);
    for shape in ["<polyline", "<circle", "<rect", "<line", "<polygon"] {
        for element in svg.split(shape).skip(1) {
            let end = element.find('>').expect("element ends");
            assert!(element[..end].ends_with('/'), "{shape} not self-closed");
        }
    }
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    svg
}

fn count(svg: &str, tag: &str) -> usize {
    svg.matches(tag).count()
}

/// The number of `tag` elements whose `attribute` is `colour`, i.e. data marks and
/// legend swatches (axes and ticks are black).
fn count_coloured(svg: &str, tag: &str, attribute: &str, colour: &str) -> usize {
    let needle = format!("{attribute}=\"{colour}\"");
    svg.split(tag)
        .skip(1)
        .filter(|element| element[..element.find('>').unwrap_or(0)].contains(&needle))
        .count()
}

/// The number of `<polyline>`s that are not black: data lines and legend lines.
fn data_lines(svg: &str) -> usize {
    count(svg, "<polyline") - count_coloured(svg, "<polyline", "stroke", "#000000")
}

/// Whether the SVG has a `<text>` element reading `label`.
fn has_text(svg: &str, label: &str) -> Option<usize> {
    svg.find(&format!(">\n{label}\n</text>"))
}

#[test]
fn trace_draws_one_line_per_chain_and_component_in_both_panels() {
    let dir = dir("trace");
    let path = dir.join("trace.svg");
    plots::trace(&synthetic(3, 100), &["mu", "theta"], &path).unwrap();
    let svg = read_svg(&path);
    // 3 components × 3 chains × (trace + density), 3 legend lines (above the first
    // trace panel, not over it)
    assert_eq!(data_lines(&svg), 3 * 3 * 2 + 3);
    for chain in ["#1F77B4", "#FF7F0E", "#2CA02C"] {
        assert_eq!(
            count_coloured(&svg, "<polyline", "stroke", chain),
            3 * 2 + 1
        );
    }
    for label in ["chain 2", "mu", "theta[0]", "theta[1]", "draw"] {
        assert!(has_text(&svg, label).is_some(), "no label {label}");
    }
    // a site's element alone
    plots::trace(&synthetic(2, 50), &["theta[1]"], &path).unwrap();
    assert_eq!(data_lines(&read_svg(&path)), 2 * 2 + 2);
}

#[test]
fn rank_draws_one_histogram_per_chain_and_component() {
    let dir = dir("rank");
    let path = dir.join("rank.svg");
    let posterior = synthetic(4, 100);
    plots::rank(&posterior, &["theta"], &path).unwrap();
    let svg = read_svg(&path);
    let bins = 15; // twice Sturges' rule: 2 × (log2 100 + 1) = 15.3
    // one background rect, then the bars of 2 components × 4 chains, in the chain's colour
    assert_eq!(count(&svg, "<rect"), 1 + 2 * 4 * bins);
    assert_eq!(count_coloured(&svg, "<rect", "fill", "#D62728"), 2 * bins);
    // the dashed uniform line: black dashes in every panel, none of them an axis
    assert!(count(&svg, "<polyline") > 2 * 4 * 8);
    assert!(has_text(&svg, "theta[0] · chain 3").is_some());
}

#[test]
fn energy_plots_both_histograms_and_every_chains_e_bfmi() {
    let dir = dir("energy");
    let path = dir.join("energy.svg");
    let posterior = nuts_posterior();
    plots::energy(&posterior, &path).unwrap();
    let svg = read_svg(&path);
    // 40 bars and a legend swatch in each colour
    assert_eq!(count_coloured(&svg, "<rect", "fill", "#1F77B4"), 40 + 1);
    assert_eq!(count_coloured(&svg, "<rect", "fill", "#FF7F0E"), 40 + 1);
    for b in posterior.e_bfmi() {
        assert!(svg.contains(&format!("{b:.2}")), "E-BFMI {b:.2} not shown");
    }
    assert!(svg.contains("marginal energy") && svg.contains("energy transition"));
}

#[test]
fn energy_needs_draws_with_energies() {
    let path = dir("energy-none").join("energy.svg");
    let err = plots::energy(&synthetic(2, 10), &path).unwrap_err();
    assert!(matches!(err, Error::Degenerate(_)), "{err}");
    assert!(!path.exists());
}

#[test]
fn pair_draws_every_draw_in_every_lower_panel_and_marks_divergences() {
    let dir = dir("pair");
    let path = dir.join("pair.svg");
    let posterior = synthetic(2, 100);
    plots::pair(&posterior, &[], &path).unwrap();
    let svg = read_svg(&path);
    // 3 components: 3 panels below the diagonal, 200 draws each
    assert_eq!(count(&svg, "<circle"), 3 * 200);

    let posterior = nuts_posterior();
    let divergent = posterior.num_divergences();
    assert!(divergent > 0, "the centred eight schools should diverge");
    plots::pair(&posterior, &["mu", "tau"], &path).unwrap();
    let svg = read_svg(&path);
    assert_eq!(count(&svg, "<circle"), 400);
    // the divergent draws are drawn in the divergence colour
    assert_eq!(count(&svg, "fill=\"#D62728\""), divergent);
    assert!(svg.contains(&format!("{divergent} divergent")));
}

#[test]
fn pair_thins_many_draws_to_a_thousand_points_per_panel() {
    let path = dir("pair-thin").join("pair.svg");
    // 2 chains × 2000 draws: every 4th of the 4000 non-divergent draws is drawn
    plots::pair(&synthetic(2, 2000), &["mu", "theta[0]"], &path).unwrap();
    let svg = read_svg(&path);
    assert_eq!(count(&svg, "<circle"), 1000);
    assert!(svg.contains("1 in 4 non-divergent drawn"));
    let bytes = std::fs::metadata(&path).unwrap().len();
    assert!(bytes < 250_000, "{bytes} bytes");
}

#[test]
fn pair_needs_two_to_twelve_components() {
    let path = dir("pair-one").join("pair.svg");
    let err = plots::pair(&synthetic(2, 10), &["mu"], &path).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)), "{err}");
    assert!(
        err.to_string().contains("2 to 12 components, got 1 (mu)"),
        "{err}"
    );
    let names: Vec<String> = (0..13).map(|i| format!("x[{i}]")).collect();
    let wide = Posterior::from_draws(names, vec![vec![0.5; 13 * 4]]).unwrap();
    assert!(matches!(
        plots::pair(&wide, &["x"], &path),
        Err(Error::InvalidConfig(_))
    ));
}

#[test]
fn forest_draws_one_row_per_component_or_per_chain() {
    let dir = dir("forest");
    let path = dir.join("forest.svg");
    let posterior = synthetic(4, 100);
    plots::forest(&posterior, &["theta", "mu"], &path).unwrap();
    let svg = read_svg(&path);
    // per row: a 94 % and a 50 % bar, a white and an outlined circle at the mean
    assert_eq!(count(&svg, "<circle"), 3 * 2);
    assert_eq!(data_lines(&svg), 3 * 2);
    // the rows are labelled in the order named
    let theta = has_text(&svg, "theta[0]").expect("label theta[0]");
    let mu = has_text(&svg, "mu").expect("label mu");
    assert!(theta < mu);

    plots::forest_by_chain(&posterior, &["theta", "mu"], &path).unwrap();
    let svg = read_svg(&path);
    assert_eq!(count(&svg, "<circle"), 3 * 4 * 2);
    assert_eq!(data_lines(&svg), 3 * 4 * 2);
    // the component's label on its first chain's row only
    assert_eq!(svg.matches(">\ntheta[1]\n</text>").count(), 1);
}

#[test]
fn elbo_trace_is_drawn_and_needs_a_finite_value() {
    let dir = dir("elbo");
    let path = dir.join("elbo.svg");
    let trace: Vec<f64> = (1..=400).map(|s| -20.0 - 500.0 / s as f64).collect();
    plots::elbo(&trace, &path).unwrap();
    let svg = read_svg(&path);
    // the estimates, the running mean, two legend lines
    assert_eq!(data_lines(&svg), 4);
    assert!(svg.contains("400 steps"));
    let err = plots::elbo(&[f64::NAN, f64::INFINITY], &path).unwrap_err();
    assert!(matches!(err, Error::Degenerate(_)), "{err}");
    assert!(matches!(plots::elbo(&[], &path), Err(Error::Degenerate(_))));
}

#[test]
fn unknown_names_are_errors_that_list_the_names() {
    let path = dir("unknown").join("plot.svg");
    let posterior = synthetic(2, 10);
    type Plot = fn(&Posterior, &[&str], &PathBuf) -> tilde::Result<()>;
    let calls: [Plot; 5] = [
        |p, s, f| plots::trace(p, s, f),
        |p, s, f| plots::rank(p, s, f),
        |p, s, f| plots::pair(p, s, f),
        |p, s, f| plots::forest(p, s, f),
        |p, s, f| plots::forest_by_chain(p, s, f),
    ];
    for call in calls {
        let err = call(&posterior, &["mu", "sigma"], &path).unwrap_err();
        match &err {
            Error::UnknownName { name, known } => {
                assert_eq!(name, "sigma");
                assert_eq!(known.len(), 3);
            }
            other => panic!("expected UnknownName, got {other}"),
        }
        assert!(!path.exists());
    }
}

#[test]
fn empty_posteriors_are_errors() {
    let path = dir("empty").join("plot.svg");
    let no_chains = Posterior::from_draws(vec!["mu".into()], vec![]).unwrap();
    let no_draws = Posterior::from_draws(vec!["mu".into()], vec![vec![], vec![]]).unwrap();
    for posterior in [&no_chains, &no_draws] {
        for result in [
            plots::trace(posterior, &["mu"], &path),
            plots::rank(posterior, &[], &path),
            plots::energy(posterior, &path),
            plots::pair(posterior, &[], &path),
            plots::forest(posterior, &["mu"], &path),
            plots::forest_by_chain(posterior, &["mu"], &path),
        ] {
            let err = result.unwrap_err();
            assert!(matches!(err, Error::Degenerate(_)), "{err}");
        }
    }
    let nameless = Posterior::from_draws(vec![], vec![vec![]]).unwrap();
    assert!(plots::trace(&nameless, &[], &path).is_err());
}

#[test]
fn bad_paths_are_errors() {
    let posterior = synthetic(2, 10);
    let missing_dir = dir("paths").join("no such dir").join("trace.svg");
    let err = plots::trace(&posterior, &["mu"], &missing_dir).unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err}");
    assert!(err.to_string().contains("trace.svg"), "{err}");

    // a directory is not a file
    let as_dir = dir("paths-dir2");
    let target = as_dir.join("taken.svg");
    std::fs::create_dir_all(&target).unwrap();
    assert!(matches!(
        plots::forest(&posterior, &["mu"], &target),
        Err(Error::Io(_))
    ));

    let png = dir("paths-png").join("trace.png");
    let err = plots::trace(&posterior, &["mu"], &png).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)), "{err}");
    assert!(err.to_string().contains("rsvg-convert"), "{err}");
    for bad in ["trace", "trace.pdf"] {
        let err = plots::trace(&posterior, &["mu"], dir("paths-ext").join(bad)).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig(_)), "{err}");
    }
}
