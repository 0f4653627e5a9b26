//! The vDSO image and its vvar page, loaded once into the memory file and mapped into every
//! address space.

use std::sync::Arc;

use platform::{MemoryFile, Prot, PAGE_SIZE};

use crate::errno::Errno;
use crate::mm::{Mappable, MemoryManager};

static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

/// The vvar page followed by the vDSO image, contiguous in the memory file.
pub struct Vdso {
    base: u64,
    len: u64,
}

impl Vdso {
    pub fn new(mf: &MemoryFile) -> Result<Arc<Vdso>, Errno> {
        let image_len = crate::mm::page_up(IMAGE.len() as u64).ok_or(Errno::ENOMEM)?;
        let len = PAGE_SIZE + image_len;
        let base = mf.allocate(len).map_err(|_| Errno::ENOMEM)?;
        mf.write(base + PAGE_SIZE, IMAGE)
            .map_err(|_| Errno::EFAULT)?;
        Ok(Arc::new(Vdso { base, len }))
    }

    /// Memory-file offset of the vvar page (the timekeeper writes there).
    pub fn vvar_offset(&self) -> u64 {
        self.base
    }

    /// Map [vvar][vdso] into `mm`; returns the vDSO's address (AT_SYSINFO_EHDR).
    pub fn map(self: &Arc<Self>, mm: &MemoryManager) -> Result<u64, Errno> {
        let at = mm.find_free_range(self.len).ok_or(Errno::ENOMEM)?;
        let obj: Arc<dyn Mappable> = self.clone();
        mm.map_special(
            at,
            PAGE_SIZE,
            Prot {
                read: true,
                write: false,
                exec: false,
            },
            obj.clone(),
            "[vvar]",
        )?;
        let text = Prot {
            read: true,
            write: false,
            exec: true,
        };
        mm.map_special(at + PAGE_SIZE, self.len - PAGE_SIZE, text, obj, "[vdso]")?;
        // map_special starts each object at offset 0: fix the vDSO's offset.
        mm.set_object_offset(at + PAGE_SIZE, PAGE_SIZE);
        Ok(at + PAGE_SIZE)
    }
}

impl Mappable for Vdso {
    fn frame(&self, _mf: &MemoryFile, off: u64) -> Result<u64, Errno> {
        if off >= self.len {
            return Err(Errno::EFAULT);
        }
        Ok(self.base + off)
    }
    fn name(&self) -> String {
        "[vdso]".into()
    }
    /// Always resident: mapped with the program at execve (`MemoryManager::end_load`).
    fn cached_frame(&self, off: u64) -> Option<u64> {
        (off < self.len).then_some(self.base + off)
    }
}
