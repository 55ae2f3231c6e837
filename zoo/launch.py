"""``zoo launch``: run a recipe as a local cluster on 127.0.0.1, for trying and testing what runs on many hosts.

    zoo launch --workers 2 -- zoo.recipes.mlp --distribute multi_worker --epochs 50
    zoo launch --workers 2 --tuning -- zoo.recipes.mlp --tune random --max-trials 8
    zoo launch --workers 2 --max-restarts 1 -- zoo.recipes.mlp --distribute multi_worker --out runs/mw

Without --tuning it starts N MultiWorkerMirroredStrategy workers, each with its own
TF_CONFIG (free loopback ports picked here); with --tuning a KerasTuner chief (the
oracle) and N workers (KERASTUNER_TUNER_ID/ORACLE_IP/ORACLE_PORT). Every process
shares one --out, prints with a ``[worker i]`` prefix and runs in its own process
group. Every wait is bounded (--timeout); when a process fails, or on Ctrl-C, the
others get SIGTERM and, after --grace seconds, SIGKILL (an MWMS worker whose peer
died can block in a collective and ignore SIGTERM). With --max-restarts a failed
cluster is started again: all MWMS workers together (they resume from the chief's
checkpoint; a worker cannot rejoin peers mid-step), or only the failed tuning
process, under the same tuner id, so the chief hands it back its unfinished trial.
Exit status: 0 when every process succeeded, 1 when one failed, 124 on timeout,
130 when interrupted.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from zoo.registry import recipes

HOST = "127.0.0.1"  # only loopback: a local cluster never listens on other interfaces


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports on 127.0.0.1 (bound together, so none repeats)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def mwms_envs(workers: int) -> dict[str, dict]:
    """One TF_CONFIG per worker, all naming the same cluster of loopback addresses."""
    addresses = [f"{HOST}:{port}" for port in free_ports(workers)]
    return {f"worker {index}": {"TF_CONFIG": json.dumps({"cluster": {"worker": addresses},
                                                         "task": {"type": "worker", "index": index}})}
            for index in range(workers)}


def tuning_envs(workers: int) -> dict[str, dict]:
    """KerasTuner's distributed mode: the chief serves the oracle on a loopback port, workers ask it for trials."""
    oracle = {"KERASTUNER_ORACLE_IP": HOST, "KERASTUNER_ORACLE_PORT": str(free_ports(1)[0])}
    envs = {"chief": {"KERASTUNER_TUNER_ID": "chief", **oracle}}
    envs.update({f"worker {index}": {"KERASTUNER_TUNER_ID": f"tuner{index}", **oracle} for index in range(workers)})
    return envs


class Cluster:
    """The local processes: start, stream, stop."""

    def __init__(self, command: list[str], grace: float, output=None):
        self.command, self.grace = command, grace
        self.output = output or sys.stdout
        self.processes: dict[str, subprocess.Popen] = {}
        self._readers: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, name: str, env: dict) -> None:
        process = subprocess.Popen(self.command, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)  # its own group: killpg reaches its children too
        self.processes[name] = process
        reader = threading.Thread(target=self._stream, args=(name, process), daemon=True)
        reader.start()
        self._readers.append(reader)
        self.say(f"started pid {process.pid}: {' '.join(f'{k}={v}' for k, v in env.items())}", name)

    def say(self, line: str, name: str = "launch") -> None:
        with self._lock:
            self.output.write(f"[{name}] {line}\n")
            self.output.flush()

    def _stream(self, name: str, process: subprocess.Popen) -> None:
        for raw in iter(process.stdout.readline, b""):
            self.say(raw.decode(errors="replace").rstrip("\n"), name)
        process.stdout.close()

    def stop(self, names=None) -> None:
        """SIGTERM, then SIGKILL after the grace period; returns once every process has exited."""
        alive = {name: p for name, p in self.processes.items() if (names is None or name in names) and p.poll() is None}
        for process in alive.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline and any(p.poll() is None for p in alive.values()):
            time.sleep(0.1)
        for name, process in alive.items():
            if process.poll() is None:
                self.say(f"still running {self.grace:g} s after SIGTERM: SIGKILL", name)
            _signal_group(process, signal.SIGKILL)  # also reaps children left behind by a process that exited
            process.wait(timeout=30)
        for reader in self._readers:
            reader.join(timeout=5)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _check_command(command: list[str], tuning: bool) -> list[str]:
    """``[module, flags...]`` -> the argv to run; recipes get a shared --out and a check of their mode flag."""
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise ValueError("say what to run after --, e.g. zoo launch --workers 2 -- zoo.recipes.mlp "
                         "--distribute multi_worker")
    module, flags = command[0], list(command[1:])
    names = {recipe_module: name for name, recipe_module in recipes().items()}
    if module.startswith("recipes."):
        module = f"zoo.{module}"     # the checkout's alias: workers run the installed module, from any directory
    if module in names or module.startswith("zoo.recipes."):
        if module not in names:
            raise ValueError(f"no recipe module {module!r}; recipes: {', '.join(names)}.")
        name = names[module]
        joined = " ".join(flags)
        if tuning and ("--tune" not in flags or "--tune off" in joined or "--tune=off" in joined):
            raise ValueError(f"zoo launch --tuning runs a distributed search: give {module} a tuner, e.g. "
                             "--tune random --max-trials 8.")
        if not tuning and "--distribute multi_worker" not in joined and "--distribute=multi_worker" not in joined:
            raise ValueError(f"zoo launch without --tuning starts MultiWorkerMirroredStrategy workers: add "
                             f"--distribute multi_worker to the flags of {module} (or use --tuning for a search).")
        if not any(flag == "--out" or flag.startswith("--out=") for flag in flags):
            # One folder for all: each process would otherwise stamp its own runs/<recipe>-<time>.
            flags += ["--out", os.path.join("runs", f"{name}-{datetime.datetime.now():%Y%m%d-%H%M%S}")]
    return [sys.executable, "-m", module, *flags]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--workers", type=int, required=True, help="how many workers (processes) to start")
    parser.add_argument("--tuning", action="store_true",
                        help="KerasTuner distributed search: one chief (the oracle) plus --workers workers")
    parser.add_argument("--max-restarts", type=int, default=0,
                        help="start a failed cluster (MWMS) or process (tuning) again this often (default: 0)")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds before everything is stopped and launch fails (default: %(default)s)")
    parser.add_argument("--grace", type=float, default=10,
                        help="seconds between SIGTERM and SIGKILL when stopping (default: %(default)s)")
    parser.add_argument("target", nargs=argparse.REMAINDER, metavar="-- MODULE [FLAGS]",
                        help="the module to run and its flags, e.g. -- zoo.recipes.mlp --distribute multi_worker")
    return parser


