//! The binary's global allocator: mimalloc, except that the largest blocks are mapped from the
//! kernel directly, so that growing one moves its pages (`mremap(2)`) instead of copying them.
//!
//! What the analysis keeps of a large input grows in vectors that double as they fill (the
//! refused exchanges of an access log, the successes the diagnosis compares them with, the
//! credential uses of a HAR). Each doubling allocates the new block, copies the old one into
//! it and frees it: for that moment both are resident, one and a half times the kept data or
//! more, and the copy touches every byte. On a 1 GB access log the vector of kept refusals
//! holds 288,000 exchanges (131 MB): its last doubling copied 120 MB, resident twice for that
//! moment. A mapped block grows in place or is moved by the page table: no copy, and nothing
//! resident twice (the peak of `analyze` on that log fell from 437 to 397 MB).
//!
//! Smaller blocks stay with mimalloc (reading builds and drops millions of small strings from
//! several threads, where glibc's malloc spent a quarter of the time: benches/har.sh), and so
//! does everything on systems other than Linux.

use std::alloc::{GlobalAlloc, Layout};

use mimalloc::MiMalloc;

/// mimalloc, with blocks of [`MAPPED`] bytes or more mapped and grown by the kernel.
pub struct Allocator;

/// Blocks at least this large are mapped. mimalloc itself maps blocks above 32 MiB (its huge
/// objects) but grows them by copying.
pub const MAPPED: usize = 32 << 20;

/// Whether a block of `size` bytes aligned to `align` is (or would be) mapped. Mappings are
/// page-aligned: a larger alignment stays with mimalloc.
#[inline]
fn mapped(size: usize, align: usize) -> bool {
    cfg!(target_os = "linux") && size >= MAPPED && align <= 4096
}

#[cfg(target_os = "linux")]
mod os {
    /// A fresh private anonymous mapping (zeroed by the kernel as first touched), or null.
    pub unsafe fn map(size: usize) -> *mut u8 {
        // SAFETY: a new anonymous mapping aliases nothing.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            p.cast()
        }
    }

    /// SAFETY: `p` and `size` are a mapping made by [`map`] or [`remap`].
    pub unsafe fn unmap(p: *mut u8, size: usize) {
        unsafe { libc::munmap(p.cast(), size) };
    }

    /// Grow or shrink a mapping, moving it if it must; null if the kernel refuses (the old
    /// mapping is then untouched, as `realloc` requires).
    /// SAFETY: `p` and `old` are a mapping made by [`map`] or [`remap`].
    pub unsafe fn remap(p: *mut u8, old: usize, new: usize) -> *mut u8 {
        let q = unsafe { libc::mremap(p.cast(), old, new, libc::MREMAP_MAYMOVE) };
        if q == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            q.cast()
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    // Never called: `mapped` is false off Linux.
    pub unsafe fn map(_: usize) -> *mut u8 {
        std::ptr::null_mut()
    }
    pub unsafe fn unmap(_: *mut u8, _: usize) {}
    pub unsafe fn remap(_: *mut u8, _: usize, _: usize) -> *mut u8 {
        std::ptr::null_mut()
    }
}

