#!/usr/bin/env bash
# kafka-local.sh - run real Apache Kafka (KRaft mode, no ZooKeeper, no Docker) on this machine,
# from the jars Maven fetches for deploy/kafka/pom.xml.
#
#   kafka-local.sh start --nodes 1|3 --dir DIR [--port BASE] [--controller-port CBASE]
#                        [--timeout SECS] [--owner-pid PID] [--no-metadata-check]
#   kafka-local.sh stop --dir DIR [--timeout SECS]
#   kafka-local.sh status --dir DIR
#   kafka-local.sh bootstrap --dir DIR          # prints host:port,host:port,...
#   kafka-local.sh classpath                    # prints (and builds if missing) the classpath
#   kafka-local.sh start-node|stop-node|kill-node --dir DIR --node I [--timeout SECS] [--owner-pid PID]
#   kafka-local.sh wait --dir DIR [--timeout SECS]  # until every node is up and in the metadata
#
# Node i (0-based) is a combined broker+controller listening on 127.0.0.1 only:
# client (PLAINTEXT) port BASE+i, controller port CBASE+i (default CBASE = BASE+100).
# Everything lives under DIR: cluster.env, log4j.properties, node-I/{server.properties,data,logs,kafka.pid}.
# Starting an existing DIR again reuses its configuration and data.
#
# Environment: JAVA_HOME, KAFKA_HEAP_OPTS (default "-Xmx512m -Xms256m"), KAFKA_JVM_PERFORMANCE_OPTS,
# KAFKA_OPTS (extra JVM options), XDG_CACHE_HOME (classpath cache), MVN (maven command).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$SCRIPT_DIR/pom.xml"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1)"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/crowdstream"
CLASSPATH_FILE="$CACHE_DIR/kafka-$KAFKA_VERSION.classpath"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
MVN="${MVN:-mvn}"

log() { echo "kafka-local: $*" >&2; }
die() { echo "kafka-local: error: $*" >&2; exit 1; }

