# A real single-node SLURM cluster for the end-to-end tests, from Debian's packages (slurmctld,
# slurmd, slurm-client, munge: tests/install-deps.sh --test). Sourced, not run:
#
#   source tests/e2e/slurm_cluster.sh
#   trap slurm_stop EXIT
#   slurm_start "$tmp/cluster" || { rc=$?; ((rc == 77)) && { echo "SKIP: $slurm_reason"; exit 77; }; exit 1; }
#   srun -N1 hostname            # SLURM_CONF is exported: the client commands talk to this cluster
#
# Everything lives under DIR: its own munge key, socket, pid, log and seed files for munged, a
# generated slurm.conf (SLURM_CONF) with free ports picked at run time, the controller's state,
# slurmd's spool, and the daemons' logs. Nothing is read from /etc/slurm or /etc/munge and no
# system service is touched, so it runs in a container without systemd, next to a real SLURM
# installation, and beside another copy of itself. The daemons run in the foreground as children
# of the calling shell, in its process group, as the current user, which is SlurmUser (root in
# CI's container; another user runs jobs as itself). No cgroup plugin: processes are tracked
# through /proc (proctrack/linuxproc) and tasks are not bound (task/none). Cores, not memory, are
# scheduled (select/cons_tres, CR_Core) and the partition lets four jobs share a core
# (OverSubscribe=FORCE:4), so a handful of small jobs start at once even on two cores.
#
# slurm_start returns 0 once sinfo shows the node idle (at most ALOG_SLURM_START_TIMEOUT seconds,
# 30 by default); 77 when SLURM cannot start here (a command missing, a daemon that exits or never
# gets ready), with the reason in $slurm_reason and the daemon's last log lines on stderr; 2 on
# misuse. slurm_stop cancels what is still queued, stops the daemons, and ends any process left
# that carries this cluster's SLURM_CONF in its environment (a step's slurmstepd and tasks); it is
# safe to call twice and when nothing was started.

slurm_dir=""
slurm_reason=""
slurm_pids=()

# slurm_fail REASON [LOG]: set the reason (with the log's last line), show the log's tail on stderr,
# return 77.
slurm_fail() {
  slurm_reason=$1
  if [[ -n ${2-} && -s $2 ]]; then
    slurm_reason+=" ($2: $(grep -v '^[[:space:]]*$' "$2" | tail -n 1))"
    echo "--- last lines of $2:" >&2
    tail -n 15 "$2" >&2
  fi
  return 77
}

# slurm_wait SECONDS COMMAND...: run COMMAND every 0.2 s until it succeeds; 1 when time runs out
# or a daemon started so far has exited.
slurm_wait() {
  local end=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) && slurm_alive "${slurm_pids[@]}" || return 1
    sleep 0.2
  done
}

