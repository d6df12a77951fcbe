//! The per-record path does not allocate: W1 on a warm key space allocates per batch at most,
//! never per record. A counting global allocator measures it.

#![allow(unsafe_code)] // a GlobalAlloc impl is unsafe by definition; it only forwards to System

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use weir::cli::bench::run_w1;
use weir::runtime::RunConfig;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(events: u64, workers: usize) -> u64 {
    let config = RunConfig {
        workers,
        pin: false,
        ..RunConfig::default()
    };
    let before = ALLOCS.load(Ordering::Relaxed);
    let out = run_w1(events, 1000, &config).expect("W1 runs");
    assert_eq!(out.outputs, events);
    ALLOCS.load(Ordering::Relaxed) - before
}

#[test]
fn w1_allocations_do_not_grow_with_records() {
    for workers in [1, 2] {
        let small = allocations(200_000, workers);
        let large = allocations(1_200_000, workers);
        // 1M more records (~1000 more batches): allow far fewer than one allocation per
        // batch of 1024 records — batch buffers are recycled through return rings.
        let extra = large.saturating_sub(small);
        assert!(
            extra < 1_000,
            "workers={workers}: {small} → {large} allocations for 1M more records"
        );
    }
}
