// Thin shim over Open MPI: its handles are macros and pointers to internal structs that Swift
// cannot import, so requests travel as opaque pointers and every call returns the MPI error code.
#ifndef CMPI_H
#define CMPI_H
#include <stddef.h>

int cmpi_init(int *rank, int *size);
int cmpi_finalize(void);
void cmpi_abort(int code);
/// Starts a send of `len` bytes; `*request` must be completed with cmpi_test.
int cmpi_isend(const void *buf, size_t len, int dest, int tag, void **request);
/// Tests a request; frees it when `*done` becomes 1.
int cmpi_test(void **request, int *done);
/// Whether a message from `src` with `tag` is waiting, and its size in bytes.
int cmpi_iprobe(int src, int tag, int *flag, size_t *len);
/// Receives a message that cmpi_iprobe reported.
int cmpi_recv(void *buf, size_t len, int src, int tag);
/// MPI's text for an error code.
void cmpi_error_string(int code, char *out, int capacity);
/// The host name MPI reports for this process.
void cmpi_processor_name(char *out, int capacity);

#endif