def run(args, output=None) -> int:
    """Launch, watch and stop a local cluster; returns the exit status (see the module docstring)."""
    for flag, value, low in (("--workers", args.workers, 1), ("--max-restarts", args.max_restarts, 0)):
        if value < low:
            raise ValueError(f"{flag}={value} must be >= {low}.")
    if not args.timeout > 0 or args.grace < 0:
        raise ValueError(f"--timeout={args.timeout} must be > 0 and --grace={args.grace} >= 0.")
    cluster = Cluster(_check_command(args.target, args.tuning), args.grace, output)
    envs = tuning_envs(args.workers) if args.tuning else mwms_envs(args.workers)
    restarts = args.max_restarts
    deadline = time.monotonic() + args.timeout
    in_main_thread = threading.current_thread() is threading.main_thread()
    # Ctrl-C and SIGTERM both stop the cluster, even when the launcher inherited an ignored SIGINT (a shell
    # script's background job does): Python then leaves SIGINT ignored, and nothing would stop the workers.
    previous = ({sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
                if in_main_thread else {})
    try:
        cluster.say(f"{len(envs)} processes on {HOST}: {' '.join(cluster.command)}")
        for name, env in envs.items():
            cluster.start(name, env)
        while True:
            codes = {name: process.poll() for name, process in cluster.processes.items()}
            failed = [name for name, code in codes.items() if code not in (None, 0)]
            if failed:
                cluster.say(f"{', '.join(f'{n} exited with {codes[n]}' for n in failed)}")
                if restarts == 0:
                    cluster.stop()
                    return 1
                restarts -= 1
                if args.tuning:  # trials are independent: only the failed process comes back, same tuner id
                    for name in failed:
                        cluster.say(f"restarting {name} ({restarts} restarts left)")
                        cluster.start(name, envs[name])
                else:  # MWMS peers block on the dead one: stop all, start all, resume from the checkpoint
                    cluster.stop()
                    cluster.say(f"restarting all {len(envs)} workers ({restarts} restarts left)")
                    envs = mwms_envs(args.workers)  # fresh ports: the old ones may linger in TIME_WAIT
                    for name, env in envs.items():
                        cluster.start(name, env)
                continue
            if all(code == 0 for code in codes.values()):
                cluster.stop()  # reaps whatever the processes left in their groups
                cluster.say("every process finished")
                return 0
            if time.monotonic() > deadline:
                cluster.say(f"--timeout {args.timeout:g} s reached: stopping everything")
                cluster.stop()
                return 124
            time.sleep(0.2)
    except KeyboardInterrupt:
        cluster.say("interrupted: stopping everything")
        cluster.stop()
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    parser = add_arguments(argparse.ArgumentParser(prog="zoo launch", description=__doc__.split("\n\n")[0]))
    args = parser.parse_args(argv)
    try:
        return run(args)
    except ValueError as error:
        print(f"zoo launch: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
