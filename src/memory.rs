//! Allocator settings for the threads of the long-running processes (the controller, the
//! webhook). Memory held for the rest of the process's life is what counts there, so each
//! thread allocates from one shared arena: the extra arenas held about 2 MiB of partly used
//! pages at 10,000 workloads. The threads keep jemalloc's per-thread caches of freed objects:
//! without them a third of an admission review's instructions went to the allocator's shared,
//! locked path, and with them the webhook's p99 fell by a sixth at 3 MiB more for the
//! controller at 10,000 workloads. The offline audit keeps jemalloc's defaults: it parses on
//! every core, and one arena made it twice as slow.

/// Applies the settings to the calling thread (a runtime's `on_thread_start`). Without jemalloc
/// as the allocator (tests, other platforms) it changes nothing that is used.
pub fn lean_thread() {
    #[cfg(all(unix, not(target_env = "msvc")))]
    {
        // SAFETY: `thread.arena` is jemalloc's documented per-thread control, written with the
        // type it documents (`unsigned`). A failure leaves the default in place.
        unsafe {
            let _ = tikv_jemalloc_ctl::raw::write(b"thread.arena\0", 0u32);
        }
    }
}

#[cfg(all(test, unix, not(target_env = "msvc")))]
mod tests {
    #[test]
    fn a_lean_thread_uses_the_first_arena_and_keeps_its_cache() {
        std::thread::spawn(|| {
            super::lean_thread();
            // SAFETY: reads of documented per-thread controls, with their documented types.
            let (arena, cached) = unsafe {
                (
                    tikv_jemalloc_ctl::raw::read::<u32>(b"thread.arena\0").unwrap(),
                    tikv_jemalloc_ctl::raw::read::<bool>(b"thread.tcache.enabled\0").unwrap(),
                )
            };
            assert_eq!((arena, cached), (0, true));
        })
        .join()
        .unwrap();
    }
}
