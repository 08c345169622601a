#include "cmpi.h"
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

int cmpi_init(int *rank, int *size) {
    int rc = MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS) return rc;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if ((rc = MPI_Comm_rank(MPI_COMM_WORLD, rank)) != MPI_SUCCESS) return rc;
    return MPI_Comm_size(MPI_COMM_WORLD, size);
}

int cmpi_finalize(void) { return MPI_Finalize(); }

void cmpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

int cmpi_isend(const void *buf, size_t len, int dest, int tag, void **request) {
    MPI_Request *r = malloc(sizeof(MPI_Request));
    int rc = MPI_Isend(buf, (int)len, MPI_BYTE, dest, tag, MPI_COMM_WORLD, r);
    if (rc != MPI_SUCCESS) { free(r); return rc; }
    *request = r;
    return MPI_SUCCESS;
}

int cmpi_test(void **request, int *done) {
    MPI_Request *r = *request;
    int rc = MPI_Test(r, done, MPI_STATUS_IGNORE);
    if (rc == MPI_SUCCESS && *done) { free(r); *request = NULL; }
    return rc;
}

int cmpi_iprobe(int src, int tag, int *flag, size_t *len) {
    MPI_Status status;
    int rc = MPI_Iprobe(src, tag, MPI_COMM_WORLD, flag, &status);
    if (rc != MPI_SUCCESS || !*flag) return rc;
    int count = 0;
    rc = MPI_Get_count(&status, MPI_BYTE, &count);
    *len = (size_t)count;
    return rc;
}

int cmpi_recv(void *buf, size_t len, int src, int tag) {
    return MPI_Recv(buf, (int)len, MPI_BYTE, src, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

void cmpi_error_string(int code, char *out, int capacity) {
    char text[MPI_MAX_ERROR_STRING];
    int n = 0;
    MPI_Error_string(code, text, &n);
    strncpy(out, text, capacity - 1);
    out[capacity - 1] = 0;
}

void cmpi_processor_name(char *out, int capacity) {
    char name[MPI_MAX_PROCESSOR_NAME];
    int n = 0;
    MPI_Get_processor_name(name, &n);
    strncpy(out, name, capacity - 1);
    out[capacity - 1] = 0;
}
