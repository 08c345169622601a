// Software prefetch and the spin-wait hint, which Swift has no spelling for. Inline, so each
// costs one instruction.
#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Asks for the cache line at `address` ahead of a streaming read (never faults).
static inline void cprefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Asks for the cache line at `address` into the core's L2 (not L1) ahead of a later loop (never faults).
static inline void cprefetch_l2(const void *address) { __builtin_prefetch(address, 0, 2); }

/// Tells the core it is in a spin-wait loop (x86 `pause`), which eases the loop's pressure on the
/// shared line it polls and on a sibling hyper-thread.
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