// SAFETY: every block is freed and resized by the side that made it: whether a block is mapped
// follows from its layout alone (`mapped`), which the caller passes unchanged to `dealloc` and
// `realloc`; a block that crosses the threshold in `realloc` is copied from one side to the
// other.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if mapped(layout.size(), layout.align()) {
            unsafe { os::map(layout.size()) }
        } else {
            unsafe { MiMalloc.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if mapped(layout.size(), layout.align()) {
            // Fresh anonymous pages are zero.
            unsafe { os::map(layout.size()) }
        } else {
            unsafe { MiMalloc.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if mapped(layout.size(), layout.align()) {
            unsafe { os::unmap(ptr, layout.size()) }
        } else {
            unsafe { MiMalloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let align = layout.align();
        match (mapped(layout.size(), align), mapped(new_size, align)) {
            (false, false) => unsafe { MiMalloc.realloc(ptr, layout, new_size) },
            (true, true) => unsafe { os::remap(ptr, layout.size(), new_size) },
            _ => {
                // SAFETY: `realloc`'s contract makes `new_size` with `align` a valid layout.
                let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, align) };
                let q = unsafe { self.alloc(new_layout) };
                if !q.is_null() {
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, q, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                q
            }
        }
    }
}

/// Set up the process for this allocator; the binary calls it first.
///
/// On Linux, transparent huge pages are turned off for the process. mimalloc asks for them on
/// its arenas (`madvise`, which is the system's setting here): each first touch of a page then
/// zeroes 2 MiB, and the heap is given back between phases ([`release`]) and touched again,
/// so the token index was built while the kernel zeroed huge pages the index mostly did not
/// fill (a tenth of a second of the 1 GB HAR's serial end; 77 huge-page faults on the 200 MB
/// HAR's `tokens`, 2 without). Without them, in alternating runs on the 1 GB HAR: `tokens`
/// 2.89 -> 2.62 s, `analyze` 3.10 -> 3.03 s (medians of 5), peak heap 175 -> 166 MiB. The
/// blocks mapped here are not advised and never had them.
///
/// Freed memory goes back to the system after [`PURGE_DELAY_MS`] instead of mimalloc 3's one
/// second (unless `MIMALLOC_PURGE_DELAY` is set): what the readers' threads free while a
/// capture is read (each batch's entries, once folded) otherwise stays resident for that
/// second, which is all of a run on a few hundred megabytes. Peak heap on the 200 MB inputs:
/// HAR `analyze` 70 -> 53 MiB, `tokens` 66 -> 51 MiB; pcap `analyze` 61 -> 46 MiB. A shorter
/// delay gives back a little more and costs more: pages given back and touched again (at
/// 10 ms, 40% more page faults and 2-4% more CPU on the 1 GB HAR; at 50 ms, `analyze` is as
/// fast as before and `tokens` takes 1.5% more CPU, 5 alternating runs each).
pub fn init() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's numeric options, which it reads at each purge.
        unsafe { mi_option_set(OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

/// How long freed memory stays with the allocator before it is given back, in milliseconds.
pub const PURGE_DELAY_MS: std::ffi::c_long = 50;

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e`: the same number in versions 2 and 3.
const OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Hand the pages that threads have freed back to the kernel, on every thread of the rayon
/// pool and the calling one.
///
/// Each thread's mimalloc heap keeps the pages it freed for its own reuse, and gives them back
/// only as that thread next allocates: a worker that went idle when reading ended keeps what
/// it used for reading (about 35 MB on the 3 GB benchmark capture) while the main thread
/// builds the token index beside it. Called between phases ([`crate::analysis::Fold`]), it
/// takes a few milliseconds; without mimalloc as the global allocator it does nothing of note.
pub fn release() {
    fn collect() {
        // SAFETY: `mi_collect` takes no pointer and is safe to call from any thread at any
        // time; the mimalloc library is linked whether or not it is the global allocator.
        unsafe { mi_collect(true) }
    }
    rayon::broadcast(|_| collect());
    collect();
}

// libmimalloc-sys declares them only with its `extended` feature (which pulls in one more
// crate): the symbols are in the library it builds either way.
unsafe extern "C" {
    fn mi_collect(force: bool);
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    #[cfg(test)]
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option number names the purge delay: before `init` it reads mimalloc 3's default
    /// for that option (1,000 ms), after it ours. (The only test that calls `init`.)
    #[test]
    fn init_shortens_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads one of mimalloc's numeric options.
        let get = || unsafe { mi_option_get(OPTION_PURGE_DELAY) };
        assert_eq!(get(), 1000);
        init();
        assert_eq!(get(), PURGE_DELAY_MS);
    }

    /// Blocks cross the threshold both ways, grow and shrink while mapped, and keep their bytes.
    #[test]
    fn blocks_keep_their_bytes_across_every_path() {
        let a = Allocator;
        let small = Layout::from_size_align(4096, 8).unwrap();
        unsafe {
            let p = a.alloc(small);
            assert!(!p.is_null());
            for i in 0..4096 {
                *p.add(i) = (i % 251) as u8;
            }
            // small -> mapped (copied)
            let p = a.realloc(p, small, MAPPED + 100);
            assert!(!p.is_null());
            assert!((0..4096).all(|i| *p.add(i) == (i % 251) as u8));
            *p.add(MAPPED + 99) = 7;
            // mapped -> larger mapped (remapped)
            let big = Layout::from_size_align(MAPPED + 100, 8).unwrap();
            let p = a.realloc(p, big, 2 * MAPPED);
            assert!(!p.is_null());
            assert!((0..4096).all(|i| *p.add(i) == (i % 251) as u8));
            assert_eq!(*p.add(MAPPED + 99), 7);
            assert_eq!(*p.add(2 * MAPPED - 1), 0, "new pages are zero");
            // mapped -> small (copied back)
            let bigger = Layout::from_size_align(2 * MAPPED, 8).unwrap();
            let p = a.realloc(p, bigger, 100);
            assert!(!p.is_null());
            assert!((0..100).all(|i| *p.add(i) == (i % 251) as u8));
            a.dealloc(p, Layout::from_size_align(100, 8).unwrap());
            // zeroed and plain mapped blocks free cleanly
            let z = Layout::from_size_align(MAPPED, 64).unwrap();
            let q = a.alloc_zeroed(z);
            assert!(!q.is_null() && *q.add(MAPPED - 1) == 0);
            a.dealloc(q, z);
            // an alignment larger than a page stays with mimalloc
            let odd = Layout::from_size_align(MAPPED, 1 << 16).unwrap();
            let r = a.alloc(odd);
            assert!(!r.is_null() && (r as usize).is_multiple_of(1 << 16));
            a.dealloc(r, odd);
        }
    }
}
