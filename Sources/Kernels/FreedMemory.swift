import CNUMA

/// Keeps memory the engine frees inside the process, for its next allocation of the same size:
/// each layer of a prefill allocates buffers of megabytes, which glibc would otherwise hand back
/// to the kernel and take again as fresh pages, one zeroing page fault per 4 KB, on the calling
/// thread while the workers wait.
public func keepFreedMemory() { cnuma_keep_freed_memory() }
