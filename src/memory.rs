//! Allocator settings for the threads of the long-running processes (the controller, the
//! webhook). Their allocations are few and small once the caches are filled, and memory held
//! for the rest of the process's life is what counts: each thread allocates from one shared
//! arena and keeps no cache of freed objects. At 10,000 workloads the per-thread caches held
//! about 8 MiB of freed objects and the extra arenas 2 MiB of partly used pages, with no
//! measurable gain in the webhook's latency. The offline audit keeps jemalloc's defaults: it
//! parses on every core, and one arena without caches made it twice as slow.

/// Applies the settings to the calling thread (a runtime's `on_thread_start`). Without jemalloc
/// as the allocator (tests, other platforms) it changes nothing that is used.
pub fn lean_thread() {
    #[cfg(all(unix, not(target_env = "msvc")))]
    {
        // SAFETY: both names are jemalloc's documented per-thread controls, written with the
        // types it documents (`unsigned` and `bool`). A failure leaves the defaults in place.
        unsafe {
            let _ = tikv_jemalloc_ctl::raw::write(b"thread.arena\0", 0u32);
            let _ = tikv_jemalloc_ctl::raw::write(b"thread.tcache.enabled\0", false);
        }
    }
}

#[cfg(all(test, unix, not(target_env = "msvc")))]
mod tests {
    #[test]
    fn a_lean_thread_uses_the_first_arena_and_no_cache() {
        std::thread::spawn(|| {
            super::lean_thread();
            // SAFETY: reads of the same documented controls, with their documented types.
            let (arena, cached) = unsafe {
                (
                    tikv_jemalloc_ctl::raw::read::<u32>(b"thread.arena\0").unwrap(),
                    tikv_jemalloc_ctl::raw::read::<bool>(b"thread.tcache.enabled\0").unwrap(),
                )
            };
            assert_eq!((arena, cached), (0, false));
        })
        .join()
        .unwrap();
    }
}
