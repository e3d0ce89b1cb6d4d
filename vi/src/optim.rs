//! First-order optimisers over a flat `f64` parameter vector, with learning-rate
//! schedules. They minimise: [`Svi`](crate::Svi) hands them the gradient of the loss
//! `-ELBO`.

use tilde_core::{Error, Result};

/// How the learning rate changes with the step number `t` (0-based) of `T` steps.
///
/// | variant | factor on the base rate |
/// |---|---|
/// | `Constant` | `1` |
/// | `ExponentialDecay { rate, every }` | `rate^(t / every)` |
/// | `Cosine { steps, floor }` | `floor + (1 - floor) · (1 + cos(π · min(t, steps) / steps)) / 2` |
///
/// # Example
/// ```
/// use tilde_vi::Schedule;
/// assert_eq!(Schedule::Constant.factor(500), 1.0);
/// assert_eq!(Schedule::ExponentialDecay { rate: 0.5, every: 100 }.factor(200), 0.25);
/// assert_eq!(Schedule::Cosine { steps: 100, floor: 0.0 }.factor(100), 0.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Schedule {
    /// The base rate throughout.
    #[default]
    Constant,
    /// Multiply the rate by `rate` every `every` steps (continuously: `rate^(t/every)`).
    ExponentialDecay {
        /// The factor per `every` steps, in `(0, 1]`.
        rate: f64,
        /// The number of steps over which the rate is multiplied by `rate`.
        every: usize,
    },
    /// Cosine decay from the base rate to `floor` times it over `steps` steps, then flat.
    Cosine {
        /// The length of the decay.
        steps: usize,
        /// The final fraction of the base rate, in `[0, 1]`.
        floor: f64,
    },
}

impl Schedule {
    /// The factor on the base learning rate at step `t`.
    pub fn factor(&self, t: usize) -> f64 {
        match *self {
            Schedule::Constant => 1.0,
            Schedule::ExponentialDecay { rate, every } => rate.powf(t as f64 / every as f64),
            Schedule::Cosine { steps, floor } => {
                let progress = t.min(steps) as f64 / steps as f64;
                floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }

    fn validate(&self) -> Result<()> {
        let ok = match *self {
            Schedule::Constant => true,
            Schedule::ExponentialDecay { rate, every } => rate > 0.0 && rate <= 1.0 && every > 0,
            Schedule::Cosine { steps, floor } => steps > 0 && (0.0..=1.0).contains(&floor),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidConfig(format!(
                "invalid learning-rate schedule {self:?}: decay rates lie in (0, 1], floors in [0, 1], lengths are positive"
            )))
        }
    }
}

/// A first-order optimiser that minimises over a flat parameter vector.
pub trait Optimizer: Clone + Send + Sync {
    /// Checks the settings and sizes the state for `num_params` parameters.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a learning rate or setting that cannot work.
    fn init(&mut self, num_params: usize) -> Result<()>;

    /// One update of `params` along the loss gradient `grad`, at step `t` (0-based).
    fn step(&mut self, t: usize, params: &mut [f64], grad: &[f64]);
}

fn check_rate(name: &str, rate: f64) -> Result<()> {
    if rate > 0.0 && rate.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!(
            "the {name} learning rate must be positive and finite, got {rate}"
        )))
    }
}

