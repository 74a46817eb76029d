# mpirun_env.sh — sourced by the tests that launch MPI jobs: skips (77) where
# mpirun is missing, and lets Open MPI start as root, which it refuses
# without both variables (CI runs as root; README, "Across hosts: MPI").
if ! command -v mpirun >/dev/null 2>&1; then
    echo "SKIP: mpirun not found (Debian package openmpi-bin; scripts/setup.sh installs it)"
    exit 77
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
