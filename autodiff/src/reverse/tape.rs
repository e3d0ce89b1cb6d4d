//! The per-thread tape: an arena of nodes and edges, cleared but not freed between
//! gradients.

use std::cell::RefCell;

/// One edge of the graph: a parent node and the partial derivative of the child
/// with respect to it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Edge {
    pub parent: u32,
    pub partial: f64,
}

/// The graph of one gradient evaluation, in construction order.
#[derive(Debug)]
pub(crate) struct Tape {
    /// For node `i`, its edges are `edges[ends[i-1]..ends[i]]` (with `ends[-1] = 0`).
    ends: Vec<u32>,
    edges: Vec<Edge>,
    adjoints: Vec<f64>,
    /// Bumped by every `clear`, so that stale variables can be caught in debug builds.
    pub generation: u32,
}

thread_local! {
    pub(crate) static TAPE: RefCell<Tape> = const { RefCell::new(Tape::new()) };
}

impl Tape {
    const fn new() -> Self {
        Tape {
            ends: Vec::new(),
            edges: Vec::new(),
            adjoints: Vec::new(),
            generation: 0,
        }
    }

    /// Forgets every node, keeping the buffers, and records the sink: node 0, which
    /// stands for every constant (edges to it are harmless and never followed).
    pub fn clear(&mut self) {
        self.ends.clear();
        self.edges.clear();
        self.ends.push(0);
        self.generation = self.generation.wrapping_add(1);
    }

    /// Frees the buffers (the next gradient clears the tape before use, which
    /// allocates them again); returns the bytes they held.
    pub fn release(&mut self) -> usize {
        let bytes = self.bytes();
        self.ends = Vec::new();
        self.edges = Vec::new();
        self.adjoints = Vec::new();
        self.generation = self.generation.wrapping_add(1);
        bytes
    }

    /// The bytes the buffers hold (their capacity).
    pub fn bytes(&self) -> usize {
        self.ends.capacity() * std::mem::size_of::<u32>()
            + self.edges.capacity() * std::mem::size_of::<Edge>()
            + self.adjoints.capacity() * std::mem::size_of::<f64>()
    }

    /// `n` input nodes (no parents); returns the index of the first.
    pub fn leaves(&mut self, n: usize) -> u32 {
        let first = self.ends.len() as u32;
        let end = self.edges.len() as u32;
        self.ends.extend(std::iter::repeat_n(end, n));
        first
    }

    /// A node with one edge.
    #[inline]
    pub fn node1(&mut self, a: Edge) -> u32 {
        self.edges.push(a);
        self.ends.push(self.edges.len() as u32);
        (self.ends.len() - 1) as u32
    }

    /// A node with two edges.
    #[inline]
    pub fn node2(&mut self, a: Edge, b: Edge) -> u32 {
        self.edges.push(a);
        self.edges.push(b);
        self.ends.push(self.edges.len() as u32);
        (self.ends.len() - 1) as u32
    }

    /// A node with the given edges.
    #[inline]
    pub fn node(&mut self, edges: impl IntoIterator<Item = Edge>) -> u32 {
        self.edges.extend(edges);
        let end = self.edges.len() as u32;
        self.ends.push(end);
        (self.ends.len() - 1) as u32
    }

    /// Back-propagates from `output` down to node `stop` (the first node that has
    /// parents: everything below is the sink and the inputs); afterwards `adjoint(i)`
    /// is `∂output/∂node i`.
    pub fn backward(&mut self, output: u32, stop: u32) {
        let n = self.ends.len();
        self.adjoints.clear();
        self.adjoints.resize(n, 0.0);
        self.adjoints[output as usize] = 1.0;
        let (ends, edges, adjoints) = (&self.ends, &self.edges, &mut self.adjoints);
        let mut end = ends[output as usize] as usize;
        for i in (stop.max(1) as usize..=output as usize).rev() {
            let start = ends[i - 1] as usize;
            let adjoint = adjoints[i];
            if adjoint != 0.0 {
                for e in &edges[start..end] {
                    adjoints[e.parent as usize] += adjoint * e.partial;
                }
            }
            end = start;
        }
    }

    /// The adjoint of node `i` after [`backward`](Self::backward).
    pub fn adjoint(&self, i: u32) -> f64 {
        self.adjoints[i as usize]
    }
}
