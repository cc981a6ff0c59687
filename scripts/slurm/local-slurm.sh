#!/usr/bin/env bash
# A real single-node SLURM on this machine, for testing the SLURM profile (issue 6).
#
#   scripts/slurm/local-slurm.sh start    install (apt) if missing, write slurm.conf, start daemons
#   scripts/slurm/local-slurm.sh stop     stop ONLY the daemons this script started (by pid)
#   scripts/slurm/local-slurm.sh status   daemons started here, sinfo, squeue
#
# What it sets up (Debian 12: slurm-wlm 22.05 + munge; no slurmdbd, no database):
#   - munged on the default socket /run/munge/munge.socket.2 (reused if one already answers);
#   - /etc/slurm/slurm.conf: SLURM's default config path. It must be there, not elsewhere via
#     SLURM_CONF, because the Snakemake SLURM plugin strips SLURM_* variables before its inner
#     srun. An existing slurm.conf that this script did not write is never overwritten;
#   - one node with this machine's CPUs and memory (`slurmd -C`), partition `pelle` (default,
#     named like UPPMAX Pelle's), jobs charged to any account string (no accounting database;
#     use e.g. `-A faceage`). Job status is read with squeue, so MinJobAge keeps finished jobs
#     visible for 3600 s (the plugin wants >= 3x its init seconds);
#   - partition `gpu` on the same node with one pretend GPU `gpu:l40s:1` (gres.conf, /dev/null):
#     enough for profiles/slurm-gpu's requests to be scheduled; the jobs run on the CPU;
#   - slurmctld (started with -c: a clean queue every start) and slurmd, both as root.
# State, pid files and daemon logs: $FACEAGE_SLURM_STATE (default /var/lib/faceage-slurm);
# slurmctld's log (every job id, submission and completion) is $STATE/log/slurmctld.log.
# Needs root (apt-get, daemons). Takes ~10 s when installed, ~20 s more for the apt install.
set -euo pipefail

STATE="${FACEAGE_SLURM_STATE:-/var/lib/faceage-slurm}"
CONF=/etc/slurm/slurm.conf
GRES_CONF=/etc/slurm/gres.conf
MARKER="# Written by Face-Age-Invariant scripts/slurm/local-slurm.sh"
STARTED="$STATE/started.pids"
MUNGE_SOCKET_DIR=/run/munge
PARTITION=pelle

