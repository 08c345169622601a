#define _GNU_SOURCE
#include "cnuma.h"
#include <malloc.h>
#include <numa.h>
#include <sched.h>
#include <stdlib.h>

int cnuma_available(void) { return numa_available() >= 0; }

int cnuma_max_node(void) { return cnuma_available() ? numa_max_node() : 0; }

int cnuma_node_cpus(int node, int *cpus, int capacity) {
    if (!cnuma_available()) return -1;
    struct bitmask *mask = numa_allocate_cpumask();
    int count = -1;
    if (numa_node_to_cpus(node, mask) == 0) {
        count = 0;
        for (unsigned cpu = 0; cpu < mask->size && count < capacity; cpu++)
            if (numa_bitmask_isbitset(mask, cpu)) cpus[count++] = (int)cpu;
    }
    numa_free_cpumask(mask);
    return count;
}

long long cnuma_node_memory(int node, long long *free_bytes) {
    *free_bytes = -1;
    return cnuma_available() ? numa_node_size64(node, free_bytes) : -1;
}

int cnuma_allowed_cpus(int *cpus, int capacity) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && count < capacity; cpu++)
        if (CPU_ISSET(cpu, &set)) cpus[count++] = cpu;
    return count;
}

int cnuma_node_of_cpu(int cpu) { return cnuma_available() ? numa_node_of_cpu(cpu) : -1; }

void cnuma_prefer(int node) { if (cnuma_available()) numa_set_preferred(node); }

int cnuma_run_on_node(int node) { return cnuma_available() ? numa_run_on_node(node) : -1; }

void *cnuma_alloc_on_node(size_t bytes, int node) {
    return cnuma_available() ? numa_alloc_onnode(bytes, node) : malloc(bytes);
}

void cnuma_free(void *memory, size_t bytes) {
    if (cnuma_available()) numa_free(memory, bytes); else free(memory);
}

void cnuma_keep_freed_memory(void) {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, -1);  /* as unsigned: never */
}
