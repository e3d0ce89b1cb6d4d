//! The latent sites as a user's Gibbs update sees them: constrained values by name,
//! mapped to and from the unconstrained position through the layout's supports.

use tilde_core::{Error, Result, Support};

/// Where each latent site lives, in the unconstrained vector and among the constrained
/// values.
#[derive(Debug)]
pub(super) struct Binding {
    pub(super) sites: Vec<SiteSlot>,
    /// The coordinates the inner kernel moves.
    pub(super) inner_indices: Vec<usize>,
    /// The number of constrained values of all latent sites.
    pub(super) num_values: usize,
}

#[derive(Debug)]
pub(super) struct SiteSlot {
    pub(super) name: String,
    pub(super) offset: usize,
    pub(super) num_unconstrained: usize,
    pub(super) value_offset: usize,
    pub(super) len: usize,
    pub(super) support: Support<f64>,
    pub(super) is_gibbs: bool,
}

impl SiteSlot {
    pub(super) fn constrain(&self, position: &[f64], values: &mut [f64]) {
        let y = &position[self.offset..self.offset + self.num_unconstrained];
        let x = &mut values[self.value_offset..self.value_offset + self.len];
        if let Some(bijector) = self.support.bijector() {
            for (x, &y) in x.iter_mut().zip(y) {
                *x = bijector.forward(y);
            }
        } else if let Some(bijector) = self.support.vector_bijector() {
            bijector.forward(y, x);
        } else {
            x.copy_from_slice(y);
        }
    }

    /// Writes the unconstrained form of `x` into `position`.
    fn unconstrain(&self, x: &[f64], position: &mut [f64]) -> Result<()> {
        let invalid = |reason: String| Error::InvalidUpdate {
            site: self.name.clone(),
            reason,
        };
        if x.len() != self.len {
            return Err(invalid(format!(
                "it has {} values, {} given",
                self.len,
                x.len()
            )));
        }
        if let Some(v) = x.iter().find(|v| !v.is_finite()) {
            return Err(invalid(format!("the value {v} is not finite")));
        }
        let y = &mut position[self.offset..self.offset + self.num_unconstrained];
        if let Some(bijector) = self.support.bijector() {
            for (y, &x) in y.iter_mut().zip(x) {
                if !self.support.contains(x) {
                    return Err(invalid(format!(
                        "the value {x} is outside its support {}",
                        self.support
                    )));
                }
                *y = bijector.inverse(x);
            }
        } else if let Some(bijector) = self.support.vector_bijector() {
            let inverse = bijector.inverse(x);
            if inverse.len() != y.len() || inverse.iter().any(|v| !v.is_finite()) {
                return Err(invalid(format!(
                    "the values {x:?} are outside its support {}",
                    self.support
                )));
            }
            y.copy_from_slice(&inverse);
        } else if self.support.is_discrete() {
            // a discrete site's coordinate holds its value
            if let Some(v) = x.iter().find(|v| !self.support.contains(**v)) {
                return Err(invalid(format!(
                    "the value {v} is outside its support {}",
                    self.support
                )));
            }
            y.copy_from_slice(x);
        } else {
            return Err(invalid(format!(
                "its support {} has no unconstrained form",
                self.support
            )));
        }
        if y.iter().any(|v| !v.is_finite()) {
            return Err(invalid(format!(
                "the values {x:?} are on the boundary of its support {}",
                self.support
            )));
        }
        Ok(())
    }
}

/// The latent sites as a user's Gibbs update sees them: the current constrained values
/// of every site by name, and the new values of its own sites.
pub struct GibbsSites<'a> {
    pub(super) binding: &'a Binding,
    pub(super) position: &'a mut [f64],
    pub(super) values: &'a mut [f64],
}

impl GibbsSites<'_> {
    fn slot(&self, name: &str) -> Result<&SiteSlot> {
        self.binding
            .sites
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| Error::UnknownName {
                name: name.into(),
                known: self.binding.sites.iter().map(|s| s.name.clone()).collect(),
            })
    }

    /// The constrained values of the latent site `name` (one for a scalar site,
    /// row-major for a matrix).
    ///
    /// # Errors
    /// [`Error::UnknownName`] for a name that is not a latent site.
    pub fn get(&self, name: &str) -> Result<&[f64]> {
        let slot = self.slot(name)?;
        Ok(&self.values[slot.value_offset..slot.value_offset + slot.len])
    }

    /// The constrained value of the scalar latent site `name`.
    ///
    /// # Errors
    /// [`Error::UnknownName`] for a name that is not a latent site,
    /// [`Error::InvalidUpdate`] for a site with more than one value.
    pub fn value(&self, name: &str) -> Result<f64> {
        match self.get(name)? {
            [v] => Ok(*v),
            values => Err(Error::InvalidUpdate {
                site: name.into(),
                reason: format!("it has {} values: read it with get", values.len()),
            }),
        }
    }

    /// Sets the constrained values of `name`, one of the sites this update owns.
    ///
    /// # Errors
    /// [`Error::UnknownName`] for a name that is not a latent site;
    /// [`Error::InvalidUpdate`] for a site the inner kernel samples, a length other than
    /// the site's, or a value that is not finite or outside the site's support.
    pub fn set(&mut self, name: &str, values: &[f64]) -> Result<()> {
        let binding = self.binding;
        let slot = binding
            .sites
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| Error::UnknownName {
                name: name.into(),
                known: binding.sites.iter().map(|s| s.name.clone()).collect(),
            })?;
        if !slot.is_gibbs {
            return Err(Error::InvalidUpdate {
                site: name.into(),
                reason: "the inner kernel samples it; list it in HmcGibbs::new to update it".into(),
            });
        }
        slot.unconstrain(values, self.position)?;
        slot.constrain(self.position, self.values);
        Ok(())
    }
}