log() { echo "local-slurm: $*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

need_root() {
    [ "$(id -u)" = 0 ] || die "must run as root (apt-get install, munged, slurmctld, slurmd)"
}

install_if_missing() {
    local missing=()
    for bin in munged slurmctld slurmd sinfo sbatch squeue; do
        command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing+=("$bin")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing slurmctld slurmd slurm-client munge (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    local pkgs=(slurmctld slurmd slurm-client munge)
    if ! apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >"$STATE/apt.log" 2>&1; then
        apt-get update -qq >>"$STATE/apt.log" 2>&1
        apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >>"$STATE/apt.log" 2>&1 ||
            die "apt-get install failed, see $STATE/apt.log"
    fi
}

# Record a daemon this script started: "name pid" per line.
record() { echo "$1 $2" >>"$STARTED"; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    if munge_works; then
        log "munged already answers on the default socket: reusing it (will not stop it)"
        return 0
    fi
    if [ ! -s /etc/munge/munge.key ]; then
        log "creating /etc/munge/munge.key"
        install -d -o munge -g munge -m 700 /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    fi
    # munged refuses a socket folder whose parents are not world-executable.
    install -d -o munge -g munge -m 755 "$MUNGE_SOCKET_DIR"
    local d="$MUNGE_SOCKET_DIR"
    while [ "$d" != / ]; do
        d=$(dirname "$d")
        chmod o+x "$d"
    done
    install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
    rm -f "$MUNGE_SOCKET_DIR/munged.pid"
    runuser -u munge -- /usr/sbin/munged --pid-file="$MUNGE_SOCKET_DIR/munged.pid"
    for _ in $(seq 50); do
        munge_works && break
        sleep 0.1
    done
    munge_works || die "munged did not come up (see /var/log/munge/munged.log)"
    record munged "$(cat "$MUNGE_SOCKET_DIR/munged.pid")"
}

write_conf() {
    if [ -e "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
        die "$CONF exists and was not written by this script: refusing to overwrite it"
    fi
    local host node
    host=$(hostname -s)
    # e.g. NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105
    node=$(/usr/sbin/slurmd -C | head -n 1)
    [[ "$node" == NodeName=* ]] || die "slurmd -C gave no node line: $node"
    node="NodeName=$host ${node#NodeName=* } NodeAddr=127.0.0.1 Gres=gpu:l40s:1 State=UNKNOWN"
    install -d -m 755 /etc/slurm
    if [ -e "$GRES_CONF" ] && ! grep -qF "$MARKER" "$GRES_CONF"; then
        die "$GRES_CONF exists and was not written by this script: refusing to overwrite it"
    fi
    # A GPU that is only a name: lets profiles/slurm-gpu's `-p gpu --gpus=l40s:1` be scheduled
    # (the job then runs on the CPU). Its "device" is /dev/null; nothing is bound (no cgroups).
    printf '%s\nAutoDetect=off\nNodeName=%s Name=gpu Type=l40s File=/dev/null\n' "$MARKER" "$host" >"$GRES_CONF"
    cat >"$CONF" <<EOF
$MARKER
# for a single-node test cluster; \`scripts/slurm/local-slurm.sh stop\` stops its daemons.
ClusterName=faceage
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups in containers: track processes by pid, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
# No slurmdbd: any -A string is accepted; sacct does not work, poll with squeue.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
# Finished jobs stay visible to squeue for an hour (the plugin needs >= 3x its init seconds;
# the tests look finished jobs up after the run).
MinJobAge=3600
SchedulerType=sched/backfill
# Cores and memory are consumable: two 1-CPU jobs run side by side on the 2-CPU node.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
SlurmctldTimeout=30
SlurmdTimeout=30
$node
GresTypes=gpu
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
    log "wrote $CONF ($node)"
}

wait_idle() {
    local host state
    host=$(hostname -s)
    for _ in $(seq 60); do
        state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
        case "$state" in
        idle* | mixed* | allocated*) return 0 ;;
        down* | drain* | fail*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
        esac
        sleep 0.5
    done
    die "node $host not idle after 30 s (state '$state'); see $STATE/log/"
}

start() {
    need_root
    mkdir -p "$STATE"/{state,spool,log}
    if [ -s "$STARTED" ]; then
        local alive=0
        while read -r name pid; do pid_alive "$pid" && alive=1; done <"$STARTED"
        if [ $alive = 1 ] && sinfo >/dev/null 2>&1; then
            log "already running (started by this script); status:"
            status
            return 0
        fi
        stop
    fi
    : >"$STARTED"
    local t0=$SECONDS
    install_if_missing
    start_munge
    write_conf
    /usr/sbin/slurmctld -c
    for _ in $(seq 50); do
        [ -s "$STATE/slurmctld.pid" ] && pid_alive "$(cat "$STATE/slurmctld.pid")" && break
        sleep 0.1
    done
    pid_alive "$(cat "$STATE/slurmctld.pid" 2>/dev/null)" ||
        die "slurmctld did not start; see $STATE/log/slurmctld.log"
    record slurmctld "$(cat "$STATE/slurmctld.pid")"
    /usr/sbin/slurmd
    for _ in $(seq 50); do
        [ -s "$STATE/slurmd.pid" ] && pid_alive "$(cat "$STATE/slurmd.pid")" && break
        sleep 0.1
    done
    pid_alive "$(cat "$STATE/slurmd.pid" 2>/dev/null)" ||
        die "slurmd did not start; see $STATE/log/slurmd.log"
    record slurmd "$(cat "$STATE/slurmd.pid")"
    wait_idle
    log "SLURM up in $((SECONDS - t0)) s: partition $PARTITION, node $(hostname -s)"
    sinfo
}

stop() {
    if [ ! -s "$STARTED" ]; then
        log "nothing to stop: no daemons recorded in $STARTED"
        return 0
    fi
    # Reverse order: slurmd, slurmctld, then munged.
    tac "$STARTED" | while read -r name pid; do
        if pid_alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
            kill -TERM "$pid"
            for _ in $(seq 100); do
                pid_alive "$pid" || break
                sleep 0.1
            done
            if pid_alive "$pid"; then
                log "$name ($pid) ignored SIGTERM for 10 s: SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
            fi
            log "stopped $name ($pid)"
        else
            log "$name ($pid) no longer running"
        fi
    done
    rm -f "$STARTED"
}

status() {
    if [ -s "$STARTED" ]; then
        while read -r name pid; do
            if pid_alive "$pid"; then echo "$name $pid running"; else echo "$name $pid gone"; fi
        done <"$STARTED"
    else
        echo "no daemons started by this script"
    fi
    sinfo 2>&1 || true
    squeue -a 2>&1 || true
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
