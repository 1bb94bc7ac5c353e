//! mimalloc as the global allocator, through its plain entry points where the alignment asked
//! for is one every mimalloc block already has. The `mimalloc` crate sends every allocation
//! through `mi_malloc_aligned`, whose alignment checks cost about a third of each small
//! allocation (callgrind: 3,600 instructions per message went to allocation at HTTP c=1).

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// Every mimalloc block is aligned to a word at least: its smallest size class is one word, and
/// its size classes are whole words. (Not to 16: a 24-byte block is 8-aligned.)
const NATURAL_ALIGN: usize = std::mem::size_of::<usize>();

pub struct MiMalloc;

unsafe impl GlobalAlloc for MiMalloc {
  #[inline]
  unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
    unsafe {
      if layout.align() <= NATURAL_ALIGN {
        mi::mi_malloc(layout.size()).cast()
      } else {
        mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
      }
    }
  }

  #[inline]
  unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
    unsafe {
      if layout.align() <= NATURAL_ALIGN {
        mi::mi_zalloc(layout.size()).cast()
      } else {
        mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
      }
    }
  }

  #[inline]
  unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
    unsafe { mi::mi_free(ptr.cast::<c_void>()) }
  }

  #[inline]
  unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
    unsafe {
      if layout.align() <= NATURAL_ALIGN {
        mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
      } else {
        mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn blocks_have_the_alignment_asked_for() {
    for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
      for size in [1, 7, 16, 24, 40, 100, 5000] {
        let layout = Layout::from_size_align(size, align).unwrap();
        unsafe {
          let p = MiMalloc.alloc(layout);
          assert_eq!(p as usize % align, 0, "size {size} align {align}");
          let z = MiMalloc.alloc_zeroed(layout);
          assert!(std::slice::from_raw_parts(z, size).iter().all(|&b| b == 0));
          let p = MiMalloc.realloc(p, layout, size * 3);
          assert_eq!(p as usize % align, 0, "realloc size {size} align {align}");
          MiMalloc.dealloc(p, Layout::from_size_align(size * 3, align).unwrap());
          MiMalloc.dealloc(z, layout);
        }
      }
    }
  }
}
