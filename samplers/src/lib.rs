//! MCMC for tilde models: HMC and NUTS kernels, Stan's window adaptation, the
//! multi-chain [`Mcmc`] driver, [`Posterior`] draws and convergence diagnostics, and
//! tempered Sequential Monte Carlo ([`Smc`]) for Bayesian updating.
//!
//! Kernels follow BlackJAX's shape ([`Kernel`]): `init(&target, &position)` gives the
//! kernel's state, and `step(&target, rng, &state, &params)` returns the next state and
//! the kernel's information on the transition, with the parameters (for the HMC family
//! the step size and inverse mass matrix) passed on every step; each kernel brings its
//! warm-up [`Adaptation`]. A log-density that is not finite at a proposal is a
//! rejection (inside a trajectory, a divergence); nothing panics.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod adaptation;
mod chees;
pub mod diagnostics;
mod fft;
mod gibbs;
mod hmc;
mod infer_discrete;
mod init;
mod io;
mod kernel;
mod langevin;
pub mod loo;
mod mcmc;
mod metric;
mod metropolis;
mod nuts;
mod posterior;
mod predictive;
mod progress;
mod replica_exchange;
mod sa;
pub mod sbc;
mod slice;
mod smc;
mod unconstrained;
mod warm_start;

pub use adaptation::{FisherAdaptation, HmcAdaptation, MetricAdaptation, WindowAdaptation};
pub use chees::{
    CHEES_TARGET_ACCEPT, Chees, CheesAdaptation, CheesParams, CheesState, CheesWorkspace,
};
pub use gibbs::{
    BlockInfo, BlockKernel, ConditionalAdaptation, ErasedParams, ErasedState, Gibbs,
    GibbsAdaptation, GibbsInfo, GibbsParams, GibbsSites, GibbsState, GibbsWorkspace, HmcGibbs,
    HmcGibbsAdaptation, HmcGibbsInfo, HmcGibbsParams, HmcGibbsState, HmcGibbsWorkspace,
    PointAdaptation, PointEstimate, PointInfo, PointParams, PointState, PointWorkspace,
};
pub use gibbs::{
    DiscreteHmcGibbs, DiscreteHmcGibbsAdaptation, DiscreteHmcGibbsWorkspace, MAX_ENUMERATED,
    MixedHmc, MixedHmcAdaptation, MixedHmcWorkspace,
};
pub use hmc::{Hmc, HmcInfo, HmcParams, HmcState, HmcWorkspace, Tuning, WindowAdapted};
pub use infer_discrete::infer_discrete;
pub use init::{Init, explain};
pub use io::CsvWriter;
pub use kernel::{Adaptation, Kernel, KernelInfo, KernelParams, KernelState, NoAdaptation};
pub use langevin::{BarkerMh, BarkerWorkspace, Mala, MalaWorkspace};
pub use mcmc::{Mcmc, WARM_START_WARMUP, chain_rng};
pub use metric::{BlockMetric, DenseMetric, LowRankMetric, Metric};
pub use metropolis::{DensityState, MhInfo, ProposalWorkspace, RandomWalkMetropolis};
pub use nuts::{Nuts, NutsWorkspace};
pub use posterior::{ChainDraws, DrawMatrix, Posterior, SampleStats, Summary, SummaryRow};
pub use predictive::{LogLikelihood, Predictive, log_likelihood};
pub use progress::progress_enabled;
pub use replica_exchange::{
    ReplicaAdaptation, ReplicaExchange, ReplicaInfo, ReplicaParams, ReplicaState, Tempered,
};
pub use sa::{Sa, SaInfo, SaParams, SaState, SaWorkspace};
pub use slice::{ScaleAdaptation, SliceSampler, SliceWorkspace};
pub use smc::{PriorLikelihood, Resampling, Smc, SmcResult, SmcStage, TemperedTarget};
pub use unconstrained::Unconstrained;
pub use warm_start::{Initializer, WarmStart};