# slurm_alive PID...: whether every PID still runs (a daemon that exits at start is a reason). A
# daemon that exited is a zombie until this shell waits for it: kill -0 would still succeed.
slurm_alive() {
  local p stat
  for p in "$@"; do
    { read -r stat <"/proc/$p/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]] || return 1
  done
}

# slurm_descends_from_us PID: whether PID is this shell or one of its descendants.
slurm_descends_from_us() {
  local pid=$1 stat
  while ((pid > 1)); do
    ((pid == $$)) && return 0
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
    stat=${stat##*) } # the fields after the command's name, which may hold spaces
    read -r _ pid _ <<<"$stat"
  done
  return 1
}

# slurm_wait_exit PID: wait up to 5 s for PID to exit.
slurm_wait_exit() {
  local end=$((SECONDS + 5))
  while slurm_alive "$1"; do
    ((SECONDS < end)) || return 1
    sleep 0.1
  done
}

slurm_node_idle() {
  [[ $(sinfo -h -N -n "$slurm_node" -o '%T' 2>/dev/null) == idle ]]
}

slurm_start() {
  local dir=${1:?usage: slurm_start DIR}
  local timeout=${ALOG_SLURM_START_TIMEOUT:-30} c
  [[ -z $slurm_dir ]] || { echo "slurm_start: a cluster already runs in $slurm_dir" >&2; return 2; }
  for c in munged slurmctld slurmd sinfo srun sbatch squeue scontrol python3; do
    command -v "$c" >/dev/null || { slurm_fail "$c is not installed (bash tests/install-deps.sh --test)"; return; }
  done
  mkdir -p "$dir" || return 2
  dir=$(cd "$dir" && pwd)
  slurm_dir=$dir
  # An outer SLURM job's variables (a CI runner that is itself a SLURM job) would make srun join
  # that job on this cluster.
  local v
  for v in $(compgen -v SLURM); do unset "$v"; done
  mkdir -p "$dir/state" "$dir/spool"
  dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge.key"
  # --force: munged wants every folder above its socket enterable by all users (a private
  # mktemp folder is not); only this user's daemons and commands use the socket. In the
  # foreground it logs to stderr, not to --log-file.
  munged -F --force --key-file="$dir/munge.key" --socket="$dir/munge.sock" --pid-file="$dir/munged.pid" \
    --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" 2>"$dir/munged.log" &
  slurm_pids+=($!)
  if ! slurm_wait 10 test -S "$dir/munge.sock"; then
    slurm_alive "${slurm_pids[@]}" || { slurm_fail "munged exited at start" "$dir/munged.log"; return; }
    slurm_fail "munged did not create its socket in 10 s" "$dir/munged.log"
    return
  fi

  # Free ports now; another program may take one before the daemons bind it (then a daemon fails
  # to start, and its log's last line is the reason given).
  local ports
  ports=$(python3 -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])') || { slurm_fail "no free port"; return; }
  local ctld_port=${ports% *} slurmd_port=${ports#* }
  slurm_node=$(hostname -s)
  local cpus mem user
  cpus=$(nproc)
  mem=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
  user=$(id -un)
  : >"$dir/plugstack.conf" # not the host's /etc/slurm/plugstack.conf
  cat >"$dir/slurm.conf" <<EOF
# Generated by tests/e2e/slurm_cluster.sh for one test run.
ClusterName=alogtest
SlurmctldHost=$slurm_node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
MailProg=/bin/true
KillWait=2
InactiveLimit=0
NodeName=$slurm_node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$slurm_node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
  export SLURM_CONF=$dir/slurm.conf

  # -c: no state from an earlier run (there is none: the folder is new).
  slurmctld -D -c >"$dir/slurmctld.out" 2>&1 &
  slurm_pids+=($!)
  if ! slurm_wait "$timeout" scontrol ping; then
    cat "$dir/slurmctld.out" >>"$dir/slurmctld.log" 2>/dev/null
    slurm_alive "${slurm_pids[@]}" || { slurm_fail "slurmctld exited at start" "$dir/slurmctld.log"; return; }
    slurm_fail "slurmctld did not answer scontrol ping in ${timeout} s" "$dir/slurmctld.log"
    return
  fi
  slurmd -D -N "$slurm_node" >"$dir/slurmd.out" 2>&1 &
  slurm_pids+=($!)
  local end=$((SECONDS + timeout))
  until slurm_node_idle; do
    if ! slurm_alive "${slurm_pids[@]}"; then
      cat "$dir/slurmd.out" >>"$dir/slurmd.log" 2>/dev/null
      slurm_fail "slurmd exited at start" "$dir/slurmd.log"
      return
    fi
    if ((SECONDS >= end)); then
      slurm_fail "node $slurm_node is not idle after ${timeout} s: $(sinfo -h -N -o '%T %E' 2>&1 | head -n 1)" \
        "$dir/slurmd.log"
      return
    fi
    sleep 0.2
  done
}

slurm_stop() {
  [[ -n $slurm_dir ]] || return 0
  local conf=$slurm_dir/slurm.conf p pid
  if ((${#slurm_pids[@]} > 1)) && kill -0 "${slurm_pids[1]}" 2>/dev/null; then
    scancel --quiet --full --user="$(id -un)" 2>/dev/null || true
    slurm_wait 5 test -z "$(squeue -h -o %i 2>/dev/null)" || true
  fi
  # The daemons in reverse order (slurmd, slurmctld, munged), then what they left behind.
  for ((p = ${#slurm_pids[@]} - 1; p >= 0; p--)); do
    kill "${slurm_pids[p]}" 2>/dev/null || true
  done
  for pid in "${slurm_pids[@]}"; do
    slurm_wait_exit "$pid" || kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # slurmstepd and its tasks are not the daemons' children: find them by this cluster's
  # SLURM_CONF, which they inherit and no other process has, leaving out this shell's own
  # descendants (the commands of this loop, an srun still running).
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "SLURM_CONF=$conf" || continue
    slurm_descends_from_us "$pid" || kill -9 "$pid" 2>/dev/null || true
  done
  slurm_pids=()
  slurm_dir=""
}
