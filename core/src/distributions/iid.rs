//! Independent, identically distributed vectors of a scalar distribution.

use super::Distribution;

/// `n` independent draws of a scalar distribution, one vector-valued site.
///
/// Built with [`Distribution::iid`]. A latent `sample!` of an `Iid` returns a slice of
/// `n` constrained values; an observed one takes `n` values (`obs = &y`), and a slice of
/// another length is an error.
///
/// # Density
/// ```text
/// ln f(x₁, …, xₙ) = Σᵢ ln f(xᵢ)
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Iid<D> {
    dist: D,
    len: usize,
}

impl<D: Distribution> Iid<D> {
    /// `len` independent copies of `dist`.
    pub fn new(dist: D, len: usize) -> Self {
        Iid { dist, len }
    }

    /// The distribution of each element.
    pub fn dist(&self) -> &D {
        &self.dist
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The same elements constrained to increase: a latent site on Stan's `ordered`
    /// vectors, each element scored by the distribution (for mixtures' locations).
    pub fn ordered(self) -> Ordered<D> {
        Ordered {
            iid: self,
            positive: false,
        }
    }

    /// The same elements constrained to be positive and increasing (Stan's
    /// `positive_ordered`).
    ///
    /// For a prior per element (Stan's `positive_ordered[2] phi; phi[1] ~ normal(0, 1);
    /// phi[2] ~ gamma(2, 1);`), order flat elements and add each prior with `factor!`:
    ///
    /// ```text
    /// let phi = sample!("phi", Flat::new().iid(2).positive_ordered());
    /// factor!("phi0_prior", Normal::new(0.0, 1.0).ln_pdf(phi[0]));
    /// factor!("phi1_prior", Gamma::new(2.0, 1.0).ln_pdf(phi[1]));
    /// ```
    pub fn positive_ordered(self) -> Ordered<D> {
        Ordered {
            iid: self,
            positive: true,
        }
    }

    /// The joint log-density of `xs`, whose length must be `len()`.
    ///
    /// # Panics
    /// When `xs.len() != self.len()` (a caller-contract mismatch).
    pub fn ln_pdf(&self, xs: &[D::Scalar]) -> D::Scalar {
        assert_eq!(
            xs.len(),
            self.len,
            "Iid::ln_pdf needs {} values, got {}",
            self.len,
            xs.len()
        );
        xs.iter().map(|&x| self.dist.ln_pdf(x)).sum()
    }
}

/// An `.iid(n)` site constrained to increasing (or positive increasing) vectors, built
/// by [`Iid::ordered`] and [`Iid::positive_ordered`].
///
/// # Density
/// ```text
/// ln f(x₁ < … < xₙ) = Σᵢ ln f(xᵢ)    (unnormalised on the ordered set, as in Stan)
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ordered<D> {
    iid: Iid<D>,
    positive: bool,
}

impl<D: Distribution> Ordered<D> {
    /// The element-wise distribution and length.
    pub fn iid(&self) -> &Iid<D> {
        &self.iid
    }

    /// `true` for positive ordered vectors.
    pub fn is_positive(&self) -> bool {
        self.positive
    }
}
