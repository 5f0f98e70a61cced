//! What answering a review leaves to free, freed once the answer is on its way.
//!
//! Freeing the decoded object, its report and the decision is about a tenth of a review's
//! instructions, and none of it is work the apiserver needs to wait for. On the runtime's
//! worker threads it waits until the thread has nothing else to do (tokio's `on_thread_park`,
//! which calls [`thread_parking`]), and a worker only goes idle after it has written the answer
//! to the connection. On any other thread (tests, benchmarks, the blocking pool) values are
//! freed at once, as they would be without this.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ops::Deref;

/// The most values a thread holds. Under a load that never lets a worker go idle, each value
/// past this frees the ones before it, so what is held never grows.
const MOST_HELD: usize = 6;

thread_local! {
    /// This thread has been seen going idle, so what it holds will be freed.
    static PARKS: Cell<bool> = const { Cell::new(false) };
    static HELD: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// Frees `value` when this thread next goes idle, or now on a thread that is never idle in
/// tokio's sense.
pub fn free_later<T: 'static>(value: T) {
    if !PARKS.with(Cell::get) {
        return; // `value` is dropped here.
    }
    HELD.with(|held| {
        let mut held = held.borrow_mut();
        if held.len() >= MOST_HELD {
            held.clear();
        }
        held.push(Box::new(value));
    });
}

/// A value that goes to [`free_later`] when it goes out of scope, for one that many borrows
/// outlive up to the end of a function.
pub struct FreedLater<T: 'static>(Option<T>);

impl<T: 'static> FreedLater<T> {
    pub fn new(value: T) -> FreedLater<T> {
        FreedLater(Some(value))
    }
}

impl<T: 'static> Deref for FreedLater<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // Taken only by `drop`, after which nothing can dereference it.
        self.0
            .as_ref()
            .expect("a FreedLater holds its value until dropped")
    }
}

impl<T: 'static> Drop for FreedLater<T> {
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            free_later(value);
        }
    }
}

/// For the runtime's `on_thread_park`: frees what the thread holds, and from now on lets it
/// hold values until it is idle again.
pub fn thread_parking() {
    PARKS.with(|parks| parks.set(true));
    // Taken out before it is dropped, so a value whose drop frees something later cannot
    // find the list borrowed.
    let held = HELD.with(|held| std::mem::take(&mut *held.borrow_mut()));
    drop(held);
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;

    /// Counts its own drops.
    struct Counted(Rc<Cell<usize>>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn a_thread_that_never_parks_frees_at_once() {
        std::thread::spawn(|| {
            let dropped = Rc::new(Cell::new(0));
            free_later(Counted(dropped.clone()));
            assert_eq!(dropped.get(), 1);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_parking_thread_frees_when_it_next_parks() {
        std::thread::spawn(|| {
            thread_parking();
            let dropped = Rc::new(Cell::new(0));
            free_later(Counted(dropped.clone()));
            free_later(Counted(dropped.clone()));
            assert_eq!(dropped.get(), 0, "held until the thread is idle");
            thread_parking();
            assert_eq!(dropped.get(), 2);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_thread_that_stays_busy_holds_only_a_few() {
        std::thread::spawn(|| {
            thread_parking();
            let dropped = Rc::new(Cell::new(0));
            for _ in 0..MOST_HELD {
                free_later(Counted(dropped.clone()));
            }
            assert_eq!(dropped.get(), 0);
            free_later(Counted(dropped.clone()));
            assert_eq!(dropped.get(), MOST_HELD, "the ones before are freed");
            for _ in 0..10 * MOST_HELD {
                free_later(Counted(dropped.clone()));
            }
            let held = HELD.with(|held| held.borrow().len());
            assert!((1..=MOST_HELD).contains(&held));
            assert_eq!(dropped.get() + held, 11 * MOST_HELD + 1);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_value_held_to_the_end_of_a_scope_is_freed_later() {
        std::thread::spawn(|| {
            thread_parking();
            let dropped = Rc::new(Cell::new(0));
            {
                let held = FreedLater::new(Counted(dropped.clone()));
                let counted: &Counted = &held;
                assert_eq!(counted.0.get(), 0, "readable through the holder");
            }
            assert_eq!(dropped.get(), 0);
            thread_parking();
            assert_eq!(dropped.get(), 1);
        })
        .join()
        .unwrap();
    }

    /// On a runtime with the hook, whatever a task leaves is freed once the worker is idle,
    /// without anything else running there.
    #[test]
    fn a_runtime_worker_frees_when_idle() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::{Duration, Instant};

        struct Shared(Arc<AtomicUsize>);
        impl Drop for Shared {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .on_thread_park(thread_parking)
            .build()
            .unwrap();
        let dropped = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let dropped = dropped.clone();
            let task = runtime.spawn(async move { free_later(Shared(dropped)) });
            runtime.block_on(task).unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while dropped.load(Ordering::SeqCst) < 3 {
            assert!(Instant::now() < deadline, "a value was never freed");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
