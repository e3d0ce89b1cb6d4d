//! Thread-local scratch buffers the hot paths reuse so that they do not allocate, and
//! what they hold (for memory reports and release).

use std::cell::RefCell;
use std::thread::LocalKey;

/// Runs `f` on a thread-local scratch buffer of `len` elements, reused across calls so
/// that hot loops do not allocate. Falls back to a fresh buffer when the thread's buffer
/// is already in use (a model evaluated from inside another).
pub fn with_scratch<T: Clone + 'static, R>(
    key: &'static LocalKey<RefCell<Vec<T>>>,
    len: usize,
    fill: T,
    f: impl FnOnce(&mut [T]) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, fill);
            }
            f(&mut buf[..len])
        }
        Err(_) => f(&mut vec![fill; len]),
    })
}

thread_local! {
    pub(super) static WORK_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Frees a thread-local scratch buffer (unless it is in use) and returns the bytes its
/// capacity held.
#[doc(hidden)]
pub fn release_buffer<T: 'static>(key: &'static LocalKey<RefCell<Vec<T>>>) -> usize {
    key.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            let bytes = buf.capacity() * std::mem::size_of::<T>();
            *buf = Vec::new();
            bytes
        }
        Err(_) => 0,
    })
    .unwrap_or(0)
}

/// The bytes a thread-local scratch buffer holds (its capacity).
#[doc(hidden)]
pub fn buffer_bytes<T: 'static>(key: &'static LocalKey<RefCell<Vec<T>>>) -> usize {
    key.try_with(|cell| {
        cell.try_borrow()
            .map_or(0, |buf| buf.capacity() * std::mem::size_of::<T>())
    })
    .unwrap_or(0)
}

/// Frees this thread's scratch buffers of `tilde_core` (the evaluators' work space, the
/// distributions' partials, the multivariate normal's cached factor) and returns the
/// bytes they held. They grow to the largest model evaluated on the thread and are
/// otherwise kept for reuse; the next evaluation allocates them again. Buffers in use
/// (a call from inside a model evaluation) are left alone.
pub fn release_scratch() -> usize {
    release_buffer(&WORK_F64)
        + crate::distributions::release_scratch()
        + crate::glm::release_scratch()
}

/// The bytes this thread's scratch buffers of `tilde_core` hold.
#[doc(hidden)]
pub fn scratch_bytes() -> usize {
    buffer_bytes(&WORK_F64) + crate::distributions::scratch_bytes() + crate::glm::scratch_bytes()
}
