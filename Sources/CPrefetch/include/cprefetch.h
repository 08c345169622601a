// Software prefetch, which Swift has no spelling for. Inline, so it costs one instruction.
#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Asks for the cache line at `address` ahead of a streaming read (never faults).
static inline void cprefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