usage() {
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------- classpath

classpath_ok() {
    [[ -s "$CLASSPATH_FILE" ]] || return 1
    [[ "$CLASSPATH_FILE" -nt "$POM" ]] || return 1
    local jar jars
    IFS=: read -r -a jars <"$CLASSPATH_FILE" || true
    for jar in "${jars[@]}"; do
        [[ -f "$jar" ]] || return 1
    done
    return 0
}

ensure_classpath() {
    classpath_ok && return 0
    command -v "$MVN" >/dev/null 2>&1 || die "Maven ('$MVN') not found; it is needed once to fetch the Kafka jars"
    mkdir -p "$CACHE_DIR"
    log "resolving Apache Kafka $KAFKA_VERSION jars with Maven: mvn dependency:build-classpath -f $POM"
    log "(the first run downloads ~70 MB into the Maven repository ~/.m2; later runs are offline)"
    local tmp mvnlog
    tmp="$(mktemp "$CACHE_DIR/.kafka-$KAFKA_VERSION.classpath.XXXXXX")"
    mvnlog="$(mktemp "$CACHE_DIR/.mvn-log.XXXXXX")"
    if ! "$MVN" -B -Dstyle.color=never -f "$POM" dependency:build-classpath -Dmdep.outputFile="$tmp" \
        >"$mvnlog" 2>&1 </dev/null; then
        tail -n 40 "$mvnlog" >&2
        rm -f "$tmp" "$mvnlog"
        die "mvn dependency:build-classpath failed"
    fi
    rm -f "$mvnlog"
    [[ -s "$tmp" ]] || { rm -f "$tmp"; die "mvn produced an empty classpath"; }
    mv -f "$tmp" "$CLASSPATH_FILE"
    log "classpath cached in $CLASSPATH_FILE"
}

# ---------------------------------------------------------------- helpers

port_open() {  # port_open PORT -> 0 if something accepts connections on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

node_dir() { echo "$DIR/node-$1"; }

# pid_alive PID -> 0 if the process exists and is not a zombie (an init that does not reap
# orphans, as in some containers, would otherwise make a killed JVM look alive).
pid_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    if [[ -r "/proc/$1/stat" ]]; then
        local stat
        stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
        stat="${stat##*) }"
        [[ "${stat:0:1}" != Z ]] || return 1
    fi
    return 0
}

# Prints the command line of PID (empty if not running).
pid_cmdline() {
    local pid="$1"
    if [[ -r "/proc/$pid/cmdline" ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true
    else
        ps -ww -o args= -p "$pid" 2>/dev/null || true
    fi
}

# node_pid I -> prints the pid of node I's JVM if it is running (pid file checked against the command line).
node_pid() {
    local nd pidfile pid
    nd="$(node_dir "$1")"
    pidfile="$nd/kafka.pid"
    [[ -f "$pidfile" ]] || return 1
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    pid_alive "$pid" || return 1
    [[ "$(pid_cmdline "$pid")" == *"kafka.Kafka $nd/server.properties"* ]] || return 1
    echo "$pid"
}

load_cluster() {
    [[ -n "${DIR:-}" ]] || die "--dir is required"
    [[ -f "$DIR/cluster.env" ]] || die "$DIR holds no kafka-local cluster (no cluster.env); run 'start' first"
    # shellcheck disable=SC1091
    source "$DIR/cluster.env"
}

bootstrap_servers() {
    local i out=""
    for ((i = 0; i < KL_NODES; i++)); do
        out+="${out:+,}127.0.0.1:$((KL_PORT + i))"
    done
    echo "$out"
}

check_node_index() {
    [[ "${NODE:-}" =~ ^[0-9]+$ ]] || die "--node I is required"
    ((NODE < KL_NODES)) || die "node $NODE does not exist (cluster has $KL_NODES nodes)"
}

show_log_tail() {
    local nd
    nd="$(node_dir "$1")"
    echo "----- node $1: last lines of $nd/logs/server.log -----" >&2
    tail -n 40 "$nd/logs/server.log" >&2 2>/dev/null || true
    if [[ -s "$nd/console.log" ]]; then
        echo "----- node $1: last lines of $nd/console.log -----" >&2
        tail -n 20 "$nd/console.log" >&2 || true
    fi
}

# ---------------------------------------------------------------- configuration

init_cluster() {  # uses NODES, PORT, CPORT
    [[ -n "${DIR:-}" ]] || die "--dir is required"
    mkdir -p "$DIR"
    DIR="$(cd "$DIR" && pwd)"
    if [[ -f "$DIR/cluster.env" ]]; then
        # shellcheck disable=SC1091
        source "$DIR/cluster.env"
        [[ -z "${NODES:-}" || "$NODES" == "$KL_NODES" ]] ||
            die "$DIR already holds a $KL_NODES-node cluster; use another --dir or delete it"
        [[ -z "${PORT:-}" || "$PORT" == "$KL_PORT" ]] ||
            die "$DIR already uses base port $KL_PORT; use another --dir or delete it"
        [[ -z "${CPORT:-}" || "$CPORT" == "$KL_CONTROLLER_PORT" ]] ||
            die "$DIR already uses controller base port $KL_CONTROLLER_PORT; use another --dir or delete it"
        [[ "$KL_KAFKA_VERSION" == "$KAFKA_VERSION" ]] ||
            log "warning: $DIR was created by Kafka $KL_KAFKA_VERSION, now running $KAFKA_VERSION"
    else
        [[ -n "${NODES:-}" ]] || die "--nodes N is required"
        [[ "$NODES" =~ ^[1-9]$ ]] || die "--nodes must be 1..9 (usually 1 or 3)"
        KL_NODES="$NODES"
        KL_PORT="${PORT:-19092}"
        KL_CONTROLLER_PORT="${CPORT:-$((KL_PORT + 100))}"
        [[ "$KL_PORT" =~ ^[0-9]+$ && "$KL_CONTROLLER_PORT" =~ ^[0-9]+$ ]] || die "ports must be numbers"
        # 16 random bytes as unpadded url-safe base64: the format Kafka uses for cluster ids
        # (drawn again when it starts with "-", which the storage tool would take for an option).
        KL_CLUSTER_ID="-"
        while [[ "$KL_CLUSTER_ID" == -* ]]; do
            KL_CLUSTER_ID="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        done
        KL_KAFKA_VERSION="$KAFKA_VERSION"
        cat >"$DIR/cluster.env" <<EOF
KL_NODES=$KL_NODES
KL_PORT=$KL_PORT
KL_CONTROLLER_PORT=$KL_CONTROLLER_PORT
KL_CLUSTER_ID=$KL_CLUSTER_ID
KL_KAFKA_VERSION=$KL_KAFKA_VERSION
EOF
        log "new $KL_NODES-node cluster $KL_CLUSTER_ID in $DIR"
    fi
    write_log4j
    local i
    for ((i = 0; i < KL_NODES; i++)); do
        write_server_properties "$i"
    done
}

write_log4j() {
    cat >"$DIR/log4j.properties" <<'EOF'
# Written by kafka-local.sh. INFO and above to <node>/logs/server.log, WARN and above to the
# console (the JVM's stdout/stderr, which kafka-local.sh sends to <node>/console.log).
log4j.rootLogger=INFO, file, console

log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.Threshold=WARN
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=[%d] %p %m (%c)%n

log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n

# Chatty loggers.
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel$=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.kafka.clients.NetworkClient=WARN
EOF
    cat >"$DIR/tools-log4j.properties" <<'EOF'
# Written by kafka-local.sh: command-line tools (storage format, metadata check) log WARN to stderr.
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

write_server_properties() {
    local i="$1" nd voters="" j rf min_isr
    nd="$(node_dir "$i")"
    mkdir -p "$nd/data" "$nd/logs"
    for ((j = 0; j < KL_NODES; j++)); do
        voters+="${voters:+,}$j@127.0.0.1:$((KL_CONTROLLER_PORT + j))"
    done
    if ((KL_NODES >= 3)); then rf=3; min_isr=2; else rf="$KL_NODES"; min_isr=1; fi
    cat >"$nd/server.properties" <<EOF
# Written by kafka-local.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$((KL_PORT + i)),CONTROLLER://127.0.0.1:$((KL_CONTROLLER_PORT + i))
advertised.listeners=PLAINTEXT://127.0.0.1:$((KL_PORT + i))
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$nd/data

# Topics: created explicitly only.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$rf
# Broker-wide default stays 1 so that topics created with replication factor 1 still accept
# acks=all; replicated topics that need it set min.insync.replicas themselves.
min.insync.replicas=1

# Internal topics sized for $KL_NODES node(s).
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=10

# Development/test friendly timings.
group.initial.rebalance.delay.ms=0
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=6000

# Small machine.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.dedupe.buffer.size=33554432
log.retention.hours=168
log.segment.bytes=268435456
EOF
}

format_node() {  # format_node I  (no-op when already formatted)
    local nd
    nd="$(node_dir "$1")"
    [[ -f "$nd/data/meta.properties" ]] && return 0
    "$JAVA" -Xmx256m -cp "$(cat "$CLASSPATH_FILE")" \
        -Dlog4j.configuration="file:$DIR/tools-log4j.properties" \
        kafka.tools.StorageTool format -t "$KL_CLUSTER_ID" -c "$nd/server.properties" \
        >"$nd/logs/format.log" 2>&1 || { cat "$nd/logs/format.log" >&2; die "formatting node $1 failed"; }
}

# ---------------------------------------------------------------- start / stop

# launch_node I -> starts the JVM in the background (detached), writes node-I/kafka.pid.
# Sets LAUNCH_OFFSET[I] to the size of server.log before the launch.
declare -a LAUNCH_OFFSET=()
launch_node() {
    local i="$1" nd pid cp
    nd="$(node_dir "$i")"
    if pid="$(node_pid "$i")"; then
        log "node $i already running (pid $pid)"
        LAUNCH_OFFSET[i]=0
        return 0
    fi
    rm -f "$nd/kafka.pid"
    local p
    for p in $((KL_PORT + i)) $((KL_CONTROLLER_PORT + i)); do
        port_open "$p" && die "port $p is already in use by another process (node $i)"
    done
    LAUNCH_OFFSET[i]=0
    if [[ -f "$nd/logs/server.log" ]]; then LAUNCH_OFFSET[i]="$(wc -c <"$nd/logs/server.log" | tr -d ' ')"; fi
    cp="$(cat "$CLASSPATH_FILE")"
    # shellcheck disable=SC2086
    (
        cd "$nd"
        exec setsid "$JAVA" ${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m} \
            ${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent} \
            -Djava.awt.headless=true \
            -Dlog4j.configuration="file:$DIR/log4j.properties" \
            -Dkafka.logs.dir="$nd/logs" \
            ${KAFKA_OPTS:-} \
            -cp "$cp" kafka.Kafka "$nd/server.properties"
    ) >>"$nd/console.log" 2>&1 </dev/null &
    pid=$!
    # Until the subshell has exec'd java, the pid's command line is still bash's.
    local n=0
    while [[ "$(pid_cmdline "$pid")" != *"kafka.Kafka $nd/server.properties"* ]] && ((n++ < 100)); do
        if ! pid_alive "$pid"; then
            # setsid forks when it happens to be a process group leader: look the JVM up.
            pid="$(pgrep -f "kafka.Kafka $nd/server.properties" | head -n1 || true)"
            [[ -n "$pid" ]] || { show_log_tail "$i"; die "node $i failed to launch"; }
            break
        fi
        sleep 0.05
    done
    echo "$pid" >"$nd/kafka.pid"
    log "node $i starting (pid $pid, client 127.0.0.1:$((KL_PORT + i)), controller 127.0.0.1:$((KL_CONTROLLER_PORT + i)))"
    if [[ -n "${OWNER_PID:-}" ]]; then
        start_watcher "$i" "$pid" "$OWNER_PID"
    fi
}

# The watcher stops node I's JVM when OWNER exits without stopping the cluster (e.g. a killed test run).
start_watcher() {
    local i="$1" jpid="$2" owner="$3" nd
    nd="$(node_dir "$i")"
    (
        trap '' HUP INT
        while pid_alive "$owner" && pid_alive "$jpid"; do sleep 2; done
        if pid_alive "$jpid" && [[ "$(pid_cmdline "$jpid")" == *"kafka.Kafka $nd/server.properties"* ]]; then
            kill -TERM "$jpid" 2>/dev/null || true
            for _ in $(seq 1 20); do pid_alive "$jpid" || exit 0; sleep 1; done
            kill -KILL "$jpid" 2>/dev/null || true
        fi
    ) >/dev/null 2>&1 </dev/null &
    echo $! >"$nd/watcher.pid"
    disown $! 2>/dev/null || true
}

stop_watcher() {
    local nd wpid
    nd="$(node_dir "$1")"
    [[ -f "$nd/watcher.pid" ]] || return 0
    wpid="$(cat "$nd/watcher.pid" 2>/dev/null || true)"
    if [[ "$wpid" =~ ^[0-9]+$ ]]; then kill -TERM "$wpid" 2>/dev/null || true; fi
    rm -f "$nd/watcher.pid"
}

# node_started I -> 0 once node I logged "Kafka Server started" after its launch and its client port is open.
node_started() {
    local i="$1" nd off
    nd="$(node_dir "$i")"
    off="${LAUNCH_OFFSET[$i]:-0}"
    [[ -f "$nd/logs/server.log" ]] || return 1
    tail -c +"$((off + 1))" "$nd/logs/server.log" 2>/dev/null | grep -q 'Kafka Server started' || return 1
    port_open "$((KL_PORT + i))"
}

# wait_nodes DEADLINE I... -> waits until the given nodes are started; fails if one dies or time runs out.
wait_nodes() {
    local deadline="$1" i pending
    shift
    pending=("$@")
    while ((${#pending[@]})); do
        local still=()
        for i in "${pending[@]}"; do
            if node_started "$i"; then
                log "node $i is up"
            elif ! node_pid "$i" >/dev/null; then
                show_log_tail "$i"
                log "node $i exited during startup"
                return 1
            else
                still+=("$i")
            fi
        done
        pending=("${still[@]+"${still[@]}"}")
        ((${#pending[@]})) || break
        if ((SECONDS >= deadline)); then
            for i in "${pending[@]}"; do show_log_tail "$i"; done
            log "timed out waiting for node(s) ${pending[*]}"
            return 1
        fi
        sleep 0.5
    done
}

# wait_metadata DEADLINE -> waits until the cluster's metadata lists all KL_NODES brokers.
wait_metadata() {
    local deadline="$1" n out
    while :; do
        out="$("$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -cp "$(cat "$CLASSPATH_FILE")" \
            -Dlog4j.configuration="file:$DIR/tools-log4j.properties" \
            kafka.admin.BrokerApiVersionsCommand --bootstrap-server "$(bootstrap_servers)" 2>/dev/null || true)"
        n="$(grep -c '(id: [0-9]* rack' <<<"$out" || true)"
        if [[ "$n" == "$KL_NODES" ]]; then
            log "cluster metadata lists all $KL_NODES broker(s)"
            return 0
        fi
        if ((SECONDS >= deadline)); then
            local i
            for ((i = 0; i < KL_NODES; i++)); do show_log_tail "$i"; done
            log "timed out: cluster metadata lists ${n:-0} of $KL_NODES brokers"
            return 1
        fi
        sleep 1
    done
}

# stop_nodes TIMEOUT SIGNAL I... -> signals the nodes at once, waits, then SIGKILLs survivors.
#
# KRaft pitfall: a broker's controlled shutdown needs an active controller, i.e. a majority of
# the controller quorum. When a whole multi-node cluster stops, the last node(s) can be left
# without a quorum and would wait (up to 5 minutes) for an approval that never comes. So once
# fewer than a majority of the cluster's nodes are alive, the remaining ones of this stop get
# QUORUM_GRACE seconds and are then killed (their data is on disk; the next start recovers).
QUORUM_GRACE=3
stop_nodes() {
    local timeout="$1" sig="$2" i pid
    shift 2
    local -A pids=()
    for i in "$@"; do
        stop_watcher "$i"
        if pid="$(node_pid "$i")"; then
            pids[$i]="$pid"
            kill "-$sig" "$pid" 2>/dev/null || true
            log "node $i: sent SIG$sig to pid $pid"
        else
            rm -f "$(node_dir "$i")/kafka.pid"
        fi
    done
    local deadline=$((SECONDS + timeout)) majority=$((KL_NODES / 2 + 1)) quorum_lost_at=""
    while :; do
        local alive=0 cluster_alive=0 j
        for i in "${!pids[@]}"; do
            pid_alive "${pids[$i]}" && alive=$((alive + 1))
        done
        ((alive)) || break
        for ((j = 0; j < KL_NODES; j++)); do
            if [[ -n "${pids[$j]:-}" ]]; then
                pid_alive "${pids[$j]}" && cluster_alive=$((cluster_alive + 1))
            elif node_pid "$j" >/dev/null; then
                cluster_alive=$((cluster_alive + 1))
            fi
        done
        if ((KL_NODES > 1 && cluster_alive < majority)) && [[ -z "$quorum_lost_at" ]]; then
            quorum_lost_at=$SECONDS
        fi
        local why=""
        if ((SECONDS >= deadline)); then
            why="did not stop within ${timeout}s"
        elif [[ -n "$quorum_lost_at" ]] && ((SECONDS - quorum_lost_at >= QUORUM_GRACE)); then
            why="cannot finish its controlled shutdown without a controller quorum"
        fi
        if [[ -n "$why" ]]; then
            for i in "${!pids[@]}"; do
                if pid_alive "${pids[$i]}"; then
                    log "node $i $why, sending SIGKILL"
                    kill -KILL "${pids[$i]}" 2>/dev/null || true
                fi
            done
            break
        fi
        sleep 0.2
    done
    # A process killed with SIGKILL may take a moment to vanish.
    for i in "${!pids[@]}"; do
        local n=0
        while pid_alive "${pids[$i]}" && ((n++ < 100)); do sleep 0.1; done
        if pid_alive "${pids[$i]}"; then
            log "warning: node $i (pid ${pids[$i]}) is still alive"
        else
            rm -f "$(node_dir "$i")/kafka.pid"
        fi
    done
    return 0
}

all_nodes() {
    local i
    for ((i = 0; i < KL_NODES; i++)); do echo "$i"; done
}

# ---------------------------------------------------------------- commands

cmd_start() {
    ensure_classpath
    command -v "$JAVA" >/dev/null 2>&1 || die "java not found (set JAVA_HOME)"
    init_cluster
    local i p nodes fpids=()
    mapfile -t nodes < <(all_nodes)
    # Check every port before launching anything, so a clash leaves no node running.
    for i in "${nodes[@]}"; do
        node_pid "$i" >/dev/null && continue
        for p in $((KL_PORT + i)) $((KL_CONTROLLER_PORT + i)); do
            port_open "$p" && die "port $p (node $i) is already in use by another process; choose another --port/--dir"
        done
    done
    for i in "${nodes[@]}"; do
        if [[ ! -f "$(node_dir "$i")/data/meta.properties" ]]; then
            format_node "$i" &
            fpids+=($!)
        fi
    done
    if ((${#fpids[@]})); then
        log "formatting storage of ${#fpids[@]} node(s) for cluster $KL_CLUSTER_ID"
        for i in "${fpids[@]}"; do wait "$i" || die "formatting failed"; done
    fi
    local deadline=$((SECONDS + TIMEOUT))
    for i in "${nodes[@]}"; do launch_node "$i"; done
    if ! wait_nodes "$deadline" "${nodes[@]}" ||
        { ((CHECK_METADATA)) && ! wait_metadata "$deadline"; }; then
        log "start failed; stopping the nodes (logs stay in $DIR/node-*/logs)"
        stop_nodes 10 TERM "${nodes[@]}"
        exit 1
    fi
    log "cluster ready: bootstrap servers $(bootstrap_servers)"
    bootstrap_servers
}

cmd_stop() {
    load_cluster
    local nodes
    mapfile -t nodes < <(all_nodes)
    stop_nodes "${TIMEOUT_SET:-30}" TERM "${nodes[@]}"
    log "stopped"
}

cmd_start_node() {
    load_cluster
    check_node_index
    ensure_classpath
    init_cluster
    format_node "$NODE"
    local deadline=$((SECONDS + TIMEOUT))
    launch_node "$NODE"
    if ! wait_nodes "$deadline" "$NODE"; then
        stop_nodes 10 TERM "$NODE"
        exit 1
    fi
}

cmd_stop_node() {
    load_cluster
    check_node_index
    stop_nodes "${TIMEOUT_SET:-30}" TERM "$NODE"
}

cmd_kill_node() {
    load_cluster
    check_node_index
    stop_nodes 5 KILL "$NODE"
}

cmd_wait() {
    load_cluster
    ensure_classpath
    local deadline=$((SECONDS + TIMEOUT)) nodes
    mapfile -t nodes < <(all_nodes)
    wait_nodes "$deadline" "${nodes[@]}" && wait_metadata "$deadline"
}

cmd_status() {
    load_cluster
    local i pid rc=0
    echo "cluster $KL_CLUSTER_ID: $KL_NODES node(s), Kafka $KL_KAFKA_VERSION, dir $DIR"
    for ((i = 0; i < KL_NODES; i++)); do
        if pid="$(node_pid "$i")"; then
            echo "node $i: running (pid $pid) client 127.0.0.1:$((KL_PORT + i)) controller 127.0.0.1:$((KL_CONTROLLER_PORT + i))"
        else
            echo "node $i: stopped"
            rc=3
        fi
    done
    echo "bootstrap servers: $(bootstrap_servers)"
    return "$rc"
}

# ---------------------------------------------------------------- main

[[ $# -ge 1 ]] || usage
COMMAND="$1"
shift
DIR="" NODES="" PORT="" CPORT="" NODE="" OWNER_PID="" TIMEOUT=60 TIMEOUT_SET="" CHECK_METADATA=1
while [[ $# -gt 0 ]]; do
    case "$1" in
    --dir) DIR="${2:?}"; shift 2 ;;
    --nodes) NODES="${2:?}"; shift 2 ;;
    --port) PORT="${2:?}"; shift 2 ;;
    --controller-port) CPORT="${2:?}"; shift 2 ;;
    --node) NODE="${2:?}"; shift 2 ;;
    --timeout) TIMEOUT="${2:?}"; TIMEOUT_SET="$2"; shift 2 ;;
    --owner-pid) OWNER_PID="${2:?}"; shift 2 ;;
    --no-metadata-check) CHECK_METADATA=0; shift ;;
    -h | --help) usage ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
done
if [[ -n "$DIR" && -d "$DIR" ]]; then DIR="$(cd "$DIR" && pwd)"; fi

case "$COMMAND" in
start) cmd_start ;;
stop) cmd_stop ;;
start-node) cmd_start_node ;;
stop-node) cmd_stop_node ;;
kill-node) cmd_kill_node ;;
wait) cmd_wait ;;
status) cmd_status ;;
bootstrap) load_cluster; bootstrap_servers ;;
classpath) ensure_classpath; cat "$CLASSPATH_FILE"; echo ;;
-h | --help | help) usage ;;
*) die "unknown command '$COMMAND' (see --help)" ;;
esac
