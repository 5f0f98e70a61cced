//! Work spread over every core with rayon, results taken in input order on the calling thread
//! while the next part is still being worked on: reading manifests (parse in parallel, index in
//! order) and writing JSON (render in parallel, write in order) both have that shape.

use rayon::prelude::*;

/// Produces a result for every item, on every core, and hands the results to `consume` in
/// input order on the calling thread. Items are taken `window` at a time: while the calling
/// thread consumes one window, the pool produces the next, so consuming overlaps producing and
/// at most two windows of results are held at once. Fewer than `parallel_from` items are
/// produced on the calling thread alone: a pool costs more than it saves on a handful.
///
/// Stops at the first error `consume` returns (the window being produced is finished first).
pub fn in_order<'i, T, R, E>(
    items: &'i [T],
    window: usize,
    parallel_from: usize,
    produce: impl Fn(&T) -> R + Sync,
    mut consume: impl FnMut(&'i T, R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Sync,
    R: Send,
{
    if items.len() < parallel_from || rayon::current_num_threads() < 2 {
        for item in items {
            consume(item, produce(item))?;
        }
        return Ok(());
    }
    let produce_window = |w: &[T]| -> Vec<R> { w.par_iter().map(&produce).collect() };
    let mut windows = items.chunks(window.max(1));
    let Some(first) = windows.next() else {
        return Ok(());
    };
    let mut current = (first, produce_window(first));
    loop {
        let next = windows.next();
        let mut produced: Option<Vec<R>> = None;
        let (slice, results) = current;
        let consumed = rayon::in_place_scope(|scope| {
            if let Some(next) = next {
                let produced = &mut produced;
                let produce_window = &produce_window;
                scope.spawn(move |_| *produced = Some(produce_window(next)));
            }
            slice
                .iter()
                .zip(results)
                .try_for_each(|(item, result)| consume(item, result))
        });
        consumed?;
        match (next, produced) {
            (Some(next), Some(results)) => current = (next, results),
            _ => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn results_come_in_input_order_whatever_the_window() {
        let items: Vec<usize> = (0..1000).collect();
        for (window, parallel_from) in [(1, 0), (7, 0), (64, 0), (5000, 0), (64, 2000)] {
            let mut seen = Vec::new();
            in_order(
                &items,
                window,
                parallel_from,
                |i| i * 2,
                |item, doubled| {
                    assert_eq!(*item * 2, doubled);
                    seen.push(*item);
                    Ok::<(), ()>(())
                },
            )
            .unwrap();
            assert_eq!(seen, items, "window {window}");
        }
        in_order(&[] as &[usize], 8, 0, |i| *i, |_, _| Ok::<(), ()>(())).unwrap();
    }

    #[test]
    fn the_first_error_stops_consuming_and_production_stays_bounded() {
        let items: Vec<usize> = (0..1000).collect();
        let produced = AtomicUsize::new(0);
        let mut consumed = 0;
        let result = in_order(
            &items,
            10,
            0,
            |i| {
                produced.fetch_add(1, Ordering::Relaxed);
                *i
            },
            |_, i| {
                consumed += 1;
                if i == 25 { Err(i) } else { Ok(()) }
            },
        );
        assert_eq!(result, Err(25));
        assert_eq!(consumed, 26);
        // The window of the error and the one after it, no more.
        assert_eq!(produced.load(Ordering::Relaxed), 40);
    }

    #[test]
    fn a_panic_while_producing_reaches_the_caller() {
        let items: Vec<usize> = (0..100).collect();
        let outcome = std::panic::catch_unwind(|| {
            in_order(
                &items,
                10,
                0,
                |i| assert!(*i != 57, "item 57"),
                |_, ()| Ok::<(), ()>(()),
            )
        });
        assert!(outcome.is_err());
    }
}
