//! Gradient-based Metropolis–Hastings kernels with one gradient per transition: the
//! Metropolis-adjusted Langevin algorithm and Barker's proposal.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};
use tilde_core::{LogDensity, Result};

use crate::hmc::window_adapted;
use crate::hmc::{
    HmcParams, HmcState, Point, Tuning, hmc_family_items, init_state, refresh_state,
    tuning_builders,
};
use crate::kernel::Kernel;
use crate::metropolis::{MhInfo, acceptance, proposal_log_density};

/// The Metropolis-adjusted Langevin algorithm (Roberts & Tweedie 1996), preconditioned
/// by the inverse mass matrix `M⁻¹`: the proposal `x + (ε²/2) M⁻¹ ∇log p(x) + ε z`,
/// `z ~ N(0, M⁻¹)`, with the Metropolis–Hastings correction. It is one leapfrog step
/// of HMC with a fresh momentum, and is computed as such (the acceptance ratio is the
/// Hamiltonian's). Warm-up is Stan's window adaptation with a target acceptance rate
/// of 0.574 (Roberts & Rosenthal 1998).
///
/// ```
/// use tilde_samplers::Mala;
///
/// let mala = Mala::default().target_accept(0.6);
/// # let _ = mala;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Mala {
    tuning: Tuning,
}

impl Default for Mala {
    fn default() -> Self {
        Mala {
            tuning: Tuning::new(0.574),
        }
    }
}

impl Mala {
    tuning_builders!();
}

/// Buffers of [`Mala`].
#[derive(Clone, Debug)]
pub struct MalaWorkspace {
    point: Point,
}

window_adapted!(Mala, HmcState, leapfrog);

impl Kernel for Mala {
    type Info = MhInfo;
    type Workspace = MalaWorkspace;
    hmc_family_items!(HmcState, init_state, refresh_state);

    fn workspace(&self, dim: usize) -> MalaWorkspace {
        MalaWorkspace {
            point: Point::new(dim),
        }
    }

    fn validate(&self, _dim: usize) -> Result<()> {
        self.tuning.validate()
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut HmcState,
        params: &HmcParams,
        ws: &mut MalaWorkspace,
    ) -> MhInfo {
        let z = &mut ws.point;
        z.start(state, &params.inverse_mass_matrix, rng);
        let h0 = z.energy();
        z.leapfrog(target, &params.inverse_mass_matrix, params.step_size);
        let finite_gradient = z.grad.iter().all(|g| g.is_finite());
        let acceptance_rate = if finite_gradient {
            acceptance(h0 - z.energy())
        } else {
            0.0
        };
        let is_accepted = rng.random::<f64>() < acceptance_rate;
        if is_accepted {
            z.store(state);
        }
        MhInfo {
            acceptance_rate,
            is_accepted,
            num_evaluations: 1,
        }
    }
}

/// Barker's proposal (Livingstone & Zanella 2022), after NumPyro's `BarkerMH`: in the
/// coordinates `u` with `x = L u`, `L Lᵀ = M⁻¹`, each coordinate moves by `±ε zᵢ`,
/// `zᵢ ~ N(0, 1)`, forward with probability `σ(ε zᵢ ∂ᵢ log p)`, and the move is
/// corrected by Metropolis–Hastings. More robust than MALA to a step size that is too
/// large. Warm-up is Stan's window adaptation with a target acceptance rate of 0.4
/// (NumPyro's default).
///
/// ```
/// use tilde_samplers::BarkerMh;
///
/// let barker = BarkerMh::default().dense_mass(true);
/// # let _ = barker;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BarkerMh {
    tuning: Tuning,
}

impl Default for BarkerMh {
    fn default() -> Self {
        BarkerMh {
            tuning: Tuning::new(0.4),
        }
    }
}

impl BarkerMh {
    tuning_builders!();
}

/// Buffers of [`BarkerMh`].
#[derive(Clone, Debug)]
pub struct BarkerWorkspace {
    /// `Lᵀ ∇log p` at the current and the proposed point.
    scaled_grad: Vec<f64>,
    scaled_grad_proposal: Vec<f64>,
    /// The move in `u` coordinates and in `x` coordinates.
    du: Vec<f64>,
    dx: Vec<f64>,
    proposal: Vec<f64>,
    grad_proposal: Vec<f64>,
}

/// `log(1 + eᵃ)` without overflow.
fn softplus(a: f64) -> f64 {
    if a > 0.0 {
        a + (-a).exp().ln_1p()
    } else {
        a.exp().ln_1p()
    }
}

window_adapted!(BarkerMh, HmcState, trial);

impl Kernel for BarkerMh {
    type Info = MhInfo;
    type Workspace = BarkerWorkspace;
    hmc_family_items!(HmcState, init_state, refresh_state);

    fn workspace(&self, dim: usize) -> BarkerWorkspace {
        let v = || vec![0.0; dim];
        BarkerWorkspace {
            scaled_grad: v(),
            scaled_grad_proposal: v(),
            du: v(),
            dx: v(),
            proposal: v(),
            grad_proposal: v(),
        }
    }

    fn validate(&self, _dim: usize) -> Result<()> {
        self.tuning.validate()
    }

    fn transition<L: LogDensity + ?Sized, R: Rng + ?Sized>(
        &self,
        target: &L,
        rng: &mut R,
        state: &mut HmcState,
        params: &HmcParams,
        ws: &mut BarkerWorkspace,
    ) -> MhInfo {
        let metric = &params.inverse_mass_matrix;
        metric.scale_transpose(&state.log_density_grad, &mut ws.scaled_grad);
        for (du, g) in ws.du.iter_mut().zip(&ws.scaled_grad) {
            let normal: f64 = StandardNormal.sample(rng);
            let z = params.step_size * normal;
            let forward = 1.0 / (1.0 + (-z * g).exp());
            *du = if rng.random::<f64>() < forward { z } else { -z };
        }
        metric.scale(&ws.du, &mut ws.dx);
        for ((y, x), d) in ws.proposal.iter_mut().zip(&state.position).zip(&ws.dx) {
            *y = x + d;
        }
        let log_density =
            proposal_log_density(target.logp_and_grad(&ws.proposal, &mut ws.grad_proposal));
        let acceptance_rate =
            if log_density.is_finite() && ws.grad_proposal.iter().all(|g| g.is_finite()) {
                metric.scale_transpose(&ws.grad_proposal, &mut ws.scaled_grad_proposal);
                let correction: f64 = ws
                    .du
                    .iter()
                    .zip(&ws.scaled_grad)
                    .zip(&ws.scaled_grad_proposal)
                    .map(|((du, gx), gy)| softplus(-du * gx) - softplus(du * gy))
                    .sum();
                acceptance(log_density - state.log_density + correction)
            } else {
                0.0
            };
        let is_accepted = rng.random::<f64>() < acceptance_rate;
        if is_accepted {
            state.position.copy_from_slice(&ws.proposal);
            state.log_density_grad.copy_from_slice(&ws.grad_proposal);
            state.log_density = log_density;
        }
        MhInfo {
            acceptance_rate,
            is_accepted,
            num_evaluations: 1,
        }
    }
}
