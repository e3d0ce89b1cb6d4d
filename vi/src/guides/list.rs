//! Several guides over disjoint sites.

use tilde_core::{Error, Layout, LogDensity, Result};

use crate::guide::Guide;

/// One guide of a list and the sites it covers (`None`: every site left over).
type Part = (Option<Vec<String>>, Box<dyn Guide>);

/// Several guides, each over its own sites (NumPyro's `AutoGuideList`): the joint guide
/// is their product. Useful to give a correlated block a full-rank guide and the rest
/// a mean-field one.
///
/// ```
/// use tilde_vi::{AutoGuideList, AutoMultivariateNormal, AutoNormal};
/// let guide = AutoGuideList::new()
///     .add(&["mu", "tau"], AutoMultivariateNormal::new())
///     .rest(AutoNormal::new());
/// # let _ = guide;
/// ```
pub struct AutoGuideList {
    parts: Vec<Part>,
    coords: Vec<usize>,
    /// Where each part's parameters start in the joint vector, and one past the end.
    bounds: Vec<usize>,
    params: Vec<f64>,
}

impl Clone for AutoGuideList {
    fn clone(&self) -> Self {
        AutoGuideList {
            parts: self
                .parts
                .iter()
                .map(|(s, g)| (s.clone(), g.clone_box()))
                .collect(),
            coords: self.coords.clone(),
            bounds: self.bounds.clone(),
            params: self.params.clone(),
        }
    }
}

impl Default for AutoGuideList {
    fn default() -> Self {
        AutoGuideList::new()
    }
}

impl AutoGuideList {
    /// An empty list.
    pub fn new() -> Self {
        AutoGuideList {
            parts: Vec::new(),
            coords: Vec::new(),
            bounds: Vec::new(),
            params: Vec::new(),
        }
    }

    /// `guide` over the latent sites named in `sites`.
    pub fn add(mut self, sites: &[&str], guide: impl Guide + 'static) -> Self {
        let names = sites.iter().map(|s| s.to_string()).collect();
        self.parts.push((Some(names), Box::new(guide)));
        self
    }

    /// `guide` over every latent site no other guide of the list covers.
    pub fn rest(mut self, guide: impl Guide + 'static) -> Self {
        self.parts.push((None, Box::new(guide)));
        self
    }

    /// The guides, in the order they were added.
    pub fn guides(&self) -> impl Iterator<Item = &dyn Guide> {
        self.parts.iter().map(|(_, g)| g.as_ref())
    }

    /// Copies the joint parameter vector into the parts.
    fn scatter(&mut self) {
        for (k, (_, guide)) in self.parts.iter_mut().enumerate() {
            guide
                .params_mut()
                .copy_from_slice(&self.params[self.bounds[k]..self.bounds[k + 1]]);
        }
    }
}

impl Guide for AutoGuideList {
    fn name(&self) -> &'static str {
        "AutoGuideList"
    }

    fn setup(&mut self, layout: &Layout, coords: &[usize], start: &[f64]) -> Result<()> {
        if self.parts.is_empty() {
            return Err(Error::InvalidConfig("AutoGuideList holds no guide".into()));
        }
        let site_coords = |name: &str| -> Result<Vec<usize>> {
            let site =
                layout
                    .latent()
                    .find(|s| s.name == name)
                    .ok_or_else(|| Error::UnknownName {
                        name: name.to_string(),
                        known: layout.latent().map(|s| s.name.clone()).collect(),
                    })?;
            let offset = site.offset.unwrap_or(0);
            Ok((offset..offset + site.num_unconstrained)
                .filter(|c| coords.contains(c))
                .collect())
        };
        let mut owner: Vec<Option<usize>> = vec![None; start.len()];
        let mut assigned: Vec<Vec<usize>> = vec![Vec::new(); self.parts.len()];
        for (k, (sites, _)) in self.parts.iter().enumerate() {
            for name in sites.iter().flatten() {
                for c in site_coords(name)? {
                    if let Some(other) = owner[c] {
                        return Err(Error::InvalidConfig(format!(
                            "AutoGuideList: site `{name}` is covered by guides {other} and {k}"
                        )));
                    }
                    owner[c] = Some(k);
                    assigned[k].push(c);
                }
            }
        }
        let rest: Vec<usize> = coords
            .iter()
            .copied()
            .filter(|&c| owner[c].is_none())
            .collect();
        match self.parts.iter().position(|(s, _)| s.is_none()) {
            Some(k) => assigned[k] = rest,
            None if !rest.is_empty() => {
                let names: Vec<String> = layout
                    .latent()
                    .filter(|s| s.offset.is_some_and(|o| rest.contains(&o)))
                    .map(|s| s.name.clone())
                    .collect();
                return Err(Error::InvalidConfig(format!(
                    "AutoGuideList: no guide covers {}; add them or end the list with `.rest(guide)`",
                    tilde_core::short_list(&names)
                )));
            }
            None => {}
        }
        self.coords.clear();
        self.params.clear();
        self.bounds = vec![0];
        for ((_, guide), part) in self.parts.iter_mut().zip(&assigned) {
            let mut part = part.clone();
            part.sort_unstable();
            guide.setup(layout, &part, start)?;
            self.coords.extend_from_slice(&part);
            self.params.extend_from_slice(guide.params());
            self.bounds.push(self.params.len());
        }
        Ok(())
    }

    fn params(&self) -> &[f64] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }

    fn noise_dim(&self) -> usize {
        self.parts.iter().map(|(_, g)| g.noise_dim()).sum()
    }

    fn sample(&mut self, noise: &[f64], z: &mut [f64]) -> f64 {
        self.scatter();
        let mut start = 0;
        let mut log_q = 0.0;
        for (_, guide) in &mut self.parts {
            let end = start + guide.noise_dim();
            log_q += guide.sample(&noise[start..end], z);
            start = end;
        }
        log_q
    }

    fn backward(&mut self, noise: &[f64], grad_z: &[f64], grad: &mut [f64]) {
        let mut start = 0;
        for (k, (_, guide)) in self.parts.iter_mut().enumerate() {
            let end = start + guide.noise_dim();
            guide.backward(
                &noise[start..end],
                grad_z,
                &mut grad[self.bounds[k]..self.bounds[k + 1]],
            );
            start = end;
        }
    }

    fn finish(&mut self, density: &dyn LogDensity, at: &[f64]) -> Result<()> {
        self.scatter();
        for (_, guide) in &mut self.parts {
            guide.finish(density, at)?;
        }
        Ok(())
    }

    fn marginal_quantiles(&mut self, qs: &[f64], out: &mut [Vec<f64>]) {
        self.scatter();
        for (_, guide) in &mut self.parts {
            guide.marginal_quantiles(qs, out);
        }
    }

    fn coords(&self) -> &[usize] {
        &self.coords
    }

    fn clone_box(&self) -> Box<dyn Guide> {
        Box::new(self.clone())
    }
}