/// Adam (Kingma & Ba 2015): per-parameter steps scaled by running moments of the
/// gradient, `m ← β₁m + (1-β₁)g`, `v ← β₂v + (1-β₂)g²`,
/// `θ ← θ - lr · m̂ / (√v̂ + ε)` with bias-corrected `m̂`, `v̂`.
///
/// # Example
/// ```
/// use tilde_vi::{Adam, Optimizer};
/// let mut adam = Adam::new(0.1);
/// adam.init(1)?;
/// let mut x = [3.0];
/// for t in 0..500 {
///     let grad = [2.0 * x[0]]; // minimise x²
///     adam.step(t, &mut x, &grad);
/// }
/// assert!(x[0].abs() < 1e-2);
/// # Ok::<(), tilde_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    rate: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    schedule: Schedule,
    clip_norm: Option<f64>,
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    /// Adam with learning rate `rate` and the usual `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`.
    pub fn new(rate: f64) -> Self {
        Adam {
            rate,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            schedule: Schedule::Constant,
            clip_norm: None,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// The moment decay rates `β₁`, `β₂` (each in `[0, 1)`).
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    /// The learning-rate schedule.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }
}

impl Optimizer for Adam {
    fn init(&mut self, num_params: usize) -> Result<()> {
        check_rate("Adam", self.rate)?;
        self.schedule.validate()?;
        if !((0.0..1.0).contains(&self.beta1) && (0.0..1.0).contains(&self.beta2)) {
            return Err(Error::InvalidConfig(format!(
                "Adam's betas must lie in [0, 1), got ({}, {})",
                self.beta1, self.beta2
            )));
        }
        if let Some(c) = self.clip_norm
            && !(c > 0.0 && c.is_finite())
        {
            return Err(Error::InvalidConfig(format!(
                "ClippedAdam's clipping norm must be positive and finite, got {c}"
            )));
        }
        self.m = vec![0.0; num_params];
        self.v = vec![0.0; num_params];
        Ok(())
    }

    fn step(&mut self, t: usize, params: &mut [f64], grad: &[f64]) {
        let scale = match self.clip_norm {
            Some(c) => {
                let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
                if norm > c { c / norm } else { 1.0 }
            }
            None => 1.0,
        };
        let n = (t + 1) as i32;
        let rate = self.rate * self.schedule.factor(t);
        let correction1 = 1.0 - self.beta1.powi(n);
        let correction2 = 1.0 - self.beta2.powi(n);
        for (((p, g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            let g = g * scale;
            *m = self.beta1 * *m + (1.0 - self.beta1) * g;
            *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
            *p -= rate * (*m / correction1) / ((*v / correction2).sqrt() + self.eps);
        }
    }
}

/// Adam on gradients whose global norm is clipped to `clip_norm` (NumPyro's and Pyro's
/// `ClippedAdam`): robust to the occasional huge gradient of a far-out particle.
///
/// # Example
/// ```
/// use tilde_vi::{ClippedAdam, Optimizer};
/// let mut opt = ClippedAdam::new(0.05, 10.0);
/// opt.init(2)?;
/// let mut x = [30.0, -30.0];
/// for t in 0..2000 {
///     let grad = [2.0 * x[0], 2.0 * x[1]];
///     opt.step(t, &mut x, &grad);
/// }
/// assert!(x[0].abs() < 1.0 && x[1].abs() < 1.0);
/// # Ok::<(), tilde_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ClippedAdam(Adam);

impl ClippedAdam {
    /// Adam with learning rate `rate` on gradients clipped to global norm `clip_norm`.
    pub fn new(rate: f64, clip_norm: f64) -> Self {
        let mut adam = Adam::new(rate);
        adam.clip_norm = Some(clip_norm);
        ClippedAdam(adam)
    }

    /// The learning-rate schedule.
    pub fn schedule(self, schedule: Schedule) -> Self {
        ClippedAdam(self.0.schedule(schedule))
    }
}

impl Optimizer for ClippedAdam {
    fn init(&mut self, num_params: usize) -> Result<()> {
        self.0.init(num_params)
    }

    fn step(&mut self, t: usize, params: &mut [f64], grad: &[f64]) {
        self.0.step(t, params, grad);
    }
}

/// Stochastic gradient descent with (heavy-ball) momentum:
/// `u ← μu + g`, `θ ← θ - lr · u`.
///
/// # Example
/// ```
/// use tilde_vi::{Optimizer, Sgd};
/// let mut sgd = Sgd::new(0.05).momentum(0.9);
/// sgd.init(1)?;
/// let mut x = [3.0];
/// for t in 0..300 {
///     let grad = [2.0 * x[0]];
///     sgd.step(t, &mut x, &grad);
/// }
/// assert!(x[0].abs() < 1e-6);
/// # Ok::<(), tilde_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    rate: f64,
    momentum: f64,
    schedule: Schedule,
    velocity: Vec<f64>,
}

impl Sgd {
    /// Plain gradient descent with learning rate `rate`.
    pub fn new(rate: f64) -> Self {
        Sgd {
            rate,
            momentum: 0.0,
            schedule: Schedule::Constant,
            velocity: Vec::new(),
        }
    }

    /// The momentum `μ` in `[0, 1)`.
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// The learning-rate schedule.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }
}

impl Optimizer for Sgd {
    fn init(&mut self, num_params: usize) -> Result<()> {
        check_rate("SGD", self.rate)?;
        self.schedule.validate()?;
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(Error::InvalidConfig(format!(
                "SGD momentum must lie in [0, 1), got {}",
                self.momentum
            )));
        }
        self.velocity = vec![0.0; num_params];
        Ok(())
    }

    fn step(&mut self, t: usize, params: &mut [f64], grad: &[f64]) {
        let rate = self.rate * self.schedule.factor(t);
        for ((p, g), u) in params.iter_mut().zip(grad).zip(&mut self.velocity) {
            *u = self.momentum * *u + g;
            *p -= rate * *u;
        }
    }
}
