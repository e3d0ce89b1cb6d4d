//! Mean-field Gaussian guides.

use tilde_core::{Layout, Result};

use crate::guide::{DiagonalGaussian, Guide, check_scale};

/// The [`Guide`] methods both mean-field guides pass to their `DiagonalGaussian`.
macro_rules! delegate_to_gaussian {
    () => {
        fn params(&self) -> &[f64] {
            &self.gaussian.params
        }

        fn params_mut(&mut self) -> &mut [f64] {
            &mut self.gaussian.params
        }

        fn noise_dim(&self) -> usize {
            self.gaussian.coords.len()
        }

        fn sample(&mut self, noise: &[f64], z: &mut [f64]) -> f64 {
            self.gaussian.sample(noise, z)
        }

        fn backward(&mut self, noise: &[f64], grad_z: &[f64], grad: &mut [f64]) {
            self.gaussian.backward(noise, grad_z, grad);
        }

        fn marginal_quantiles(&mut self, qs: &[f64], out: &mut [Vec<f64>]) {
            self.gaussian.marginal_quantiles(qs, out);
        }

        fn coords(&self) -> &[usize] {
            &self.gaussian.coords
        }

        fn clone_box(&self) -> Box<dyn Guide> {
            Box::new(self.clone())
        }
    };
}

/// A mean-field Gaussian with one location and scale per site (NumPyro's `AutoNormal`):
/// `z = loc + softplus(ρ) ⊙ ε` in unconstrained space, parameters kept site by site so
/// that [`loc`](Self::loc) and [`scale`](Self::scale) read them by name.
///
/// It finds the marginal means well and, as every mean-field family, underestimates
/// marginal variances when the posterior is correlated (for a Gaussian posterior its
/// variances are `1 / (Σ⁻¹)ᵢᵢ ≤ Σᵢᵢ`).
///
/// # Example
/// ```
/// use tilde_vi::{Adam, AutoNormal, Schedule, Svi};
/// # use tilde_core::LogDensity;
/// # use tilde_samplers::Unconstrained;
/// # struct Gauss;
/// # impl LogDensity for Gauss {
/// #     fn dim(&self) -> usize { 1 }
/// #     fn logp(&self, x: &[f64]) -> f64 { -0.5 * ((x[0] - 1.0) / 0.5).powi(2) }
/// #     fn logp_and_grad(&self, x: &[f64], g: &mut [f64]) -> f64 { g[0] = -(x[0] - 1.0) / 0.25; self.logp(x) }
/// # }
/// let model = Unconstrained::new(Gauss); // N(1, 0.5²)
/// let adam = Adam::new(0.05).schedule(Schedule::Cosine { steps: 3000, floor: 0.01 });
/// let fit = Svi::new(AutoNormal::new(), adam).num_steps(3000).seed(1).progress(false).run(&model)?;
/// assert!((fit.guide().loc("x").unwrap()[0] - 1.0).abs() < 0.1);
/// assert!((fit.guide().scale("x").unwrap()[0] - 0.5).abs() < 0.05);
/// # Ok::<(), tilde_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct AutoNormal {
    init_scale: f64,
    gaussian: DiagonalGaussian,
    /// Site name and the range of its coordinates within the guide's.
    sites: Vec<(String, std::ops::Range<usize>)>,
}

impl Default for AutoNormal {
    fn default() -> Self {
        AutoNormal::new()
    }
}

impl AutoNormal {
    /// A mean-field guide with initial scale 0.1 (NumPyro's default).
    pub fn new() -> Self {
        AutoNormal {
            init_scale: 0.1,
            gaussian: DiagonalGaussian::default(),
            sites: Vec::new(),
        }
    }

    /// The initial scale of every coordinate.
    pub fn init_scale(mut self, scale: f64) -> Self {
        self.init_scale = scale;
        self
    }

    fn range(&self, site: &str) -> Option<std::ops::Range<usize>> {
        self.sites
            .iter()
            .find(|(name, _)| name == site)
            .map(|(_, r)| r.clone())
    }

    /// The unconstrained locations of a site's coordinates.
    pub fn loc(&self, site: &str) -> Option<&[f64]> {
        self.range(site).map(|r| &self.gaussian.loc()[r])
    }

    /// The unconstrained scales of a site's coordinates.
    pub fn scale(&self, site: &str) -> Option<Vec<f64>> {
        self.range(site)
            .map(|r| r.map(|i| self.gaussian.scale(i)).collect())
    }
}

impl Guide for AutoNormal {
    fn name(&self) -> &'static str {
        "AutoNormal"
    }

    fn setup(&mut self, layout: &Layout, coords: &[usize], start: &[f64]) -> Result<()> {
        check_scale("AutoNormal", self.init_scale)?;
        self.gaussian.setup(coords, start, self.init_scale);
        self.sites.clear();
        for site in layout.latent() {
            let Some(offset) = site.offset else { continue };
            let inside = |c: &usize| (offset..offset + site.num_unconstrained).contains(c);
            if let Some(first) = coords.iter().position(inside) {
                let len = coords[first..].iter().take_while(|c| inside(c)).count();
                self.sites.push((site.name.clone(), first..first + len));
            }
        }
        Ok(())
    }

    delegate_to_gaussian!();
}

/// A diagonal Gaussian over the whole unconstrained vector (NumPyro's
/// `AutoDiagonalNormal`): the same family as [`AutoNormal`], its parameters kept as one
/// location vector and one scale vector ([`loc`](Self::loc), [`scale`](Self::scale)).
#[derive(Clone, Debug)]
pub struct AutoDiagonalNormal {
    init_scale: f64,
    gaussian: DiagonalGaussian,
}

impl Default for AutoDiagonalNormal {
    fn default() -> Self {
        AutoDiagonalNormal::new()
    }
}

impl AutoDiagonalNormal {
    /// A diagonal Gaussian guide with initial scale 0.1.
    pub fn new() -> Self {
        AutoDiagonalNormal {
            init_scale: 0.1,
            gaussian: DiagonalGaussian::default(),
        }
    }

    /// The initial scale of every coordinate.
    pub fn init_scale(mut self, scale: f64) -> Self {
        self.init_scale = scale;
        self
    }

    /// The unconstrained location vector.
    pub fn loc(&self) -> &[f64] {
        self.gaussian.loc()
    }

    /// The unconstrained scale vector.
    pub fn scale(&self) -> Vec<f64> {
        (0..self.gaussian.coords.len())
            .map(|i| self.gaussian.scale(i))
            .collect()
    }
}

impl Guide for AutoDiagonalNormal {
    fn name(&self) -> &'static str {
        "AutoDiagonalNormal"
    }

    fn setup(&mut self, _layout: &Layout, coords: &[usize], start: &[f64]) -> Result<()> {
        check_scale("AutoDiagonalNormal", self.init_scale)?;
        self.gaussian.setup(coords, start, self.init_scale);
        Ok(())
    }

    delegate_to_gaussian!();
}
