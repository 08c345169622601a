#!/usr/bin/env bash
# Runs `dsa ARGS...` on every task of the current Slurm allocation: one MPI rank per task, each
# bound to its task's cores (and NUMA memory), with those cores as worker threads. The launcher is
# srun with PMIx (DSA_LAUNCHER=srun, the default) or Open MPI's mpirun inside the allocation
# (DSA_LAUNCHER=mpirun). Called by the batch scripts beside it; settings as in settings/example.env.
set -euo pipefail
: "${SLURM_JOB_ID:?cluster/run.sh runs inside a Slurm allocation (sbatch or salloc)}"
dsa=${DSA:-$SLURM_SUBMIT_DIR/.build/release/dsa}
[ -x "$dsa" ] || { echo "cluster/run.sh: no dsa binary at $dsa (build it with launch/build.sh, or set DSA in the settings file)" >&2; exit 1; }
export DSA_THREADS=${DSA_THREADS:-${SLURM_CPUS_PER_TASK:-1}}
echo "dsa: job $SLURM_JOB_ID, $SLURM_NTASKS rank(s) on ${SLURM_JOB_NUM_NODES:-1} node(s) ($SLURM_JOB_NODELIST), $DSA_THREADS threads each, via ${DSA_LAUNCHER:-srun}" >&2
case ${DSA_LAUNCHER:-srun} in
  srun) exec srun --mpi=pmix --cpu-bind=cores --mem-bind=local ${DSA_SRUN_ARGS:-} "$dsa" "$@" ;;
  mpirun)
    root=(); [ "$(id -u)" != 0 ] || root=(--allow-run-as-root)
    # shellcheck disable=SC2086
    exec mpirun "${root[@]}" -x DSA_THREADS --map-by "ppr:${SLURM_NTASKS_PER_NODE:-1}:node:PE=${SLURM_CPUS_PER_TASK:-1}" --bind-to core \
      ${DSA_MPI_ARGS:-} "$dsa" "$@" ;;
  *) echo "cluster/run.sh: DSA_LAUNCHER must be srun or mpirun (got '$DSA_LAUNCHER')" >&2; exit 1 ;;
esac
