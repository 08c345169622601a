// Thin shim over libnuma: every call is safe on a machine without NUMA (numa_available() < 0),
// where it reports one node or does nothing.
#ifndef CNUMA_H
#define CNUMA_H
#include <stddef.h>

/// 1 when the kernel and libnuma support NUMA policies, else 0.
int cnuma_available(void);
/// The highest node number (0 without NUMA).
int cnuma_max_node(void);
/// The CPUs of `node` into `cpus` (at most `capacity`); returns their count, -1 for no such node.
int cnuma_node_cpus(int node, int *cpus, int capacity);
/// Total bytes of memory on `node`, and the free bytes in `*free_bytes`; -1 when unknown.
long long cnuma_node_memory(int node, long long *free_bytes);
/// The CPUs this process may run on (its affinity mask), into `cpus`; returns their count.
int cnuma_allowed_cpus(int *cpus, int capacity);
/// The node of `cpu`, -1 when unknown.
int cnuma_node_of_cpu(int cpu);
/// Makes `node` the preferred node for this thread's (and its future threads') new pages.
void cnuma_prefer(int node);
/// Restricts the calling thread to the CPUs of `node` (-1: every CPU); 0 on success.
int cnuma_run_on_node(int node);
/// `bytes` of memory bound to `node` (free with cnuma_free); NULL on failure.
void *cnuma_alloc_on_node(size_t bytes, int node);
void cnuma_free(void *memory, size_t bytes);
/// Makes malloc keep freed memory for reuse: large blocks from the heap instead of their own
/// mappings, and no trimming of the heap's top.
void cnuma_keep_freed_memory(void);

#endif
